//! Import and export of a collection's entries as NDJSON, one entry per line:
//! `{id, collection, slug, status, version, published_at, fields}` with the draft's fields
//! as the authors' API answers them ([`crate::content::fields::entry_json`]), which a JSON
//! write takes back ([`crate::content::write`]).
//!
//! - `GET /api/collections/{name}/export` streams the lines as it reads each draft from its
//!   object, oldest entry first.
//! - `POST /api/collections/{name}/import` takes the same lines and streams one progress line
//!   per input line (`created`/`updated`, or the line's errors), then a summary. An entry is
//!   found by its slug (its draft's, or the one it is published under), so importing the same
//!   file twice changes nothing the second time. A line whose status is `published` is
//!   published after it is written (a new version, if it changed); `unpublished` is published
//!   and taken down, so the entry's status is reproduced (its version numbers start again).

use crate::error::StoreError;
use std::rc::Rc;

use serde_json::{json, Value};
use worker::{D1Database, Env, Method, Request, Response};

use super::access::forward_json;
use super::collections::{self, Defined};
use super::error::{EdgeError, Result};
use super::http::{now_ms, read_body};
use super::storage::d1::{self, ExportRow};
use crate::access::Claims;
use crate::content::write;
use crate::doc_id::DocId;
use crate::time::iso8601;

/// The most entries one export lists.
const MAX_EXPORTED: u32 = 50_000;
/// The largest import body.
const MAX_IMPORT_BYTES: usize = 32 << 20;
/// The most lines one import takes.
const MAX_IMPORT_LINES: usize = 10_000;

fn unavailable(e: impl std::fmt::Display) -> EdgeError {
    EdgeError::unavailable("the document registry is unavailable; try again", e)
}

async fn defined(env: &Env, name: &str) -> Result<Rc<Defined>> {
    collections::load(env, name).await?.ok_or_else(|| {
        EdgeError::api(
            404,
            "collection_not_found",
            format!("no collection named `{name}`"),
        )
    })
}

fn ndjson(stream: impl futures_util::Stream<Item = Value> + 'static) -> Result<Response> {
    use futures_util::StreamExt;
    let lines = stream.map(|v| Ok::<Vec<u8>, worker::Error>(format!("{v}\n").into_bytes()));
    let response = Response::from_stream(lines)?;
    response
        .headers()
        .set("Content-Type", "application/x-ndjson; charset=utf-8")?;
    response.headers().set("Cache-Control", "no-store")?;
    Ok(response)
}

/// `GET /api/collections/{name}/export`.
pub async fn export(env: &Env, name: &str, who: &Claims) -> Result<Response> {
    defined(env, name).await?;
    let db = d1::db(env).map_err(unavailable)?;
    let rows = d1::collection_documents(&db, name, MAX_EXPORTED)
        .await
        .map_err(unavailable)?;
    let (env, who, name) = (env.clone(), who.clone(), name.to_string());
    let lines = futures_util::stream::unfold(rows.into_iter(), move |mut rows| {
        let (env, who, name) = (env.clone(), who.clone(), name.clone());
        async move {
            let row = rows.next()?;
            Some((export_line(&env, &who, &name, &row).await, rows))
        }
    });
    ndjson(lines)
}

async fn export_line(env: &Env, who: &Claims, collection: &str, row: &ExportRow) -> Value {
    let draft = async {
        let id = DocId::parse(&row.id).map_err(|_| "an invalid document id".to_string())?;
        let path = format!("/api/docs/{}", id.as_str());
        let mut res = forward_json(env, &id, Method::Get, &path, None, who)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let body: Value = res.json().await.map_err(|e| e.to_string())?;
        match res.status_code() {
            200 => Ok(body),
            // Created and never written: an empty draft.
            404 => Ok(json!({ "slug": "", "fields": {} })),
            status => Err(format!(
                "reading the draft answered {status}: {}",
                body["error"]
            )),
        }
    };
    match draft.await {
        Ok(draft) => json!({
            "id": row.id,
            "collection": collection,
            "slug": draft["slug"],
            "status": row.status.as_deref().unwrap_or("draft"),
            "version": row.version.map(|v| v as u64),
            "published_at": row.published_at.map(|t| iso8601(t as i64)),
            "fields": draft["fields"],
        }),
        Err(error) => json!({ "id": row.id, "collection": collection, "error": error }),
    }
}

/// Counts of an import so far.
#[derive(Default)]
struct Tally {
    created: u32,
    updated: u32,
    published: u32,
    failed: u32,
}

/// `POST /api/collections/{name}/import` (NDJSON body).
pub async fn import(mut req: Request, env: &Env, name: &str, who: &Claims) -> Result<Response> {
    let defined = defined(env, name).await?;
    let bytes = read_body(&mut req, MAX_IMPORT_BYTES).await?;
    let text = String::from_utf8(bytes)
        .map_err(|_| EdgeError::api(400, "invalid_body", "the body is not UTF-8 text"))?;
    let lines: Vec<(usize, String)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect();
    if lines.len() > MAX_IMPORT_LINES {
        return Err(EdgeError::api(
            413,
            "too_many_lines",
            format!("at most {MAX_IMPORT_LINES} entries per import; split the file"),
        ));
    }
    let db = Rc::new(d1::db(env).map_err(unavailable)?);
    let total = lines.len();
    let (env, who, name) = (env.clone(), who.clone(), name.to_string());
    let state = (lines.into_iter(), Tally::default(), false);
    let progress = futures_util::stream::unfold(state, move |(mut lines, mut tally, done)| {
        let (env, who, name, db, defined) = (
            env.clone(),
            who.clone(),
            name.clone(),
            db.clone(),
            defined.clone(),
        );
        async move {
            if done {
                return None;
            }
            let Some((n, line)) = lines.next() else {
                let summary = json!({
                    "done": true, "lines": total, "created": tally.created,
                    "updated": tally.updated, "published": tally.published, "failed": tally.failed,
                });
                return Some((summary, (lines, tally, true)));
            };
            let ctx = Import {
                env: &env,
                who: &who,
                db: db.as_ref(),
                name: &name,
                defined: &defined,
            };
            let out = match ctx.line(&line).await {
                Ok(mut out) => {
                    match out["result"].as_str() {
                        Some("created") => tally.created += 1,
                        _ => tally.updated += 1,
                    }
                    if out.get("published").is_some_and(|p| !p.is_null()) {
                        tally.published += 1;
                    }
                    out["line"] = json!(n);
                    out
                }
                Err(error) => {
                    tally.failed += 1;
                    json!({ "line": n, "error": error })
                }
            };
            Some((out, (lines, tally, false)))
        }
    });
    ndjson(progress)
}

struct Import<'a> {
    env: &'a Env,
    who: &'a Claims,
    db: &'a D1Database,
    name: &'a str,
    defined: &'a Defined,
}

impl Import<'_> {
    /// One line: written into the entry with its slug (created if none has it), then
    /// published if the line says it is.
    async fn line(&self, line: &str) -> std::result::Result<Value, Value> {
        let fail = |code: &str, message: String| json!({ "code": code, "message": message });
        let entry: Value = serde_json::from_str(line)
            .map_err(|e| fail("invalid_json", format!("not a JSON line: {e}")))?;
        let slug = entry
            .get("slug")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| fail("slug_required", "every line needs its slug".into()))?;
        let fields = entry.get("fields").cloned().unwrap_or_else(|| json!({}));
        // Null fields are left out: an export lists every field, empty ones as null, and a
        // required one cannot be cleared.
        let fields: serde_json::Map<String, Value> = fields
            .as_object()
            .ok_or_else(|| fail("invalid_fields", "fields must be an object".into()))?
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let body = json!({ "slug": slug, "fields": fields });
        if let Err(problems) = write::parse(&body, &self.defined.collection) {
            return Err(json!({
                "code": "invalid_fields", "slug": slug,
                "message": "nothing of this line was written",
                "fields": problems,
            }));
        }
        let down = |e: StoreError| fail("unavailable", format!("D1: {e}"));
        let (id, result) = match d1::document_by_slug(self.db, self.name, slug)
            .await
            .map_err(down)?
        {
            Some(id) => (
                DocId::parse(&id).map_err(|_| fail("internal", "a bad id".into()))?,
                "updated",
            ),
            None => {
                let id = DocId::generate().map_err(|e| fail("unavailable", e))?;
                d1::create_document(self.db, &id, self.name, now_ms())
                    .await
                    .map_err(down)?;
                (id, "created")
            }
        };
        // Found by this slug from now on, even before the object refreshes the registry.
        d1::set_draft_slug(self.db, id.as_str(), slug)
            .await
            .map_err(down)?;
        let path = format!("/api/docs/{}", id.as_str());
        self.call(&id, Method::Patch, &path, Some(&body)).await?;
        let mut out = json!({ "slug": slug, "id": id.as_str(), "result": result });
        // The status the line had: published (a version of what was written), or
        // unpublished (published once, taken down); a draft stays as it is.
        let status = entry.get("status").and_then(Value::as_str);
        if matches!(status, Some("published" | "unpublished")) {
            let published = self
                .call(&id, Method::Post, &format!("{path}/publish"), None)
                .await?;
            out["published"] = published["version"].clone();
        }
        if status == Some("unpublished") {
            self.call(&id, Method::Post, &format!("{path}/unpublish"), None)
                .await?;
            out["unpublished"] = json!(true);
        }
        Ok(out)
    }

    async fn call(
        &self,
        id: &DocId,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> std::result::Result<Value, Value> {
        let failed = |e: String| json!({ "code": "unavailable", "message": e });
        let mut res = forward_json(self.env, id, method, path, body, self.who)
            .await
            .map_err(|e| failed(format!("{e:?}")))?;
        let answer: Value = res.json().await.map_err(|e| failed(e.to_string()))?;
        if res.status_code() == 200 {
            Ok(answer)
        } else {
            Err(answer["error"].clone())
        }
    }
}
