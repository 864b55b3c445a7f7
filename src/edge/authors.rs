//! The authors' document registry, served by the stateless worker from D1: creating a
//! document and listing documents with their title, status and times, without waking them.

use serde::Deserialize;
use serde_json::json;
use worker::{Env, Request, Response};

use super::collections;
use super::error::{EdgeError, Result};
use super::http::{json_body, json_response, now_ms};
use super::storage::d1;
use crate::access::Claims;
use crate::content::schema::{is_name, POSTS};
use crate::doc_id::DocId;
use crate::error::BadParameter;
use crate::limits::MAX_WRITE_BYTES;
use crate::time::iso8601;

/// Most documents one listing returns.
const MAX_LISTED: u32 = 500;

fn unavailable(e: impl std::fmt::Display) -> EdgeError {
    EdgeError::unavailable(
        "the document registry is unavailable; try again",
        format!("documents: {e}"),
    )
}

/// The body of `POST /api/docs` (empty: a post), with what to write in it.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NewDocument {
    collection: Option<String>,
    /// Field values, as `PATCH /api/docs/{doc}` takes them ([`crate::content::write`]).
    fields: Option<serde_json::Value>,
    slug: Option<serde_json::Value>,
}

fn no_collection(name: &str) -> BadParameter {
    BadParameter {
        parameter: "collection".into(),
        message: format!("no collection named `{name}`"),
    }
}

/// `POST /api/docs` `{"collection"?}` → 201 `{id, collection}`. The collection is fixed for
/// the document's life.
pub async fn create(mut req: Request, env: &Env, who: &Claims) -> Result<Response> {
    let raw: serde_json::Value = json_body(&mut req, MAX_WRITE_BYTES).await?;
    let body: NewDocument = if raw.is_null() {
        NewDocument::default()
    } else {
        serde_json::from_value(raw.clone())
            .map_err(|e| EdgeError::api(400, "invalid_json", format!("invalid body: {e}")))?
    };
    let collection = body.collection.unwrap_or_else(|| POSTS.to_string());
    if !is_name(&collection) {
        return Err(no_collection(&collection).into());
    }
    let defined = collections::load(env, &collection)
        .await?
        .ok_or_else(|| no_collection(&collection))?;
    // With content: checked before anything is created (422 naming the fields).
    let content = body.fields.is_some() || body.slug.is_some();
    if content {
        if let Err(problems) = crate::content::write::parse(&raw, &defined.collection) {
            return Err(EdgeError::Detailed {
                status: 422,
                code: "invalid_fields",
                message: format!("{} field(s) not valid; nothing was created", problems.len()),
                extra: vec![("fields", serde_json::to_value(&problems)?)],
            });
        }
    }
    let id = DocId::generate().map_err(unavailable)?;
    let db = d1::db(env).map_err(unavailable)?;
    d1::create_document(&db, &id, &collection, now_ms())
        .await
        .map_err(unavailable)?;
    let mut out = json!({ "id": id.as_str(), "collection": collection });
    if content {
        // The document exists now; its content is the object's first edit.
        let path = format!("/api/docs/{}", id.as_str());
        let mut written =
            super::access::forward_json(env, &id, worker::Method::Patch, &path, Some(&raw), who)
                .await?;
        let draft: serde_json::Value = written.json().await?;
        if written.status_code() != 200 {
            return Err(EdgeError::Detailed {
                status: 503,
                code: "unavailable",
                message: "the document was created but its content was not written; PATCH it"
                    .into(),
                extra: vec![(
                    "document",
                    json!({ "id": id.as_str(), "error": draft["error"] }),
                )],
            });
        }
        out["slug"] = draft["slug"].clone();
        out["fields"] = draft["fields"].clone();
    }
    json_response(201, &out)
}

/// `GET /api/docs?collection=`: most recently updated first.
/// A principal scoped to one document sees only that one.
pub async fn list(req: &Request, env: &Env, who: &Claims) -> Result<Response> {
    let collection = req
        .url()?
        .query_pairs()
        .find(|(k, _)| k == "collection")
        .map(|(_, v)| v.into_owned());
    if let Some(name) = collection.as_deref().filter(|n| !is_name(n)) {
        return Err(no_collection(name).into());
    }
    let db = d1::db(env).map_err(unavailable)?;
    let rows = d1::documents(&db, collection.as_deref(), MAX_LISTED)
        .await
        .map_err(unavailable)?;
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
                "collection": r.collection,
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
