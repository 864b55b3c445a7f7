//! The edge cache (the Workers Cache API, `caches.default`) in front of what readers fetch.
//! Which responses, their keys and what is purged when are decided in
//! [`crate::publish::cache`]; here they are carried out. Every response that could come from
//! the cache says whether it did: `Folio-Cache: hit` or `miss`.
//!
//! The cache is an optimisation, never a source of truth: when it is unavailable or fails,
//! the request is served from KV, D1 or R2 as before (and the failure logged).

use std::future::Future;

use worker::{Cache, Context, Request, Response};

use super::error::Result;
use crate::publish::cache::key;
use crate::publish::if_none_match;

/// The header saying where a response came from.
pub const HEADER: &str = "Folio-Cache";

/// `caches.default`, if this runtime has it (checked first: `Cache::default` would panic
/// without it, and a panic resets the isolate).
fn cache() -> Option<Cache> {
    let caches = js_sys::Reflect::get(&js_sys::global(), &"caches".into()).ok()?;
    if caches.is_undefined() || caches.is_null() {
        return None;
    }
    Some(Cache::default())
}

/// A copy of `response` whose headers can be changed (a cached response's are immutable).
fn mutable(response: Response) -> Result<Response> {
    let status = response.status_code();
    let headers = worker::Headers::new();
    for (name, value) in response.headers().entries() {
        headers.append(&name, &value)?;
    }
    let (_, body) = response.into_parts();
    Ok(Response::from_body(body)?
        .with_status(status)
        .with_headers(headers))
}

/// Serves `path` (with its canonical query) from the cache, or from `produce` and keeps a
/// 200 for the next reader (in the background, via `ctx`). `path: None` is not cacheable:
/// always produced, and said to be a miss. A hit answers `If-None-Match` itself (304).
pub async fn through<F>(
    ctx: &Context,
    req: &Request,
    path: Option<String>,
    produce: F,
) -> Result<Response>
where
    F: Future<Output = Result<Response>>,
{
    let (Some(path), Some(cache)) = (path, cache()) else {
        return mark(produce.await?, false);
    };
    let key = key(&path);
    match cache.get(key.as_str(), false).await {
        Ok(Some(hit)) => {
            let etag = hit.headers().get("ETag").ok().flatten();
            let wanted = req.headers().get("If-None-Match").ok().flatten();
            if let (Some(etag), Some(wanted)) = (&etag, wanted) {
                if if_none_match(&wanted, etag) {
                    let response = Response::empty()?.with_status(304);
                    for name in ["ETag", "Cache-Control", "Access-Control-Allow-Origin"] {
                        if let Ok(Some(v)) = hit.headers().get(name) {
                            response.headers().set(name, &v)?;
                        }
                    }
                    return mark(response, true);
                }
            }
            return mark(mutable(hit)?, true);
        }
        Ok(None) => {}
        Err(e) => worker::console_error!("edge cache read of {path}: {e}"),
    }
    let mut response = produce.await?;
    if response.status_code() == 200 {
        let copy = response.cloned()?;
        ctx.wait_until(async move {
            if let Err(e) = cache.put(key.as_str(), copy).await {
                worker::console_error!("edge cache write of {path}: {e}");
            }
        });
    }
    mark(response, false)
}

/// Sets [`HEADER`].
fn mark(response: Response, hit: bool) -> Result<Response> {
    response
        .headers()
        .set(HEADER, if hit { "hit" } else { "miss" })?;
    Ok(response)
}

/// Removes `keys` (full keys, [`crate::publish::cache`]) from the cache of this data centre.
/// Failures are logged: the copies then expire on their own (`s-maxage`).
pub async fn purge(keys: &[String]) {
    let Some(cache) = cache() else { return };
    for key in keys {
        if let Err(e) = cache.delete(key.as_str(), false).await {
            worker::console_error!("edge cache purge of {key}: {e}");
        }
    }
}
