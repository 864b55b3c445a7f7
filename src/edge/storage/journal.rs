//! The document object's publishing tables in its SQLite: the confirmed record, the intent
//! and its post, the schedule and what of it ran, and the document's id. Every statement on
//! them is here; the schema is created once per object ([`Tables::open`]), rows are read
//! into typed structs.
//!
//! Every [`Journal`] method is synchronous, so its statements commit together (a Durable
//! Object coalesces the writes of one turn into one atomic write) and the output gate holds
//! any reply until they are durable.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use worker::{console_error, SqlStorage, SqlStorageValue};

use crate::doc_id::DocId;
use crate::error::StoreError;
use crate::publish::intent::{Intent, Journal, Local};
use crate::publish::{split_utf8, Action, Post};
use crate::time::Millis;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS folio_published (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  doc_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  content_hash TEXT NOT NULL,
  slug TEXT NOT NULL,
  status TEXT NOT NULL,
  published_at INTEGER NOT NULL,
  first_published_at INTEGER NOT NULL,
  kv_slug TEXT NOT NULL,
  kv_written_at INTEGER NOT NULL,
  kv_pending INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS folio_intent (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  intent TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS folio_intent_post (
  part INTEGER PRIMARY KEY,
  data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS folio_schedule (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  doc_id TEXT NOT NULL,
  action TEXT NOT NULL,
  at INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS folio_schedule_log (
  entry INTEGER PRIMARY KEY,
  action TEXT NOT NULL,
  version INTEGER NOT NULL,
  ran_at INTEGER NOT NULL,
  runs INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS folio_identity (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  doc_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS folio_collection (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS folio_title_field (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  field TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS folio_outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL,
  kind TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS folio_updated_event (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  due INTEGER NOT NULL
);";

/// The intent's post is stored in parts of at most this many bytes (a Durable Object's
/// SQLite row holds at most 2 MB).
const POST_PART_BYTES: usize = 1 << 20;

/// The object's SQLite error, sorted (the adapter's one reading of what the platform said).
fn e(e: worker::Error) -> StoreError {
    StoreError::from_message(e)
}

/// One pending schedule entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: u64,
    pub doc_id: String,
    pub action: Action,
    pub at: Millis,
}

/// A webhook event waiting in the object's outbox.
#[derive(Debug, Clone, Deserialize)]
pub struct Outgoing {
    pub seq: i64,
    pub id: String,
    pub kind: String,
    pub data: String,
    pub created_at: Millis,
}

/// A scheduled entry that ran: which, as what, and when.
#[derive(Debug, Clone, Deserialize)]
pub struct Ran {
    pub entry: u64,
    pub action: String,
    pub version: u64,
    pub ran_at: Millis,
    pub runs: u64,
}

#[derive(Deserialize)]
struct LocalRow {
    doc_id: String,
    version: u64,
    content_hash: String,
    slug: String,
    status: String,
    published_at: Millis,
    first_published_at: Millis,
    kv_slug: String,
    kv_written_at: Millis,
    kv_pending: i64,
}

#[derive(Deserialize)]
struct EntryRow {
    id: u64,
    doc_id: String,
    action: String,
    at: Millis,
}

#[derive(Deserialize)]
struct Text {
    data: String,
}

/// The publishing tables of one object, their schema created.
#[derive(Clone)]
pub struct Tables {
    sql: SqlStorage,
}

impl Tables {
    /// Creates the tables if missing. The object calls this once, then clones the result.
    ///
    /// # Errors
    /// A SQLite error, sorted.
    pub fn open(sql: SqlStorage) -> Result<Self, StoreError> {
        sql.exec(SCHEMA, None).map_err(e)?;
        Ok(Tables { sql })
    }

    fn rows<T: DeserializeOwned>(
        &self,
        query: &str,
        binds: Vec<SqlStorageValue>,
    ) -> Result<Vec<T>, StoreError> {
        self.sql
            .exec(query, binds)
            .map_err(e)?
            .to_array()
            .map_err(e)
    }

    fn run(&self, query: &str, binds: Vec<SqlStorageValue>) -> Result<usize, StoreError> {
        Ok(self.sql.exec(query, binds).map_err(e)?.rows_written())
    }

    /// The confirmed record.
    ///
    /// # Errors
    /// A SQLite error, sorted.
    pub fn local(&self) -> Result<Option<Local>, StoreError> {
        let rows: Vec<LocalRow> = self.rows(
            "SELECT doc_id, version, content_hash, slug, status, published_at, first_published_at,
                    kv_slug, kv_written_at, kv_pending FROM folio_published WHERE id = 1",
            vec![],
        )?;
        Ok(rows.into_iter().next().map(|r| Local {
            doc_id: r.doc_id,
            version: r.version,
            content_hash: r.content_hash,
            slug: r.slug,
            published: r.status == "published",
            published_at: r.published_at,
            first_published_at: r.first_published_at,
            kv_slug: r.kv_slug,
            kv_written_at: r.kv_written_at,
            kv_pending: r.kv_pending != 0,
        }))
    }

    /// Writes the confirmed record.
    ///
    /// # Errors
    /// A SQLite error, sorted.
    pub fn write_local(&self, l: &Local) -> Result<(), StoreError> {
        self.run(
            "INSERT OR REPLACE INTO folio_published (id, doc_id, version, content_hash, slug, status,
               published_at, first_published_at, kv_slug, kv_written_at, kv_pending)
             VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                l.doc_id.clone().into(),
                (l.version as i64).into(),
                l.content_hash.clone().into(),
                l.slug.clone().into(),
                if l.published {
                    "published"
                } else {
                    "unpublished"
                }
                .into(),
                l.published_at.into(),
                l.first_published_at.into(),
                l.kv_slug.clone().into(),
                l.kv_written_at.into(),
                i64::from(l.kv_pending).into(),
            ],
        )
        .map(|_| ())
    }

    fn entries(&self, filter: &str, binds: Vec<SqlStorageValue>) -> Result<Vec<Entry>, StoreError> {
        let query =
            format!("SELECT id, doc_id, action, at FROM folio_schedule {filter} ORDER BY at, id");
        let rows: Vec<EntryRow> = self.rows(&query, binds)?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Action::parse(&r.action).map(|action| Entry {
                    id: r.id,
                    doc_id: r.doc_id,
                    action,
                    at: r.at,
                })
            })
            .collect())
    }

    /// Every pending schedule entry, earliest first.
    ///
    /// # Errors
    /// A SQLite error, sorted.
    pub fn schedule(&self) -> Result<Vec<Entry>, StoreError> {
        self.entries("", vec![])
    }

    /// The entries due at `now`, earliest first.
    ///
    /// # Errors
    /// A SQLite error, sorted.
    pub fn due(&self, now: Millis) -> Result<Vec<Entry>, StoreError> {
        self.entries("WHERE at <= ?", vec![now.into()])
    }

    /// Adds an entry; returns its id.
    ///
    /// # Errors
    /// A SQLite error, sorted.
    pub fn add_entry(
        &self,
        doc_id: &DocId,
        action: Action,
        at: Millis,
        now: Millis,
    ) -> Result<u64, StoreError> {
        self.run(
            "INSERT INTO folio_schedule (doc_id, action, at, created_at) VALUES (?, ?, ?, ?)",
            vec![
                doc_id.as_str().into(),
                action.as_str().into(),
                at.into(),
                now.into(),
            ],
        )?;
        #[derive(Deserialize)]
        struct Id {
            id: u64,
        }
        let ids: Vec<Id> = self.rows("SELECT last_insert_rowid() AS id", vec![])?;
        Ok(ids.first().map_or(0, |i| i.id))
    }

    /// Removes an entry; whether it existed.
    ///
    /// # Errors
    /// A SQLite error, sorted.
    pub fn remove_entry(&self, id: u64) -> Result<bool, StoreError> {
        Ok(self.run(
            "DELETE FROM folio_schedule WHERE id = ?",
            vec![(id as i64).into()],
        )? > 0)
    }

    /// The scheduled entries that ran, newest first (at most 100).
    ///
    /// # Errors
    /// A SQLite error, sorted.
    pub fn ran(&self) -> Result<Vec<Ran>, StoreError> {
        self.rows(
            "SELECT entry, action, version, ran_at, runs FROM folio_schedule_log
             ORDER BY ran_at DESC, entry DESC LIMIT 100",
            vec![],
        )
    }

    /// Records webhook event `kind` (message `id`) to be queued, in the same write as what
    /// it reports when called in the same turn.
    ///
    /// # Errors
    /// A SQLite error, sorted.
    pub fn outbox_add(
        &self,
        id: &str,
        kind: &str,
        data: &str,
        now: Millis,
    ) -> Result<(), StoreError> {
        self.run(
            "INSERT INTO folio_outbox (id, kind, data, created_at) VALUES (?, ?, ?, ?)",
            vec![id.into(), kind.into(), data.into(), now.into()],
        )
        .map(|_| ())
    }

    /// The events not yet queued, oldest first.
    ///
    /// # Errors
    /// A SQLite error, sorted.
    pub fn outbox(&self) -> Result<Vec<Outgoing>, StoreError> {
        self.rows(
            "SELECT seq, id, kind, data, created_at FROM folio_outbox ORDER BY seq LIMIT 100",
            vec![],
        )
    }

    /// Forgets an event once it is queued.
    ///
    /// # Errors
    /// A SQLite error, sorted.
    pub fn outbox_done(&self, seq: i64) -> Result<(), StoreError> {
        self.run("DELETE FROM folio_outbox WHERE seq = ?", vec![seq.into()])
            .map(|_| ())
    }

    /// When the pending `document.updated` event is due, if one is
    /// ([`crate::webhook::Debounce`]).
    pub fn updated_event_due(&self) -> Result<Option<Millis>, StoreError> {
        #[derive(Deserialize)]
        struct Due {
            due: Millis,
        }
        let rows: Vec<Due> =
            self.rows("SELECT due FROM folio_updated_event WHERE id = 1", vec![])?;
        Ok(rows.first().map(|r| r.due))
    }

    /// Records (or with `None` clears) the pending `document.updated` event.
    ///
    /// # Errors
    /// A SQLite error, sorted.
    pub fn set_updated_event_due(&self, due: Option<Millis>) -> Result<(), StoreError> {
        match due {
            Some(at) => self.run(
                "INSERT INTO folio_updated_event (id, due) VALUES (1, ?)
                 ON CONFLICT (id) DO UPDATE SET due = excluded.due",
                vec![at.into()],
            ),
            None => self.run("DELETE FROM folio_updated_event", vec![]),
        }
        .map(|_| ())
    }

    /// Remembers the document's id (the object learns it from the first request; after
    /// hibernation, socket events carry no URL).
    ///
    /// # Errors
    /// A SQLite error, sorted.
    pub fn remember_id(&self, id: &DocId) -> Result<(), StoreError> {
        self.run(
            "INSERT OR IGNORE INTO folio_identity (id, doc_id) VALUES (1, ?)",
            vec![id.as_str().into()],
        )
        .map(|_| ())
    }

    /// The document's id, if the object has learned it.
    pub fn stored_id(&self) -> Option<DocId> {
        let rows: Vec<Text> = self
            .rows(
                "SELECT doc_id AS data FROM folio_identity WHERE id = 1",
                vec![],
            )
            .ok()?;
        DocId::parse(&rows.into_iter().next()?.data).ok()
    }

    /// Remembers the collection the document belongs to (fixed at its creation; read once from
    /// the registry).
    ///
    /// # Errors
    /// A SQLite error, sorted.
    pub fn remember_collection(&self, name: &str) -> Result<(), StoreError> {
        self.run(
            "INSERT OR IGNORE INTO folio_collection (id, name) VALUES (1, ?)",
            vec![name.into()],
        )
        .map(|_| ())
    }

    /// The document's collection, if the object has learned it.
    pub fn stored_collection(&self) -> Option<String> {
        let rows: Vec<Text> = self
            .rows(
                "SELECT name AS data FROM folio_collection WHERE id = 1",
                vec![],
            )
            .ok()?;
        Some(rows.into_iter().next()?.data)
    }

    /// Remembers which text root holds the document's title (its collection's first text
    /// field), for the registry row written on edits (see `touch_registry`).
    ///
    /// # Errors
    /// A SQLite error, sorted.
    pub fn remember_title_field(&self, field: &str) -> Result<(), StoreError> {
        self.run(
            "INSERT INTO folio_title_field (id, field) VALUES (1, ?)
             ON CONFLICT (id) DO UPDATE SET field = excluded.field",
            vec![field.into()],
        )
        .map(|_| ())
    }

    /// The text root holding the document's title, if the object has learned it.
    pub fn stored_title_field(&self) -> Option<String> {
        let rows: Vec<Text> = self
            .rows(
                "SELECT field AS data FROM folio_title_field WHERE id = 1",
                vec![],
            )
            .ok()?;
        Some(rows.into_iter().next()?.data)
    }

    fn log_entry(
        &self,
        entry: u64,
        action: Action,
        version: u64,
        now: Millis,
    ) -> Result<(), StoreError> {
        self.remove_entry(entry)?;
        self.run(
            // `runs` counts: an entry that ran twice would show it (the chaos test checks).
            "INSERT INTO folio_schedule_log (entry, action, version, ran_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (entry) DO UPDATE SET runs = runs + 1",
            vec![
                (entry as i64).into(),
                action.as_str().into(),
                (version as i64).into(),
                now.into(),
            ],
        )
        .map(|_| ())
    }

    fn clear_intent(&self) -> Result<(), StoreError> {
        self.run("DELETE FROM folio_intent", vec![])?;
        self.run("DELETE FROM folio_intent_post", vec![])
            .map(|_| ())
    }
}

/// The journal over the object's tables. `crash_at` is the fault switch's armed step (tests):
/// reaching it stops the operation there, writing nothing more, as a crash would; the object
/// then forgets its memory. `ctx.abort()` is not used: thrown through wasm-bindgen's futures
/// it wedged the whole isolate under workerd (every later request hung), which is a different
/// failure than the one under test. `make chaos` kills the whole process instead.
pub struct SqlJournal {
    pub tables: Tables,
    pub crash_at: Option<String>,
    pub now: Millis,
}

impl Journal for SqlJournal {
    fn local(&self) -> Result<Option<Local>, StoreError> {
        self.tables.local()
    }

    fn intent(&self) -> Result<Option<Intent>, StoreError> {
        let rows: Vec<Text> = self.tables.rows(
            "SELECT intent AS data FROM folio_intent WHERE id = 1",
            vec![],
        )?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(None);
        };
        serde_json::from_str(&row.data)
            .map(Some)
            .map_err(|err| StoreError::Unexpected(format!("the stored intent is damaged: {err}")))
    }

    fn intent_post(&self) -> Result<Option<Post>, StoreError> {
        let rows: Vec<Text> = self
            .tables
            .rows("SELECT data FROM folio_intent_post ORDER BY part", vec![])?;
        let json: String = rows.into_iter().map(|r| r.data).collect();
        if json.is_empty() {
            return Ok(None);
        }
        serde_json::from_str(&json).map(Some).map_err(|err| {
            StoreError::Unexpected(format!("the stored intent's post is damaged: {err}"))
        })
    }

    fn record(&mut self, intent: &Intent, post: Option<&Post>) -> Result<(), StoreError> {
        self.tables.clear_intent()?;
        self.update(intent)?;
        if let Some(post) = post {
            let json = serde_json::to_string(post)
                .map_err(|err| StoreError::Unexpected(err.to_string()))?;
            for (part, piece) in split_utf8(&json, POST_PART_BYTES).enumerate() {
                self.tables.run(
                    "INSERT INTO folio_intent_post (part, data) VALUES (?, ?)",
                    vec![(part as i64).into(), piece.into()],
                )?;
            }
        }
        if let Some(entry) = intent.entry {
            self.tables
                .log_entry(entry, intent.action, intent.version, self.now)?;
        }
        Ok(())
    }

    fn update(&mut self, intent: &Intent) -> Result<(), StoreError> {
        let json =
            serde_json::to_string(intent).map_err(|err| StoreError::Unexpected(err.to_string()))?;
        self.tables
            .run(
                "INSERT OR REPLACE INTO folio_intent (id, intent) VALUES (1, ?)",
                vec![SqlStorageValue::from(json)],
            )
            .map(|_| ())
    }

    fn complete(&mut self, local: &Local) -> Result<(), StoreError> {
        self.tables.write_local(local)?;
        self.tables.clear_intent()
    }

    fn discard(&mut self) -> Result<(), StoreError> {
        self.tables.clear_intent()
    }

    fn consume_entry(
        &mut self,
        entry: u64,
        action: Action,
        version: u64,
    ) -> Result<(), StoreError> {
        self.tables.log_entry(entry, action, version, self.now)
    }

    fn checkpoint(&mut self, step: &str) -> Result<(), StoreError> {
        if self.crash_at.as_deref() != Some(step) {
            return Ok(());
        }
        self.crash_at = None;
        console_error!("fault switch: crashing the document at {step}");
        Err(StoreError::Unavailable(format!(
            "crashed at {step} (fault switch)"
        )))
    }
}
