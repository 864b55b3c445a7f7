//! The platform layer (wasm only): the stateless worker's router, its handlers, the
//! document's Durable Object and the storage adapters.
//!
//! - [`error`]: the edge's one error, converted to a response once;
//! - [`http`]: JSON responses, bounded bodies, the clock;
//! - [`access`]: credentials, identities forwarded to objects, tokens and sessions;
//! - [`reader`] and [`authors`]: the reader API and the document registry (never wake an
//!   object); [`collections`]: content types (definitions in D1, cached per isolate);
//! - [`media`]: uploads in R2 and the public files; [`cache`]: the edge cache in front of
//!   everything readers fetch;
//! - [`webhooks`]: the webhook registry, events, and each webhook's queue (a Durable Object);
//! - `document/`: the Durable Object of one document;
//! - `storage/`: SQLite, D1 and KV, each with every statement on it.
//!
//! The router validates every request ([`Route::parse`]) and checks its access rule before
//! any handler or object runs.

mod access;
mod authors;
mod cache;
mod collections;
mod content;
mod document;
mod error;
mod http;
mod media;
mod reader;
mod storage;
mod transfer;
mod webhooks;

use serde_json::json;
use worker::{event, Context, Env, Request, Response};

use self::error::{respond, EdgeError, Result};
pub(crate) use self::http::{instance, now_ms};
use self::http::{json_response, wants_upgrade};
use crate::access::routes::origin_allowed;
use crate::access::{permit, Access, AuthError, Route, RouteError};

// The durable_object macro exports the class to JavaScript; re-exported for docs.
#[allow(unused_imports)]
pub use document::DocumentObject;
#[allow(unused_imports)]
pub use webhooks::queue::WebhookObject;

/// The Durable Object namespace of documents (wrangler.toml).
const DOCUMENTS: &str = "DOCUMENTS";

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// Refuses a socket request that is not a WebSocket upgrade (426) or comes from a foreign
/// `Origin` (403), before its token is even looked at.
fn sync_precheck(req: &Request, env: &Env) -> Result<()> {
    if req.method() != worker::Method::Get || !wants_upgrade(req) {
        // No `Upgrade` header on the answer: the runtime strips it (hop-by-hop).
        return Err(EdgeError::api(
            426,
            "upgrade_required",
            "connect with a WebSocket (y-websocket)",
        ));
    }
    let url = req.url()?;
    let self_origin = url.origin().ascii_serialization();
    let allowed = env
        .var("ALLOWED_ORIGINS")
        .map(|v| v.to_string())
        .unwrap_or_default();
    let origin = req.headers().get("Origin")?;
    if !origin_allowed(origin.as_deref(), &self_origin, &allowed) {
        return Err(EdgeError::api(
            403,
            "origin_not_allowed",
            "this origin may not open editing sockets (see ALLOWED_ORIGINS)",
        ));
    }
    Ok(())
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let path = req.path();
    // As the request says it: `worker::Method` reads every method it does not know as GET.
    let method = req.inner().method();
    let route = match Route::parse(&method, &path) {
        Ok(route) => route,
        Err(RouteError::Invalid(e)) => return reader::cors(EdgeError::from(e).response()?),
        Err(RouteError::Method(allowed)) => {
            let response =
                EdgeError::api(405, "method_not_allowed", format!("use {allowed}")).response()?;
            response.headers().set("Allow", &allowed)?;
            return Ok(response);
        }
        Err(RouteError::NotFound) => {
            return EdgeError::api(404, "not_found", "no such route").response()
        }
    };
    // The reader API answers its errors with CORS too (its handlers add it to what they
    // answer): front-ends on other origins read them.
    let public_read = route.is_reader();
    match serve(route, req, &env, &ctx).await {
        Err(e) if public_read => reader::cors(e.response()?),
        result => respond(result),
    }
}

/// Whether the request has no query: only such lists are cached (see
/// [`crate::publish::cache`]).
fn no_query(req: &Request) -> Result<bool> {
    Ok(req.url()?.query().is_none_or(str::is_empty))
}

/// Whether reader responses go through the edge cache: unless `EDGE_CACHE` is `off` (for
/// a comparison in the same run, `make bench-readers`).
pub(crate) fn edge_cache_on(env: &Env) -> bool {
    env.var("EDGE_CACHE")
        .map_or(true, |v| v.to_string() != "off")
}

/// `key`, unless the edge cache is off.
fn cache_key(env: &Env, key: Option<String>) -> Option<String> {
    key.filter(|_| edge_cache_on(env))
}

/// `GET /`: what this server is, how to connect an editor, and every route of the table.
fn index() -> serde_json::Value {
    let routes: Vec<String> = crate::access::routes::ROUTES
        .iter()
        .map(|spec| format!("{} {} — {}", spec.method, spec.path, spec.summary))
        .collect();
    json!({
        "service": "folio",
        "sync": "ws://<host>/sync/{doc}?token=<token>  (y-websocket: new WebsocketProvider('ws://<host>/sync', doc, ydoc, { params: { token } }))",
        "openapi": "GET /api/openapi.json",
        "routes": routes,
    })
}

/// Access control (the route's rule, before any handler or object runs), then the handler.
async fn serve(route: Route<'_>, req: Request, env: &Env, ctx: &Context) -> Result<Response> {
    let socket = matches!(route, Route::Sync { .. });
    if socket {
        sync_precheck(&req, env)?;
    } else if wants_upgrade(&req) {
        // Sockets are served on /sync/{doc} only, where origin and socket credentials are
        // checked: a cookie or a preview link never opens one.
        return Err(EdgeError::api(
            400,
            "upgrade_not_allowed",
            "WebSockets are served on /sync/{doc} only",
        ));
    }
    let access = route.access();
    let keys = match access {
        Access::Public if route != Route::SignIn => None,
        _ => Some(access::keys(env)?),
    };
    let who = match (&access, &keys) {
        (Access::SignedIn | Access::Role(..) | Access::Library(..), Some(keys)) => {
            let who = access::authenticate(&req, keys, socket)?;
            match &access {
                Access::Role(role, doc) => permit(&who.claims, *role, doc.as_ref())?,
                Access::Library(role) if who.claims.role < *role => {
                    return Err(AuthError::Role {
                        have: who.claims.role,
                        need: *role,
                    }
                    .into());
                }
                _ => {}
            }
            // Sockets have their own per-connection budget in the object.
            if !socket {
                access::throttle(&who)?;
            }
            Some(who)
        }
        _ => None,
    };
    match (route, keys, who) {
        (Route::Index, ..) => json_response(200, &index()),
        (Route::Health, ..) => json_response(200, &json!({ "ok": true, "instance": instance() })),
        (Route::Posts, ..) => {
            let key = cache_key(env, no_query(&req)?.then(|| "/api/posts".to_string()));
            cache::through(ctx, &req, key, reader::list(env, &req)).await
        }
        (Route::Post { slug }, ..) => {
            let key = cache_key(env, Some(format!("/api/posts/{slug}")));
            cache::through(ctx, &req, key, reader::post(env, &req, &slug)).await
        }
        (Route::PostVersion { slug, version }, ..) => {
            reader::post_version(env, &slug, version.0).await
        }
        (Route::Page { slug }, ..) => {
            let key = cache_key(env, Some(format!("/p/{slug}")));
            cache::through(ctx, &req, key, reader::page(env, &slug)).await
        }
        (Route::Media { id }, ..) => media::serve(&req, env, ctx, &id).await,
        (Route::MediaUpload, _, Some(who)) => media::upload(req, env, ctx, &who.claims).await,
        (Route::MediaList, ..) => media::list(&req, env).await,
        (Route::MediaDelete { id }, ..) => media::delete(env, ctx, &id).await,
        (Route::Webhooks, ..) => webhooks::list(env).await,
        (Route::WebhookCreate, ..) => webhooks::create(req, env).await,
        (Route::Webhook { id }, ..) => webhooks::get(env, &id).await,
        (Route::WebhookUpdate { id }, ..) => webhooks::update(req, env, &id).await,
        (Route::WebhookDelete { id }, ..) => webhooks::delete(env, &id).await,
        (Route::WebhookDeliveries { id }, ..) => webhooks::deliveries(&req, env, &id).await,
        (Route::WebhookRetry { id, delivery }, ..) => webhooks::retry(env, &id, &delivery).await,
        (Route::Preflight, ..) => Ok(reader::preflight()?),
        (Route::SignIn, Some(keys), _) => access::sign_in(req, &keys, env).await,
        (Route::SignOut, ..) => access::sign_out(),
        (Route::PreviewPage { doc }, Some(keys), _) => {
            let claims = access::preview_claims(&req, &keys, &doc)?;
            access::forward(env, &doc, &req, &claims, false).await
        }
        (Route::Session, _, Some(who)) => access::session(&who),
        (Route::Tokens, Some(keys), Some(who)) => access::tokens(req, &keys, &who.claims).await,
        (Route::Preview { doc }, Some(keys), Some(who)) => {
            access::preview_link(req, &keys, &who.claims, &doc).await
        }
        (Route::Docs, _, Some(who)) => authors::list(&req, env, &who.claims).await,
        (Route::CreateDoc, _, Some(who)) => authors::create(req, env, &who.claims).await,
        (Route::Content { collection }, ..) => {
            let key = cache_key(
                env,
                no_query(&req)?.then(|| format!("/api/content/{collection}")),
            );
            cache::through(ctx, &req, key, content::list(env, &req, &collection)).await
        }
        (Route::ContentEntry { collection, slug }, ..) => {
            let key = cache_key(env, Some(format!("/api/content/{collection}/{slug}")));
            cache::through(
                ctx,
                &req,
                key,
                content::entry(env, &req, &collection, &slug),
            )
            .await
        }
        (Route::OpenApi, ..) => Ok(reader::cors(collections::openapi(env).await?)?),
        (Route::Collections, _, Some(_)) => collections::list(env).await,
        (Route::Collection { name }, _, Some(_)) => collections::get(env, &name).await,
        (Route::CollectionCreate, _, Some(_)) => collections::create(req, env).await,
        (Route::CollectionUpdate { name }, _, Some(_)) => {
            collections::update(req, env, &name).await
        }
        (Route::CollectionExport { name }, _, Some(who)) => {
            transfer::export(env, &name, &who.claims).await
        }
        (Route::CollectionImport { name }, _, Some(who)) => {
            transfer::import(req, env, &name, &who.claims).await
        }
        (Route::Versions { doc }, _, Some(_)) => reader::doc_versions(env, &doc).await,
        (Route::Sync { doc }, _, Some(who)) => {
            access::forward(env, &doc, &req, &who.claims, true).await
        }
        // Every other route about one document is the document object's.
        (route, _, Some(who)) if route.doc().is_some() => {
            let doc = route.doc().cloned().ok_or(AuthError::Missing)?;
            access::forward(env, &doc, &req, &who.claims, false).await
        }
        // Unreachable by the rules above (every guarded route has a principal); refuse
        // rather than serve if a new route is added without one.
        _ => Err(AuthError::Missing.into()),
    }
}
