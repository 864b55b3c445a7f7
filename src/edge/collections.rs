//! Content types over HTTP, served by the stateless worker from D1: defining, listing and
//! changing collections; and the definitions in force as the rest of the edge reads them
//! ([`load`]), cached per isolate for [`COLLECTION_CACHE_MS`].
//!
//! A definition is versioned: a change is a new row, never an update. A change that could
//! invalidate entries ([`tightenings`]) is judged against every published entry
//! ([`breakage`]); if it would invalidate any, it is refused with 409 `incompatible_change`
//! naming them and what it tightens, unless an admin sends `?force=true`. Drafts are not
//! judged: publishing validates them against the definition in force.

use crate::error::StoreError;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::{json, Value};
use worker::{Env, Request, Response};

use super::error::{EdgeError, Result};
use super::http::{json_body, json_response, now_ms};
use super::storage::d1::{self, CollectionRow};
use crate::content::fields::{breakage, Breakage};
use crate::content::schema::{tightenings, Collection, POSTS};
use crate::error::{BadParameter, Error};
use crate::limits::{
    BREAKAGE_PAGE, COLLECTION_CACHE_MS, MAX_BODY_BYTES, MAX_BREAKAGE_BODIES, MAX_BREAKAGE_ENTRIES,
    MAX_BROKEN_LISTED, MAX_CACHED_COLLECTIONS,
};
use crate::time::{iso8601, Millis};

/// A collection's definition in force.
#[derive(Debug)]
pub struct Defined {
    pub collection: Collection,
    pub version: u64,
    /// When this version was stored (`None`: the built-in `posts`).
    pub created_at: Option<Millis>,
}

impl Defined {
    fn posts() -> Defined {
        Defined {
            collection: Collection::posts(),
            version: 1,
            created_at: None,
        }
    }

    fn from_row(row: &CollectionRow) -> Result<Defined> {
        let corrupt = |e: String| Error::Corrupt(format!("collection {}: {e}", row.name));
        let value: Value =
            serde_json::from_str(&row.definition).map_err(|e| corrupt(e.to_string()))?;
        let collection = Collection::parse(&value).map_err(|e| corrupt(e.to_string()))?;
        Ok(Defined {
            collection,
            version: row.version as u64,
            created_at: Some(row.created_at as Millis),
        })
    }

    /// The API's JSON: the definition with its `version`, `created_at` and `built_in`.
    fn to_json(&self) -> Value {
        let mut out = serde_json::to_value(&self.collection).unwrap_or(Value::Null);
        out["version"] = json!(self.version);
        out["created_at"] = json!(self.created_at.map(iso8601));
        out["built_in"] = json!(self.collection.name == POSTS);
        out
    }
}

/// What one isolate last read of each collection (and when): `None` for a name with no
/// collection.
type Cache = HashMap<String, (Millis, Option<Rc<Defined>>)>;

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(HashMap::new());
}

fn remember(name: &str, defined: Option<Rc<Defined>>, now: Millis) {
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() >= MAX_CACHED_COLLECTIONS && !cache.contains_key(name) {
            cache.clear();
        }
        cache.insert(name.to_string(), (now, defined));
    });
}

fn unavailable(e: impl std::fmt::Display) -> EdgeError {
    EdgeError::unavailable(
        "content types are unavailable; try again",
        format!("collections: {e}"),
    )
}

/// The definition in force of collection `name`, if there is one.
///
/// # Errors
/// 503 if D1 fails; 500 if the stored definition no longer parses.
pub async fn load(env: &Env, name: &str) -> Result<Option<Rc<Defined>>> {
    if name == POSTS {
        return Ok(Some(Rc::new(Defined::posts())));
    }
    let now = now_ms();
    let cached = CACHE.with(|cache| {
        cache
            .borrow()
            .get(name)
            .filter(|(at, _)| now - at < COLLECTION_CACHE_MS)
            .map(|(_, defined)| defined.clone())
    });
    if let Some(defined) = cached {
        return Ok(defined);
    }
    let db = d1::db(env).map_err(unavailable)?;
    let row = d1::collection(&db, name).await.map_err(unavailable)?;
    let defined = row
        .as_ref()
        .map(Defined::from_row)
        .transpose()?
        .map(Rc::new);
    remember(name, defined.clone(), now);
    Ok(defined)
}

fn not_found(name: &str) -> EdgeError {
    EdgeError::api(
        404,
        "collection_not_found",
        format!("no collection named `{name}`"),
    )
}

/// Every `reference` field must point at a collection that exists (or at this one).
async fn check_references(env: &Env, collection: &Collection) -> Result<()> {
    for (field, target) in collection.references() {
        if target != collection.name && load(env, target).await?.is_none() {
            return Err(Error::InvalidDefinition {
                field: field.to_string(),
                message: format!("references `{target}`, which is not a collection"),
            }
            .into());
        }
    }
    Ok(())
}

/// Stores `collection` as `version` and answers it with `status`; 409 if that version was
/// stored meanwhile.
async fn store(env: &Env, collection: Collection, version: u64, status: u16) -> Result<Response> {
    let db = d1::db(env).map_err(unavailable)?;
    let now = now_ms();
    let definition = serde_json::to_string(&collection)?;
    let stored = d1::insert_collection(
        &db,
        &collection.name,
        version,
        &collection.label,
        &definition,
        now,
    )
    .await
    .map_err(unavailable)?;
    if !stored {
        let (code, what) = match version {
            1 => ("collection_exists", "already exists"),
            _ => (
                "changed_concurrently",
                "was changed meanwhile; reload it and try again",
            ),
        };
        return Err(EdgeError::api(
            409,
            code,
            format!("collection `{}` {what}", collection.name),
        ));
    }
    let defined = Rc::new(Defined {
        collection,
        version,
        created_at: Some(now),
    });
    remember(&defined.collection.name, Some(defined.clone()), now);
    json_response(status, &defined.to_json())
}

/// `GET /api/collections`: `posts` first, then every defined collection by name.
pub async fn list(env: &Env) -> Result<Response> {
    let db = d1::db(env).map_err(unavailable)?;
    let rows = d1::collections(&db).await.map_err(unavailable)?;
    let mut collections = vec![Defined::posts().to_json()];
    for row in &rows {
        collections.push(Defined::from_row(row)?.to_json());
    }
    json_response(200, &json!({ "collections": collections }))
}

/// `GET /api/openapi.json`: the API with one entry schema per collection (public, like the
/// reader API it describes; CORS open).
pub async fn openapi(env: &Env) -> Result<Response> {
    let db = d1::db(env).map_err(unavailable)?;
    let rows = d1::collections(&db).await.map_err(unavailable)?;
    let mut defined = vec![Defined::posts()];
    for row in &rows {
        defined.push(Defined::from_row(row)?);
    }
    let collections: Vec<&Collection> = defined.iter().map(|d| &d.collection).collect();
    let response = json_response(200, &crate::openapi::document(&collections))?;
    response.headers().set("Cache-Control", "no-cache")?;
    Ok(response)
}

/// `GET /api/collections/{name}`.
pub async fn get(env: &Env, name: &str) -> Result<Response> {
    let defined = load(env, name).await?.ok_or_else(|| not_found(name))?;
    json_response(200, &defined.to_json())
}

/// `POST /api/collections` `{name, label, fields}` → 201 with the definition, version 1.
pub async fn create(mut req: Request, env: &Env) -> Result<Response> {
    let body: Value = json_body(&mut req, MAX_BODY_BYTES).await?;
    let collection = Collection::parse(&body)?;
    if collection.name == POSTS {
        return Err(EdgeError::api(
            409,
            "collection_exists",
            "`posts` is built in",
        ));
    }
    check_references(env, &collection).await?;
    store(env, collection, 1, 201).await
}

/// `PUT /api/collections/{name}?force=true` `{label, fields}` → 200 with the new version (or
/// the current one, unchanged, if nothing changed).
pub async fn update(mut req: Request, env: &Env, name: &str) -> Result<Response> {
    let force = match req
        .url()?
        .query_pairs()
        .find(|(k, _)| k == "force")
        .map(|(_, v)| v.into_owned())
        .as_deref()
    {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(BadParameter {
                parameter: "force".into(),
                message: "force is true or false".into(),
            }
            .into())
        }
    };
    if name == POSTS {
        return Err(EdgeError::api(
            409,
            "built_in",
            "`posts` is built in and cannot be changed",
        ));
    }
    let current = load(env, name).await?.ok_or_else(|| not_found(name))?;
    let mut body: Value = json_body(&mut req, MAX_BODY_BYTES).await?;
    // The name is the path's: a body may repeat it, not change it.
    match body.get("name") {
        None => {
            if let Some(object) = body.as_object_mut() {
                object.insert("name".into(), json!(name));
            }
        }
        Some(given) if given == name => {}
        Some(_) => {
            return Err(Error::InvalidDefinition {
                field: "name".into(),
                message: format!("a collection cannot be renamed (this is `{name}`)"),
            }
            .into())
        }
    }
    let collection = Collection::parse(&body)?;
    if collection == current.collection {
        return json_response(200, &current.to_json());
    }
    check_references(env, &collection).await?;
    let changes = tightenings(&current.collection, &collection);
    if !changes.is_empty() && !force {
        let judged = judge_published(env, &current.collection, &collection).await?;
        if judged.broken > 0 || judged.unchecked > 0 {
            let mut message = format!(
                "this change would invalidate {} published entr{} of `{name}`",
                judged.broken,
                if judged.broken == 1 { "y" } else { "ies" }
            );
            if judged.unchecked > 0 {
                message.push_str(&format!(" (and {} could not be checked)", judged.unchecked));
            }
            message.push_str("; an admin may apply it anyway with ?force=true");
            return Err(EdgeError::Detailed {
                status: 409,
                code: "incompatible_change",
                message,
                extra: vec![
                    ("changes", serde_json::to_value(&changes)?),
                    ("entries", Value::Array(judged.listed)),
                    ("broken", json!(judged.broken)),
                    ("unchecked", json!(judged.unchecked)),
                ],
            });
        }
    }
    let stored = store(env, collection, current.version + 1, 200).await?;
    super::cache::purge(&crate::publish::cache::on_schema_change(name)).await;
    Ok(stored)
}

/// What a change would do to the published entries of a collection.
struct Judged {
    /// How many it would invalidate...
    broken: u64,
    /// ... the first [`MAX_BROKEN_LISTED`] of them, `{doc_id, slug, title, problems}`...
    listed: Vec<Value>,
    /// ... and how many could not be judged (past [`MAX_BREAKAGE_ENTRIES`], or past
    /// [`MAX_BREAKAGE_BODIES`] bodies read).
    unchecked: u64,
}

/// Judges every published entry of `old`'s collection against `new` ([`breakage`]): from its
/// list summary, or, when that cannot tell, from its published version. Bounded: pages of
/// [`BREAKAGE_PAGE`], at most [`MAX_BREAKAGE_ENTRIES`] entries and [`MAX_BREAKAGE_BODIES`]
/// bodies; the rest is counted as unchecked.
async fn judge_published(env: &Env, old: &Collection, new: &Collection) -> Result<Judged> {
    let unavailable =
        |e: StoreError| EdgeError::unavailable("the collection store is unavailable", e);
    let db = d1::db(env).map_err(unavailable)?;
    let mut judged = Judged {
        broken: 0,
        listed: Vec::new(),
        unchecked: 0,
    };
    let (mut after, mut seen, mut bodies) = (String::new(), 0usize, 0usize);
    loop {
        let page = d1::published_entries(&db, &old.name, &after, BREAKAGE_PAGE)
            .await
            .map_err(unavailable)?;
        let complete = page.len() < BREAKAGE_PAGE as usize;
        for entry in page {
            after.clone_from(&entry.doc_id);
            seen += 1;
            let summary = entry
                .summary
                .as_deref()
                .and_then(|s| serde_json::from_str::<Value>(s).ok())
                .and_then(|v| v.as_object().cloned())
                .unwrap_or_default();
            let mut verdict = breakage(old, new, &summary);
            if verdict == Breakage::Unknown && bodies < MAX_BREAKAGE_BODIES {
                bodies += 1;
                let published = d1::entry(&db, &old.name, &entry.slug)
                    .await
                    .map_err(unavailable)?;
                if let Some(fields) = published.as_ref().and_then(|(_, f)| f.as_object()) {
                    verdict = breakage(old, new, fields);
                }
            }
            match verdict {
                Breakage::Fine => {}
                Breakage::Unknown => judged.unchecked += 1,
                Breakage::Breaks(problems) => {
                    judged.broken += 1;
                    if judged.listed.len() < MAX_BROKEN_LISTED {
                        judged.listed.push(json!({
                            "doc_id": entry.doc_id,
                            "slug": entry.slug,
                            "title": entry.title,
                            "problems": problems,
                        }));
                    }
                }
            }
        }
        if complete {
            break;
        }
        if seen >= MAX_BREAKAGE_ENTRIES {
            judged.unchecked += d1::published_entries_after(&db, &old.name, &after)
                .await
                .map_err(unavailable)?;
            break;
        }
    }
    Ok(judged)
}
