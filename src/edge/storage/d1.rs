//! Every D1 statement of Folio, with typed rows: the published versions and posts (written by
//! a document's object, read by the reader API), the document registry, used invitations.
//! Errors are sorted here, once, into a [`StoreError`] ([`sorted`]): callers answer 503 with a
//! message of their own and log the detail, and [`crate::publish::intent::classify`] decides
//! from the kind whether a publish's failure is permanent.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Env};

use crate::doc_id::DocId;
use crate::error::StoreError;
use crate::limits::POST_PART_BYTES;
use crate::publish::filter::{Operand, Statement};
use crate::publish::intent::Stored;
use crate::publish::{body_parts, join_parts, Body, EntryRecord, ListQuery, Post, Rendered};
use crate::time::Millis;

/// The `DB` binding (wrangler.toml).
///
/// # Errors
/// The binding is missing, as text.
pub fn db(env: &Env) -> Result<D1Database, StoreError> {
    env.d1("DB")
        .map_err(|e| StoreError::Unavailable(format!("the DB binding: {e}")))
}

/// D1's error, sorted: the adapter's one reading of what the platform said.
pub(super) fn sorted(e: worker::Error) -> StoreError {
    StoreError::from_message(e)
}

pub(super) fn js(s: &str) -> JsValue {
    JsValue::from_str(s)
}

pub(super) fn num(n: i64) -> JsValue {
    JsValue::from_f64(n as f64)
}

/// Every row of `sql` with `binds`.
pub(super) async fn all<T: DeserializeOwned>(
    db: &D1Database,
    sql: &str,
    binds: &[JsValue],
) -> Result<Vec<T>, StoreError> {
    db.prepare(sql)
        .bind(binds)
        .map_err(sorted)?
        .all()
        .await
        .map_err(sorted)?
        .results()
        .map_err(sorted)
}

/// The first row of `sql` with `binds` (or one column of it, with `column`).
pub(super) async fn first<T: DeserializeOwned>(
    db: &D1Database,
    sql: &str,
    binds: &[JsValue],
    column: Option<&str>,
) -> Result<Option<T>, StoreError> {
    db.prepare(sql)
        .bind(binds)
        .map_err(sorted)?
        .first::<T>(column)
        .await
        .map_err(sorted)
}

/// Runs a statement.
pub(super) async fn run(db: &D1Database, sql: &str, binds: &[JsValue]) -> Result<(), StoreError> {
    db.prepare(sql)
        .bind(binds)
        .map_err(sorted)?
        .run()
        .await
        .map_err(sorted)?;
    Ok(())
}

/// Runs an `INSERT`; `Ok(false)` if the row already exists (a uniqueness constraint).
async fn insert(db: &D1Database, sql: &str, binds: &[JsValue]) -> Result<bool, StoreError> {
    match run(db, sql, binds).await {
        Ok(()) => Ok(true),
        Err(StoreError::Unique { .. } | StoreError::Constraint(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// This version holds this content (`?1` doc, `?2` version, `?3` hash): the guard of every
/// write that points at a version.
const OURS: &str =
    "EXISTS (SELECT 1 FROM versions WHERE doc_id = ?1 AND version = ?2 AND content_hash = ?3)";

/// Parts written per D1 batch (each at most [`POST_PART_BYTES`]).
const PARTS_PER_BATCH: usize = 8;

/// Records `post` in D1, idempotently: its body's parts, then one atomic batch with its
/// version row, the post row (only forward, and only to a version holding this content) and
/// its tags. Returns the content hash D1 holds under the version number.
///
/// # Errors
/// D1's error, as text ([`crate::publish::intent::classify`] sorts it).
pub async fn write_post(db: &D1Database, post: &Post) -> Result<Option<String>, StoreError> {
    let e = sorted;
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
    let mut statements = vec![db
        .prepare(
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
        .map_err(e)?];
    match &c.entry {
        None => post_statements(db, post, &tags, &mut statements).map_err(e)?,
        Some(entry) => entry_statements(db, post, entry, &mut statements).map_err(e)?,
    }
    if !c.media.is_empty() {
        statements.push(super::media::published_refs(db, &post.doc_id, &c.media).map_err(e)?);
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

/// The statements that publish a post (after its version row): the post row (only forward,
/// only to a version holding this content) and its tags, which follow the row only when it
/// points at this version.
fn post_statements(
    db: &D1Database,
    post: &Post,
    tags: &str,
    statements: &mut Vec<D1PreparedStatement>,
) -> Result<(), worker::Error> {
    let c = &post.content;
    let doc = js(&post.doc_id);
    let version = num(post.version as i64);
    let hash = js(&c.content_hash);
    statements.push(
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
            js(tags),
            num(post.published_at),
            num(post.first_published_at),
        ])?,
    );
    // Tags follow the post row only when it points at this version.
    const CURRENT: &str =
        "EXISTS (SELECT 1 FROM posts WHERE doc_id = ?1 AND version = ?2 AND status = 'published')";
    statements.push(
        db.prepare(format!(
            "DELETE FROM post_tags WHERE doc_id = ?1 AND {CURRENT}"
        ))
        .bind(&[doc.clone(), version.clone()])?,
    );
    for tag in &c.tags {
        statements.push(
            db.prepare(format!(
                "INSERT OR IGNORE INTO post_tags (tag, doc_id) SELECT ?3, ?1 WHERE {CURRENT}"
            ))
            .bind(&[doc.clone(), version.clone(), js(tag)])?,
        );
    }
    Ok(())
}

/// Index rows written per statement (3 binds each, under D1's 100 per statement).
const VALUES_PER_STATEMENT: usize = 30;

/// The statements that publish `entry` (after its version row): the entries row (only
/// forward, only to a version holding this content) and its indexed values, which follow the
/// row only when it points at this version.
fn entry_statements(
    db: &D1Database,
    post: &Post,
    entry: &EntryRecord,
    statements: &mut Vec<D1PreparedStatement>,
) -> Result<(), worker::Error> {
    let c = &post.content;
    let doc = js(&post.doc_id);
    let version = num(post.version as i64);
    let collection = js(&entry.collection);
    let summary = entry
        .summary
        .as_ref()
        .map_or(JsValue::NULL, |s| js(&s.to_string()));
    statements.push(
        db.prepare(format!(
            "INSERT INTO entries (doc_id, collection, slug, status, version, title, summary,
           published_at, first_published_at)
         SELECT ?1, ?4, ?5, 'published', ?2, ?6, ?7, ?8, ?9 WHERE {OURS}
         ON CONFLICT (doc_id) DO UPDATE SET slug = excluded.slug, status = 'published',
           version = excluded.version, title = excluded.title, summary = excluded.summary,
           published_at = excluded.published_at
         WHERE excluded.version >= entries.version"
        ))
        .bind(&[
            doc.clone(),
            version.clone(),
            js(&c.content_hash),
            collection.clone(),
            js(&c.slug),
            js(&c.title),
            summary,
            num(post.published_at),
            num(post.first_published_at),
        ])?,
    );
    const CURRENT: &str = "EXISTS (SELECT 1 FROM entries WHERE doc_id = ?1 AND version = ?2 \
                           AND status = 'published')";
    statements.push(
        db.prepare(format!(
            "DELETE FROM entry_values WHERE doc_id = ?1 AND {CURRENT}"
        ))
        .bind(&[doc.clone(), version.clone()])?,
    );
    for chunk in entry.index.chunks(VALUES_PER_STATEMENT) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("(?{}, ?{}, ?{})", 4 + 3 * i, 5 + 3 * i, 6 + 3 * i))
            .collect();
        let mut binds = vec![doc.clone(), version.clone(), collection.clone()];
        for value in chunk {
            binds.push(js(&value.field));
            binds.push(value.num.map_or(JsValue::NULL, JsValue::from_f64));
            binds.push(value.txt.as_deref().map_or(JsValue::NULL, js));
        }
        statements.push(
            db.prepare(format!(
                "INSERT INTO entry_values (collection, field, doc_id, num, txt)
                 SELECT ?3, column1, ?1, column2, column3 FROM (VALUES {}) WHERE {CURRENT}",
                rows.join(", ")
            ))
            .bind(&binds)?,
        );
    }
    Ok(())
}

/// Marks the document's post unpublished in D1.
///
/// # Errors
/// D1's error, as text.
pub async fn write_unpublish(db: &D1Database, doc_id: &str) -> Result<(), StoreError> {
    let e = sorted;
    let statements = vec![
        db.prepare("UPDATE posts SET status = 'unpublished' WHERE doc_id = ?1")
            .bind(&[js(doc_id)])
            .map_err(e)?,
        db.prepare("DELETE FROM post_tags WHERE doc_id = ?1")
            .bind(&[js(doc_id)])
            .map_err(e)?,
        // An entry's: off the lists and out of every filter.
        db.prepare("UPDATE entries SET status = 'unpublished' WHERE doc_id = ?1")
            .bind(&[js(doc_id)])
            .map_err(e)?,
        db.prepare("DELETE FROM entry_values WHERE doc_id = ?1")
            .bind(&[js(doc_id)])
            .map_err(e)?,
    ];
    db.batch(statements).await.map_err(e)?;
    Ok(())
}

/// Who holds `slug` in D1 (among posts, or among the entries of `collection`), and the highest
/// version D1 has of `doc_id`.
///
/// # Errors
/// D1's error, as text.
pub async fn stored(
    db: &D1Database,
    doc_id: &str,
    slug: &str,
    collection: Option<&str>,
) -> Result<Stored, StoreError> {
    #[derive(Deserialize)]
    struct Row {
        owner: Option<String>,
        max_version: Option<f64>,
    }
    // D1 refuses a value bound to no placeholder: the collection only when it is used.
    let (owner, binds) = match collection {
        None => (
            "SELECT doc_id FROM posts WHERE slug = ?1",
            vec![js(slug), js(doc_id)],
        ),
        Some(c) => (
            "SELECT doc_id FROM entries WHERE collection = ?3 AND slug = ?1",
            vec![js(slug), js(doc_id), js(c)],
        ),
    };
    let row = first::<Row>(
        db,
        &format!(
            "SELECT ({owner}) AS owner,
                    (SELECT MAX(version) FROM versions WHERE doc_id = ?2) AS max_version"
        ),
        &binds,
        None,
    )
    .await?;
    Ok(Stored {
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

/// The body of version `row` from its parts (`None`: it has none, its body is in the row).
///
/// # Errors
/// D1's error, or a damaged body, as text.
async fn body_of(db: &D1Database, row: &VersionRow) -> Result<Option<Body>, StoreError> {
    let parts = row.parts.unwrap_or(0.0) as usize;
    if parts == 0 {
        return Ok(None);
    }
    #[derive(Deserialize)]
    struct Part {
        data: String,
    }
    let rows = all::<Part>(
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
        return Err(StoreError::Unexpected(format!(
            "version {} of {} has {} of its {parts} parts",
            row.version,
            row.doc_id,
            rows.len()
        )));
    }
    join_parts(&rows.into_iter().map(|p| p.data).collect::<Vec<_>>())
        .map(Some)
        .map_err(StoreError::Unexpected)
}

/// The post of `row`, with its body read from its parts if it has any.
///
/// # Errors
/// D1's error, or a damaged body, as text.
pub async fn load_post(db: &D1Database, row: VersionRow) -> Result<Post, StoreError> {
    let body = body_of(db, &row).await?;
    let mut post = Post::from(row);
    if let Some(body) = body {
        post.content.html = body.html;
        post.content.json = body.json;
        post.content.text = body.text;
    }
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
            entry: None,
            // Recorded in `media_refs` when it was published; readers do not need it.
            media: Vec::new(),
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

/// The row of version `version` of document `doc_id`.
async fn version_row(
    db: &D1Database,
    doc_id: &str,
    version: u64,
) -> Result<Option<VersionRow>, StoreError> {
    let query =
        format!("SELECT {VERSION_COLUMNS} FROM versions v WHERE v.doc_id = ?1 AND v.version = ?2");
    first::<VersionRow>(db, &query, &[js(doc_id), num(version as i64)], None).await
}

/// One version of a document from D1.
///
/// # Errors
/// D1's error, as text.
pub async fn version(
    db: &D1Database,
    doc_id: &str,
    version: u64,
) -> Result<Option<Post>, StoreError> {
    match version_row(db, doc_id, version).await? {
        Some(row) => load_post(db, row).await.map(Some),
        None => Ok(None),
    }
}

/// Version `version` of an entry: its slug and its fields (from its body).
///
/// # Errors
/// D1's error, as text; a version whose body is missing.
pub async fn entry_version(
    db: &D1Database,
    doc_id: &str,
    version: u64,
) -> Result<Option<(String, serde_json::Value)>, StoreError> {
    let Some(row) = version_row(db, doc_id, version).await? else {
        return Ok(None);
    };
    let body = body_of(db, &row).await?.ok_or_else(|| {
        StoreError::Unexpected(format!("version {version} of {doc_id} has no body"))
    })?;
    Ok(Some((row.slug, body.fields)))
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
    (title, slug): (&str, &str),
    now: i64,
    publishing: Option<Registry>,
) -> Result<(), StoreError> {
    match publishing {
        None => {
            let sql = "INSERT INTO documents (id, title, slug, created_at, updated_at)
                       VALUES (?1, ?2, ?4, ?3, ?3)
                       ON CONFLICT (id) DO UPDATE SET title = excluded.title, slug = excluded.slug,
                         updated_at = excluded.updated_at";
            run(db, sql, &[js(doc_id), js(title), num(now), js(slug)]).await
        }
        Some(r) => {
            let sql = "INSERT INTO documents (id, title, slug, created_at, updated_at, next_publish_at,
                         publish_problem)
                       VALUES (?1, ?2, ?6, ?3, ?3, ?4, ?5)
                       ON CONFLICT (id) DO UPDATE SET title = excluded.title, slug = excluded.slug,
                         updated_at = excluded.updated_at, next_publish_at = excluded.next_publish_at,
                         publish_problem = excluded.publish_problem";
            let problem = r.problem.as_deref().map_or(JsValue::NULL, js);
            let next = r.next_publish_at.map_or(JsValue::NULL, num);
            run(
                db,
                sql,
                &[js(doc_id), js(title), num(now), next, problem, js(slug)],
            )
            .await
        }
    }
}

/// A document of a collection as an export lists it: its id and what is published of it.
#[derive(Debug, Clone, Deserialize)]
pub struct ExportRow {
    pub id: String,
    pub status: Option<String>,
    pub version: Option<f64>,
    pub published_at: Option<f64>,
}

/// Every document of `collection` (at most `limit`), oldest first, with its published state.
///
/// # Errors
/// D1's error, as text.
pub async fn collection_documents(
    db: &D1Database,
    collection: &str,
    limit: u32,
) -> Result<Vec<ExportRow>, StoreError> {
    let sql = "SELECT d.id, COALESCE(p.status, e.status) AS status,
                      COALESCE(p.version, e.version) AS version,
                      COALESCE(p.published_at, e.published_at) AS published_at
               FROM documents d LEFT JOIN posts p ON p.doc_id = d.id
                 LEFT JOIN entries e ON e.doc_id = d.id
               WHERE d.collection = ?1 ORDER BY d.created_at, d.id LIMIT ?2";
    all(db, sql, &[js(collection), num(i64::from(limit))]).await
}

/// The document of `collection` whose draft or published slug is `slug`, the oldest if
/// several are.
///
/// # Errors
/// D1's error, as text.
pub async fn document_by_slug(
    db: &D1Database,
    collection: &str,
    slug: &str,
) -> Result<Option<String>, StoreError> {
    let sql = "SELECT d.id FROM documents d LEFT JOIN posts p ON p.doc_id = d.id
                 LEFT JOIN entries e ON e.doc_id = d.id
               WHERE d.collection = ?1 AND (d.slug = ?2 OR p.slug = ?2 OR e.slug = ?2)
               ORDER BY d.created_at, d.id LIMIT 1";
    first(db, sql, &[js(collection), js(slug)], Some("id")).await
}

/// Records document `id`'s draft slug (the object refreshes it with its title).
///
/// # Errors
/// D1's error, as text.
pub async fn set_draft_slug(db: &D1Database, id: &str, slug: &str) -> Result<(), StoreError> {
    run(
        db,
        "UPDATE documents SET slug = ?2 WHERE id = ?1",
        &[js(id), js(slug)],
    )
    .await
}

/// What D1 holds of `doc_id`'s post: its row, and the hash of the version it points at.
///
/// # Errors
/// D1's error, as text.
pub async fn d1_view(db: &D1Database, doc_id: &str) -> Result<serde_json::Value, StoreError> {
    #[derive(Deserialize)]
    struct Row {
        slug: String,
        status: String,
        version: f64,
        content_hash: Option<String>,
        max_version: Option<f64>,
    }
    let row = first::<Row>(
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

/// The published post under `slug`, with its latest version, from D1.
///
/// # Errors
/// D1's error, or a damaged body, as text.
pub async fn latest_post(db: &D1Database, slug: &str) -> Result<Option<Post>, StoreError> {
    let query = format!(
        "SELECT {VERSION_COLUMNS} FROM posts p JOIN versions v ON v.doc_id = p.doc_id AND v.version = p.version
         WHERE p.slug = ?1 AND p.status = 'published'"
    );
    match first::<VersionRow>(db, &query, &[js(slug)], None).await? {
        Some(row) => load_post(db, row).await.map(Some),
        None => Ok(None),
    }
}

/// Version `version` of the published post under `slug`.
///
/// # Errors
/// D1's error, or a damaged body, as text.
pub async fn post_version(
    db: &D1Database,
    slug: &str,
    version: u64,
) -> Result<Option<Post>, StoreError> {
    let query = format!(
        "SELECT {VERSION_COLUMNS} FROM posts p JOIN versions v ON v.doc_id = p.doc_id
         WHERE p.slug = ?1 AND p.status = 'published' AND v.version = ?2"
    );
    match first::<VersionRow>(db, &query, &[js(slug), num(version as i64)], None).await? {
        Some(row) => load_post(db, row).await.map(Some),
        None => Ok(None),
    }
}

/// A post in a listing.
#[derive(Deserialize)]
pub struct ListRow {
    pub doc_id: String,
    pub slug: String,
    pub title: String,
    pub excerpt: String,
    pub tags: String,
    pub version: f64,
    pub published_at: f64,
    pub first_published_at: f64,
}

/// Published posts for `query`, newest first: one more than its limit, so the caller knows
/// whether there is a next page.
///
/// # Errors
/// D1's error, as text.
pub async fn list_posts(db: &D1Database, query: &ListQuery) -> Result<Vec<ListRow>, StoreError> {
    let mut sql = String::from(
        "SELECT p.doc_id, p.slug, p.title, p.excerpt, p.tags, p.version, p.published_at, p.first_published_at
         FROM posts p",
    );
    let mut binds: Vec<JsValue> = Vec::new();
    if let Some(tag) = &query.tag {
        sql.push_str(" JOIN post_tags t ON t.doc_id = p.doc_id AND t.tag = ?");
        binds.push(js(tag));
    }
    sql.push_str(" WHERE p.status = 'published'");
    if let Some((time, doc)) = &query.after {
        sql.push_str(
            " AND (p.first_published_at < ? OR (p.first_published_at = ? AND p.doc_id < ?))",
        );
        binds.extend([num(*time), num(*time), js(doc)]);
    }
    sql.push_str(" ORDER BY p.first_published_at DESC, p.doc_id DESC LIMIT ?");
    binds.push(num(i64::from(query.limit) + 1));
    all::<ListRow>(db, &sql, &binds).await
}

/// A version in a document's history.
#[derive(Deserialize)]
pub struct VersionListRow {
    pub version: f64,
    pub slug: String,
    pub title: String,
    pub word_count: f64,
    pub published_at: f64,
}

/// Every published version of `doc`, newest first.
///
/// # Errors
/// D1's error, as text.
pub async fn doc_versions(db: &D1Database, doc: &DocId) -> Result<Vec<VersionListRow>, StoreError> {
    let query = "SELECT version, slug, title, word_count, published_at FROM versions
                 WHERE doc_id = ?1 ORDER BY version DESC";
    all::<VersionListRow>(db, query, &[js(doc.as_str())]).await
}

/// A published entry's row, as lists read it.
#[derive(Deserialize)]
pub struct EntryRow {
    pub doc_id: String,
    pub slug: String,
    pub version: f64,
    pub title: String,
    pub summary: Option<String>,
    pub published_at: f64,
    pub first_published_at: f64,
    /// The sorted field's value (a number or a string), when sorting by a field.
    #[serde(default)]
    pub sort_value: Option<serde_json::Value>,
}

/// Runs a page query of a collection's entries ([`crate::publish::filter::list_statement`]).
///
/// # Errors
/// D1's error, as text.
pub async fn list_entries(
    db: &D1Database,
    statement: &Statement,
) -> Result<Vec<EntryRow>, StoreError> {
    let binds: Vec<JsValue> = statement
        .binds
        .iter()
        .map(|b| match b {
            Operand::Num(n) => JsValue::from_f64(*n),
            Operand::Str(s) => js(s),
        })
        .collect();
    all::<EntryRow>(db, &statement.sql, &binds).await
}

/// The published entry `slug` of `collection`, with its fields (from its version's body).
///
/// # Errors
/// D1's error, as text; a damaged body.
pub async fn entry(
    db: &D1Database,
    collection: &str,
    slug: &str,
) -> Result<Option<(EntryRow, serde_json::Value)>, StoreError> {
    let sql = "SELECT doc_id, slug, version, title, summary, published_at, first_published_at
               FROM entries WHERE collection = ?1 AND slug = ?2 AND status = 'published'";
    let Some(row) = first::<EntryRow>(db, sql, &[js(collection), js(slug)], None).await? else {
        return Ok(None);
    };
    let (_, fields) = entry_version(db, &row.doc_id, row.version as u64)
        .await?
        .ok_or_else(|| {
            StoreError::Unexpected(format!(
                "version {} of {} is missing",
                row.version, row.doc_id
            ))
        })?;
    Ok(Some((row, fields)))
}

/// A published entry as a schema change judges it: its list summary (its fields but rich text;
/// `None` when too large to keep).
#[derive(Deserialize)]
pub struct PublishedEntry {
    pub doc_id: String,
    pub slug: String,
    pub title: String,
    pub summary: Option<String>,
}

/// One page of `collection`'s published entries, by document id after `after`.
///
/// # Errors
/// D1's error, as text.
pub async fn published_entries(
    db: &D1Database,
    collection: &str,
    after: &str,
    limit: u32,
) -> Result<Vec<PublishedEntry>, StoreError> {
    let sql = "SELECT doc_id, slug, title, summary FROM entries
               WHERE collection = ?1 AND status = 'published' AND doc_id > ?2
               ORDER BY doc_id LIMIT ?3";
    all::<PublishedEntry>(db, sql, &[js(collection), js(after), num(i64::from(limit))]).await
}

/// How many of `collection`'s published entries have a document id after `after`.
///
/// # Errors
/// D1's error, as text.
pub async fn published_entries_after(
    db: &D1Database,
    collection: &str,
    after: &str,
) -> Result<u64, StoreError> {
    let sql = "SELECT COUNT(*) AS n FROM entries
               WHERE collection = ?1 AND status = 'published' AND doc_id > ?2";
    let n = first::<f64>(db, sql, &[js(collection), js(after)], Some("n")).await?;
    Ok(n.unwrap_or(0.0) as u64)
}

/// Registers a new document.
///
/// # Errors
/// D1's error, as text.
pub async fn create_document(
    db: &D1Database,
    id: &DocId,
    collection: &str,
    now: Millis,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO documents (id, title, collection, created_at, updated_at)
               VALUES (?1, '', ?3, ?2, ?2)";
    run(db, sql, &[js(id.as_str()), num(now), js(collection)]).await
}

/// The collection document `id` belongs to (`None`: not in the registry, a post).
///
/// # Errors
/// D1's error, as text.
pub async fn document_collection(
    db: &D1Database,
    id: &DocId,
) -> Result<Option<String>, StoreError> {
    let sql = "SELECT collection FROM documents WHERE id = ?1";
    first::<String>(db, sql, &[js(id.as_str())], Some("collection")).await
}

/// A version of a collection's definition.
#[derive(Deserialize)]
pub struct CollectionRow {
    pub name: String,
    pub version: f64,
    pub definition: String,
    pub created_at: f64,
}

/// The definition in force of collection `name` (its latest version).
///
/// # Errors
/// D1's error, as text.
pub async fn collection(db: &D1Database, name: &str) -> Result<Option<CollectionRow>, StoreError> {
    let sql = "SELECT name, version, definition, created_at FROM collections
               WHERE name = ?1 ORDER BY version DESC LIMIT 1";
    first::<CollectionRow>(db, sql, &[js(name)], None).await
}

/// The definition in force of every collection, by name.
///
/// # Errors
/// D1's error, as text.
pub async fn collections(db: &D1Database) -> Result<Vec<CollectionRow>, StoreError> {
    let sql = "SELECT c.name, c.version, c.definition, c.created_at FROM collections c
               WHERE c.version = (SELECT MAX(version) FROM collections WHERE name = c.name)
               ORDER BY c.name";
    all::<CollectionRow>(db, sql, &[]).await
}

/// Stores version `version` of a collection's definition; `Ok(false)` if that version already
/// exists (a concurrent change won: the caller reloads and answers 409).
///
/// # Errors
/// D1's error, as text.
pub async fn insert_collection(
    db: &D1Database,
    name: &str,
    version: u64,
    label: &str,
    definition: &str,
    now: Millis,
) -> Result<bool, StoreError> {
    let sql = "INSERT INTO collections (name, version, label, definition, created_at)
               VALUES (?1, ?2, ?3, ?4, ?5)";
    let binds = [
        js(name),
        num(version as i64),
        js(label),
        js(definition),
        num(now),
    ];
    insert(db, sql, &binds).await
}

/// A document in the registry, with its post's row if it has one.
#[derive(Deserialize)]
pub struct DocumentRow {
    pub id: String,
    pub title: String,
    pub collection: String,
    pub created_at: f64,
    pub updated_at: f64,
    pub next_publish_at: Option<f64>,
    pub slug: Option<String>,
    pub status: Option<String>,
    pub version: Option<f64>,
    pub published_at: Option<f64>,
    pub publish_problem: Option<String>,
}

/// At most `limit` documents (of `collection`, if given), most recently updated first.
///
/// # Errors
/// D1's error, as text.
pub async fn documents(
    db: &D1Database,
    collection: Option<&str>,
    limit: u32,
) -> Result<Vec<DocumentRow>, StoreError> {
    let sql = "SELECT d.id, d.title, d.collection, d.created_at, d.updated_at, d.next_publish_at,
                      p.slug, p.status, p.version, p.published_at, d.publish_problem
               FROM documents d LEFT JOIN posts p ON p.doc_id = d.id
               WHERE ?2 IS NULL OR d.collection = ?2
               ORDER BY d.updated_at DESC, d.id LIMIT ?1";
    let collection = collection.map_or(JsValue::NULL, js);
    all::<DocumentRow>(db, sql, &[num(i64::from(limit)), collection]).await
}

/// Records that the invitation with `key` was used; `Ok(false)` if it already was.
///
/// # Errors
/// D1's error, as text.
pub async fn use_invitation(
    db: &D1Database,
    key: &str,
    now: Millis,
    expires: Millis,
) -> Result<bool, StoreError> {
    let sql = "INSERT INTO used_invitations (token_hash, used_at, expires_at) VALUES (?1, ?2, ?3)";
    insert(db, sql, &[js(key), num(now), num(expires)]).await
}
