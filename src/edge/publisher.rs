//! Publishing from a document's object: versions decided in the object's SQLite, flushed to
//! D1 (history, queries) and KV (latest post by slug).
//!
//! # Rules
//! - The caller holds the object's publish lock: one publish/unpublish at a time per document,
//!   so version numbers are decided without races ([`crate::publish`] says how).
//! - The local record is written first; if the D1 flush fails it is put back as it was, so a
//!   version exists everywhere or nowhere (D1's batch is atomic; its writes are idempotent).
//! - KV is written at most once a second per document (Cloudflare's limit per key is one write
//!   a second): a write that comes sooner is left pending and the object's alarm does it,
//!   reading the latest version at that time, so KV never goes back to an older version. A
//!   failed KV write stays pending and the alarm retries it.

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::kv::KvStore;
use worker::{D1Database, D1PreparedStatement, SqlStorage, SqlStorageValue};

use crate::publish::{Post, Rendered};

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS folio_published (
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
)";

/// Minimum time between two KV writes of one document (ms).
pub const KV_WRITE_INTERVAL_MS: i64 = 1000;
/// Delay before retrying a failed KV write (ms).
pub const KV_RETRY_MS: i64 = 2000;

/// The object's own record of its latest version.
#[derive(Debug, Clone, PartialEq)]
pub struct Local {
    pub doc_id: String,
    pub version: u64,
    pub content_hash: String,
    pub slug: String,
    pub published: bool,
    pub published_at: i64,
    pub first_published_at: i64,
    /// The slug whose KV entry holds this document (empty when none).
    pub kv_slug: String,
    pub kv_written_at: i64,
    pub kv_pending: bool,
}

fn text(v: Option<SqlStorageValue>) -> String {
    match v {
        Some(SqlStorageValue::String(s)) => s,
        _ => String::new(),
    }
}

fn int(v: Option<SqlStorageValue>) -> i64 {
    match v {
        Some(SqlStorageValue::Integer(i)) => i,
        Some(SqlStorageValue::Float(f)) => f as i64,
        _ => 0,
    }
}

/// Reads the local record.
///
/// # Errors
/// A SQLite error, as text.
pub fn read_local(sql: &SqlStorage) -> Result<Option<Local>, String> {
    sql.exec(SCHEMA, None).map_err(|e| e.to_string())?;
    let cursor = sql
        .exec(
            "SELECT doc_id, version, content_hash, slug, status, published_at, first_published_at,
                    kv_slug, kv_written_at, kv_pending FROM folio_published WHERE id = 1",
            None,
        )
        .map_err(|e| e.to_string())?;
    let Some(row) = cursor.raw().next() else {
        return Ok(None);
    };
    let mut row = row.map_err(|e| e.to_string())?.into_iter();
    Ok(Some(Local {
        doc_id: text(row.next()),
        version: int(row.next()) as u64,
        content_hash: text(row.next()),
        slug: text(row.next()),
        published: text(row.next()) == "published",
        published_at: int(row.next()),
        first_published_at: int(row.next()),
        kv_slug: text(row.next()),
        kv_written_at: int(row.next()),
        kv_pending: int(row.next()) != 0,
    }))
}

/// Writes (or, with `None`, removes) the local record.
///
/// # Errors
/// A SQLite error, as text.
pub fn write_local(sql: &SqlStorage, local: Option<&Local>) -> Result<(), String> {
    sql.exec(SCHEMA, None).map_err(|e| e.to_string())?;
    let Some(l) = local else {
        return sql
            .exec("DELETE FROM folio_published", None)
            .map(|_| ())
            .map_err(|e| e.to_string());
    };
    sql.exec(
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
    .map_err(|e| e.to_string())
}

fn js(s: &str) -> JsValue {
    JsValue::from_str(s)
}

fn num(n: i64) -> JsValue {
    JsValue::from_f64(n as f64)
}

/// The D1 statements that record `post` as its document's published version.
fn publish_statements(db: &D1Database, post: &Post) -> worker::Result<Vec<D1PreparedStatement>> {
    let tags = serde_json::to_string(&post.content.tags).unwrap_or_else(|_| "[]".into());
    let json = serde_json::to_string(&post.content.json).unwrap_or_else(|_| "null".into());
    let mut statements = vec![
        db.prepare(
            "INSERT OR IGNORE INTO versions (doc_id, version, slug, title, excerpt, tags, html, json,
               text, word_count, content_hash, published_at, first_published_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )
        .bind(&[
            js(&post.doc_id),
            num(post.version as i64),
            js(&post.content.slug),
            js(&post.content.title),
            js(&post.content.excerpt),
            js(&tags),
            js(&post.content.html),
            js(&json),
            js(&post.content.text),
            num(post.content.word_count as i64),
            js(&post.content.content_hash),
            num(post.published_at),
            num(post.first_published_at),
        ])?,
        // Only ever forward: a retried older flush cannot replace a newer version.
        db.prepare(
            "INSERT INTO posts (doc_id, slug, status, version, title, excerpt, tags, published_at,
               first_published_at)
             VALUES (?1, ?2, 'published', ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (doc_id) DO UPDATE SET slug = excluded.slug, status = 'published',
               version = excluded.version, title = excluded.title, excerpt = excluded.excerpt,
               tags = excluded.tags, published_at = excluded.published_at
             WHERE excluded.version >= posts.version",
        )
        .bind(&[
            js(&post.doc_id),
            js(&post.content.slug),
            num(post.version as i64),
            js(&post.content.title),
            js(&post.content.excerpt),
            js(&tags),
            num(post.published_at),
            num(post.first_published_at),
        ])?,
        db.prepare("DELETE FROM post_tags WHERE doc_id = ?1").bind(&[js(&post.doc_id)])?,
    ];
    for tag in &post.content.tags {
        statements.push(
            db.prepare("INSERT OR IGNORE INTO post_tags (tag, doc_id) VALUES (?1, ?2)")
                .bind(&[js(tag), js(&post.doc_id)])?,
        );
    }
    Ok(statements)
}

/// Why a flush to D1 failed.
pub enum FlushError {
    /// The slug belongs to another document (D1's UNIQUE constraint).
    SlugTaken,
    /// D1 failed; the caller answers 503.
    Unavailable(String),
}

fn flush_error(e: worker::Error) -> FlushError {
    let message = e.to_string();
    if message.contains("UNIQUE") && message.contains("slug") {
        FlushError::SlugTaken
    } else {
        FlushError::Unavailable(message)
    }
}

/// Records `post` in D1 (one atomic batch).
///
/// # Errors
/// See [`FlushError`].
pub async fn flush_publish(db: &D1Database, post: &Post) -> Result<(), FlushError> {
    let statements = publish_statements(db, post).map_err(flush_error)?;
    db.batch(statements).await.map_err(flush_error)?;
    Ok(())
}

/// Marks the document's post unpublished in D1.
///
/// # Errors
/// See [`FlushError`].
pub async fn flush_unpublish(db: &D1Database, doc_id: &str) -> Result<(), FlushError> {
    let statements = vec![
        db.prepare("UPDATE posts SET status = 'unpublished' WHERE doc_id = ?1")
            .bind(&[js(doc_id)])
            .map_err(flush_error)?,
        db.prepare("DELETE FROM post_tags WHERE doc_id = ?1")
            .bind(&[js(doc_id)])
            .map_err(flush_error)?,
    ];
    db.batch(statements).await.map_err(flush_error)?;
    Ok(())
}

/// Which document holds `slug` in D1, if any.
///
/// # Errors
/// D1's error, as text.
pub async fn slug_owner(db: &D1Database, slug: &str) -> Result<Option<String>, String> {
    super::d1::first::<String>(
        db,
        "SELECT doc_id FROM posts WHERE slug = ?1",
        &[js(slug)],
        Some("doc_id"),
    )
    .await
}

/// A `versions` row as D1 returns it.
#[derive(Deserialize)]
pub struct VersionRow {
    doc_id: String,
    version: f64,
    slug: String,
    title: String,
    excerpt: String,
    tags: String,
    html: String,
    json: String,
    text: String,
    word_count: f64,
    content_hash: String,
    published_at: f64,
    first_published_at: f64,
}

impl From<VersionRow> for Post {
    fn from(r: VersionRow) -> Post {
        let content = Rendered {
            slug: r.slug,
            title: r.title,
            excerpt: r.excerpt,
            tags: serde_json::from_str(&r.tags).unwrap_or_default(),
            html: r.html,
            json: serde_json::from_str(&r.json).unwrap_or(serde_json::Value::Null),
            text: r.text,
            word_count: r.word_count as u64,
            content_hash: r.content_hash,
        };
        Post::new(
            &r.doc_id,
            r.version as u64,
            content,
            r.published_at as i64,
            r.first_published_at as i64,
        )
    }
}

/// The columns of a version, for `SELECT`s that build a [`Post`].
pub const VERSION_COLUMNS: &str =
    "v.doc_id, v.version, v.slug, v.title, v.excerpt, v.tags, v.html, \
    v.json, v.text, v.word_count, v.content_hash, v.published_at, v.first_published_at";

/// One version of a document from D1.
///
/// # Errors
/// D1's error, as text.
pub async fn version(db: &D1Database, doc_id: &str, version: u64) -> Result<Option<Post>, String> {
    let query =
        format!("SELECT {VERSION_COLUMNS} FROM versions v WHERE v.doc_id = ?1 AND v.version = ?2");
    let row = super::d1::first::<VersionRow>(db, &query, &[js(doc_id), num(version as i64)], None)
        .await?;
    Ok(row.map(Post::from))
}

/// The KV key of the latest post under `slug`.
pub fn kv_key(slug: &str) -> String {
    format!("post:{slug}")
}

/// Brings KV up to the local record if a write is pending and allowed now. Returns when to
/// try again (ms since the epoch), if anything is still pending. `fresh` is the post just
/// published, to save reading it back from D1.
///
/// # Errors
/// A SQLite error (the record could not be read or saved), as text.
pub async fn sync_kv(
    sql: &SqlStorage,
    db: &D1Database,
    kv: &KvStore,
    now: i64,
    fresh: Option<&Post>,
) -> Result<Option<i64>, String> {
    let Some(mut local) = read_local(sql)? else {
        return Ok(None);
    };
    if !local.kv_pending {
        return Ok(None);
    }
    if now - local.kv_written_at < KV_WRITE_INTERVAL_MS {
        return Ok(Some(local.kv_written_at + KV_WRITE_INTERVAL_MS));
    }
    let result: Result<(), String> = async {
        if local.published {
            let post = match fresh.filter(|p| p.version == local.version) {
                Some(p) => p.clone(),
                None => version(db, &local.doc_id, local.version)
                    .await?
                    .ok_or_else(|| format!("version {} missing from D1", local.version))?,
            };
            let body = serde_json::to_string(&post).map_err(|e| e.to_string())?;
            kv.put(&kv_key(&post.content.slug), body)
                .map_err(|e| e.to_string())?
                .execute()
                .await
                .map_err(|e| e.to_string())?;
            if !local.kv_slug.is_empty() && local.kv_slug != post.content.slug {
                kv.delete(&kv_key(&local.kv_slug))
                    .await
                    .map_err(|e| e.to_string())?;
            }
            local.kv_slug = post.content.slug;
        } else if !local.kv_slug.is_empty() {
            kv.delete(&kv_key(&local.kv_slug))
                .await
                .map_err(|e| e.to_string())?;
            local.kv_slug.clear();
        }
        Ok(())
    }
    .await;
    // Another publish may have changed the record while KV was written: keep its fields, only
    // mark what was written (a newer version stays pending).
    let mut latest = read_local(sql)?.unwrap_or_else(|| local.clone());
    match result {
        Ok(()) => {
            latest.kv_written_at = now;
            latest.kv_slug = local.kv_slug.clone();
            latest.kv_pending =
                latest.version != local.version || latest.published != local.published;
            write_local(sql, Some(&latest))?;
            Ok(latest.kv_pending.then_some(now + KV_WRITE_INTERVAL_MS))
        }
        Err(e) => {
            worker::console_error!("KV write for {} failed, retrying: {e}", local.doc_id);
            Ok(Some(now + KV_RETRY_MS))
        }
    }
}

const SCHEDULE_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS folio_schedule (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  doc_id TEXT NOT NULL,
  action TEXT NOT NULL,
  at INTEGER NOT NULL,
  created_at INTEGER NOT NULL
)";

/// One pending schedule entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: u64,
    pub doc_id: String,
    pub action: crate::publish::Action,
    pub at: i64,
}

fn entries_where(
    sql: &SqlStorage,
    filter: &str,
    bindings: Vec<SqlStorageValue>,
) -> Result<Vec<Entry>, String> {
    sql.exec(SCHEDULE_SCHEMA, None).map_err(|e| e.to_string())?;
    let query =
        format!("SELECT id, doc_id, action, at FROM folio_schedule {filter} ORDER BY at, id");
    let cursor = sql.exec(&query, bindings).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for row in cursor.raw() {
        let mut row = row.map_err(|e| e.to_string())?.into_iter();
        let (id, doc_id, action, at) = (
            int(row.next()),
            text(row.next()),
            text(row.next()),
            int(row.next()),
        );
        if let Some(action) = crate::publish::Action::parse(&action) {
            out.push(Entry {
                id: id as u64,
                doc_id,
                action,
                at,
            });
        }
    }
    Ok(out)
}

/// Every pending entry, earliest first.
///
/// # Errors
/// A SQLite error, as text.
pub fn schedule(sql: &SqlStorage) -> Result<Vec<Entry>, String> {
    entries_where(sql, "", vec![])
}

/// The entries due at `now`, earliest first.
///
/// # Errors
/// A SQLite error, as text.
pub fn due(sql: &SqlStorage, now: i64) -> Result<Vec<Entry>, String> {
    entries_where(sql, "WHERE at <= ?", vec![now.into()])
}

/// Adds an entry; returns its id.
///
/// # Errors
/// A SQLite error, as text.
pub fn add_entry(
    sql: &SqlStorage,
    doc_id: &str,
    action: crate::publish::Action,
    at: i64,
    now: i64,
) -> Result<u64, String> {
    sql.exec(SCHEDULE_SCHEMA, None).map_err(|e| e.to_string())?;
    sql.exec(
        "INSERT INTO folio_schedule (doc_id, action, at, created_at) VALUES (?, ?, ?, ?)",
        vec![doc_id.into(), action.as_str().into(), at.into(), now.into()],
    )
    .map_err(|e| e.to_string())?;
    let cursor = sql
        .exec("SELECT last_insert_rowid()", None)
        .map_err(|e| e.to_string())?;
    let id = cursor
        .raw()
        .next()
        .and_then(|r| r.ok())
        .and_then(|r| r.into_iter().next());
    Ok(int(id) as u64)
}

/// Removes an entry; whether it existed.
///
/// # Errors
/// A SQLite error, as text.
pub fn remove_entry(sql: &SqlStorage, id: u64) -> Result<bool, String> {
    sql.exec(SCHEDULE_SCHEMA, None).map_err(|e| e.to_string())?;
    let cursor = sql
        .exec(
            "DELETE FROM folio_schedule WHERE id = ?",
            vec![(id as i64).into()],
        )
        .map_err(|e| e.to_string())?;
    Ok(cursor.rows_written() > 0)
}

/// Updates the document's row in D1's registry (created if missing). `next_publish_at` is
/// written only when given.
///
/// # Errors
/// D1's error, as text.
pub async fn touch(
    db: &D1Database,
    doc_id: &str,
    title: &str,
    now: i64,
    next_publish_at: Option<Option<i64>>,
) -> Result<(), String> {
    match next_publish_at {
        None => {
            let sql = "INSERT INTO documents (id, title, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)
                       ON CONFLICT (id) DO UPDATE SET title = excluded.title, updated_at = excluded.updated_at";
            super::d1::run(db, sql, &[js(doc_id), js(title), num(now)]).await
        }
        Some(next) => {
            let sql = "INSERT INTO documents (id, title, created_at, updated_at, next_publish_at)
                       VALUES (?1, ?2, ?3, ?3, ?4)
                       ON CONFLICT (id) DO UPDATE SET title = excluded.title,
                         updated_at = excluded.updated_at, next_publish_at = excluded.next_publish_at";
            super::d1::run(
                db,
                sql,
                &[
                    js(doc_id),
                    js(title),
                    num(now),
                    next.map_or(JsValue::NULL, num),
                ],
            )
            .await
        }
    }
}

/// Remembers the document's id in the object's storage (the object learns it from the first
/// request; after hibernation, socket events carry no URL).
///
/// # Errors
/// A SQLite error, as text.
pub fn remember_id(sql: &SqlStorage, id: &str) -> Result<(), String> {
    sql.exec("CREATE TABLE IF NOT EXISTS folio_identity (id INTEGER PRIMARY KEY CHECK (id = 1), doc_id TEXT NOT NULL)", None)
        .map_err(|e| e.to_string())?;
    sql.exec(
        "INSERT OR IGNORE INTO folio_identity (id, doc_id) VALUES (1, ?)",
        vec![id.into()],
    )
    .map(|_| ())
    .map_err(|e| e.to_string())
}

/// The document's id, if the object has learned it.
pub fn stored_id(sql: &SqlStorage) -> Option<String> {
    sql.exec("CREATE TABLE IF NOT EXISTS folio_identity (id INTEGER PRIMARY KEY CHECK (id = 1), doc_id TEXT NOT NULL)", None)
        .ok()?;
    let cursor = sql
        .exec("SELECT doc_id FROM folio_identity WHERE id = 1", None)
        .ok()?;
    let row = cursor.raw().next()?.ok()?;
    Some(text(row.into_iter().next())).filter(|s| !s.is_empty())
}
