//! Content types: a **collection** is a named list of typed **fields**; every document is an
//! entry of exactly one collection, fixed when it is created.
//!
//! # Rules
//! - A collection's `name` and every field's `name` match `[a-z][a-z0-9_]{0,63}`; field names
//!   are unique within the collection and are not one of [`RESERVED_FIELDS`] (`slug` is a
//!   property of every entry, `fields`/`meta` are the document's own root maps, and `sort`,
//!   `limit`, `cursor` are reader query parameters that a filter on the field would shadow).
//! - A definition is read from untrusted JSON by [`Collection::parse`], which refuses anything
//!   it does not know (an unknown type or property, a rule on the wrong type) with the field and
//!   the rule broken ([`Error::InvalidDefinition`]); every list in it is capped
//!   ([`MAX_FIELDS`], [`MAX_OPTIONS`]).
//! - Where each field lives in the CRDT is the contract every Yjs client relies on
//!   ([`Field::slot`]): `text` is the root `Y.Text` named after the field, `richtext` the root
//!   `Y.XmlFragment` named after the field, every other type the key of the root `Y.Map`
//!   `fields`. The built-in `posts` collection keeps the shape Folio had before content
//!   types: `excerpt` and `tags` in the root map `meta`.
//! - A new version of a definition may always relax it; what could invalidate existing entries
//!   (a field removed, a type changed, a rule tightened, a required field added) is listed by
//!   [`tightenings`], and the caller decides (refuse unless no published entry breaks, or an
//!   admin forces it).

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::limits::{MAX_FIELDS, MAX_LABEL_CHARS, MAX_OPTIONS, MAX_OPTION_CHARS, MAX_TEXT_CHARS};

/// Field names that no collection may use, and why: see the module's rules.
pub const RESERVED_FIELDS: [&str; 6] = ["slug", "fields", "meta", "sort", "limit", "cursor"];

/// The built-in collection every document created without one belongs to.
pub const POSTS: &str = "posts";

/// A collection's definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Collection {
    pub name: String,
    pub label: String,
    pub fields: Vec<Field>,
}

/// One field of a collection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    #[serde(flatten)]
    pub kind: Kind,
    /// Kept in the root map `meta` (the built-in `posts` collection only; never parsed).
    #[serde(skip)]
    pub in_meta: bool,
}

/// A field's type and the rules that belong to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Kind {
    Text {
        #[serde(skip_serializing_if = "Option::is_none")]
        max_length: Option<u32>,
    },
    #[serde(rename = "richtext")]
    RichText,
    Number {
        #[serde(skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        integer: bool,
    },
    Boolean,
    Date,
    #[serde(rename = "datetime")]
    DateTime,
    Select {
        options: Vec<String>,
    },
    Tags,
    Reference {
        collection: String,
    },
    Image,
}

impl Kind {
    /// The name of the type, as definitions spell it.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Text { .. } => "text",
            Kind::RichText => "richtext",
            Kind::Number { .. } => "number",
            Kind::Boolean => "boolean",
            Kind::Date => "date",
            Kind::DateTime => "datetime",
            Kind::Select { .. } => "select",
            Kind::Tags => "tags",
            Kind::Reference { .. } => "reference",
            Kind::Image => "image",
        }
    }
}

/// Where a field's value lives in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot<'a> {
    /// The root `Y.Text` of this name.
    RootText(&'a str),
    /// The root `Y.XmlFragment` of this name.
    RootXml(&'a str),
    /// This key of the root `Y.Map` `fields`.
    Fields(&'a str),
    /// This key of the root `Y.Map` `meta` (built-in `posts` only).
    Meta(&'a str),
}

impl Field {
    /// Where this field's value lives in the document: the contract of the module's rules.
    pub fn slot(&self) -> Slot<'_> {
        match (&self.kind, self.in_meta) {
            (_, true) => Slot::Meta(&self.name),
            (Kind::Text { .. }, false) => Slot::RootText(&self.name),
            (Kind::RichText, false) => Slot::RootXml(&self.name),
            (_, false) => Slot::Fields(&self.name),
        }
    }
}

/// Whether `name` is a valid collection or field name: `[a-z][a-z0-9_]{0,63}`.
pub fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> Error {
    Error::InvalidDefinition {
        field: field.into(),
        message: message.into(),
    }
}

/// Refuses any property of `object` not in `known`, naming it.
fn only(object: &Map<String, Value>, known: &[&str], at: &str) -> Result<()> {
    match object.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(invalid(at, format!("unknown property `{k}`"))),
        None => Ok(()),
    }
}

/// A label: a non-empty string of at most [`MAX_LABEL_CHARS`] characters, trimmed.
fn label(value: &Value, at: &str) -> Result<String> {
    let text = value
        .as_str()
        .map(str::trim)
        .ok_or_else(|| invalid(at, "label must be a string"))?;
    if text.is_empty() || text.chars().count() > MAX_LABEL_CHARS {
        return Err(invalid(
            at,
            format!("label must be 1 to {MAX_LABEL_CHARS} characters"),
        ));
    }
    Ok(text.to_string())
}

fn name(value: Option<&Value>, at: &str, what: &str) -> Result<String> {
    match value.and_then(Value::as_str) {
        Some(n) if is_name(n) => Ok(n.to_string()),
        Some(_) => Err(invalid(
            at,
            format!("{what} must match [a-z][a-z0-9_]{{0,63}}"),
        )),
        None => Err(invalid(at, format!("{what} is required (a string)"))),
    }
}

fn number(value: &Value, at: &str, rule: &str) -> Result<f64> {
    value
        .as_f64()
        .filter(|n| n.is_finite())
        .ok_or_else(|| invalid(at, format!("{rule} must be a number")))
}

fn boolean(value: Option<&Value>, at: &str, rule: &str) -> Result<bool> {
    match value {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(invalid(at, format!("{rule} must be true or false"))),
    }
}

impl Collection {
    /// Reads a definition `{name, label, fields: [...]}` from untrusted JSON.
    ///
    /// # Errors
    /// [`Error::InvalidDefinition`] naming the field (`name` of the field, or `name`, `label`,
    /// `fields` for the collection's own properties) and the rule broken.
    pub fn parse(definition: &Value) -> Result<Collection> {
        let object = definition
            .as_object()
            .ok_or_else(|| invalid("", "a collection is a JSON object"))?;
        only(object, &["name", "label", "fields"], "")?;
        let name = name(object.get("name"), "name", "name")?;
        let label = label(object.get("label").unwrap_or(&Value::Null), "label")?;
        let list = object
            .get("fields")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("fields", "fields is required (an array)"))?;
        if list.is_empty() || list.len() > MAX_FIELDS {
            return Err(invalid(
                "fields",
                format!("a collection has 1 to {MAX_FIELDS} fields"),
            ));
        }
        let mut fields: Vec<Field> = Vec::with_capacity(list.len());
        for (i, value) in list.iter().enumerate() {
            let field = Field::parse(value, i)?;
            if fields.iter().any(|f| f.name == field.name) {
                return Err(invalid(&field.name, "field names must be unique"));
            }
            fields.push(field);
        }
        Ok(Collection {
            name,
            label,
            fields,
        })
    }

    /// The built-in `posts` collection: the shape of every document before content types.
    pub fn posts() -> Collection {
        let field = |name: &str, label: &str, kind: Kind, in_meta: bool| Field {
            name: name.to_string(),
            label: Some(label.to_string()),
            required: false,
            kind,
            in_meta,
        };
        Collection {
            name: POSTS.to_string(),
            label: "Posts".to_string(),
            fields: vec![
                field("title", "Title", Kind::Text { max_length: None }, false),
                field("body", "Body", Kind::RichText, false),
                field("excerpt", "Excerpt", Kind::Text { max_length: None }, true),
                field("tags", "Tags", Kind::Tags, true),
            ],
        }
    }

    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The collections this one's `reference` fields point to (each must exist).
    pub fn references(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().filter_map(|f| match &f.kind {
            Kind::Reference { collection } => Some((f.name.as_str(), collection.as_str())),
            _ => None,
        })
    }
}

impl Field {
    fn parse(value: &Value, index: usize) -> Result<Field> {
        let position = format!("fields[{index}]");
        let object = value
            .as_object()
            .ok_or_else(|| invalid(&position, "a field is a JSON object"))?;
        let name = name(object.get("name"), &position, "a field's name")?;
        if RESERVED_FIELDS.contains(&name.as_str()) {
            return Err(invalid(
                &name,
                format!("`{name}` is reserved ({})", RESERVED_FIELDS.join(", ")),
            ));
        }
        let at = name.as_str();
        let label = object.get("label").map(|l| label(l, at)).transpose()?;
        let required = boolean(object.get("required"), at, "required")?;
        let common = ["name", "type", "label", "required"];
        let kind_name = object
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(at, "type is required (a string)"))?;
        let allow = |extra: &[&str]| {
            let known: Vec<&str> = common.iter().chain(extra).copied().collect();
            only(object, &known, at)
        };
        let kind = match kind_name {
            "text" => {
                allow(&["max_length"])?;
                let max_length = match object.get("max_length") {
                    None => None,
                    Some(v) => Some(
                        v.as_u64()
                            .filter(|n| (1..=MAX_TEXT_CHARS as u64).contains(n))
                            .and_then(|n| u32::try_from(n).ok())
                            .ok_or_else(|| {
                                invalid(
                                    at,
                                    format!(
                                        "max_length must be an integer from 1 to {MAX_TEXT_CHARS}"
                                    ),
                                )
                            })?,
                    ),
                };
                Kind::Text { max_length }
            }
            "richtext" => {
                allow(&[])?;
                Kind::RichText
            }
            "number" => {
                allow(&["min", "max", "integer"])?;
                let min = object
                    .get("min")
                    .map(|v| number(v, at, "min"))
                    .transpose()?;
                let max = object
                    .get("max")
                    .map(|v| number(v, at, "max"))
                    .transpose()?;
                if let (Some(min), Some(max)) = (min, max) {
                    if min > max {
                        return Err(invalid(at, "min must not be greater than max"));
                    }
                }
                let integer = boolean(object.get("integer"), at, "integer")?;
                Kind::Number { min, max, integer }
            }
            "boolean" | "date" | "datetime" | "tags" | "image" => {
                allow(&[])?;
                match kind_name {
                    "boolean" => Kind::Boolean,
                    "date" => Kind::Date,
                    "datetime" => Kind::DateTime,
                    "tags" => Kind::Tags,
                    _ => Kind::Image,
                }
            }
            "select" => {
                allow(&["options"])?;
                Kind::Select {
                    options: options(object.get("options"), at)?,
                }
            }
            "reference" => {
                allow(&["collection"])?;
                Kind::Reference {
                    collection: self::name(object.get("collection"), at, "collection")?,
                }
            }
            other => {
                return Err(invalid(
                    at,
                    format!(
                        "unknown type `{other}` (text, richtext, number, boolean, date, \
                         datetime, select, tags, reference, image)"
                    ),
                ))
            }
        };
        Ok(Field {
            name,
            label,
            required,
            kind,
            in_meta: false,
        })
    }
}

/// A select's options: 1 to [`MAX_OPTIONS`] distinct non-empty strings.
fn options(value: Option<&Value>, at: &str) -> Result<Vec<String>> {
    let list = value
        .and_then(Value::as_array)
        .ok_or_else(|| invalid(at, "options is required (an array of strings)"))?;
    if list.is_empty() || list.len() > MAX_OPTIONS {
        return Err(invalid(
            at,
            format!("a select has 1 to {MAX_OPTIONS} options"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for option in list {
        let text = option
            .as_str()
            .filter(|s| !s.is_empty() && s.chars().count() <= MAX_OPTION_CHARS)
            .ok_or_else(|| {
                invalid(
                    at,
                    format!("every option is a string of 1 to {MAX_OPTION_CHARS} characters"),
                )
            })?;
        if out.iter().any(|o| o == text) {
            return Err(invalid(at, format!("option `{text}` is listed twice")));
        }
        out.push(text.to_string());
    }
    Ok(out)
}

/// A change from one version of a definition to the next that may invalidate existing
/// entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tightening {
    pub field: String,
    pub change: String,
}

/// What in `new` could invalidate entries valid under `old`: removed fields, changed types,
/// added required fields, tightened rules. Empty: every entry valid before stays valid.
pub fn tightenings(old: &Collection, new: &Collection) -> Vec<Tightening> {
    let mut out = Vec::new();
    let mut say = |field: &str, change: String| {
        out.push(Tightening {
            field: field.to_string(),
            change,
        })
    };
    for before in &old.fields {
        let Some(after) = new.field(&before.name) else {
            say(&before.name, "removed".to_string());
            continue;
        };
        if after.required && !before.required {
            say(&after.name, "now required".to_string());
        }
        match (&before.kind, &after.kind) {
            (
                Kind::Text { max_length: a },
                Kind::Text {
                    max_length: Some(b),
                },
            ) if a.is_none_or(|a| *b < a) => {
                say(&after.name, format!("max_length lowered to {b}"));
            }
            (
                Kind::Number {
                    min: min_a,
                    max: max_a,
                    integer: int_a,
                },
                Kind::Number {
                    min: min_b,
                    max: max_b,
                    integer: int_b,
                },
            ) => {
                if let Some(b) = min_b {
                    if min_a.is_none_or(|a| *b > a) {
                        say(&after.name, format!("min raised to {b}"));
                    }
                }
                if let Some(b) = max_b {
                    if max_a.is_none_or(|a| *b < a) {
                        say(&after.name, format!("max lowered to {b}"));
                    }
                }
                if *int_b && !int_a {
                    say(&after.name, "now integer".to_string());
                }
            }
            (Kind::Select { options: a }, Kind::Select { options: b }) => {
                for gone in a.iter().filter(|o| !b.contains(o)) {
                    say(&after.name, format!("option `{gone}` removed"));
                }
            }
            (Kind::Reference { collection: a }, Kind::Reference { collection: b }) if a != b => {
                say(&after.name, format!("now references `{b}`, not `{a}`"));
            }
            (a, b) if a.name() != b.name() => {
                say(
                    &after.name,
                    format!("type changed from {} to {}", a.name(), b.name()),
                );
            }
            _ => {}
        }
    }
    for added in new.fields.iter().filter(|f| f.required) {
        if old.field(&added.name).is_none() {
            say(&added.name, "added as required".to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::articles_definition;
    use serde_json::json;

    fn refused(definition: Value) -> (String, String) {
        match Collection::parse(&definition) {
            Err(Error::InvalidDefinition { field, message }) => (field, message),
            other => panic!("accepted or wrong error: {other:?} for {definition}"),
        }
    }

    #[test]
    fn a_definition_with_every_type_round_trips() {
        let c = Collection::parse(&articles_definition()).unwrap();
        assert_eq!(c.fields.len(), 10);
        assert_eq!(
            c.fields[2].kind,
            Kind::Number {
                min: Some(0.0),
                max: Some(5.0),
                integer: true
            }
        );
        // What is stored (and answered) parses back to the same definition.
        let stored = serde_json::to_value(&c).unwrap();
        assert_eq!(stored["fields"][0]["type"], "text");
        assert_eq!(stored["fields"][0]["max_length"], 20);
        assert_eq!(stored["fields"][1]["required"], true);
        assert!(stored["fields"][2].get("required").is_none());
        assert_eq!(Collection::parse(&stored).unwrap(), c);
    }

    #[test]
    fn the_contract_places_each_type() {
        let c = Collection::parse(&articles_definition()).unwrap();
        let slot = |n: &str| c.field(n).unwrap().slot();
        assert_eq!(slot("headline"), Slot::RootText("headline"));
        assert_eq!(slot("body"), Slot::RootXml("body"));
        for n in [
            "rating", "featured", "day", "at", "category", "tags", "author", "cover",
        ] {
            assert_eq!(slot(n), Slot::Fields(n));
        }
        let posts = Collection::posts();
        assert_eq!(
            posts.field("title").unwrap().slot(),
            Slot::RootText("title")
        );
        assert_eq!(posts.field("body").unwrap().slot(), Slot::RootXml("body"));
        assert_eq!(
            posts.field("excerpt").unwrap().slot(),
            Slot::Meta("excerpt")
        );
        assert_eq!(posts.field("tags").unwrap().slot(), Slot::Meta("tags"));
    }

    #[test]
    fn names_follow_the_rule() {
        for ok in ["a", "articles", "a_b_9", &"x".repeat(64)] {
            assert!(is_name(ok), "{ok}");
        }
        for bad in ["", "A", "9a", "_a", "a-b", "a b", "é", &"x".repeat(65)] {
            assert!(!is_name(bad), "{bad}");
        }
    }

    #[test]
    fn every_rule_is_refused_with_its_field() {
        let with = |field: Value| json!({"name": "c", "label": "C", "fields": [{"name": "ok", "type": "boolean"}, field]});
        let cases: Vec<(Value, &str, &str)> = vec![
            (json!([]), "", "JSON object"),
            (json!({"label": "C", "fields": []}), "name", "required"),
            (
                json!({"name": "Bad", "label": "C", "fields": []}),
                "name",
                "[a-z]",
            ),
            (json!({"name": "c", "fields": []}), "label", "string"),
            (
                json!({"name": "c", "label": "  ", "fields": []}),
                "label",
                "1 to",
            ),
            (
                json!({"name": "c", "label": "x".repeat(201), "fields": []}),
                "label",
                "1 to",
            ),
            (json!({"name": "c", "label": "C"}), "fields", "required"),
            (
                json!({"name": "c", "label": "C", "fields": []}),
                "fields",
                "1 to",
            ),
            (
                json!({"name": "c", "label": "C", "fields": [], "extra": 1}),
                "",
                "`extra`",
            ),
            (with(json!("x")), "fields[1]", "JSON object"),
            (with(json!({"type": "text"})), "fields[1]", "required"),
            (
                with(json!({"name": "Bad", "type": "text"})),
                "fields[1]",
                "[a-z]",
            ),
            (with(json!({"name": "ok", "type": "text"})), "ok", "unique"),
            (
                with(json!({"name": "slug", "type": "text"})),
                "slug",
                "reserved",
            ),
            (
                with(json!({"name": "limit", "type": "number"})),
                "limit",
                "reserved",
            ),
            (with(json!({"name": "f"})), "f", "type is required"),
            (
                with(json!({"name": "f", "type": "string"})),
                "f",
                "unknown type `string`",
            ),
            (
                with(json!({"name": "f", "type": "text", "required": "yes"})),
                "f",
                "required must",
            ),
            (
                with(json!({"name": "f", "type": "text", "label": 3})),
                "f",
                "label",
            ),
            (
                with(json!({"name": "f", "type": "text", "max_length": 0})),
                "f",
                "max_length",
            ),
            (
                with(json!({"name": "f", "type": "text", "max_length": 1.5})),
                "f",
                "max_length",
            ),
            (
                with(json!({"name": "f", "type": "text", "max_length": 1u64 << 40})),
                "f",
                "max_length",
            ),
            (
                with(json!({"name": "f", "type": "text", "maxlength": 3})),
                "f",
                "`maxlength`",
            ),
            (
                with(json!({"name": "f", "type": "boolean", "max_length": 3})),
                "f",
                "`max_length`",
            ),
            (
                with(json!({"name": "f", "type": "number", "min": "1"})),
                "f",
                "min must be",
            ),
            (
                with(json!({"name": "f", "type": "number", "max": null})),
                "f",
                "max must be",
            ),
            (
                with(json!({"name": "f", "type": "number", "min": 2, "max": 1})),
                "f",
                "greater",
            ),
            (
                with(json!({"name": "f", "type": "number", "integer": 1})),
                "f",
                "integer must",
            ),
            (
                with(json!({"name": "f", "type": "select"})),
                "f",
                "options is required",
            ),
            (
                with(json!({"name": "f", "type": "select", "options": []})),
                "f",
                "1 to",
            ),
            (
                with(json!({"name": "f", "type": "select", "options": ["a", "a"]})),
                "f",
                "twice",
            ),
            (
                with(json!({"name": "f", "type": "select", "options": [""]})),
                "f",
                "every option",
            ),
            (
                with(json!({"name": "f", "type": "select", "options": [1]})),
                "f",
                "every option",
            ),
            (
                with(json!({"name": "f", "type": "reference"})),
                "f",
                "collection is required",
            ),
            (
                with(json!({"name": "f", "type": "reference", "collection": "X"})),
                "f",
                "collection must",
            ),
        ];
        for (definition, field, rule) in cases {
            let (got_field, message) = refused(definition.clone());
            assert_eq!(got_field, field, "{definition}: {message}");
            assert!(
                message.contains(rule),
                "{definition}: {message:?} lacks {rule:?}"
            );
        }
    }

    #[test]
    fn lists_are_capped() {
        let many: Vec<Value> = (0..=MAX_FIELDS)
            .map(|i| json!({"name": format!("f{i}"), "type": "boolean"}))
            .collect();
        let (field, _) = refused(json!({"name": "c", "label": "C", "fields": many}));
        assert_eq!(field, "fields");
        let options: Vec<String> = (0..=MAX_OPTIONS).map(|i| format!("o{i}")).collect();
        let (field, _) = refused(json!({"name": "c", "label": "C", "fields": [
            {"name": "s", "type": "select", "options": options}]}));
        assert_eq!(field, "s");
    }

    #[test]
    fn relaxing_is_compatible_and_tightening_is_listed() {
        let old = Collection::parse(&articles_definition()).unwrap();
        let mut relaxed = articles_definition();
        let fields = relaxed["fields"].as_array_mut().unwrap();
        fields[0] = json!({"name": "headline", "type": "text", "max_length": 500});
        fields[2] = json!({"name": "rating", "type": "number", "min": -1});
        fields[6]["options"] = json!(["news", "review", "opinion"]);
        fields.reverse();
        fields.push(json!({"name": "extra", "type": "text"}));
        let relaxed = Collection::parse(&relaxed).unwrap();
        assert_eq!(tightenings(&old, &relaxed), vec![]);

        let mut tight = articles_definition();
        let fields = tight["fields"].as_array_mut().unwrap();
        fields[0]["max_length"] = json!(10);
        fields[4]["required"] = json!(true);
        fields[2] =
            json!({"name": "rating", "type": "number", "min": 1, "max": 4, "integer": true});
        fields[3] = json!({"name": "featured", "type": "text"});
        fields[6]["options"] = json!(["news"]);
        fields[8]["collection"] = json!("authors");
        fields.remove(9);
        fields.push(json!({"name": "must", "type": "date", "required": true}));
        let tight = Collection::parse(&tight).unwrap();
        let changes: Vec<String> = tightenings(&old, &tight)
            .into_iter()
            .map(|t| format!("{}: {}", t.field, t.change))
            .collect();
        assert_eq!(
            changes,
            vec![
                "headline: max_length lowered to 10",
                "rating: min raised to 1",
                "rating: max lowered to 4",
                "featured: type changed from boolean to text",
                "day: now required",
                "category: option `review` removed",
                "author: now references `authors`, not `people`",
                "cover: removed",
                "must: added as required",
            ]
        );
    }
}
