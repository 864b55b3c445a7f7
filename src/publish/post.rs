//! The published post record: a version's rendering, its content hash (change detection),
//! its strong ETag, and how its body is stored in parts (D1) and under its slug (KV).
//!
//! # Rules
//! - A version is the rendered content of a document at a publish. Version numbers only grow,
//!   per document; publishing content whose hash equals the latest version's returns that
//!   version instead of creating one ([`super::intent::next_version`]).
//! - Each version is immutable, so its ETag is strong and never reused: `"{doc}.{version}"`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::content::fields::{self, Entry, Read, Value as FieldValue};
use crate::content::schema::{Collection, Kind};
use crate::content::{render, Content};
use crate::time::iso8601;

/// A published version: everything readers get.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post {
    pub doc_id: String,
    pub version: u64,
    /// What was rendered (stored flattened: one JSON object per post).
    #[serde(flatten)]
    pub content: Rendered,
    /// When this version was published (ms since the epoch).
    pub published_at: i64,
    /// When the document was first published (ms since the epoch).
    pub first_published_at: i64,
}

/// The rendering of `content` under `slug`, with its content hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rendered {
    pub slug: String,
    pub title: String,
    pub excerpt: String,
    pub tags: Vec<String>,
    pub html: String,
    pub json: Value,
    pub text: String,
    pub word_count: u64,
    /// Hex SHA-256 of what readers see (slug, title, excerpt, tags, HTML; an entry's
    /// collection and fields).
    pub content_hash: String,
    /// What an entry of a collection other than `posts` adds (a post has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<EntryRecord>,
    /// The media files it refers to (recorded so that they cannot be deleted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<String>,
}

/// An entry of a collection, as published: its typed fields and the values readers filter
/// and sort on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryRecord {
    pub collection: String,
    /// `{name: value or null}`, as the API answers them.
    pub fields: Value,
    /// The fields as lists answer them: rich text left out; `None` when over
    /// [`MAX_SUMMARY_BYTES`].
    pub summary: Option<Value>,
    pub index: Vec<Indexed>,
}

/// Largest summary an entry's list row holds (D1 rows are read whole by every list).
pub const MAX_SUMMARY_BYTES: usize = 64 << 10;

/// One indexed value of an entry: a number (dates and instants as ms, booleans as 0 and 1) or
/// a string (an option, a tag, a referenced id). A tag list is one per tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indexed {
    pub field: String,
    pub num: Option<f64>,
    pub txt: Option<String>,
}

/// Hex SHA-256 of `parts`, each followed by a NUL.
fn content_hash(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Renders entry `entry` of `collection` for publishing under `slug`. Its title (for the
/// authors' list and the version history) is its first text field, else the slug.
pub fn render_entry(collection: &Collection, entry: &Entry, slug: String) -> Rendered {
    let fields = fields::entry_json(collection, entry)["fields"].take();
    let title = collection
        .fields
        .iter()
        .filter(|f| matches!(f.kind, Kind::Text { .. }))
        .find_map(|f| fields[&f.name].as_str())
        .unwrap_or(&slug)
        .to_string();
    let content_hash = content_hash(&[&slug, &collection.name, &fields.to_string()]);
    let mut summary = fields.clone();
    if let Some(map) = summary.as_object_mut() {
        for field in &collection.fields {
            if field.kind == Kind::RichText {
                map.remove(&field.name);
            }
        }
    }
    let summary = (summary.to_string().len() <= MAX_SUMMARY_BYTES).then_some(summary);
    Rendered {
        title,
        excerpt: String::new(),
        tags: Vec::new(),
        html: String::new(),
        json: Value::Null,
        text: String::new(),
        word_count: 0,
        content_hash,
        entry: Some(EntryRecord {
            collection: collection.name.clone(),
            index: indexed(entry),
            summary,
            fields,
        }),
        media: crate::media::ids_in_entry(entry),
        slug,
    }
}

/// The values of `entry` readers filter and sort on ([`super::filter`] parses queries to the
/// same operands).
pub fn indexed(entry: &Entry) -> Vec<Indexed> {
    let mut out = Vec::new();
    for (field, read) in &entry.fields {
        let Read::Value(value) = read else { continue };
        let mut push = |num: Option<f64>, txt: Option<&str>| {
            out.push(Indexed {
                field: field.clone(),
                num,
                txt: txt.map(str::to_string),
            })
        };
        match value {
            FieldValue::Number(n) => push(Some(*n), None),
            FieldValue::Boolean(b) => push(Some(if *b { 1.0 } else { 0.0 }), None),
            FieldValue::Date(_, at) | FieldValue::DateTime(_, at) => push(Some(*at as f64), None),
            FieldValue::Select(s) => push(None, Some(s)),
            FieldValue::Reference(id) => push(None, Some(id.as_str())),
            FieldValue::Tags(tags) => {
                for tag in tags {
                    push(None, Some(tag));
                }
            }
            FieldValue::Text(_) | FieldValue::RichText(_) | FieldValue::Image { .. } => {}
        }
    }
    out
}

/// Renders `content` for publishing under `slug`.
pub fn render_for_publish(content: &Content, slug: String) -> Rendered {
    let html = render::html(content);
    let content_hash = content_hash(&[
        slug.as_str(),
        &content.title,
        &content.meta.excerpt,
        &content.meta.tags.join("\u{1f}"),
        &html,
    ]);
    Rendered {
        slug,
        title: content.title.clone(),
        excerpt: content.meta.excerpt.clone(),
        tags: content.meta.tags.clone(),
        json: render::prosemirror_json(content),
        text: render::plain_text(content),
        word_count: render::word_count(content) as u64,
        html,
        content_hash,
        entry: None,
        media: {
            let mut ids = Vec::new();
            crate::media::ids_in_nodes(&content.body, &mut ids);
            ids
        },
    }
}

impl Post {
    /// Version `version` of document `doc_id`, published at `now`.
    pub fn new(
        doc_id: &str,
        version: u64,
        content: Rendered,
        now: i64,
        first_published_at: i64,
    ) -> Post {
        Post {
            doc_id: doc_id.to_string(),
            version,
            content,
            published_at: now,
            first_published_at,
        }
    }

    /// The strong ETag of this version.
    pub fn etag(&self) -> String {
        etag(&self.doc_id, self.version)
    }

    /// The reader API's JSON for this post.
    pub fn reader_json(&self) -> Value {
        serde_json::json!({
            "slug": self.content.slug,
            "title": self.content.title,
            "excerpt": self.content.excerpt,
            "tags": self.content.tags,
            "html": self.content.html,
            "json": self.content.json,
            "version": self.version,
            "published_at": iso8601(self.first_published_at),
            "updated_at": iso8601(self.published_at),
        })
    }
}

/// A version's body as D1 stores it, in parts: the large fields of [`Rendered`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Body {
    pub html: String,
    pub json: Value,
    pub text: String,
    /// An entry's typed fields (`null` for a post).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub fields: Value,
}

/// `content`'s body as JSON cut into parts of at most `max` bytes (`max` ≥ 4), each ending on
/// a character boundary. Joined back in order they are the JSON again.
pub fn body_parts(content: &Rendered, max: usize) -> Vec<String> {
    let body = Body {
        html: content.html.clone(),
        json: content.json.clone(),
        text: content.text.clone(),
        fields: content
            .entry
            .as_ref()
            .map_or(Value::Null, |e| e.fields.clone()),
    };
    let json = serde_json::to_string(&body).unwrap_or_else(|_| "{}".into());
    split_utf8(&json, max).map(str::to_string).collect()
}

/// `text` in pieces of at most `max` bytes (`max` ≥ 4, so a piece always holds a whole
/// character), each ending on a character boundary; joined in order they are `text`.
pub fn split_utf8(text: &str, max: usize) -> impl Iterator<Item = &str> {
    let max = max.max(4);
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut cut = rest.len().min(max);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (piece, tail) = rest.split_at(cut);
        rest = tail;
        Some(piece)
    })
}

/// The body from its parts, in order.
///
/// # Errors
/// The parts do not make one body (missing or damaged).
pub fn join_parts(parts: &[String]) -> Result<Body, String> {
    serde_json::from_str(&parts.concat()).map_err(|e| format!("a stored body is damaged: {e}"))
}

/// What KV holds under a post's slug key.
#[derive(Debug, Clone, PartialEq)]
pub enum KvPost {
    /// The latest version, whole.
    Post(Box<Post>),
    /// The latest version is too large for KV: readers get it from D1.
    InD1 { doc_id: String, version: u64 },
    /// The post was unpublished: readers get 404 and do not ask D1 (a tombstone, so that a
    /// KV delete that failed can never leave it readable).
    Gone { doc_id: String, version: u64 },
}

impl KvPost {
    /// The value to store: a post's JSON, or a marker with `"kv"` set (a post has no such
    /// key).
    pub fn to_json(&self) -> String {
        let marker = |kind: &str, doc_id: &str, version: u64| {
            serde_json::json!({ "kv": kind, "doc_id": doc_id, "version": version }).to_string()
        };
        match self {
            KvPost::Post(post) => serde_json::to_string(post).unwrap_or_default(),
            KvPost::InD1 { doc_id, version } => marker("in_d1", doc_id, *version),
            KvPost::Gone { doc_id, version } => marker("gone", doc_id, *version),
        }
    }

    /// Reads a stored value; `None` if it is none of the three.
    pub fn parse(text: &str) -> Option<KvPost> {
        let value: Value = serde_json::from_str(text).ok()?;
        let doc_id = || value.get("doc_id")?.as_str().map(str::to_string);
        let version = || value.get("version")?.as_u64();
        match value.get("kv").and_then(Value::as_str) {
            Some("in_d1") => Some(KvPost::InD1 {
                doc_id: doc_id()?,
                version: version()?,
            }),
            Some("gone") => Some(KvPost::Gone {
                doc_id: doc_id()?,
                version: version()?,
            }),
            Some(_) => None,
            None => serde_json::from_value(value)
                .ok()
                .map(|p| KvPost::Post(Box::new(p))),
        }
    }

    /// What to store for `post`: itself, or a pointer to D1 if its JSON is over `max` bytes.
    pub fn of(post: &Post, max: usize) -> KvPost {
        let whole = KvPost::Post(Box::new(post.clone()));
        if whole.to_json().len() > max {
            KvPost::InD1 {
                doc_id: post.doc_id.clone(),
                version: post.version,
            }
        } else {
            whole
        }
    }
}

/// The strong ETag of version `version` of `doc_id`.
pub fn etag(doc_id: &str, version: u64) -> String {
    format!("\"{doc_id}.{version}\"")
}

/// Whether an `If-None-Match` header value matches `etag` (a list, or `*`; weak or strong).
pub fn if_none_match(header: &str, etag: &str) -> bool {
    header
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_post(html: &str) -> Post {
        let content = Rendered {
            slug: "s".into(),
            title: "t".into(),
            excerpt: String::new(),
            tags: vec![],
            html: html.into(),
            json: serde_json::json!({"type": "doc"}),
            text: "é".repeat(10),
            word_count: 1,
            content_hash: "h".into(),
            entry: None,
            media: vec![],
        };
        Post::new("d", 2, content, 1, 1)
    }

    #[test]
    fn a_body_survives_parts_that_cut_anywhere() {
        let post = sample_post(&"<p>ü€𝄞</p>".repeat(50));
        for max in [4, 5, 7, 64, 1 << 20] {
            let parts = body_parts(&post.content, max);
            assert!(parts.iter().all(|p| p.len() <= max.max(4)), "{max}");
            let body = join_parts(&parts).unwrap();
            assert_eq!(body.html, post.content.html);
            assert_eq!(body.text, post.content.text);
            assert_eq!(body.json, post.content.json);
        }
        assert!(join_parts(&body_parts(&post.content, 8)[1..]).is_err());
    }

    #[test]
    fn kv_values_round_trip_and_large_posts_point_to_d1() {
        let post = sample_post("<p>x</p>");
        let whole = KvPost::of(&post, 1 << 20);
        assert_eq!(KvPost::parse(&whole.to_json()), Some(whole));
        let pointer = KvPost::of(&post, 10);
        assert_eq!(
            pointer,
            KvPost::InD1 {
                doc_id: "d".into(),
                version: 2
            }
        );
        assert_eq!(KvPost::parse(&pointer.to_json()), Some(pointer));
        let gone = KvPost::Gone {
            doc_id: "d".into(),
            version: 2,
        };
        assert_eq!(KvPost::parse(&gone.to_json()), Some(gone));
        assert_eq!(KvPost::parse("{\"kv\":\"other\"}"), None);
        assert_eq!(KvPost::parse("not json"), None);
    }

    #[test]
    fn equal_content_hashes_equal_and_any_visible_change_differs() {
        let base = Content {
            title: "T".into(),
            ..Default::default()
        };
        let h = |c: &Content, slug: &str| render_for_publish(c, slug.into()).content_hash;
        assert_eq!(h(&base, "t"), h(&base.clone(), "t"));
        assert_ne!(h(&base, "t"), h(&base, "u"));
        let mut tagged = base.clone();
        tagged.meta.tags = vec!["x".into()];
        assert_ne!(h(&base, "t"), h(&tagged, "t"));
        assert_eq!(h(&base, "t").len(), 64);
    }

    #[test]
    fn an_entry_renders_its_fields_index_and_summary() {
        use yrs::{Any, Doc, Map, Text, Transact, XmlElementPrelim, XmlFragment, XmlTextPrelim};
        let articles = crate::testing::articles();
        let doc = Doc::new();
        let fields_map = doc.get_or_insert_map("fields");
        let headline = doc.get_or_insert_text("headline");
        let body = doc.get_or_insert_xml_fragment("body");
        {
            let mut txn = doc.transact_mut();
            headline.insert(&mut txn, 0, "Hello");
            let p = body.push_back(&mut txn, XmlElementPrelim::empty("paragraph"));
            p.push_back(&mut txn, XmlTextPrelim::new("words"));
            fields_map.insert(&mut txn, "rating", 4);
            fields_map.insert(&mut txn, "featured", false);
            fields_map.insert(&mut txn, "day", "2026-01-01");
            fields_map.insert(&mut txn, "category", "news");
            fields_map.insert(
                &mut txn,
                "tags",
                Any::from(vec![Any::from("a"), Any::from("b")]),
            );
        }
        let entry = fields::read(&doc, &articles).unwrap();
        assert_eq!(
            crate::publish::slug_for_entry(&articles, &entry).as_deref(),
            Some("hello")
        );
        let r = render_entry(&articles, &entry, "hello".into());
        assert_eq!(r.title, "Hello");
        let e = r.entry.as_ref().unwrap();
        assert_eq!(e.collection, "articles");
        assert_eq!(e.fields["body"]["text"], "words");
        let summary = e.summary.as_ref().unwrap();
        assert!(summary.get("body").is_none(), "lists leave rich text out");
        assert_eq!(summary["rating"], 4.0);
        let index: Vec<(&str, Option<f64>, Option<&str>)> = e
            .index
            .iter()
            .map(|i| (i.field.as_str(), i.num, i.txt.as_deref()))
            .collect();
        assert_eq!(
            index,
            vec![
                ("rating", Some(4.0), None),
                ("featured", Some(0.0), None),
                ("day", Some(1_767_225_600_000.0), None),
                ("category", None, Some("news")),
                ("tags", None, Some("a")),
                ("tags", None, Some("b")),
            ]
        );
        // The body parts carry the fields; the hash changes with any field and the slug.
        let body = join_parts(&body_parts(&r, 64)).unwrap();
        assert_eq!(body.fields, e.fields);
        let other = render_entry(&articles, &entry, "other".into());
        assert_ne!(other.content_hash, r.content_hash);
        fields_map.insert(&mut doc.transact_mut(), "rating", 5);
        let changed = render_entry(
            &articles,
            &fields::read(&doc, &articles).unwrap(),
            "hello".into(),
        );
        assert_ne!(changed.content_hash, r.content_hash);
        // A post's body has no fields member at all (what D1 already holds is unchanged).
        let post = sample_post("<p>x</p>");
        assert!(!body_parts(&post.content, 1 << 20)[0].contains("fields"));
    }

    #[test]
    fn etags_and_if_none_match() {
        let tag = etag("doc", 3);
        assert_eq!(tag, "\"doc.3\"");
        assert!(if_none_match("\"doc.3\"", &tag));
        assert!(if_none_match("\"x\", W/\"doc.3\"", &tag));
        assert!(if_none_match("*", &tag));
        assert!(!if_none_match("\"doc.2\"", &tag));
    }
}
