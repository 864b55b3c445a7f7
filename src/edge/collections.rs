//! Content types over HTTP, served by the stateless worker from D1: defining, listing and
//! changing collections; and the definitions in force as the rest of the edge reads them
//! ([`load`]), cached per isolate for [`COLLECTION_CACHE_MS`].
//!
//! A definition is versioned: a change is a new row, never an update. A change that could
//! invalidate existing entries ([`tightenings`]) is refused with 409 `incompatible_change`
//! listing what it would tighten, unless an admin sends `?force=true`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::{json, Value};
use worker::{Env, Request, Response};

use super::error::{EdgeError, Result};
use super::http::{json_body, json_response, now_ms};
use super::storage::d1::{self, CollectionRow};
use crate::content::schema::{tightenings, Collection, POSTS};
use crate::error::{BadParameter, Error};
use crate::limits::{COLLECTION_CACHE_MS, MAX_BODY_BYTES, MAX_CACHED_COLLECTIONS};
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
        return Err(EdgeError::Detailed {
            status: 409,
            code: "incompatible_change",
            message: format!(
                "this change could invalidate existing entries of `{name}` ({} change{}); \
                 an admin may apply it anyway with ?force=true",
                changes.len(),
                if changes.len() == 1 { "" } else { "s" }
            ),
            key: "changes",
            value: serde_json::to_value(&changes)?,
        });
    }
    store(env, collection, current.version + 1, 200).await
}
