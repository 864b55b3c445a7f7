//! The reader API, served by the stateless worker from KV and D1: it never touches a
//! document's object. Published content only; CORS open for GET; strong ETags per version.

use crate::error::StoreError;
use serde_json::json;
use worker::{Env, Request, Response};

use super::error::{EdgeError, Result};
use super::http::json_response;
use super::storage::{d1, kv};
use crate::doc_id::DocId;
use crate::publish::{
    cursor, etag, if_none_match, list_query, page_html, KvPost, Post, PAGE_CSP, POST_CACHE_CONTROL,
};
use crate::time::iso8601;

/// Adds the CORS headers of the reader API.
pub fn cors(response: Response) -> worker::Result<Response> {
    let headers = response.headers();
    headers.set("Access-Control-Allow-Origin", "*")?;
    headers.set("Access-Control-Expose-Headers", "ETag")?;
    Ok(response)
}

/// `OPTIONS` on the reader API.
pub fn preflight() -> worker::Result<Response> {
    let response = Response::empty()?.with_status(204);
    let headers = response.headers();
    headers.set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")?;
    headers.set("Access-Control-Allow-Headers", "If-None-Match")?;
    headers.set("Access-Control-Max-Age", "86400")?;
    cors(response)
}

fn unavailable(detail: impl std::fmt::Display) -> EdgeError {
    EdgeError::unavailable(
        "the post store is unavailable; try again",
        format!("reader: {detail}"),
    )
}

fn not_found(slug: &str) -> EdgeError {
    EdgeError::api(404, "post_not_found", format!("no published post '{slug}'"))
}

/// The latest published version under `slug`: KV first, D1 on a miss (or when KV points
/// there: a post too large for KV). A KV tombstone answers "unpublished" without asking D1.
async fn latest(env: &Env, slug: &str) -> std::result::Result<Option<Post>, StoreError> {
    let store = kv::posts(env)?;
    match kv::read(&store, slug).await {
        Ok(Some(KvPost::Post(post))) => return Ok(Some(*post)),
        Ok(Some(KvPost::Gone { .. })) => return Ok(None),
        Ok(Some(KvPost::InD1 { .. }) | None) => {}
        Err(e) => worker::console_error!("KV read of {slug} failed, using D1: {e}"),
    }
    d1::latest_post(&d1::db(env)?, slug).await
}

fn with_etag(response: Response, post: &Post) -> worker::Result<Response> {
    let headers = response.headers();
    headers.set("ETag", &post.etag())?;
    headers.set("Cache-Control", POST_CACHE_CONTROL)?;
    cors(response)
}

fn not_modified(req: &Request, post: &Post) -> worker::Result<Option<Response>> {
    let header = req.headers().get("If-None-Match")?;
    if header.is_some_and(|h| if_none_match(&h, &post.etag())) {
        return Ok(Some(with_etag(Response::empty()?.with_status(304), post)?));
    }
    Ok(None)
}

/// `GET /api/posts/{slug}`.
pub async fn post(env: &Env, req: &Request, slug: &str) -> Result<Response> {
    let post = latest(env, slug)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| not_found(slug))?;
    if let Some(response) = not_modified(req, &post)? {
        return Ok(response);
    }
    Ok(with_etag(json_response(200, &post.reader_json())?, &post)?)
}

/// The HTML page of `content` under a strict Content-Security-Policy, without a referrer:
/// the public page and the draft preview.
pub fn page_response(content: &crate::publish::Rendered) -> worker::Result<Response> {
    let response = Response::from_html(page_html(content))?;
    let headers = response.headers();
    headers.set("Content-Security-Policy", PAGE_CSP)?;
    headers.set("X-Content-Type-Options", "nosniff")?;
    headers.set("Referrer-Policy", "no-referrer")?;
    Ok(response)
}

/// `GET /p/{slug}`: the public page.
pub async fn page(env: &Env, slug: &str) -> Result<Response> {
    match latest(env, slug).await.map_err(unavailable)? {
        Some(post) => {
            let response = page_response(&post.content)?;
            let headers = response.headers();
            headers.set("ETag", &post.etag())?;
            headers.set("Cache-Control", POST_CACHE_CONTROL)?;
            Ok(response)
        }
        None => {
            let response =
                Response::from_html("<!doctype html><title>Not found</title><h1>Not found</h1>\n")?;
            response
                .headers()
                .set("Content-Security-Policy", PAGE_CSP)?;
            Ok(response.with_status(404))
        }
    }
}

/// `GET /api/posts/{slug}/versions/{n}`.
pub async fn post_version(env: &Env, slug: &str, version: u64) -> Result<Response> {
    let db = d1::db(env).map_err(unavailable)?;
    let post = d1::post_version(&db, slug, version)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| {
            EdgeError::api(
                404,
                "version_not_found",
                format!("'{slug}' has no published version {version}"),
            )
        })?;
    Ok(with_etag(json_response(200, &post.reader_json())?, &post)?)
}

/// `GET /api/posts?tag=&limit=&cursor=`: newest first.
pub async fn list(env: &Env, req: &Request) -> Result<Response> {
    let url = req.url()?;
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let query = list_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let db = d1::db(env).map_err(unavailable)?;
    let mut rows = d1::list_posts(&db, &query).await.map_err(unavailable)?;
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
    Ok(cors(response)?)
}

/// `GET /api/docs/{doc}/versions`: every published version of a document, newest first.
pub async fn doc_versions(env: &Env, doc: &DocId) -> Result<Response> {
    let db = d1::db(env).map_err(unavailable)?;
    let rows = d1::doc_versions(&db, doc).await.map_err(unavailable)?;
    let versions: Vec<_> = rows
        .iter()
        .map(|r| {
            json!({
                "version": r.version as u64,
                "slug": r.slug,
                "title": r.title,
                "word_count": r.word_count as u64,
                "published_at": iso8601(r.published_at as i64),
                "etag": etag(doc.as_str(), r.version as u64),
            })
        })
        .collect();
    json_response(200, &json!({ "versions": versions }))
}
