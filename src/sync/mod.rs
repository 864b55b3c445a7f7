//! Live co-editing over the standard Yjs protocols: how a document's session works, from the
//! bytes of a frame to the rows that store it.
//!
//! - [`wire`]: bounded readers of the y-protocols encoding, and the shape check of an update
//!   before yrs decodes it (hostile input never recurses or allocates unbounded);
//! - [`protocol`]: the sync and awareness messages, decoded and encoded;
//! - [`room`]: one document's live session, a function of (state, frame) → (replies, queued
//!   relay, storage writes), with awareness owned per connection;
//! - [`cadence`]: when the queued relay is flushed (coalescing);
//! - [`store`]: the persistence model (snapshot chunks + update log, compaction) behind the
//!   [`store::Storage`] trait.

pub mod cadence;
pub mod protocol;
pub mod room;
pub mod store;
pub mod wire;

pub use cadence::{Cadence, When};
pub use room::{farewell, Conn, Flush, Outcome, Room};
pub use store::{Storage, Store};
