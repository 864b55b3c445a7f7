//! Bounds on what the network sends, checked **before yrs sees it**.
//!
//! yrs 0.28 trusts declared lengths: `Cursor::read_exact` adds a declared length to its
//! position, which wraps in wasm32's 32-bit `usize` and panics on the slice index; `Any`
//! values decode recursively; nested shared types are deleted and garbage-collected
//! recursively. In the worker a panic resets every document of the isolate, and a stack
//! overflow is a panic. So every frame is walked here first, with checked arithmetic, by a
//! reader of our own (not yrs's `Cursor`):
//!
//! - every declared length and count fits in the bytes that remain;
//! - varints are canonical in size (at most 5 bytes for 32-bit fields, 10 for 64-bit);
//! - client ids are JavaScript-safe (below 2^53), clocks do not overflow 32 bits;
//! - `Any` values and JSON strings nest at most [`MAX_VALUE_NESTING`] levels;
//! - only what stock Yjs clients write is accepted: no skip structs, no obsolete JSON
//!   content, no sub-documents or weak links, no empty items, one group per client.
//!
//! The nesting of shared types cannot be judged from the update alone (a new element may go
//! inside one the document already has), so [`Shape::check_nesting`] resolves parents against
//! the document and refuses a type deeper than [`MAX_TYPE_NESTING`]. Since every stored type
//! passed that check, the document's own nesting stays bounded, and so does every later
//! delete, GC, render or restore that recurses over it.
//!
//! The walk follows the Yjs v1 update format (`lib0` encoding, y-protocols), from its
//! specification in the Yjs sources, not from yrs's decoder.

use std::collections::HashMap;

use yrs::{ReadTxn, StateVector};

use crate::error::{Error, Result};
use crate::limits::{MAX_CLIENT_ID, MAX_TYPE_NESTING, MAX_VALUE_NESTING};

fn bad(why: impl Into<String>) -> Error {
    Error::Malformed(why.into())
}

/// A reader of untrusted bytes: every length is compared with what remains before it is
/// used, so nothing overflows on any target.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// What has not been read yet.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    pub fn u8(&mut self) -> Result<u8> {
        let b = *self.buf.get(self.pos).ok_or_else(|| bad("truncated"))?;
        self.pos += 1;
        Ok(b)
    }

    /// `len` bytes, if that many remain (`len` is compared, never added to the position first).
    pub fn take(&mut self, len: u64) -> Result<&'a [u8]> {
        if len > self.remaining() as u64 {
            return Err(bad(format!(
                "declares {len} bytes but {} remain",
                self.remaining()
            )));
        }
        let start = self.pos;
        self.pos += len as usize; // fits: len <= remaining
        Ok(&self.buf[start..self.pos])
    }

    /// An unsigned LEB128 varint of at most `max_bytes` bytes whose value fits `bits` bits.
    fn var(&mut self, max_bytes: u32, bits: u32) -> Result<u64> {
        let mut value: u64 = 0;
        for i in 0..max_bytes {
            let b = self.u8()?;
            let part = u64::from(b & 0x7f);
            let shift = 7 * i;
            if shift >= 64 || (part << shift) >> shift != part {
                return Err(bad("varint overflows 64 bits"));
            }
            value |= part << shift;
            if b & 0x80 == 0 {
                if bits < 64 && value >> bits != 0 {
                    return Err(bad(format!("varint overflows {bits} bits")));
                }
                return Ok(value);
            }
        }
        Err(bad("varint too long"))
    }

    pub fn var_u32(&mut self) -> Result<u32> {
        self.var(5, 32).map(|v| v as u32)
    }

    pub fn var_u64(&mut self) -> Result<u64> {
        self.var(10, 64)
    }

    /// A lib0 signed varint (sign in the first byte's bit 6), skipped.
    fn skip_var_i64(&mut self) -> Result<()> {
        for _ in 0..10 {
            if self.u8()? & 0x80 == 0 {
                return Ok(());
            }
        }
        Err(bad("signed varint too long"))
    }

    /// A length-prefixed byte string.
    pub fn buf(&mut self) -> Result<&'a [u8]> {
        let len = self.var_u32()?;
        self.take(u64::from(len))
    }

    /// A length-prefixed UTF-8 string.
    pub fn string(&mut self) -> Result<&'a str> {
        std::str::from_utf8(self.buf()?).map_err(|_| bad("string is not UTF-8"))
    }

    /// A declared item count, refused when `count` items of at least `min_item_bytes` each
    /// cannot fit in what remains.
    pub fn count(&mut self, min_item_bytes: usize, what: &str) -> Result<u32> {
        let count = self.var_u32()?;
        let room = self.remaining() / min_item_bytes.max(1);
        if count as usize > room {
            return Err(bad(format!(
                "{what} declares {count} entries but carries at most {room}"
            )));
        }
        Ok(count)
    }

    /// A client id: refused at or above 2^53 (JavaScript cannot hold it exactly, and Yjs
    /// never makes one).
    pub fn client(&mut self) -> Result<u64> {
        let id = self.var_u64()?;
        if id > MAX_CLIENT_ID {
            return Err(bad(format!(
                "client id {id} is not a JavaScript-safe integer"
            )));
        }
        Ok(id)
    }

    fn id(&mut self) -> Result<(u64, u32)> {
        Ok((self.client()?, self.var_u32()?))
    }
}

/// Checks that a JSON text nests at most [`MAX_VALUE_NESTING`] levels, without parsing it
/// (serde_json and yrs parse it recursively afterwards).
pub fn check_json_nesting(json: &str) -> Result<()> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for b in json.bytes() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_VALUE_NESTING {
                    return Err(bad(format!(
                        "JSON value nests deeper than {MAX_VALUE_NESTING} levels"
                    )));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Skips one lib0 `Any` value, refusing nesting past [`MAX_VALUE_NESTING`]. Recursion is
/// bounded by that cap.
fn skip_any(r: &mut Reader, depth: usize) -> Result<()> {
    if depth > MAX_VALUE_NESTING {
        return Err(bad(format!(
            "value nests deeper than {MAX_VALUE_NESTING} levels"
        )));
    }
    match r.u8()? {
        // undefined, null, false, true
        127 | 126 | 121 | 120 => {}
        125 => r.skip_var_i64()?,
        124 => drop(r.take(4)?),
        123 | 122 => drop(r.take(8)?),
        119 => drop(r.string()?),
        118 => {
            // Each entry is at least a key length and a tag.
            for _ in 0..r.count(2, "object")? {
                r.string()?;
                skip_any(r, depth + 1)?;
            }
        }
        117 => {
            for _ in 0..r.count(1, "array")? {
                skip_any(r, depth + 1)?;
            }
        }
        116 => drop(r.buf()?),
        tag => return Err(bad(format!("unknown value tag {tag}"))),
    }
    Ok(())
}

// Struct info byte (Yjs `Item.write`): the low five bits are the content kind.
const INFO_CONTENT: u8 = 0x1f;
const HAS_ORIGIN: u8 = 0x80;
const HAS_RIGHT_ORIGIN: u8 = 0x40;
const HAS_PARENT_SUB: u8 = 0x20;
const GC: u8 = 0;
const DELETED: u8 = 1;
const JSON: u8 = 2;
const BINARY: u8 = 3;
const STRING: u8 = 4;
const EMBED: u8 = 5;
const FORMAT: u8 = 6;
const TYPE: u8 = 7;
const ANY: u8 = 8;
const DOC: u8 = 9;
const SKIP: u8 = 10;

// Shared type references (Yjs `typeRefs`): array, map, text, XML element (named), XML
// fragment, XML hook (named), XML text. Weak links, sub-documents and others are refused.
const TYPE_XML_ELEMENT: u8 = 3;
const TYPE_XML_HOOK: u8 = 5;
const TYPE_XML_TEXT: u8 = 6;

/// Where an inserted struct lives, as the update says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parent {
    /// Directly in a root type.
    Root,
    /// In the shared type made by the item with this id.
    Type((u64, u32)),
    /// Beside the item with this id (its origin, or else its right origin): same parent.
    Beside((u64, u32)),
    /// A GC struct: no content, no parent.
    None,
}

#[derive(Debug, Clone)]
struct Struct {
    client: u64,
    start: u32,
    end: u32,
    parent: Parent,
    is_type: bool,
}

/// What a checked update holds, for the checks that need the document.
#[derive(Debug, Clone, Default)]
pub struct Shape {
    /// Per client: the clocks its structs cover, `[start, end)`.
    pub runs: Vec<(u64, u32, u32)>,
    /// Whether the update deletes anything.
    pub deletes: bool,
    /// The structs, kept only when the update inserts shared types (otherwise nesting cannot
    /// grow and nothing needs resolving).
    structs: Vec<Struct>,
    has_types: bool,
}

/// Walks one Yjs v1 update (see the module docs) and returns its [`Shape`].
///
/// # Errors
/// [`Error::Malformed`], saying what is wrong.
pub fn check_update(update: &[u8]) -> Result<Shape> {
    let mut r = Reader::new(update);
    let mut shape = Shape::default();
    // A group is at least: struct count, client, clock.
    let groups = r.count(3, "update")?;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..groups {
        // A struct is at least two bytes (info and one more).
        let n = r.count(2, "struct group")?;
        if n == 0 {
            // Yjs writes a group only for a client with structs; yrs 0.28 divides by zero
            // looking up clocks after an empty one (found by the 32-bit fuzzer).
            return Err(bad("empty struct group"));
        }
        let client = r.client()?;
        let start = r.var_u32()?;
        // A set, not a scan of the runs: a 16 MiB SyncStep2 may hold millions of groups.
        if !seen.insert(client) {
            return Err(bad(format!("client {client} appears twice in one update")));
        }
        let mut clock = start;
        for _ in 0..n {
            let (len, parent, is_type) = check_struct(&mut r)?;
            let end = clock
                .checked_add(len)
                .ok_or_else(|| bad("clock overflows 32 bits"))?;
            shape.has_types |= is_type;
            shape.structs.push(Struct {
                client,
                start: clock,
                end,
                parent,
                is_type,
            });
            clock = end;
        }
        shape.runs.push((client, start, clock));
    }
    // Delete set: clients, then ranges of (clock, length).
    let clients = r.count(2, "delete set")?;
    for _ in 0..clients {
        r.client()?;
        for _ in 0..r.count(2, "delete ranges")? {
            let clock = r.var_u32()?;
            let len = r.var_u32()?;
            clock
                .checked_add(len)
                .ok_or_else(|| bad("deleted range overflows 32 bits"))?;
            shape.deletes |= len > 0;
        }
    }
    if r.remaining() != 0 {
        return Err(bad("trailing bytes after the update"));
    }
    if !shape.has_types {
        shape.structs = Vec::new();
    }
    Ok(shape)
}

/// One struct: its clock length, where it lives, and whether it makes a shared type.
fn check_struct(r: &mut Reader) -> Result<(u32, Parent, bool)> {
    let info = r.u8()?;
    let kind = info & INFO_CONTENT;
    if kind == GC {
        if info != GC {
            return Err(bad("GC struct with flags"));
        }
        let len = r.var_u32()?;
        if len == 0 {
            return Err(bad("empty GC struct"));
        }
        return Ok((len, Parent::None, false));
    }
    let origin = (info & HAS_ORIGIN != 0).then(|| r.id()).transpose()?;
    let right = (info & HAS_RIGHT_ORIGIN != 0).then(|| r.id()).transpose()?;
    let parent = match origin.or(right) {
        Some(beside) => Parent::Beside(beside),
        None => {
            let parent = match r.var_u32()? {
                1 => {
                    r.string()?;
                    Parent::Root
                }
                0 => Parent::Type(r.id()?),
                other => return Err(bad(format!("unknown parent info {other}"))),
            };
            if info & HAS_PARENT_SUB != 0 {
                r.string()?;
            }
            parent
        }
    };
    let (len, is_type) = match kind {
        DELETED => (r.var_u32()?, false),
        BINARY => (r.buf().map(|_| 1)?, false),
        STRING => {
            // Clocks count UTF-16 code units, as in JavaScript.
            let s = r.string()?;
            (s.encode_utf16().count() as u32, false)
        }
        EMBED => {
            check_json_nesting(r.string()?)?;
            (1, false)
        }
        FORMAT => {
            r.string()?;
            check_json_nesting(r.string()?)?;
            (1, false)
        }
        TYPE => {
            match r.u8()? {
                TYPE_XML_ELEMENT | TYPE_XML_HOOK => drop(r.string()?),
                t if t <= TYPE_XML_TEXT => {}
                t => return Err(bad(format!("unsupported shared type {t}"))),
            }
            (1, true)
        }
        ANY => {
            let count = r.count(1, "values")?;
            for _ in 0..count {
                skip_any(r, 1)?;
            }
            (count, false)
        }
        JSON => return Err(bad("obsolete JSON content is not accepted")),
        DOC => return Err(bad("sub-documents are not supported")),
        SKIP => return Err(bad("skip structs are not accepted")),
        other => return Err(bad(format!("unknown content kind {other}"))),
    };
    if len == 0 {
        return Err(bad("empty item"));
    }
    Ok((len, parent, is_type))
}

impl Shape {
    /// Whether the update inserts or deletes nothing at all.
    pub fn is_empty(&self) -> bool {
        self.runs.iter().all(|&(_, s, e)| s == e) && !self.deletes
    }

    /// Refuses a shared type that would nest deeper than [`MAX_TYPE_NESTING`], resolving
    /// parents in the update itself and, through `txn`, in the document it goes into.
    /// Cost: linear in the update, plus a walk up from each parent found in the document.
    pub fn check_nesting<T: ReadTxn>(&self, txn: &T) -> Result<()> {
        if !self.has_types {
            return Ok(());
        }
        let mut by_client: HashMap<u64, Vec<usize>> = HashMap::new();
        for (i, s) in self.structs.iter().enumerate() {
            by_client.entry(s.client).or_default().push(i);
        }
        let find = |(client, clock): (u64, u32)| -> Option<usize> {
            let list = by_client.get(&client)?;
            let at = list.partition_point(|&i| self.structs[i].end <= clock);
            list.get(at)
                .copied()
                .filter(|&i| self.structs[i].start <= clock)
        };
        // Depth of the type each struct is in (0 = a root type), resolved iteratively.
        let mut depth: Vec<Option<usize>> = vec![None; self.structs.len()];
        for i in 0..self.structs.len() {
            let mut chain: Vec<(usize, usize)> = Vec::new(); // (struct, levels added)
            let mut cur = i;
            let base = loop {
                if let Some(d) = depth[cur] {
                    break d;
                }
                if chain.len() > self.structs.len() {
                    return Err(bad("the update's structs refer to each other in a cycle"));
                }
                let (next, add) = match self.structs[cur].parent {
                    Parent::Root | Parent::None => break 0,
                    Parent::Type(id) => match find(id) {
                        Some(j) if self.structs[j].is_type => (j, 1),
                        Some(_) => break 0, // not a type: yrs discards or refuses it
                        None => break doc_type_depth(txn, id),
                    },
                    Parent::Beside(id) => match find(id) {
                        Some(j) => (j, 0),
                        None => break doc_container_depth(txn, id),
                    },
                };
                chain.push((cur, add));
                cur = next;
            };
            if depth[cur].is_none() {
                depth[cur] = Some(base);
            }
            let mut d = base;
            for &(s, add) in chain.iter().rev() {
                d += add;
                depth[s] = Some(d);
            }
        }
        for (s, d) in self.structs.iter().zip(&depth) {
            let level = d.unwrap_or(0) + 1;
            if s.is_type && level > MAX_TYPE_NESTING {
                return Err(bad(format!(
                    "shared types nest deeper than {MAX_TYPE_NESTING} levels"
                )));
            }
        }
        Ok(())
    }
}

/// How deep the shared type made by item `id` of the document is (a type in a root is 1);
/// 0 when `id` is not a type there. Walks up at most [`MAX_TYPE_NESTING`] + 1 levels.
fn doc_type_depth<T: ReadTxn>(txn: &T, id: (u64, u32)) -> usize {
    match yrs::branch::BranchID::get_nested(txn, &yrs::ID::new(yrs::ClientID::new(id.0), id.1)) {
        Some(branch) => branch_depth(txn, branch),
        None => 0,
    }
}

/// How deep the type holding item `id` of the document is (a root type is 0).
fn doc_container_depth<T: ReadTxn>(txn: &T, id: (u64, u32)) -> usize {
    let index = yrs::StickyIndex::from_id(
        yrs::ID::new(yrs::ClientID::new(id.0), id.1),
        yrs::Assoc::After,
    );
    match index.get_offset(txn) {
        Some(offset) => branch_depth(txn, offset.branch),
        None => 0,
    }
}

fn branch_depth<T: ReadTxn>(txn: &T, mut branch: yrs::branch::BranchPtr) -> usize {
    let mut depth = 0;
    while let yrs::branch::BranchID::Nested(item) = branch.id() {
        depth += 1;
        if depth > MAX_TYPE_NESTING {
            break;
        }
        let up = yrs::StickyIndex::from_id(item, yrs::Assoc::After).get_offset(txn);
        match up {
            Some(offset) => branch = offset.branch,
            None => break,
        }
    }
    depth
}

/// A state vector from untrusted bytes: a count of (client, clock) pairs.
pub fn state_vector(bytes: &[u8]) -> Result<StateVector> {
    use yrs::updates::decoder::Decode;
    let mut r = Reader::new(bytes);
    for _ in 0..r.count(2, "state vector")? {
        r.client()?;
        r.var_u32()?;
    }
    // Checked above: yrs decodes exactly what was walked.
    StateVector::decode_v1(bytes).map_err(|e| bad(format!("state vector: {e}")))
}
