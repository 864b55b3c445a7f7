//! The edge's one error, converted to a response in one place ([`EdgeError::response`]).
//! Every core error converts into it (`From`), so handlers use `?`; clients get a precise
//! status and a stable code (`{"error": {"code", "message"}}`), logs get the detail.

use serde_json::json;
use worker::Response;

use crate::access::AuthError;
use crate::error::{BadParameter, Error};
use crate::publish::intent::Problem;

/// Result of an edge handler.
pub type Result<T, E = EdgeError> = std::result::Result<T, E>;

/// Everything an edge handler can answer with instead of its response.
#[derive(Debug)]
pub enum EdgeError {
    /// A core error: its own status and code ([`Error::http_status`]).
    Core(Error),
    /// Not authorized; 401s say how to authenticate.
    Auth(AuthError),
    /// A publish, unpublish or restore that failed, as the author sees it.
    Problem(Problem),
    /// An answer of its own: status, stable code, message.
    Api {
        status: u16,
        code: &'static str,
        message: String,
    },
    /// An answer of its own with one more member of `error` saying what exactly is wrong (the
    /// changes a definition would make, the fields an entry breaks).
    Detailed {
        status: u16,
        code: &'static str,
        message: String,
        /// The members beside code and message that say what exactly is wrong.
        extra: Vec<(&'static str, serde_json::Value)>,
    },
    /// Too many requests (or refused sockets) for now: 429 with `Retry-After`.
    TooMany {
        what: &'static str,
        retry_after: u64,
    },
    /// A store (D1, KV, SQLite) failed: 503 `unavailable` with `message`; `detail` is logged.
    Unavailable {
        message: &'static str,
        detail: String,
    },
    /// The platform failed (building a response, a binding): 500, logged.
    Worker(worker::Error),
}

impl EdgeError {
    pub fn api(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        EdgeError::Api {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn unavailable(message: &'static str, detail: impl std::fmt::Display) -> Self {
        EdgeError::Unavailable {
            message,
            detail: detail.to_string(),
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            EdgeError::Core(e) => e.http_status().0,
            EdgeError::Auth(e) => e.http_status().0,
            EdgeError::Problem(p) => p.status,
            EdgeError::Api { status, .. } | EdgeError::Detailed { status, .. } => *status,
            EdgeError::TooMany { .. } => 429,
            EdgeError::Unavailable { .. } => 503,
            EdgeError::Worker(_) => 500,
        }
    }

    /// The response: the one place an edge error becomes what a client sees.
    ///
    /// # Errors
    /// Only if the platform cannot build a response.
    pub fn response(self) -> worker::Result<Response> {
        let status = self.status();
        // `extra`: the member that says what exactly is wrong, if any.
        let (code, message, extra) = match &self {
            EdgeError::Core(e) => {
                let extra = match e {
                    Error::BadParameter { parameter, .. } => vec![("parameter", json!(parameter))],
                    Error::InvalidDefinition { field, .. } => vec![("field", json!(field))],
                    _ => Vec::new(),
                };
                (e.http_status().1.to_string(), e.to_string(), extra)
            }
            EdgeError::Auth(e) => (e.http_status().1.to_string(), e.to_string(), Vec::new()),
            EdgeError::Problem(p) => (p.code.clone(), p.message.clone(), Vec::new()),
            EdgeError::Api { code, message, .. } => (code.to_string(), message.clone(), Vec::new()),
            EdgeError::Detailed {
                code,
                message,
                extra,
                ..
            } => (code.to_string(), message.clone(), extra.clone()),
            EdgeError::TooMany { what, .. } => {
                let e = Error::RateLimited(what);
                (e.http_status().1.to_string(), e.to_string(), Vec::new())
            }
            EdgeError::Unavailable { message, detail } => {
                worker::console_error!("{message}: {detail}");
                ("unavailable".into(), message.to_string(), Vec::new())
            }
            EdgeError::Worker(e) => {
                worker::console_error!("internal error: {e}");
                ("internal".into(), "internal error".into(), Vec::new())
            }
        };
        let mut body = json!({ "error": { "code": code, "message": message } });
        for (key, value) in extra {
            body["error"][key] = value;
        }
        let response = Response::from_json(&body)?.with_status(status);
        let headers = response.headers();
        match &self {
            EdgeError::Auth(_) if status == 401 => {
                headers.set("WWW-Authenticate", "Bearer realm=\"folio\"")?
            }
            EdgeError::TooMany { retry_after, .. } => {
                headers.set("Retry-After", &retry_after.to_string())?
            }
            _ => {}
        }
        Ok(response)
    }
}

/// A handler's result as a response.
///
/// # Errors
/// Only if the platform cannot build a response.
pub fn respond(result: Result<Response>) -> worker::Result<Response> {
    result.or_else(EdgeError::response)
}

impl From<Error> for EdgeError {
    fn from(e: Error) -> Self {
        match e {
            Error::Auth(e) => EdgeError::Auth(e),
            e => EdgeError::Core(e),
        }
    }
}

impl From<AuthError> for EdgeError {
    fn from(e: AuthError) -> Self {
        EdgeError::Auth(e)
    }
}

impl From<BadParameter> for EdgeError {
    fn from(e: BadParameter) -> Self {
        EdgeError::Core(e.into())
    }
}

impl From<Problem> for EdgeError {
    fn from(p: Problem) -> Self {
        EdgeError::Problem(p)
    }
}

impl From<worker::Error> for EdgeError {
    fn from(e: worker::Error) -> Self {
        EdgeError::Worker(e)
    }
}

impl From<serde_json::Error> for EdgeError {
    fn from(e: serde_json::Error) -> Self {
        EdgeError::Worker(e.into())
    }
}

/// The value of a store operation whose failure is tolerated on purpose: `None` then, and the
/// failure logged with `what` (what goes without it: a cache, a hint, a record shown to
/// operators). The one way the edge drops an error.
pub fn tolerated<T, E: std::fmt::Debug>(
    result: std::result::Result<T, E>,
    what: &str,
) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(e) => {
            worker::console_error!("{what} unavailable, going without: {e:?}");
            None
        }
    }
}
