//! The reader API's query on a collection (`GET /api/content/{collection}?…`), parsed against
//! the collection's definition and named when bad.
//!
//! # Rules
//! - `field=value` is equality; `field[op]=value` with `op` one of `eq`, `gt`, `gte`, `lt`,
//!   `lte` compares. Equality works on `select`, `boolean`, `number`, `date`, `datetime`,
//!   `tags` (the entry has the tag) and `reference` (the id); ranges on `number`, `date` and
//!   `datetime` only. Text, rich text and images are not filterable (they are not indexed).
//! - `sort=field` / `sort=-field` on a `number`, `date`, `datetime`, `select` or `boolean`
//!   field; entries without a value come last. Without `sort`: newest first.
//! - Every value is parsed to the field's type here (a date is its midnight UTC, a boolean 0 or
//!   1), so that what reaches the index is one of two operands: a number or a string.
//! - Filters are capped at [`MAX_FILTERS`]: each is one indexed lookup.
//! - Anything else is refused with 400 naming the parameter: an unknown field or operator, a
//!   value of the wrong type, an option the field does not have, a repeated `sort`.

use std::borrow::Cow;

use crate::content::fields::parse_date;
use crate::content::schema::{Collection, Kind};
use crate::content::MAX_TAG_LEN;
use crate::doc_id::DocId;
use crate::error::BadParameter;
use crate::publish::query::{DEFAULT_PAGE, MAX_PAGE};
use crate::time::parse_rfc3339;

/// Most filters in one query.
pub const MAX_FILTERS: usize = 8;

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl Op {
    /// The SQL operator.
    pub fn sql(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Gt => ">",
            Op::Gte => ">=",
            Op::Lt => "<",
            Op::Lte => "<=",
        }
    }
}

/// A value as the index holds it: numbers (and dates, instants, booleans) or strings.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Num(f64),
    Str(String),
}

/// One filter: `field op value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub field: String,
    pub op: Op,
    pub value: Operand,
}

/// The order of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sort {
    /// First publication, newest first.
    Newest,
    /// By a field's indexed value; entries without one last.
    Field {
        name: String,
        descending: bool,
        /// The value is a number (else a string: `select`).
        numeric: bool,
    },
}

/// A parsed collection query.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentQuery {
    pub filters: Vec<Filter>,
    pub sort: Sort,
    pub limit: u32,
    /// The opaque cursor of the previous page, checked by the caller against the sort.
    pub cursor: Option<String>,
}

fn bad(parameter: &str, message: impl Into<String>) -> BadParameter {
    BadParameter {
        parameter: Cow::Owned(parameter.to_string()),
        message: message.into(),
    }
}

/// Parses the query pairs of `GET /api/content/{collection}` against `collection`.
///
/// # Errors
/// [`BadParameter`] naming the parameter as it was written (`rating[gte]`, `sort`, ...).
pub fn content_query<'a>(
    collection: &Collection,
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<ContentQuery, BadParameter> {
    let mut q = ContentQuery {
        filters: Vec::new(),
        sort: Sort::Newest,
        limit: DEFAULT_PAGE,
        cursor: None,
    };
    let mut sorted = false;
    for (key, value) in pairs {
        match key {
            "limit" => {
                q.limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_PAGE).contains(n))
                    .ok_or_else(|| {
                        bad(
                            key,
                            format!("limit must be a whole number from 1 to {MAX_PAGE}"),
                        )
                    })?;
            }
            "cursor" => q.cursor = Some(value.to_string()),
            "sort" if sorted => return Err(bad(key, "sort is given once")),
            "sort" => {
                sorted = true;
                q.sort = sort(collection, value)?;
            }
            _ => {
                if q.filters.len() == MAX_FILTERS {
                    return Err(bad(key, format!("at most {MAX_FILTERS} filters")));
                }
                q.filters.push(filter(collection, key, value)?);
            }
        }
    }
    Ok(q)
}

fn sort(collection: &Collection, value: &str) -> Result<Sort, BadParameter> {
    let (name, descending) = match value.strip_prefix('-') {
        Some(name) => (name, true),
        None => (value, false),
    };
    let field = collection.field(name).ok_or_else(|| {
        bad(
            "sort",
            format!("`{name}` is not a field of {}", collection.name),
        )
    })?;
    let numeric = match field.kind {
        Kind::Number { .. } | Kind::Date | Kind::DateTime | Kind::Boolean => true,
        Kind::Select { .. } => false,
        _ => {
            return Err(bad(
                "sort",
                format!("cannot sort by a {} field", field.kind.name()),
            ))
        }
    };
    Ok(Sort::Field {
        name: name.to_string(),
        descending,
        numeric,
    })
}

fn filter(collection: &Collection, key: &str, value: &str) -> Result<Filter, BadParameter> {
    let (name, op) = match key.split_once('[') {
        None => (key, Op::Eq),
        Some((name, rest)) => {
            let op = match rest {
                "eq]" => Op::Eq,
                "gt]" => Op::Gt,
                "gte]" => Op::Gte,
                "lt]" => Op::Lt,
                "lte]" => Op::Lte,
                _ => return Err(bad(key, "the operator is one of eq, gt, gte, lt, lte")),
            };
            (name, op)
        }
    };
    let field = collection.field(name).ok_or_else(|| {
        bad(
            key,
            format!(
                "`{name}` is not a field of {} (nor limit, sort, cursor)",
                collection.name
            ),
        )
    })?;
    let ranged = matches!(
        field.kind,
        Kind::Number { .. } | Kind::Date | Kind::DateTime
    );
    if op != Op::Eq && !ranged {
        return Err(bad(
            key,
            format!("a {} field is filtered by equality only", field.kind.name()),
        ));
    }
    let wrong = |what: &str| bad(key, format!("{name} is {what}"));
    let value = match &field.kind {
        Kind::Number { .. } => Operand::Num(
            value
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| wrong("a number"))?,
        ),
        Kind::Boolean => match value {
            "true" => Operand::Num(1.0),
            "false" => Operand::Num(0.0),
            _ => return Err(wrong("true or false")),
        },
        Kind::Date => {
            Operand::Num(parse_date(value).ok_or_else(|| wrong("a date (YYYY-MM-DD)"))? as f64)
        }
        Kind::DateTime => Operand::Num(
            parse_rfc3339(value).ok_or_else(|| wrong("a date and time (RFC 3339)"))? as f64,
        ),
        Kind::Select { options } => {
            if !options.iter().any(|o| o == value) {
                return Err(bad(
                    key,
                    format!(
                        "`{value}` is not an option of {name} ({})",
                        options.join(", ")
                    ),
                ));
            }
            Operand::Str(value.to_string())
        }
        Kind::Tags => {
            let tag = value.trim();
            if tag.is_empty() || tag.chars().count() > MAX_TAG_LEN {
                return Err(wrong(&format!("a tag of 1 to {MAX_TAG_LEN} characters")));
            }
            Operand::Str(tag.to_string())
        }
        Kind::Reference { .. } => Operand::Str(
            DocId::parse(value)
                .map_err(|_| wrong("a document id"))?
                .as_str()
                .to_string(),
        ),
        Kind::Text { .. } | Kind::RichText | Kind::Image => {
            return Err(bad(
                key,
                format!("a {} field is not filterable", field.kind.name()),
            ))
        }
    };
    Ok(Filter {
        field: name.to_string(),
        op,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::articles;

    #[test]
    fn filters_are_typed_by_their_field() {
        let q = content_query(
            &articles(),
            [
                ("category", "news"),
                ("rating[gte]", "4"),
                ("rating[lt]", "4.5"),
                ("featured", "true"),
                ("day[lte]", "2026-01-31"),
                ("at[gt]", "2026-01-01T00:00:00Z"),
                ("tags", " rust "),
                ("author", "person-1"),
            ],
        )
        .unwrap();
        let got: Vec<(&str, Op, Operand)> = q
            .filters
            .iter()
            .map(|f| (f.field.as_str(), f.op, f.value.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("category", Op::Eq, Operand::Str("news".into())),
                ("rating", Op::Gte, Operand::Num(4.0)),
                ("rating", Op::Lt, Operand::Num(4.5)),
                ("featured", Op::Eq, Operand::Num(1.0)),
                ("day", Op::Lte, Operand::Num(1_769_817_600_000.0)),
                ("at", Op::Gt, Operand::Num(1_767_225_600_000.0)),
                ("tags", Op::Eq, Operand::Str("rust".into())),
                ("author", Op::Eq, Operand::Str("person-1".into())),
            ]
        );
        assert_eq!(
            (q.sort, q.limit, q.cursor),
            (Sort::Newest, DEFAULT_PAGE, None)
        );
    }

    #[test]
    fn sort_limit_and_cursor() {
        let q = content_query(
            &articles(),
            [("sort", "-rating"), ("limit", "5"), ("cursor", "c")],
        )
        .unwrap();
        assert_eq!(
            q.sort,
            Sort::Field {
                name: "rating".into(),
                descending: true,
                numeric: true
            }
        );
        assert_eq!((q.limit, q.cursor.as_deref()), (5, Some("c")));
        let q = content_query(&articles(), [("sort", "category")]).unwrap();
        assert_eq!(
            q.sort,
            Sort::Field {
                name: "category".into(),
                descending: false,
                numeric: false
            }
        );
    }

    #[test]
    fn bad_parameters_are_named() {
        let cases = [
            ("nope", "1", "not a field"),
            ("rating[ne]", "1", "operator"),
            ("rating[gte", "1", "operator"),
            ("rating", "four", "a number"),
            ("rating", "NaN", "a number"),
            ("rating", "inf", "a number"),
            ("featured", "yes", "true or false"),
            ("featured[gt]", "true", "equality only"),
            ("category[gte]", "news", "equality only"),
            ("day", "2026-02-30", "a date"),
            ("at", "yesterday", "RFC 3339"),
            ("category", "sport", "not an option"),
            ("tags", " ", "a tag"),
            ("author", "a/b", "a document id"),
            ("headline", "x", "not filterable"),
            ("body", "x", "not filterable"),
            ("cover", "x", "not filterable"),
            ("limit", "0", "limit"),
            ("limit", "101", "limit"),
            ("sort", "nope", "not a field"),
            ("sort", "-tags", "cannot sort"),
            ("sort", "headline", "cannot sort"),
        ];
        for (key, value, message) in cases {
            let err = content_query(&articles(), [(key, value)]).unwrap_err();
            assert_eq!(err.parameter, key, "{key}={value}");
            assert!(
                err.message.contains(message),
                "{key}={value}: {}",
                err.message
            );
        }
        let err = content_query(&articles(), [("sort", "rating"), ("sort", "day")]).unwrap_err();
        assert_eq!(err.parameter, "sort");
        let many: Vec<(&str, &str)> = vec![("rating[gte]", "1"); MAX_FILTERS + 1];
        let err = content_query(&articles(), many).unwrap_err();
        assert!(err.message.contains("at most"), "{}", err.message);
    }
}
