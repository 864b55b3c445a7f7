//! Document ids: 1–128 characters of `[A-Za-z0-9_-]`, parsed once where a request names one
//! (the route) and carried as a [`DocId`] from then on, before any object is touched.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::limits::MAX_DOC_ID_LEN;

/// A valid document id. Only [`DocId::parse`] and [`DocId::generate`] make one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DocId(String);

/// The error of a string that is not a document id (the core maps it to
/// [`crate::error::Error::InvalidDocId`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidDocId;

impl fmt::Display for InvalidDocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("document id must be 1-128 characters of A-Z, a-z, 0-9, '_' or '-'")
    }
}

impl DocId {
    /// `id` if it is a valid document id.
    ///
    /// # Errors
    /// [`InvalidDocId`] otherwise.
    pub fn parse(id: &str) -> Result<DocId, InvalidDocId> {
        let ok = !id.is_empty()
            && id.len() <= MAX_DOC_ID_LEN
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(DocId(id.to_string()))
        } else {
            Err(InvalidDocId)
        }
    }

    /// A new random document id: 20 lower-case hex characters (80 bits from the platform's
    /// CSPRNG).
    ///
    /// # Errors
    /// The platform's error if no randomness is available.
    pub fn generate() -> Result<DocId, String> {
        let mut bytes = [0u8; 10];
        getrandom::fill(&mut bytes).map_err(|e| format!("no randomness: {e}"))?;
        Ok(DocId(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for DocId {
    type Error = InvalidDocId;
    fn try_from(s: String) -> Result<DocId, InvalidDocId> {
        DocId::parse(&s)
    }
}

impl From<DocId> for String {
    fn from(id: DocId) -> String {
        id.0
    }
}

impl AsRef<str> for DocId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validate(id: &str) -> Result<String, InvalidDocId> {
        DocId::parse(id).map(String::from)
    }

    #[test]
    fn accepts_the_allowed_alphabet_and_lengths() {
        assert!(validate("a").is_ok());
        assert!(validate("My-doc_01").is_ok());
        assert!(validate(&"x".repeat(128)).is_ok());
    }

    #[test]
    fn generated_ids_are_valid_and_distinct() {
        let (a, b) = (DocId::generate().unwrap(), DocId::generate().unwrap());
        assert_eq!(validate(a.as_str()), Ok(a.to_string()));
        assert_eq!(a.as_str().len(), 20);
        assert_ne!(a, b);
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "",
            "a b",
            "a/b",
            "a.b",
            "é",
            "%2e%2e",
            "..",
            &"x".repeat(129),
        ] {
            assert_eq!(validate(bad), Err(InvalidDocId), "{bad:?}");
        }
        let json: Result<DocId, _> = serde_json::from_str("\"../x\"");
        assert!(json.is_err(), "deserializing checks too");
    }
}
