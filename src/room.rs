//! One document's live session: the Yrs document, its [`Store`], and the awareness states of
//! the connected editors. Message handling is a function of (room, connection, frame) →
//! (replies to the sender, one message for everyone else, storage writes), with no sockets:
//! the edge layer delivers what [`Outcome`] says.
//!
//! # Invariants
//! - The in-memory document always equals what storage holds (see [`crate::store`] rule 1).
//!   An update yrs refuses may have been partly integrated, so the room then reloads its
//!   document from storage; other connections are unaffected.
//! - After a storage error the room must be dropped ([`Error::Storage`] says so): the edge
//!   closes its sockets with 1011 and the next event loads the document again.
//! - Work per incoming update is proportional to the update (decode, apply, append, one
//!   encoding of the relay) — never to the document, except the amortised compaction.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

use crate::error::{Error, Result};
use crate::limits::{MAX_DOC_BYTES, MAX_FRAME_BYTES};
use crate::protocol::{self, AwarenessEntry, Incoming};
use crate::store::{fresh_client_id, Storage, Store};

/// What the server remembers about one connection, kept with the socket so it survives
/// hibernation: the awareness client ids it announced, with their latest clocks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conn {
    #[serde(default)]
    pub clients: BTreeMap<u64, u32>,
}

/// What to do after a frame was handled.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Frames for the sender only.
    pub reply: Vec<Vec<u8>>,
    /// One frame for every other connection of the document.
    pub broadcast: Option<Vec<u8>>,
    /// The connection's [`Conn`] changed and should be saved with the socket.
    pub conn_changed: bool,
}

/// A document's live session; see the module docs.
pub struct Room<S> {
    doc: Doc,
    store: Store<S>,
    /// Latest awareness state per client id, for greeting new connections and answering
    /// queries. Memory only: after hibernation it refills as editors renew their state
    /// (y-protocols clients do so every 15 s).
    awareness: BTreeMap<u64, AwarenessEntry>,
}

impl<S: Storage> Room<S> {
    /// Loads the document from `storage`, with a fresh random server client id.
    ///
    /// # Errors
    /// See [`Store::open`].
    pub fn open(storage: S) -> Result<Self> {
        let (store, doc) = Store::open(storage, fresh_client_id())?;
        Ok(Room { doc, store, awareness: BTreeMap::new() })
    }

    /// The frames a new connection receives: our SyncStep1, and the awareness states we know.
    ///
    /// # Errors
    /// [`Error::Internal`] if the document is in a transaction.
    pub fn greeting(&self) -> Result<Vec<Vec<u8>>> {
        let sv = self.read(|txn| txn.state_vector())?;
        let mut frames = vec![protocol::sync_step1(sv)];
        if !self.awareness.is_empty() {
            frames.push(protocol::awareness(self.awareness.values()));
        }
        Ok(frames)
    }

    /// Handles one binary frame from `conn`.
    ///
    /// # Errors
    /// [`Error::FrameTooLarge`], [`Error::DocumentTooLarge`], [`Error::Malformed`]: close the
    /// sender; the document is unchanged. [`Error::Storage`]: drop the room.
    pub fn receive(&mut self, conn: &mut Conn, frame: &[u8]) -> Result<Outcome> {
        if frame.len() > MAX_FRAME_BYTES {
            return Err(Error::FrameTooLarge { len: frame.len(), max: MAX_FRAME_BYTES });
        }
        let mut out = Outcome::default();
        match protocol::decode(frame)? {
            Incoming::SyncStep1(sv) => {
                let diff = self.read(|txn| txn.encode_state_as_update_v1(&sv))?;
                out.reply.push(protocol::sync_step2(diff));
            }
            Incoming::SyncStep2(update) | Incoming::Update(update) => {
                if self.apply(&update)? {
                    out.broadcast = Some(protocol::update(update));
                }
            }
            Incoming::Awareness(entries) => {
                for entry in entries {
                    if entry.is_removal() {
                        conn.clients.remove(&entry.client);
                        self.awareness.remove(&entry.client);
                    } else {
                        conn.clients.insert(entry.client, entry.clock);
                        self.awareness.insert(entry.client, entry);
                    }
                }
                out.conn_changed = true;
                // Relay the frame as received: it decoded, so every peer can parse it.
                out.broadcast = Some(frame.to_vec());
            }
            Incoming::QueryAwareness => {
                if !self.awareness.is_empty() {
                    out.reply.push(protocol::awareness(self.awareness.values()));
                }
            }
            Incoming::Ignored(_) => {}
        }
        Ok(out)
    }

    /// Forgets `conn`'s awareness clients and returns the frame that tells everyone else
    /// they are gone (clock + 1, state `null`, as y-protocols' `removeAwarenessStates`).
    pub fn disconnect(&mut self, conn: &mut Conn) -> Option<Vec<u8>> {
        if conn.clients.is_empty() {
            return None;
        }
        let gone: Vec<AwarenessEntry> = std::mem::take(&mut conn.clients)
            .into_iter()
            .map(|(client, clock)| {
                self.awareness.remove(&client);
                AwarenessEntry { client, clock: clock.wrapping_add(1), json: "null".into() }
            })
            .collect();
        Some(protocol::awareness(&gone))
    }

    /// The whole document as one Yjs v1 update.
    ///
    /// # Errors
    /// [`Error::Internal`] if the document is in a transaction.
    pub fn encode_state(&self) -> Result<Vec<u8>> {
        self.read(|txn| txn.encode_state_as_update_v1(&StateVector::default()))
    }

    /// Whether nothing was ever stored for this document.
    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }

    /// The document, for reading.
    pub fn doc(&self) -> &Doc {
        &self.doc
    }

    /// The store, for inspection.
    pub fn store(&self) -> &Store<S> {
        &self.store
    }

    fn read<T>(&self, f: impl FnOnce(&yrs::Transaction) -> T) -> Result<T> {
        let txn = self
            .doc
            .try_transact()
            .map_err(|e| Error::Internal(format!("document busy: {e}")))?;
        Ok(f(&txn))
    }

    /// Applies, appends and maybe compacts. Returns whether the update carried anything.
    fn apply(&mut self, bytes: &[u8]) -> Result<bool> {
        let update =
            Update::decode_v1(bytes).map_err(|e| Error::Malformed(format!("update: {e}")))?;
        if update.is_empty() {
            return Ok(false);
        }
        let incoming = bytes.len() as u64;
        if self.store.size_bound() + incoming > MAX_DOC_BYTES {
            // The bound may be loose; compaction measures the real size.
            self.store.compact(&self.doc)?;
            let size = self.store.size_bound() + incoming;
            if size > MAX_DOC_BYTES {
                return Err(Error::DocumentTooLarge { size, max: MAX_DOC_BYTES });
            }
        }
        let applied = {
            let mut txn = self
                .doc
                .try_transact_mut()
                .map_err(|e| Error::Internal(format!("document busy: {e}")))?;
            txn.apply_update(update)
        };
        if let Err(e) = applied {
            // yrs may have integrated part of the update before refusing it: go back to what
            // storage holds, which never saw it.
            self.doc = self.store.reload(fresh_client_id())?;
            return Err(Error::Malformed(format!("update refused: {e}")));
        }
        self.store.append(bytes)?;
        if self.store.wants_compaction() {
            self.store.compact(&self.doc)?;
        }
        Ok(true)
    }
}
