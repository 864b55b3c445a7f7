//! Folio: a collaborative headless CMS backend for Cloudflare Workers.
//!
//! Every document is a Durable Object holding a Yrs CRDT, co-edited live by any Yjs client
//! over the standard y-protocols (sync + awareness). This crate is split in two:
//!
//! the **core** (every module but `edge`) is pure Rust with no platform types, tested natively
//! with `cargo test`; the **edge** (`edge`, wasm32 only) binds it to Cloudflare Workers.
//!
//! # Layout
//!
//! ```text
//! error      the core's error, and the one map to HTTP statuses and close codes
//! limits     every cap and interval, with its reason
//! time       milliseconds and seconds since the epoch, RFC 3339
//! doc_id     DocId: a document id, parsed once where a request names it
//! sync/      live co-editing over the Yjs protocols
//!   wire       bounded readers of the y-protocols encoding; update shape checks
//!   protocol   sync and awareness messages
//!   room       a document's live session: (state, frame) -> replies, queued relay, writes
//!   cadence    when the queued relay is flushed (coalescing)
//!   store      persistence: snapshot chunks + update log, compaction, behind `Storage`
//! content/   a document's content
//!   model      the sanitized content tree
//!   schema     content types: collections of typed fields, the CRDT contract, compatibility
//!   extract    the CRDT read through an allowlist (the security boundary)
//!   fields     an entry's typed fields read by its collection, and validated
//!   render     HTML, ProseMirror JSON, plain text
//!   restore    a published version written back as a forward edit
//!   write      JSON writes into the draft, checked by the contract
//!   diff       minimal text diffs and the three-way merge of a write
//!   markdown   Markdown into the rich-text model
//! publish/   drafts become versioned posts
//!   post       the post record, content hash, ETag, body parts, the KV value
//!   slug       slugs
//!   intent     publishing as a write-ahead intent (Journal + World traits)
//!   plan       what the document's object does next: alarm, KV write, registry touch
//!   schedule   scheduled publish/unpublish requests
//!   query      reader API parameters
//!   filter     reader queries on a collection: typed filters, sort, page
//!   page       the public HTML page
//! access/    who may do what
//!   token      signed tokens, keys, credentials in headers
//!   policy     roles, scopes, what a principal may grant
//!   routes     the HTTP surface parsed into a Route, with its access rule
//!   throttle   token buckets: per client, per connection, and the penalty box
//! media/     uploads in R2: ids from content hashes, type and size from headers, variants
//!   probe      sniffing and header sizes (JPEG, PNG, GIF, WebP, AVIF), bounded reads
//!   variant    the widths, srcset, and downscaling with the `image` crate
//! webhook    Standard Webhooks signing, outbound URL checks, retries, the debounce
//! openapi    the HTTP API as OpenAPI 3.1, one schema per collection
//! testing    in-memory fakes (storage, journal, D1) that can fail both ways
//! edge/      (wasm32) the worker's router, access, reader and authors' APIs, the
//!            document object (edge/document/), its storage adapters (edge/storage/)
//! ```
//!
//! ```
//! use folio::sync::room::{Conn, Room};
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
//! let out = room.receive(&mut conn, &folio::sync::protocol::update(edit)).unwrap();
//! assert!(out.queued); // applied, and queued for the next flush
//! let flush = room.flush().unwrap(); // stored, then relayed: one frame for every other editor
//! assert_eq!(flush.frames.len(), 1);
//! assert_eq!(room.store().log_len(), 1);
//! ```

#![deny(clippy::await_holding_refcell_ref)]

pub mod access;
pub mod content;
pub mod doc_id;
pub mod error;
// Fuzz targets (fuzz/ and tests/fuzz_corpus.rs); not part of the worker.
#[cfg(not(target_arch = "wasm32"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod limits;
pub mod media;
pub mod openapi;
pub mod publish;
pub mod sync;
pub mod testing;
pub mod time;
pub mod webhook;

#[cfg(target_arch = "wasm32")]
mod edge;
