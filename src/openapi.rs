//! The HTTP API described as OpenAPI 3.1 (`GET /api/openapi.json`), with one schema per
//! collection generated from its definition: what a front-end or an integration generates its
//! client from.
//!
//! Every operation comes from the route table ([`ROUTES`]: path, method, summary, who may
//! call it, its parameters' schemas); this module adds what the table does not say, each
//! operation's body and success answer ([`shape`]).

use serde_json::{json, Map, Value};

use crate::access::routes::{Rule, Spec, ROUTES};
use crate::access::Route;
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

/// What the route table does not say of an operation: its request body and its success answer.
struct Shape {
    body: Option<Value>,
    ok: (u16, Value),
}

/// "Least role: …" for an operation's description; `None` for a public one.
fn least(rule: Rule) -> Option<String> {
    match rule {
        Rule::Anyone => None,
        Rule::SignedIn => Some("any signed-in principal".into()),
        Rule::All(role) => Some(format!("{}, over every document", role.as_str())),
        Rule::Doc(role) => Some(format!("{} of the document", role.as_str())),
        Rule::Library(role) => Some(format!("{}, whatever the scope", role.as_str())),
        Rule::PreviewToken => Some("a preview link's token (?token=)".into()),
    }
}

fn operation(spec: &Spec, shape: Shape) -> Value {
    let (status, schema) = &shape.ok;
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
    let mut parameters: Vec<Value> = Route::parameters(spec.name)
        .into_iter()
        .map(|(name, schema)| json!({ "name": name, "in": "path", "required": true, "schema": schema }))
        .collect();
    parameters.extend(query(spec.name).into_iter().map(|(name, required, schema)| {
        json!({ "name": name, "in": "query", "required": required, "schema": schema })
    }));
    let mut out = json!({
        "summary": spec.summary,
        "operationId": spec.name,
        "parameters": parameters,
        "responses": responses,
    });
    match least(spec.rule) {
        // A preview link's token is in the query, not a bearer token or a session.
        None => out["security"] = json!([]),
        Some(_) if spec.rule == Rule::PreviewToken => out["security"] = json!([]),
        Some(_) => {}
    }
    if let Some(who) = least(spec.rule) {
        out["description"] = json!(format!("Least role: {who}."));
    }
    if let Some(body) = shape.body {
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

/// An object whose every property is always present (others may be added later).
fn required(properties: Value) -> Value {
    let names: Vec<String> = properties
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    json!({ "type": "object", "required": names, "properties": properties })
}

/// The query parameters route `name` reads: (name, required, schema). A collection's list
/// also takes a filter per field (`field=`, `field[gte]=`), which no fixed list can name.
fn query(name: &str) -> Vec<(&'static str, bool, Value)> {
    let text = || json!({ "type": "string" });
    let limit = || json!({ "type": "integer", "minimum": 1 });
    match name {
        "Docs" => vec![("collection", false, text())],
        "CollectionUpdate" => vec![("force", false, json!({ "type": "boolean" }))],
        "Posts" => vec![
            ("tag", false, text()),
            ("limit", false, limit()),
            ("cursor", false, text()),
        ],
        "Content" => vec![
            ("sort", false, text()),
            ("limit", false, limit()),
            ("cursor", false, text()),
        ],
        "MediaList" => vec![("limit", false, limit()), ("cursor", false, text())],
        "MediaUpload" => vec![("filename", false, text()), ("alt", false, text())],
        "Media" => vec![("w", false, json!({ "type": "integer", "minimum": 1 }))],
        "WebhookDeliveries" => vec![("status", false, text()), ("limit", false, limit())],
        "PreviewPage" => vec![("token", true, text())],
        _ => vec![],
    }
}

/// The body and success answer of route `name` (a row of [`ROUTES`]).
fn shape(name: &str, entry: &Value, published: &Value) -> Shape {
    let any = json!({ "type": "object" });
    let collection = schema_ref("Collection");
    let definition = schema_ref("CollectionDefinition");
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
    let (body, ok) = match name {
        "Session" => (None, (200, schema_ref("Session"))),
        "SignIn" => (
            Some(object(
                json!({ "key": { "type": "string" }, "invite": { "type": "string" } }),
            )),
            (200, schema_ref("Session")),
        ),
        "Tokens" => (
            Some(json!({
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "user": { "type": "string" },
                    "role": { "enum": ["viewer", "writer", "editor", "admin"] },
                    "doc": { "type": "string", "description": "a document id, or * for all" },
                    "ttl_seconds": { "type": "integer", "minimum": 1 },
                    "use": { "enum": ["api", "invite"] },
                },
            })),
            (201, schema_ref("Token")),
        ),
        "Collections" => (
            None,
            (
                200,
                object(json!({ "collections": { "type": "array", "items": collection } })),
            ),
        ),
        "CollectionCreate" => (Some(definition), (201, collection)),
        "Collection" => (None, (200, collection)),
        "CollectionUpdate" => (Some(definition), (200, collection)),
        "Docs" => (
            None,
            (
                200,
                required(
                    json!({ "documents": { "type": "array", "items": schema_ref("DocSummary") } }),
                ),
            ),
        ),
        "CreateDoc" => (
            Some(object(json!({
                "collection": { "type": "string" },
                "slug": { "type": "string" },
                "fields": { "type": "object" },
            }))),
            (
                201,
                object(json!({ "id": schema_ref("DocId"), "collection": { "type": "string" } })),
            ),
        ),
        "Draft" => (None, (200, entry.clone())),
        "Write" => (
            Some(object(json!({
                "fields": { "type": "object" },
                "slug": { "type": "string" },
                "base": { "type": "object", "description": "text fields as the writer read them" },
            }))),
            (200, entry.clone()),
        ),
        "Publish" | "Unpublish" | "PublishingRetry" => (None, (200, schema_ref("Published"))),
        "Publishing" => (
            None,
            (
                200,
                object(
                    json!({ "pending": { "oneOf": [schema_ref("Pending"), { "type": "null" }] } }),
                ),
            ),
        ),
        "Versions" => (
            None,
            (
                200,
                required(
                    json!({ "versions": { "type": "array", "items": schema_ref("VersionSummary") } }),
                ),
            ),
        ),
        "Schedule" => (
            None,
            (
                200,
                required(
                    json!({ "entries": { "type": "array", "items": schema_ref("ScheduleEntry") } }),
                ),
            ),
        ),
        "ScheduleAdd" => (
            Some(json!({
                "type": "object", "required": ["action", "at"],
                "properties": {
                    "action": { "enum": ["publish", "unpublish"] },
                    "at": { "type": "string", "format": "date-time" },
                },
            })),
            (201, schema_ref("ScheduleEntry")),
        ),
        "Preview" => (
            None,
            (
                201,
                required(json!({
                    "url": { "type": "string" },
                    "expires_at": { "type": ["string", "null"], "format": "date-time" },
                })),
            ),
        ),
        "Content" => (
            None,
            (
                200,
                object(json!({
                    "entries": { "type": "array", "items": { "type": "object" } },
                    "next_cursor": { "type": ["string", "null"] },
                })),
            ),
        ),
        "ContentEntry" => (None, (200, published.clone())),
        "Webhooks" => (
            None,
            (
                200,
                object(json!({ "webhooks": { "type": "array", "items": webhook } })),
            ),
        ),
        "WebhookCreate" => (Some(hook_definition), (201, webhook)),
        "Webhook" => (None, (200, webhook)),
        "WebhookUpdate" => (Some(hook_definition), (200, webhook)),
        "WebhookRetry" => (None, (202, any)),
        "MediaUpload" => (None, (201, schema_ref("MediaItem"))),
        "MediaList" => (
            None,
            (
                200,
                required(json!({
                    "media": { "type": "array", "items": schema_ref("MediaItem") },
                    "next_cursor": { "type": ["string", "null"] },
                })),
            ),
        ),
        "MediaDelete" | "SignOut" => (None, (204, Value::Null)),
        // Not JSON: a Yjs update, HTML pages, NDJSON streams, media files.
        "DocState" | "PreviewPage" | "Page" | "CollectionExport" | "CollectionImport" | "Media" => {
            (None, (200, Value::Null))
        }
        _ => (None, (200, any)),
    };
    Shape { body, ok }
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
    for spec in ROUTES.iter().filter(|spec| spec.kind.documented) {
        let item = paths
            .entry(spec.path.to_string())
            .or_insert_with(|| json!({}));
        item[spec.method.to_ascii_lowercase()] =
            operation(spec, shape(spec.name, &entry, &published));
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
            "Session",
            required(json!({
                "user": { "type": "string" },
                "role": { "enum": ["viewer", "writer", "editor", "admin"] },
                "doc": { "type": "string", "description": "the document scope: an id, or * for all" },
                "expires_at": { "type": ["string", "null"], "format": "date-time" },
            })),
        ),
        (
            "Token",
            required(json!({
                "token": { "type": "string" },
                "expires_at": { "type": "string", "format": "date-time" },
            })),
        ),
        (
            "Pending",
            required(json!({
                "action": { "enum": ["publish", "unpublish"] },
                "version": { "type": "integer" },
                "state": { "enum": ["retrying", "failed"] },
                "code": { "type": "string" },
                "message": { "type": "string" },
                "attempts": { "type": "integer" },
                "next_attempt_at": { "type": ["string", "null"], "format": "date-time" },
                "scheduled_entry": { "type": ["integer", "null"] },
            })),
        ),
        (
            "DocSummary",
            json!({
                "type": "object",
                "required": ["id", "title", "status", "slug", "updated_at"],
                "properties": {
                    "id": schema_ref("DocId"),
                    "collection": { "type": "string" },
                    "title": { "type": "string" },
                    "status": { "enum": ["draft", "published", "scheduled", "failed"] },
                    "slug": { "type": ["string", "null"] },
                    "version": { "type": ["integer", "null"] },
                    "updated_at": { "type": "string", "format": "date-time" },
                    "published_at": { "type": ["string", "null"], "format": "date-time" },
                    "next_publish_at": { "type": ["string", "null"], "format": "date-time" },
                    "publishing": { "oneOf": [schema_ref("Pending"), { "type": "null" }] },
                },
            }),
        ),
        (
            "ScheduleEntry",
            required(json!({
                "id": { "type": "integer" },
                "action": { "enum": ["publish", "unpublish"] },
                "at": { "type": "string", "format": "date-time" },
            })),
        ),
        (
            "VersionSummary",
            required(json!({
                "version": { "type": "integer" },
                "slug": { "type": "string" },
                "title": { "type": "string" },
                "word_count": { "type": "integer" },
                "published_at": { "type": "string", "format": "date-time" },
            })),
        ),
        (
            "MediaItem",
            json!({
                "type": "object",
                "required": ["id", "url", "type", "bytes", "width", "height", "filename", "alt"],
                "properties": {
                    "id": { "type": "string" }, "url": { "type": "string" },
                    "type": { "type": "string" }, "bytes": { "type": "integer" },
                    "width": { "type": ["integer", "null"] }, "height": { "type": ["integer", "null"] },
                    "filename": { "type": "string" }, "alt": { "type": "string" },
                },
            }),
        ),
        (
            "Published",
            required(json!({
                "version": { "type": "integer" }, "slug": { "type": "string" },
                "status": { "enum": ["published", "unpublished"] },
                "published_at": { "type": "string", "format": "date-time" },
                "created": { "type": "boolean" },
            })),
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
    fn every_route_is_documented_and_every_operation_parses_to_its_route() {
        let doc = document(&[]);
        let paths = doc["paths"].as_object().unwrap();
        // Every route of the table but the hidden ones is an operation, under its own name.
        for spec in ROUTES {
            let op = &doc["paths"][spec.path][spec.method.to_ascii_lowercase()];
            assert_eq!(
                op.is_object(),
                spec.kind.documented,
                "{} {}",
                spec.method,
                spec.path
            );
        }
        // Every operation parses back, by the router, to the route of its id with the same
        // access rule as the document states.
        let mut operations = 0;
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                operations += 1;
                let concrete = path
                    .replace("{doc}", "d")
                    .replace("{version}", "1")
                    .replace("{entry}", "1")
                    .replace("{name}", "articles")
                    .replace("{collection}", "articles")
                    .replace("{slug}", "a-post")
                    .replace("{delivery}", "msg_0123456789abcdef01234567");
                let concrete = if path.starts_with("/api/webhooks") {
                    concrete.replace("{id}", "wh_0123456789abcdef01234567")
                } else {
                    concrete.replace("{id}", "0123456789abcdef0123456789abcdef")
                };
                let route = Route::parse(&method.to_uppercase(), &concrete)
                    .unwrap_or_else(|e| panic!("{method} {path}: {e:?}"));
                assert_eq!(Some(route.name()), op["operationId"].as_str(), "{path}");
                let public = op.get("security") == Some(&json!([]));
                assert_eq!(
                    public,
                    route.access() == crate::access::Access::Public
                        || matches!(route, Route::PreviewPage { .. }),
                    "{method} {path}"
                );
                let rule = route.spec().map(|s| s.rule).unwrap();
                assert_eq!(
                    op["description"].as_str(),
                    least(rule)
                        .map(|who| format!("Least role: {who}."))
                        .as_deref(),
                    "{method} {path}"
                );
            }
        }
        assert_eq!(
            operations,
            ROUTES.iter().filter(|s| s.kind.documented).count()
        );
    }
}
