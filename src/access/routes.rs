//! The HTTP surface, parsed into a [`Route`] before anything else happens, so that validation
//! (and, later, access control) sits in one place in front of every handler.

use crate::access::policy::Role;
use crate::doc_id::DocId;
use crate::error::Error;

/// A request the worker knows how to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    /// `GET /`: what this server is and how to connect.
    Index,
    /// `GET /health`.
    Health,
    /// `/sync/{doc}`: a y-websocket connection to a document.
    Sync { doc: DocId },
    /// `GET /api/docs`: documents with title, status and times.
    Docs,
    /// `POST /api/docs`: create a document.
    CreateDoc,
    /// `GET /api/docs/{doc}/state`: the document as one Yjs v1 update.
    DocState { doc: DocId },
    /// `GET /api/docs/{doc}`: the current draft, rendered.
    Draft { doc: DocId },
    /// `PATCH /api/docs/{doc}` `{fields, slug?, base?}`: a JSON write into the live draft.
    Write { doc: DocId },
    /// `POST /api/docs/{doc}/publish`: publish the current draft as a new version.
    Publish { doc: DocId },
    /// `POST /api/docs/{doc}/unpublish`: take the post off the reader API.
    Unpublish { doc: DocId },
    /// `GET /api/docs/{doc}/schedule`: pending scheduled actions.
    Schedule { doc: DocId },
    /// `POST /api/docs/{doc}/schedule`: schedule a publish or unpublish.
    ScheduleAdd { doc: DocId },
    /// `DELETE /api/docs/{doc}/schedule/{entry}`: cancel a scheduled action.
    ScheduleCancel { doc: DocId, entry: u64 },
    /// `POST /api/docs/{doc}/versions/{n}/restore`: the draft becomes version n's content.
    Restore { doc: DocId, version: u64 },
    /// `GET /api/docs/{doc}/publishing`: the publish on its way (or failed), the confirmed
    /// record, the scheduled entries that ran, the alarm, and what D1 and KV hold.
    Publishing { doc: DocId },
    /// `POST /api/docs/{doc}/publishing/retry`: try the pending or failed publish again now.
    PublishingRetry { doc: DocId },
    /// `DELETE /api/docs/{doc}/publishing`: drop a failed publish or unpublish.
    PublishingCancel { doc: DocId },
    /// `GET /api/docs/{doc}/export`: the document's raw stored snapshot and log (operators
    /// salvaging a document that no longer loads).
    Export { doc: DocId },
    /// `POST /api/docs/{doc}/faults`: arm a crash at a named step (only when the worker runs
    /// with `FOLIO_FAULTS=on`, for tests; 404 otherwise).
    Faults { doc: DocId },
    /// `GET /api/docs/{doc}/versions`: the published versions, newest first.
    Versions { doc: DocId },
    /// `GET /api/posts?tag=&limit=&cursor=`: published posts, newest first.
    Posts,
    /// `GET /api/posts/{slug}`: the latest published version of a post.
    Post { slug: &'a str },
    /// `GET /api/posts/{slug}/versions/{n}`: one published version.
    PostVersion { slug: &'a str, version: u64 },
    /// `GET /p/{slug}`: the public HTML page of a post.
    Page { slug: &'a str },
    /// `OPTIONS` on the reader API: a CORS preflight.
    Preflight,
    /// `POST /api/tokens`: a signed token (see [`crate::access::policy::issue`]).
    Tokens,
    /// `GET /api/session`: who the request is signed in as.
    Session,
    /// `POST /api/session`: sign in with the admin key or an invitation → session cookie.
    SignIn,
    /// `DELETE /api/session`: sign out (clears the cookie).
    SignOut,
    /// `POST /api/docs/{doc}/preview`: a signed, expiring link to the rendered draft.
    Preview { doc: DocId },
    /// `GET /preview/{doc}?token=`: the rendered draft, for a preview link's holder.
    PreviewPage { doc: DocId },
    /// `GET /api/content/{collection}?filters&sort=&limit=&cursor=`: published entries.
    Content { collection: &'a str },
    /// `GET /api/content/{collection}/{slug}`: one published entry.
    ContentEntry { collection: &'a str, slug: &'a str },
    /// `GET /api/openapi.json`: the API as OpenAPI 3.1, one schema per collection.
    OpenApi,
    /// `GET /api/collections`: every collection's definition in force (`posts` included).
    Collections,
    /// `POST /api/collections`: define a collection.
    CollectionCreate,
    /// `GET /api/collections/{name}`: one collection's definition in force.
    Collection { name: &'a str },
    /// `PUT /api/collections/{name}?force=true`: a new version of a collection's definition.
    CollectionUpdate { name: &'a str },
    /// `GET /api/collections/{name}/export`: every entry as NDJSON.
    CollectionExport { name: &'a str },
    /// `POST /api/collections/{name}/import`: NDJSON in, progress out.
    CollectionImport { name: &'a str },
    /// `POST /api/media?filename=&alt=`: upload a file (the raw bytes as the body).
    MediaUpload,
    /// `GET /api/media?limit=&cursor=`: the media library, newest first.
    MediaList,
    /// `DELETE /api/media/{id}`: delete a file no document refers to.
    MediaDelete { id: &'a str },
    /// `GET /media/{id}?w=`: a media file (or an image's width variant), public.
    Media { id: &'a str },
    /// `GET /api/webhooks`: every webhook.
    Webhooks,
    /// `POST /api/webhooks` `{url, events, description?}`: a webhook, with its secret.
    WebhookCreate,
    /// `GET /api/webhooks/{id}`.
    Webhook { id: &'a str },
    /// `PATCH /api/webhooks/{id}` `{url?, events?, description?, enabled?}`.
    WebhookUpdate { id: &'a str },
    /// `DELETE /api/webhooks/{id}`.
    WebhookDelete { id: &'a str },
    /// `GET /api/webhooks/{id}/deliveries?status=&limit=`: the deliveries log.
    WebhookDeliveries { id: &'a str },
    /// `POST /api/webhooks/{id}/deliveries/{delivery}/retry`: send a delivery again.
    WebhookRetry { id: &'a str, delivery: &'a str },
}

/// What a [`Route`] requires of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Anyone (the reader API, health, the sign-in exchange itself).
    Public,
    /// A preview token for this document, in `?token=`.
    PreviewToken(DocId),
    /// A principal with at least this role, covering this document (`None`: all documents).
    /// Sockets carry their token in `?token=`; HTTP in `Authorization: Bearer` or the session
    /// cookie.
    Role(Role, Option<DocId>),
    /// Any signed-in principal, whatever its role and scope.
    SignedIn,
    /// A principal with at least this role, whatever its document scope: the media library is
    /// shared by every document, so an author scoped to one can still upload and pick images.
    Library(Role),
}

impl Route<'_> {
    /// The document this route is about, if any.
    pub fn doc(&self) -> Option<&DocId> {
        match self {
            Route::Sync { doc }
            | Route::DocState { doc }
            | Route::Draft { doc }
            | Route::Write { doc }
            | Route::Publish { doc }
            | Route::Unpublish { doc }
            | Route::Schedule { doc }
            | Route::ScheduleAdd { doc }
            | Route::ScheduleCancel { doc, .. }
            | Route::Restore { doc, .. }
            | Route::Publishing { doc }
            | Route::PublishingRetry { doc }
            | Route::PublishingCancel { doc }
            | Route::Export { doc }
            | Route::Faults { doc }
            | Route::Versions { doc }
            | Route::Preview { doc }
            | Route::PreviewPage { doc } => Some(doc),
            _ => None,
        }
    }

    /// Who may use this route: the single table of access rules.
    pub fn access(&self) -> Access {
        use Role::{Admin, Editor, Viewer, Writer};
        match self {
            Route::Index
            | Route::Health
            | Route::Posts
            | Route::Post { .. }
            | Route::PostVersion { .. }
            | Route::Page { .. }
            | Route::Preflight
            | Route::OpenApi
            | Route::Content { .. }
            | Route::ContentEntry { .. }
            | Route::SignIn
            | Route::SignOut
            | Route::Media { .. } => Access::Public,
            // Webhooks see every event of every document, and hold signing secrets.
            Route::Webhooks
            | Route::WebhookCreate
            | Route::Webhook { .. }
            | Route::WebhookUpdate { .. }
            | Route::WebhookDelete { .. }
            | Route::WebhookDeliveries { .. }
            | Route::WebhookRetry { .. } => Access::Role(Admin, None),
            Route::MediaUpload => Access::Library(Writer),
            Route::MediaList => Access::Library(Viewer),
            // A deletion affects every document: an editor of all of them.
            Route::MediaDelete { .. } => Access::Role(Editor, None),
            Route::PreviewPage { doc } => Access::PreviewToken(doc.clone()),
            Route::Tokens | Route::Session => Access::SignedIn,
            // Definitions are what every editor builds its form from, whatever its scope.
            Route::Collections | Route::Collection { .. } => Access::SignedIn,
            Route::CollectionCreate | Route::CollectionUpdate { .. } => Access::Role(Admin, None),
            // Every draft of a collection, read or written (and published).
            Route::CollectionExport { .. } => Access::Role(Viewer, None),
            Route::CollectionImport { .. } => Access::Role(Editor, None),
            // Listing is filtered to the principal's scope.
            Route::Docs => Access::SignedIn,
            Route::CreateDoc => Access::Role(Writer, None),
            Route::Sync { doc }
            | Route::DocState { doc }
            | Route::Draft { doc }
            | Route::Versions { doc }
            | Route::Publishing { doc }
            | Route::Schedule { doc } => Access::Role(Viewer, Some(doc.clone())),
            Route::Export { .. } | Route::Faults { .. } => Access::Role(Admin, None),
            Route::Preview { doc } | Route::Write { doc } => {
                Access::Role(Writer, Some(doc.clone()))
            }
            Route::Publish { doc }
            | Route::Unpublish { doc }
            | Route::ScheduleAdd { doc }
            | Route::ScheduleCancel { doc, .. }
            | Route::PublishingRetry { doc }
            | Route::PublishingCancel { doc }
            | Route::Restore { doc, .. } => Access::Role(Editor, Some(doc.clone())),
        }
    }
}

/// Why a request matches no [`Route`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    /// Known path, invalid document id → 400.
    Invalid(Error),
    /// Known path, wrong method → 405 with the allowed method.
    Method(&'static str),
    /// Unknown path → 404.
    NotFound,
}

impl<'a> Route<'a> {
    /// Parses a method and a URL path (still percent-encoded, as the request carries it).
    ///
    /// # Errors
    /// See [`RouteError`].
    pub fn parse(method: &str, path: &'a str) -> Result<Route<'a>, RouteError> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let get = |route: Route<'a>| {
            if method == "GET" {
                Ok(route)
            } else {
                Err(RouteError::Method("GET"))
            }
        };
        let post = |route: Route<'a>| {
            if method == "POST" {
                Ok(route)
            } else {
                Err(RouteError::Method("POST"))
            }
        };
        let doc = |id: &str| DocId::parse(id).map_err(|_| RouteError::Invalid(Error::InvalidDocId));
        let slug = |s: &'a str| {
            if crate::publish::is_slug(s) && s.len() <= crate::publish::MAX_SLUG_LEN {
                Ok(s)
            } else {
                Err(RouteError::Invalid(Error::BadParameter {
                    parameter: "slug".into(),
                    message: "slug must be 1-96 characters of a-z, 0-9 and single '-'".into(),
                }))
            }
        };
        let version = |n: &str| {
            n.parse()
                .ok()
                .filter(|v| (1..1u64 << 53).contains(v))
                .ok_or(RouteError::Invalid(Error::BadParameter {
                    parameter: "version".into(),
                    message: "version must be a positive whole number".into(),
                }))
        };
        let collection = |name: &'a str| {
            if crate::content::schema::is_name(name) {
                Ok(name)
            } else {
                Err(RouteError::Invalid(Error::BadParameter {
                    parameter: "collection".into(),
                    message: "a collection name matches [a-z][a-z0-9_]{0,63}".into(),
                }))
            }
        };
        let media_id = |id: &'a str| {
            if crate::media::is_id(id) {
                Ok(id)
            } else {
                Err(RouteError::Invalid(Error::BadParameter {
                    parameter: "id".into(),
                    message: "a media id is 32 lowercase hex digits".into(),
                }))
            }
        };
        // `wh_` / `msg_` and 24 lowercase hex digits, as Folio makes them.
        let token_id =
            |id: &'a str, prefix: &str, parameter: &'static str| match id.strip_prefix(prefix) {
                Some(hex)
                    if hex.len() == 24
                        && hex
                            .bytes()
                            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
                {
                    Ok(id)
                }
                _ => Err(RouteError::Invalid(Error::BadParameter {
                    parameter: parameter.into(),
                    message: format!("a {parameter} id is {prefix} and 24 lowercase hex digits"),
                })),
            };
        let hook = |id: &'a str| token_id(id, "wh_", "webhook");
        let reader = |route: Route<'a>| {
            if method == "OPTIONS" {
                Ok(Route::Preflight)
            } else {
                get(route)
            }
        };
        match segments.as_slice() {
            [""] => get(Route::Index),
            ["health"] => get(Route::Health),
            // Method is checked by the upgrade itself (426 for anything but a WebSocket GET).
            ["sync", id] => Ok(Route::Sync { doc: doc(id)? }),
            ["api", "docs"] => match method {
                "GET" => Ok(Route::Docs),
                "POST" => Ok(Route::CreateDoc),
                _ => Err(RouteError::Method("GET, POST")),
            },
            ["api", "tokens"] => post(Route::Tokens),
            ["api", "openapi.json"] => reader(Route::OpenApi),
            ["api", "content", name] => reader(Route::Content {
                collection: collection(name)?,
            }),
            ["api", "content", name, s] => reader(Route::ContentEntry {
                collection: collection(name)?,
                slug: slug(s)?,
            }),
            ["api", "collections"] => match method {
                "GET" => Ok(Route::Collections),
                "POST" => Ok(Route::CollectionCreate),
                _ => Err(RouteError::Method("GET, POST")),
            },
            ["api", "collections", name] => match method {
                "GET" => Ok(Route::Collection {
                    name: collection(name)?,
                }),
                "PUT" => Ok(Route::CollectionUpdate {
                    name: collection(name)?,
                }),
                _ => Err(RouteError::Method("GET, PUT")),
            },
            ["api", "webhooks"] => match method {
                "GET" => Ok(Route::Webhooks),
                "POST" => Ok(Route::WebhookCreate),
                _ => Err(RouteError::Method("GET, POST")),
            },
            ["api", "webhooks", id] => match method {
                "GET" => Ok(Route::Webhook { id: hook(id)? }),
                "PATCH" => Ok(Route::WebhookUpdate { id: hook(id)? }),
                "DELETE" => Ok(Route::WebhookDelete { id: hook(id)? }),
                _ => Err(RouteError::Method("GET, PATCH, DELETE")),
            },
            ["api", "webhooks", id, "deliveries"] => {
                get(Route::WebhookDeliveries { id: hook(id)? })
            }
            ["api", "webhooks", id, "deliveries", delivery, "retry"] => post(Route::WebhookRetry {
                id: hook(id)?,
                delivery: token_id(delivery, "msg_", "delivery")?,
            }),
            ["api", "collections", name, "export"] => get(Route::CollectionExport {
                name: collection(name)?,
            }),
            ["api", "collections", name, "import"] => post(Route::CollectionImport {
                name: collection(name)?,
            }),
            ["api", "session"] => match method {
                "GET" => Ok(Route::Session),
                "POST" => Ok(Route::SignIn),
                "DELETE" => Ok(Route::SignOut),
                _ => Err(RouteError::Method("GET, POST, DELETE")),
            },
            ["api", "docs", id, "preview"] => post(Route::Preview { doc: doc(id)? }),
            ["preview", id] => get(Route::PreviewPage { doc: doc(id)? }),
            ["api", "docs", id, "state"] => get(Route::DocState { doc: doc(id)? }),
            ["api", "docs", id] => match method {
                "GET" => Ok(Route::Draft { doc: doc(id)? }),
                "PATCH" => Ok(Route::Write { doc: doc(id)? }),
                _ => Err(RouteError::Method("GET, PATCH")),
            },
            ["api", "docs", id, "publish"] => post(Route::Publish { doc: doc(id)? }),
            ["api", "docs", id, "unpublish"] => post(Route::Unpublish { doc: doc(id)? }),
            ["api", "docs", id, "versions"] => get(Route::Versions { doc: doc(id)? }),
            ["api", "docs", id, "publishing"] => match method {
                "GET" => Ok(Route::Publishing { doc: doc(id)? }),
                "DELETE" => Ok(Route::PublishingCancel { doc: doc(id)? }),
                _ => Err(RouteError::Method("GET, DELETE")),
            },
            ["api", "docs", id, "publishing", "retry"] => {
                post(Route::PublishingRetry { doc: doc(id)? })
            }
            ["api", "docs", id, "export"] => get(Route::Export { doc: doc(id)? }),
            ["api", "docs", id, "faults"] => post(Route::Faults { doc: doc(id)? }),
            ["api", "docs", id, "schedule"] => match method {
                "GET" => Ok(Route::Schedule { doc: doc(id)? }),
                "POST" => Ok(Route::ScheduleAdd { doc: doc(id)? }),
                _ => Err(RouteError::Method("GET, POST")),
            },
            ["api", "docs", id, "schedule", entry] => {
                let entry = entry.parse().map_err(|_| {
                    RouteError::Invalid(Error::BadParameter {
                        parameter: "entry".into(),
                        message: "entry must be an id from the schedule".into(),
                    })
                })?;
                if method == "DELETE" {
                    Ok(Route::ScheduleCancel {
                        doc: doc(id)?,
                        entry,
                    })
                } else {
                    Err(RouteError::Method("DELETE"))
                }
            }
            ["api", "docs", id, "versions", n, "restore"] => post(Route::Restore {
                doc: doc(id)?,
                version: version(n)?,
            }),
            ["api", "media"] => match method {
                "GET" => Ok(Route::MediaList),
                "POST" => Ok(Route::MediaUpload),
                _ => Err(RouteError::Method("GET, POST")),
            },
            ["api", "media", id] => {
                if method != "DELETE" {
                    return Err(RouteError::Method("DELETE"));
                }
                Ok(Route::MediaDelete { id: media_id(id)? })
            }
            ["media", id] => reader(Route::Media { id: media_id(id)? }),
            ["api", "posts"] => reader(Route::Posts),
            ["api", "posts", s] => reader(Route::Post { slug: slug(s)? }),
            ["api", "posts", s, "versions", n] => {
                let version = n
                    .parse()
                    .ok()
                    .filter(|v| (1..1u64 << 53).contains(v))
                    .ok_or(RouteError::Invalid(Error::BadParameter {
                        parameter: "version".into(),
                        message: "version must be a positive whole number".into(),
                    }))?;
                reader(Route::PostVersion {
                    slug: slug(s)?,
                    version,
                })
            }
            ["p", s] => get(Route::Page { slug: slug(s)? }),
            _ => Err(RouteError::NotFound),
        }
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
        assert_eq!(Route::parse("GET", &path), Ok(Route::Media { id }));
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
            Err(RouteError::Method("DELETE"))
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
            Ok(Route::WebhookUpdate { id: hook })
        );
        assert_eq!(
            Route::parse(
                "POST",
                &format!("/api/webhooks/{hook}/deliveries/{msg}/retry")
            ),
            Ok(Route::WebhookRetry {
                id: hook,
                delivery: msg
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
            Err(RouteError::Method("GET, POST"))
        );
        // JSON writes: writers of the document; import needs an editor of all, export a viewer.
        let write = Route::parse("PATCH", "/api/docs/d1").unwrap();
        assert_eq!(write, Route::Write { doc: doc.clone() });
        assert_eq!(write.access(), Access::Role(Writer, Some(doc)));
        assert_eq!(
            Route::parse("PUT", "/api/docs/d1"),
            Err(RouteError::Method("GET, PATCH"))
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
            Err(RouteError::Method("GET"))
        );
        assert_eq!(Route::parse("GET", "/sync/a/b"), Err(RouteError::NotFound));
        assert_eq!(Route::parse("GET", "/nope"), Err(RouteError::NotFound));
        assert_eq!(
            Route::parse("GET", "/api/docs/d/publish"),
            Err(RouteError::Method("POST"))
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
            Err(RouteError::Method("GET, PUT"))
        );
    }
}
