//! Frames that once crashed or spun the worker (issue: hostile clients), each refused with
//! its close code and the document unchanged, from an editor and from a viewer. `make test`
//! runs this on i686 too, where `usize` is 32 bits as in the wasm32 that ships: on that
//! target yrs's own decoder panics on most of these.

use folio::limits::{MAX_TYPE_NESTING, MAX_VALUE_NESTING};
use folio::sync::protocol;
use folio::sync::room::{Conn, Room};
use folio::testing::MemoryStorage;
use yrs::{Doc, ReadTxn, Transact, WriteTxn, XmlElementPrelim, XmlFragment};

fn var(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn string(s: &str, out: &mut Vec<u8>) {
    var(s.len() as u64, out);
    out.extend(s.as_bytes());
}

/// An update of one struct by `client` at clock 0 in root `root` (map key `key` if given),
/// `content` being its info byte's kind and the content bytes.
fn one_struct(client: u64, root: &str, key: Option<&str>, kind: u8, content: &[u8]) -> Vec<u8> {
    let mut u = vec![1, 1];
    var(client, &mut u);
    u.push(0); // clock
    u.push(kind | if key.is_some() { 0x20 } else { 0 });
    u.push(1); // parent is a root, by name
    string(root, &mut u);
    if let Some(k) = key {
        string(k, &mut u);
    }
    u.extend(content);
    u.push(0); // empty delete set
    u
}

const MAX32: [u8; 5] = [0xff, 0xff, 0xff, 0xff, 0x0f];

/// (what, frame): every one must be refused.
fn hostile() -> Vec<(&'static str, Vec<u8>)> {
    let mut frames = vec![
        (
            "sync step 2 declaring 2^32-1 bytes",
            vec![0, 1, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2],
        ),
        (
            "update message declaring 2^32-1 bytes",
            vec![0, 2, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2],
        ),
        ("awareness declaring 2^32-1 bytes", {
            let mut f = vec![1];
            f.extend(MAX32);
            f.extend([1, 1, 1, 2, b'{', b'}']);
            f
        }),
        ("awareness entry declaring a 2^32-1-byte state", {
            let mut payload = vec![1, 7, 1];
            payload.extend(MAX32);
            payload.extend(b"{}");
            let mut f = vec![1];
            var(payload.len() as u64, &mut f);
            f.extend(payload);
            f
        }),
        ("state vector declaring 2^32-1 entries", {
            let mut sv = MAX32.to_vec();
            sv.extend([1, 2]);
            let mut f = vec![0, 0];
            var(sv.len() as u64, &mut f);
            f.extend(sv);
            f
        }),
    ];
    let mut updates: Vec<(&'static str, Vec<u8>)> = vec![
        ("string declaring 2^32-1 bytes", {
            let mut c = MAX32.to_vec();
            c.extend(b"abc");
            one_struct(5, "title", None, 4, &c)
        }),
        ("update declaring 2^32-1 structs", {
            let mut u = vec![1];
            u.extend(MAX32);
            u.extend([5, 0, 4, 1, 1, b't', 1, b'x', 0]);
            u
        }),
        ("update declaring 2^32-1 client groups", {
            let mut u = MAX32.to_vec();
            u.extend([1, 5, 0, 4, 1, 1, b't', 1, b'x', 0]);
            u
        }),
        ("delete set declaring 2^32-1 ranges", {
            let mut u = vec![0, 1, 5];
            u.extend(MAX32);
            u.extend([0, 1]);
            u
        }),
        ("client id 2^53", {
            one_struct(1 << 53, "title", None, 4, &[1, b'x'])
        }),
        ("clock overflowing 32 bits", {
            let mut u = vec![1, 1, 5];
            u.extend([0xfe, 0xff, 0xff, 0xff, 0x0f]); // clock 2^32 - 2
            u.extend([4, 1, 5]);
            u.extend(b"title");
            u.extend([3, b'a', b'b', b'c', 0]);
            u
        }),
        ("varint of 11 bytes", {
            let mut u = vec![1, 1];
            u.extend([0xff; 10]);
            u.extend([0x01, 0, 4, 1, 1, b't', 1, b'x', 0]);
            u
        }),
        ("skip struct", {
            let mut u = vec![1, 1, 5, 0, 10, 5];
            u.push(0);
            u
        }),
        (
            "sub-document",
            one_struct(5, "m", Some("k"), 9, &[1, b'g', 126]),
        ),
        (
            "obsolete JSON content",
            one_struct(5, "m", Some("k"), 2, &[1, 2, b'{', b'}']),
        ),
        ("empty string item", one_struct(5, "title", None, 4, &[0])),
        ("trailing bytes", {
            let mut u = one_struct(5, "title", None, 4, &[1, b'x']);
            u.push(0);
            u
        }),
    ];
    // One value nested 100,000 arrays deep (2 bytes a level, ~200 KB).
    let mut deep = vec![1]; // one value
    for _ in 0..100_000 {
        deep.extend([117, 1]);
    }
    deep.push(126);
    updates.push((
        "value nested 100,000 arrays deep",
        one_struct(5, "m", Some("k"), 8, &deep),
    ));
    // Just over the cap.
    let mut over = vec![1];
    for _ in 0..MAX_VALUE_NESTING {
        over.extend([117, 1]);
    }
    over.push(126);
    updates.push((
        "value nested one level past the cap",
        one_struct(5, "m", Some("k"), 8, &over),
    ));
    // A JSON attribute nested 100,000 levels (formatting attributes are JSON strings).
    let json = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let mut c = Vec::new();
    string("bold", &mut c);
    string(&json, &mut c);
    updates.push((
        "JSON nested 100,000 deep",
        one_struct(5, "title", None, 6, &c),
    ));
    for (what, update) in updates {
        frames.push((what, protocol::update(update)));
    }
    frames
}

fn seeded() -> (Room<MemoryStorage>, MemoryStorage) {
    let storage = MemoryStorage::new();
    let mut room = Room::open(storage.clone()).unwrap();
    let doc = Doc::with_client_id(1);
    let text = doc.get_or_insert_text("title");
    let edit = {
        let mut txn = doc.transact_mut();
        yrs::Text::insert(&text, &mut txn, 0, "kept");
        txn.encode_update_v1()
    };
    room.receive(&mut Conn::default(), &protocol::update(edit))
        .unwrap();
    room.flush().unwrap();
    (room, storage)
}

#[test]
fn every_hostile_frame_is_refused_and_changes_nothing() {
    for read_only in [false, true] {
        let (mut room, storage) = seeded();
        let before = room.encode_state().unwrap();
        let writes = storage.writes();
        for (what, frame) in hostile() {
            let mut conn = Conn {
                read_only,
                ..Conn::default()
            };
            match room.receive(&mut conn, &frame) {
                Err(e) => {
                    let code = e.close_code();
                    let expected: &[u16] = if read_only { &[1007, 4003] } else { &[1007] };
                    assert!(expected.contains(&code), "{what}: {e} ({code})");
                }
                // A viewer's SyncStep2 is ignored unread.
                Ok(out) if read_only && frame.starts_with(&[0, 1]) => {
                    assert!(!out.queued, "{what}")
                }
                Ok(out) => panic!("{what}: accepted ({out:?})"),
            }
            assert_eq!(room.encode_state().unwrap(), before, "{what}");
        }
        assert_eq!(storage.writes(), writes);
        assert_eq!(Room::open(storage).unwrap().encode_state().unwrap(), before);
    }
}

/// A client `id` holding the document `state`.
fn client_with(id: u64, state: &[u8]) -> Doc {
    use yrs::updates::decoder::Decode;
    let client = Doc::with_client_id(id);
    client
        .transact_mut()
        .apply_update(yrs::Update::decode_v1(state).unwrap())
        .unwrap();
    client
}

/// A chain of XML elements `depth` deep, made by a stock-like client.
fn chain(client: u64, depth: usize) -> Vec<u8> {
    let doc = Doc::with_client_id(client);
    let mut txn = doc.transact_mut();
    let root = txn.get_or_insert_xml_fragment("body");
    let mut parent = root.insert(&mut txn, 0, XmlElementPrelim::empty("blockquote"));
    for _ in 1..depth {
        parent = parent.insert(&mut txn, 0, XmlElementPrelim::empty("blockquote"));
    }
    txn.encode_update_v1()
}

#[test]
fn shared_types_nest_at_most_the_cap_whether_in_one_update_or_built_up() {
    let (mut room, storage) = seeded();
    // In one update: the cap is accepted, one more is refused.
    let err = room
        .receive(
            &mut Conn::default(),
            &protocol::update(chain(7, MAX_TYPE_NESTING + 1)),
        )
        .unwrap_err();
    assert!(err.to_string().contains("nest"), "{err}");
    let mut conn = Conn::default();
    let out = room
        .receive(&mut conn, &protocol::update(chain(8, MAX_TYPE_NESTING)))
        .unwrap();
    assert!(out.edited);

    // Built up: a client that has the document adds one more level inside its deepest
    // element, in a later update: refused, because the parent is found in the document.
    let client = client_with(9, &room.encode_state().unwrap());
    let deeper = {
        let mut txn = client.transact_mut();
        let body = txn.get_or_insert_xml_fragment("body");
        let mut el = body.get(&txn, 0).unwrap();
        loop {
            let yrs::XmlOut::Element(e) = el else {
                panic!("not an element")
            };
            match e.get(&txn, 0) {
                Some(child) => el = child,
                None => {
                    e.insert(&mut txn, 0, XmlElementPrelim::empty("p"));
                    break;
                }
            }
        }
        txn.encode_update_v1()
    };
    let before = room.encode_state().unwrap();
    let err = room
        .receive(&mut Conn::default(), &protocol::update(deeper))
        .unwrap_err();
    assert!(err.to_string().contains("nest"), "{err}");
    assert_eq!(room.encode_state().unwrap(), before);

    // Deleting the deepest allowed chain works (yrs deletes nested types recursively).
    let client = client_with(10, &before);
    let delete = {
        let mut txn = client.transact_mut();
        let body = txn.get_or_insert_xml_fragment("body");
        let n = body.len(&txn);
        body.remove_range(&mut txn, 0, n);
        txn.encode_update_v1()
    };
    room.receive(&mut Conn::default(), &protocol::update(delete))
        .unwrap();
    let reloaded = Room::open(storage).unwrap();
    let body = reloaded.doc().get_or_insert_xml_fragment("body");
    assert_eq!(body.len(&reloaded.doc().transact()), 0);
    let _ = reloaded.doc().transact().state_vector();
}
