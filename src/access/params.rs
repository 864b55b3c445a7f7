//! The values a route's path carries, each a type that can only hold a valid one: parsed once
//! by the router ([`Param::parse`]), described once for the OpenAPI document
//! ([`Param::schema`]) from the same rule, and handed to the handlers already checked.

use std::fmt;

use serde_json::{json, Value};

use crate::doc_id::DocId;
use crate::error::Error;

use super::routes::RouteError;

/// A value of a route's path: `{name}` in the route table's template.
pub trait Param<'a>: Sized {
    /// Checks `value` (still percent-encoded, as the request carries it), the path's `{name}`.
    ///
    /// # Errors
    /// [`RouteError::Invalid`], naming the parameter.
    fn parse(value: &'a str, name: &'static str) -> Result<Self, RouteError>;
    /// Its JSON Schema, from the same rule as [`Param::parse`].
    fn schema() -> Value;
    /// The document a route is about, if this is it.
    fn doc(&self) -> Option<&DocId> {
        None
    }
}

fn bad(parameter: &'static str, message: impl Into<String>) -> RouteError {
    RouteError::Invalid(Error::BadParameter {
        parameter: parameter.into(),
        message: message.into(),
    })
}

impl<'a> Param<'a> for DocId {
    fn parse(value: &'a str, _: &'static str) -> Result<Self, RouteError> {
        DocId::parse(value).map_err(|_| RouteError::Invalid(Error::InvalidDocId))
    }
    fn schema() -> Value {
        json!({ "$ref": "#/components/schemas/DocId" })
    }
    fn doc(&self) -> Option<&DocId> {
        Some(self)
    }
}

/// A string parameter checked by a rule, with the pattern that states the rule.
macro_rules! checked_str {
    ($(#[$meta:meta])* $name:ident, $check:expr, $schema:expr, $message:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name<'a>(&'a str);

        impl<'a> $name<'a> {
            /// The checked value.
            pub fn as_str(&self) -> &'a str {
                self.0
            }
        }

        impl std::ops::Deref for $name<'_> {
            type Target = str;
            fn deref(&self) -> &str {
                self.0
            }
        }

        impl fmt::Display for $name<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.0)
            }
        }

        impl<'a> Param<'a> for $name<'a> {
            fn parse(value: &'a str, name: &'static str) -> Result<Self, RouteError> {
                let check: fn(&str) -> bool = $check;
                if check(value) {
                    Ok($name(value))
                } else {
                    Err(bad(name, $message))
                }
            }
            fn schema() -> Value {
                $schema
            }
        }
    };
}

checked_str!(
    /// A published slug: 1-96 characters of `a-z`, `0-9` and single `-` ([`crate::publish::is_slug`]).
    Slug,
    |s| crate::publish::is_slug(s) && s.len() <= crate::publish::MAX_SLUG_LEN,
    json!({ "type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "minLength": 1,
            "maxLength": crate::publish::MAX_SLUG_LEN }),
    "slug must be 1-96 characters of a-z, 0-9 and single '-'"
);

checked_str!(
    /// A collection's name ([`crate::content::schema::is_name`]).
    CollectionName,
    crate::content::schema::is_name,
    json!({ "type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$" }),
    "a collection name matches [a-z][a-z0-9_]{0,63}"
);

checked_str!(
    /// A media file's id: the first 32 hex digits of its SHA-256 ([`crate::media::is_id`]).
    MediaId,
    crate::media::is_id,
    json!({ "type": "string", "pattern": "^[0-9a-f]{32}$" }),
    "a media id is 32 lowercase hex digits"
);

/// Whether `id` is `prefix` and 24 lowercase hex digits, as Folio makes webhook and delivery
/// ids.
fn prefixed_hex(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|hex| {
        hex.len() == 24 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

checked_str!(
    /// A webhook's id: `wh_` and 24 lowercase hex digits.
    WebhookId,
    |s| prefixed_hex(s, "wh_"),
    json!({ "type": "string", "pattern": "^wh_[0-9a-f]{24}$" }),
    "a webhook id is wh_ and 24 lowercase hex digits"
);

checked_str!(
    /// A delivery's id (its Standard Webhooks message id): `msg_` and 24 lowercase hex digits.
    DeliveryId,
    |s| prefixed_hex(s, "msg_"),
    json!({ "type": "string", "pattern": "^msg_[0-9a-f]{24}$" }),
    "a delivery id is msg_ and 24 lowercase hex digits"
);

/// The largest number a path carries: JavaScript-safe, as every id and version is.
const MAX_NUMBER: u64 = (1 << 53) - 1;

/// A positive whole number of a path, at most 2^53 - 1: a version or a schedule entry.
fn number(value: &str) -> Option<u64> {
    // Digits only: `u64::from_str` also takes a leading `+`.
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok().filter(|n| (1..=MAX_NUMBER).contains(n))
}

fn number_schema() -> Value {
    json!({ "type": "integer", "minimum": 1, "maximum": MAX_NUMBER })
}

/// A published version's number (1, 2, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version(pub u64);

impl<'a> Param<'a> for Version {
    fn parse(value: &'a str, name: &'static str) -> Result<Self, RouteError> {
        number(value)
            .map(Version)
            .ok_or_else(|| bad(name, "version must be a positive whole number"))
    }
    fn schema() -> Value {
        number_schema()
    }
}

/// A scheduled entry's id, as the schedule lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryId(pub u64);

impl<'a> Param<'a> for EntryId {
    fn parse(value: &'a str, name: &'static str) -> Result<Self, RouteError> {
        number(value)
            .map(EntryId)
            .ok_or_else(|| bad(name, "entry must be an id from the schedule"))
    }
    fn schema() -> Value {
        number_schema()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_parameter_takes_what_its_schema_states_and_nothing_else() {
        assert!(Slug::parse("a-b-1", "slug").is_ok());
        for bad in ["", "-a", "a-", "a--b", "A", "a_b", &"a".repeat(97)] {
            assert!(Slug::parse(bad, "slug").is_err(), "{bad:?}");
        }
        assert!(CollectionName::parse("a_1", "name").is_ok());
        assert!(CollectionName::parse("1a", "name").is_err());
        assert!(MediaId::parse(&"0a".repeat(16), "id").is_ok());
        assert!(MediaId::parse(&"0A".repeat(16), "id").is_err());
        assert!(WebhookId::parse("wh_0123456789abcdef01234567", "id").is_ok());
        assert!(WebhookId::parse("msg_0123456789abcdef01234567", "id").is_err());
        assert!(DeliveryId::parse("msg_0123456789abcdef01234567", "d").is_ok());
        assert_eq!(Version::parse("7", "version"), Ok(Version(7)));
        for bad in ["0", "+1", "-1", "x", "", "9007199254740992"] {
            assert!(Version::parse(bad, "version").is_err(), "{bad:?}");
            assert!(EntryId::parse(bad, "entry").is_err(), "{bad:?}");
        }
        assert_eq!(
            Version::parse("9007199254740991", "version"),
            Ok(Version(MAX_NUMBER))
        );
    }

    #[test]
    fn a_refusal_names_the_parameter() {
        let Err(RouteError::Invalid(Error::BadParameter { parameter, .. })) =
            Slug::parse("A", "slug")
        else {
            panic!("not a bad parameter")
        };
        assert_eq!(parameter, "slug");
    }
}
