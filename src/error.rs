//! The core's error type, and the one place that maps an error to what a client sees: a
//! WebSocket close code + reason, or an HTTP status + stable JSON error code.
//!
//! Clients get a precise, stable code; logs get the detail (`Display`).

use std::borrow::Cow;
use std::fmt;

use crate::limits::MAX_CLOSE_REASON_BYTES;

/// Result alias of the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A storage operation failed. `written` is unknown to the caller: the store treats every
/// storage error as "the write may or may not have happened" and reloads from storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageError(pub String);

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "storage: {}", self.0)
    }
}

/// What a store (D1, KV, an object's SQLite) said when it failed, sorted once by its adapter
/// (`edge/storage`): every decision (retry or not, which status) matches on the kind, and no
/// code reads a store's message anywhere else. The text is kept for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// A uniqueness constraint refused the write: `column` is the constrained column (the last
    /// one of a composite key), e.g. `slug`.
    Unique { column: String, detail: String },
    /// The value is over the store's size limit.
    TooBig(String),
    /// Another constraint (a check, a foreign key, NOT NULL) refused the write.
    Constraint(String),
    /// The store failed or could not be reached: trying again may work.
    Unavailable(String),
    /// What the store returned is not what the code expects (a missing row it needs, a
    /// column of the wrong type): a bug or damage, not worth retrying at once.
    Unexpected(String),
}

impl StoreError {
    /// What the store said, for logs.
    pub fn detail(&self) -> &str {
        match self {
            StoreError::Unique { detail, .. }
            | StoreError::TooBig(detail)
            | StoreError::Constraint(detail)
            | StoreError::Unavailable(detail)
            | StoreError::Unexpected(detail) => detail,
        }
    }

    /// Sorts what a store said (D1 and the objects' SQLite report SQLite's result codes and
    /// messages; KV and R2 their own): the one place that reads a store's message. Each adapter
    /// calls it once, where the platform's error comes in.
    pub fn from_message(message: impl fmt::Display) -> Self {
        let detail = message.to_string();
        let lower = detail.to_ascii_lowercase();
        if let Some(rest) = lower.split("unique constraint failed:").nth(1) {
            // "UNIQUE constraint failed: posts.slug" (or "t.a, t.b"): the last column named.
            let columns = rest.split(':').next().unwrap_or_default();
            let last = columns.rsplit(',').next().unwrap_or_default().trim();
            let column = last.rsplit('.').next().unwrap_or(last).to_string();
            return StoreError::Unique { column, detail };
        }
        if lower.contains("toobig") || lower.contains("too big") || lower.contains("too large") {
            return StoreError::TooBig(detail);
        }
        if lower.contains("constraint") {
            return StoreError::Constraint(detail);
        }
        StoreError::Unavailable(detail)
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.detail())
    }
}

impl std::error::Error for StoreError {}

/// Everything that can go wrong in the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A frame larger than [`crate::limits::MAX_FRAME_BYTES`].
    FrameTooLarge { len: usize, max: usize },
    /// Applying the update would make the document larger than
    /// [`crate::limits::MAX_DOC_BYTES`].
    DocumentTooLarge { size: u64, max: u64 },
    /// A client's SyncStep2 (its offline work) grows the document past the cap: close 4413.
    /// Its client would send the same on every reconnect, so the refusal is final.
    DocumentFull { size: u64, max: u64 },
    /// A client's SyncStep2 (its offline work) was refused as malformed: close 4422, final.
    OfflineWorkRefused(String),
    /// A text frame: y-protocols is binary only.
    TextFrame,
    /// A frame or update that does not decode, or that yrs refuses to apply.
    Malformed(String),
    /// Persisted state failed its checks (checksum, missing chunk, undecodable update).
    Corrupt(String),
    /// The storage layer failed; the in-memory session must be dropped and reloaded.
    Storage(StorageError),
    /// An invariant of our own was broken (e.g. a transaction could not be acquired).
    Internal(String),
    /// A document id outside `[A-Za-z0-9_-]{1,128}`.
    InvalidDocId,
    /// The document has never been written.
    UnknownDocument,
    /// A connection exceeded its message or byte budget.
    RateLimited(&'static str),
    /// A read-only (viewer) connection sent an edit: close 4003, nothing applied.
    ReadOnly,
    /// An update writes under a Yjs client id that belongs to another user (the one who first
    /// wrote or announced it, see [`crate::sync::room`]): close 4409, nothing applied.
    ClientIdTaken { client: u64 },
    /// The connection's token expired: close 4001; reconnect with a fresh token.
    TokenExpired,
    /// The request is not authorized: see [`crate::access::token::AuthError`] for the status.
    Auth(crate::access::token::AuthError),
    /// A collection definition breaks a rule: 400 naming the field (or the collection's own
    /// property) and the rule.
    InvalidDefinition { field: String, message: String },
    /// A request parameter is invalid: 400 naming it.
    BadParameter {
        parameter: Cow<'static, str>,
        message: String,
    },
}

/// A bad request parameter, named: answered with 400 and the parameter's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadParameter {
    pub parameter: Cow<'static, str>,
    pub message: String,
}

impl From<BadParameter> for Error {
    fn from(bad: BadParameter) -> Self {
        Error::BadParameter {
            parameter: bad.parameter,
            message: bad.message,
        }
    }
}

impl From<crate::doc_id::InvalidDocId> for Error {
    fn from(_: crate::doc_id::InvalidDocId) -> Self {
        Error::InvalidDocId
    }
}

impl From<StorageError> for Error {
    fn from(e: StorageError) -> Self {
        Error::Storage(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::FrameTooLarge { len, max } => {
                write!(f, "frame of {len} bytes exceeds the limit of {max} bytes")
            }
            Error::DocumentTooLarge { size, max } => {
                write!(
                    f,
                    "document would grow to {size} bytes, over the limit of {max} bytes"
                )
            }
            Error::DocumentFull { size, max } => write!(
                f,
                "document full: your changes would grow it to {size} bytes, over {max}"
            ),
            Error::OfflineWorkRefused(why) => write!(f, "your changes were refused: {why}"),
            Error::TextFrame => {
                f.write_str("text frames are not supported; send binary y-protocols messages")
            }
            Error::Malformed(why) => write!(f, "malformed message: {why}"),
            Error::Corrupt(why) => write!(f, "stored document is corrupt: {why}"),
            Error::Storage(e) => write!(f, "{e}"),
            Error::Internal(why) => write!(f, "internal error: {why}"),
            Error::InvalidDocId => {
                f.write_str("document id must be 1-128 characters of A-Z, a-z, 0-9, '_' or '-'")
            }
            Error::UnknownDocument => f.write_str("document not found"),
            Error::RateLimited(what) => write!(f, "too many {what}; slow down and reconnect"),
            Error::BadParameter { message, .. } => f.write_str(message),
            Error::InvalidDefinition { field, message } if field.is_empty() => f.write_str(message),
            Error::InvalidDefinition { field, message } => write!(f, "{field}: {message}"),
            Error::ReadOnly => f.write_str("read-only: a viewer may not edit this document"),
            Error::ClientIdTaken { client } => write!(
                f,
                "client id {client} belongs to another user of this document; edit under your own"
            ),
            Error::TokenExpired => f.write_str("token expired; reconnect with a fresh token"),
            Error::Auth(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {}

/// WebSocket close codes Folio uses (RFC 6455 §7.4.1).
pub mod close {
    /// Normal closure.
    pub const NORMAL: u16 = 1000;
    /// The endpoint received a type of data it cannot accept (a text frame).
    pub const UNSUPPORTED_DATA: u16 = 1003;
    /// A message's payload is inconsistent with its type (undecodable frame or update).
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// A message is too big to process (frame or document cap).
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    /// The server hit an unexpected condition (storage failure); reconnecting is safe.
    pub const INTERNAL_ERROR: u16 = 1011;
    /// Folio's own code (4000-4999 are for applications): the connection sent more messages
    /// or bytes per second than its budget.
    pub const RATE_LIMITED: u16 = 4008;
    /// The connection's token expired: reconnect with a fresh one (the editor does).
    pub const TOKEN_EXPIRED: u16 = 4001;
    /// A read-only (viewer) connection sent an edit; nothing of it was applied.
    pub const READ_ONLY: u16 = 4003;
    /// Final refusals (4400-4499 mirror HTTP 4xx; y-websocket does not reconnect after them):
    /// the client's offline work would grow the document past its cap ...
    pub const DOCUMENT_FULL: u16 = 4413;
    /// ... or writes under a Yjs client id that belongs to another user ...
    pub const CLIENT_ID_TAKEN: u16 = 4409;
    /// ... or is malformed or refused by the CRDT.
    pub const CHANGES_REFUSED: u16 = 4422;
}

impl From<crate::access::token::AuthError> for Error {
    fn from(e: crate::access::token::AuthError) -> Self {
        Error::Auth(e)
    }
}

impl Error {
    /// The WebSocket close code for this error.
    pub fn close_code(&self) -> u16 {
        match self {
            Error::FrameTooLarge { .. } | Error::DocumentTooLarge { .. } => close::MESSAGE_TOO_BIG,
            Error::DocumentFull { .. } => close::DOCUMENT_FULL,
            Error::OfflineWorkRefused(_) => close::CHANGES_REFUSED,
            Error::ClientIdTaken { .. } => close::CLIENT_ID_TAKEN,
            Error::TextFrame => close::UNSUPPORTED_DATA,
            Error::RateLimited(_) => close::RATE_LIMITED,
            Error::Malformed(_) => close::INVALID_PAYLOAD,
            Error::TokenExpired => close::TOKEN_EXPIRED,
            Error::ReadOnly | Error::Auth(_) => close::READ_ONLY,
            Error::Corrupt(_)
            | Error::Storage(_)
            | Error::Internal(_)
            | Error::InvalidDocId
            | Error::UnknownDocument
            | Error::BadParameter { .. }
            | Error::InvalidDefinition { .. } => close::INTERNAL_ERROR,
        }
    }

    /// Whether a socket closed for this error would send the same again if it reconnected at
    /// once (stock y-websocket does): over budget, too large, malformed or refused, a text
    /// frame, a viewer's edit. Not an expired token (the client renews it) nor a server
    /// failure (reconnecting is the remedy).
    pub fn is_repeatable_refusal(&self) -> bool {
        matches!(
            self,
            Error::RateLimited(_)
                | Error::FrameTooLarge { .. }
                | Error::DocumentTooLarge { .. }
                | Error::DocumentFull { .. }
                | Error::Malformed(_)
                | Error::OfflineWorkRefused(_)
                | Error::TextFrame
                | Error::ReadOnly
                | Error::ClientIdTaken { .. }
        )
    }

    /// A close reason that fits the WebSocket limit (cut at a character boundary).
    pub fn close_reason(&self) -> String {
        let text = match self {
            // Storage details are for logs, not for clients.
            Error::Storage(_) | Error::Internal(_) | Error::Corrupt(_) => {
                "server storage failure; reconnect".to_string()
            }
            other => other.to_string(),
        };
        truncate_utf8(text, MAX_CLOSE_REASON_BYTES)
    }

    /// HTTP status and stable machine-readable code for this error.
    pub fn http_status(&self) -> (u16, &'static str) {
        match self {
            Error::InvalidDocId => (400, "invalid_document_id"),
            Error::UnknownDocument => (404, "document_not_found"),
            Error::BadParameter { .. } => (400, "invalid_parameter"),
            Error::InvalidDefinition { .. } => (400, "invalid_definition"),
            Error::FrameTooLarge { .. }
            | Error::DocumentTooLarge { .. }
            | Error::DocumentFull { .. } => (413, "too_large"),
            Error::OfflineWorkRefused(_) => (400, "malformed"),
            Error::TextFrame | Error::Malformed(_) => (400, "malformed"),
            Error::RateLimited(_) => (429, "rate_limited"),
            Error::ReadOnly => (403, "read_only"),
            Error::ClientIdTaken { .. } => (409, "client_id_taken"),
            Error::TokenExpired => (401, "token_expired"),
            Error::Auth(e) => e.http_status(),
            Error::Corrupt(_) | Error::Storage(_) | Error::Internal(_) => (500, "internal"),
        }
    }
}

/// Cuts `text` to at most `max` bytes without splitting a character.
pub fn truncate_utf8(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reason_fits_the_protocol_limit_at_a_char_boundary() {
        let long = "é".repeat(200);
        let cut = truncate_utf8(long, MAX_CLOSE_REASON_BYTES);
        assert!(cut.len() <= MAX_CLOSE_REASON_BYTES);
        assert_eq!(cut.len() % 2, 0, "cut inside a two-byte character");
        let e = Error::DocumentTooLarge {
            size: u64::MAX,
            max: 16 << 20,
        };
        assert!(e.close_reason().len() <= MAX_CLOSE_REASON_BYTES);
        assert_eq!(e.close_code(), 1009);
    }

    #[test]
    fn store_messages_are_sorted_once_into_kinds() {
        let unique = StoreError::from_message(
            "D1_ERROR: UNIQUE constraint failed: posts.slug: SQLITE_CONSTRAINT",
        );
        assert!(
            matches!(&unique, StoreError::Unique { column, .. } if column == "slug"),
            "{unique:?}"
        );
        let composite =
            StoreError::from_message("UNIQUE constraint failed: versions.doc_id, versions.version");
        assert!(
            matches!(&composite, StoreError::Unique { column, .. } if column == "version"),
            "{composite:?}"
        );
        assert!(matches!(
            StoreError::from_message("D1_ERROR: string or blob too big: SQLITE_TOOBIG"),
            StoreError::TooBig(_)
        ));
        assert!(matches!(
            StoreError::from_message("NOT NULL constraint failed: posts.title"),
            StoreError::Constraint(_)
        ));
        let down = StoreError::from_message("Network connection lost.");
        assert_eq!(
            down,
            StoreError::Unavailable("Network connection lost.".into())
        );
        assert_eq!(down.to_string(), "Network connection lost.");
    }

    #[test]
    fn storage_details_do_not_reach_clients() {
        let e = Error::Storage(StorageError("disk /var/secret full".into()));
        assert_eq!(e.close_code(), 1011);
        assert!(!e.close_reason().contains("secret"));
        assert_eq!(e.http_status().0, 500);
    }
}
