//! Webhooks at the edge: the admin API (`/api/webhooks`, the registry in D1) and [`emit`],
//! which queues an event for every enabled webhook subscribed to it, each in its own Durable
//! Object ([`queue`]) that sends, retries and logs its deliveries.
//!
//! A document's events (publishing, the schedule, `document.updated`) go through its
//! object's outbox: recorded in its SQLite in the same write as what they report, queued
//! from there, and queued again by its alarm until every webhook has them (queueing is
//! idempotent by message id), so none is lost to a crash. Media events are queued in the
//! background of the request that stored or deleted the file (`wait_until`).

pub mod queue;

use serde::Deserialize;
use serde_json::{json, Value};
use worker::{console_error, Env, Request, Response};

use super::error::{EdgeError, Result};
use super::http::{json_body, json_response, now_ms};
use super::storage::d1;
use super::storage::webhooks::{self as store, WebhookRow};
use crate::limits::MAX_BODY_BYTES;
use crate::time::{iso8601, Millis};
use crate::webhook::{
    check_url, envelope, parse_events, secret_from, MAX_DESCRIPTION_CHARS, MAX_WEBHOOKS,
};

/// The Durable Object namespace of webhook queues (wrangler.toml).
const WEBHOOKS: &str = "WEBHOOKS";

/// Whether webhooks may go to private and loopback addresses: `ALLOW_PRIVATE_WEBHOOKS` is
/// `on` (`make dev` and the tests set it in `.dev.vars`; the deployed config leaves it off).
pub fn allow_private(env: &Env) -> bool {
    env.var("ALLOW_PRIVATE_WEBHOOKS")
        .is_ok_and(|v| matches!(v.to_string().as_str(), "on" | "true" | "1"))
}

fn unavailable(e: impl std::fmt::Display) -> EdgeError {
    EdgeError::unavailable("the webhook registry is unavailable; try again", e)
}

fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| unavailable(format!("no randomness: {e}")))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn webhook_json(row: &WebhookRow) -> Value {
    json!({
        "id": row.id,
        "url": row.url,
        "events": row.events(),
        "description": row.description,
        "enabled": row.enabled(),
        "disabled_reason": row.disabled_reason,
        "created_at": iso8601(row.created_at as i64),
        "updated_at": iso8601(row.updated_at as i64),
    })
}

fn bad(parameter: &'static str, message: impl Into<String>) -> EdgeError {
    crate::error::Error::BadParameter {
        parameter: parameter.into(),
        message: message.into(),
    }
    .into()
}

fn check_description(text: &str) -> Result<String> {
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(bad(
            "description",
            format!("at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    Ok(text.trim().to_string())
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Definition {
    url: Option<String>,
    events: Option<Value>,
    description: Option<String>,
    enabled: Option<bool>,
}

/// The object holding webhook `id`'s queue.
fn queue(env: &Env, id: &str) -> Result<worker::Stub> {
    Ok(env.durable_object(WEBHOOKS)?.get_by_name(id)?)
}

/// Sends an internal request to webhook `id`'s queue.
async fn to_queue(
    env: &Env,
    id: &str,
    method: worker::Method,
    path: &str,
    body: Option<String>,
) -> Result<Response> {
    let mut init = worker::RequestInit::new();
    init.with_method(method);
    if let Some(body) = body {
        let headers = worker::Headers::new();
        headers.set("content-type", "application/json")?;
        init.with_headers(headers).with_body(Some(body.into()));
    }
    let req = Request::new_with_init(&format!("https://webhook.internal{path}"), &init)?;
    Ok(queue(env, id)?.fetch_with_request(req).await?)
}

async fn existing(env: &Env, id: &str) -> Result<(worker::D1Database, WebhookRow)> {
    let db = d1::db(env).map_err(unavailable)?;
    let row = store::get(&db, id).await.map_err(unavailable)?;
    let row =
        row.ok_or_else(|| EdgeError::api(404, "webhook_not_found", format!("no webhook {id}")))?;
    Ok((db, row))
}

/// `POST /api/webhooks` `{url, events, description?}` → 201 with the secret (shown once).
pub async fn create(mut req: Request, env: &Env) -> Result<Response> {
    let def: Definition = json_body(&mut req, MAX_BODY_BYTES).await?;
    let url = def.url.ok_or_else(|| bad("url", "a webhook needs a url"))?;
    check_url(&url, allow_private(env)).map_err(|why| bad("url", why))?;
    let events =
        parse_events(&def.events.unwrap_or(Value::Null)).map_err(|why| bad("events", why))?;
    let description = check_description(def.description.as_deref().unwrap_or_default())?;
    let db = d1::db(env).map_err(unavailable)?;
    if store::list(&db).await.map_err(unavailable)?.len() >= MAX_WEBHOOKS {
        return Err(EdgeError::api(
            409,
            "too_many_webhooks",
            format!("at most {MAX_WEBHOOKS} webhooks; delete one first"),
        ));
    }
    let mut key = [0u8; 24];
    getrandom::fill(&mut key).map_err(|e| unavailable(format!("no randomness: {e}")))?;
    let now = now_ms();
    let row = WebhookRow {
        id: format!("wh_{}", random_hex(12)?),
        url,
        events: serde_json::to_string(&events)?,
        description,
        secret: secret_from(&key),
        enabled: 1.0,
        disabled_reason: None,
        created_at: now as f64,
        updated_at: now as f64,
    };
    store::create(&db, &row).await.map_err(unavailable)?;
    let mut out = webhook_json(&row);
    out["secret"] = json!(row.secret);
    json_response(201, &out)
}

/// `GET /api/webhooks`: every webhook, without secrets.
pub async fn list(env: &Env) -> Result<Response> {
    let db = d1::db(env).map_err(unavailable)?;
    let rows = store::list(&db).await.map_err(unavailable)?;
    json_response(
        200,
        &json!({ "webhooks": rows.iter().map(webhook_json).collect::<Vec<_>>() }),
    )
}

/// `GET /api/webhooks/{id}`.
pub async fn get(env: &Env, id: &str) -> Result<Response> {
    let (_, row) = existing(env, id).await?;
    json_response(200, &webhook_json(&row))
}

/// `PATCH /api/webhooks/{id}` `{url?, events?, description?, enabled?}`. Enabling a
/// disabled webhook sends what waited in its queue.
pub async fn update(mut req: Request, env: &Env, id: &str) -> Result<Response> {
    let def: Definition = json_body(&mut req, MAX_BODY_BYTES).await?;
    let (db, mut row) = existing(env, id).await?;
    if let Some(url) = def.url {
        check_url(&url, allow_private(env)).map_err(|why| bad("url", why))?;
        row.url = url;
    }
    if let Some(events) = def.events {
        let events = parse_events(&events).map_err(|why| bad("events", why))?;
        row.events = serde_json::to_string(&events)?;
    }
    if let Some(description) = def.description {
        row.description = check_description(&description)?;
    }
    if let Some(enabled) = def.enabled {
        row.enabled = if enabled { 1.0 } else { 0.0 };
        row.disabled_reason = (!enabled).then(|| "disabled by an admin".to_string());
    }
    row.updated_at = now_ms() as f64;
    store::update(&db, &row).await.map_err(unavailable)?;
    if row.enabled() {
        // A new URL or a re-enabled endpoint: whatever waits is tried now.
        to_queue(env, id, worker::Method::Post, "/wake", None).await?;
    }
    json_response(200, &webhook_json(&row))
}

/// `DELETE /api/webhooks/{id}`: the webhook and its queue.
pub async fn delete(env: &Env, id: &str) -> Result<Response> {
    let (db, _) = existing(env, id).await?;
    store::delete(&db, id).await.map_err(unavailable)?;
    to_queue(env, id, worker::Method::Delete, "/", None).await?;
    json_response(200, &json!({ "deleted": id }))
}

/// `GET /api/webhooks/{id}/deliveries?status=&limit=`: newest first.
pub async fn deliveries(req: &Request, env: &Env, id: &str) -> Result<Response> {
    existing(env, id).await?;
    let query = req
        .url()?
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    to_queue(
        env,
        id,
        worker::Method::Get,
        &format!("/deliveries{query}"),
        None,
    )
    .await
}

/// `POST /api/webhooks/{id}/deliveries/{delivery}/retry`: queued again now, with the whole
/// retry schedule.
pub async fn retry(env: &Env, id: &str, delivery: &str) -> Result<Response> {
    existing(env, id).await?;
    to_queue(
        env,
        id,
        worker::Method::Post,
        &format!("/retry/{delivery}"),
        None,
    )
    .await
}

/// A new message id: `msg_` and 24 hex digits, the same on every attempt and at every
/// endpoint.
pub fn message_id() -> Result<String> {
    Ok(format!("msg_{}", random_hex(12)?))
}

/// Queues event `kind` with `data` for every enabled webhook subscribed to it. Failures are
/// logged: what the event reports has happened already.
pub async fn emit(env: &Env, kind: &str, data: Value) {
    let queued = match message_id() {
        Ok(id) => enqueue(env, &id, kind, now_ms(), data).await,
        Err(e) => Err(e),
    };
    if let Err(e) = queued {
        console_error!("webhooks: queueing {kind} failed: {e:?}");
    }
}

/// Queues message `id` (event `kind` of time `at`) for every enabled webhook subscribed to
/// it. Idempotent: a webhook that has the message already keeps it once, so a caller may
/// call again after an error.
///
/// # Errors
/// D1 or a webhook's queue failed: some webhooks may not have the message yet.
pub async fn enqueue(env: &Env, id: &str, kind: &str, at: Millis, data: Value) -> Result<()> {
    let db = d1::db(env).map_err(unavailable)?;
    let hooks: Vec<WebhookRow> = store::list(&db)
        .await
        .map_err(unavailable)?
        .into_iter()
        .filter(|h| h.enabled() && h.events().iter().any(|e| e == kind))
        .collect();
    if hooks.is_empty() {
        return Ok(());
    }
    let body = envelope(kind, at, data);
    let mut failed = None;
    for hook in hooks {
        let message = queue::Enqueue {
            webhook: hook.id.clone(),
            id: id.to_string(),
            kind: kind.to_string(),
            body: body.clone(),
            created_at: at,
        };
        let sent = to_queue(
            env,
            &hook.id,
            worker::Method::Post,
            "/enqueue",
            Some(serde_json::to_string(&message)?),
        )
        .await;
        match sent {
            Ok(r) if r.status_code() == 202 => {}
            Ok(r) => {
                failed = Some(format!(
                    "webhook {}: queueing answered {}",
                    hook.id,
                    r.status_code()
                ))
            }
            Err(e) => failed = Some(format!("webhook {}: queueing failed: {e:?}", hook.id)),
        }
    }
    match failed {
        None => Ok(()),
        Some(e) => Err(unavailable(e)),
    }
}
