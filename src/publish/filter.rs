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

/// Where a page starts: after this entry, in the order of the query's sort.
#[derive(Debug, Clone, PartialEq)]
pub enum After {
    /// Newest first: after (first publication, doc id).
    Newest(i64, String),
    /// By a field: after (its value, or none, and the doc id).
    Field(Option<Operand>, String),
}

impl After {
    /// The opaque cursor that continues after this entry: base64url of a small JSON array.
    pub fn cursor(&self) -> String {
        use base64::Engine;
        let value = match self {
            After::Newest(at, doc) => serde_json::json!(["n", at, doc]),
            After::Field(value, doc) => {
                let value = match value {
                    Some(Operand::Num(n)) => serde_json::json!(n),
                    Some(Operand::Str(s)) => serde_json::json!(s),
                    None => serde_json::Value::Null,
                };
                serde_json::json!(["f", value, doc])
            }
        };
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
    }

    /// Reads a cursor given for `sort`.
    ///
    /// # Errors
    /// [`BadParameter`] `cursor`: not one this API gave for this sort.
    pub fn parse(cursor: &str, sort: &Sort) -> Result<After, BadParameter> {
        use base64::Engine;
        let refused = || bad("cursor", "cursor is not one this API gave for this sort");
        if cursor.len() > 1024 {
            return Err(refused());
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| refused())?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| refused())?;
        let doc = value
            .get(2)
            .and_then(serde_json::Value::as_str)
            .filter(|d| DocId::parse(d).is_ok())
            .ok_or_else(refused)?
            .to_string();
        let operand = value.get(1).ok_or_else(refused)?;
        match (value.get(0).and_then(serde_json::Value::as_str), sort) {
            (Some("n"), Sort::Newest) => {
                Ok(After::Newest(operand.as_i64().ok_or_else(refused)?, doc))
            }
            (Some("f"), Sort::Field { numeric, .. }) => {
                let value = match (operand, numeric) {
                    (serde_json::Value::Null, _) => None,
                    (v, true) => Some(Operand::Num(v.as_f64().ok_or_else(refused)?)),
                    (v, false) => Some(Operand::Str(v.as_str().ok_or_else(refused)?.to_string())),
                };
                Ok(After::Field(value, doc))
            }
            _ => Err(refused()),
        }
    }
}

/// A statement and its values, in order (`?1`, `?2`, ...).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Statement {
    pub sql: String,
    pub binds: Vec<Operand>,
}

impl Statement {
    /// Adds a value; returns its placeholder.
    fn bind(&mut self, value: Operand) -> String {
        self.binds.push(value);
        format!("?{}", self.binds.len())
    }
}

/// The query for one page of `collection`'s published entries: one more row than `q.limit`
/// (whether there is a next page). Each filter is a lookup in an `entry_values` index; a sort
/// by a field joins its value, entries without one last.
pub fn list_statement(collection: &str, q: &ContentQuery, after: Option<&After>) -> Statement {
    let mut st = Statement::default();
    let c = st.bind(Operand::Str(collection.to_string()));
    let (join, sort_column, order) = match &q.sort {
        Sort::Newest => (
            String::new(),
            None,
            "e.first_published_at DESC, e.doc_id DESC".to_string(),
        ),
        Sort::Field {
            name,
            descending,
            numeric,
        } => {
            let field = st.bind(Operand::Str(name.clone()));
            let column = if *numeric { "s.num" } else { "s.txt" };
            let dir = if *descending { "DESC" } else { "ASC" };
            (
                format!(
                    " LEFT JOIN entry_values s ON s.collection = {c} AND s.field = {field} \
                     AND s.doc_id = e.doc_id"
                ),
                Some(column),
                format!("({column} IS NULL), {column} {dir}, e.doc_id {dir}"),
            )
        }
    };
    let mut wheres = vec![
        format!("e.collection = {c}"),
        "e.status = 'published'".to_string(),
    ];
    for f in &q.filters {
        let field = st.bind(Operand::Str(f.field.clone()));
        let column = match f.value {
            Operand::Num(_) => "num",
            Operand::Str(_) => "txt",
        };
        let value = st.bind(f.value.clone());
        wheres.push(format!(
            "e.doc_id IN (SELECT doc_id FROM entry_values WHERE collection = {c} \
             AND field = {field} AND {column} {} {value})",
            f.op.sql()
        ));
    }
    let descending = matches!(
        q.sort,
        Sort::Newest
            | Sort::Field {
                descending: true,
                ..
            }
    );
    let (past, beyond) = if descending { ("<", "<") } else { (">", ">") };
    match (after, sort_column) {
        (Some(After::Newest(at, doc)), _) => {
            let at = st.bind(Operand::Num(*at as f64));
            let doc = st.bind(Operand::Str(doc.clone()));
            wheres.push(format!(
                "(e.first_published_at {past} {at} OR (e.first_published_at = {at} \
                 AND e.doc_id {beyond} {doc}))"
            ));
        }
        (Some(After::Field(Some(value), doc)), Some(col)) => {
            let value = st.bind(value.clone());
            let doc = st.bind(Operand::Str(doc.clone()));
            wheres.push(format!(
                "({col} {past} {value} OR ({col} = {value} AND e.doc_id {beyond} {doc}) \
                 OR {col} IS NULL)"
            ));
        }
        (Some(After::Field(None, doc)), Some(col)) => {
            let doc = st.bind(Operand::Str(doc.clone()));
            wheres.push(format!("({col} IS NULL AND e.doc_id {beyond} {doc})"));
        }
        _ => {}
    }
    let limit = st.bind(Operand::Num(f64::from(q.limit) + 1.0));
    let sort_value = sort_column.map_or(String::new(), |col| format!(", {col} AS sort_value"));
    st.sql = format!(
        "SELECT e.doc_id, e.slug, e.version, e.title, e.summary, e.published_at, \
         e.first_published_at{sort_value} FROM entries e{join} WHERE {} ORDER BY {order} \
         LIMIT {limit}",
        wheres.join(" AND ")
    );
    st
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

#[cfg(test)]
mod statement_tests {
    use super::*;
    use crate::testing::articles;

    #[test]
    fn newest_first_with_filters_and_a_cursor() {
        let q = content_query(&articles(), [("category", "news"), ("rating[gte]", "4")]).unwrap();
        let after = After::Newest(1_000, "doc-9".into());
        let st = list_statement("articles", &q, Some(&after));
        assert_eq!(
            st.sql,
            "SELECT e.doc_id, e.slug, e.version, e.title, e.summary, e.published_at, \
             e.first_published_at FROM entries e WHERE e.collection = ?1 AND e.status = \
             'published' AND e.doc_id IN (SELECT doc_id FROM entry_values WHERE collection = ?1 \
             AND field = ?2 AND txt = ?3) AND e.doc_id IN (SELECT doc_id FROM entry_values WHERE \
             collection = ?1 AND field = ?4 AND num >= ?5) AND (e.first_published_at < ?6 OR \
             (e.first_published_at = ?6 AND e.doc_id < ?7)) ORDER BY e.first_published_at DESC, \
             e.doc_id DESC LIMIT ?8"
        );
        assert_eq!(
            st.binds,
            vec![
                Operand::Str("articles".into()),
                Operand::Str("category".into()),
                Operand::Str("news".into()),
                Operand::Str("rating".into()),
                Operand::Num(4.0),
                Operand::Num(1000.0),
                Operand::Str("doc-9".into()),
                Operand::Num(21.0),
            ]
        );
    }

    #[test]
    fn sorted_by_a_field_empty_values_last() {
        let q = content_query(&articles(), [("sort", "rating"), ("limit", "2")]).unwrap();
        let st = list_statement("articles", &q, None);
        assert!(st.sql.contains(
            "LEFT JOIN entry_values s ON s.collection = ?1 AND s.field = ?2 AND s.doc_id = e.doc_id"
        ));
        assert!(st
            .sql
            .ends_with("ORDER BY (s.num IS NULL), s.num ASC, e.doc_id ASC LIMIT ?3"));
        assert_eq!(st.binds[2], Operand::Num(3.0));
        let after = After::Field(Some(Operand::Num(2.0)), "d".into());
        let st = list_statement("articles", &q, Some(&after));
        assert!(st
            .sql
            .contains("(s.num > ?3 OR (s.num = ?3 AND e.doc_id > ?4) OR s.num IS NULL)"));
        let q = content_query(&articles(), [("sort", "-category")]).unwrap();
        let st = list_statement("articles", &q, Some(&After::Field(None, "d".into())));
        assert!(st.sql.contains("(s.txt IS NULL AND e.doc_id < ?3)"));
        assert!(st
            .sql
            .contains("ORDER BY (s.txt IS NULL), s.txt DESC, e.doc_id DESC"));
    }

    #[test]
    fn cursors_round_trip_for_their_sort_only() {
        let newest = Sort::Newest;
        let by_rating = content_query(&articles(), [("sort", "-rating")])
            .unwrap()
            .sort;
        let by_category = content_query(&articles(), [("sort", "category")])
            .unwrap()
            .sort;
        for (after, sort) in [
            (After::Newest(42, "doc-1".into()), &newest),
            (
                After::Field(Some(Operand::Num(4.5)), "doc-1".into()),
                &by_rating,
            ),
            (After::Field(None, "doc-1".into()), &by_rating),
            (
                After::Field(Some(Operand::Str("news".into())), "d".into()),
                &by_category,
            ),
        ] {
            assert_eq!(After::parse(&after.cursor(), sort), Ok(after.clone()));
        }
        let newest_cursor = After::Newest(42, "doc-1".into()).cursor();
        for (cursor, sort) in [
            (newest_cursor.as_str(), &by_rating),
            ("not base64!", &newest),
            ("bm9wZQ", &newest),
            (&After::Newest(1, "a/b".into()).cursor(), &newest),
            (
                &After::Field(Some(Operand::Str("x".into())), "d".into()).cursor(),
                &by_rating,
            ),
        ] {
            assert_eq!(
                After::parse(cursor, sort).unwrap_err().parameter,
                "cursor",
                "{cursor}"
            );
        }
    }
}
