//! The reader API's query parameters (`GET /api/posts?tag=&limit=&cursor=`), parsed and
//! named when bad.

use crate::error::BadParameter;

/// Posts per page of `GET /api/posts`: default and maximum.
pub const DEFAULT_PAGE: u32 = 20;
pub const MAX_PAGE: u32 = 100;

/// Parsed `GET /api/posts` parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub tag: Option<String>,
    pub limit: u32,
    /// Continue after this (first_published_at, doc_id).
    pub after: Option<(i64, String)>,
}

/// Parses the query pairs of `GET /api/posts`.
///
/// # Errors
/// [`BadParameter`] naming `tag`, `limit` or `cursor`.
pub fn list_query<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<ListQuery, BadParameter> {
    let mut q = ListQuery {
        tag: None,
        limit: DEFAULT_PAGE,
        after: None,
    };
    for (key, value) in pairs {
        match key {
            "tag" => {
                let tag = value.trim();
                if tag.is_empty() || tag.chars().count() > crate::content::MAX_TAG_LEN {
                    return Err(BadParameter {
                        parameter: "tag".into(),
                        message: "tag must be 1-64 characters".into(),
                    });
                }
                q.tag = Some(tag.to_string());
            }
            "limit" => {
                q.limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_PAGE).contains(n))
                    .ok_or(BadParameter {
                        parameter: "limit".into(),
                        message: format!("limit must be a whole number from 1 to {MAX_PAGE}"),
                    })?;
            }
            "cursor" => q.after = Some(parse_cursor(value)?),
            _ => {}
        }
    }
    Ok(q)
}

/// The cursor continuing after a post: `{first_published_at}.{doc_id}`.
pub fn cursor(first_published_at: i64, doc_id: &str) -> String {
    format!("{first_published_at}.{doc_id}")
}

fn parse_cursor(value: &str) -> Result<(i64, String), BadParameter> {
    let bad = || BadParameter {
        parameter: "cursor".into(),
        message: "cursor is not one this API gave".into(),
    };
    let (time, doc) = value.split_once('.').ok_or_else(bad)?;
    let time: i64 = time.parse().map_err(|_| bad())?;
    crate::doc_id::DocId::parse(doc).map_err(|_| bad())?;
    Ok((time, doc.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_parameters_are_checked_and_named() {
        let q = list_query([("tag", "rust"), ("limit", "5")]).unwrap();
        assert_eq!(
            (q.tag.as_deref(), q.limit, q.after),
            (Some("rust"), 5, None)
        );
        assert_eq!(list_query([]).unwrap().limit, DEFAULT_PAGE);
        for (k, v) in [
            ("limit", "0"),
            ("limit", "101"),
            ("limit", "x"),
            ("cursor", "nope"),
            ("cursor", "1.a/b"),
            ("tag", ""),
        ] {
            let err = list_query([(k, v)]).unwrap_err();
            assert_eq!(err.parameter, k, "{k}={v}");
        }
        let c = cursor(42, "doc-1");
        assert_eq!(
            list_query([("cursor", c.as_str())]).unwrap().after,
            Some((42, "doc-1".into()))
        );
    }
}
