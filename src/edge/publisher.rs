//! Publishing from a document's object: versions decided in the object's SQLite, flushed to
//! D1 (history, queries) and KV (latest post by slug).
//!
//! # Rules
//! - The caller holds the object's publish lock: one publish/unpublish at a time per document,
//!   so version numbers are decided without races ([`crate::publish`] says how).
//! - A publish or unpublish is an intent first ([`crate::intent`], journal in
//!   [`super::intents`]); the confirmed record here changes only once D1 has the change.
//! - A version's body is stored in parts ([`crate::publish::body_parts`]), written before the
//!   version's row; every write is idempotent and `posts` only moves to a version whose
//!   stored hash is the one being published.
//! - KV is written at most once a second per document (Cloudflare's limit per key is one write
//!   a second): a write that comes sooner is left pending and the object's alarm does it,
//!   reading the latest version at that time, so KV never goes back to an older version. A
//!   failed KV write stays pending and the alarm retries it.

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::kv::KvStore;
use worker::{D1Database, SqlStorage, SqlStorageValue};

use crate::limits::{MAX_KV_POST_BYTES, POST_PART_BYTES};
use crate::publish::{body_parts, join_parts, KvPost, Post, Rendered};

pub use crate::intent::Local;

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

pub fn text(v: Option<SqlStorageValue>) -> String {
    match v {
        Some(SqlStorageValue::String(s)) => s,
        _ => String::new(),
    }
}

pub fn int(v: Option<SqlStorageValue>) -> i64 {
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

/// Parts written per D1 batch (each at most [`POST_PART_BYTES`]).
const PARTS_PER_BATCH: usize = 8;

/// Records `post` in D1, idempotently: its body's parts, then one atomic batch with its
/// version row, the post row (only forward, and only to a version holding this content) and
/// its tags. Returns the content hash D1 holds under the version number.
///
/// # Errors
/// D1's error, as text ([`crate::intent::classify`] sorts it).
pub async fn write_post(db: &D1Database, post: &Post) -> Result<Option<String>, String> {
    let e = |e: worker::Error| e.to_string();
    let c = &post.content;
    let parts = body_parts(c, POST_PART_BYTES);
    let doc = js(&post.doc_id);
    let version = num(post.version as i64);
    let hash = js(&c.content_hash);
    for (batch_no, batch) in parts.chunks(PARTS_PER_BATCH).enumerate() {
        let mut statements = Vec::with_capacity(batch.len());
        for (i, data) in batch.iter().enumerate() {
            let part = (batch_no * PARTS_PER_BATCH + i) as i64;
            statements.push(
                db.prepare(
                    "INSERT OR IGNORE INTO version_parts (doc_id, version, content_hash, part, data)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .bind(&[doc.clone(), version.clone(), hash.clone(), num(part), js(data)])
                .map_err(e)?,
            );
        }
        db.batch(statements).await.map_err(e)?;
    }
    let tags = serde_json::to_string(&c.tags).unwrap_or_else(|_| "[]".into());
    // This version holds this content: the guard of every write that points at it.
    const OURS: &str =
        "EXISTS (SELECT 1 FROM versions WHERE doc_id = ?1 AND version = ?2 AND content_hash = ?3)";
    let mut statements = vec![
        db.prepare(
            "INSERT INTO versions (doc_id, version, slug, title, excerpt, tags, html, json, text,
               word_count, content_hash, published_at, first_published_at, parts)
             VALUES (?1, ?2, ?4, ?5, ?6, ?7, '', 'null', '', ?8, ?3, ?9, ?10, ?11)
             ON CONFLICT (doc_id, version) DO NOTHING",
        )
        .bind(&[
            doc.clone(),
            version.clone(),
            hash.clone(),
            js(&c.slug),
            js(&c.title),
            js(&c.excerpt),
            js(&tags),
            num(c.word_count as i64),
            num(post.published_at),
            num(post.first_published_at),
            num(parts.len() as i64),
        ])
        .map_err(e)?,
        db.prepare(format!(
            "INSERT INTO posts (doc_id, slug, status, version, title, excerpt, tags, published_at,
               first_published_at)
             SELECT ?1, ?4, 'published', ?2, ?5, ?6, ?7, ?8, ?9 WHERE {OURS}
             ON CONFLICT (doc_id) DO UPDATE SET slug = excluded.slug, status = 'published',
               version = excluded.version, title = excluded.title, excerpt = excluded.excerpt,
               tags = excluded.tags, published_at = excluded.published_at
             WHERE excluded.version >= posts.version"
        ))
        .bind(&[
            doc.clone(),
            version.clone(),
            hash.clone(),
            js(&c.slug),
            js(&c.title),
            js(&c.excerpt),
            js(&tags),
            num(post.published_at),
            num(post.first_published_at),
        ])
        .map_err(e)?,
    ];
    // Tags follow the post row only when it points at this version.
    const CURRENT: &str =
        "EXISTS (SELECT 1 FROM posts WHERE doc_id = ?1 AND version = ?2 AND status = 'published')";
    statements.push(
        db.prepare(format!(
            "DELETE FROM post_tags WHERE doc_id = ?1 AND {CURRENT}"
        ))
        .bind(&[doc.clone(), version.clone()])
        .map_err(e)?,
    );
    for tag in &c.tags {
        statements.push(
            db.prepare(format!(
                "INSERT OR IGNORE INTO post_tags (tag, doc_id) SELECT ?3, ?1 WHERE {CURRENT}"
            ))
            .bind(&[doc.clone(), version.clone(), js(tag)])
            .map_err(e)?,
        );
    }
    statements.push(
        db.prepare("SELECT content_hash FROM versions WHERE doc_id = ?1 AND version = ?2")
            .bind(&[doc, version])
            .map_err(e)?,
    );
    let results = db.batch(statements).await.map_err(e)?;
    #[derive(Deserialize)]
    struct Hash {
        content_hash: String,
    }
    let stored = match results.last() {
        Some(last) => last.results::<Hash>().map_err(e)?,
        None => vec![],
    };
    Ok(stored.into_iter().next().map(|h| h.content_hash))
}

/// Marks the document's post unpublished in D1.
///
/// # Errors
/// D1's error, as text.
pub async fn write_unpublish(db: &D1Database, doc_id: &str) -> Result<(), String> {
    let e = |e: worker::Error| e.to_string();
    let statements = vec![
        db.prepare("UPDATE posts SET status = 'unpublished' WHERE doc_id = ?1")
            .bind(&[js(doc_id)])
            .map_err(e)?,
        db.prepare("DELETE FROM post_tags WHERE doc_id = ?1")
            .bind(&[js(doc_id)])
            .map_err(e)?,
    ];
    db.batch(statements).await.map_err(e)?;
    Ok(())
}

/// Who holds `slug` in D1, and the highest version D1 has of `doc_id`.
///
/// # Errors
/// D1's error, as text.
pub async fn stored(
    db: &D1Database,
    doc_id: &str,
    slug: &str,
) -> Result<crate::intent::Stored, String> {
    #[derive(Deserialize)]
    struct Row {
        owner: Option<String>,
        max_version: Option<f64>,
    }
    let row = super::d1::first::<Row>(
        db,
        "SELECT (SELECT doc_id FROM posts WHERE slug = ?1) AS owner,
                (SELECT MAX(version) FROM versions WHERE doc_id = ?2) AS max_version",
        &[js(slug), js(doc_id)],
        None,
    )
    .await?;
    Ok(crate::intent::Stored {
        slug_owner: row.as_ref().and_then(|r| r.owner.clone()),
        max_version: row.and_then(|r| r.max_version).map_or(0, |v| v as u64),
    })
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
    /// How many parts hold the body in `version_parts` (0: in this row, before 0005).
    #[serde(default)]
    parts: Option<f64>,
}

/// The post of `row`, with its body read from its parts if it has any.
///
/// # Errors
/// D1's error, or a damaged body, as text.
pub async fn load_post(db: &D1Database, row: VersionRow) -> Result<Post, String> {
    let parts = row.parts.unwrap_or(0.0) as usize;
    if parts == 0 {
        return Ok(Post::from(row));
    }
    #[derive(Deserialize)]
    struct Part {
        data: String,
    }
    let rows = super::d1::all::<Part>(
        db,
        "SELECT data FROM version_parts WHERE doc_id = ?1 AND version = ?2 AND content_hash = ?3
         ORDER BY part",
        &[
            js(&row.doc_id),
            num(row.version as i64),
            js(&row.content_hash),
        ],
    )
    .await?;
    if rows.len() != parts {
        return Err(format!(
            "version {} of {} has {} of its {parts} parts",
            row.version,
            row.doc_id,
            rows.len()
        ));
    }
    let body = join_parts(&rows.into_iter().map(|p| p.data).collect::<Vec<_>>())?;
    let mut post = Post::from(row);
    post.content.html = body.html;
    post.content.json = body.json;
    post.content.text = body.text;
    Ok(post)
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
    v.json, v.text, v.word_count, v.content_hash, v.published_at, v.first_published_at, v.parts";

/// One version of a document from D1.
///
/// # Errors
/// D1's error, as text.
pub async fn version(db: &D1Database, doc_id: &str, version: u64) -> Result<Option<Post>, String> {
    let query =
        format!("SELECT {VERSION_COLUMNS} FROM versions v WHERE v.doc_id = ?1 AND v.version = ?2");
    let row = super::d1::first::<VersionRow>(db, &query, &[js(doc_id), num(version as i64)], None)
        .await?;
    match row {
        Some(row) => load_post(db, row).await.map(Some),
        None => Ok(None),
    }
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
            let body = KvPost::of(&post, MAX_KV_POST_BYTES).to_json();
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
            // A tombstone, not a delete: readers answer 404 from it without asking D1. The
            // slug stays this document's in D1 while it is unpublished, so no other post can
            // need the key; a later publish under another slug deletes it.
            let gone = KvPost::Gone {
                doc_id: local.doc_id.clone(),
                version: local.version,
            };
            kv.put(&kv_key(&local.kv_slug), gone.to_json())
                .map_err(|e| e.to_string())?
                .execute()
                .await
                .map_err(|e| e.to_string())?;
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

/// What the document list shows of a document's publishing, besides its post row.
pub struct Registry {
    /// The earliest pending scheduled publish (ms).
    pub next_publish_at: Option<i64>,
    /// The pending or failed publish/unpublish, as JSON (see `intent_json` in the object).
    pub problem: Option<String>,
}

/// Updates the document's row in D1's registry (created if missing). `publishing` is
/// written only when given.
///
/// # Errors
/// D1's error, as text.
pub async fn touch(
    db: &D1Database,
    doc_id: &str,
    title: &str,
    now: i64,
    publishing: Option<Registry>,
) -> Result<(), String> {
    match publishing {
        None => {
            let sql = "INSERT INTO documents (id, title, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)
                       ON CONFLICT (id) DO UPDATE SET title = excluded.title, updated_at = excluded.updated_at";
            super::d1::run(db, sql, &[js(doc_id), js(title), num(now)]).await
        }
        Some(r) => {
            let sql = "INSERT INTO documents (id, title, created_at, updated_at, next_publish_at,
                         publish_problem)
                       VALUES (?1, ?2, ?3, ?3, ?4, ?5)
                       ON CONFLICT (id) DO UPDATE SET title = excluded.title,
                         updated_at = excluded.updated_at, next_publish_at = excluded.next_publish_at,
                         publish_problem = excluded.publish_problem";
            let problem = r.problem.as_deref().map_or(JsValue::NULL, js);
            let next = r.next_publish_at.map_or(JsValue::NULL, num);
            super::d1::run(db, sql, &[js(doc_id), js(title), num(now), next, problem]).await
        }
    }
}

/// What D1 holds of `doc_id`'s post: its row, and the hash of the version it points at.
///
/// # Errors
/// D1's error, as text.
pub async fn d1_view(db: &D1Database, doc_id: &str) -> Result<serde_json::Value, String> {
    #[derive(Deserialize)]
    struct Row {
        slug: String,
        status: String,
        version: f64,
        content_hash: Option<String>,
        max_version: Option<f64>,
    }
    let row = super::d1::first::<Row>(
        db,
        "SELECT p.slug, p.status, p.version, v.content_hash,
                (SELECT MAX(version) FROM versions WHERE doc_id = ?1) AS max_version
         FROM posts p LEFT JOIN versions v ON v.doc_id = p.doc_id AND v.version = p.version
         WHERE p.doc_id = ?1",
        &[js(doc_id)],
        None,
    )
    .await?;
    Ok(match row {
        Some(r) => serde_json::json!({
            "slug": r.slug,
            "status": r.status,
            "version": r.version as u64,
            "content_hash": r.content_hash,
            "max_version": r.max_version.map(|v| v as u64),
        }),
        None => serde_json::Value::Null,
    })
}

/// What KV holds under `slug`: the post's version and hash, a pointer, or a tombstone.
pub async fn kv_view(kv: &KvStore, slug: &str) -> serde_json::Value {
    match kv.get(&kv_key(slug)).text().await {
        Ok(Some(text)) => match KvPost::parse(&text) {
            Some(KvPost::Post(p)) => serde_json::json!({
                "slug": slug, "state": "post", "version": p.version,
                "content_hash": p.content.content_hash,
            }),
            Some(KvPost::InD1 { version, .. }) => {
                serde_json::json!({ "slug": slug, "state": "in_d1", "version": version })
            }
            Some(KvPost::Gone { version, .. }) => {
                serde_json::json!({ "slug": slug, "state": "gone", "version": version })
            }
            None => serde_json::json!({ "slug": slug, "state": "unreadable" }),
        },
        Ok(None) => serde_json::json!({ "slug": slug, "state": "missing" }),
        Err(e) => serde_json::json!({ "slug": slug, "error": e.to_string() }),
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
