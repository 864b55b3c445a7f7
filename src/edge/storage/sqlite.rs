//! [`Storage`] over the Durable Object's SQLite database.
//!
//! Each method is one `sql.exec`, which the runtime makes atomic. All of them are synchronous,
//! so the room's "append before relay" holds within one turn of the event loop, and the
//! object's output gate holds outgoing messages until the writes are durable.

use worker::{SqlStorage, SqlStorageValue};

use crate::error::StorageError;
use crate::sync::store::{Head, Storage};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS folio_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  generation INTEGER NOT NULL,
  chunks INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  checksum INTEGER NOT NULL,
  log_through INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS folio_chunks (
  generation INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (generation, idx)
);
CREATE TABLE IF NOT EXISTS folio_log (
  seq INTEGER PRIMARY KEY,
  data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS folio_clients (
  client INTEGER PRIMARY KEY,
  user TEXT NOT NULL
);";

/// The document's SQLite tables.
pub struct SqlStore {
    sql: SqlStorage,
}

fn err(e: impl std::fmt::Display) -> StorageError {
    StorageError(e.to_string())
}

fn int(v: u64) -> SqlStorageValue {
    // Sequence numbers, sizes and generations stay far below 2^53.
    SqlStorageValue::Integer(v as i64)
}

fn as_u64(v: &SqlStorageValue) -> Result<u64, StorageError> {
    match v {
        SqlStorageValue::Integer(i) if *i >= 0 => Ok(*i as u64),
        SqlStorageValue::Float(f) if *f >= 0.0 => Ok(*f as u64),
        other => Err(StorageError(format!(
            "expected an integer, found {other:?}"
        ))),
    }
}

fn as_blob(v: SqlStorageValue) -> Result<Vec<u8>, StorageError> {
    match v {
        SqlStorageValue::Blob(b) => Ok(b),
        other => Err(StorageError(format!("expected a blob, found {other:?}"))),
    }
}

impl SqlStore {
    /// Opens the tables, creating them on first use.
    ///
    /// # Errors
    /// [`StorageError`] if SQLite refuses the schema.
    pub fn open(sql: SqlStorage) -> Result<Self, StorageError> {
        sql.exec(SCHEMA, None).map_err(err)?;
        Ok(SqlStore { sql })
    }

    fn rows(
        &self,
        query: &str,
        bindings: Vec<SqlStorageValue>,
    ) -> Result<Vec<Vec<SqlStorageValue>>, StorageError> {
        let cursor = self.sql.exec(query, bindings).map_err(err)?;
        cursor.raw().map(|row| row.map_err(err)).collect()
    }

    /// Rows of (integer, blob) from a query with one integer parameter.
    fn keyed_blobs(&self, query: &str, param: u64) -> Result<Vec<(u64, Vec<u8>)>, StorageError> {
        self.rows(query, vec![int(param)])?
            .into_iter()
            .map(|row| {
                let mut row = row.into_iter();
                match (row.next(), row.next()) {
                    (Some(key), Some(data)) => Ok((as_u64(&key)?, as_blob(data)?)),
                    _ => Err(StorageError(format!(
                        "a row of '{query}' has the wrong shape"
                    ))),
                }
            })
            .collect()
    }

    /// Everything stored, raw ([`crate::sync::store::Export`]).
    ///
    /// # Errors
    /// [`StorageError`] if SQLite cannot be read.
    pub fn export(&self) -> Result<crate::sync::store::Export, crate::error::Error> {
        Ok(crate::sync::store::Export::read(self)?)
    }

    fn run(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Result<(), StorageError> {
        self.sql.exec(query, bindings).map_err(err).map(|_| ())
    }
}

impl Storage for SqlStore {
    fn head(&self) -> Result<Option<Head>, StorageError> {
        let rows = self.rows(
            "SELECT generation, chunks, bytes, checksum, log_through FROM folio_head WHERE id = 1",
            vec![],
        )?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(None);
        };
        let [generation, chunks, bytes, checksum, log_through] = row.as_slice() else {
            return Err(StorageError("head row has the wrong shape".into()));
        };
        Ok(Some(Head {
            generation: as_u64(generation)?,
            chunks: as_u64(chunks)? as u32,
            bytes: as_u64(bytes)?,
            checksum: as_u64(checksum)? as u32,
            log_through: as_u64(log_through)?,
        }))
    }

    fn put_head(&mut self, head: &Head) -> Result<(), StorageError> {
        self.run(
            "INSERT OR REPLACE INTO folio_head (id, generation, chunks, bytes, checksum, log_through)
             VALUES (1, ?, ?, ?, ?, ?)",
            vec![
                int(head.generation),
                int(head.chunks.into()),
                int(head.bytes),
                int(head.checksum.into()),
                int(head.log_through),
            ],
        )
    }

    fn chunks(&self, generation: u64) -> Result<Vec<(u32, Vec<u8>)>, StorageError> {
        let rows = self.keyed_blobs(
            "SELECT idx, data FROM folio_chunks WHERE generation = ? ORDER BY idx",
            generation,
        )?;
        Ok(rows
            .into_iter()
            .map(|(idx, data)| (idx as u32, data))
            .collect())
    }

    fn put_chunk(&mut self, generation: u64, index: u32, bytes: &[u8]) -> Result<(), StorageError> {
        self.run(
            "INSERT OR REPLACE INTO folio_chunks (generation, idx, data) VALUES (?, ?, ?)",
            vec![
                int(generation),
                int(index.into()),
                SqlStorageValue::Blob(bytes.to_vec()),
            ],
        )
    }

    fn delete_chunks_except(&mut self, generation: u64) -> Result<(), StorageError> {
        self.run(
            "DELETE FROM folio_chunks WHERE generation != ?",
            vec![int(generation)],
        )
    }

    fn log_after(&self, seq: u64) -> Result<Vec<(u64, Vec<u8>)>, StorageError> {
        self.keyed_blobs(
            "SELECT seq, data FROM folio_log WHERE seq > ? ORDER BY seq",
            seq,
        )
    }

    fn append(&mut self, seq: u64, update: &[u8]) -> Result<(), StorageError> {
        self.run(
            "INSERT INTO folio_log (seq, data) VALUES (?, ?)",
            vec![int(seq), SqlStorageValue::Blob(update.to_vec())],
        )
    }

    fn delete_log_through(&mut self, seq: u64) -> Result<(), StorageError> {
        self.run("DELETE FROM folio_log WHERE seq <= ?", vec![int(seq)])
    }

    fn owner(&self, client: u64) -> Result<Option<String>, StorageError> {
        let rows = self.rows(
            "SELECT user FROM folio_clients WHERE client = ?",
            vec![int(client)],
        )?;
        match rows
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().next())
        {
            None => Ok(None),
            Some(SqlStorageValue::String(user)) => Ok(Some(user)),
            Some(other) => Err(StorageError(format!(
                "an owner row holds {other:?}, not a user"
            ))),
        }
    }

    fn bind(&mut self, client: u64, user: &str) -> Result<(), StorageError> {
        // The first binding stays: a race cannot hand an id to a second user.
        self.run(
            "INSERT OR IGNORE INTO folio_clients (client, user) VALUES (?, ?)",
            vec![int(client), SqlStorageValue::String(user.to_string())],
        )
    }
}
