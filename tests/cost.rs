//! The work done for one incoming update is proportional to that update, never to the size of
//! the document: on a 3.8 MB document (B4 replayed ten times, `../shared/data`), 1000 small
//! edits cost 1000 log appends of exactly their own bytes: no re-encoding, no compaction.
//! Timings are printed for a small and a large document, not asserted.

use std::time::Instant;

use folio::sync::protocol;
use folio::sync::room::{Conn, Room};
use folio::sync::store::Store;
use folio::testing::MemoryStorage;
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Text, Transact, Update};

/// The B4x10 document if the shared data is beside the repository, else a stand-in of
/// similar size.
fn large_document() -> (Vec<u8>, &'static str) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/b4x10.v1.bin");
    if let Ok(bytes) = std::fs::read(path) {
        return (bytes, "text");
    }
    let doc = Doc::with_client_id(1);
    let text = doc.get_or_insert_text("text");
    let mut txn = doc.transact_mut();
    for i in 0..40_000 {
        let len = text.len(&txn);
        text.insert(&mut txn, len / 2, &format!("word{i} "));
    }
    drop(txn);
    let state = doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    (state, "text")
}

/// Stores `state` as a compacted snapshot, the way a long-lived document sits in storage.
fn stored(state: &[u8]) -> MemoryStorage {
    let storage = MemoryStorage::new();
    let (mut store, doc) = Store::open(storage.clone(), 1).expect("open");
    doc.transact_mut()
        .apply_update(Update::decode_v1(state).expect("decode"))
        .expect("apply");
    store.append(state).expect("append");
    store.compact(&doc).expect("compact");
    storage
}

/// `n` single-character edits by a peer that holds `state`.
fn edits(state: &[u8], field: &str, n: usize) -> Vec<Vec<u8>> {
    let peer = Doc::with_client_id(99);
    peer.transact_mut()
        .apply_update(Update::decode_v1(state).expect("decode"))
        .expect("apply");
    let text = peer.get_or_insert_text(field);
    (0..n)
        .map(|i| {
            let mut txn = peer.transact_mut();
            let len = text.len(&txn);
            text.insert(&mut txn, (i as u32 * 7919) % (len + 1), "x");
            protocol::update(txn.encode_update_v1())
        })
        .collect()
}

/// Applies 1000 edits; returns (storage writes, bytes written, bytes of the edits).
fn measure(label: &str, state: &[u8], field: &str) -> (u64, u64, u64) {
    let storage = stored(state);
    let t = Instant::now();
    let mut room = Room::open(storage.clone()).expect("open room");
    let load = t.elapsed();
    let frames = edits(state, field, 1000);
    let (writes, bytes) = (storage.writes(), storage.bytes_written());
    let mut conn = Conn::default();
    let t = Instant::now();
    // One flush per edit: the light-load case, where every edit goes out (and is stored)
    // on its own. Under load a flush carries several (see `room`'s "Coalescing").
    for frame in &frames {
        let out = room.receive(&mut conn, frame).expect("edit accepted");
        assert!(out.queued);
        assert_eq!(room.flush().expect("flush").frames.len(), 1);
    }
    let per_edit = t.elapsed() / frames.len() as u32;
    let payload: u64 = frames
        .iter()
        .map(|f| match protocol::decode(f) {
            Ok(protocol::Incoming::Update(u)) => u.len() as u64,
            _ => unreachable!("update frames"),
        })
        .sum();
    let (writes, bytes) = (storage.writes() - writes, storage.bytes_written() - bytes);
    println!(
        "{label}: {} byte document, load {load:?}, {per_edit:?} per edit, \
         {writes} writes / {bytes} bytes stored for {payload} bytes of edits",
        state.len(),
    );
    (writes, bytes, payload)
}

#[test]
fn cost_per_edit_does_not_grow_with_the_document() {
    let small = {
        let doc = Doc::with_client_id(1);
        let text = doc.get_or_insert_text("text");
        text.insert(&mut doc.transact_mut(), 0, "hello");
        let state = doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        state
    };
    // A tiny document compacts along the way (its log soon outweighs its snapshot): cheap.
    let (writes, _, _) = measure("small", &small, "text");
    assert!(writes >= 1000);
    let (large, field) = large_document();
    assert!(large.len() > 2 << 20, "the large document is over 2 MiB");
    let (writes, bytes, payload) = measure("large", &large, field);
    assert_eq!(
        writes, 1001,
        "one write per edit (no compaction, no snapshot rewrite), and the binding of the \
         editor's client id to its user, once"
    );
    assert_eq!(
        bytes, payload,
        "exactly the edits' bytes are stored: no re-encoding"
    );
}
