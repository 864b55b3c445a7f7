//! The platform layer (wasm only): the stateless worker's router and the document object.
//!
//! The router validates every request before any Durable Object is touched; errors leave as
//! JSON `{"error": {"code", "message"}}` with a precise status.

mod access;
mod authors;
mod d1;
mod intents;
mod live;
mod object;
mod publisher;
mod reader;
mod sql;

use serde_json::json;
use worker::{event, Context, Env, Request, Response, Result};

use crate::auth;
use crate::error as folio_error;
use crate::routes::{origin_allowed, Access, Route, RouteError};

// The durable_object macro exports the class to JavaScript; re-exported for docs.
#[allow(unused_imports)]
pub use object::DocumentObject;

/// The Durable Object namespace of documents (wrangler.toml).
const DOCUMENTS: &str = "DOCUMENTS";

pub(crate) fn json_response(status: u16, body: &serde_json::Value) -> Result<Response> {
    Ok(Response::from_json(body)?.with_status(status))
}

pub(crate) fn json_error(status: u16, code: &str, message: &str) -> Result<Response> {
    json_response(
        status,
        &json!({ "error": { "code": code, "message": message } }),
    )
}

/// How much of a refused body is drained (read and dropped) to keep the connection usable.
const MAX_DRAIN_BYTES: usize = 1 << 20;

/// A request body of at most `cap` bytes: 413 `body_too_large` when its `Content-Length`
/// says more, or as soon as a body without one (chunked) passes it. Nothing past the cap is
/// ever kept.
pub(crate) async fn read_body(
    req: &mut Request,
    cap: usize,
) -> std::result::Result<Vec<u8>, Result<Response>> {
    use futures_util::StreamExt;
    let too_large = || {
        json_error(
            413,
            "body_too_large",
            &format!("the request body is over the limit of {cap} bytes"),
        )
    };
    let declared = req.headers().get("Content-Length").ok().flatten();
    let declared = declared.and_then(|v| v.trim().parse::<u64>().ok());
    let over = declared.is_some_and(|len| len > cap as u64);
    if declared.is_some_and(|len| len > MAX_DRAIN_BYTES as u64) {
        return Err(too_large()); // not even drained
    }
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
            return Err(json_error(
                400,
                "invalid_json",
                "the body could not be read",
            ));
        };
        seen = seen.saturating_add(chunk.len());
        if seen > MAX_DRAIN_BYTES {
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
) -> std::result::Result<T, Result<Response>> {
    let bytes = read_body(req, cap).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| json_error(400, "invalid_json", &format!("invalid JSON body: {e}")))
}

/// The JSON error for a core error; a bad parameter is named.
pub(crate) fn error_json(e: &folio_error::Error) -> Result<Response> {
    let (status, code) = e.http_status();
    let mut body = json!({ "error": { "code": code, "message": e.to_string() } });
    if let folio_error::Error::BadParameter { parameter, .. } = e {
        body["error"]["parameter"] = json!(parameter);
    }
    json_response(status, &body)
}

/// A random id of this wasm instance, made once: if a panic makes the runtime reinitialize
/// the module (every document of the isolate loses its state), `/health` shows a new one.
/// Tests compare it before and after hostile input.
pub(crate) fn instance() -> String {
    thread_local! {
        static INSTANCE: String = format!("{:016x}", crate::store::fresh_client_id());
    }
    INSTANCE.with(|id| id.clone())
}

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// Whether `req` asks for a WebSocket.
pub(crate) fn wants_upgrade(req: &Request) -> bool {
    req.headers()
        .get("Upgrade")
        .ok()
        .flatten()
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Refuses a socket request that is not a WebSocket upgrade (426) or comes from a foreign
/// `Origin` (403), before its token is even looked at.
fn sync_precheck(req: &Request, env: &Env) -> Result<Option<Response>> {
    if req.method() != worker::Method::Get || !wants_upgrade(req) {
        // No `Upgrade` header on the answer: the runtime strips it (hop-by-hop).
        return json_error(
            426,
            "upgrade_required",
            "connect with a WebSocket (y-websocket)",
        )
        .map(Some);
    }
    let url = req.url()?;
    let self_origin = url.origin().ascii_serialization();
    let allowed = env
        .var("ALLOWED_ORIGINS")
        .map(|v| v.to_string())
        .unwrap_or_default();
    let origin = req.headers().get("Origin")?;
    if !origin_allowed(origin.as_deref(), &self_origin, &allowed) {
        return json_error(
            403,
            "origin_not_allowed",
            "this origin may not open editing sockets (see ALLOWED_ORIGINS)",
        )
        .map(Some);
    }
    Ok(None)
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let path = req.path();
    let method = req.method().to_string();
    let route = match Route::parse(&method, &path) {
        Ok(route) => route,
        Err(RouteError::Invalid(e)) => return reader::cors(error_json(&e)?),
        Err(RouteError::Method(allowed)) => {
            let response = json_error(405, "method_not_allowed", &format!("use {allowed}"))?;
            response.headers().set("Allow", allowed)?;
            return Ok(response);
        }
        Err(RouteError::NotFound) => return json_error(404, "not_found", "no such route"),
    };
    let socket = matches!(route, Route::Sync { .. });
    if socket {
        if let Some(refused) = sync_precheck(&req, &env)? {
            return Ok(refused);
        }
    } else if wants_upgrade(&req) {
        // Sockets are served on /sync/{doc} only, where origin and socket credentials are
        // checked: a cookie or a preview link never opens one.
        return json_error(
            400,
            "upgrade_not_allowed",
            "WebSockets are served on /sync/{doc} only",
        );
    }
    // Access control: the route's rule, before any handler or object runs.
    let access = route.access();
    let keys = match access {
        Access::Public if route != Route::SignIn => None,
        _ => match access::keys(&env) {
            Ok(keys) => Some(keys),
            Err(e) => return access::refuse(e),
        },
    };
    let who = match (access, &keys) {
        (Access::SignedIn | Access::Role(..), Some(keys)) => {
            let who = match access::authenticate(&req, keys, socket) {
                Ok(who) => who,
                Err(e) => return access::refuse(e),
            };
            if let Access::Role(role, doc) = access {
                if let Err(e) = auth::permit(&who.claims, role, doc) {
                    return access::refuse(e);
                }
            }
            // Sockets have their own per-connection budget in the object.
            if !socket {
                if let Some(limited) = access::throttle(&who)? {
                    return Ok(limited);
                }
            }
            Some(who)
        }
        _ => None,
    };
    match (route, keys, who) {
        (Route::Index, ..) => json_response(
            200,
            &json!({
                "service": "folio",
                "sync": "ws://<host>/sync/{doc}?token=<token>  (y-websocket: new WebsocketProvider('ws://<host>/sync', doc, ydoc, { params: { token } }))",
                "sign_in": "POST /api/session {key} or {invite}; GET /api/session; DELETE /api/session",
                "tokens": "POST /api/tokens {user?, role?, doc?, ttl_seconds?, use?}",
                "state": "GET /api/docs/{doc}/state",
                "draft": "GET /api/docs/{doc}",
                "documents": "GET /api/docs, POST /api/docs",
                "posts": "GET /api/posts, GET /api/posts/{slug}, GET /p/{slug}",
            }),
        ),
        (Route::Health, ..) => json_response(200, &json!({ "ok": true, "instance": instance() })),
        (Route::Posts, ..) => reader::list(&env, &req).await,
        (Route::Post { slug }, ..) => reader::post(&env, &req, slug).await,
        (Route::PostVersion { slug, version }, ..) => {
            reader::post_version(&env, slug, version).await
        }
        (Route::Page { slug }, ..) => reader::page(&env, slug).await,
        (Route::Preflight, ..) => reader::preflight(),
        (Route::SignIn, Some(keys), _) => access::sign_in(req, &keys, &env).await,
        (Route::SignOut, ..) => access::sign_out(),
        (Route::PreviewPage { doc }, Some(keys), _) => {
            match access::preview_claims(&req, &keys, doc) {
                Ok(claims) => access::forward(&env, doc, &req, &claims, false).await,
                Err(e) => access::refuse(e),
            }
        }
        (Route::Session, _, Some(who)) => access::session(&who),
        (Route::Tokens, Some(keys), Some(who)) => access::tokens(req, &keys, &who.claims).await,
        (Route::Preview { doc }, Some(keys), Some(who)) => {
            let doc = doc.to_string();
            access::preview_link(req, &keys, &who.claims, &doc).await
        }
        (Route::Docs, _, Some(who)) => authors::list(&env, &who.claims).await,
        (Route::CreateDoc, _, Some(_)) => authors::create(&env).await,
        (Route::Versions { doc }, _, Some(_)) => reader::doc_versions(&env, doc).await,
        (Route::Sync { doc }, _, Some(who)) => {
            access::forward(&env, doc, &req, &who.claims, true).await
        }
        (
            Route::DocState { doc }
            | Route::Draft { doc }
            | Route::Publish { doc }
            | Route::Unpublish { doc }
            | Route::Schedule { doc }
            | Route::ScheduleAdd { doc }
            | Route::ScheduleCancel { doc, .. }
            | Route::Publishing { doc }
            | Route::PublishingRetry { doc }
            | Route::PublishingCancel { doc }
            | Route::Export { doc }
            | Route::Faults { doc }
            | Route::Restore { doc, .. },
            _,
            Some(who),
        ) => access::forward(&env, doc, &req, &who.claims, false).await,
        // Unreachable by the rules above (every guarded route has a principal); refuse
        // rather than serve if a new route is added without one.
        _ => access::refuse(auth::AuthError::Missing),
    }
}
