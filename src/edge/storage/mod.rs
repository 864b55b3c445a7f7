//! The platform's stores behind the core's traits and the edge's handlers: the document's
//! SQLite ([`sqlite`]: the CRDT's storage; [`journal`]: its publishing tables), D1 ([`d1`]),
//! KV ([`kv`]) and the media store ([`media`]: R2 and its index in D1). Each module holds every
//! statement on its store.

pub mod d1;
pub mod journal;
pub mod kv;
pub mod media;
pub mod sqlite;
pub mod webhooks;
