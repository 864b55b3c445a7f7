//! The authors' document registry, served by the stateless worker from D1: creating a
//! document and listing documents with their title, status and times, without waking them.

use serde::Deserialize;
use serde_json::json;
use wasm_bindgen::JsValue;
use worker::{Env, Response, Result};

use crate::publish::iso8601;

use super::{d1, json_error, json_response};

/// Most documents one listing returns.
const MAX_LISTED: u32 = 500;

fn unavailable(e: impl std::fmt::Display) -> Result<Response> {
    worker::console_error!("documents: {e}");
    json_error(
        503,
        "unavailable",
        "the document registry is unavailable; try again",
    )
}

/// `POST /api/docs` → 201 `{id}`.
pub async fn create(env: &Env) -> Result<Response> {
    let id = match crate::docid::generate() {
        Ok(id) => id,
        Err(e) => return unavailable(e),
    };
    let now = worker::Date::now().as_millis() as f64;
    let sql = "INSERT INTO documents (id, title, created_at, updated_at) VALUES (?1, '', ?2, ?2)";
    let result = match d1::db(env) {
        Ok(db) => d1::run(&db, sql, &[JsValue::from_str(&id), JsValue::from_f64(now)]).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => json_response(201, &json!({ "id": id })),
        Err(e) => unavailable(e),
    }
}

#[derive(Deserialize)]
struct Row {
    id: String,
    title: String,
    created_at: f64,
    updated_at: f64,
    next_publish_at: Option<f64>,
    slug: Option<String>,
    status: Option<String>,
    version: Option<f64>,
    published_at: Option<f64>,
    publish_problem: Option<String>,
}

/// `GET /api/docs`: most recently updated first.
/// A principal scoped to one document sees only that one.
pub async fn list(env: &Env, who: &crate::auth::Claims) -> Result<Response> {
    let sql = "SELECT d.id, d.title, d.created_at, d.updated_at, d.next_publish_at,
                      p.slug, p.status, p.version, p.published_at, d.publish_problem
               FROM documents d LEFT JOIN posts p ON p.doc_id = d.id
               ORDER BY d.updated_at DESC, d.id LIMIT ?1";
    let rows = match d1::db(env) {
        Ok(db) => d1::all::<Row>(&db, sql, &[JsValue::from_f64(f64::from(MAX_LISTED))]).await,
        Err(e) => Err(e),
    };
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => return unavailable(e),
    };
    let documents: Vec<_> = rows
        .iter()
        .filter(|r| who.covers(Some(&r.id)))
        .map(|r| {
            // A publish or unpublish on its way or failed, with its reason (the object keeps
            // this up to date; see `intent_json`).
            let publishing = r
                .publish_problem
                .as_deref()
                .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok());
            let status = if publishing.as_ref().is_some_and(|p| p["state"] == "failed") {
                "failed"
            } else if r.next_publish_at.is_some() {
                "scheduled"
            } else if r.status.as_deref() == Some("published") {
                "published"
            } else {
                "draft"
            };
            json!({
                "id": r.id,
                "title": r.title,
                "status": status,
                "slug": r.slug,
                "version": r.version.map(|v| v as u64),
                "created_at": iso8601(r.created_at as i64),
                "updated_at": iso8601(r.updated_at as i64),
                "published_at": r.published_at.map(|t| iso8601(t as i64)),
                "next_publish_at": r.next_publish_at.map(|t| iso8601(t as i64)),
                "publishing": publishing,
            })
        })
        .collect();
    json_response(200, &json!({ "documents": documents }))
}
