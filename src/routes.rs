//! The HTTP surface, parsed into a [`Route`] before anything else happens, so that validation
//! (and, later, access control) sits in one place in front of every handler.

use crate::docid;
use crate::error::Error;

/// A request the worker knows how to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    /// `GET /`: what this server is and how to connect.
    Index,
    /// `GET /health`.
    Health,
    /// `/sync/{doc}`: a y-websocket connection to a document.
    Sync { doc: &'a str },
    /// `GET /api/docs/{doc}/state`: the document as one Yjs v1 update.
    DocState { doc: &'a str },
    /// `GET /api/docs/{doc}`: the current draft, rendered.
    Draft { doc: &'a str },
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
        let doc = |id: &'a str| docid::validate(id).map_err(RouteError::Invalid);
        match segments.as_slice() {
            [""] => get(Route::Index),
            ["health"] => get(Route::Health),
            // Method is checked by the upgrade itself (426 for anything but a WebSocket GET).
            ["sync", id] => Ok(Route::Sync { doc: doc(id)? }),
            ["api", "docs", id, "state"] => get(Route::DocState { doc: doc(id)? }),
            ["api", "docs", id] => get(Route::Draft { doc: doc(id)? }),
            _ => Err(RouteError::NotFound),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(Route::parse("GET", "/"), Ok(Route::Index));
        assert_eq!(Route::parse("GET", "/health"), Ok(Route::Health));
        assert_eq!(
            Route::parse("GET", "/sync/doc-1"),
            Ok(Route::Sync { doc: "doc-1" })
        );
        assert_eq!(
            Route::parse("GET", "/api/docs/a_b/state"),
            Ok(Route::DocState { doc: "a_b" })
        );
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
    }
}
