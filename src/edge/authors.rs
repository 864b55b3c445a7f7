//! The authors' document registry, served by the stateless worker from D1: creating a
//! document and listing documents with their title, status and times, without waking them.

use serde_json::json;
use worker::{Env, Response};

use super::error::{EdgeError, Result};
use super::http::{json_response, now_ms};
use super::storage::d1;
use crate::access::Claims;
use crate::doc_id::DocId;
use crate::time::iso8601;

/// Most documents one listing returns.
const MAX_LISTED: u32 = 500;

fn unavailable(e: impl std::fmt::Display) -> EdgeError {
    EdgeError::unavailable(
        "the document registry is unavailable; try again",
        format!("documents: {e}"),
    )
}

/// `POST /api/docs` → 201 `{id}`.
pub async fn create(env: &Env) -> Result<Response> {
    let id = DocId::generate().map_err(unavailable)?;
    let db = d1::db(env).map_err(unavailable)?;
    d1::create_document(&db, &id, now_ms())
        .await
        .map_err(unavailable)?;
    json_response(201, &json!({ "id": id.as_str() }))
}

/// `GET /api/docs`: most recently updated first.
/// A principal scoped to one document sees only that one.
pub async fn list(env: &Env, who: &Claims) -> Result<Response> {
    let db = d1::db(env).map_err(unavailable)?;
    let rows = d1::documents(&db, MAX_LISTED).await.map_err(unavailable)?;
    let documents: Vec<_> = rows
        .iter()
        .filter(|r| who.doc.covers_id(&r.id))
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
