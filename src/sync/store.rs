//! Persistence of one document: a chunked snapshot plus an update log, behind [`Storage`].
//!
//! # Rules
//! 1. **Append before relay.** An update is appended to the log before any message about it,
//!    or any state that includes it, leaves the object, in the same turn as that message. (On
//!    Cloudflare the object's output gate then holds outgoing messages until the write is
//!    durable.) The room applies updates as they arrive and appends them when it flushes:
//!    the updates of one flush as one row, merged (see `room`'s "Coalescing"). An update that
//!    fails to apply is never appended.
//! 2. **Load = snapshot + tail.** The head record names the snapshot generation and the last
//!    log sequence number it covers; loading applies the snapshot, then every log entry after
//!    it, in order.
//! 3. **Compaction has one commit point.** The new snapshot is written as generation `g + 1`
//!    (chunks of at most [`MAX_CHUNK_BYTES`], CRC-32 over the whole), then the head is switched
//!    in a single write, then the old generation and the covered log entries are deleted. A
//!    failure before the switch leaves the old state; after it, the new one. Both hold the same
//!    document. Leftovers of an interrupted compaction are ignored on load and removed by the
//!    next compaction.
//! 4. **Any storage error poisons the store.** The caller must drop its in-memory document and
//!    load again: after an error we cannot know whether the write happened, only storage can.
//! 5. The server's own Yrs client id is fresh and random on every load (see
//!    [`fresh_client_id`]), so two incarnations of an object never reuse one.

use serde::{Deserialize, Serialize};
use yrs::updates::decoder::Decode;
use yrs::{ClientID, Doc, Options, ReadTxn, StateVector, Transact, Update};

use crate::error::{Error, Result, StorageError};
use crate::limits::{
    COMPACT_LOG_SHARE, COMPACT_MAX_LOG_BYTES, COMPACT_MIN_UPDATES, MAX_CHUNK_BYTES, MAX_CLIENT_ID,
};

/// The record that says which snapshot is current. Generation 0 means "no snapshot yet".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub generation: u64,
    pub chunks: u32,
    pub bytes: u64,
    pub checksum: u32,
    /// Log entries with a sequence number up to and including this one are in the snapshot.
    pub log_through: u64,
}

/// A document's stored data, raw and unchecked: what an operator takes away to salvage a
/// document that no longer loads. The snapshot is the head generation's chunks joined (a Yjs
/// v1 update, unless damaged); the log's updates apply on top of it in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    pub head: Option<Head>,
    pub snapshot: Vec<u8>,
    pub log: Vec<(u64, Vec<u8>)>,
}

impl Export {
    /// Reads everything, without decoding any of it.
    ///
    /// # Errors
    /// [`StorageError`] if the storage cannot be read.
    pub fn read(storage: &impl Storage) -> std::result::Result<Export, StorageError> {
        let head = storage.head()?;
        let snapshot = match &head {
            Some(h) => storage
                .chunks(h.generation)?
                .into_iter()
                .flat_map(|(_, bytes)| bytes)
                .collect(),
            None => vec![],
        };
        Ok(Export {
            head,
            snapshot,
            log: storage.log_after(0)?,
        })
    }

    /// As JSON, bytes in standard base64: `{head, snapshot, log: [{seq, update}]}`.
    pub fn to_json(&self) -> serde_json::Value {
        use base64::Engine;
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        serde_json::json!({
            "format": "folio-export-1",
            "head": self.head,
            "snapshot": b64(&self.snapshot),
            "snapshot_crc32": crc32fast::hash(&self.snapshot),
            "log": self.log.iter().map(|(seq, u)| serde_json::json!({ "seq": seq, "update": b64(u) })).collect::<Vec<_>>(),
        })
    }
}

/// The storage a document's object provides: SQLite tables on Cloudflare, memory in tests.
/// Every method is one storage operation, atomic on its own.
pub trait Storage {
    /// The current head record, if a snapshot was ever written.
    fn head(&self) -> Result<Option<Head>, StorageError>;
    /// Replaces the head record (the commit point of a compaction).
    fn put_head(&mut self, head: &Head) -> Result<(), StorageError>;
    /// The chunks of a generation as `(index, bytes)`, in index order.
    fn chunks(&self, generation: u64) -> Result<Vec<(u32, Vec<u8>)>, StorageError>;
    /// Writes (or overwrites) one chunk.
    fn put_chunk(&mut self, generation: u64, index: u32, bytes: &[u8]) -> Result<(), StorageError>;
    /// Deletes every chunk not of `generation`.
    fn delete_chunks_except(&mut self, generation: u64) -> Result<(), StorageError>;
    /// The log entries with a sequence number above `seq`, in order.
    fn log_after(&self, seq: u64) -> Result<Vec<(u64, Vec<u8>)>, StorageError>;
    /// Appends one update under `seq`.
    fn append(&mut self, seq: u64, update: &[u8]) -> Result<(), StorageError>;
    /// Deletes the log entries with a sequence number up to and including `seq`.
    fn delete_log_through(&mut self, seq: u64) -> Result<(), StorageError>;
    /// The user a Yjs client id belongs to, if it was ever bound (see [`Store::bind`]).
    fn owner(&self, client: u64) -> Result<Option<String>, StorageError>;
    /// Binds a client id to `user`; a binding, once written, is never replaced.
    fn bind(&mut self, client: u64, user: &str) -> Result<(), StorageError>;
}

/// A fresh random 53-bit Yrs client id (never 0), from the platform's CSPRNG.
pub fn fresh_client_id() -> u64 {
    // getrandom only fails where no entropy source exists; fall back to yrs' own generator.
    match getrandom::u64() {
        Ok(r) => (r & MAX_CLIENT_ID).max(1),
        Err(_) => ClientID::random().get().max(1),
    }
}

/// Applies one stored update (`what` names it in errors) to a fresh document, in its own
/// transaction, as it was applied live.
fn apply_stored(doc: &Doc, what: &str, bytes: &[u8]) -> Result<()> {
    let update = Update::decode_v1(bytes)
        .map_err(|e| Error::Corrupt(format!("{what} does not decode: {e}")))?;
    doc.try_transact_mut()
        .map_err(|e| Error::Internal(format!("fresh document busy: {e}")))?
        .apply_update(update)
        .map_err(|e| Error::Corrupt(format!("{what} does not apply: {e}")))
}

/// A document's persistence state over a [`Storage`].
pub struct Store<S> {
    storage: S,
    head: Head,
    next_seq: u64,
    log_count: u64,
    log_bytes: u64,
    poisoned: bool,
    /// After a compaction failed its self-check, the log count it waits for before trying
    /// again (so a persistent failure costs one re-encoding per [`COMPACT_MIN_UPDATES`]
    /// updates, not one per update), and why it failed (for operators).
    retry_compaction_at: u64,
    compaction_error: Option<String>,
}

impl<S: Storage> Store<S> {
    /// Loads the document from `storage` into a new [`Doc`] with Yrs client id `client_id`.
    ///
    /// # Errors
    /// [`Error::Storage`] if a read fails; [`Error::Corrupt`] if a chunk is missing, the
    /// checksum or length does not match, or a stored update does not apply.
    pub fn open(storage: S, client_id: u64) -> Result<(Self, Doc)> {
        let mut store = Store {
            storage,
            head: Head::default(),
            next_seq: 1,
            log_count: 0,
            log_bytes: 0,
            poisoned: false,
            retry_compaction_at: 0,
            compaction_error: None,
        };
        let doc = store.load(client_id)?;
        Ok((store, doc))
    }

    /// Reads everything again into a new [`Doc`]; clears the poisoned state on success.
    ///
    /// # Errors
    /// As [`Store::open`].
    pub fn reload(&mut self, client_id: u64) -> Result<Doc> {
        self.poisoned = true;
        let doc = self.load(client_id)?;
        self.poisoned = false;
        Ok(doc)
    }

    fn load(&mut self, client_id: u64) -> Result<Doc> {
        let head = self.storage.head()?.unwrap_or_default();
        let snapshot = if head.generation > 0 {
            Some(self.read_snapshot(&head)?)
        } else {
            None
        };
        let log = self.storage.log_after(head.log_through)?;

        let doc = Doc::with_options(Options::with_client_id(ClientID::new(
            client_id & MAX_CLIENT_ID,
        )));
        // One transaction per stored update, exactly as each was applied live: yrs settles
        // deletions when a transaction commits, so replaying a log inside one transaction
        // can refuse an update that applied live (found by `make fuzz`).
        let updates = snapshot.iter().map(|s| (0, s.as_slice()));
        for (seq, bytes) in updates.chain(log.iter().map(|(s, b)| (*s, b.as_slice()))) {
            apply_stored(&doc, &format!("update {seq}"), bytes)?;
        }

        self.next_seq = log
            .last()
            .map_or(head.log_through, |(seq, _)| *seq)
            .max(head.log_through)
            + 1;
        self.log_count = log.len() as u64;
        self.log_bytes = log.iter().map(|(_, b)| b.len() as u64).sum();
        self.head = head;
        Ok(doc)
    }

    fn read_snapshot(&self, head: &Head) -> Result<Vec<u8>> {
        let chunks = self.storage.chunks(head.generation)?;
        if chunks.len() != head.chunks as usize {
            return Err(Error::Corrupt(format!(
                "snapshot {} has {} of {} chunks",
                head.generation,
                chunks.len(),
                head.chunks
            )));
        }
        let mut bytes =
            Vec::with_capacity(head.bytes.min(crate::limits::MAX_DOC_BYTES * 2) as usize);
        for (expected, (index, chunk)) in chunks.into_iter().enumerate() {
            if index as usize != expected {
                return Err(Error::Corrupt(format!("snapshot chunk {expected} missing")));
            }
            bytes.extend_from_slice(&chunk);
        }
        if bytes.len() as u64 != head.bytes || crc32fast::hash(&bytes) != head.checksum {
            return Err(Error::Corrupt(format!(
                "snapshot {} fails its length or checksum",
                head.generation
            )));
        }
        Ok(bytes)
    }

    fn check(&self) -> Result<()> {
        if self.poisoned {
            return Err(Error::Storage(StorageError(
                "store must be reloaded after an error".into(),
            )));
        }
        Ok(())
    }

    /// Runs one storage operation; any error poisons the store (rule 4).
    fn guard<T>(&mut self, op: impl FnOnce(&mut S) -> Result<T, StorageError>) -> Result<T> {
        self.check()?;
        op(&mut self.storage).map_err(|e| {
            self.poisoned = true;
            Error::Storage(e)
        })
    }

    /// Appends an applied update to the log (rule 1).
    ///
    /// # Errors
    /// [`Error::Storage`]; the store is then poisoned.
    pub fn append(&mut self, update: &[u8]) -> Result<()> {
        let seq = self.next_seq;
        self.guard(|s| s.append(seq, update))?;
        self.next_seq += 1;
        self.log_count += 1;
        self.log_bytes += update.len() as u64;
        Ok(())
    }

    /// The user client id `client` belongs to, if any (see [`Storage::owner`]).
    ///
    /// # Errors
    /// [`Error::Storage`]; the store is then poisoned.
    pub fn owner(&mut self, client: u64) -> Result<Option<String>> {
        self.guard(|s| s.owner(client))
    }

    /// Binds `client` to `user` for good, before anything written under it is stored.
    ///
    /// # Errors
    /// [`Error::Storage`]; the store is then poisoned.
    pub fn bind(&mut self, client: u64, user: &str) -> Result<()> {
        self.guard(|s| s.bind(client, user))
    }

    /// An upper bound of the encoded document's size: snapshot bytes + log bytes. Kept
    /// incrementally so that checking the document cap costs nothing per update.
    pub fn size_bound(&self) -> u64 {
        self.head.bytes + self.log_bytes
    }

    /// Whether the log has grown enough to fold it into a new snapshot.
    pub fn wants_compaction(&self) -> bool {
        self.log_count >= self.retry_compaction_at
            && (self.log_bytes >= COMPACT_MAX_LOG_BYTES
                || (self.log_count >= COMPACT_MIN_UPDATES
                    && self.log_bytes * COMPACT_LOG_SHARE >= self.head.bytes))
    }

    /// Compacts if [`Store::wants_compaction`]. A compaction whose new snapshot fails its
    /// self-check changes nothing (the head was not switched; the update that triggered it is
    /// already in the log), so it is not an error of the edit: it is recorded
    /// ([`Store::compaction_error`]) and tried again later.
    ///
    /// # Errors
    /// [`Error::Storage`]: drop the store and load again.
    pub fn maybe_compact(&mut self, doc: &Doc) -> Result<()> {
        if !self.wants_compaction() {
            return Ok(());
        }
        match self.compact(doc) {
            Err(Error::Corrupt(why)) if !self.poisoned => {
                self.retry_compaction_at = self.log_count + COMPACT_MIN_UPDATES;
                self.compaction_error = Some(why);
                Ok(())
            }
            other => other,
        }
    }

    /// Why the last compaction failed its self-check, if it did (cleared by a success).
    pub fn compaction_error(&self) -> Option<&str> {
        self.compaction_error.as_deref()
    }

    /// Whether nothing was ever stored for this document.
    pub fn is_empty(&self) -> bool {
        self.head.generation == 0 && self.log_count == 0
    }

    /// Number of log entries not yet folded into the snapshot.
    pub fn log_len(&self) -> u64 {
        self.log_count
    }

    /// The current head record.
    pub fn head(&self) -> &Head {
        &self.head
    }

    /// Replaces snapshot + log by a snapshot of `doc` (rule 3). `doc` must be the document
    /// this store loaded, with every update since appended.
    ///
    /// # Errors
    /// [`Error::Storage`] (the store is then poisoned) or [`Error::Internal`] if the document
    /// is in a transaction.
    pub fn compact(&mut self, doc: &Doc) -> Result<()> {
        self.check()?;
        let encoded = doc
            .try_transact()
            .map_err(|e| Error::Internal(format!("document busy: {e}")))?
            .encode_state_as_update_v1(&StateVector::default());
        let current = self.head.generation;
        let next = Head {
            generation: current + 1,
            chunks: encoded.chunks(MAX_CHUNK_BYTES).count() as u32,
            bytes: encoded.len() as u64,
            checksum: crc32fast::hash(&encoded),
            log_through: self.next_seq - 1,
        };
        // Leftovers of an interrupted compaction may sit under `current + 1`.
        self.guard(|s| s.delete_chunks_except(current))?;
        for (index, chunk) in encoded.chunks(MAX_CHUNK_BYTES).enumerate() {
            self.guard(|s| s.put_chunk(next.generation, index as u32, chunk))?;
        }
        // Before the commit point, the new generation must load (every chunk there, checksum
        // right, decodes) and hold what memory holds: otherwise the old one stays current and
        // this generation is left for the next compaction to remove.
        self.check_generation(&next, doc)?;
        self.guard(|s| s.put_head(&next))?; // the commit point
        self.compaction_error = None;
        self.retry_compaction_at = 0;
        self.head = next;
        self.log_count = 0;
        self.log_bytes = 0;
        let (generation, through) = (self.head.generation, self.head.log_through);
        self.guard(|s| s.delete_chunks_except(generation))?;
        self.guard(|s| s.delete_log_through(through))?;
        Ok(())
    }

    /// Reads generation `head` back from storage and checks it loads into the same state
    /// vector as `doc`.
    fn check_generation(&mut self, head: &Head, doc: &Doc) -> Result<()> {
        let stored = match self.read_snapshot(head) {
            Ok(bytes) => bytes,
            Err(e @ Error::Storage(_)) => {
                self.poisoned = true;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        let loaded = Doc::new();
        apply_stored(&loaded, "new snapshot", &stored)?;
        let sv = |d: &Doc| d.try_transact().map(|t| t.state_vector()).ok();
        if sv(&loaded) != sv(doc) {
            return Err(Error::Corrupt(
                "new snapshot does not hold what memory holds".into(),
            ));
        }
        Ok(())
    }

    /// The storage, for inspection.
    pub fn storage(&self) -> &S {
        &self.storage
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fault, MemoryStorage};
    use yrs::{GetString, Text};

    fn text_of(doc: &Doc) -> String {
        doc.get_or_insert_text("t").get_string(&doc.transact())
    }

    /// Appends `n` single-character edits to `doc` and `store`, as the room does.
    fn edit(doc: &Doc, store: &mut Store<MemoryStorage>, n: usize) -> Result<()> {
        let text = doc.get_or_insert_text("t");
        for i in 0..n {
            let update = {
                let mut txn = doc.transact_mut();
                let len = text.len(&txn);
                text.insert(
                    &mut txn,
                    len,
                    &((b'a' + (i % 26) as u8) as char).to_string(),
                );
                txn.encode_update_v1()
            };
            store.append(&update)?;
        }
        Ok(())
    }

    #[test]
    fn log_then_snapshot_then_tail_round_trip() {
        let storage = MemoryStorage::new();
        let (mut store, doc) = Store::open(storage.clone(), 1).unwrap();
        assert!(store.is_empty());
        edit(&doc, &mut store, 10).unwrap();
        assert_eq!(storage.log_len(), 10);
        store.compact(&doc).unwrap();
        assert_eq!(storage.log_len(), 0);
        edit(&doc, &mut store, 5).unwrap();
        let (again, loaded) = Store::open(storage.clone(), 2).unwrap();
        assert_eq!(text_of(&loaded), text_of(&doc));
        assert_eq!(text_of(&loaded).len(), 15);
        assert_eq!(again.log_len(), 5);
        assert_eq!(again.head().generation, 1);
    }

    #[test]
    fn an_export_rebuilds_the_document_without_folio() {
        let storage = MemoryStorage::new();
        let (mut store, doc) = Store::open(storage.clone(), 1).unwrap();
        edit(&doc, &mut store, 10).unwrap();
        store.compact(&doc).unwrap();
        edit(&doc, &mut store, 5).unwrap();
        let export = Export::read(&storage).unwrap();
        assert_eq!(export.log.len(), 5);
        // Snapshot then log, applied in order by plain yrs.
        let rebuilt = Doc::new();
        {
            let mut txn = rebuilt.transact_mut();
            for bytes in std::iter::once(&export.snapshot).chain(export.log.iter().map(|(_, u)| u))
            {
                txn.apply_update(yrs::Update::decode_v1(bytes).unwrap())
                    .unwrap();
            }
        }
        assert_eq!(text_of(&rebuilt), text_of(&doc));
        let json = export.to_json();
        assert_eq!(json["format"], "folio-export-1");
        assert_eq!(json["log"].as_array().unwrap().len(), 5);
        // A document never stored exports empty.
        let empty = Export::read(&MemoryStorage::new()).unwrap();
        assert!(empty.head.is_none() && empty.snapshot.is_empty() && empty.log.is_empty());
    }

    #[test]
    fn each_load_has_its_own_client_id() {
        let storage = MemoryStorage::new();
        let (_, a) = Store::open(storage.clone(), fresh_client_id()).unwrap();
        let (_, b) = Store::open(storage, fresh_client_id()).unwrap();
        assert_ne!(a.client_id(), b.client_id());
        assert!(a.client_id().get() <= MAX_CLIENT_ID);
    }

    #[test]
    fn snapshot_is_chunked_below_the_value_limit_and_checked() {
        // ~3 MB of text in one insert: the snapshot needs several chunks.
        let storage = MemoryStorage::new();
        let (mut store, doc) = Store::open(storage.clone(), 1).unwrap();
        let update = {
            let text = doc.get_or_insert_text("t");
            let mut txn = doc.transact_mut();
            text.insert(&mut txn, 0, &"x".repeat(3 << 20));
            txn.encode_update_v1()
        };
        store.append(&update).unwrap();
        store.compact(&doc).unwrap();
        assert!(storage.chunk_count() >= 3);
        assert!(storage.largest_value() <= MAX_CHUNK_BYTES);
        let (_, loaded) = Store::open(storage.clone(), 2).unwrap();
        assert_eq!(text_of(&loaded).len(), 3 << 20);

        // A flipped byte in a chunk is caught by the checksum, not loaded as a wrong document.
        let mut bad = storage.snapshot();
        let (i, mut chunk) = bad.chunks(1).unwrap().remove(1);
        chunk[10] ^= 1;
        bad.put_chunk(1, i, &chunk).unwrap();
        assert!(matches!(Store::open(bad, 3), Err(Error::Corrupt(_))));
    }

    #[test]
    fn a_failed_append_poisons_the_store_and_loses_nothing_acknowledged() {
        for fault in [Fault::NotWritten, Fault::Written] {
            let storage = MemoryStorage::new();
            let (mut store, doc) = Store::open(storage.clone(), 1).unwrap();
            edit(&doc, &mut store, 3).unwrap();
            storage.fail_write(0, fault);
            assert!(matches!(edit(&doc, &mut store, 1), Err(Error::Storage(_))));
            // Poisoned: nothing more is written until a reload.
            let writes = storage.writes();
            assert!(edit(&doc, &mut store, 1).is_err());
            assert_eq!(storage.writes(), writes);
            let reloaded = store.reload(9).unwrap();
            let expected = if fault == Fault::Written { 4 } else { 3 };
            assert_eq!(text_of(&reloaded).len(), expected, "{fault:?}");
            edit(&reloaded, &mut store, 1).unwrap();
        }
    }

    /// Compaction with a fault at every one of its writes, in both failure modes: the stored
    /// document always loads and equals the document before (= after) compaction.
    #[test]
    fn compaction_interrupted_at_any_write_leaves_a_loadable_equal_document() {
        let mut steps_seen = 0;
        for fault in [Fault::NotWritten, Fault::Written] {
            for step in 0.. {
                let storage = MemoryStorage::new();
                let (mut store, doc) = Store::open(storage.clone(), 1).unwrap();
                edit(&doc, &mut store, 20).unwrap();
                store.compact(&doc).unwrap(); // generation 1 exists, so gen 2 replaces it
                edit(&doc, &mut store, 7).unwrap();
                let expected = text_of(&doc);
                let before = storage.writes();
                storage.fail_write(step, fault);
                let result = store.compact(&doc);
                if storage.writes() - before <= step {
                    // The fault was beyond the last write: compaction completed.
                    assert!(result.is_ok());
                    break;
                }
                steps_seen += 1;
                assert!(
                    matches!(result, Err(Error::Storage(_))),
                    "step {step} {fault:?}"
                );
                let (mut reopened, loaded) = Store::open(storage.clone(), 2).unwrap();
                assert_eq!(text_of(&loaded), expected, "step {step} {fault:?}");
                // The next compaction cleans up whatever the interrupted one left.
                reopened.compact(&loaded).unwrap();
                let (_, again) = Store::open(storage.clone(), 3).unwrap();
                assert_eq!(text_of(&again), expected);
                assert_eq!(storage.log_len(), 0);
            }
        }
        assert!(
            steps_seen >= 8,
            "compaction has at least 4 writes, each tried twice"
        );
    }

    #[test]
    fn a_compaction_checks_its_snapshot_before_the_switch_and_defers_on_failure() {
        let storage = MemoryStorage::new();
        let (mut store, doc) = Store::open(storage.clone(), 1).unwrap();
        edit(&doc, &mut store, 20).unwrap();
        store.compact(&doc).unwrap();
        edit(&doc, &mut store, 7).unwrap();
        let expected = text_of(&doc);
        // The new snapshot's chunk is silently damaged on write (the 2nd write: the first
        // clears leftovers): the check catches it before the head moves.
        storage.fail_write(1, Fault::Garbled);
        let err = store.compact(&doc).unwrap_err();
        assert!(
            matches!(&err, Error::Corrupt(m) if m.contains("checksum")),
            "{err}"
        );
        assert_eq!(store.head().generation, 1, "the head did not move");
        let (_, loaded) = Store::open(storage.clone(), 2).unwrap();
        assert_eq!(text_of(&loaded), expected);

        // Through `maybe_compact` (what the room calls after each edit), a failed check is
        // not an error of the edit: it is recorded and retried after more updates.
        let (mut store, doc) = Store::open(storage.clone(), 3).unwrap();
        while !store.wants_compaction() {
            edit(&doc, &mut store, 50).unwrap();
        }
        storage.fail_write(1, Fault::Garbled);
        store.maybe_compact(&doc).unwrap();
        assert!(store.compaction_error().is_some());
        assert!(!store.wants_compaction(), "deferred");
        assert_eq!(store.head().generation, 1);
        edit(&doc, &mut store, COMPACT_MIN_UPDATES as usize).unwrap();
        assert!(store.wants_compaction());
        store.maybe_compact(&doc).unwrap();
        assert_eq!(
            (store.head().generation, store.compaction_error()),
            (2, None)
        );
        let (_, loaded) = Store::open(storage, 4).unwrap();
        assert_eq!(text_of(&loaded), text_of(&doc));
    }

    #[test]
    fn failed_reads_are_errors() {
        let storage = MemoryStorage::new();
        storage.fail_reads(true);
        assert!(matches!(Store::open(storage, 1), Err(Error::Storage(_))));
    }

    #[test]
    fn compaction_threshold_scales_with_the_snapshot() {
        let storage = MemoryStorage::new();
        let (mut store, doc) = Store::open(storage, 1).unwrap();
        edit(&doc, &mut store, COMPACT_MIN_UPDATES as usize - 1).unwrap();
        assert!(!store.wants_compaction());
        edit(&doc, &mut store, 1).unwrap();
        assert!(store.wants_compaction());
    }
}
