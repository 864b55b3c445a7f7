//! An entry's typed fields, read from the CRDT by its collection's definition
//! ([`super::schema`]), and validated.
//!
//! # Rules
//! - Any Yjs client can write anything anywhere, so reading never trusts the shape: a value of
//!   the wrong type is [`Read::Wrong`] with a message for the author, never a panic and never a
//!   silent coercion (a number written as the string `"4"` is wrong, not 4). Rich text goes
//!   through the same allowlist as a post's body ([`super::extract`]).
//! - Reading is separate from validating: a draft may be incomplete or wrong while it is being
//!   written ([`read`] answers it as it is); publishing requires [`validate`] to find nothing.
//! - Empty is not wrong: an absent key, `null`, an empty or blank text, empty rich text and an
//!   empty tag list are [`Read::Empty`], which only a `required` rule refuses.

use serde::Serialize;
use yrs::any::Number;
use yrs::{Any, Array, Doc, GetString, Map, MapRef, Out, ReadTxn, Transact};

use super::extract::rich_text;
use super::model::{safe_url, Node, MAX_TAGS, MAX_TAG_LEN};
use super::schema::{tightenings, Collection, Field, Kind, Slot};
use crate::doc_id::DocId;
use crate::error::{Error, Result};
use crate::time::{iso8601, parse_rfc3339, Millis};

/// The root map holding every field that is neither text nor rich text.
pub const FIELDS_MAP: &str = "fields";
/// The root map holding the slug (and, for `posts`, the excerpt and tags).
pub const META_MAP: &str = "meta";

/// A field's value, of the field's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    RichText(Vec<Node>),
    Number(f64),
    Boolean(bool),
    /// `YYYY-MM-DD`, and its midnight UTC (for ranges and sorting).
    Date(String, Millis),
    /// RFC 3339 as written, and the instant it names.
    DateTime(String, Millis),
    Select(String),
    Tags(Vec<String>),
    Reference(DocId),
    Image {
        src: String,
        alt: String,
        /// Attached by the edge before rendering, as for rich-text images.
        media: Option<crate::media::MediaInfo>,
    },
}

/// What a field holds in the document.
#[derive(Debug, Clone, PartialEq)]
pub enum Read {
    Empty,
    Value(Value),
    /// A value of the wrong type or shape, and what was expected.
    Wrong(String),
}

/// An entry as its document holds it: the slug and every field of the collection, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub slug: String,
    pub fields: Vec<(String, Read)>,
}

impl Entry {
    /// What field `name` holds (`Empty` for a name the collection does not have).
    pub fn get(&self, name: &str) -> &Read {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or(&Read::Empty, |(_, r)| r)
    }
}

/// A field that does not satisfy its definition: the 422 `invalid_fields` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub name: String,
    pub message: String,
}

/// Reads every field of `collection` from `doc`.
///
/// # Errors
/// [`Error::Internal`] if the document is in a transaction.
pub fn read(doc: &Doc, collection: &Collection) -> Result<Entry> {
    // Root types are obtained before the read transaction (they take the document's lock).
    enum Root {
        Text(yrs::TextRef),
        Xml(yrs::XmlFragmentRef),
        Key(MapRef, String),
    }
    let fields_map = doc.get_or_insert_map(FIELDS_MAP);
    let meta = doc.get_or_insert_map(META_MAP);
    let roots: Vec<Root> = collection
        .fields
        .iter()
        .map(|f| match f.slot() {
            Slot::RootText(name) => Root::Text(doc.get_or_insert_text(name)),
            Slot::RootXml(name) => Root::Xml(doc.get_or_insert_xml_fragment(name)),
            Slot::Fields(key) => Root::Key(fields_map.clone(), key.to_string()),
            Slot::Meta(key) => Root::Key(meta.clone(), key.to_string()),
        })
        .collect();
    let txn = doc
        .try_transact()
        .map_err(|e| Error::Internal(format!("document busy: {e}")))?;
    let fields = collection
        .fields
        .iter()
        .zip(roots)
        .map(|(field, root)| {
            let read = match root {
                Root::Text(text) => text_value(text.get_string(&txn)),
                Root::Xml(fragment) => {
                    let nodes = rich_text(&txn, &fragment);
                    if !has_content(&nodes) {
                        Read::Empty
                    } else {
                        Read::Value(Value::RichText(nodes))
                    }
                }
                Root::Key(map, key) => match map.get(&txn, &key) {
                    None => Read::Empty,
                    Some(out) => map_value(&txn, field, out),
                },
            };
            (field.name.clone(), read)
        })
        .collect();
    Ok(Entry {
        slug: slug_in(&txn, &meta),
        fields,
    })
}

/// The draft's slug as `meta` holds it (empty if none, or not text).
pub fn draft_slug(doc: &Doc) -> String {
    let meta = doc.get_or_insert_map(META_MAP);
    match doc.try_transact() {
        Ok(txn) => slug_in(&txn, &meta),
        Err(_) => String::new(),
    }
}

fn slug_in<T: ReadTxn>(txn: &T, meta: &MapRef) -> String {
    match meta.get(txn, "slug") {
        Some(Out::Any(Any::String(s))) => s.to_string(),
        _ => String::new(),
    }
}

/// Whether rich text holds anything a reader would see: words, an image or a rule (TipTap's
/// empty document is one empty paragraph). Walked with a stack, not recursion.
fn has_content(nodes: &[Node]) -> bool {
    let mut stack: Vec<&Node> = nodes.iter().collect();
    while let Some(node) = stack.pop() {
        match node {
            Node::Text { text, .. } if !text.trim().is_empty() => return true,
            Node::Image { .. } | Node::HorizontalRule => return true,
            Node::Block { children, .. } => stack.extend(children),
            Node::Text { .. } | Node::HardBreak => {}
        }
    }
    false
}

fn text_value(text: String) -> Read {
    if text.trim().is_empty() {
        Read::Empty
    } else {
        Read::Value(Value::Text(text))
    }
}

/// A value kept in a map: JSON (`Any`), or for tags also a `Y.Array` of strings.
fn map_value<T: ReadTxn>(txn: &T, field: &Field, out: Out) -> Read {
    match out {
        Out::Any(Any::Null | Any::Undefined) => Read::Empty,
        Out::Any(any) => any_value(&field.kind, &any),
        Out::YArray(array) if field.kind == Kind::Tags => {
            let items: Vec<Any> = array
                .iter(txn)
                .map(|o| match o {
                    Out::Any(a) => a,
                    _ => Any::Undefined,
                })
                .collect();
            tags(&items)
        }
        _ => Read::Wrong(expected(&field.kind).to_string()),
    }
}

/// What a field of `kind` expects, as the author is told.
fn expected(kind: &Kind) -> &'static str {
    match kind {
        Kind::Text { .. } => "expected text",
        Kind::RichText => "expected rich text",
        Kind::Number { .. } => "expected a number",
        Kind::Boolean => "expected true or false",
        Kind::Date => "expected a date (YYYY-MM-DD)",
        Kind::DateTime => "expected a date and time (RFC 3339, e.g. 2026-11-23T10:00:00Z)",
        Kind::Select { .. } => "expected one of the options",
        Kind::Tags => "expected a list of tags (strings)",
        Kind::Reference { .. } => "expected a reference {\"id\": \"<document id>\"}",
        Kind::Image => "expected an image {\"src\": \"<url>\", \"alt\": \"<text>\"}",
    }
}

pub(crate) fn any_value(kind: &Kind, any: &Any) -> Read {
    let wrong = || Read::Wrong(expected(kind).to_string());
    let string = match any {
        Any::String(s) => Some(s.as_ref()),
        _ => None,
    };
    match kind {
        // Text in a map: the `posts` excerpt.
        Kind::Text { .. } => string.map_or_else(wrong, |s| text_value(s.to_string())),
        Kind::RichText => wrong(),
        Kind::Number { .. } => match any {
            Any::Number(Number::Float(n)) if n.is_finite() => Read::Value(Value::Number(*n)),
            Any::Number(Number::Int(n)) => Read::Value(Value::Number(*n as f64)),
            _ => wrong(),
        },
        Kind::Boolean => match any {
            Any::Bool(b) => Read::Value(Value::Boolean(*b)),
            _ => wrong(),
        },
        Kind::Date | Kind::DateTime | Kind::Select { .. } => match string {
            Some("") => Read::Empty,
            Some(s) => match kind {
                Kind::Date => parse_date(s)
                    .map_or_else(wrong, |at| Read::Value(Value::Date(s.to_string(), at))),
                Kind::DateTime => parse_rfc3339(s)
                    .map_or_else(wrong, |at| Read::Value(Value::DateTime(s.to_string(), at))),
                _ => Read::Value(Value::Select(s.to_string())),
            },
            None => wrong(),
        },
        Kind::Tags => match any {
            Any::Array(items) => tags(items),
            _ => wrong(),
        },
        Kind::Reference { .. } => match object_str(any, "id").map(DocId::parse) {
            Some(Ok(id)) => Read::Value(Value::Reference(id)),
            _ => wrong(),
        },
        Kind::Image => {
            let src = object_str(any, "src").and_then(safe_url);
            let alt = match any {
                Any::Map(m) => match m.get("alt") {
                    None | Some(Any::Null) => Some(String::new()),
                    Some(Any::String(s)) => Some(s.to_string()),
                    Some(_) => None,
                },
                _ => None,
            };
            match (src, alt) {
                (Some(src), Some(alt)) => Read::Value(Value::Image {
                    src,
                    alt,
                    media: None,
                }),
                _ => wrong(),
            }
        }
    }
}

/// The string under `key` of a JSON object.
fn object_str<'a>(any: &'a Any, key: &str) -> Option<&'a str> {
    match any {
        Any::Map(m) => match m.get(key) {
            Some(Any::String(s)) => Some(s.as_ref()),
            _ => None,
        },
        _ => None,
    }
}

/// A tag list: strings only, trimmed, blanks and repeats dropped, at most [`MAX_TAGS`] of at
/// most [`MAX_TAG_LEN`] characters (more is wrong, not cut: the author is told).
fn tags(items: &[Any]) -> Read {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let Any::String(tag) = item else {
            return Read::Wrong(expected(&Kind::Tags).to_string());
        };
        let tag = tag.trim();
        if tag.chars().count() > MAX_TAG_LEN {
            return Read::Wrong(format!("a tag is at most {MAX_TAG_LEN} characters"));
        }
        if !tag.is_empty() && !out.iter().any(|t| t == tag) {
            out.push(tag.to_string());
        }
    }
    match out.len() {
        0 => Read::Empty,
        n if n > MAX_TAGS => Read::Wrong(format!("at most {MAX_TAGS} tags")),
        _ => Read::Value(Value::Tags(out)),
    }
}

impl Value {
    /// The value as the API answers it: rich text as `{html, json, text}`, a date-time as
    /// RFC 3339 in UTC, a reference as `{"id"}`, an image as `{"src", "alt"}`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Value::Text(s) | Value::Select(s) | Value::Date(s, _) => json!(s),
            Value::RichText(nodes) => super::render::rich_text_json(nodes),
            Value::Number(n) => json!(n),
            Value::Boolean(b) => json!(b),
            Value::DateTime(_, at) => json!(iso8601(*at)),
            Value::Tags(tags) => json!(tags),
            Value::Reference(id) => json!({ "id": id.as_str() }),
            Value::Image { src, alt, media } => {
                let mut image = json!({ "src": src, "alt": alt });
                if let Some(attrs) = super::render::media_attrs(src, media.as_ref()) {
                    for (k, v) in attrs {
                        image[k] = v;
                    }
                }
                image
            }
        }
    }
}

/// An entry as the authors' API answers it: `{collection, slug, fields: {name: value or
/// null}, problems: [{name, message}]}` (what publishing would refuse, for the editor).
pub fn entry_json(collection: &Collection, entry: &Entry) -> serde_json::Value {
    let fields: serde_json::Map<String, serde_json::Value> = entry
        .fields
        .iter()
        .map(|(name, read)| {
            let value = match read {
                Read::Value(v) => v.to_json(),
                Read::Empty | Read::Wrong(_) => serde_json::Value::Null,
            };
            (name.clone(), value)
        })
        .collect();
    serde_json::json!({
        "collection": collection.name,
        "slug": entry.slug,
        "fields": fields,
        "problems": validate(collection, entry),
    })
}

/// `YYYY-MM-DD` (a real calendar day) as its midnight UTC.
pub fn parse_date(s: &str) -> Option<Millis> {
    if s.len() != 10 {
        return None;
    }
    parse_rfc3339(&format!("{s}T00:00:00Z"))
}

/// Every way `entry` breaks `collection`'s rules, in field order; empty: it may be published.
pub fn validate(collection: &Collection, entry: &Entry) -> Vec<Problem> {
    let mut problems = Vec::new();
    for field in &collection.fields {
        let message = match entry.get(&field.name) {
            Read::Empty if field.required => Some("is required".to_string()),
            Read::Empty => None,
            Read::Wrong(why) => Some(why.clone()),
            Read::Value(value) => rule_broken(&field.kind, value),
        };
        if let Some(message) = message {
            problems.push(Problem {
                name: field.name.clone(),
                message,
            });
        }
    }
    problems
}

/// What a change of definition from `old` to `new` does to one published entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Breakage {
    /// Still valid under `new`.
    Fine,
    /// What would no longer be valid (or would be lost: a removed field that has a value).
    Breaks(Vec<Problem>),
    /// A field the change touches is not among the published values given (a list summary
    /// leaves rich text out): judge again with every field.
    Unknown,
}

/// Judges a published entry against a new definition, from its published values
/// (`published`: name → the value as the API answers it, `null` when empty). Only the fields
/// [`tightenings`] names are judged: whatever else changed (a label, a relaxed rule) cannot
/// make a valid entry invalid.
pub fn breakage(
    old: &Collection,
    new: &Collection,
    published: &serde_json::Map<String, serde_json::Value>,
) -> Breakage {
    use serde_json::Value as Json;
    let mut problems: Vec<Problem> = Vec::new();
    let mut touched: Vec<String> = tightenings(old, new).into_iter().map(|t| t.field).collect();
    touched.dedup();
    for name in touched {
        let Some(value) = published.get(&name) else {
            return Breakage::Unknown;
        };
        let before = old.field(&name);
        let message = match (new.field(&name), value) {
            (None, Json::Null) => None,
            (None, _) => Some("would be removed, and this entry has a value".to_string()),
            (Some(after), Json::Null) => after.required.then(|| "is required".to_string()),
            (Some(after), value) => match before.map(|b| b.kind.name()) {
                Some(was) if was != after.kind.name() => Some(format!(
                    "holds a {was} value; the field would become {}",
                    after.kind.name()
                )),
                None => None, // a new field with a value cannot happen; nothing to judge
                Some(_) => match (&before.map(|b| &b.kind), &after.kind, value) {
                    (
                        Some(Kind::Reference { collection: was }),
                        Kind::Reference { collection: now },
                        _,
                    ) if was != now => Some(format!(
                        "refers to an entry of `{was}`; the field would refer to `{now}`"
                    )),
                    (_, kind, Json::String(s)) if matches!(kind, Kind::Text { .. }) => {
                        rule_broken(kind, &Value::Text(s.clone()))
                    }
                    (_, kind @ Kind::Select { .. }, Json::String(s)) => {
                        rule_broken(kind, &Value::Select(s.clone()))
                    }
                    (_, kind @ Kind::Number { .. }, Json::Number(n)) => n
                        .as_f64()
                        .and_then(|n| rule_broken(kind, &Value::Number(n))),
                    _ => None,
                },
            },
        };
        if let Some(message) = message {
            problems.push(Problem { name, message });
        }
    }
    if problems.is_empty() {
        Breakage::Fine
    } else {
        Breakage::Breaks(problems)
    }
}

/// The rule of `kind` that `value` breaks, if any.
pub(crate) fn rule_broken(kind: &Kind, value: &Value) -> Option<String> {
    match (kind, value) {
        (
            Kind::Text {
                max_length: Some(max),
            },
            Value::Text(text),
        ) => {
            let len = text.chars().count();
            (len > *max as usize).then(|| format!("is {len} characters, over the {max} allowed"))
        }
        (Kind::Number { min, max, integer }, Value::Number(n)) => {
            if *integer && n.fract() != 0.0 {
                Some("must be a whole number".to_string())
            } else if let Some(min) = min.filter(|min| n < min) {
                Some(format!("must be at least {min}"))
            } else {
                max.filter(|max| n > max)
                    .map(|max| format!("must be at most {max}"))
            }
        }
        (Kind::Select { options }, Value::Select(choice)) => {
            (!options.contains(choice)).then(|| {
                format!(
                    "`{choice}` is not one of the options ({})",
                    options.join(", ")
                )
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::articles;
    use std::collections::HashMap;
    use yrs::{Text, TransactionMut, WriteTxn, XmlElementPrelim, XmlFragment, XmlTextPrelim};

    fn set(doc: &Doc, key: &str, value: impl Into<Any>) {
        let map = doc.get_or_insert_map(FIELDS_MAP);
        map.insert(&mut doc.transact_mut(), key, value.into());
    }

    fn obj(pairs: &[(&str, Any)]) -> Any {
        Any::from(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<HashMap<String, Any>>(),
        )
    }

    fn filled() -> Doc {
        let doc = Doc::new();
        let headline = doc.get_or_insert_text("headline");
        headline.insert(&mut doc.transact_mut(), 0, "Hello");
        let body = doc.get_or_insert_xml_fragment("body");
        {
            let mut txn: TransactionMut = doc.transact_mut();
            let p = body.push_back(&mut txn, XmlElementPrelim::empty("paragraph"));
            p.push_back(&mut txn, XmlTextPrelim::new("Some words"));
        }
        set(&doc, "rating", 4);
        set(&doc, "featured", true);
        set(&doc, "day", "2026-02-28");
        set(&doc, "at", "2026-11-23T10:00:00+01:00");
        set(&doc, "category", "news");
        set(
            &doc,
            "tags",
            Any::from(vec![
                Any::from(" rust "),
                Any::from("rust"),
                Any::from("cms"),
            ]),
        );
        set(&doc, "author", obj(&[("id", Any::from("person-1"))]));
        set(
            &doc,
            "cover",
            obj(&[
                ("src", Any::from("https://x/y.png")),
                ("alt", Any::from("A")),
            ]),
        );
        let meta = doc.get_or_insert_map(META_MAP);
        meta.insert(&mut doc.transact_mut(), "slug", "hello");
        doc
    }

    #[test]
    fn every_type_reads_from_its_slot() {
        let entry = read(&filled(), &articles()).unwrap();
        assert_eq!(entry.slug, "hello");
        let value = |n: &str| match entry.get(n) {
            Read::Value(v) => v.clone(),
            other => panic!("{n}: {other:?}"),
        };
        assert_eq!(value("headline"), Value::Text("Hello".into()));
        assert!(matches!(value("body"), Value::RichText(nodes) if nodes.len() == 1));
        assert_eq!(value("rating"), Value::Number(4.0));
        assert_eq!(value("featured"), Value::Boolean(true));
        assert_eq!(
            value("day"),
            Value::Date("2026-02-28".into(), 1_772_236_800_000)
        );
        assert_eq!(
            value("at"),
            Value::DateTime("2026-11-23T10:00:00+01:00".into(), 1_795_424_400_000)
        );
        assert_eq!(value("category"), Value::Select("news".into()));
        assert_eq!(
            value("tags"),
            Value::Tags(vec!["rust".into(), "cms".into()])
        );
        assert_eq!(
            value("author"),
            Value::Reference(DocId::parse("person-1").unwrap())
        );
        assert_eq!(
            value("cover"),
            Value::Image {
                src: "https://x/y.png".into(),
                alt: "A".into(),
                media: None,
            }
        );
        assert_eq!(validate(&articles(), &entry), vec![]);
    }

    #[test]
    fn an_entry_answers_typed_json() {
        let entry = read(&filled(), &articles()).unwrap();
        let json = entry_json(&articles(), &entry);
        assert_eq!(json["collection"], "articles");
        assert_eq!(json["slug"], "hello");
        let f = &json["fields"];
        assert_eq!(f["headline"], "Hello");
        assert_eq!(f["body"]["html"], "<p>Some words</p>");
        assert_eq!(f["body"]["text"], "Some words");
        assert_eq!(f["body"]["json"]["type"], "doc");
        assert_eq!(f["rating"], 4.0);
        assert_eq!(f["featured"], true);
        assert_eq!(f["day"], "2026-02-28");
        assert_eq!(f["at"], "2026-11-23T09:00:00.000Z");
        assert_eq!(f["category"], "news");
        assert_eq!(f["tags"], serde_json::json!(["rust", "cms"]));
        assert_eq!(f["author"], serde_json::json!({"id": "person-1"}));
        assert_eq!(
            f["cover"],
            serde_json::json!({"src": "https://x/y.png", "alt": "A"})
        );
        assert_eq!(json["problems"], serde_json::json!([]));
        // Empty and wrong fields are null, and the problems say why.
        let json = entry_json(&articles(), &read(&Doc::new(), &articles()).unwrap());
        assert!(json["fields"]["headline"].is_null());
        assert_eq!(
            json["problems"][0],
            serde_json::json!({"name": "headline", "message": "is required"})
        );
    }

    #[test]
    fn an_empty_draft_reads_as_empty_and_only_required_fields_are_refused() {
        let entry = read(&Doc::new(), &articles()).unwrap();
        assert!(entry.fields.iter().all(|(_, r)| *r == Read::Empty));
        let problems = validate(&articles(), &entry);
        let names: Vec<&str> = problems.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["headline", "body"]);
        assert_eq!(problems[0].message, "is required");
        // Blank text and an empty paragraph are empty too.
        let doc = Doc::new();
        doc.get_or_insert_text("headline")
            .insert(&mut doc.transact_mut(), 0, "   ");
        let body = doc.get_or_insert_xml_fragment("body");
        body.push_back(
            &mut doc.transact_mut(),
            XmlElementPrelim::empty("paragraph"),
        );
        set(&doc, "tags", Any::from(vec![Any::from(" ")]));
        set(&doc, "day", "");
        set(&doc, "rating", Any::Null);
        let entry = read(&doc, &articles()).unwrap();
        assert_eq!(*entry.get("headline"), Read::Empty);
        assert_eq!(*entry.get("body"), Read::Empty);
        assert_eq!(*entry.get("tags"), Read::Empty);
        assert_eq!(*entry.get("day"), Read::Empty);
        assert_eq!(*entry.get("rating"), Read::Empty);
    }

    #[test]
    fn wrong_types_written_by_any_client_are_named_not_coerced() {
        let doc = filled();
        set(&doc, "rating", "4");
        set(&doc, "featured", 1);
        set(&doc, "day", "2026-02-30");
        set(&doc, "at", "tomorrow");
        set(&doc, "category", Any::from(vec![Any::from("news")]));
        set(&doc, "tags", Any::from(vec![Any::from("ok"), Any::from(3)]));
        set(&doc, "author", obj(&[("id", Any::from("bad id!"))]));
        set(
            &doc,
            "cover",
            obj(&[("src", Any::from("javascript:alert(1)"))]),
        );
        // A nested Y type where JSON is expected.
        let map = doc.get_or_insert_map(FIELDS_MAP);
        map.insert(
            &mut doc.transact_mut(),
            "featured",
            yrs::MapPrelim::default(),
        );
        let entry = read(&doc, &articles()).unwrap();
        let problems = validate(&articles(), &entry);
        let got: Vec<(&str, &str)> = problems
            .iter()
            .map(|p| (p.name.as_str(), p.message.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("rating", "expected a number"),
                ("featured", "expected true or false"),
                ("day", "expected a date (YYYY-MM-DD)"),
                (
                    "at",
                    "expected a date and time (RFC 3339, e.g. 2026-11-23T10:00:00Z)"
                ),
                ("category", "expected one of the options"),
                ("tags", "expected a list of tags (strings)"),
                ("author", "expected a reference {\"id\": \"<document id>\"}"),
                (
                    "cover",
                    "expected an image {\"src\": \"<url>\", \"alt\": \"<text>\"}"
                ),
            ]
        );
    }

    #[test]
    fn a_root_of_another_type_reads_without_panicking() {
        // A client made `headline` a map and `body` a text: the text reads empty-ish, the body
        // has no XML children.
        let doc = Doc::new();
        {
            let mut txn = doc.transact_mut();
            let m = txn.get_or_insert_map("headline");
            m.insert(&mut txn, "x", 1);
            let t = txn.get_or_insert_text("body");
            t.insert(&mut txn, 0, "not xml");
        }
        let entry = read(&doc, &articles()).unwrap();
        assert_eq!(*entry.get("headline"), Read::Empty);
        assert_eq!(*entry.get("body"), Read::Empty);
    }

    #[test]
    fn rules_are_checked_with_their_message() {
        let doc = filled();
        doc.get_or_insert_text("headline").insert(
            &mut doc.transact_mut(),
            5,
            " and many more words",
        );
        let cases = [
            ("rating", Any::from(4.5), "must be a whole number"),
            ("rating", Any::from(-1), "must be at least 0"),
            ("rating", Any::from(6), "must be at most 5"),
            (
                "category",
                Any::from("sport"),
                "`sport` is not one of the options (news, review)",
            ),
        ];
        for (key, value, message) in cases {
            set(&doc, key, value);
            let problems = validate(&articles(), &read(&doc, &articles()).unwrap());
            assert_eq!(problems[0].name, "headline");
            assert_eq!(problems[0].message, "is 25 characters, over the 20 allowed");
            assert_eq!(problems[1].name, key);
            assert_eq!(problems[1].message, message);
            set(&doc, "rating", 4);
            set(&doc, "category", "news");
        }
        let too_many: Vec<Any> = (0..=MAX_TAGS).map(|i| Any::from(format!("t{i}"))).collect();
        set(&doc, "tags", Any::from(too_many));
        assert_eq!(
            *read(&doc, &articles()).unwrap().get("tags"),
            Read::Wrong(format!("at most {MAX_TAGS} tags"))
        );
    }

    #[test]
    fn posts_keep_their_old_shape() {
        let doc = Doc::new();
        doc.get_or_insert_text("title")
            .insert(&mut doc.transact_mut(), 0, "T");
        let meta = doc.get_or_insert_map(META_MAP);
        meta.insert(&mut doc.transact_mut(), "excerpt", "E");
        let tags = meta.insert(&mut doc.transact_mut(), "tags", yrs::ArrayPrelim::default());
        tags.push_back(&mut doc.transact_mut(), "a");
        let entry = read(&doc, &Collection::posts()).unwrap();
        assert_eq!(*entry.get("title"), Read::Value(Value::Text("T".into())));
        assert_eq!(*entry.get("excerpt"), Read::Value(Value::Text("E".into())));
        assert_eq!(
            *entry.get("tags"),
            Read::Value(Value::Tags(vec!["a".into()]))
        );
        assert_eq!(*entry.get("body"), Read::Empty);
    }

    /// `articles` with field `name` replaced by `field` (`None`: removed).
    fn articles_with(name: &str, field: Option<serde_json::Value>) -> Collection {
        let mut definition = crate::testing::articles_definition();
        let fields = definition["fields"].as_array_mut().expect("fields");
        let at = fields
            .iter()
            .position(|f| f["name"] == name)
            .expect("field");
        match field {
            Some(field) => fields[at] = field,
            None => {
                fields.remove(at);
            }
        }
        Collection::parse(&definition).expect("valid")
    }

    fn published(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        value.as_object().cloned().expect("an object")
    }

    fn broken_names(b: &Breakage) -> Vec<&str> {
        match b {
            Breakage::Breaks(problems) => problems.iter().map(|p| p.name.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn a_tightening_breaks_only_the_entries_whose_values_it_refuses() {
        use serde_json::json;
        let old = articles();
        // max lowered 5 → 3: a 4 breaks, a 2 and an empty rating do not.
        let new = articles_with(
            "rating",
            Some(json!({"name": "rating", "type": "number", "min": 0, "max": 3, "integer": true})),
        );
        let four = breakage(&old, &new, &published(json!({"rating": 4})));
        assert_eq!(broken_names(&four), ["rating"]);
        assert_eq!(
            four,
            Breakage::Breaks(vec![Problem {
                name: "rating".into(),
                message: "must be at most 3".into()
            }])
        );
        assert_eq!(
            breakage(&old, &new, &published(json!({"rating": 2}))),
            Breakage::Fine
        );
        assert_eq!(
            breakage(&old, &new, &published(json!({"rating": null}))),
            Breakage::Fine
        );

        // An option removed: only entries that chose it.
        let new = articles_with(
            "category",
            Some(json!({"name": "category", "type": "select", "options": ["news"]})),
        );
        assert_eq!(
            breakage(&old, &new, &published(json!({"category": "news"}))),
            Breakage::Fine
        );
        assert_eq!(
            broken_names(&breakage(
                &old,
                &new,
                &published(json!({"category": "review"}))
            )),
            ["category"]
        );

        // A field removed: only entries with a value lose something.
        let new = articles_with("category", None);
        assert_eq!(
            breakage(&old, &new, &published(json!({"category": null}))),
            Breakage::Fine
        );
        assert_eq!(
            broken_names(&breakage(
                &old,
                &new,
                &published(json!({"category": "news"}))
            )),
            ["category"]
        );

        // Now required: only empty ones. A type changed: only ones with a value.
        let new = articles_with(
            "cover",
            Some(json!({"name": "cover", "type": "image", "required": true})),
        );
        assert_eq!(
            broken_names(&breakage(&old, &new, &published(json!({"cover": null})))),
            ["cover"]
        );
        let image = json!({"cover": {"src": "/a.png", "alt": "A"}});
        assert_eq!(breakage(&old, &new, &published(image)), Breakage::Fine);
        let new = articles_with(
            "headline",
            Some(json!({"name": "headline", "type": "number"})),
        );
        assert_eq!(
            broken_names(&breakage(&old, &new, &published(json!({"headline": "Hi"})))),
            ["headline"]
        );

        // Text shortened: by characters, not bytes.
        let new = articles_with(
            "headline",
            Some(json!({"name": "headline", "type": "text", "required": true, "max_length": 3})),
        );
        assert_eq!(
            breakage(&old, &new, &published(json!({"headline": "été"}))),
            Breakage::Fine
        );
        assert_eq!(
            broken_names(&breakage(
                &old,
                &new,
                &published(json!({"headline": "étés"}))
            )),
            ["headline"]
        );

        // A reference retargeted breaks the entries that refer to something.
        let new = articles_with(
            "author",
            Some(json!({"name": "author", "type": "reference", "collection": "articles"})),
        );
        let refers = json!({"author": {"id": "doc-1"}});
        assert_eq!(
            broken_names(&breakage(&old, &new, &published(refers))),
            ["author"]
        );
    }

    #[test]
    fn a_change_that_tightens_nothing_breaks_nothing_and_unknown_values_are_said() {
        use serde_json::json;
        let old = articles();
        // A label changed: nothing to judge, even without any value.
        let new = articles_with(
            "rating",
            Some(
                json!({"name": "rating", "type": "number", "label": "Stars", "min": 0, "max": 5, "integer": true}),
            ),
        );
        assert_eq!(breakage(&old, &new, &published(json!({}))), Breakage::Fine);
        // Rich text removed, judged from a list summary (which leaves rich text out): unknown.
        let new = articles_with("body", None);
        assert_eq!(
            breakage(&old, &new, &published(json!({"headline": "x"}))),
            Breakage::Unknown
        );
        let with_body = json!({"body": {"html": "<p>x</p>", "json": {}, "text": "x"}});
        assert_eq!(
            broken_names(&breakage(&old, &new, &published(with_body))),
            ["body"]
        );
    }
}
