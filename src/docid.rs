//! Document ids: 1–128 characters of `[A-Za-z0-9_-]`, checked before any object is touched.

use crate::error::{Error, Result};
use crate::limits::MAX_DOC_ID_LEN;

/// Returns `id` if it is a valid document id.
///
/// # Errors
/// [`Error::InvalidDocId`] otherwise.
pub fn validate(id: &str) -> Result<&str> {
    let ok = !id.is_empty()
        && id.len() <= MAX_DOC_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(id)
    } else {
        Err(Error::InvalidDocId)
    }
}

/// A new random document id: 20 lower-case hex characters (80 bits from the platform's CSPRNG).
///
/// # Errors
/// [`Error::Internal`] if no randomness is available.
pub fn generate() -> Result<String> {
    let mut bytes = [0u8; 10];
    getrandom::fill(&mut bytes).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_allowed_alphabet_and_lengths() {
        assert!(validate("a").is_ok());
        assert!(validate("My-doc_01").is_ok());
        assert!(validate(&"x".repeat(128)).is_ok());
    }

    #[test]
    fn generated_ids_are_valid_and_distinct() {
        let (a, b) = (generate().unwrap(), generate().unwrap());
        assert_eq!(validate(&a), Ok(a.as_str()));
        assert_eq!(a.len(), 20);
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
            assert_eq!(validate(bad), Err(Error::InvalidDocId), "{bad:?}");
        }
    }
}
