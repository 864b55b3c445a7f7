//! One document's live session: the Yrs document, its [`Store`], and the awareness states of
//! the connected editors. Message handling is a function of (room, connection, frame) →
//! (replies to the sender, storage writes, changes queued for everyone else), with no sockets:
//! the edge layer delivers what [`Outcome`] and [`Room::flush`] say.
//!
//! # Coalescing
//! Updates and awareness states are applied when they arrive but relayed in flushes: the
//! updates queued since the last flush are merged into one update, appended to the log as one
//! row, and only then sent as one frame per receiver (awareness likewise, latest state per
//! client). The edge decides when to flush ([`Cadence`], a token bucket): at once while flushes
//! come no faster than one per interval on average; under load, one per interval, which grows
//! with the receivers (see [`FLUSH_SENDS_PER_SEC`]). Anything that reads the document
//! to send it elsewhere (a SyncStep1 reply, the document state, a publish) stores the queue
//! first ([`Room::persist`]), so nothing unstored ever leaves the object.
//!
//! # Invariants
//! - The in-memory document always equals what storage holds (see [`crate::sync::store`] rule 1).
//!   An update yrs refuses may have been partly integrated, so the room then reloads its
//!   document from storage; other connections are unaffected.
//! - After a storage error the room must be dropped ([`Error::Storage`] says so): the edge
//!   closes its sockets with 1011 and the next event loads the document again.
//! - Work per incoming update is proportional to the update (decode, apply; its share of one
//!   merge, one append and one relay per flush) — never to the document, except the amortised
//!   compaction.
//! - The document in memory is what storage holds plus the queued updates; a refused update
//!   stores the queue before the document is reloaded, so nothing queued is lost.
//!
//! # Who writes under a client id
//! Yjs identifies an edit by (client id, clock), and skips as known anything it already has
//! under that pair: whoever writes first under another's id at the next clocks erases what
//! that client types next. So a client id belongs to the user who first wrote under it, or
//! first announced it in awareness as an editor: the binding is stored ([`Storage::bind`])
//! before anything written under the id is, and lasts (restarts, hibernation, the owner away).
//! An update that adds structs under an id of another user's is refused
//! ([`Error::ClientIdTaken`]); one that only repeats structs the document has is harmless and
//! not checked. Deletions name the deleted structs' ids, not the deleter's, so they are not
//! attributed to anyone (a delete of structs the document lacks is refused as pending). The
//! server's own edits ([`Room::edit`]: JSON writes, imports, restores) are under its own fresh
//! id, bound to [`SERVER_USER`], which no token can name.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

use crate::access::throttle::Budget;
use crate::error::{Error, Result};
use crate::limits::{MAX_DOC_BYTES, MAX_FRAME_BYTES, MAX_SYNC_FRAME_BYTES};
use crate::sync::protocol::{self, AwarenessEntry, Incoming};
use crate::sync::store::{fresh_client_id, Storage, Store};
use crate::sync::wire;

/// The owner of the server's own client ids. Token users have no control characters
/// ([`crate::access::token`]), so no connection is ever this user.
pub const SERVER_USER: &str = "\u{0}folio";

/// What the server remembers about one connection, kept with the socket so it survives
/// hibernation: the awareness client ids it announced, with their latest clocks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conn {
    #[serde(default)]
    pub clients: BTreeMap<u64, u32>,
    /// A random key naming this connection in the room's memory (its budget).
    #[serde(default)]
    pub key: u64,
    /// Who connected (the token's user): the key of the penalty box.
    #[serde(default)]
    pub user: String,
    /// The awareness client id this connection speaks for: the first it announced, unless
    /// another connection already held it. Awareness for any other id is dropped.
    #[serde(default)]
    pub own: Option<u64>,
    /// A viewer's connection: its document edits are never applied, stored or relayed.
    #[serde(default)]
    pub read_only: bool,
    /// When the connection's token expires (ms since the epoch): from then on it is closed
    /// with 4001 (see [`Room::spend`]; the edge also closes idle ones on the alarm).
    #[serde(default)]
    pub expires_ms: Option<i64>,
    /// Whether the client has answered our SyncStep1 (y-websocket always does, right after
    /// connecting). Until then its live updates may build on offline work that the answer
    /// brings, so one that depends on changes the document lacks is dropped, not refused.
    #[serde(default)]
    pub synced: bool,
    /// The server closed this connection: frames the client had already sent are still
    /// delivered afterwards (thousands, from a flood) and must be dropped unread, or each
    /// would be handled, refused and closed again.
    #[serde(default)]
    pub closed: bool,
}

/// What to do after a frame was handled.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Frames for the sender only.
    pub reply: Vec<Vec<u8>>,
    /// Something was queued for the other connections: flush (see [`Cadence`]).
    pub queued: bool,
    /// The connection's [`Conn`] changed and should be saved with the socket.
    pub conn_changed: bool,
    /// The document changed (stored at the next flush, before anyone hears of it).
    pub edited: bool,
}

/// Who contributed to a queue: its frame goes to every connection but a sole contributor
/// (several contributors each get their own changes back, which Yjs ignores as known).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Senders {
    #[default]
    Nobody,
    One(u64),
    Many,
}

impl Senders {
    fn add(&mut self, key: u64) {
        *self = match *self {
            Senders::Nobody => Senders::One(key),
            Senders::One(k) if k == key => Senders::One(k),
            _ => Senders::Many,
        };
    }

    /// The connection (by [`Conn::key`]) that must not get the frame back.
    pub fn except(self) -> Option<u64> {
        match self {
            Senders::One(key) => Some(key),
            _ => None,
        }
    }
}

/// The changes received since the last flush.
#[derive(Debug, Default)]
struct Queue {
    /// Applied updates, in order of arrival, not yet relayed.
    updates: Vec<Vec<u8>>,
    /// How many of `updates` (a prefix) are already in the log.
    stored: usize,
    /// Bytes of the updates not yet in the log (they count against the document cap).
    unstored_bytes: u64,
    update_senders: Senders,
    /// The latest awareness entry per client, not yet relayed.
    awareness: BTreeMap<u64, AwarenessEntry>,
    awareness_senders: Senders,
}

/// What one flush sends: each frame to every connection but `except` (a [`Conn::key`]).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Flush {
    pub frames: Vec<(Vec<u8>, Option<u64>)>,
}

/// `updates` as few updates as possible: one merged update, or (if yrs cannot merge them,
/// which valid updates never cause) the updates themselves.
fn merged(updates: &[Vec<u8>]) -> Vec<Vec<u8>> {
    match updates {
        [] => vec![],
        [one] => vec![one.clone()],
        many => yrs::merge_updates_v1(many).map_or_else(|_| many.to_vec(), |m| vec![m]),
    }
}

/// The frame that tells everyone `conn`'s awareness clients are gone (clock + 1, state
/// `null`, as y-protocols' `removeAwarenessStates`), and clears them from `conn`. Needs no
/// document, so a socket closing while the object hibernates does not load one.
pub fn farewell(conn: &mut Conn) -> Option<Vec<u8>> {
    if conn.clients.is_empty() {
        return None;
    }
    let gone: Vec<AwarenessEntry> = std::mem::take(&mut conn.clients)
        .into_iter()
        .map(|(client, clock)| AwarenessEntry {
            client,
            clock: clock.wrapping_add(1),
            json: "null".into(),
        })
        .collect();
    Some(protocol::awareness(&gone))
}

/// A document's live session; see the module docs.
pub struct Room<S> {
    doc: Doc,
    store: Store<S>,
    /// Latest awareness state per client id, for greeting new connections and answering
    /// queries. Memory only: after hibernation it refills as editors renew their state
    /// (y-protocols clients do so every 15 s).
    awareness: BTreeMap<u64, AwarenessEntry>,
    /// Awareness client ids held by a live connection (see [`Conn::own`]); rebuilt with
    /// [`Room::adopt`] when the room is loaded.
    /// Each held id maps to the user of the connection holding it: the same user may take
    /// its id back from a stale connection of its own (a reconnect after a network drop,
    /// before the server noticed the old socket is gone); nobody else may.
    claimed: std::collections::HashMap<u64, String>,
    /// The owners of client ids ([`Store::owner`]) looked up or bound since the room was
    /// loaded: one storage read per id and load, then none.
    owners: std::collections::HashMap<u64, String>,
    /// Each connection's budget, by [`Conn::key`]. Memory only: a flooding client keeps the
    /// object awake, and a fresh budget after a wake is harmless.
    budgets: std::collections::HashMap<u64, Budget>,
    /// What the next flush relays (see the module docs).
    queue: Queue,
}

impl<S: Storage> Room<S> {
    /// Loads the document from `storage`, with a fresh random server client id.
    ///
    /// # Errors
    /// See [`Store::open`].
    pub fn open(storage: S) -> Result<Self> {
        let (store, doc) = Store::open(storage, fresh_client_id())?;
        Ok(Room {
            doc,
            store,
            awareness: BTreeMap::new(),
            claimed: Default::default(),
            owners: Default::default(),
            budgets: Default::default(),
            queue: Queue::default(),
        })
    }

    /// Stores the queued updates not yet in the log, as one row. Call it before anything read
    /// from the document leaves the object (store rule 1); [`Room::flush`] does.
    ///
    /// # Errors
    /// [`Error::Storage`]: drop the room (nothing queued was relayed).
    pub fn persist(&mut self) -> Result<()> {
        self.store_queued(true).map(drop)
    }

    /// [`Room::persist`], returning the rows it appended; without the compaction check when
    /// the document in memory may be damaged (a refused update is being undone).
    fn store_queued(&mut self, compact: bool) -> Result<Vec<Vec<u8>>> {
        let q = &self.queue;
        if q.stored == q.updates.len() {
            return Ok(vec![]);
        }
        let rows = merged(&q.updates[q.stored..]);
        for row in &rows {
            self.store.append(row)?;
        }
        self.queue.stored = self.queue.updates.len();
        self.queue.unstored_bytes = 0;
        if compact {
            self.store.maybe_compact(&self.doc)?;
        }
        Ok(rows)
    }

    /// Whether anything waits for a flush.
    pub fn has_queued(&self) -> bool {
        !self.queue.updates.is_empty() || !self.queue.awareness.is_empty()
    }

    /// Stores what is queued ([`Room::persist`]) and returns the frames that relay it: one
    /// merged update and one awareness frame at most. The append comes first, in the same
    /// turn: on Cloudflare the output gate then holds the frames until it is durable.
    ///
    /// # Errors
    /// [`Error::Storage`]: drop the room; nothing may be sent.
    pub fn flush(&mut self) -> Result<Flush> {
        let stored_early = self.queue.stored > 0;
        let rows = self.store_queued(true)?;
        let queue = std::mem::take(&mut self.queue);
        let mut frames = vec![];
        if !queue.updates.is_empty() {
            // Usually nothing was stored early, and the row appended is the update relayed.
            let relay = if stored_early {
                merged(&queue.updates)
            } else {
                rows
            };
            let except = queue.update_senders.except();
            frames.extend(relay.into_iter().map(|u| (protocol::update(u), except)));
        }
        if !queue.awareness.is_empty() {
            let frame = protocol::awareness(queue.awareness.values());
            frames.push((frame, queue.awareness_senders.except()));
        }
        Ok(Flush { frames })
    }

    /// Charges one incoming frame of `bytes` to `conn`'s budget at `now_ms`; call it before
    /// [`Room::receive`].
    ///
    /// # Errors
    /// [`Error::TokenExpired`]: close the connection (4001). [`Error::RateLimited`]: close the
    /// connection (4008).
    pub fn spend(&mut self, conn: &Conn, bytes: usize, now_ms: i64) -> Result<()> {
        if conn.expires_ms.is_some_and(|at| at <= now_ms) {
            return Err(Error::TokenExpired);
        }
        self.budgets
            .entry(conn.key)
            .or_insert_with(|| Budget::new(now_ms))
            .spend(bytes, now_ms)
    }

    /// Records the awareness id an existing connection holds (after a load or a wake).
    pub fn adopt(&mut self, conn: &Conn) {
        if let Some(own) = conn.own {
            self.claimed.insert(own, conn.user.clone());
        }
    }

    /// The user client id `id` belongs to, if any: from memory, else from storage (once).
    ///
    /// # Errors
    /// [`Error::Storage`]: drop the room.
    fn owner(&mut self, id: u64) -> Result<Option<&str>> {
        if !self.owners.contains_key(&id) {
            match self.store.owner(id)? {
                Some(user) => {
                    self.owners.insert(id, user);
                }
                None => return Ok(None),
            }
        }
        Ok(self.owners.get(&id).map(String::as_str))
    }

    /// Whether `id` may be written or announced by `user`: nobody else's connection holds it
    /// and it belongs to nobody else. `Ok(true)` with the id unbound means `user` may take it.
    fn may_use(&mut self, id: u64, user: &str) -> Result<bool> {
        if self.claimed.get(&id).is_some_and(|u| u != user) {
            return Ok(false);
        }
        Ok(self.owner(id)?.is_none_or(|owner| owner == user))
    }

    /// Binds `id` to `user` unless it is bound already (see the module docs).
    ///
    /// # Errors
    /// [`Error::Storage`]: drop the room.
    fn bind(&mut self, id: u64, user: &str) -> Result<()> {
        if self.owner(id)?.is_none() {
            self.store.bind(id, user)?;
            self.owners.insert(id, user.to_string());
        }
        Ok(())
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
        // A SyncStep2 carries a client's offline work and may be as large as a document;
        // everything else is one edit or one presence state.
        let max = if frame.starts_with(&[protocol::MSG_SYNC as u8, 1]) {
            MAX_SYNC_FRAME_BYTES
        } else {
            MAX_FRAME_BYTES
        };
        if frame.len() > max {
            return Err(Error::FrameTooLarge {
                len: frame.len(),
                max,
            });
        }
        let mut out = Outcome::default();
        match protocol::decode(frame)? {
            Incoming::SyncStep1(sv) => {
                // The reply carries the queued updates: they are stored first.
                self.persist()?;
                // The reply can be the whole document for a 3-byte request.
                let reply = self.charged_reply(conn, |room| {
                    let diff = room.read(|txn| txn.encode_state_as_update_v1(&sv))?;
                    Ok(Some(protocol::sync_step2(diff)))
                })?;
                out.reply.extend(reply);
            }
            // A viewer's client answers our SyncStep1 like any other (stock providers do, with
            // an empty diff when it has no edits): ignored, never applied. An update message is
            // an edit: refused, and the connection closed (4003).
            Incoming::SyncStep2(_) if conn.read_only => {}
            Incoming::Update(_) if conn.read_only => return Err(Error::ReadOnly),
            Incoming::SyncStep2(update) => {
                if !conn.synced {
                    conn.synced = true;
                    out.conn_changed = true;
                }
                // A stock client sends the same offline work on every reconnect: a refusal of
                // it is final (44xx: y-websocket stops reconnecting and reports why).
                let applied = self.apply(conn, update).map_err(|e| match e {
                    Error::Malformed(why) => Error::OfflineWorkRefused(why),
                    Error::DocumentTooLarge { size, max } => Error::DocumentFull { size, max },
                    other => other,
                })?;
                out.queued = applied;
                out.edited = applied;
            }
            Incoming::Update(update) => {
                let applied = self.apply(conn, update)?;
                out.queued = applied;
                out.edited = applied;
            }
            Incoming::Awareness(entries) => {
                // A connection speaks only for its own client id: the first it announces,
                // unless another connection holds that id. Everything else is dropped.
                // An editor's id is bound for good as it is announced: its owner may drop
                // offline before writing and come back with it.
                if conn.own.is_none() {
                    if let Some(id) = entries.first().map(|e| e.client) {
                        if self.may_use(id, &conn.user)? {
                            if !conn.read_only {
                                self.bind(id, &conn.user)?;
                            }
                            conn.own = Some(id);
                            self.claimed.insert(id, conn.user.clone());
                            out.conn_changed = true;
                        }
                    }
                }
                let kept: Vec<AwarenessEntry> = entries
                    .into_iter()
                    .filter(|e| Some(e.client) == conn.own)
                    .collect();
                if kept.is_empty() {
                    return Ok(out);
                }
                for entry in kept {
                    if entry.is_removal() {
                        conn.clients.remove(&entry.client);
                        self.awareness.remove(&entry.client);
                    } else {
                        conn.clients.insert(entry.client, entry.clock);
                        self.awareness.insert(entry.client, entry.clone());
                    }
                    // Relayed at the next flush, latest state per client.
                    self.queue.awareness.insert(entry.client, entry);
                }
                self.queue.awareness_senders.add(conn.key);
                out.conn_changed = true;
                out.queued = true;
            }
            Incoming::QueryAwareness => {
                // Every state for a 1-byte request.
                let reply = self.charged_reply(conn, |room| {
                    Ok((!room.awareness.is_empty())
                        .then(|| protocol::awareness(room.awareness.values())))
                })?;
                out.reply.extend(reply);
            }
            Incoming::Ignored(_) => {}
        }
        Ok(out)
    }

    /// A reply made by `make`, charged to `conn`'s budget: what a frame costs the server
    /// counts against its sender, so a cheap request cannot buy unbounded replies.
    ///
    /// # Errors
    /// [`Error::RateLimited`] when the budget is already spent (nothing is made), or what
    /// `make` fails with.
    fn charged_reply(
        &mut self,
        conn: &Conn,
        make: impl FnOnce(&Self) -> Result<Option<Vec<u8>>>,
    ) -> Result<Option<Vec<u8>>> {
        if self.budgets.get(&conn.key).is_some_and(|b| !b.can_reply()) {
            return Err(Error::RateLimited("reply bytes"));
        }
        let reply = make(self)?;
        if let (Some(budget), Some(reply)) = (self.budgets.get_mut(&conn.key), &reply) {
            budget.charge(reply.len());
        }
        Ok(reply)
    }

    /// Forgets `conn`'s awareness clients and returns the frame that tells everyone else
    /// they are gone (see [`farewell`]).
    pub fn disconnect(&mut self, conn: &mut Conn) -> Option<Vec<u8>> {
        for client in conn.clients.keys() {
            self.awareness.remove(client);
        }
        if let Some(own) = conn.own.take() {
            if self.claimed.get(&own) == Some(&conn.user) {
                self.claimed.remove(&own);
            }
        }
        self.budgets.remove(&conn.key);
        farewell(conn)
    }

    /// Runs `edit`, a change the server makes to the document in one transaction of its own
    /// (a restored version, see [`crate::content::restore`]), returning that transaction's
    /// update. The update is stored, then queued for every connection (flush it): the room
    /// relays it like any edit without knowing what made it.
    ///
    /// # Errors
    /// `edit`'s error, [`Error::Storage`] (drop the room) or [`Error::Internal`].
    pub fn edit(&mut self, edit: impl FnOnce(&Doc) -> Result<Vec<u8>>) -> Result<()> {
        self.persist()?;
        let update = edit(&self.doc)?;
        // An edit that changed nothing (Yjs v1: no structs, no deletions) is not stored.
        if update == [0, 0] {
            return Ok(());
        }
        // The server's id is bound before its first edit is stored, so no user can take it.
        self.bind(self.doc.client_id().get(), SERVER_USER)?;
        self.store.append(&update)?;
        self.store.maybe_compact(&self.doc)?;
        // Relayed to everyone at the next flush; it is stored already.
        self.queue.updates.push(update);
        self.queue.stored = self.queue.updates.len();
        self.queue.update_senders = Senders::Many;
        Ok(())
    }

    /// The whole document as one Yjs v1 update.
    ///
    /// # Errors
    /// [`Error::Internal`] if the document is in a transaction.
    pub fn encode_state(&self) -> Result<Vec<u8>> {
        self.read(|txn| txn.encode_state_as_update_v1(&StateVector::default()))
    }

    /// The text of root `Y.Text` `name` (empty if the document is busy).
    pub fn text(&self, name: &str) -> String {
        use yrs::GetString;
        let title = self.doc.get_or_insert_text(name);
        match self.doc.try_transact() {
            Ok(txn) => title.get_string(&txn),
            Err(_) => String::new(),
        }
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

    /// Checks, applies and queues. Returns whether the update changed the document (one that
    /// adds nothing is neither stored nor relayed).
    fn apply(&mut self, conn: &Conn, bytes: Vec<u8>) -> Result<bool> {
        // Bounded before yrs sees it (lengths, counts, ids, value nesting): see `wire`.
        let shape = wire::check_update(&bytes)?;
        if shape.is_empty() {
            return Ok(false);
        }
        let update =
            Update::decode_v1(&bytes).map_err(|e| Error::Malformed(format!("update: {e}")))?;
        let sv = self.read(|txn| txn.state_vector())?;
        match follows(&update, &sv) {
            // A client that has not answered our SyncStep1 yet may send live edits that
            // build on offline work its answer is about to bring: drop them, the answer
            // carries them too.
            Err(Gap::Missing) if !conn.synced => return Ok(false),
            Err(gap) => return Err(gap.into()),
            Ok(()) => {}
        }
        // Edits belong to their user (see the module docs): every id the update adds structs
        // under is this user's, or nobody's yet and bound to this user once it applied.
        let mut unbound = vec![];
        for &(id, _, end) in &shape.runs {
            if end <= sv.get(&yrs::ClientID::new(id)) {
                continue; // only structs the document has: nothing new under this id
            }
            if !self.may_use(id, &conn.user)? {
                return Err(Error::ClientIdTaken { client: id });
            }
            if self.owner(id)?.is_none() {
                unbound.push(id);
            }
        }
        let incoming = bytes.len() as u64;
        if self.store.size_bound() + self.queue.unstored_bytes + incoming > MAX_DOC_BYTES {
            // The bound may be loose; compaction measures the real size.
            self.persist()?;
            self.store.compact(&self.doc)?;
            let size = self.store.size_bound() + incoming;
            if size > MAX_DOC_BYTES {
                return Err(Error::DocumentTooLarge {
                    size,
                    max: MAX_DOC_BYTES,
                });
            }
        }
        let applied = {
            let mut txn = self
                .doc
                .try_transact_mut()
                .map_err(|e| Error::Internal(format!("document busy: {e}")))?;
            shape.check_nesting(&txn)?;
            txn.apply_update(update).map(|()| {
                let store = txn.store();
                let pending = store.pending_update().is_some() || store.pending_ds().is_some();
                let changed = !txn.insert_set().is_empty() || !txn.delete_set().is_empty();
                (pending, changed)
            })
        };
        // Refused: yrs may have integrated part of the update before refusing it, so go back
        // to what storage holds, which never saw it.
        //
        // An update that depends on changes the document does not have stays "pending" in
        // yrs. Every client's edits reach the server before anyone can build on them, so no
        // honest client sends one; and yrs 0.28 can panic encoding a document with pending
        // crafted content (`merge_pending_v1` unwraps; found by `make fuzz`), which in wasm
        // would kill every document of the isolate. So it is refused like a malformed one.
        let refused = match applied {
            Err(e) => Some(format!("update refused: {e}")),
            Ok((true, _)) => Some("update depends on changes this document does not have".into()),
            Ok((false, changed)) => {
                if !changed {
                    // Nothing new (a reconnect's SyncStep2 repeating a delete set): the
                    // document is as stored, so there is nothing to store or relay.
                    return Ok(false);
                }
                None
            }
        };
        if let Some(why) = refused {
            // What is queued was applied before, and is kept: stored, then loaded again.
            self.store_queued(false)?;
            self.doc = self.store.reload(fresh_client_id())?;
            return Err(Error::Malformed(why));
        }
        // Stored now, before the update is (at the next flush): a crash between the two leaves
        // an id bound that holds nothing, never structs under an id nobody owns.
        for id in unbound {
            self.bind(id, &conn.user)?;
        }
        self.queue.unstored_bytes += incoming;
        self.queue.updates.push(bytes);
        self.queue.update_senders.add(conn.key);
        Ok(true)
    }
}

/// Why [`follows`] refused an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gap {
    /// A client's clocks are not one run.
    Hole,
    /// A client's run starts beyond what the document has of it.
    Missing,
}

impl From<Gap> for Error {
    fn from(gap: Gap) -> Self {
        Error::Malformed(match gap {
            Gap::Hole => "update has gaps in a client's clocks".into(),
            Gap::Missing => "update depends on changes this document does not have".into(),
        })
    }
}

/// Refuses, before yrs sees it, an update whose structs leave a gap: per client, what it
/// inserts must be one run of clocks that starts within what the document already has.
/// Stock clients never send anything else (they send what they made, in order, and the
/// server has everything they built on); gaps are how crafted updates reach yrs 0.28's
/// "skip" handling, which can panic (`BlockStore::push` unwraps; found by `make fuzz`).
fn follows(update: &Update, sv: &StateVector) -> Result<(), Gap> {
    for (client, ranges) in update.insertions(true).iter() {
        let mut runs = ranges.iter();
        let (Some(run), None) = (runs.next(), runs.next()) else {
            return Err(Gap::Hole);
        };
        if run.start > sv.get(client) {
            return Err(Gap::Missing);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::BUDGET_BYTE_BURST;
    use crate::testing::{Fault, MemoryStorage};
    use yrs::{GetString, Map, MapPrelim, Text, TextPrelim};

    fn text_edit(client: u64, s: &str) -> Vec<u8> {
        let doc = Doc::with_client_id(client);
        let text = doc.get_or_insert_text("t");
        let mut txn = doc.transact_mut();
        text.insert(&mut txn, 0, s);
        txn.encode_update_v1()
    }

    fn user(name: &str) -> Conn {
        Conn {
            user: name.into(),
            ..Conn::default()
        }
    }

    fn text(room: &Room<MemoryStorage>) -> String {
        room.doc()
            .get_or_insert_text("t")
            .get_string(&room.doc().transact())
    }

    fn open() -> (Room<MemoryStorage>, MemoryStorage) {
        let storage = MemoryStorage::new();
        (Room::open(storage.clone()).unwrap(), storage)
    }

    /// Flushes `room`, returning the one frame it relays, if any.
    fn relayed(room: &mut Room<MemoryStorage>) -> Option<Vec<u8>> {
        let mut frames = room.flush().unwrap().frames;
        assert!(frames.len() <= 1, "one frame at most: {frames:?}");
        frames.pop().map(|(frame, _)| frame)
    }

    #[test]
    fn greeting_starts_the_sync_handshake() {
        let (room, _) = open();
        let frames = room.greeting().unwrap();
        assert_eq!(frames.len(), 1);
        assert!(matches!(
            protocol::decode(&frames[0]).unwrap(),
            Incoming::SyncStep1(_)
        ));
    }

    #[test]
    fn an_update_is_stored_then_relayed_once_as_an_update() {
        let (mut room, storage) = open();
        let edit = text_edit(5, "hello");
        let out = room
            .receive(&mut Conn::default(), &protocol::sync_step2(edit.clone()))
            .unwrap();
        assert!(out.queued && out.edited && out.reply.is_empty());
        assert_eq!(storage.log_len(), 0, "stored with the flush that relays it");
        assert_eq!(relayed(&mut room), Some(protocol::update(edit)));
        assert_eq!(storage.log_len(), 1);
        assert_eq!(text(&room), "hello");
        // A fresh load sees it.
        assert_eq!(text(&Room::open(storage).unwrap()), "hello");
    }

    #[test]
    fn a_viewer_reads_but_its_edits_are_never_applied_stored_or_relayed() {
        let (mut room, storage) = open();
        room.receive(
            &mut Conn::default(),
            &protocol::update(text_edit(5, "draft")),
        )
        .unwrap();
        room.flush().unwrap();
        let writes = storage.writes();
        let mut viewer = Conn {
            read_only: true,
            ..Conn::default()
        };
        // It syncs like anyone: its SyncStep1 is answered with the document.
        let out = room
            .receive(&mut viewer, &protocol::sync_step1(StateVector::default()))
            .unwrap();
        assert_eq!(out.reply.len(), 1);
        // Its SyncStep2 (stock clients always send one) is ignored, content and all.
        let out = room
            .receive(&mut viewer, &protocol::sync_step2(text_edit(6, "evil")))
            .unwrap();
        assert_eq!(out, Outcome::default());
        // An update is refused (close 4003).
        let err = room
            .receive(&mut viewer, &protocol::update(text_edit(7, "evil")))
            .unwrap_err();
        assert_eq!((err, Error::ReadOnly.close_code()), (Error::ReadOnly, 4003));
        assert_eq!(storage.writes(), writes, "nothing stored");
        assert_eq!(text(&room), "draft");
        assert_eq!(text(&Room::open(storage).unwrap()), "draft");
        // Its own awareness still flows (a viewer is present, with a caret nowhere).
        let entry = AwarenessEntry {
            client: 9,
            clock: 1,
            json: "{}".into(),
        };
        let out = room
            .receive(&mut viewer, &protocol::awareness(&[entry]))
            .unwrap();
        assert!(out.queued);
        assert!(relayed(&mut room).is_some());
    }

    #[test]
    fn an_expired_connection_is_refused_before_anything_is_read() {
        let (mut room, _) = open();
        let conn = Conn {
            expires_ms: Some(1_000),
            ..Conn::default()
        };
        assert_eq!(room.spend(&conn, 10, 999), Ok(()));
        assert_eq!(room.spend(&conn, 10, 1_000), Err(Error::TokenExpired));
        assert_eq!(Error::TokenExpired.close_code(), 4001);
    }

    #[test]
    fn sync_step1_is_answered_with_what_the_client_lacks() {
        let (mut room, _) = open();
        room.receive(&mut Conn::default(), &protocol::update(text_edit(5, "abc")))
            .unwrap();
        let out = room
            .receive(
                &mut Conn::default(),
                &protocol::sync_step1(StateVector::default()),
            )
            .unwrap();
        let Incoming::SyncStep2(diff) = protocol::decode(&out.reply[0]).unwrap() else {
            panic!("expected SyncStep2")
        };
        let client = Doc::with_client_id(9);
        client
            .transact_mut()
            .apply_update(Update::decode_v1(&diff).unwrap())
            .unwrap();
        assert_eq!(
            client
                .get_or_insert_text("t")
                .get_string(&client.transact()),
            "abc"
        );
        assert!(!out.queued);
    }

    #[test]
    fn empty_updates_are_neither_stored_nor_relayed() {
        let (mut room, storage) = open();
        let empty = Doc::new()
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let mut conn = Conn::default();
        let out = room
            .receive(&mut conn, &protocol::sync_step2(empty))
            .unwrap();
        assert_eq!((out.queued, out.edited), (false, false));
        assert_eq!(relayed(&mut room), None);
        assert!(conn.synced, "the client answered our SyncStep1");
        assert_eq!(storage.writes(), 0);
    }

    #[test]
    fn awareness_is_relayed_owned_by_its_connection_and_removed_on_disconnect() {
        let (mut room, _) = open();
        let mut conn = Conn::default();
        let hello = AwarenessEntry {
            client: 77,
            clock: 4,
            json: r#"{"user":"Ada"}"#.into(),
        };
        let frame = protocol::awareness([&hello]);
        let out = room.receive(&mut conn, &frame).unwrap();
        assert_eq!(relayed(&mut room).as_deref(), Some(frame.as_slice()));
        assert!(out.conn_changed);
        assert_eq!(conn.clients.get(&77), Some(&4));

        // New connections and queries get the known states.
        assert_eq!(room.greeting().unwrap().len(), 2);
        let out = room
            .receive(&mut Conn::default(), &[protocol::MSG_QUERY_AWARENESS as u8])
            .unwrap();
        assert_eq!(
            protocol::decode(&out.reply[0]).unwrap(),
            Incoming::Awareness(vec![hello])
        );

        // The connection state survives a round trip through the socket attachment (JSON).
        let mut conn: Conn = serde_json::from_str(&serde_json::to_string(&conn).unwrap()).unwrap();
        let gone = room.disconnect(&mut conn).unwrap();
        let expected = AwarenessEntry {
            client: 77,
            clock: 5,
            json: "null".into(),
        };
        assert_eq!(
            protocol::decode(&gone).unwrap(),
            Incoming::Awareness(vec![expected])
        );
        assert!(conn.clients.is_empty());
        assert_eq!(room.disconnect(&mut conn), None, "removal is sent once");
        assert_eq!(room.greeting().unwrap().len(), 1);
    }

    #[test]
    fn a_connection_speaks_only_for_its_own_client_id() {
        let (mut room, _) = open();
        let (mut ada, mut eve) = (user("ada"), user("eve"));
        let ada_state = AwarenessEntry {
            client: 1,
            clock: 1,
            json: r#"{"user":"Ada"}"#.into(),
        };
        room.receive(&mut ada, &protocol::awareness([&ada_state]))
            .unwrap();
        assert_eq!(ada.own, Some(1));
        room.flush().unwrap();

        // Eve first claims her own id, then tries to speak for Ada and to remove her.
        let eve_state = AwarenessEntry {
            client: 2,
            clock: 1,
            json: "{}".into(),
        };
        room.receive(&mut eve, &protocol::awareness([&eve_state]))
            .unwrap();
        room.flush().unwrap();
        let spoof = AwarenessEntry {
            client: 1,
            clock: 9,
            json: r#"{"user":"Mallory"}"#.into(),
        };
        let remove = AwarenessEntry {
            client: 1,
            clock: 10,
            json: "null".into(),
        };
        for frame in [
            protocol::awareness([&spoof]),
            protocol::awareness([&remove]),
        ] {
            room.receive(&mut eve, &frame).unwrap();
            assert_eq!(relayed(&mut room), None, "nothing relayed");
        }
        // Mixed: only Eve's own entry is relayed, re-encoded.
        let mixed = protocol::awareness([&spoof, &eve_state]);
        room.receive(&mut eve, &mixed).unwrap();
        assert_eq!(
            protocol::decode(&relayed(&mut room).unwrap()).unwrap(),
            Incoming::Awareness(vec![eve_state])
        );
        let out = room
            .receive(&mut Conn::default(), &[protocol::MSG_QUERY_AWARENESS as u8])
            .unwrap();
        let Incoming::Awareness(states) = protocol::decode(&out.reply[0]).unwrap() else {
            panic!()
        };
        assert!(
            states
                .iter()
                .any(|e| e.client == 1 && e.json.contains("Ada")),
            "Ada's state intact"
        );

        // A newcomer cannot claim an id another connection holds, even as its first message.
        let mut late = user("late");
        room.receive(&mut late, &protocol::awareness([&spoof]))
            .unwrap();
        assert_eq!(relayed(&mut room), None);
        assert_eq!(late.own, None);
        // Once Ada leaves, her id is still hers: nobody else may take it, her reconnecting
        // client takes it back.
        room.disconnect(&mut ada);
        let back = AwarenessEntry {
            client: 1,
            clock: 11,
            json: "{}".into(),
        };
        room.receive(&mut late, &protocol::awareness([&back]))
            .unwrap();
        assert_eq!(relayed(&mut room), None);
        assert_eq!(late.own, None);
        let mut ada = user("ada");
        room.receive(&mut ada, &protocol::awareness([&back]))
            .unwrap();
        assert!(relayed(&mut room).is_some());
        assert_eq!(ada.own, Some(1));
    }

    #[test]
    fn a_refused_sync_step2_is_final_because_it_would_come_again() {
        let (mut room, storage) = open();
        let mut refused = protocol::sync_step2(text_edit(5, "x"));
        let last = refused.len() - 1;
        refused[last] = 7; // a delete set that does not parse
        let err = room.receive(&mut Conn::default(), &refused).unwrap_err();
        assert_eq!(err.close_code(), 4422, "{err}");
        assert!(err.is_repeatable_refusal());
        // The same bytes as a live update are an ordinary 1007.
        let mut live = protocol::update(text_edit(5, "x"));
        let last = live.len() - 1;
        live[last] = 7;
        let err = room.receive(&mut Conn::default(), &live).unwrap_err();
        assert_eq!(err.close_code(), 1007, "{err}");
        assert_eq!(storage.writes(), 0);
    }

    #[test]
    fn replies_are_charged_to_the_sender() {
        let (mut room, _) = open();
        let chunk = "y".repeat(500_000);
        room.receive(
            &mut Conn::default(),
            &protocol::update(text_edit(3, &chunk)),
        )
        .unwrap();
        let mut viewer = Conn {
            key: 7,
            read_only: true,
            ..Conn::default()
        };
        let ask = protocol::sync_step1(StateVector::default());
        let mut sent = 0;
        let refused = loop {
            if let Err(e) = room.spend(&viewer, ask.len(), 0) {
                break e;
            }
            match room.receive(&mut viewer, &ask) {
                Ok(out) => sent += out.reply.iter().map(Vec::len).sum::<usize>(),
                Err(e) => break e,
            }
        };
        assert_eq!(refused.close_code(), 4008);
        // The byte burst, plus at most the one reply that put the budget in debt.
        assert!(sent >= BUDGET_BYTE_BURST as usize, "{sent}");
        assert!(sent <= BUDGET_BYTE_BURST as usize + 600_000, "{sent}");
    }

    #[test]
    fn each_connection_has_its_own_budget() {
        let (mut room, _) = open();
        let flood = Conn {
            key: 1,
            ..Conn::default()
        };
        let calm = Conn {
            key: 2,
            ..Conn::default()
        };
        while room.spend(&flood, 1, 0).is_ok() {}
        room.spend(&calm, 1, 0).unwrap();
        let mut flood = flood;
        room.disconnect(&mut flood);
        room.spend(&flood, 1, 0).unwrap(); // a new connection with that key starts afresh
    }

    #[test]
    fn claims_survive_a_reload_through_adopt() {
        let (mut room, storage) = open();
        let mut ada = user("ada");
        let a = AwarenessEntry {
            client: 1,
            clock: 1,
            json: "{}".into(),
        };
        room.receive(&mut ada, &protocol::awareness([&a])).unwrap();
        let saved: Conn = serde_json::from_str(&serde_json::to_string(&ada).unwrap()).unwrap();
        let mut woken = Room::open(storage).unwrap(); // hibernation: memory gone
        woken.adopt(&saved);
        let spoof = AwarenessEntry {
            client: 1,
            clock: 5,
            json: "{}".into(),
        };
        woken
            .receive(&mut user("mallory"), &protocol::awareness([&spoof]))
            .unwrap();
        assert_eq!(relayed(&mut woken), None);
    }

    #[test]
    fn edits_belong_to_their_connection_but_a_user_may_take_its_id_back() {
        let (mut room, storage) = open();
        let hello = |client| AwarenessEntry {
            client,
            clock: 1,
            json: "{}".into(),
        };
        let mut ada = user("ada");
        room.receive(&mut ada, &protocol::awareness([&hello(5)]))
            .unwrap();
        room.receive(&mut ada, &protocol::update(text_edit(5, "a")))
            .unwrap();
        room.flush().unwrap();
        // Eve writes as Ada's client id: refused, nothing stored.
        let writes = storage.writes();
        let forged = {
            let doc = Doc::with_client_id(5);
            let state = room.encode_state().unwrap();
            doc.transact_mut()
                .apply_update(Update::decode_v1(&state).unwrap())
                .unwrap();
            let t = doc.get_or_insert_text("t");
            let sv = doc.transact().state_vector();
            t.insert(&mut doc.transact_mut(), 1, "EVIL");
            let update = doc.transact().encode_state_as_update_v1(&sv);
            update
        };
        let err = room
            .receive(&mut user("eve"), &protocol::update(forged.clone()))
            .unwrap_err();
        assert_eq!(err, Error::ClientIdTaken { client: 5 });
        assert_eq!(err.close_code(), 4409);
        assert!(err.to_string().contains("another user"), "{err}");
        assert_eq!(storage.writes(), writes);
        // Ada reconnecting while her old socket lingers (a network drop) is Ada: she may.
        let mut again = user("ada");
        room.receive(&mut again, &protocol::awareness([&hello(5)]))
            .unwrap();
        assert!(relayed(&mut room).is_some());
        room.receive(&mut again, &protocol::update(forged)).unwrap();
        assert_eq!(text(&room), "aEVIL");
    }

    /// What `client` of a copy of `room`'s document would send after typing `s` at its end.
    fn forge(room: &Room<MemoryStorage>, client: u64, s: &str) -> Vec<u8> {
        let doc = Doc::with_client_id(client);
        let state = room.encode_state().unwrap();
        doc.transact_mut()
            .apply_update(Update::decode_v1(&state).unwrap())
            .unwrap();
        let t = doc.get_or_insert_text("t");
        let sv = doc.transact().state_vector();
        let len = t.len(&doc.transact());
        t.insert(&mut doc.transact_mut(), len, s);
        let update = doc.transact().encode_state_as_update_v1(&sv);
        update
    }

    /// The issue's attack: the victim writes under id 7 with update frames only (no awareness,
    /// no SyncStep1); another user's update under id 7 at the next clocks is refused, whether
    /// the victim is connected or not, and after the room is loaded again (a restart or a
    /// hibernation: the binding is in storage, not in memory).
    #[test]
    fn a_client_id_belongs_to_the_user_who_wrote_with_it_first() {
        let (mut room, storage) = open();
        let mut victim = user("victim");
        room.receive(&mut victim, &protocol::update(text_edit(7, "hello")))
            .unwrap();
        room.flush().unwrap();
        let evil = forge(&room, 7, "!!EVIL!!");
        let check_refused = |room: &mut Room<MemoryStorage>| {
            let writes = storage.writes();
            let before = room.encode_state().unwrap();
            for frame in [
                protocol::update(evil.clone()),
                protocol::sync_step2(evil.clone()),
            ] {
                let err = room.receive(&mut user("mallory"), &frame).unwrap_err();
                assert_eq!(err, Error::ClientIdTaken { client: 7 });
                assert!(err.is_repeatable_refusal());
            }
            assert_eq!(room.encode_state().unwrap(), before, "document unchanged");
            assert_eq!(storage.writes(), writes, "nothing stored");
            assert!(!room.has_queued(), "nothing to relay");
        };
        check_refused(&mut room); // the victim connected
        room.disconnect(&mut victim);
        check_refused(&mut room); // the victim gone
        let mut room = Room::open(storage.clone()).unwrap();
        check_refused(&mut room); // a restart or a wake from hibernation

        // The victim types on (its own next clocks), from a new connection or a second tab.
        let own = forge(&room, 7, " world");
        room.receive(&mut user("victim"), &protocol::update(own))
            .unwrap();
        room.flush().unwrap();
        assert_eq!(text(&room), "hello world");
        // Mallory under an id of its own is fine, and that id is Mallory's from then on.
        let mine = forge(&room, 8, "!");
        room.receive(&mut user("mallory"), &protocol::update(mine))
            .unwrap();
        let back = forge(&room, 8, "?");
        assert_eq!(
            room.receive(&mut user("victim"), &protocol::update(back)),
            Err(Error::ClientIdTaken { client: 8 })
        );
    }

    #[test]
    fn structs_the_document_has_are_no_claim_on_their_id() {
        let (mut room, _) = open();
        room.receive(&mut user("ada"), &protocol::update(text_edit(7, "hello")))
            .unwrap();
        // Another editor sends the whole document back (as some clients' SyncStep2 does),
        // plus an edit of its own: Ada's structs in it add nothing, so they are no claim.
        let whole = forge(&room, 9, "!");
        let whole = {
            let doc = Doc::new();
            doc.transact_mut()
                .apply_update(Update::decode_v1(&room.encode_state().unwrap()).unwrap())
                .unwrap();
            doc.transact_mut()
                .apply_update(Update::decode_v1(&whole).unwrap())
                .unwrap();
            let all = doc
                .transact()
                .encode_state_as_update_v1(&StateVector::default());
            all
        };
        room.receive(&mut user("bob"), &protocol::sync_step2(whole))
            .unwrap();
        assert_eq!(text(&room), "hello!");
    }

    #[test]
    fn an_announced_id_is_bound_before_its_owner_writes() {
        let (mut room, storage) = open();
        let hello = AwarenessEntry {
            client: 7,
            clock: 1,
            json: "{}".into(),
        };
        let mut ada = user("ada");
        room.receive(&mut ada, &protocol::awareness([&hello]))
            .unwrap();
        // Ada drops offline before typing; the id stays hers, across a reload too.
        room.disconnect(&mut ada);
        let mut room = Room::open(storage).unwrap();
        assert_eq!(
            room.receive(&mut user("eve"), &protocol::update(text_edit(7, "x"))),
            Err(Error::ClientIdTaken { client: 7 })
        );
        // Nor can Eve announce it as hers (her presence under Ada's id is dropped).
        room.receive(&mut user("eve"), &protocol::awareness([&hello]))
            .unwrap();
        assert_eq!(relayed(&mut room), None);
        room.receive(&mut user("ada"), &protocol::update(text_edit(7, "x")))
            .unwrap();
        assert_eq!(text(&room), "x");
    }

    #[test]
    fn the_server_writes_under_its_own_id_which_no_user_can_take() {
        let (mut room, storage) = open();
        room.edit(|doc| {
            let t = doc.get_or_insert_text("t");
            let mut txn = doc.transact_mut();
            t.insert(&mut txn, 0, "server");
            Ok(txn.encode_update_v1())
        })
        .unwrap();
        let server = room.doc().client_id().get();
        assert_eq!(storage.owner(server).unwrap().as_deref(), Some(SERVER_USER));
        let forged = forge(&room, server, "!");
        assert_eq!(
            room.receive(&mut user("mallory"), &protocol::update(forged)),
            Err(Error::ClientIdTaken { client: server })
        );
        // A load brings a fresh id for the server's next edits, distinct from every user's.
        let reloaded = Room::open(storage).unwrap();
        assert_ne!(reloaded.doc().client_id().get(), server);
    }

    #[test]
    fn a_failed_binding_stores_nothing_of_the_update() {
        let (mut room, storage) = open();
        storage.fail_write(0, Fault::NotWritten);
        let err = room
            .receive(&mut user("ada"), &protocol::update(text_edit(7, "lost")))
            .unwrap_err();
        assert!(matches!(err, Error::Storage(_)), "{err}");
        // The edge drops the room; loaded again, the document and the id are as before.
        let mut room = Room::open(storage.clone()).unwrap();
        assert_eq!(text(&room), "");
        assert_eq!(storage.owner(7).unwrap(), None);
        room.receive(&mut user("ada"), &protocol::update(text_edit(7, "kept")))
            .unwrap();
        assert_eq!(text(&room), "kept");
    }

    #[test]
    fn a_client_removing_its_own_state_gives_up_ownership() {
        let (mut room, _) = open();
        let mut conn = Conn::default();
        let on = AwarenessEntry {
            client: 3,
            clock: 1,
            json: "{}".into(),
        };
        room.receive(&mut conn, &protocol::awareness([&on]))
            .unwrap();
        let off = AwarenessEntry {
            client: 3,
            clock: 2,
            json: "null".into(),
        };
        room.receive(&mut conn, &protocol::awareness([&off]))
            .unwrap();
        assert!(conn.clients.is_empty());
        assert_eq!(room.disconnect(&mut conn), None);
    }

    #[test]
    fn bad_frames_are_refused_and_change_nothing() {
        let (mut room, storage) = open();
        room.receive(
            &mut Conn::default(),
            &protocol::update(text_edit(5, "keep")),
        )
        .unwrap();
        let before = room.encode_state().unwrap();
        let writes = storage.writes();
        let mut truncated = protocol::update(text_edit(6, "lost"));
        truncated.truncate(truncated.len() - 3);
        let garbage_update = protocol::update(vec![0xff; 40]);
        for frame in [truncated, garbage_update, vec![0, 2], vec![0x80]] {
            let err = room.receive(&mut Conn::default(), &frame).unwrap_err();
            assert_eq!(err.close_code(), 1007, "{frame:?}: {err}");
        }
        let huge = vec![0u8; MAX_FRAME_BYTES + 1];
        assert_eq!(
            room.receive(&mut Conn::default(), &huge)
                .unwrap_err()
                .close_code(),
            1009
        );
        assert_eq!(room.encode_state().unwrap(), before);
        assert_eq!(storage.writes(), writes);
        // And the room still works.
        room.receive(&mut Conn::default(), &protocol::update(text_edit(7, "!")))
            .unwrap();
    }

    #[test]
    fn an_update_yrs_refuses_leaves_the_document_as_stored() {
        // Client 2 edits a text nested under client 1's item (1,0). In this room, (1,0) is a
        // string, so yrs refuses the update with InvalidParent, possibly after integrating
        // some of it.
        let origin = Doc::with_client_id(1);
        let map = origin.get_or_insert_map("m");
        let nested = {
            let mut txn = origin.transact_mut();
            map.insert(&mut txn, "k", TextPrelim::new(""))
        };
        let editor = Doc::with_client_id(2);
        let sync = origin
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        editor
            .transact_mut()
            .apply_update(Update::decode_v1(&sync).unwrap())
            .unwrap();
        let hostile = {
            let inner: yrs::TextRef = editor
                .get_or_insert_map("m")
                .get(&editor.transact(), "k")
                .unwrap()
                .cast()
                .unwrap();
            let other = editor.get_or_insert_map("other");
            let mut txn = editor.transact_mut();
            other.insert(&mut txn, "x", MapPrelim::default());
            inner.insert(&mut txn, 0, "sneaky");
            txn.encode_update_v1()
        };
        let _ = nested;

        let (mut room, storage) = open();
        room.receive(&mut Conn::default(), &protocol::update(text_edit(1, "a")))
            .unwrap();
        let before = room.encode_state().unwrap();
        let err = room
            .receive(&mut Conn::default(), &protocol::update(hostile))
            .unwrap_err();
        assert!(
            matches!(&err, Error::Malformed(m) if m.contains("refused")),
            "{err}"
        );
        assert_eq!(err.close_code(), 1007);
        // "a" was queued, not yet flushed: it is stored before the document is reloaded, so
        // the refusal loses nothing (and it is still relayed).
        assert_eq!(storage.log_len(), 1);
        let state = room.encode_state().unwrap();
        let reloaded = Room::open(storage).unwrap();
        assert_eq!(text(&room), "a");
        assert_eq!(reloaded.encode_state().unwrap().len(), state.len());
        assert_eq!(before.len(), state.len());
        room.receive(&mut Conn::default(), &protocol::update(text_edit(8, "b")))
            .unwrap();
    }

    #[test]
    fn a_failure_in_the_batched_append_relays_nothing() {
        for fault in [Fault::NotWritten, Fault::Written] {
            let (mut room, storage) = open();
            for (client, s) in [(5, "x"), (6, "y"), (7, "z")] {
                room.receive(&mut user("ada"), &protocol::update(text_edit(client, s)))
                    .unwrap();
            }
            let writes = storage.writes();
            storage.fail_write(0, fault);
            let err = room.flush().unwrap_err();
            assert!(matches!(err, Error::Storage(_)));
            assert_eq!(err.close_code(), 1011);
            assert_eq!(
                storage.writes() - writes,
                1,
                "one append for the whole flush"
            );
            // The edge drops the room; a new one holds exactly what storage holds, all of
            // the flush or none of it.
            let again = Room::open(storage).unwrap();
            let expected = if fault == Fault::Written { 3 } else { 0 };
            assert_eq!(text(&again).len(), expected);
        }
    }

    #[test]
    fn a_flush_appends_once_then_relays_one_merged_update() {
        let (mut room, storage) = open();
        let (mut ada, mut bob) = (user("ada"), user("bob"));
        ada.key = 1;
        bob.key = 2;
        let edits = [text_edit(5, "a"), text_edit(6, "b"), text_edit(7, "c")];
        for (i, edit) in edits.iter().enumerate() {
            let conn = if i == 1 { &mut bob } else { &mut ada };
            let out = room.receive(conn, &protocol::update(edit.clone())).unwrap();
            assert!(out.queued && out.edited);
        }
        assert_eq!(storage.log_len(), 0, "no update stored before the flush");
        assert_eq!(storage.writes(), 3, "one binding per new client id");
        let flush = room.flush().unwrap();
        assert_eq!(storage.log_len(), 1, "one row for the flush");
        // One frame, for everyone (two senders: each gets its own back, which Yjs ignores).
        let [(frame, None)] = flush.frames.as_slice() else {
            panic!("{:?}", flush.frames)
        };
        let Incoming::Update(merged) = protocol::decode(frame).unwrap() else {
            panic!()
        };
        let peer = Doc::with_client_id(9);
        peer.transact_mut()
            .apply_update(Update::decode_v1(&merged).unwrap())
            .unwrap();
        let t = peer.get_or_insert_text("t");
        assert_eq!(t.get_string(&peer.transact()), text(&room));
        assert_eq!(text(&Room::open(storage.clone()).unwrap()), text(&room));
        // A flush of one sender's update skips that sender; an empty flush sends nothing.
        room.receive(&mut ada, &protocol::update(text_edit(8, "d")))
            .unwrap();
        assert_eq!(room.flush().unwrap().frames[0].1, Some(1));
        assert_eq!(room.flush().unwrap(), Flush::default());
        assert_eq!(storage.log_len(), 2);
    }

    #[test]
    fn a_sync_reply_stores_the_queue_first() {
        let (mut room, storage) = open();
        room.receive(&mut user("ada"), &protocol::update(text_edit(5, "a")))
            .unwrap();
        let out = room
            .receive(
                &mut user("bob"),
                &protocol::sync_step1(StateVector::default()),
            )
            .unwrap();
        assert_eq!(out.reply.len(), 1);
        assert_eq!(storage.log_len(), 1, "stored before the reply carried it");
        // Still relayed to the others at the flush, not stored twice.
        assert!(relayed(&mut room).is_some());
        assert_eq!(storage.log_len(), 1);
    }

    #[test]
    fn the_document_cap_refuses_growth_past_the_limit() {
        let (mut room, _) = open();
        let chunk = "y".repeat(MAX_FRAME_BYTES - 64);
        let mut refused = None;
        for i in 0..(MAX_DOC_BYTES as usize / chunk.len() + 2) {
            let edit = text_edit(100 + i as u64, &chunk);
            if let Err(e) = room.receive(&mut Conn::default(), &protocol::update(edit)) {
                refused = Some((i, e));
                break;
            }
        }
        let (i, err) = refused.expect("the cap was never hit");
        assert!(matches!(err, Error::DocumentTooLarge { .. }), "{err}");
        assert_eq!(err.close_code(), 1009);
        assert_eq!(i, MAX_DOC_BYTES as usize / chunk.len());
        assert!(room.encode_state().unwrap().len() as u64 <= MAX_DOC_BYTES);
        // Small edits still fit while there is room.
        room.receive(&mut Conn::default(), &protocol::update(text_edit(1, "z")))
            .unwrap();
    }

    #[test]
    fn a_server_edit_is_stored_then_relayed_to_everyone() {
        let (mut room, storage) = open();
        let mut ada = user("ada");
        room.receive(&mut ada, &protocol::sync_step1(StateVector::default()))
            .unwrap();
        room.edit(|doc| {
            let title = doc.get_or_insert_text("t");
            let mut txn = doc.transact_mut();
            title.insert(&mut txn, 0, "restored");
            Ok(txn.encode_update_v1())
        })
        .unwrap();
        assert_eq!(storage.log_len(), 1, "stored before it is relayed");
        let flush = room.flush().unwrap();
        assert_eq!(flush.frames.len(), 1);
        assert_eq!(
            flush.frames[0].1, None,
            "to every connection, the editor's too"
        );
        assert_eq!(text(&room), "restored");
    }
}
