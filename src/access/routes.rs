//! The HTTP surface, declared once: [`ROUTES`] is the table from which the router parses a
//! request ([`Route::parse`]), its access rule comes ([`Route::access`]), the worker and the
//! objects dispatch (one [`Route`] variant per row), the OpenAPI document lists its operations
//! ([`crate::openapi`]) and the index page lists them for people. A path's values are typed
//! ([`super::params`]), so validation sits in one place in front of every handler.

use crate::access::params::{
    CollectionName, DeliveryId, EntryId, MediaId, Param, Slug, Version, WebhookId,
};
use crate::access::policy::Role;
use crate::doc_id::DocId;
use crate::error::Error;

/// Who may use a route, as the table states it ([`Route::access`] makes it an [`Access`] for
/// one request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Anyone (the reader API, health, the sign-in exchange itself).
    Anyone,
    /// Any signed-in principal, whatever its role and scope.
    SignedIn,
    /// At least this role, over every document.
    All(Role),
    /// At least this role, with a scope covering the route's document.
    Doc(Role),
    /// At least this role, whatever its scope: the media library is shared by every document,
    /// so an author scoped to one can still upload and pick images.
    Library(Role),
    /// A preview token for the route's document, in `?token=`.
    PreviewToken,
}

/// Where a route is served and described.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// The reader API: every answer (errors too) carries CORS, and `OPTIONS` is a preflight.
    pub reader: bool,
    /// In the OpenAPI document: every route but the socket, the index page and the test-only
    /// fault switch.
    pub documented: bool,
}

/// An authors' or operators' route.
pub const API: Kind = Kind {
    reader: false,
    documented: true,
};
/// A route of the public reader API (CORS).
pub const READER: Kind = Kind {
    reader: true,
    documented: true,
};
/// A route left out of the OpenAPI document.
pub const HIDDEN: Kind = Kind {
    reader: false,
    documented: false,
};

/// The values of a path's `{name}` segments, as the request carries them.
pub struct Params<'a>(Vec<(&'static str, &'a str)>);

impl<'a> Params<'a> {
    /// `{name}`, checked as a `T`.
    fn get<T: Param<'a>>(&self, name: &'static str) -> Result<T, RouteError> {
        let value = self
            .0
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| *v);
        T::parse(value, name)
    }
}

/// One row of [`ROUTES`].
pub struct Spec {
    /// The [`Route`] variant, and the OpenAPI `operationId`.
    pub name: &'static str,
    pub method: &'static str,
    /// The path template: literal segments and `{name}` ones, each named as the variant's
    /// field of that name.
    pub path: &'static str,
    pub rule: Rule,
    pub kind: Kind,
    /// One line for people: the OpenAPI summary and the index page.
    pub summary: &'static str,
    build: for<'a> fn(&Params<'a>) -> Result<Route<'a>, RouteError>,
}

impl Spec {
    /// The values of the template's parameters, if `segments` has its shape.
    fn matches<'a>(&self, segments: &[&'a str]) -> Option<Params<'a>> {
        let template: Vec<&'static str> = self.path.trim_start_matches('/').split('/').collect();
        if template.len() != segments.len() {
            return None;
        }
        let mut params = Vec::new();
        for (part, segment) in template.into_iter().zip(segments) {
            match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) => params.push((name, *segment)),
                None if part == *segment => {}
                None => return None,
            }
        }
        Some(Params(params))
    }
}

/// Declares the routes: the [`Route`] enum, the [`ROUTES`] table and what is derived from a
/// variant's fields (its document, its parameters' schemas). One line per route:
/// `Variant { field: Type, .. } = METHOD "/path/{field}", rule, kind, "summary";`
macro_rules! routes {
    ($(
        $variant:ident $({ $($field:ident : $ty:ty),* $(,)? })?
            = $method:ident $path:literal, $rule:expr, $kind:expr, $summary:literal;
    )*) => {
        /// A request the worker knows how to serve: one variant per row of [`ROUTES`].
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Route<'a> {
            $(
                #[doc = $summary]
                $variant $({ $($field: $ty),* })?,
            )*
            /// `OPTIONS` on the reader API: a CORS preflight.
            Preflight,
        }

        /// Every route, in the order the router tries them (paths do not overlap, so the
        /// order only decides the order of methods in an `Allow` header).
        pub const ROUTES: &[Spec] = &[$(
            Spec {
                name: stringify!($variant),
                method: stringify!($method),
                path: $path,
                rule: $rule,
                kind: $kind,
                summary: $summary,
                build: |_params| Ok(Route::$variant $({ $($field: _params.get(stringify!($field))?),* })?),
            },
        )*];

        impl<'a> Route<'a> {
            /// The name of this route's row of [`ROUTES`] (`Preflight` has none).
            pub fn name(&self) -> &'static str {
                match self {
                    $(Route::$variant { .. } => stringify!($variant),)*
                    Route::Preflight => "Preflight",
                }
            }

            /// The document this route is about, if any.
            pub fn doc(&self) -> Option<&DocId> {
                match self {
                    $(Route::$variant $({ $($field),* })? => {
                        $($(if let Some(doc) = Param::doc($field) {
                            return Some(doc);
                        })*)?
                        None
                    })*
                    Route::Preflight => None,
                }
            }

            /// The JSON Schema of each parameter of route `name`'s path, in order.
            pub fn parameters(name: &str) -> Vec<(&'static str, serde_json::Value)> {
                match name {
                    $(stringify!($variant) => vec![
                        $($((stringify!($field), <$ty as Param<'a>>::schema())),*)?
                    ],)*
                    _ => vec![],
                }
            }
        }
    };
}

use Role::{Admin, Editor, Viewer, Writer};
use Rule::{All, Anyone, Doc, Library, PreviewToken, SignedIn};

routes! {
    // Under wrangler and on Cloudflare the editor's static assets answer `/` first (the
    // worker sees it only without them): not part of the API document.
    Index = GET "/", Anyone, HIDDEN, "What this server is, and every route";
    Health = GET "/health", Anyone, API, "Liveness, and the wasm instance id";
    Sync { doc: DocId } = GET "/sync/{doc}", Doc(Viewer), HIDDEN,
        "A y-websocket connection to a document (a WebSocket upgrade, ?token=)";
    Session = GET "/api/session", SignedIn, API, "Who the request is signed in as";
    SignIn = POST "/api/session", Anyone, API,
        "Sign in with the admin key or an invitation (sets the session cookie)";
    SignOut = DELETE "/api/session", Anyone, API, "Sign out (clears the session cookie)";
    Tokens = POST "/api/tokens", SignedIn, API, "A signed token (API, socket, invitation)";
    // Definitions are what every editor builds its form from, whatever its scope.
    Collections = GET "/api/collections", SignedIn, API, "Every collection's definition in force";
    CollectionCreate = POST "/api/collections", All(Admin), API, "Define a collection";
    Collection { name: CollectionName<'a> } = GET "/api/collections/{name}", SignedIn, API,
        "One collection's definition in force";
    CollectionUpdate { name: CollectionName<'a> } = PUT "/api/collections/{name}", All(Admin), API,
        "A new version of a definition (?force=true for a tightening change)";
    // Every draft of a collection, read or written (and published).
    CollectionExport { name: CollectionName<'a> } = GET "/api/collections/{name}/export",
        All(Viewer), API,
        "Every entry as NDJSON: {id, collection, slug, status, version, published_at, fields}";
    CollectionImport { name: CollectionName<'a> } = POST "/api/collections/{name}/import",
        All(Editor), API,
        "Entries from NDJSON (as exported), idempotent by slug; answers NDJSON progress, one line per input line, then a summary";
    // Listing is filtered to the principal's scope.
    Docs = GET "/api/docs", SignedIn, API, "Documents, most recently updated first (?collection=)";
    CreateDoc = POST "/api/docs", All(Writer), API,
        "Create a document (an entry of a collection, else a post), with content if `fields` or `slug` are given (as PATCH /api/docs/{doc} takes them)";
    Draft { doc: DocId } = GET "/api/docs/{doc}", Doc(Viewer), API, "The draft, typed by its collection";
    Write { doc: DocId } = PATCH "/api/docs/{doc}", Doc(Writer), API,
        "A JSON write into the live draft: {fields, slug?, base?}; text merged by a minimal diff (three-way from `base`), rich text as ProseMirror JSON or {markdown}; 422 names every invalid field";
    DocState { doc: DocId } = GET "/api/docs/{doc}/state", Doc(Viewer), API,
        "The document as one Yjs v1 update";
    Publish { doc: DocId } = POST "/api/docs/{doc}/publish", Doc(Editor), API,
        "Publish the draft as a new version";
    Unpublish { doc: DocId } = POST "/api/docs/{doc}/unpublish", Doc(Editor), API,
        "Take the document off the reader API";
    Publishing { doc: DocId } = GET "/api/docs/{doc}/publishing", Doc(Viewer), API,
        "The publish on its way (or failed), the confirmed record, the scheduled entries that ran, the alarm, and what D1 and KV hold";
    PublishingCancel { doc: DocId } = DELETE "/api/docs/{doc}/publishing", Doc(Editor), API,
        "Drop a failed publish or unpublish";
    PublishingRetry { doc: DocId } = POST "/api/docs/{doc}/publishing/retry", Doc(Editor), API,
        "Try the pending or failed publish again now";
    Export { doc: DocId } = GET "/api/docs/{doc}/export", All(Admin), API,
        "The document's raw stored snapshot and log (salvage)";
    // Test-only: 404 unless the worker runs with FOLIO_FAULTS=on.
    Faults { doc: DocId } = POST "/api/docs/{doc}/faults", All(Admin), HIDDEN,
        "Arm a crash at a named step (tests only)";
    Versions { doc: DocId } = GET "/api/docs/{doc}/versions", Doc(Viewer), API,
        "The published versions, newest first";
    Restore { doc: DocId, version: Version } = POST "/api/docs/{doc}/versions/{version}/restore",
        Doc(Editor), API, "The draft becomes version n's content (a live edit)";
    Schedule { doc: DocId } = GET "/api/docs/{doc}/schedule", Doc(Viewer), API,
        "Pending scheduled actions";
    ScheduleAdd { doc: DocId } = POST "/api/docs/{doc}/schedule", Doc(Editor), API,
        "Schedule a publish or unpublish: {action, at}";
    ScheduleCancel { doc: DocId, entry: EntryId } = DELETE "/api/docs/{doc}/schedule/{entry}",
        Doc(Editor), API, "Cancel a scheduled action";
    Preview { doc: DocId } = POST "/api/docs/{doc}/preview", Doc(Writer), API,
        "A signed, expiring link to the rendered draft";
    PreviewPage { doc: DocId } = GET "/preview/{doc}", PreviewToken, API,
        "The rendered draft, for a preview link's holder (?token=)";
    Posts = GET "/api/posts", Anyone, READER, "Published posts, newest first (?tag=&limit=&cursor=)";
    Post { slug: Slug<'a> } = GET "/api/posts/{slug}", Anyone, READER,
        "The latest published version of a post";
    PostVersion { slug: Slug<'a>, version: Version } = GET "/api/posts/{slug}/versions/{version}",
        Anyone, READER, "One published version";
    Page { slug: Slug<'a> } = GET "/p/{slug}", Anyone, API, "The public HTML page of a post";
    Content { collection: CollectionName<'a> } = GET "/api/content/{collection}", Anyone, READER,
        "Published entries of a collection, newest first: filters field=value and field[eq|gt|gte|lt|lte]=value, sort=field or -field, limit, cursor";
    ContentEntry { collection: CollectionName<'a>, slug: Slug<'a> } =
        GET "/api/content/{collection}/{slug}", Anyone, READER, "One published entry, every field";
    OpenApi = GET "/api/openapi.json", Anyone, READER, "This document";
    MediaList = GET "/api/media", Library(Viewer), API,
        "The media library, newest first (?limit=&cursor=)";
    MediaUpload = POST "/api/media", Library(Writer), API,
        "Upload a file: the raw bytes as the body, its type in Content-Type (?filename=&alt=)";
    // A deletion affects every document: an editor of all of them.
    MediaDelete { id: MediaId<'a> } = DELETE "/api/media/{id}", All(Editor), API,
        "Delete a file no document refers to (409 naming those that do)";
    Media { id: MediaId<'a> } = GET "/media/{id}", Anyone, READER,
        "A media file, or an image's width variant (?w=)";
    // Webhooks see every event of every document, and hold signing secrets.
    Webhooks = GET "/api/webhooks", All(Admin), API, "Every webhook (without secrets)";
    WebhookCreate = POST "/api/webhooks", All(Admin), API,
        "A webhook: {url, events, description?}; answers its secret, once";
    Webhook { id: WebhookId<'a> } = GET "/api/webhooks/{id}", All(Admin), API, "One webhook";
    WebhookUpdate { id: WebhookId<'a> } = PATCH "/api/webhooks/{id}", All(Admin), API,
        "Change a webhook: {url?, events?, description?, enabled?}";
    WebhookDelete { id: WebhookId<'a> } = DELETE "/api/webhooks/{id}", All(Admin), API,
        "Delete a webhook, its log and its queue";
    WebhookDeliveries { id: WebhookId<'a> } = GET "/api/webhooks/{id}/deliveries", All(Admin), API,
        "The deliveries log, newest first (?status=&limit=): status, attempts, last response and latency, next attempt";
    WebhookRetry { id: WebhookId<'a>, delivery: DeliveryId<'a> } =
        POST "/api/webhooks/{id}/deliveries/{delivery}/retry", All(Admin), API,
        "Send a delivery again now, with the whole retry schedule";
}

/// What a [`Route`] requires of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// A preview token for this document, in `?token=`.
    PreviewToken(DocId),
    /// A principal with at least this role, covering this document (`None`: all documents).
    /// Sockets carry their token in `?token=`; HTTP in `Authorization: Bearer` or the session
    /// cookie.
    Role(Role, Option<DocId>),
    /// Any signed-in principal, whatever its role and scope.
    SignedIn,
    /// A principal with at least this role, whatever its document scope.
    Library(Role),
}

impl Route<'_> {
    /// This route's row of [`ROUTES`] (`None` for a preflight).
    pub fn spec(&self) -> Option<&'static Spec> {
        let name = self.name();
        ROUTES.iter().find(|spec| spec.name == name)
    }

    /// Who may use this route: the table's rule, for this route's document.
    pub fn access(&self) -> Access {
        let Some(spec) = self.spec() else {
            return Access::Public; // a preflight
        };
        let doc = self.doc().cloned();
        match spec.rule {
            Rule::Anyone => Access::Public,
            Rule::SignedIn => Access::SignedIn,
            Rule::All(role) => Access::Role(role, None),
            Rule::Doc(role) => Access::Role(role, doc),
            Rule::Library(role) => Access::Library(role),
            // Every preview route has a document; without one, nobody but an admin.
            Rule::PreviewToken => doc.map_or(Access::Role(Role::Admin, None), Access::PreviewToken),
        }
    }

    /// Whether this is a route of the public reader API (CORS on every answer).
    pub fn is_reader(&self) -> bool {
        self.spec().is_none_or(|spec| spec.kind.reader)
    }
}

/// Why a request matches no [`Route`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    /// Known path, invalid parameter → 400.
    Invalid(Error),
    /// Known path, another method → 405 with the methods allowed (`Allow`).
    Method(String),
    /// Unknown path → 404.
    NotFound,
}

impl<'a> Route<'a> {
    /// Parses a method (exactly as the request says it, upper case) and a URL path (still
    /// percent-encoded, as the request carries it) by the table.
    ///
    /// # Errors
    /// See [`RouteError`].
    pub fn parse(method: &str, path: &'a str) -> Result<Route<'a>, RouteError> {
        let segments: Vec<&'a str> = path.trim_start_matches('/').split('/').collect();
        let mut allowed: Vec<&'static str> = Vec::new();
        let mut reader = false;
        for spec in ROUTES {
            let Some(params) = spec.matches(&segments) else {
                continue;
            };
            if spec.method == method {
                return (spec.build)(&params);
            }
            allowed.push(spec.method);
            reader |= spec.kind.reader;
        }
        if allowed.is_empty() {
            return Err(RouteError::NotFound);
        }
        if method == "OPTIONS" && reader {
            return Ok(Route::Preflight);
        }
        Err(RouteError::Method(allowed.join(", ")))
    }
}

/// Whether a WebSocket upgrade with `origin` may proceed: browsers always send `Origin`, and
/// it must then be the worker's own origin (`self_origin`, scheme://host\[:port\]) or one of
/// `allowed` (comma-separated, exact matches; `*` allows any). Requests without `Origin` (non-
/// browser Yjs clients) are not a cross-site risk and pass; tokens gate them.
pub fn origin_allowed(origin: Option<&str>, self_origin: &str, allowed: &str) -> bool {
    let Some(origin) = origin.map(|o| o.trim_end_matches('/')) else {
        return true;
    };
    origin.eq_ignore_ascii_case(self_origin)
        || allowed
            .split(',')
            .map(|a| a.trim().trim_end_matches('/'))
            .any(|a| a == "*" || (!a.is_empty() && a.eq_ignore_ascii_case(origin)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> DocId {
        DocId::parse(s).unwrap()
    }

    #[test]
    fn routes() {
        assert_eq!(Route::parse("GET", "/"), Ok(Route::Index));
        assert_eq!(Route::parse("GET", "/health"), Ok(Route::Health));
        assert_eq!(
            Route::parse("GET", "/sync/doc-1"),
            Ok(Route::Sync { doc: id("doc-1") })
        );
        assert_eq!(
            Route::parse("GET", "/api/docs/a_b/state"),
            Ok(Route::DocState { doc: id("a_b") })
        );
    }

    #[test]
    fn every_author_route_needs_a_role_and_readers_need_none() {
        let need = |m, p| Route::parse(m, p).unwrap().access();
        assert_eq!(need("GET", "/api/posts"), Access::Public);
        assert_eq!(need("GET", "/api/content/articles"), Access::Public);
        assert_eq!(need("GET", "/api/content/articles/a-b"), Access::Public);
        assert_eq!(need("GET", "/p/a"), Access::Public);
        assert_eq!(need("POST", "/api/session"), Access::Public);
        assert_eq!(
            need("GET", "/sync/d"),
            Access::Role(Role::Viewer, Some(id("d")))
        );
        assert_eq!(need("POST", "/api/docs"), Access::Role(Role::Writer, None));
        assert_eq!(
            need("POST", "/api/docs/d/publish"),
            Access::Role(Role::Editor, Some(id("d")))
        );
        assert_eq!(
            need("POST", "/api/docs/d/versions/2/restore"),
            Access::Role(Role::Editor, Some(id("d")))
        );
        assert_eq!(
            need("DELETE", "/api/docs/d/schedule/3"),
            Access::Role(Role::Editor, Some(id("d")))
        );
        assert_eq!(need("GET", "/preview/d"), Access::PreviewToken(id("d")));
        assert_eq!(need("POST", "/api/tokens"), Access::SignedIn);
        assert_eq!(need("GET", "/api/collections"), Access::SignedIn);
        assert_eq!(need("GET", "/api/collections/a"), Access::SignedIn);
        assert_eq!(
            need("POST", "/api/collections"),
            Access::Role(Role::Admin, None)
        );
        assert_eq!(
            need("PUT", "/api/collections/a"),
            Access::Role(Role::Admin, None)
        );
        // Every route under /api/docs needs at least a signed-in principal.
        for (m, p) in [
            ("GET", "/api/docs"),
            ("GET", "/api/docs/d"),
            ("GET", "/api/docs/d/state"),
            ("GET", "/api/docs/d/versions"),
            ("GET", "/api/docs/d/schedule"),
            ("POST", "/api/docs/d/schedule"),
            ("POST", "/api/docs/d/unpublish"),
            ("POST", "/api/docs/d/preview"),
        ] {
            assert_ne!(need(m, p), Access::Public, "{m} {p}");
        }
    }

    #[test]
    fn media_routes_and_their_rules() {
        let id = "0123456789abcdef0123456789abcdef";
        let path = format!("/media/{id}");
        assert_eq!(
            Route::parse("GET", &path),
            Ok(Route::Media {
                id: MediaId::parse(id, "id").unwrap()
            })
        );
        assert_eq!(Route::parse("GET", &path).unwrap().access(), Access::Public);
        assert_eq!(
            Route::parse("POST", "/api/media").unwrap().access(),
            Access::Library(Role::Writer)
        );
        assert_eq!(
            Route::parse("GET", "/api/media").unwrap().access(),
            Access::Library(Role::Viewer)
        );
        let delete = format!("/api/media/{id}");
        assert_eq!(
            Route::parse("DELETE", &delete).unwrap().access(),
            Access::Role(Role::Editor, None)
        );
        assert_eq!(
            Route::parse("GET", &delete),
            Err(RouteError::Method("DELETE".into()))
        );
        for bad in [
            "/media/ABC",
            "/media/0123456789abcdef0123456789abcdef0",
            "/media/..%2f",
        ] {
            assert!(
                matches!(Route::parse("GET", bad), Err(RouteError::Invalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn integration_routes_and_their_rules() {
        use Role::{Admin, Editor, Viewer, Writer};
        let hook = "wh_0123456789abcdef01234567";
        let msg = "msg_0123456789abcdef01234567";
        let doc = DocId::parse("d1").unwrap();
        assert_eq!(
            Route::parse("POST", "/api/webhooks"),
            Ok(Route::WebhookCreate)
        );
        assert_eq!(
            Route::parse("PATCH", &format!("/api/webhooks/{hook}")),
            Ok(Route::WebhookUpdate {
                id: WebhookId::parse(hook, "id").unwrap()
            })
        );
        assert_eq!(
            Route::parse(
                "POST",
                &format!("/api/webhooks/{hook}/deliveries/{msg}/retry")
            ),
            Ok(Route::WebhookRetry {
                id: WebhookId::parse(hook, "id").unwrap(),
                delivery: DeliveryId::parse(msg, "delivery").unwrap(),
            })
        );
        for path in [
            "/api/webhooks".to_string(),
            format!("/api/webhooks/{hook}"),
            format!("/api/webhooks/{hook}/deliveries"),
        ] {
            let route = Route::parse("GET", &path).unwrap();
            assert_eq!(route.access(), Access::Role(Admin, None), "{path}");
        }
        // Ids are Folio's own shape: anything else is a 400 naming the parameter.
        for bad in [
            "/api/webhooks/wh_XYZ",
            "/api/webhooks/0123456789abcdef01234567",
        ] {
            assert!(matches!(
                Route::parse("GET", bad),
                Err(RouteError::Invalid(Error::BadParameter { .. }))
            ));
        }
        assert!(matches!(
            Route::parse(
                "POST",
                &format!("/api/webhooks/{hook}/deliveries/msg_1/retry")
            ),
            Err(RouteError::Invalid(Error::BadParameter { .. }))
        ));
        assert_eq!(
            Route::parse("DELETE", "/api/webhooks"),
            Err(RouteError::Method("GET, POST".into()))
        );
        // JSON writes: writers of the document; import needs an editor of all, export a viewer.
        let write = Route::parse("PATCH", "/api/docs/d1").unwrap();
        assert_eq!(write, Route::Write { doc: doc.clone() });
        assert_eq!(write.access(), Access::Role(Writer, Some(doc)));
        assert_eq!(
            Route::parse("PUT", "/api/docs/d1"),
            Err(RouteError::Method("GET, PATCH".into()))
        );
        let import = Route::parse("POST", "/api/collections/notes/import").unwrap();
        assert_eq!(import.access(), Access::Role(Editor, None));
        let export = Route::parse("GET", "/api/collections/notes/export").unwrap();
        assert_eq!(export.access(), Access::Role(Viewer, None));
    }

    #[test]
    fn origins() {
        let me = "http://127.0.0.1:8787";
        assert!(origin_allowed(None, me, ""));
        assert!(origin_allowed(Some("http://127.0.0.1:8787"), me, ""));
        assert!(!origin_allowed(Some("http://evil.example"), me, ""));
        assert!(!origin_allowed(Some("http://127.0.0.1:8788"), me, ""));
        assert!(!origin_allowed(Some("null"), me, ""));
        assert!(origin_allowed(
            Some("https://app.example"),
            me,
            "https://other.example, https://app.example"
        ));
        assert!(!origin_allowed(
            Some("https://app.example.evil"),
            me,
            "https://app.example"
        ));
        assert!(origin_allowed(Some("https://anything"), me, "*"));
        assert!(!origin_allowed(Some("https://a"), me, " , "));
    }

    #[test]
    fn invalid_ids_wrong_methods_and_unknown_paths() {
        let bad_id = Err(RouteError::Invalid(Error::InvalidDocId));
        assert_eq!(Route::parse("GET", "/sync/a%20b"), bad_id);
        assert_eq!(Route::parse("GET", "/sync/"), bad_id);
        assert_eq!(
            Route::parse("GET", &format!("/sync/{}", "x".repeat(129))),
            bad_id
        );
        assert_eq!(Route::parse("GET", "/api/docs/../state"), bad_id);
        assert_eq!(
            Route::parse("POST", "/api/docs/a/state"),
            Err(RouteError::Method("GET".into()))
        );
        assert_eq!(Route::parse("GET", "/sync/a/b"), Err(RouteError::NotFound));
        assert_eq!(Route::parse("GET", "/nope"), Err(RouteError::NotFound));
        assert_eq!(
            Route::parse("GET", "/api/docs/d/publish"),
            Err(RouteError::Method("POST".into()))
        );
        let bad_param = |p| {
            matches!(
                Route::parse("GET", p),
                Err(RouteError::Invalid(Error::BadParameter { .. }))
            )
        };
        assert!(bad_param("/api/posts/Not_A_Slug"));
        assert!(bad_param("/api/posts/a/versions/0"));
        assert!(bad_param("/api/posts/a/versions/x"));
        assert!(bad_param("/p/-x"));
        assert!(bad_param("/api/collections/Articles"));
        assert_eq!(
            Route::parse("DELETE", "/api/collections/a"),
            Err(RouteError::Method("GET, PUT".into()))
        );
    }

    #[test]
    fn undeclared_methods_are_405_with_allow_never_another_route() {
        let hook = "/api/webhooks/wh_0123456789abcdef01234567";
        for method in ["QUERY", "HEAD", "PUT", "get", "TRACE"] {
            assert_eq!(
                Route::parse(method, hook),
                Err(RouteError::Method("GET, PATCH, DELETE".into())),
                "{method}"
            );
        }
        assert_eq!(
            Route::parse("OPTIONS", "/api/posts/a"),
            Ok(Route::Preflight)
        );
        assert_eq!(
            Route::parse("OPTIONS", "/api/docs"),
            Err(RouteError::Method("GET, POST".into()))
        );
    }

    #[test]
    fn every_row_parses_back_to_itself_with_its_rule() {
        // A concrete path for each template, with a valid value for each parameter.
        let value = |name: &str| match name {
            "doc" => "d1",
            "slug" => "a-b",
            "name" | "collection" => "notes",
            "version" | "entry" => "3",
            "id" => "x",
            "delivery" => "msg_0123456789abcdef01234567",
            other => panic!("no sample for {{{other}}}"),
        };
        for spec in ROUTES {
            let concrete: Vec<String> = spec
                .path
                .split('/')
                .map(
                    |part| match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                        Some("id") if spec.path.starts_with("/api/webhooks") => {
                            "wh_0123456789abcdef01234567".to_string()
                        }
                        Some("id") => "0123456789abcdef0123456789abcdef".to_string(),
                        Some(name) => value(name).to_string(),
                        None => part.to_string(),
                    },
                )
                .collect();
            let path = concrete.join("/");
            let route = Route::parse(spec.method, &path)
                .unwrap_or_else(|e| panic!("{} {path}: {e:?}", spec.method));
            assert_eq!(route.name(), spec.name, "{path}");
            let params: Vec<&str> = Route::parameters(spec.name)
                .into_iter()
                .map(|(n, _)| n)
                .collect();
            let named: Vec<&str> = spec
                .path
                .split('/')
                .filter_map(|p| p.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            assert_eq!(params, named, "{}: fields and template agree", spec.name);
            if matches!(spec.rule, Rule::Doc(_) | Rule::PreviewToken) {
                assert!(
                    route.doc().is_some(),
                    "{}: a document's rule on a route with no document",
                    spec.name
                );
            }
        }
        let mut names: Vec<&str> = ROUTES.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ROUTES.len(), "one row per variant");
    }
}
