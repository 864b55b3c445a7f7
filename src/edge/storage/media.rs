//! The media store: the bytes in R2 (binding `MEDIA`; an original under its id, a width
//! variant under `{id}/w{width}`) and their index in D1 (`media`, `media_refs`, migration
//! 0009). Every statement on either is here; D1's helpers are shared with [`super::d1`].
//!
//! Order of writes: R2 before D1, so that a row always has its object (an object without a
//! row, left by a failed D1 write, is written again by the next upload of the same bytes).

use crate::error::StoreError;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{Bucket, D1Database, Env};

use super::d1::{all, first, js, num, run};
use crate::media::{Dims, MediaInfo, MediaType};

/// The `MEDIA` binding (wrangler.toml).
///
/// # Errors
/// The binding is missing, as text.
pub fn bucket(env: &Env) -> Result<Bucket, StoreError> {
    env.bucket("MEDIA").map_err(StoreError::from_message)
}

/// The R2 key of media `id` at `width` (`None`: the original).
pub fn object_key(id: &str, width: Option<u32>) -> String {
    match width {
        None => id.to_string(),
        Some(w) => format!("{id}/w{w}"),
    }
}

/// Stores `bytes` of type `mime` under `key`.
///
/// # Errors
/// R2's error, as text.
pub async fn put(bucket: &Bucket, key: &str, bytes: Vec<u8>, mime: &str) -> Result<(), StoreError> {
    bucket
        .put(key, bytes)
        .http_metadata(worker::HttpMetadata {
            content_type: Some(mime.to_string()),
            ..Default::default()
        })
        .execute()
        .await
        .map(|_| ())
        .map_err(StoreError::from_message)
}

/// Deletes the original of `id` and every variant made of it.
///
/// # Errors
/// R2's error, as text.
pub async fn delete_all(bucket: &Bucket, id: &str) -> Result<(), StoreError> {
    let e = StoreError::from_message;
    let listed = bucket
        .list()
        .prefix(format!("{id}/"))
        .execute()
        .await
        .map_err(e)?;
    let mut keys: Vec<String> = listed.objects().iter().map(|o| o.key()).collect();
    keys.push(id.to_string());
    bucket.delete_multiple(keys).await.map_err(e)
}

/// A row of the media library.
#[derive(Debug, Clone, Deserialize)]
pub struct MediaRow {
    pub id: String,
    #[serde(rename = "type")]
    pub mime: String,
    pub bytes: f64,
    pub width: Option<f64>,
    pub height: Option<f64>,
    pub sha256: String,
    pub filename: String,
    pub alt: String,
    pub created_at: f64,
}

impl MediaRow {
    /// What rendering needs of it.
    pub fn info(&self) -> Option<MediaInfo> {
        let media_type = MediaType::from_mime(&self.mime)?;
        let dims = match (self.width, self.height) {
            (Some(w), Some(h)) => Some(Dims {
                width: w as u32,
                height: h as u32,
            }),
            _ => None,
        };
        Some(MediaInfo { media_type, dims })
    }

    /// The row as the API answers it.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "url": crate::media::url(&self.id),
            "type": self.mime,
            "bytes": self.bytes as u64,
            "width": self.width.map(|w| w as u32),
            "height": self.height.map(|h| h as u32),
            "sha256": self.sha256,
            "filename": self.filename,
            "alt": self.alt,
            "created_at": crate::time::iso8601(self.created_at as i64),
        })
    }
}

const COLUMNS: &str = "id, type, bytes, width, height, sha256, filename, alt, created_at";

/// Adds a file to the library; `Ok(false)` if its id is there already (the same bytes).
///
/// # Errors
/// D1's error, as text.
pub async fn insert(db: &D1Database, row: &MediaRow, by: &str) -> Result<bool, StoreError> {
    let sql = "INSERT OR IGNORE INTO media
                 (id, type, bytes, width, height, sha256, filename, alt, created_at, created_by)
               VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id";
    let size = |v: Option<f64>| v.map_or(JsValue::NULL, JsValue::from_f64);
    let inserted = all::<serde_json::Value>(
        db,
        sql,
        &[
            js(&row.id),
            js(&row.mime),
            JsValue::from_f64(row.bytes),
            size(row.width),
            size(row.height),
            js(&row.sha256),
            js(&row.filename),
            js(&row.alt),
            JsValue::from_f64(row.created_at),
            js(by),
        ],
    )
    .await?;
    Ok(!inserted.is_empty())
}

/// One file of the library.
///
/// # Errors
/// D1's error, as text.
pub async fn get(db: &D1Database, id: &str) -> Result<Option<MediaRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM media WHERE id = ?1");
    first::<MediaRow>(db, &sql, &[js(id)], None).await
}

/// The files of `ids` that the library has (for rendering: their type and size).
///
/// # Errors
/// D1's error, as text.
pub async fn known(db: &D1Database, ids: &[String]) -> Result<Vec<MediaRow>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
    let sql = format!("SELECT {COLUMNS} FROM media WHERE id IN (SELECT value FROM json_each(?1))");
    all::<MediaRow>(db, &sql, &[js(&list)]).await
}

/// A page of the library, newest first, after `(created_at, id)` when given; one row more
/// than `limit` when there is a next page.
///
/// # Errors
/// D1's error, as text.
pub async fn list(
    db: &D1Database,
    limit: u32,
    after: Option<(i64, String)>,
) -> Result<Vec<MediaRow>, StoreError> {
    let (at, id) = match &after {
        Some((at, id)) => (num(*at), js(id)),
        None => (JsValue::NULL, JsValue::NULL),
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM media
         WHERE ?2 IS NULL OR created_at < ?2 OR (created_at = ?2 AND id < ?3)
         ORDER BY created_at DESC, id DESC LIMIT ?1"
    );
    all::<MediaRow>(db, &sql, &[num(i64::from(limit) + 1), at, id]).await
}

/// A document that refers to a file.
#[derive(Debug, Clone, Deserialize)]
pub struct RefRow {
    pub doc_id: String,
    pub kind: String,
    pub title: Option<String>,
}

/// The documents that refer to `id` (at most `limit`).
///
/// # Errors
/// D1's error, as text.
pub async fn refs(db: &D1Database, id: &str, limit: u32) -> Result<Vec<RefRow>, StoreError> {
    let sql = "SELECT r.doc_id, r.kind, d.title FROM media_refs r
               LEFT JOIN documents d ON d.id = r.doc_id
               WHERE r.media_id = ?1 ORDER BY r.doc_id, r.kind LIMIT ?2";
    all::<RefRow>(db, sql, &[js(id), num(i64::from(limit))]).await
}

/// Removes `id` from the library.
///
/// # Errors
/// D1's error, as text.
pub async fn delete(db: &D1Database, id: &str) -> Result<(), StoreError> {
    run(db, "DELETE FROM media WHERE id = ?1", &[js(id)]).await
}

/// Replaces the files `doc_id`'s draft refers to with `ids`.
///
/// # Errors
/// D1's error, as text.
pub async fn set_draft_refs(
    db: &D1Database,
    doc_id: &str,
    ids: &[String],
) -> Result<(), StoreError> {
    let e = StoreError::from_message;
    let list = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
    let statements = vec![
        db.prepare("DELETE FROM media_refs WHERE doc_id = ?1 AND kind = 'draft'")
            .bind(&[js(doc_id)])
            .map_err(e)?,
        db.prepare(
            "INSERT OR IGNORE INTO media_refs (media_id, doc_id, kind)
             SELECT value, ?1, 'draft' FROM json_each(?2)",
        )
        .bind(&[js(doc_id), js(&list)])
        .map_err(e)?,
    ];
    db.batch(statements).await.map_err(e)?;
    Ok(())
}

/// The statement recording that a published version of `doc_id` refers to `ids` (run in the
/// version's own batch, so the two cannot part).
///
/// # Errors
/// The platform's error.
pub fn published_refs(
    db: &D1Database,
    doc_id: &str,
    ids: &[String],
) -> worker::Result<worker::D1PreparedStatement> {
    let list = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
    db.prepare(
        "INSERT OR IGNORE INTO media_refs (media_id, doc_id, kind)
         SELECT value, ?1, 'published' FROM json_each(?2)",
    )
    .bind(&[js(doc_id), js(&list)])
}
