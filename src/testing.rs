//! An in-memory [`Storage`] for tests, able to fail on purpose.
//!
//! A fault is armed for the n-th write from now, in one of the two ways real storage fails:
//! the write is refused ([`Fault::NotWritten`]), or it happens but the caller is told it
//! failed ([`Fault::Written`], e.g. a lost acknowledgement). Clones share one state, so a test
//! keeps a handle to inspect what a [`crate::store::Store`] wrote.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::error::StorageError;
use crate::store::{Head, Storage};

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
}
