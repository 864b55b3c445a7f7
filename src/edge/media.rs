//! The media API: uploads into R2 (`POST /api/media`), the library (`GET /api/media`),
//! deletion of what nothing refers to (`DELETE /api/media/{id}`), and the public files with
//! their width variants (`GET /media/{id}?w=`), through the edge cache.
//!
//! An upload is refused before its body is read when `Content-Length` says it is over
//! [`MAX_MEDIA_BYTES`] (413); its type is sniffed from the bytes and must be the declared
//! one (415); an image's size comes from its header. The bytes are buffered once (to hash
//! them: the id is the content's), so an upload costs about twice its size in memory.

use serde_json::json;
use sha2::{Digest, Sha256};
use worker::{Context, Env, Request, Response};

use super::error::{EdgeError, Result};
use super::http::{json_response, now_ms, read_body};
use super::storage::media::{self as store, MediaRow};
use crate::access::token::Claims;
use crate::media::probe::{probe, ProbeError};
use crate::media::range::{self, Wanted};
use crate::media::variant::{self, Served};
use crate::media::{media_id, MAX_MEDIA_BYTES};

/// Files are immutable (their id is their hash): a year, never revalidated.
pub const MEDIA_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// Longest file name and alt text kept.
const MAX_FILENAME: usize = 255;
const MAX_ALT: usize = 1_000;

/// Most documents named in a refusal to delete.
const MAX_REFS_LISTED: u32 = 20;

fn unavailable(detail: impl std::fmt::Display) -> EdgeError {
    EdgeError::unavailable(
        "the media store is unavailable; try again",
        format!("media: {detail}"),
    )
}

fn query(req: &Request, name: &str) -> Result<Option<String>> {
    Ok(req
        .url()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned()))
}

/// `POST /api/media?filename=&alt=`: the raw bytes as the body.
pub async fn upload(mut req: Request, env: &Env, ctx: &Context, who: &Claims) -> Result<Response> {
    let declared_len = req.headers().get("Content-Length")?;
    let declared_len = declared_len.and_then(|v| v.trim().parse::<u64>().ok());
    if declared_len.is_some_and(|len| len > MAX_MEDIA_BYTES) {
        // Refused from the header alone: not a byte of the body is read.
        return Err(EdgeError::api(
            413,
            "media_too_large",
            format!("a file may be at most {MAX_MEDIA_BYTES} bytes"),
        ));
    }
    let content_type = req.headers().get("Content-Type")?;
    let bytes = read_body(&mut req, MAX_MEDIA_BYTES as usize).await?;
    if bytes.is_empty() {
        return Err(EdgeError::api(
            400,
            "empty_body",
            "send the file as the body",
        ));
    }
    let probed = probe(&bytes, content_type.as_deref()).map_err(|e| match e {
        ProbeError::BadHeader(..) => EdgeError::api(422, "unreadable_media", e.to_string()),
        _ => EdgeError::api(415, "unsupported_media_type", e.to_string()),
    })?;
    let sha256: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let id = media_id(&sha256);
    let clip = |s: Option<String>, max: usize| -> String {
        s.unwrap_or_default()
            .chars()
            .filter(|c| !c.is_control())
            .take(max)
            .collect()
    };
    let row = MediaRow {
        id: id.clone(),
        mime: probed.media_type.mime().to_string(),
        bytes: bytes.len() as f64,
        width: probed.dims.map(|d| f64::from(d.width)),
        height: probed.dims.map(|d| f64::from(d.height)),
        sha256,
        filename: clip(query(&req, "filename")?, MAX_FILENAME),
        alt: clip(query(&req, "alt")?, MAX_ALT),
        created_at: now_ms() as f64,
    };
    let db = super::storage::d1::db(env).map_err(unavailable)?;
    if let Some(existing) = store::get(&db, &id).await.map_err(unavailable)? {
        return json_response(200, &existing.json());
    }
    let bucket = store::bucket(env).map_err(unavailable)?;
    store::put(&bucket, &id, bytes, probed.media_type.mime())
        .await
        .map_err(unavailable)?;
    let created = store::insert(&db, &row, &who.sub)
        .await
        .map_err(unavailable)?;
    // Raced with an upload of the same bytes: theirs is the row.
    let row = match created {
        true => row,
        false => store::get(&db, &id)
            .await
            .map_err(unavailable)?
            .unwrap_or(row),
    };
    if created {
        emit(env, ctx, "media.uploaded", row.json());
    }
    json_response(if created { 201 } else { 200 }, &row.json())
}

/// Queues webhook event `kind` in the background of this request.
fn emit(env: &Env, ctx: &Context, kind: &'static str, data: serde_json::Value) {
    let env = env.clone();
    ctx.wait_until(async move { super::webhooks::emit(&env, kind, data).await });
}

/// `GET /api/media?limit=&cursor=`: newest first.
pub async fn list(req: &Request, env: &Env) -> Result<Response> {
    fn bad(parameter: &'static str, message: &str) -> EdgeError {
        EdgeError::from(crate::error::Error::BadParameter {
            parameter: parameter.into(),
            message: message.into(),
        })
    }
    let limit = match query(req, "limit")? {
        None => 50,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=200).contains(l))
            .ok_or_else(|| bad("limit", "limit must be 1-200"))?,
    };
    let after = match query(req, "cursor")? {
        None => None,
        Some(c) => {
            let parsed = c.split_once('.').and_then(|(at, id)| {
                let at = at.parse::<i64>().ok()?;
                crate::media::is_id(id).then(|| (at, id.to_string()))
            });
            Some(parsed.ok_or_else(|| bad("cursor", "not a cursor this API gave"))?)
        }
    };
    let db = super::storage::d1::db(env).map_err(unavailable)?;
    let mut rows = store::list(&db, limit, after).await.map_err(unavailable)?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = more
        .then(|| {
            rows.last()
                .map(|r| format!("{}.{}", r.created_at as i64, r.id))
        })
        .flatten();
    json_response(
        200,
        &json!({ "media": rows.iter().map(MediaRow::json).collect::<Vec<_>>(), "next_cursor": next }),
    )
}

/// `DELETE /api/media/{id}`: refused (409) while a draft or a published version refers to it.
pub async fn delete(env: &Env, ctx: &Context, id: &str) -> Result<Response> {
    let db = super::storage::d1::db(env).map_err(unavailable)?;
    let Some(row) = store::get(&db, id).await.map_err(unavailable)? else {
        return Err(EdgeError::api(
            404,
            "media_not_found",
            format!("no media {id}"),
        ));
    };
    let refs = store::refs(&db, id, MAX_REFS_LISTED)
        .await
        .map_err(unavailable)?;
    if !refs.is_empty() {
        let documents: Vec<_> = refs
            .iter()
            .map(|r| json!({ "doc_id": r.doc_id, "title": r.title, "in": r.kind }))
            .collect();
        return Err(EdgeError::Detailed {
            status: 409,
            code: "media_in_use",
            message: format!(
                "{} refers to it; remove it there first",
                match refs.first() {
                    Some(r) if refs.len() == 1 =>
                        format!("the {} of document '{}'", r.kind, r.doc_id),
                    _ => format!("{} documents", refs.len()),
                }
            ),
            extra: vec![("documents", json!(documents))],
        });
    }
    let bucket = store::bucket(env).map_err(unavailable)?;
    store::delete_all(&bucket, id).await.map_err(unavailable)?;
    store::delete(&db, id).await.map_err(unavailable)?;
    super::cache::purge(&crate::publish::cache::media_keys(id)).await;
    emit(env, ctx, "media.deleted", row.json());
    Ok(Response::empty()?.with_status(204))
}

/// `GET /media/{id}?w=`: the original, or the `w`-wide variant (made once, then kept in R2),
/// through the edge cache; a `Range` request is served from R2.
pub async fn serve(req: &Request, env: &Env, ctx: &Context, id: &str) -> Result<Response> {
    let width = match query(req, "w")? {
        None => None,
        Some(w) => Some(variant::parse_width(&w).map_err(|message| {
            EdgeError::from(crate::error::Error::BadParameter {
                parameter: "w".into(),
                message,
            })
        })?),
    };
    let path = match width {
        None => crate::media::url(id),
        Some(w) => format!("{}?w={w}", crate::media::url(id)),
    };
    // A range is served from R2 (the cache keeps whole files).
    let range = req.headers().get("Range")?;
    let key = (range.is_none() && super::edge_cache_on(env)).then_some(path);
    super::cache::through(ctx, req, key, from_r2(req, env, id, width, range)).await
}

fn not_found(id: &str) -> EdgeError {
    EdgeError::api(404, "media_not_found", format!("no media {id}"))
}

/// The file from R2: the variant if it exists, else made from the original (or the
/// original itself when the width is not below it).
async fn from_r2(
    req: &Request,
    env: &Env,
    id: &str,
    width: Option<u32>,
    range_header: Option<String>,
) -> Result<Response> {
    let bucket = store::bucket(env).map_err(unavailable)?;
    // The width to make and the original's type, or `None`: the original is served.
    let to_make = match width {
        None => None,
        Some(w) => {
            let key = store::object_key(id, Some(w));
            if let Some(head) = bucket.head(&key).await.map_err(unavailable)? {
                let etag = etag(id, Some(w));
                return object(req, &bucket, &key, head.size(), &etag, range_header).await;
            }
            // Not made yet: the type and size, from the library (R2 holds only the type).
            let db = super::storage::d1::db(env).map_err(unavailable)?;
            let row = store::get(&db, id).await.map_err(unavailable)?;
            let info = row
                .as_ref()
                .and_then(MediaRow::info)
                .ok_or_else(|| not_found(id))?;
            match variant::choose(w, info.media_type, info.dims) {
                Served::Variant(w) => Some((w, info.media_type)),
                Served::Original => None,
            }
        }
    };
    match to_make {
        None => {
            let original = bucket.head(id).await.map_err(unavailable)?;
            let size = original.ok_or_else(|| not_found(id))?.size();
            object(req, &bucket, id, size, &etag(id, None), range_header).await
        }
        Some((w, media_type)) => {
            let bytes = match bucket.get(id).execute().await.map_err(unavailable)? {
                Some(o) => match o.body() {
                    Some(b) => b.bytes().await.map_err(unavailable)?,
                    None => return Err(not_found(id)),
                },
                None => return Err(not_found(id)),
            };
            let started = now_ms();
            let (made, made_type) = variant::resize(&bytes, media_type, w).map_err(|e| {
                EdgeError::api(
                    422,
                    "unreadable_media",
                    format!("no variant can be made: {e}"),
                )
            })?;
            worker::console_log!(
                "media {id}: made the {w} px variant in {} ms ({} -> {} bytes)",
                now_ms() - started,
                bytes.len(),
                made.len()
            );
            drop(bytes);
            let key = store::object_key(id, Some(w));
            let len = made.len() as u64;
            store::put(&bucket, &key, made.clone(), made_type.mime())
                .await
                .map_err(unavailable)?;
            let response = Response::from_bytes(made)?;
            headers(&response, made_type.mime(), len, &etag(id, Some(w)))?;
            Ok(response)
        }
    }
}

/// The strong ETag of media `id` at `width`: the bytes never change under it.
fn etag(id: &str, width: Option<u32>) -> String {
    match width {
        None => format!("\"{id}\""),
        Some(w) => format!("\"{id}-w{w}\""),
    }
}

fn headers(response: &Response, mime: &str, len: u64, etag: &str) -> Result<()> {
    let h = response.headers();
    h.set("Content-Type", mime)?;
    h.set("Content-Length", &len.to_string())?;
    h.set("ETag", etag)?;
    h.set("Cache-Control", MEDIA_CACHE_CONTROL)?;
    h.set("X-Content-Type-Options", "nosniff")?;
    h.set("Accept-Ranges", "bytes")?;
    h.set("Access-Control-Allow-Origin", "*")?;
    // A PDF opens in the browser's viewer, never as a page of this origin's.
    h.set("Content-Security-Policy", "sandbox")?;
    Ok(())
}

/// Object `key` of `size` bytes from R2: 304 for a matching `If-None-Match`, 206 for one
/// satisfiable byte range, 416 for one that is not, else 200.
async fn object(
    req: &Request,
    bucket: &worker::Bucket,
    key: &str,
    size: u64,
    etag: &str,
    range_header: Option<String>,
) -> Result<Response> {
    let wanted = req.headers().get("If-None-Match")?;
    if wanted.is_some_and(|w| crate::publish::if_none_match(&w, etag)) {
        let response = Response::empty()?.with_status(304);
        response.headers().set("ETag", etag)?;
        response
            .headers()
            .set("Cache-Control", MEDIA_CACHE_CONTROL)?;
        return Ok(response);
    }
    let part = range::parse(range_header.as_deref(), size);
    let get = bucket.get(key);
    let get = match part {
        Wanted::Part { start, end } => get.range(worker::Range::OffsetWithLength {
            offset: start,
            length: end - start + 1,
        }),
        Wanted::Unsatisfiable => {
            let response = Response::empty()?.with_status(416);
            response
                .headers()
                .set("Content-Range", &part.content_range(size))?;
            return Ok(response);
        }
        Wanted::All => get,
    };
    let found = get.execute().await.map_err(unavailable)?;
    let found = found.ok_or_else(|| not_found(key))?;
    let mime = found
        .http_metadata()
        .content_type
        .unwrap_or_else(|| "application/octet-stream".to_string());
    let body = found.body().ok_or_else(|| not_found(key))?;
    let response = Response::from_body(body.response_body()?)?;
    match part {
        Wanted::Part { start, end } => {
            headers(&response, &mime, end - start + 1, etag)?;
            response
                .headers()
                .set("Content-Range", &part.content_range(size))?;
            Ok(response.with_status(206))
        }
        _ => {
            headers(&response, &mime, size, etag)?;
            Ok(response)
        }
    }
}
