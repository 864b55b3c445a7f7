//! The publish intent's journal in the document's SQLite, and the world it is written to (D1
//! and the object's alarm): the edge side of [`crate::intent`].
//!
//! Every [`Journal`] method is synchronous, so its statements commit together (a Durable
//! Object coalesces the writes of one turn into one atomic write) and the output gate holds
//! any reply until they are durable.

use worker::{console_error, D1Database, SqlStorage, SqlStorageValue, State};

use crate::intent::{Intent, Journal, Local, Stored, World};
use crate::publish::{split_utf8, Action, Post};

use super::publisher::{self, int, read_local, text, write_local};

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS folio_intent (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  intent TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS folio_intent_post (
  part INTEGER PRIMARY KEY,
  data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS folio_schedule_log (
  entry INTEGER PRIMARY KEY,
  action TEXT NOT NULL,
  version INTEGER NOT NULL,
  ran_at INTEGER NOT NULL,
  runs INTEGER NOT NULL DEFAULT 1
)";

/// The intent's post is stored in parts of at most this many bytes (a Durable Object's
/// SQLite row holds at most 2 MB).
const POST_PART_BYTES: usize = 1 << 20;

/// A scheduled entry that ran: which, as what, and when.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Ran {
    pub entry: u64,
    pub action: String,
    pub version: u64,
    pub ran_at: i64,
    pub runs: u64,
}

/// The journal over the object's SQLite. `crash_at` is the fault switch's armed step (tests):
/// reaching it stops the operation there, writing nothing more, as a crash would; the object
/// then forgets its memory ([`super::object`]). `ctx.abort()` is not used: thrown through
/// wasm-bindgen's futures it wedged the whole isolate under workerd (every later request
/// hung), which is a different failure than the one under test. `make chaos` kills the whole
/// process instead.
pub struct SqlJournal {
    pub sql: SqlStorage,
    pub crash_at: Option<String>,
    pub now: i64,
}

fn e(e: worker::Error) -> String {
    e.to_string()
}

impl SqlJournal {
    fn schema(&self) -> Result<(), String> {
        self.sql.exec(SCHEMA, None).map(|_| ()).map_err(e)
    }

    fn log_entry(&self, entry: u64, action: Action, version: u64) -> Result<(), String> {
        self.sql
            .exec(
                "DELETE FROM folio_schedule WHERE id = ?",
                vec![(entry as i64).into()],
            )
            .map_err(e)?;
        self.sql
            .exec(
                // `runs` counts: an entry that ran twice would show it (the chaos test checks).
                "INSERT INTO folio_schedule_log (entry, action, version, ran_at) VALUES (?, ?, ?, ?)
                 ON CONFLICT (entry) DO UPDATE SET runs = runs + 1",
                vec![
                    (entry as i64).into(),
                    action.as_str().into(),
                    (version as i64).into(),
                    self.now.into(),
                ],
            )
            .map(|_| ())
            .map_err(e)
    }

    fn clear(&self) -> Result<(), String> {
        self.sql.exec("DELETE FROM folio_intent", None).map_err(e)?;
        self.sql
            .exec("DELETE FROM folio_intent_post", None)
            .map(|_| ())
            .map_err(e)
    }

    /// The scheduled entries that ran, newest first (at most 100).
    pub fn ran(&self) -> Result<Vec<Ran>, String> {
        self.schema()?;
        let cursor = self
            .sql
            .exec(
                "SELECT entry, action, version, ran_at, runs FROM folio_schedule_log
                 ORDER BY ran_at DESC, entry DESC LIMIT 100",
                None,
            )
            .map_err(e)?;
        let mut out = vec![];
        for row in cursor.raw() {
            let mut row = row.map_err(e)?.into_iter();
            out.push(Ran {
                entry: int(row.next()) as u64,
                action: text(row.next()),
                version: int(row.next()) as u64,
                ran_at: int(row.next()),
                runs: int(row.next()) as u64,
            });
        }
        Ok(out)
    }
}

impl Journal for SqlJournal {
    fn local(&self) -> Result<Option<Local>, String> {
        read_local(&self.sql)
    }

    fn intent(&self) -> Result<Option<Intent>, String> {
        self.schema()?;
        let cursor = self
            .sql
            .exec("SELECT intent FROM folio_intent WHERE id = 1", None)
            .map_err(e)?;
        let Some(row) = cursor.raw().next() else {
            return Ok(None);
        };
        let json = text(row.map_err(e)?.into_iter().next());
        serde_json::from_str(&json)
            .map(Some)
            .map_err(|err| format!("the stored intent is damaged: {err}"))
    }

    fn intent_post(&self) -> Result<Option<Post>, String> {
        self.schema()?;
        let cursor = self
            .sql
            .exec("SELECT data FROM folio_intent_post ORDER BY part", None)
            .map_err(e)?;
        let mut json = String::new();
        for row in cursor.raw() {
            json.push_str(&text(row.map_err(e)?.into_iter().next()));
        }
        if json.is_empty() {
            return Ok(None);
        }
        serde_json::from_str(&json)
            .map(Some)
            .map_err(|err| format!("the stored intent's post is damaged: {err}"))
    }

    fn record(&mut self, intent: &Intent, post: Option<&Post>) -> Result<(), String> {
        self.schema()?;
        self.clear()?;
        self.update(intent)?;
        if let Some(post) = post {
            let json = serde_json::to_string(post).map_err(|err| err.to_string())?;
            for (part, piece) in split_utf8(&json, POST_PART_BYTES).enumerate() {
                self.sql
                    .exec(
                        "INSERT INTO folio_intent_post (part, data) VALUES (?, ?)",
                        vec![(part as i64).into(), piece.into()],
                    )
                    .map_err(e)?;
            }
        }
        if let Some(entry) = intent.entry {
            self.log_entry(entry, intent.action, intent.version)?;
        }
        Ok(())
    }

    fn update(&mut self, intent: &Intent) -> Result<(), String> {
        self.schema()?;
        let json = serde_json::to_string(intent).map_err(|err| err.to_string())?;
        self.sql
            .exec(
                "INSERT OR REPLACE INTO folio_intent (id, intent) VALUES (1, ?)",
                vec![SqlStorageValue::from(json)],
            )
            .map(|_| ())
            .map_err(e)
    }

    fn complete(&mut self, local: &Local) -> Result<(), String> {
        self.schema()?;
        write_local(&self.sql, Some(local))?;
        self.clear()
    }

    fn discard(&mut self) -> Result<(), String> {
        self.schema()?;
        self.clear()
    }

    fn consume_entry(&mut self, entry: u64, action: Action, version: u64) -> Result<(), String> {
        self.schema()?;
        self.log_entry(entry, action, version)
    }

    fn checkpoint(&mut self, step: &str) -> Result<(), String> {
        if self.crash_at.as_deref() != Some(step) {
            return Ok(());
        }
        self.crash_at = None;
        console_error!("fault switch: crashing the document at {step}");
        Err(format!("crashed at {step} (fault switch)"))
    }
}

/// D1, and the object's alarm.
pub struct D1World<'a> {
    pub db: &'a D1Database,
    pub state: &'a State,
    /// The fault switch: the next write fails with this error, unwritten (tests only).
    pub fail: Option<String>,
}

impl World for D1World<'_> {
    async fn stored(&mut self, doc_id: &str, slug: &str) -> Result<Stored, String> {
        publisher::stored(self.db, doc_id, slug).await
    }

    async fn write_post(&mut self, post: &Post) -> Result<Option<String>, String> {
        if let Some(e) = self.fail.take() {
            return Err(e);
        }
        publisher::write_post(self.db, post).await
    }

    async fn write_unpublish(&mut self, doc_id: &str) -> Result<(), String> {
        if let Some(e) = self.fail.take() {
            return Err(e);
        }
        publisher::write_unpublish(self.db, doc_id).await
    }

    async fn arm(&mut self, at: i64) -> Result<(), String> {
        let storage = self.state.storage();
        let later = match storage.get_alarm().await {
            Ok(Some(current)) => current > at,
            _ => true,
        };
        if later {
            let now = worker::Date::now().as_millis() as i64;
            storage
                .set_alarm((at - now).max(0))
                .await
                .map_err(|err| err.to_string())?;
        }
        Ok(())
    }
}
