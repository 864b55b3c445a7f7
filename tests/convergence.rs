//! Randomized, seeded: five peers edit one document through a [`Room`], going offline and
//! coming back at random, while the server's in-memory room is dropped and reloaded from
//! storage at random (as after hibernation or a restart) and compacts as the log grows.
//! At the end every peer, the room and a fresh load from storage hold the same document.
//!
//! Set `FOLIO_SEED` to replay one seed; failures print the seed.

use folio::sync::protocol::{self, Incoming};
use folio::sync::room::{Conn, Room};
use folio::testing::MemoryStorage;
use yrs::updates::decoder::Decode;
use yrs::{Doc, GetString, ReadTxn, StateVector, Text, Transact, Update};

/// xorshift64*: small, seedable, good enough to pick edits.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

struct Peer {
    doc: Doc,
    conn: Option<Conn>,
}

/// Connection keys, as the edge gives each socket its own.
static NEXT_KEY: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn fresh_conn() -> Conn {
    Conn {
        key: NEXT_KEY.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        ..Conn::default()
    }
}

fn apply(doc: &Doc, update: &[u8]) {
    let update = Update::decode_v1(update).expect("server sent a valid update");
    doc.transact_mut()
        .apply_update(update)
        .expect("update applies");
}

/// Delivers frames sent by the server to peer `to`, answering SyncStep1 like y-websocket.
fn deliver(room: &mut Room<MemoryStorage>, peers: &mut [Peer], to: usize, frames: Vec<Vec<u8>>) {
    let mut queue = frames;
    while let Some(frame) = queue.pop() {
        match protocol::decode(&frame).expect("server frames decode") {
            Incoming::SyncStep1(sv) => {
                let diff = peers[to].doc.transact().encode_state_as_update_v1(&sv);
                let reply = protocol::sync_step2(diff);
                send(room, peers, to, &reply);
            }
            Incoming::SyncStep2(u) | Incoming::Update(u) => apply(&peers[to].doc, &u),
            _ => {}
        }
    }
}

/// Sends a frame from peer `from` to the room and delivers the replies. What it queued goes
/// out with a later [`flush`].
fn send(room: &mut Room<MemoryStorage>, peers: &mut [Peer], from: usize, frame: &[u8]) {
    let mut conn = peers[from].conn.take().expect("sender is online");
    let out = room
        .receive(&mut conn, frame)
        .expect("room accepts valid frames");
    peers[from].conn = Some(conn);
    deliver(room, peers, from, out.reply);
}

/// Flushes the room: each frame to every online peer but the one it excludes.
fn flush(room: &mut Room<MemoryStorage>, peers: &mut [Peer]) {
    let flushed = room.flush().expect("memory storage does not fail");
    for (frame, except) in flushed.frames {
        for to in 0..peers.len() {
            let key = peers[to].conn.as_ref().map(|c| c.key);
            if key.is_some() && key != except {
                deliver(room, peers, to, vec![frame.clone()]);
            }
        }
    }
}

fn connect(room: &mut Room<MemoryStorage>, peers: &mut [Peer], i: usize) {
    peers[i].conn = Some(fresh_conn());
    let greeting = room.greeting().expect("greeting");
    deliver(room, peers, i, greeting);
    let sv = peers[i].doc.transact().state_vector();
    send(room, peers, i, &protocol::sync_step1(sv));
}

fn text(doc: &Doc) -> String {
    doc.get_or_insert_text("t").get_string(&doc.transact())
}

fn run(seed: u64) {
    let mut rng = Rng(seed.max(1));
    let storage = MemoryStorage::new();
    let mut room = Room::open(storage.clone()).expect("open");
    let mut peers: Vec<Peer> = (0..5)
        .map(|i| Peer {
            doc: Doc::with_client_id(i + 1),
            conn: None,
        })
        .collect();
    for i in 0..peers.len() {
        connect(&mut room, &mut peers, i);
    }
    for _ in 0..3000 {
        let i = rng.below(peers.len() as u64) as usize;
        match rng.below(100) {
            0..=2 => peers[i].conn = None, // goes offline (no goodbye)
            3..=5 if peers[i].conn.is_none() => connect(&mut room, &mut peers, i),
            6 => {
                // The object hibernates (only when idle: nothing queued), memory is gone,
                // storage stays, sockets survive.
                flush(&mut room, &mut peers);
                room = Room::open(storage.clone()).expect("reload");
            }
            7 => {
                // The object crashes: what was queued and not flushed is gone with it, and
                // every socket closes; the peers reconnect later and re-send their edits.
                room = Room::open(storage.clone()).expect("reload");
                for p in peers.iter_mut() {
                    p.conn = None;
                }
            }
            8..=30 => flush(&mut room, &mut peers),
            _ => {
                let t = peers[i].doc.get_or_insert_text("t");
                let update = {
                    let mut txn = peers[i].doc.transact_mut();
                    let len = t.len(&txn);
                    if len > 0 && rng.below(4) == 0 {
                        let at = rng.below(len as u64) as u32;
                        t.remove_range(&mut txn, at, (len - at).min(1 + rng.below(4) as u32));
                    } else {
                        let at = rng.below(len as u64 + 1) as u32;
                        t.insert(&mut txn, at, &"abcdefgh"[..1 + rng.below(8) as usize]);
                    }
                    txn.encode_update_v1()
                };
                if peers[i].conn.is_some() {
                    send(&mut room, &mut peers, i, &protocol::update(update));
                }
            }
        }
    }
    for i in 0..peers.len() {
        if peers[i].conn.is_none() {
            connect(&mut room, &mut peers, i);
        }
    }
    flush(&mut room, &mut peers);
    // One more round of SyncStep1 so everyone pulls what arrived after they synced.
    for i in 0..peers.len() {
        let sv = peers[i].doc.transact().state_vector();
        send(&mut room, &mut peers, i, &protocol::sync_step1(sv));
    }
    flush(&mut room, &mut peers);
    let expected = text(room.doc());
    let server_sv = room.doc().transact().state_vector();
    for (i, p) in peers.iter().enumerate() {
        assert_eq!(text(&p.doc), expected, "seed {seed}: peer {i} text");
        assert_eq!(
            p.doc.transact().state_vector(),
            server_sv,
            "seed {seed}: peer {i} sv"
        );
    }
    let fresh = Room::open(storage.clone()).expect("fresh load");
    assert_eq!(text(fresh.doc()), expected, "seed {seed}: storage");
    let state = fresh
        .doc()
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    assert!(!state.is_empty());
}

#[test]
fn five_peers_with_disconnects_and_reloads_converge() {
    let seeds: Vec<u64> = match std::env::var("FOLIO_SEED") {
        Ok(s) => vec![s.parse().expect("FOLIO_SEED is a number")],
        Err(_) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(7);
            vec![1, 2, 3, 0x5eed, now]
        }
    };
    for seed in seeds {
        let result = std::panic::catch_unwind(|| run(seed));
        if result.is_err() {
            panic!("failed with FOLIO_SEED={seed}");
        }
    }
}

/// One random edit by `doc` (text typed or deleted, a map entry set or removed, a list item
/// pushed or deleted, a paragraph added to an XML fragment), as the update it makes.
fn random_edit(doc: &Doc, rng: &mut Rng) -> Vec<u8> {
    use yrs::{Array, Map, XmlElementPrelim, XmlFragment};
    let text = doc.get_or_insert_text("t");
    let map = doc.get_or_insert_map("fields");
    let list = doc.get_or_insert_array("tags");
    let body = doc.get_or_insert_xml_fragment("body");
    let mut txn = doc.transact_mut();
    match rng.below(8) {
        0 => {
            let len = text.len(&txn);
            if len > 0 {
                let at = rng.below(len as u64) as u32;
                text.remove_range(&mut txn, at, (len - at).min(3));
            }
        }
        1 => {
            map.insert(
                &mut txn,
                format!("k{}", rng.below(5)),
                rng.below(100) as f64,
            );
        }
        2 => {
            map.remove(&mut txn, &format!("k{}", rng.below(5)));
        }
        3 => {
            list.push_back(&mut txn, format!("tag{}", rng.below(50)));
        }
        4 => {
            let len = list.len(&txn);
            if len > 0 {
                list.remove(&mut txn, rng.below(len as u64) as u32);
            }
        }
        5 => {
            body.push_back(&mut txn, XmlElementPrelim::empty("paragraph"));
        }
        _ => {
            let at = rng.below(text.len(&txn) as u64 + 1) as u32;
            text.insert(&mut txn, at, &"xyzw"[..1 + rng.below(4) as usize]);
        }
    }
    txn.encode_update_v1()
}

/// Coalescing changes how updates travel and are stored, never what they make: four clients
/// edit concurrently (each sees the others' edits only through the room's flushes, which come
/// at random points); a document that applied every update one by one, the room, a fresh load
/// from storage, and every client hold the same document.
#[test]
fn coalesced_flushes_make_the_same_document_as_one_by_one_application() {
    for seed in [11u64, 12, 13, 14, 15, 16, 17, 18] {
        let mut rng = Rng(seed);
        let storage = MemoryStorage::new();
        let mut room = Room::open(storage.clone()).expect("open");
        let reference = Doc::with_client_id(99);
        let mut peers: Vec<Peer> = (0..4)
            .map(|i| Peer {
                doc: Doc::with_client_id(i + 1),
                conn: Some(fresh_conn()),
            })
            .collect();
        for _ in 0..1500 {
            if rng.below(6) == 0 {
                flush(&mut room, &mut peers);
                continue;
            }
            let i = rng.below(peers.len() as u64) as usize;
            let update = random_edit(&peers[i].doc, &mut rng);
            apply(&reference, &update);
            send(&mut room, &mut peers, i, &protocol::update(update));
        }
        flush(&mut room, &mut peers);
        let snapshot = |doc: &Doc| doc.transact().snapshot();
        let expected = snapshot(&reference);
        assert_eq!(snapshot(room.doc()), expected, "seed {seed}: room");
        let fresh = Room::open(storage.clone()).expect("fresh load");
        assert_eq!(snapshot(fresh.doc()), expected, "seed {seed}: storage");
        for (i, p) in peers.iter().enumerate() {
            assert_eq!(snapshot(&p.doc), expected, "seed {seed}: peer {i}");
            assert_eq!(text(&p.doc), text(&reference), "seed {seed}: peer {i} text");
        }
    }
}
