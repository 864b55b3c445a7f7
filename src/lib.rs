//! Folio: a collaborative headless CMS backend for Cloudflare Workers.
//!
//! Every document is a Durable Object holding a Yrs CRDT, co-edited live by any Yjs client
//! over the standard y-protocols (sync + awareness). This crate is split in two:
//!
//! - the **core** (every module below but `edge`): pure Rust, no platform types, tested
//!   natively with `cargo test`: the wire protocol ([`protocol`]), a document's live session
//!   ([`room`]), its persistence model ([`store`]), limits and errors;
//! - the **edge** (`edge`, wasm32 only): the stateless worker's router, the document's
//!   Durable Object, and the SQLite adapter implementing [`store::Storage`].
//!
//! ```
//! use folio::room::{Conn, Room};
//! use folio::testing::MemoryStorage;
//! use yrs::{Doc, Text, Transact};
//!
//! // A client makes an edit and sends it as a y-protocols update frame.
//! let client = Doc::with_client_id(1);
//! let text = client.get_or_insert_text("title");
//! let edit = {
//!     let mut txn = client.transact_mut();
//!     text.insert(&mut txn, 0, "Hello");
//!     txn.encode_update_v1()
//! };
//! let mut room = Room::open(MemoryStorage::new()).unwrap();
//! let mut conn = Conn::default();
//! let out = room.receive(&mut conn, &folio::protocol::update(edit)).unwrap();
//! assert!(out.queued); // applied, and queued for the next flush
//! let flush = room.flush().unwrap(); // stored, then relayed: one frame for every other editor
//! assert_eq!(flush.frames.len(), 1);
//! assert_eq!(room.store().log_len(), 1);
//! ```

#![deny(clippy::await_holding_refcell_ref)]

pub mod auth;
pub mod content;
pub mod docid;
pub mod error;
pub mod intent;
// Fuzz targets (fuzz/ and tests/fuzz_corpus.rs); not part of the worker.
#[cfg(not(target_arch = "wasm32"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod limits;
pub mod protocol;
pub mod publish;
pub mod render;
pub mod restore;
pub mod room;
pub mod routes;
pub mod store;
pub mod testing;
pub mod throttle;
pub mod wire;

#[cfg(target_arch = "wasm32")]
mod edge;
