//! The platform's stores behind the core's traits and the edge's handlers: the document's
//! SQLite ([`sqlite`]: the CRDT's storage; [`journal`]: its publishing tables), D1 ([`d1`])
//! and KV ([`kv`]). Each module holds every statement on its store.

pub mod d1;
pub mod journal;
pub mod kv;
pub mod sqlite;
