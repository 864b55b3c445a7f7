//! HTTP helpers of the edge: JSON responses, bounded request bodies, the clock, and this
//! instance's id.

use worker::{Request, Response};

use super::error::{EdgeError, Result};

/// A JSON response with `status`.
///
/// # Errors
/// Only if the platform cannot build a response.
pub(crate) fn json_response(status: u16, body: &serde_json::Value) -> Result<Response> {
    Ok(Response::from_json(body)?.with_status(status))
}

/// How much of a refused body is drained (read and dropped) to keep the connection usable.
const MAX_DRAIN_BYTES: usize = 1 << 20;

/// A request body of at most `cap` bytes: 413 `body_too_large` when its `Content-Length`
/// says more, or as soon as a body without one (chunked) passes it. Nothing past the cap is
/// ever kept.
pub(crate) async fn read_body(req: &mut Request, cap: usize) -> Result<Vec<u8>> {
    use futures_util::StreamExt;
    let too_large = || {
        EdgeError::api(
            413,
            "body_too_large",
            format!("the request body is over the limit of {cap} bytes"),
        )
    };
    let declared = req.headers().get("Content-Length").ok().flatten();
    let declared = declared.and_then(|v| v.trim().parse::<u64>().ok());
    let over = declared.is_some_and(|len| len > cap as u64);
    if over && declared.is_some_and(|len| len > MAX_DRAIN_BYTES as u64) {
        return Err(too_large()); // not even drained
    }
    // Past this, reading stops: the cap, or the drain bound for a small cap.
    let stop = cap.max(MAX_DRAIN_BYTES);
    // No body at all is an empty one.
    let Ok(mut stream) = req.stream() else {
        return Ok(Vec::new());
    };
    // Past the cap nothing is kept (never buffered, never parsed), but the rest is drained,
    // up to a bound, so that the connection stays usable for the client's next request.
    let mut body = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return Err(EdgeError::api(
                400,
                "invalid_json",
                "the body could not be read",
            ));
        };
        seen = seen.saturating_add(chunk.len());
        if seen > stop {
            return Err(too_large()); // cut off
        }
        if !over && seen <= cap {
            body.extend_from_slice(&chunk);
        }
    }
    if over || seen > cap {
        return Err(too_large());
    }
    Ok(body)
}

/// A JSON body of type `T` of at most `cap` bytes (see [`read_body`]); an empty body is
/// `T::default()`.
pub(crate) async fn json_body<T: for<'de> serde::Deserialize<'de> + Default>(
    req: &mut Request,
    cap: usize,
) -> Result<T> {
    let bytes = read_body(req, cap).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| EdgeError::api(400, "invalid_json", format!("invalid JSON body: {e}")))
}

/// A random id of this wasm instance, made once: if a panic makes the runtime reinitialize
/// the module (every document of the isolate loses its state), `/health` shows a new one.
/// Tests compare it before and after hostile input.
pub(crate) fn instance() -> String {
    thread_local! {
        static INSTANCE: String = format!("{:016x}", crate::sync::store::fresh_client_id());
    }
    INSTANCE.with(|id| id.clone())
}

/// The wall clock (ms). `Date.now()` itself: `worker::Date::now()` allocates a JS `Date` and
/// costs two calls into JS (1.3 % of the isolate's time at 500 edits/s, `make profile`).
pub(crate) fn now_ms() -> crate::time::Millis {
    js_sys::Date::now() as i64
}

/// Whether `req` asks for a WebSocket.
pub(crate) fn wants_upgrade(req: &Request) -> bool {
    req.headers()
        .get("Upgrade")
        .ok()
        .flatten()
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}
