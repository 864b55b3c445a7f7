//! The reader API on collections, served by the stateless worker from D1 (never waking a
//! document): published entries listed with typed filters, sort and pages, and one entry by
//! slug. Public, CORS open, strong ETags per version, like `/api/posts`.

use serde_json::{json, Value};
use worker::{Env, Request, Response};

use super::collections::{self, Defined};
use super::error::{EdgeError, Result};
use super::http::json_response;
use super::reader::cors;
use super::storage::d1::{self, EntryRow};
use crate::content::schema::POSTS;
use crate::publish::filter::{content_query, list_statement, After, Operand, Sort};
use crate::publish::{etag, if_none_match, POST_CACHE_CONTROL};
use crate::time::iso8601;

fn unavailable(detail: impl std::fmt::Display) -> EdgeError {
    EdgeError::unavailable(
        "the entry store is unavailable; try again",
        format!("content: {detail}"),
    )
}

/// The collection `name`, if readers can list it (posts are read at `/api/posts`).
async fn collection(env: &Env, name: &str) -> Result<std::rc::Rc<Defined>> {
    if name == POSTS {
        return Err(EdgeError::api(
            404,
            "collection_not_found",
            "posts are read at /api/posts and /api/posts/{slug}",
        ));
    }
    collections::load(env, name).await?.ok_or_else(|| {
        EdgeError::api(
            404,
            "collection_not_found",
            format!("no collection named `{name}`"),
        )
    })
}

fn row_json(collection: &str, row: &EntryRow, fields: Value) -> Value {
    json!({
        "collection": collection,
        "slug": row.slug,
        "title": row.title,
        "fields": fields,
        "version": row.version as u64,
        "published_at": iso8601(row.first_published_at as i64),
        "updated_at": iso8601(row.published_at as i64),
    })
}

/// `GET /api/content/{collection}?field=value&field[op]=value&sort=&limit=&cursor=`.
pub async fn list(env: &Env, req: &Request, name: &str) -> Result<Response> {
    let defined = collection(env, name).await?;
    let url = req.url()?;
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let query = content_query(
        &defined.collection,
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    )?;
    let after = query
        .cursor
        .as_deref()
        .map(|c| After::parse(c, &query.sort))
        .transpose()?;
    let statement = list_statement(name, &query, after.as_ref());
    let db = d1::db(env).map_err(unavailable)?;
    let mut rows = d1::list_entries(&db, &statement)
        .await
        .map_err(unavailable)?;
    let more = rows.len() > query.limit as usize;
    rows.truncate(query.limit as usize);
    let next = match (more, rows.last(), &query.sort) {
        (true, Some(last), Sort::Newest) => {
            Some(After::Newest(last.first_published_at as i64, last.doc_id.clone()).cursor())
        }
        (true, Some(last), Sort::Field { .. }) => {
            let value = match &last.sort_value {
                Some(Value::Number(n)) => n.as_f64().map(Operand::Num),
                Some(Value::String(s)) => Some(Operand::Str(s.clone())),
                _ => None,
            };
            Some(After::Field(value, last.doc_id.clone()).cursor())
        }
        _ => None,
    };
    let entries: Vec<Value> = rows
        .iter()
        .map(|row| {
            // A summary over its cap was not stored: `null`, read the entry itself.
            let fields = row
                .summary
                .as_deref()
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or(Value::Null);
            row_json(name, row, fields)
        })
        .collect();
    let response = json_response(200, &json!({ "entries": entries, "next_cursor": next }))?;
    response
        .headers()
        .set("Cache-Control", POST_CACHE_CONTROL)?;
    Ok(cors(response)?)
}

/// `GET /api/content/{collection}/{slug}`: every field, rich text included.
pub async fn entry(env: &Env, req: &Request, name: &str, slug: &str) -> Result<Response> {
    collection(env, name).await?;
    let db = d1::db(env).map_err(unavailable)?;
    let (row, fields) = d1::entry(&db, name, slug)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| {
            EdgeError::api(
                404,
                "content_not_found",
                format!("no published entry '{slug}' in {name}"),
            )
        })?;
    let tag = etag(&row.doc_id, row.version as u64);
    let response = match req.headers().get("If-None-Match")? {
        Some(header) if if_none_match(&header, &tag) => Response::empty()?.with_status(304),
        _ => json_response(200, &row_json(name, &row, fields))?,
    };
    let headers = response.headers();
    headers.set("ETag", &tag)?;
    headers.set("Cache-Control", POST_CACHE_CONTROL)?;
    Ok(cors(response)?)
}
