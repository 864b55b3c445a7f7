//! Known-bad inputs replayed through a [`Room`]: hand-made shapes of the failures reported
//! against Yjs/yrs (truncated varints, huge declared lengths and counts, dangling references,
//! deep nesting). Each must be refused cleanly or applied harmlessly, leave the stored
//! document unchanged when refused, and finish quickly. The seeds for fuzzing (access-control
//! issue) start here.

use std::time::{Duration, Instant};

use folio::sync::protocol;
use folio::sync::room::{Conn, Room};
use folio::testing::MemoryStorage;
use yrs::{Doc, Map, MapPrelim, ReadTxn, StateVector, Text, Transact};

fn varint(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// A v1 update: `clients` client sections, each declaring `structs` structs, then raw `tail`.
fn update(clients: u64, structs: u64, tail: &[u8]) -> Vec<u8> {
    let mut u = Vec::new();
    varint(clients, &mut u);
    varint(structs, &mut u);
    varint(1, &mut u); // client id
    varint(0, &mut u); // clock
    u.extend_from_slice(tail);
    u
}

fn cases() -> Vec<(&'static str, Vec<u8>)> {
    let mut deep = Vec::new();
    {
        // A real, valid update nesting maps 2000 deep.
        let doc = Doc::with_client_id(9);
        let root = doc.get_or_insert_map("m");
        let mut txn = doc.transact_mut();
        let mut map = root.insert(&mut txn, "k", MapPrelim::default());
        for _ in 0..2000 {
            map = map.insert(&mut txn, "k", MapPrelim::default());
        }
        deep.extend(txn.encode_update_v1());
    }
    let huge_string = {
        let mut tail = vec![4u8]; // info: string content
        varint(1, &mut tail); // parent: named root
        tail.push(1);
        tail.push(b't');
        varint(u32::MAX as u64, &mut tail); // string length 2^32-1, no bytes follow
        tail
    };
    let dangling = {
        // An item whose left origin (client 77, clock 10^9) does not exist: yrs keeps it pending.
        let mut tail = vec![0x84u8]; // info: has origin, string content
        varint(77, &mut tail);
        varint(1_000_000_000, &mut tail);
        varint(1, &mut tail);
        tail.push(b'x');
        tail.push(0); // empty delete set
        tail
    };
    let huge_delete = {
        // An empty struct section, then a delete set deleting 2^53 elements of client 5.
        let mut u = vec![0u8, 1];
        varint(5, &mut u);
        varint(1, &mut u);
        varint(0, &mut u);
        varint((1 << 53) - 1, &mut u);
        u
    };
    vec![
        ("truncated varint", vec![0x80, 0x80]),
        ("overlong varint", vec![0xff; 11]),
        ("2^32 declared clients", update(u32::MAX as u64, 1, &[])),
        ("2^32 declared structs", update(1, u32::MAX as u64, &[])),
        ("string of declared length 2^32", update(1, 1, &huge_string)),
        ("dangling origin (pending forever)", update(1, 1, &dangling)),
        ("delete set of 2^53 elements", huge_delete),
        ("unknown content type", update(1, 1, &[0x0f, 1, 1, b't', 0])),
        ("2000-deep nesting", deep),
    ]
}

#[test]
fn known_bad_updates_are_refused_or_harmless_and_fast() {
    for (name, bad) in cases() {
        let storage = MemoryStorage::new();
        let mut room = Room::open(storage.clone()).expect("open");
        let seed = {
            let doc = Doc::with_client_id(1);
            let text = doc.get_or_insert_text("t");
            text.insert(&mut doc.transact_mut(), 0, "keep me");
            let state = doc
                .transact()
                .encode_state_as_update_v1(&StateVector::default());
            state
        };
        room.receive(&mut Conn::default(), &protocol::update(seed))
            .expect("seed");
        room.flush().expect("seed stored");
        let before = room.encode_state().expect("state");
        let log_before = storage.log_len();

        let started = Instant::now();
        let result = room.receive(&mut Conn::default(), &protocol::update(bad.clone()));
        let took = started.elapsed();
        println!(
            "{name}: {} in {took:?}",
            match &result {
                Ok(_) => "accepted".to_string(),
                Err(e) => format!("refused ({})", e.close_code()),
            }
        );
        assert!(took < Duration::from_secs(2), "{name}: took {took:?}");
        match result {
            Err(e) => {
                assert!(matches!(e.close_code(), 1007 | 1009), "{name}: {e}");
                assert_eq!(
                    room.encode_state().expect("state"),
                    before,
                    "{name}: changed the document"
                );
                assert_eq!(storage.log_len(), log_before, "{name}: stored something");
            }
            Ok(_) => {
                // Accepted: the room and a fresh load from storage still agree and still work.
                room.flush().expect("flush");
                let fresh = Room::open(storage.clone()).expect("reload after accepting");
                let text = |r: &Room<MemoryStorage>| {
                    use yrs::GetString;
                    r.doc()
                        .get_or_insert_text("t")
                        .get_string(&r.doc().transact())
                };
                assert_eq!(text(&fresh), "keep me", "{name}");
                assert_eq!(text(&room), "keep me", "{name}");
            }
        }
    }
}
