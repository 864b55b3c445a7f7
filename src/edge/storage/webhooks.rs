//! The webhook registry in D1 (`webhooks`, migration 0010): every statement on it. The
//! deliveries of each webhook are queued in its own Durable Object (`edge/webhooks/`).

use crate::error::StoreError;
use serde::Deserialize;
use worker::D1Database;

use super::d1::{all, first, js, num, run};

/// A webhook as D1 holds it.
#[derive(Debug, Clone, Deserialize)]
pub struct WebhookRow {
    pub id: String,
    pub url: String,
    /// A JSON list of event names.
    pub events: String,
    pub description: String,
    pub secret: String,
    pub enabled: f64,
    pub disabled_reason: Option<String>,
    pub created_at: f64,
    pub updated_at: f64,
}

impl WebhookRow {
    /// The events it is subscribed to.
    pub fn events(&self) -> Vec<String> {
        serde_json::from_str(&self.events).unwrap_or_default()
    }

    pub fn enabled(&self) -> bool {
        self.enabled != 0.0
    }
}

const COLUMNS: &str =
    "id, url, events, description, secret, enabled, disabled_reason, created_at, updated_at";

/// Every webhook, oldest first.
///
/// # Errors
/// D1's error, as text.
pub async fn list(db: &D1Database) -> Result<Vec<WebhookRow>, StoreError> {
    all(
        db,
        &format!("SELECT {COLUMNS} FROM webhooks ORDER BY created_at, id"),
        &[],
    )
    .await
}

/// One webhook.
///
/// # Errors
/// D1's error, as text.
pub async fn get(db: &D1Database, id: &str) -> Result<Option<WebhookRow>, StoreError> {
    first(
        db,
        &format!("SELECT {COLUMNS} FROM webhooks WHERE id = ?"),
        &[js(id)],
        None,
    )
    .await
}

/// Inserts `row`.
///
/// # Errors
/// D1's error, as text.
pub async fn create(db: &D1Database, row: &WebhookRow) -> Result<(), StoreError> {
    run(
        db,
        "INSERT INTO webhooks (id, url, events, description, secret, enabled, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
        &[
            js(&row.id),
            js(&row.url),
            js(&row.events),
            js(&row.description),
            js(&row.secret),
            num(row.created_at as i64),
            num(row.updated_at as i64),
        ],
    )
    .await
}

/// Writes `row`'s url, events, description and enabled state.
///
/// # Errors
/// D1's error, as text.
pub async fn update(db: &D1Database, row: &WebhookRow) -> Result<(), StoreError> {
    run(
        db,
        "UPDATE webhooks SET url = ?, events = ?, description = ?, enabled = ?,
           disabled_reason = ?, updated_at = ? WHERE id = ?",
        &[
            js(&row.url),
            js(&row.events),
            js(&row.description),
            num(row.enabled as i64),
            row.disabled_reason
                .as_deref()
                .map_or(wasm_bindgen::JsValue::NULL, js),
            num(row.updated_at as i64),
            js(&row.id),
        ],
    )
    .await
}

/// Disables webhook `id`, saying why.
///
/// # Errors
/// D1's error, as text.
pub async fn disable(db: &D1Database, id: &str, reason: &str, now: i64) -> Result<(), StoreError> {
    run(
        db,
        "UPDATE webhooks SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE id = ?",
        &[js(reason), num(now), js(id)],
    )
    .await
}

/// Deletes webhook `id`.
///
/// # Errors
/// D1's error, as text.
pub async fn delete(db: &D1Database, id: &str) -> Result<(), StoreError> {
    run(db, "DELETE FROM webhooks WHERE id = ?", &[js(id)]).await
}
