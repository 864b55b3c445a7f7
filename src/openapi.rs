//! The HTTP API described as OpenAPI 3.1 (`GET /api/openapi.json`), with one schema per
//! collection generated from its definition: what a front-end or an integration generates its
//! client from.
//!
//! The paths are written here, next to nothing else, so that a route added to
//! [`crate::access::routes`] without a line here is caught by the unit test that walks both.

use serde_json::{json, Map, Value};

use crate::content::schema::{Collection, Kind};
use crate::content::{MAX_TAGS, MAX_TAG_LEN};

/// A `$ref` to a component schema.
fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The name of collection `name`'s schema: `entry_<name>` for a valid (publishable) entry,
/// `draft_<name>` for a draft as it is.
pub fn schema_name(name: &str, draft: bool) -> String {
    format!("{}_{name}", if draft { "draft" } else { "entry" })
}

/// The JSON Schema of one field's value. A draft's values have their type but may break the
/// field's rules (its `problems` say which), so only a valid entry's schema carries them.
fn field_schema(kind: &Kind, draft: bool) -> Value {
    let rule = |schema: &mut Value, key: &str, value: Value| {
        if !draft {
            schema[key] = value;
        }
    };
    match kind {
        Kind::Text { max_length } => {
            let mut s = json!({ "type": "string" });
            if let Some(max) = max_length {
                rule(&mut s, "maxLength", json!(max));
            }
            s
        }
        Kind::RichText => schema_ref("RichText"),
        Kind::Number { min, max, integer } => {
            let mut s = json!({ "type": if *integer && !draft { "integer" } else { "number" } });
            if let Some(min) = min {
                rule(&mut s, "minimum", json!(min));
            }
            if let Some(max) = max {
                rule(&mut s, "maximum", json!(max));
            }
            s
        }
        Kind::Boolean => json!({ "type": "boolean" }),
        Kind::Date => json!({ "type": "string", "format": "date" }),
        Kind::DateTime => json!({ "type": "string", "format": "date-time" }),
        Kind::Select { options } => {
            let mut s = json!({ "type": "string" });
            rule(&mut s, "enum", json!(options));
            s
        }
        Kind::Tags => json!({
            "type": "array", "maxItems": MAX_TAGS,
            "items": { "type": "string", "minLength": 1, "maxLength": MAX_TAG_LEN },
        }),
        Kind::Reference { collection } => json!({
            "type": "object", "required": ["id"],
            "properties": { "id": schema_ref("DocId") },
            "description": format!("an entry of `{collection}`"),
        }),
        Kind::Image => json!({
            "type": "object", "required": ["src", "alt"],
            "properties": { "src": { "type": "string" }, "alt": { "type": "string" } },
        }),
    }
}

/// An entry of `collection`: `{id, collection, slug, fields, problems}`. In a draft every
/// field may be `null` (empty or of the wrong type); in a valid entry only optional ones.
pub fn entry_schema(collection: &Collection, draft: bool) -> Value {
    let mut properties = Map::new();
    for field in &collection.fields {
        let mut value = field_schema(&field.kind, draft);
        if let Some(label) = &field.label {
            value = json!({ "allOf": [value], "title": label });
        }
        if draft || !field.required {
            value = json!({ "oneOf": [value, { "type": "null" }] });
        }
        properties.insert(field.name.clone(), value);
    }
    let mut problems = json!({ "type": "array", "items": schema_ref("Problem") });
    if !draft {
        problems["maxItems"] = json!(0);
    }
    json!({
        "type": "object",
        "title": collection.label,
        "required": ["id", "collection", "slug", "fields", "problems"],
        "properties": {
            "id": schema_ref("DocId"),
            "collection": { "const": collection.name },
            "slug": { "type": "string" },
            "fields": {
                "type": "object",
                "required": collection.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
                "properties": properties,
                "additionalProperties": false,
            },
            "problems": problems,
        },
    })
}

/// One operation: summary, who may call it, parameters, body, and the success answer.
struct Op<'a> {
    method: &'a str,
    path: &'a str,
    summary: &'a str,
    /// `None`: public. Else the least role (or "signed in").
    access: Option<&'a str>,
    body: Option<Value>,
    ok: (u16, Value),
}

fn path_params(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let schema = match name {
                "doc" => schema_ref("DocId"),
                "n" | "entry" => json!({ "type": "integer", "minimum": 1 }),
                "name" => json!({ "type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$" }),
                "webhook" => json!({ "type": "string", "pattern": "^wh_[0-9a-f]{24}$" }),
                "delivery" => json!({ "type": "string", "pattern": "^msg_[0-9a-f]{24}$" }),
                "media" => json!({ "type": "string", "pattern": "^[0-9a-f]{32}$" }),
                _ => json!({ "type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 96 }),
            };
            json!({ "name": name, "in": "path", "required": true, "schema": schema })
        })
        .collect()
}

fn operation(op: &Op) -> Value {
    let (status, schema) = &op.ok;
    let mut responses = Map::new();
    let ok = if schema.is_null() {
        json!({ "description": "done" })
    } else {
        json!({ "description": "done", "content": { "application/json": { "schema": schema } } })
    };
    responses.insert(status.to_string(), ok);
    responses.insert(
        "default".into(),
        json!({
            "description": "an error: a precise status and a stable code",
            "content": { "application/json": { "schema": schema_ref("Error") } },
        }),
    );
    let mut out = json!({
        "summary": op.summary,
        "operationId": format!("{}{}", op.method, op.path.replace(['/', '{', '}'], "_")),
        "parameters": path_params(op.path),
        "responses": responses,
    });
    match op.access {
        None => out["security"] = json!([]),
        Some(who) => out["description"] = json!(format!("Least role: {who}.")),
    }
    if let Some(body) = &op.body {
        out["requestBody"] = json!({
            "required": true,
            "content": { "application/json": { "schema": body } },
        });
    }
    out
}

fn object(properties: Value) -> Value {
    json!({ "type": "object", "properties": properties })
}

/// Every operation of the API (without the test-only fault switch).
fn operations(entry: &Value, published: &Value) -> Vec<Op<'static>> {
    let any = json!({ "type": "object" });
    let collection = schema_ref("Collection");
    let definition = schema_ref("CollectionDefinition");
    let docs = object(json!({ "documents": { "type": "array", "items": any } }));
    let webhook = object(json!({
        "id": { "type": "string" }, "url": { "type": "string" },
        "events": { "type": "array", "items": { "enum": crate::webhook::EVENTS } },
        "description": { "type": "string" }, "enabled": { "type": "boolean" },
        "secret": { "type": "string", "description": "only when created" },
    }));
    let hook_definition = object(json!({
        "url": { "type": "string", "format": "uri" },
        "events": { "type": "array", "items": { "enum": crate::webhook::EVENTS } },
        "description": { "type": "string" }, "enabled": { "type": "boolean" },
    }));
    vec![
        Op {
            method: "get",
            path: "/health",
            summary: "Liveness, and the wasm instance id",
            access: None,
            body: None,
            ok: (200, any.clone()),
        },
        Op {
            method: "get",
            path: "/api/session",
            summary: "Who the request is signed in as",
            access: Some("signed in"),
            body: None,
            ok: (200, any.clone()),
        },
        Op {
            method: "post",
            path: "/api/session",
            summary: "Sign in with the admin key or an invitation (sets the session cookie)",
            access: None,
            body: Some(object(
                json!({ "key": { "type": "string" }, "invite": { "type": "string" } }),
            )),
            ok: (200, any.clone()),
        },
        Op {
            method: "delete",
            path: "/api/session",
            summary: "Sign out",
            access: None,
            body: None,
            ok: (200, any.clone()),
        },
        Op {
            method: "post",
            path: "/api/tokens",
            summary: "A signed token (API, socket, invitation)",
            access: Some("signed in"),
            body: Some(any.clone()),
            ok: (201, any.clone()),
        },
        Op {
            method: "get",
            path: "/api/collections",
            summary: "Every collection's definition in force",
            access: Some("viewer"),
            body: None,
            ok: (
                200,
                object(json!({ "collections": { "type": "array", "items": collection } })),
            ),
        },
        Op {
            method: "post",
            path: "/api/collections",
            summary: "Define a collection",
            access: Some("admin"),
            body: Some(definition.clone()),
            ok: (201, collection.clone()),
        },
        Op {
            method: "get",
            path: "/api/collections/{name}",
            summary: "One collection's definition in force",
            access: Some("viewer"),
            body: None,
            ok: (200, collection.clone()),
        },
        Op {
            method: "put",
            path: "/api/collections/{name}",
            summary: "A new version of a definition (?force=true for a tightening change)",
            access: Some("admin"),
            body: Some(definition),
            ok: (200, collection),
        },
        Op {
            method: "get",
            path: "/api/docs",
            summary: "Documents, most recently updated first (?collection=)",
            access: Some("viewer"),
            body: None,
            ok: (200, docs),
        },
        Op {
            method: "post",
            path: "/api/docs",
            summary: "Create a document (an entry of a collection, else a post), with content if `fields` or `slug` are given (as PATCH /api/docs/{doc} takes them)",
            access: Some("writer"),
            body: Some(object(json!({
                "collection": { "type": "string" },
                "slug": { "type": "string" },
                "fields": { "type": "object" },
            }))),
            ok: (
                201,
                object(json!({ "id": schema_ref("DocId"), "collection": { "type": "string" } })),
            ),
        },
        Op {
            method: "get",
            path: "/api/docs/{doc}",
            summary: "The draft, typed by its collection",
            access: Some("viewer"),
            body: None,
            ok: (200, entry.clone()),
        },
        Op {
            method: "patch",
            path: "/api/docs/{doc}",
            summary: "A JSON write into the live draft: {fields, slug?, base?}; text merged by a minimal diff (three-way from `base`), rich text as ProseMirror JSON or {markdown}; 422 names every invalid field",
            access: Some("writer"),
            body: Some(object(json!({
                "fields": { "type": "object" },
                "slug": { "type": "string" },
                "base": { "type": "object", "description": "text fields as the writer read them" },
            }))),
            ok: (200, entry.clone()),
        },
        Op {
            method: "get",
            path: "/api/docs/{doc}/state",
            summary: "The document as one Yjs v1 update",
            access: Some("viewer"),
            body: None,
            ok: (200, Value::Null),
        },
        Op {
            method: "post",
            path: "/api/docs/{doc}/publish",
            summary: "Publish the draft as a new version",
            access: Some("editor"),
            body: None,
            ok: (200, schema_ref("Published")),
        },
        Op {
            method: "post",
            path: "/api/docs/{doc}/unpublish",
            summary: "Take the post off the reader API",
            access: Some("editor"),
            body: None,
            ok: (200, schema_ref("Published")),
        },
        Op {
            method: "get",
            path: "/api/docs/{doc}/publishing",
            summary: "The pending or failed publish, and what D1 and KV hold",
            access: Some("viewer"),
            body: None,
            ok: (200, any.clone()),
        },
        Op {
            method: "delete",
            path: "/api/docs/{doc}/publishing",
            summary: "Drop a failed publish or unpublish",
            access: Some("editor"),
            body: None,
            ok: (200, any.clone()),
        },
        Op {
            method: "post",
            path: "/api/docs/{doc}/publishing/retry",
            summary: "Try the pending or failed publish now",
            access: Some("editor"),
            body: None,
            ok: (200, schema_ref("Published")),
        },
        Op {
            method: "get",
            path: "/api/docs/{doc}/export",
            summary: "The raw stored snapshot and log, for salvage",
            access: Some("admin"),
            body: None,
            ok: (200, any.clone()),
        },
        Op {
            method: "get",
            path: "/api/docs/{doc}/versions",
            summary: "Published versions, newest first",
            access: Some("viewer"),
            body: None,
            ok: (200, any.clone()),
        },
        Op {
            method: "post",
            path: "/api/docs/{doc}/versions/{n}/restore",
            summary: "The draft becomes version n's content",
            access: Some("editor"),
            body: None,
            ok: (200, any.clone()),
        },
        Op {
            method: "get",
            path: "/api/docs/{doc}/schedule",
            summary: "Pending scheduled actions",
            access: Some("viewer"),
            body: None,
            ok: (200, any.clone()),
        },
        Op {
            method: "post",
            path: "/api/docs/{doc}/schedule",
            summary: "Schedule a publish or unpublish",
            access: Some("editor"),
            body: Some(
                json!({ "type": "object", "required": ["action", "at"], "properties": { "action": { "enum": ["publish", "unpublish"] }, "at": { "type": "string", "format": "date-time" } } }),
            ),
            ok: (201, any.clone()),
        },
        Op {
            method: "delete",
            path: "/api/docs/{doc}/schedule/{entry}",
            summary: "Cancel a scheduled action",
            access: Some("editor"),
            body: None,
            ok: (200, any.clone()),
        },
        Op {
            method: "post",
            path: "/api/docs/{doc}/preview",
            summary: "A signed, expiring link to the rendered draft",
            access: Some("writer"),
            body: None,
            ok: (201, any.clone()),
        },
        Op {
            method: "get",
            path: "/preview/{doc}",
            summary: "The rendered draft, for a preview link's holder (?token=)",
            access: None,
            body: None,
            ok: (200, Value::Null),
        },
        Op {
            method: "get",
            path: "/api/posts",
            summary: "Published posts, newest first (?tag=&limit=&cursor=)",
            access: None,
            body: None,
            ok: (200, any.clone()),
        },
        Op {
            method: "get",
            path: "/api/posts/{slug}",
            summary: "The latest published version of a post",
            access: None,
            body: None,
            ok: (200, any.clone()),
        },
        Op {
            method: "get",
            path: "/api/posts/{slug}/versions/{n}",
            summary: "One published version",
            access: None,
            body: None,
            ok: (200, any.clone()),
        },
        Op {
            method: "get",
            path: "/api/content/{name}",
            summary: "Published entries of a collection, newest first: filters field=value and \
                      field[eq|gt|gte|lt|lte]=value, sort=field or -field, limit, cursor",
            access: None,
            body: None,
            ok: (
                200,
                object(json!({
                    "entries": { "type": "array", "items": { "type": "object" } },
                    "next_cursor": { "type": ["string", "null"] },
                })),
            ),
        },
        Op {
            method: "get",
            path: "/api/content/{name}/{slug}",
            summary: "One published entry, every field",
            access: None,
            body: None,
            ok: (200, published.clone()),
        },
        Op {
            method: "get",
            path: "/p/{slug}",
            summary: "The public HTML page of a post",
            access: None,
            body: None,
            ok: (200, Value::Null),
        },
        Op {
            method: "get",
            path: "/api/collections/{name}/export",
            summary: "Every entry as NDJSON: {id, collection, slug, status, version, published_at, fields}",
            access: Some("viewer"),
            body: None,
            ok: (200, Value::Null),
        },
        Op {
            method: "post",
            path: "/api/collections/{name}/import",
            summary: "Entries from NDJSON (as exported), idempotent by slug; answers NDJSON progress, one line per input line, then a summary",
            access: Some("editor"),
            body: None,
            ok: (200, Value::Null),
        },
        Op {
            method: "get",
            path: "/api/webhooks",
            summary: "Every webhook (without secrets)",
            access: Some("admin"),
            body: None,
            ok: (200, object(json!({ "webhooks": { "type": "array", "items": webhook } }))),
        },
        Op {
            method: "post",
            path: "/api/webhooks",
            summary: "A webhook: {url, events, description?}; answers its secret, once",
            access: Some("admin"),
            body: Some(hook_definition.clone()),
            ok: (201, webhook.clone()),
        },
        Op {
            method: "get",
            path: "/api/webhooks/{webhook}",
            summary: "One webhook",
            access: Some("admin"),
            body: None,
            ok: (200, webhook.clone()),
        },
        Op {
            method: "patch",
            path: "/api/webhooks/{webhook}",
            summary: "Change a webhook: {url?, events?, description?, enabled?}",
            access: Some("admin"),
            body: Some(hook_definition),
            ok: (200, webhook),
        },
        Op {
            method: "delete",
            path: "/api/webhooks/{webhook}",
            summary: "Delete a webhook and its queue",
            access: Some("admin"),
            body: None,
            ok: (200, any.clone()),
        },
        Op {
            method: "get",
            path: "/api/webhooks/{webhook}/deliveries",
            summary: "The deliveries log, newest first (?status=&limit=): status, attempts, last response and latency, next attempt",
            access: Some("admin"),
            body: None,
            ok: (200, any.clone()),
        },
        Op {
            method: "post",
            path: "/api/webhooks/{webhook}/deliveries/{delivery}/retry",
            summary: "Send a delivery again now, with the whole retry schedule",
            access: Some("admin"),
            body: None,
            ok: (202, any.clone()),
        },
        Op {
            method: "post",
            path: "/api/media",
            summary: "Upload a file: the raw bytes as the body, its type in Content-Type (?filename=&alt=)",
            access: Some("writer"),
            body: None,
            ok: (201, any.clone()),
        },
        Op {
            method: "get",
            path: "/api/media",
            summary: "The media library, newest first (?limit=&cursor=)",
            access: Some("viewer"),
            body: None,
            ok: (200, any.clone()),
        },
        Op {
            method: "delete",
            path: "/api/media/{media}",
            summary: "Delete a file no document refers to (409 naming those that do)",
            access: Some("editor"),
            body: None,
            ok: (204, Value::Null),
        },
        Op {
            method: "get",
            path: "/media/{media}",
            summary: "A media file, or an image's width variant (?w=)",
            access: None,
            body: None,
            ok: (200, Value::Null),
        },
        Op {
            method: "get",
            path: "/api/openapi.json",
            summary: "This document",
            access: None,
            body: None,
            ok: (200, json!({ "type": "object" })),
        },
    ]
}

/// The OpenAPI 3.1 document of the whole API, with two schemas per collection: a valid entry
/// and a draft.
pub fn document(collections: &[&Collection]) -> Value {
    let mut schemas = Map::new();
    let mut drafts = Vec::new();
    let mut published = Vec::new();
    for collection in collections {
        for draft in [false, true] {
            let name = schema_name(&collection.name, draft);
            let schema = entry_schema(collection, draft);
            let fields = schema["properties"]["fields"].clone();
            schemas.insert(name.clone(), schema);
            if draft {
                drafts.push(schema_ref(&name));
            } else if collection.name != crate::content::schema::POSTS {
                published.push(json!({
                    "type": "object",
                    "required": ["collection", "slug", "fields", "version"],
                    "properties": {
                        "collection": { "const": collection.name },
                        "slug": { "type": "string" },
                        "title": { "type": "string" },
                        "fields": schema_ref(&format!("fields_{}", collection.name)),
                        "version": { "type": "integer" },
                        "published_at": { "type": "string", "format": "date-time" },
                        "updated_at": { "type": "string", "format": "date-time" },
                    },
                }));
                schemas.insert(format!("fields_{}", collection.name), fields);
            }
        }
    }
    // `oneOf` needs at least one schema: with no collection but posts, any object.
    let published = if published.is_empty() {
        json!({ "type": "object" })
    } else {
        json!({ "oneOf": published })
    };
    // A post's draft also has its rendered shape (title, html, ...): more properties, allowed.
    let entry = json!({ "oneOf": drafts });
    let mut paths = Map::new();
    for op in operations(&entry, &published) {
        let item = paths
            .entry(op.path.to_string())
            .or_insert_with(|| json!({}));
        item[op.method] = operation(&op);
    }
    let field = json!({
        "type": "object", "required": ["name", "type"],
        "properties": {
            "name": { "type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$" },
            "type": { "enum": ["text", "richtext", "number", "boolean", "date", "datetime", "select", "tags", "reference", "image"] },
            "label": { "type": "string" }, "required": { "type": "boolean" },
            "max_length": { "type": "integer", "minimum": 1 },
            "min": { "type": "number" }, "max": { "type": "number" }, "integer": { "type": "boolean" },
            "options": { "type": "array", "items": { "type": "string" } },
            "collection": { "type": "string" },
        },
    });
    for (name, schema) in [
        (
            "DocId",
            json!({ "type": "string", "pattern": "^[A-Za-z0-9_-]{1,128}$" }),
        ),
        (
            "Error",
            json!({
                "type": "object", "required": ["error"],
                "properties": { "error": {
                    "type": "object", "required": ["code", "message"],
                    "properties": {
                        "code": { "type": "string" }, "message": { "type": "string" },
                        "parameter": { "type": "string" }, "field": { "type": "string" },
                        "fields": { "type": "array", "items": schema_ref("Problem") },
                        "changes": { "type": "array", "items": { "type": "object" } },
                    },
                } },
            }),
        ),
        (
            "Problem",
            json!({
                "type": "object", "required": ["name", "message"],
                "properties": { "name": { "type": "string" }, "message": { "type": "string" } },
            }),
        ),
        (
            "RichText",
            json!({
                "type": "object", "required": ["html", "json", "text"],
                "properties": {
                    "html": { "type": "string", "description": "sanitized HTML" },
                    "json": { "type": "object", "description": "a ProseMirror document" },
                    "text": { "type": "string" },
                },
            }),
        ),
        ("Field", field),
        (
            "CollectionDefinition",
            json!({
                "type": "object", "required": ["label", "fields"],
                "properties": {
                    "name": { "type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$" },
                    "label": { "type": "string" },
                    "fields": { "type": "array", "items": schema_ref("Field") },
                },
            }),
        ),
        (
            "Collection",
            json!({
                "allOf": [schema_ref("CollectionDefinition")],
                "type": "object",
                "properties": {
                    "version": { "type": "integer" },
                    "created_at": { "type": ["string", "null"], "format": "date-time" },
                    "built_in": { "type": "boolean" },
                },
            }),
        ),
        (
            "Published",
            json!({
                "type": "object",
                "properties": {
                    "version": { "type": "integer" }, "slug": { "type": "string" },
                    "status": { "enum": ["published", "unpublished"] },
                    "published_at": { "type": "string", "format": "date-time" },
                    "created": { "type": "boolean" },
                },
            }),
        ),
    ] {
        schemas.insert(name.to_string(), schema);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Folio",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A collaborative headless CMS: documents co-edited live over the Yjs \
                            protocols (wss /sync/{doc}?token=), published to a reader API.",
        },
        "security": [{ "bearer": [] }, { "session": [] }],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "the admin key or a token from POST /api/tokens" },
                "session": { "type": "apiKey", "in": "cookie", "name": "folio_session" },
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Route;

    fn articles() -> Collection {
        Collection::parse(&json!({"name": "articles", "label": "Articles", "fields": [
            {"name": "headline", "type": "text", "required": true, "max_length": 80, "label": "Headline"},
            {"name": "body", "type": "richtext"},
            {"name": "rating", "type": "number", "min": 0, "max": 5, "integer": true},
            {"name": "category", "type": "select", "options": ["news", "review"]},
            {"name": "author", "type": "reference", "collection": "people"}
        ]}))
        .unwrap()
    }

    #[test]
    fn each_collection_has_its_schemas_from_its_definition() {
        let posts = Collection::posts();
        let articles = articles();
        let doc = document(&[&posts, &articles]);
        let schemas = &doc["components"]["schemas"];
        let entry = &schemas["entry_articles"]["properties"];
        assert_eq!(entry["collection"]["const"], "articles");
        assert_eq!(entry["problems"]["maxItems"], 0);
        let fields = &entry["fields"]["properties"];
        // Required: never null in a valid entry, with its rules and label.
        assert_eq!(fields["headline"]["title"], "Headline");
        assert_eq!(
            fields["headline"]["allOf"][0],
            json!({"type": "string", "maxLength": 80})
        );
        assert_eq!(
            fields["rating"]["oneOf"][0],
            json!({"type": "integer", "minimum": 0.0, "maximum": 5.0})
        );
        assert_eq!(fields["rating"]["oneOf"][1], json!({"type": "null"}));
        assert_eq!(
            fields["category"]["oneOf"][0]["enum"],
            json!(["news", "review"])
        );
        assert_eq!(
            fields["body"]["oneOf"][0]["$ref"],
            "#/components/schemas/RichText"
        );
        // A draft: types only, everything nullable.
        let draft = &schemas["draft_articles"]["properties"]["fields"]["properties"];
        assert_eq!(
            draft["headline"]["oneOf"][0]["allOf"][0],
            json!({"type": "string"})
        );
        assert_eq!(draft["rating"]["oneOf"][0], json!({"type": "number"}));
        assert_eq!(draft["category"]["oneOf"][0], json!({"type": "string"}));
        assert!(schemas["entry_posts"].is_object() && schemas["draft_posts"].is_object());
        let answer = &doc["paths"]["/api/docs/{doc}"]["get"]["responses"]["200"];
        assert_eq!(
            answer["content"]["application/json"]["schema"]["oneOf"],
            json!([
                {"$ref": "#/components/schemas/draft_posts"},
                {"$ref": "#/components/schemas/draft_articles"}
            ])
        );
    }

    #[test]
    fn every_path_is_a_route_and_public_ones_say_so() {
        let doc = document(&[]);
        let paths = doc["paths"].as_object().unwrap();
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                let concrete = path
                    .replace("{doc}", "d")
                    .replace("{n}", "1")
                    .replace("{entry}", "1")
                    .replace("{name}", "articles")
                    .replace("{slug}", "a-post")
                    .replace("{webhook}", "wh_0123456789abcdef01234567")
                    .replace("{delivery}", "msg_0123456789abcdef01234567")
                    .replace("{media}", "0123456789abcdef0123456789abcdef");
                let route = Route::parse(&method.to_uppercase(), &concrete)
                    .unwrap_or_else(|e| panic!("{method} {path}: {e:?}"));
                let public = op.get("security") == Some(&json!([]));
                assert_eq!(
                    public,
                    route.access() == crate::access::Access::Public
                        || matches!(route, Route::PreviewPage { .. }),
                    "{method} {path}"
                );
            }
        }
        // And the other way: every route family is described.
        for path in [
            "/api/collections/{name}",
            "/api/docs/{doc}/schedule/{entry}",
            "/api/posts/{slug}/versions/{n}",
            "/api/openapi.json",
            "/api/webhooks/{webhook}/deliveries/{delivery}/retry",
            "/api/collections/{name}/import",
            "/media/{media}",
        ] {
            assert!(paths.contains_key(path), "{path}");
        }
    }
}
