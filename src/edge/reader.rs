//! The reader API, served by the stateless worker from KV and D1: it never touches a
//! document's object. Published content only; CORS open for GET; strong ETags per version.

use serde::Deserialize;
use serde_json::json;
use wasm_bindgen::JsValue;
use worker::{Env, Request, Response, Result};

use crate::error::Error;
use crate::publish::{
    cursor, etag, if_none_match, iso8601, list_query, page_html, KvPost, Post, PAGE_CSP,
    POST_CACHE_CONTROL,
};

use super::publisher::{kv_key, load_post, VersionRow, VERSION_COLUMNS};
use super::{d1, error_json, json_error, json_response};

/// Adds the CORS headers of the reader API.
pub fn cors(response: Response) -> Result<Response> {
    let headers = response.headers();
    headers.set("Access-Control-Allow-Origin", "*")?;
    headers.set("Access-Control-Expose-Headers", "ETag")?;
    Ok(response)
}

/// `OPTIONS` on the reader API.
pub fn preflight() -> Result<Response> {
    let response = Response::empty()?.with_status(204);
    let headers = response.headers();
    headers.set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")?;
    headers.set("Access-Control-Allow-Headers", "If-None-Match")?;
    headers.set("Access-Control-Max-Age", "86400")?;
    cors(response)
}

fn unavailable(detail: impl std::fmt::Display) -> Result<Response> {
    worker::console_error!("reader: {detail}");
    cors(json_error(
        503,
        "unavailable",
        "the post store is unavailable; try again",
    )?)
}

fn not_found(slug: &str) -> Result<Response> {
    cors(json_error(
        404,
        "post_not_found",
        &format!("no published post '{slug}'"),
    )?)
}

/// The latest published version under `slug`: KV first, D1 on a miss (or when KV points
/// there: a post too large for KV). A KV tombstone answers "unpublished" without asking D1.
async fn latest(env: &Env, slug: &str) -> std::result::Result<Option<Post>, String> {
    let kv = env.kv("POSTS").map_err(|e| e.to_string())?;
    match kv.get(&kv_key(slug)).text().await {
        Ok(Some(text)) => match KvPost::parse(&text) {
            Some(KvPost::Post(post)) => return Ok(Some(*post)),
            Some(KvPost::Gone { .. }) => return Ok(None),
            Some(KvPost::InD1 { .. }) => {}
            None => worker::console_error!("KV holds an unreadable value for {slug}; using D1"),
        },
        Ok(None) => {}
        Err(e) => worker::console_error!("KV read of {slug} failed, using D1: {e}"),
    }
    let query = format!(
        "SELECT {VERSION_COLUMNS} FROM posts p JOIN versions v ON v.doc_id = p.doc_id AND v.version = p.version
         WHERE p.slug = ?1 AND p.status = 'published'"
    );
    let db = d1::db(env)?;
    let row = d1::first::<VersionRow>(&db, &query, &[JsValue::from_str(slug)], None).await?;
    match row {
        Some(row) => load_post(&db, row).await.map(Some),
        None => Ok(None),
    }
}

fn with_etag(response: Response, post: &Post) -> Result<Response> {
    let headers = response.headers();
    headers.set("ETag", &post.etag())?;
    headers.set("Cache-Control", POST_CACHE_CONTROL)?;
    cors(response)
}

fn not_modified(req: &Request, post: &Post) -> Result<Option<Response>> {
    let header = req.headers().get("If-None-Match")?;
    if header.is_some_and(|h| if_none_match(&h, &post.etag())) {
        return Ok(Some(with_etag(Response::empty()?.with_status(304), post)?));
    }
    Ok(None)
}

/// `GET /api/posts/{slug}`.
pub async fn post(env: &Env, req: &Request, slug: &str) -> Result<Response> {
    match latest(env, slug).await {
        Ok(Some(post)) => {
            if let Some(response) = not_modified(req, &post)? {
                return Ok(response);
            }
            with_etag(json_response(200, &post.reader_json())?, &post)
        }
        Ok(None) => not_found(slug),
        Err(e) => unavailable(e),
    }
}

/// The HTML page of `content` under a strict Content-Security-Policy, without a referrer:
/// the public page and the draft preview.
pub fn page_response(content: &crate::publish::Rendered) -> Result<Response> {
    let response = Response::from_html(page_html(content))?;
    let headers = response.headers();
    headers.set("Content-Security-Policy", PAGE_CSP)?;
    headers.set("X-Content-Type-Options", "nosniff")?;
    headers.set("Referrer-Policy", "no-referrer")?;
    Ok(response)
}

/// `GET /p/{slug}`: the public page.
pub async fn page(env: &Env, slug: &str) -> Result<Response> {
    match latest(env, slug).await {
        Ok(Some(post)) => {
            let response = page_response(&post.content)?;
            let headers = response.headers();
            headers.set("ETag", &post.etag())?;
            headers.set("Cache-Control", POST_CACHE_CONTROL)?;
            Ok(response)
        }
        Ok(None) => {
            let response =
                Response::from_html("<!doctype html><title>Not found</title><h1>Not found</h1>\n")?;
            response
                .headers()
                .set("Content-Security-Policy", PAGE_CSP)?;
            Ok(response.with_status(404))
        }
        Err(e) => unavailable(e),
    }
}

/// `GET /api/posts/{slug}/versions/{n}`.
pub async fn post_version(env: &Env, slug: &str, version: u64) -> Result<Response> {
    let query = format!(
        "SELECT {VERSION_COLUMNS} FROM posts p JOIN versions v ON v.doc_id = p.doc_id
         WHERE p.slug = ?1 AND p.status = 'published' AND v.version = ?2"
    );
    let binds = [JsValue::from_str(slug), JsValue::from_f64(version as f64)];
    let result = match d1::db(env) {
        Ok(db) => match d1::first::<VersionRow>(&db, &query, &binds, None).await {
            Ok(Some(row)) => load_post(&db, row).await.map(Some),
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    match result {
        Ok(Some(post)) => with_etag(json_response(200, &post.reader_json())?, &post),
        Ok(None) => cors(json_error(
            404,
            "version_not_found",
            &format!("'{slug}' has no published version {version}"),
        )?),
        Err(e) => unavailable(e),
    }
}

#[derive(Deserialize)]
struct ListRow {
    doc_id: String,
    slug: String,
    title: String,
    excerpt: String,
    tags: String,
    version: f64,
    published_at: f64,
    first_published_at: f64,
}

/// `GET /api/posts?tag=&limit=&cursor=`: newest first.
pub async fn list(env: &Env, req: &Request) -> Result<Response> {
    let url = req.url()?;
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let query = match list_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        Ok(q) => q,
        Err(bad) => {
            return cors(error_json(&Error::BadParameter {
                parameter: bad.parameter,
                message: bad.message,
            })?)
        }
    };
    let mut sql = String::from(
        "SELECT p.doc_id, p.slug, p.title, p.excerpt, p.tags, p.version, p.published_at, p.first_published_at
         FROM posts p",
    );
    let mut binds: Vec<JsValue> = Vec::new();
    if let Some(tag) = &query.tag {
        sql.push_str(" JOIN post_tags t ON t.doc_id = p.doc_id AND t.tag = ?");
        binds.push(JsValue::from_str(tag));
    }
    sql.push_str(" WHERE p.status = 'published'");
    if let Some((time, doc)) = &query.after {
        sql.push_str(
            " AND (p.first_published_at < ? OR (p.first_published_at = ? AND p.doc_id < ?))",
        );
        binds.extend([
            JsValue::from_f64(*time as f64),
            JsValue::from_f64(*time as f64),
            JsValue::from_str(doc),
        ]);
    }
    sql.push_str(" ORDER BY p.first_published_at DESC, p.doc_id DESC LIMIT ?");
    binds.push(JsValue::from_f64(f64::from(query.limit + 1)));
    let rows = match d1::db(env) {
        Ok(db) => d1::all::<ListRow>(&db, &sql, &binds).await,
        Err(e) => Err(e),
    };
    let mut rows = match rows {
        Ok(rows) => rows,
        Err(e) => return unavailable(e),
    };
    let more = rows.len() > query.limit as usize;
    rows.truncate(query.limit as usize);
    let next = if more {
        rows.last()
            .map(|r| cursor(r.first_published_at as i64, &r.doc_id))
    } else {
        None
    };
    let posts: Vec<_> = rows
        .iter()
        .map(|r| {
            json!({
                "slug": r.slug,
                "title": r.title,
                "excerpt": r.excerpt,
                "tags": serde_json::from_str::<serde_json::Value>(&r.tags).unwrap_or(json!([])),
                "version": r.version as u64,
                "published_at": iso8601(r.first_published_at as i64),
                "updated_at": iso8601(r.published_at as i64),
            })
        })
        .collect();
    let response = json_response(200, &json!({ "posts": posts, "next_cursor": next }))?;
    response
        .headers()
        .set("Cache-Control", POST_CACHE_CONTROL)?;
    cors(response)
}

#[derive(Deserialize)]
struct VersionListRow {
    version: f64,
    slug: String,
    title: String,
    word_count: f64,
    published_at: f64,
}

/// `GET /api/docs/{doc}/versions`: every published version of a document, newest first.
pub async fn doc_versions(env: &Env, doc: &str) -> Result<Response> {
    let query = "SELECT version, slug, title, word_count, published_at FROM versions
                 WHERE doc_id = ?1 ORDER BY version DESC";
    let rows = match d1::db(env) {
        Ok(db) => d1::all::<VersionListRow>(&db, query, &[JsValue::from_str(doc)]).await,
        Err(e) => Err(e),
    };
    match rows {
        Ok(rows) => {
            let versions: Vec<_> = rows
                .iter()
                .map(|r| {
                    json!({
                        "version": r.version as u64,
                        "slug": r.slug,
                        "title": r.title,
                        "word_count": r.word_count as u64,
                        "published_at": iso8601(r.published_at as i64),
                        "etag": etag(doc, r.version as u64),
                    })
                })
                .collect();
            json_response(200, &json!({ "versions": versions }))
        }
        Err(e) => unavailable(e),
    }
}
