//! An in-memory [`Storage`] for tests, able to fail on purpose.
//!
//! A fault is armed for the n-th write from now, in one of the two ways real storage fails:
//! the write is refused ([`Fault::NotWritten`]), or it happens but the caller is told it
//! failed ([`Fault::Written`], e.g. a lost acknowledgement). Clones share one state, so a test
//! keeps a handle to inspect what a [`crate::sync::store::Store`] wrote.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::content::schema::Collection;
use crate::error::StorageError;
use crate::sync::store::{Head, Storage};

/// How an injected write failure behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The write is not performed and an error is returned.
    NotWritten,
    /// The write is performed, and an error is returned anyway.
    Written,
    /// A snapshot chunk is written with one byte damaged, and reported as done: silent
    /// corruption, for checks that must read back what they wrote. (Any other write with this
    /// fault is not performed and fails, as [`Fault::NotWritten`].)
    Garbled,
}

#[derive(Debug, Default, Clone)]
struct State {
    head: Option<Head>,
    chunks: BTreeMap<(u64, u32), Vec<u8>>,
    log: BTreeMap<u64, Vec<u8>>,
    owners: BTreeMap<u64, String>,
    writes: u64,
    bytes_written: u64,
    fail_write: Option<(u64, Fault)>,
    fail_reads: bool,
}

/// In-memory storage; see the module docs.
#[derive(Debug, Default, Clone)]
pub struct MemoryStorage(Rc<RefCell<State>>);

impl MemoryStorage {
    pub fn new() -> Self {
        Self::default()
    }

    /// Fails the `n`-th write from now (0 = the next one), once.
    pub fn fail_write(&self, n: u64, fault: Fault) {
        let mut s = self.0.borrow_mut();
        let at = s.writes + n;
        s.fail_write = Some((at, fault));
    }

    /// Makes every read fail (or succeed again).
    pub fn fail_reads(&self, on: bool) {
        self.0.borrow_mut().fail_reads = on;
    }

    /// Writes performed or attempted so far.
    pub fn writes(&self) -> u64 {
        self.0.borrow().writes
    }

    /// Bytes of chunks and log entries written so far.
    pub fn bytes_written(&self) -> u64 {
        self.0.borrow().bytes_written
    }

    /// Number of log entries stored.
    pub fn log_len(&self) -> usize {
        self.0.borrow().log.len()
    }

    /// Number of snapshot chunks stored, over all generations.
    pub fn chunk_count(&self) -> usize {
        self.0.borrow().chunks.len()
    }

    /// The largest value stored (chunk or log entry), in bytes.
    pub fn largest_value(&self) -> usize {
        let s = self.0.borrow();
        s.chunks
            .values()
            .chain(s.log.values())
            .map(Vec::len)
            .max()
            .unwrap_or(0)
    }

    /// A deep copy that no longer shares state with `self`.
    pub fn snapshot(&self) -> Self {
        MemoryStorage(Rc::new(RefCell::new(self.0.borrow().clone())))
    }

    /// Whether the next write is to be garbled ([`Fault::Garbled`]); consumes the fault.
    fn take_garble(&self) -> bool {
        let mut s = self.0.borrow_mut();
        let this = s.writes;
        if s.fail_write == Some((this, Fault::Garbled)) {
            s.fail_write = None;
            return true;
        }
        false
    }

    fn write(&self, op: impl FnOnce(&mut State)) -> Result<(), StorageError> {
        let mut s = self.0.borrow_mut();
        let this = s.writes;
        s.writes += 1;
        match s.fail_write {
            Some((at, fault)) if at == this => {
                s.fail_write = None;
                if fault == Fault::Written {
                    op(&mut s);
                }
                Err(StorageError(format!(
                    "injected fault on write {this} ({fault:?})"
                )))
            }
            _ => {
                op(&mut s);
                Ok(())
            }
        }
    }

    fn read<T>(&self, op: impl FnOnce(&State) -> T) -> Result<T, StorageError> {
        let s = self.0.borrow();
        if s.fail_reads {
            return Err(StorageError("injected read fault".into()));
        }
        Ok(op(&s))
    }
}

impl Storage for MemoryStorage {
    fn head(&self) -> Result<Option<Head>, StorageError> {
        self.read(|s| s.head.clone())
    }

    fn put_head(&mut self, head: &Head) -> Result<(), StorageError> {
        self.write(|s| s.head = Some(head.clone()))
    }

    fn chunks(&self, generation: u64) -> Result<Vec<(u32, Vec<u8>)>, StorageError> {
        self.read(|s| {
            s.chunks
                .range((generation, 0)..=(generation, u32::MAX))
                .map(|(&(_, i), b)| (i, b.clone()))
                .collect()
        })
    }

    fn put_chunk(&mut self, generation: u64, index: u32, bytes: &[u8]) -> Result<(), StorageError> {
        let mut stored = bytes.to_vec();
        if self.take_garble() {
            if let Some(b) = stored.last_mut() {
                *b ^= 0x55;
            }
        }
        self.write(|s| {
            s.bytes_written += bytes.len() as u64;
            s.chunks.insert((generation, index), stored);
        })
    }

    fn delete_chunks_except(&mut self, generation: u64) -> Result<(), StorageError> {
        self.write(|s| s.chunks.retain(|&(g, _), _| g == generation))
    }

    fn log_after(&self, seq: u64) -> Result<Vec<(u64, Vec<u8>)>, StorageError> {
        self.read(|s| {
            s.log
                .range(seq + 1..)
                .map(|(&k, v)| (k, v.clone()))
                .collect()
        })
    }

    fn append(&mut self, seq: u64, update: &[u8]) -> Result<(), StorageError> {
        self.write(|s| {
            s.bytes_written += update.len() as u64;
            s.log.insert(seq, update.to_vec());
        })
    }

    fn delete_log_through(&mut self, seq: u64) -> Result<(), StorageError> {
        self.write(|s| s.log.retain(|&k, _| k > seq))
    }

    fn owner(&self, client: u64) -> Result<Option<String>, StorageError> {
        self.read(|s| s.owners.get(&client).cloned())
    }

    fn bind(&mut self, client: u64, user: &str) -> Result<(), StorageError> {
        self.write(|s| {
            s.owners.entry(client).or_insert_with(|| user.to_string());
        })
    }
}

/// A fake of what publish intents write to ([`crate::publish::intent::World`]): D1's versions and
/// posts, and the alarm, with faults on the next writes.
pub mod publishing {
    use std::collections::{BTreeMap, VecDeque};

    use crate::error::StoreError;
    use crate::publish::intent::{Intent, Journal, Local, Stored, World};
    use crate::publish::{Action, Post};

    /// How the next D1 write fails.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum D1Fault {
        /// Not written; this error is returned.
        NotWritten(StoreError),
        /// Written (committed), and this error is returned anyway.
        Written(StoreError),
    }

    /// D1 as the intents see it.
    #[derive(Debug, Default, Clone)]
    pub struct FakeD1 {
        /// (doc, version) → content hash; a version is immutable (insert-or-ignore).
        pub versions: BTreeMap<(String, u64), String>,
        /// doc → (version, slug, published).
        pub posts: BTreeMap<String, (u64, String, bool)>,
        /// Faults for the next writes, in order.
        pub faults: VecDeque<D1Fault>,
        /// What happened, in order: "arm", "write", "unpublish".
        pub events: Vec<String>,
        /// When the alarm fires (ms), if armed.
        pub alarm: Option<i64>,
        /// Every read fails while set.
        pub down: bool,
    }

    impl FakeD1 {
        fn fault(&mut self) -> Option<D1Fault> {
            self.faults.pop_front()
        }
    }

    impl World for FakeD1 {
        async fn stored(&mut self, doc_id: &str, slug: &str) -> Result<Stored, StoreError> {
            if self.down {
                return Err(StoreError::Unavailable("Network connection lost.".into()));
            }
            let owner = self
                .posts
                .iter()
                .find(|(_, (_, s, _))| s == slug)
                .map(|(doc, _)| doc.clone());
            let max = self
                .versions
                .keys()
                .filter(|(d, _)| d == doc_id)
                .map(|(_, v)| *v)
                .max()
                .unwrap_or(0);
            Ok(Stored {
                slug_owner: owner,
                max_version: max,
            })
        }

        async fn write_post(&mut self, post: &Post) -> Result<Option<String>, StoreError> {
            self.events.push("write".into());
            let fault = self.fault();
            if let Some(D1Fault::NotWritten(e)) = fault {
                return Err(e);
            }
            if let Some((other, _)) = self
                .posts
                .iter()
                .find(|(d, (_, s, _))| *d != &post.doc_id && *s == post.content.slug)
            {
                let _ = other;
                return Err(StoreError::Unique {
                    column: "slug".into(),
                    detail: "UNIQUE constraint failed: posts.slug".into(),
                });
            }
            let key = (post.doc_id.clone(), post.version);
            let hash = self
                .versions
                .entry(key)
                .or_insert_with(|| post.content.content_hash.clone())
                .clone();
            // posts moves forward only, and only to a version holding this content.
            if hash == post.content.content_hash {
                let forward = self
                    .posts
                    .get(&post.doc_id)
                    .is_none_or(|(v, _, _)| *v <= post.version);
                if forward {
                    self.posts.insert(
                        post.doc_id.clone(),
                        (post.version, post.content.slug.clone(), true),
                    );
                }
            }
            match fault {
                Some(D1Fault::Written(e)) => Err(e),
                _ => Ok(Some(hash)),
            }
        }

        async fn write_unpublish(&mut self, doc_id: &str) -> Result<(), StoreError> {
            self.events.push("unpublish".into());
            let fault = self.fault();
            if let Some(D1Fault::NotWritten(e)) = fault {
                return Err(e);
            }
            if let Some(row) = self.posts.get_mut(doc_id) {
                row.2 = false;
            }
            match fault {
                Some(D1Fault::Written(e)) => Err(e),
                _ => Ok(()),
            }
        }

        async fn arm(&mut self, at: i64) -> Result<(), StoreError> {
            self.events.push("arm".into());
            self.alarm = Some(self.alarm.map_or(at, |a| a.min(at)));
            Ok(())
        }
    }

    /// The document's journal in memory, able to crash at a named step.
    #[derive(Debug, Default, Clone)]
    pub struct MemoryJournal {
        pub local: Option<Local>,
        pub intent: Option<Intent>,
        pub post: Option<Post>,
        /// Scheduled entries consumed: (entry, action, version).
        pub entry_log: Vec<(u64, Action, u64)>,
        /// The step at which the next drive "crashes" (then disarmed).
        pub crash_at: Option<String>,
        /// Steps reached, in order.
        pub steps: Vec<String>,
    }

    impl Journal for MemoryJournal {
        fn local(&self) -> Result<Option<Local>, StoreError> {
            Ok(self.local.clone())
        }
        fn intent(&self) -> Result<Option<Intent>, StoreError> {
            Ok(self.intent.clone())
        }
        fn intent_post(&self) -> Result<Option<Post>, StoreError> {
            Ok(self.post.clone())
        }
        fn record(&mut self, intent: &Intent, post: Option<&Post>) -> Result<(), StoreError> {
            if let Some(entry) = intent.entry {
                self.entry_log.push((entry, intent.action, intent.version));
            }
            self.intent = Some(intent.clone());
            self.post = post.cloned();
            Ok(())
        }
        fn update(&mut self, intent: &Intent) -> Result<(), StoreError> {
            self.intent = Some(intent.clone());
            Ok(())
        }
        fn complete(&mut self, local: &Local) -> Result<(), StoreError> {
            self.local = Some(local.clone());
            self.intent = None;
            self.post = None;
            Ok(())
        }
        fn discard(&mut self) -> Result<(), StoreError> {
            self.intent = None;
            self.post = None;
            Ok(())
        }
        fn consume_entry(
            &mut self,
            entry: u64,
            action: Action,
            version: u64,
        ) -> Result<(), StoreError> {
            self.entry_log.push((entry, action, version));
            Ok(())
        }
        fn checkpoint(&mut self, step: &str) -> Result<(), StoreError> {
            self.steps.push(step.to_string());
            if self.crash_at.as_deref() == Some(step) {
                self.crash_at = None;
                return Err(StoreError::Unavailable(format!("crashed at {step}")));
            }
            Ok(())
        }
    }

    /// Runs a future that never waits (the fakes answer at once) to completion.
    pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
        use std::task::{Context, Poll, Waker};
        let mut cx = Context::from_waker(Waker::noop());
        let mut future = std::pin::pin!(future);
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(out) => out,
            Poll::Pending => panic!("a fake future waited"),
        }
    }
}

/// A collection with one field of every type, as tests define it: `headline` (text, required,
/// at most 20 characters), `body` (rich text, required), `rating` (integer 0-5), `featured`,
/// `day`, `at`, `category` (news or review), `tags`, `author` (a person), `cover`.
pub fn articles_definition() -> serde_json::Value {
    serde_json::json!({"name": "articles", "label": "Articles", "fields": [
        {"name": "headline", "type": "text", "required": true, "max_length": 20},
        {"name": "body", "type": "richtext", "label": "Body", "required": true},
        {"name": "rating", "type": "number", "min": 0, "max": 5, "integer": true},
        {"name": "featured", "type": "boolean"},
        {"name": "day", "type": "date"},
        {"name": "at", "type": "datetime"},
        {"name": "category", "type": "select", "options": ["news", "review"]},
        {"name": "tags", "type": "tags"},
        {"name": "author", "type": "reference", "collection": "people"},
        {"name": "cover", "type": "image"}
    ]})
}

/// [`articles_definition`], parsed.
///
/// # Panics
/// Never: the definition is valid (its own tests say so).
pub fn articles() -> Collection {
    Collection::parse(&articles_definition()).expect("the test collection is valid")
}
