//! Restoring a published version into the live draft, as a forward edit of the CRDT: a
//! post's ([`restore`]) or an entry's of any collection ([`restore_entry`]).
//!
//! The edit replaces `title`, `body` and `meta`'s `slug`/`excerpt`/`tags` with the version's,
//! in one transaction whose update is stored and relayed like any editor's, so connected
//! editors see the restored content live and nothing about history is rewritten. The body is
//! rebuilt from the version's ProseMirror JSON in y-prosemirror's layout (one `XmlText` per run
//! of inline text, marks as formatting attributes), through the same allowlist as
//! [`crate::content`].

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use yrs::types::Attrs;
use yrs::{
    Any, ArrayPrelim, Doc, Map, Text, Transact, TransactionMut, Xml, XmlElementPrelim,
    XmlElementRef, XmlFragment, XmlTextPrelim, XmlTextRef,
};

use crate::content::fields::{FIELDS_MAP, META_MAP};
use crate::content::schema::{Collection, Field, Slot};
use crate::content::{safe_url, MAX_DEPTH};
use crate::error::{Error, Result};
use crate::publish::Post;

/// Makes `doc`'s draft equal `post` and returns the update of that edit (Yjs v1).
///
/// # Errors
/// [`Error::Internal`] if the document is in a transaction.
pub fn restore(doc: &Doc, post: &Post) -> Result<Vec<u8>> {
    let title = doc.get_or_insert_text("title");
    let body = doc.get_or_insert_xml_fragment("body");
    let meta = doc.get_or_insert_map("meta");
    let mut txn = doc
        .try_transact_mut()
        .map_err(|e| Error::Internal(format!("document busy: {e}")))?;
    let len = title.len(&txn);
    title.remove_range(&mut txn, 0, len);
    title.insert(&mut txn, 0, &post.content.title);
    meta.insert(&mut txn, "slug", post.content.slug.as_str());
    meta.insert(&mut txn, "excerpt", post.content.excerpt.as_str());
    let tags: Vec<Any> = post
        .content
        .tags
        .iter()
        .map(|t| Any::from(t.as_str()))
        .collect();
    meta.insert(&mut txn, "tags", ArrayPrelim::from(tags));
    let len = body.len(&txn);
    body.remove_range(&mut txn, 0, len);
    let content = post
        .content
        .json
        .get("content")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut parent = Parent::Fragment(body);
    children(&mut txn, &mut parent, &content, 0);
    Ok(txn.encode_update_v1())
}

/// Makes `doc`'s draft equal a published version of an entry of `collection`: its slug and
/// `fields` (as the version's body holds them, each value as the API answers it), and returns
/// the update of that edit (Yjs v1). Every field of the collection as defined now is written
/// to its slot ([`Field::slot`]): the version's value, or empty if it has none (a field added
/// since); values of fields since removed are not written back.
///
/// # Errors
/// [`Error::Internal`] if the document is in a transaction.
pub fn restore_entry(
    doc: &Doc,
    collection: &Collection,
    slug: &str,
    fields: &Value,
) -> Result<Vec<u8>> {
    // Every root is got before the transaction (getting one inside would need the doc again).
    let slots: Vec<(&Field, Root)> = collection
        .fields
        .iter()
        .map(|f| {
            let root = match f.slot() {
                Slot::RootText(name) => Root::Text(doc.get_or_insert_text(name)),
                Slot::RootXml(name) => Root::Xml(doc.get_or_insert_xml_fragment(name)),
                Slot::Fields(_) => Root::Map(doc.get_or_insert_map(FIELDS_MAP)),
                Slot::Meta(_) => Root::Map(doc.get_or_insert_map(META_MAP)),
            };
            (f, root)
        })
        .collect();
    let meta = doc.get_or_insert_map(META_MAP);
    let mut txn = doc
        .try_transact_mut()
        .map_err(|e| Error::Internal(format!("document busy: {e}")))?;
    meta.insert(&mut txn, "slug", slug);
    for (field, root) in slots {
        let value = fields.get(&field.name).unwrap_or(&Value::Null);
        match root {
            Root::Text(text) => {
                let len = text.len(&txn);
                text.remove_range(&mut txn, 0, len);
                text.insert(&mut txn, 0, value.as_str().unwrap_or_default());
            }
            Root::Xml(fragment) => {
                let len = fragment.len(&txn);
                fragment.remove_range(&mut txn, 0, len);
                let content = value
                    .pointer("/json/content")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                children(&mut txn, &mut Parent::Fragment(fragment), &content, 0);
            }
            Root::Map(map) if value.is_null() => {
                map.remove(&mut txn, &field.name);
            }
            Root::Map(map) => {
                map.insert(&mut txn, field.name.as_str(), any(value, 0));
            }
        }
    }
    Ok(txn.encode_update_v1())
}

/// Where a field is written back.
enum Root {
    Text(yrs::TextRef),
    Xml(yrs::XmlFragmentRef),
    /// The `fields` map (or `meta`, for the built-in post fields kept there).
    Map(yrs::MapRef),
}

/// A published value as a Yjs value (a number is a JSON number, as stock Yjs writes it).
/// Published values are flat (tags, `{id}`, `{src, alt}`); deeper than [`MAX_DEPTH`] is cut.
pub(crate) fn any(value: &Value, depth: usize) -> Any {
    if depth > MAX_DEPTH {
        return Any::Null;
    }
    match value {
        Value::Null => Any::Null,
        Value::Bool(b) => Any::Bool(*b),
        Value::Number(n) => Any::Number(yrs::Number::Float(n.as_f64().unwrap_or_default())),
        Value::String(s) => Any::from(s.as_str()),
        Value::Array(items) => Any::from(
            items
                .iter()
                .map(|v| any(v, depth + 1))
                .collect::<Vec<Any>>(),
        ),
        Value::Object(map) => Any::from(
            map.iter()
                .map(|(k, v)| (k.clone(), any(v, depth + 1)))
                .collect::<HashMap<String, Any>>(),
        ),
    }
}

/// Where [`children`] writes: at the end of a fragment or an element, or into a fragment at
/// a position that moves past each child written (a JSON write replacing only some blocks).
pub(crate) enum Parent {
    Fragment(yrs::XmlFragmentRef),
    Element(XmlElementRef),
    FragmentAt(yrs::XmlFragmentRef, u32),
}

impl Parent {
    /// Where the next child goes (and moves the cursor past it).
    fn next(&mut self, txn: &TransactionMut) -> u32 {
        match self {
            Parent::Fragment(f) => f.len(txn),
            Parent::Element(e) => e.len(txn),
            Parent::FragmentAt(_, at) => {
                *at += 1;
                *at - 1
            }
        }
    }

    fn push_element(&mut self, txn: &mut TransactionMut, tag: &str) -> XmlElementRef {
        let at = self.next(txn);
        match self {
            Parent::Fragment(f) | Parent::FragmentAt(f, _) => {
                f.insert(txn, at, XmlElementPrelim::empty(tag))
            }
            Parent::Element(e) => e.insert(txn, at, XmlElementPrelim::empty(tag)),
        }
    }

    fn push_text(&mut self, txn: &mut TransactionMut) -> XmlTextRef {
        let at = self.next(txn);
        match self {
            Parent::Fragment(f) | Parent::FragmentAt(f, _) => {
                f.insert(txn, at, XmlTextPrelim::new(""))
            }
            Parent::Element(e) => e.insert(txn, at, XmlTextPrelim::new("")),
        }
    }
}

fn str_attr<'a>(node: &'a Value, name: &str) -> Option<&'a str> {
    node.get("attrs")?.get(name)?.as_str()
}

fn marks(node: &Value) -> Attrs {
    let mut attrs = Attrs::new();
    for mark in node
        .get("marks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = mark.get("type").and_then(Value::as_str).unwrap_or_default();
        let value = match name {
            "bold" | "italic" | "strike" | "underline" | "code" => {
                Any::from(HashMap::<String, Any>::new())
            }
            "link" => match str_attr(mark, "href").and_then(safe_url) {
                Some(href) => Any::from(HashMap::from([("href".to_string(), Any::from(href))])),
                None => continue,
            },
            _ => continue,
        };
        attrs.insert(Arc::from(name), value);
    }
    attrs
}

pub(crate) fn children(
    txn: &mut TransactionMut,
    parent: &mut Parent,
    nodes: &[Value],
    depth: usize,
) {
    let mut run: Option<XmlTextRef> = None;
    for node in nodes {
        let kind = node.get("type").and_then(Value::as_str).unwrap_or_default();
        if kind == "text" {
            let text = node.get("text").and_then(Value::as_str).unwrap_or_default();
            if text.is_empty() {
                continue;
            }
            let t = run.get_or_insert_with(|| parent.push_text(txn));
            let at = t.len(txn);
            t.insert_with_attributes(txn, at, text, marks(node));
            continue;
        }
        run = None;
        if depth >= MAX_DEPTH {
            continue;
        }
        let tag = match kind {
            "paragraph" | "heading" | "bulletList" | "orderedList" | "listItem" | "blockquote"
            | "codeBlock" | "horizontalRule" | "hardBreak" | "image" => kind,
            _ => continue,
        };
        let el = parent.push_element(txn, tag);
        match tag {
            "heading" => {
                let level = node["attrs"]["level"]
                    .as_f64()
                    .unwrap_or(1.0)
                    .clamp(1.0, 6.0);
                el.insert_attribute(txn, "level", Any::from(level));
            }
            "orderedList" => {
                let start = node["attrs"]["start"].as_f64().unwrap_or(1.0).max(0.0);
                el.insert_attribute(txn, "start", Any::from(start));
            }
            "codeBlock" => {
                if let Some(lang) = str_attr(node, "language") {
                    el.insert_attribute(txn, "language", lang);
                }
            }
            "image" => {
                if let Some(src) = str_attr(node, "src").and_then(safe_url) {
                    el.insert_attribute(txn, "src", src);
                }
                for name in ["alt", "title"] {
                    if let Some(v) = str_attr(node, name) {
                        el.insert_attribute(txn, name, v);
                    }
                }
            }
            _ => {}
        }
        let content = node
            .get("content")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        children(txn, &mut Parent::Element(el), &content, depth + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::extract;
    use crate::content::render::html;
    use crate::publish::render_for_publish;
    use yrs::updates::decoder::Decode;
    use yrs::ReadTxn;

    fn sample_post() -> (Post, String) {
        let doc = Doc::with_client_id(1);
        let (title, body, meta) = (
            doc.get_or_insert_text("title"),
            doc.get_or_insert_xml_fragment("body"),
            doc.get_or_insert_map("meta"),
        );
        {
            let mut txn = doc.transact_mut();
            title.insert(&mut txn, 0, "Version one");
            meta.insert(
                &mut txn,
                "tags",
                ArrayPrelim::from(vec![Any::from("a"), Any::from("b")]),
            );
            meta.insert(&mut txn, "excerpt", "ex");
            let h = body.push_back(&mut txn, XmlElementPrelim::empty("heading"));
            h.insert_attribute(&mut txn, "level", Any::from(3.0));
            h.push_back(&mut txn, XmlTextPrelim::new("Head"));
            let p = body.push_back(&mut txn, XmlElementPrelim::empty("paragraph"));
            let t = p.push_back(&mut txn, XmlTextPrelim::new(""));
            let bold = Attrs::from([(Arc::from("bold"), Any::from(HashMap::<String, Any>::new()))]);
            let link = Attrs::from([(
                Arc::from("link"),
                Any::from(HashMap::from([(
                    "href".to_string(),
                    Any::from("https://x.y"),
                )])),
            )]);
            t.insert_with_attributes(&mut txn, 0, "plain ", Attrs::new());
            t.insert_with_attributes(&mut txn, 6, "bold", bold);
            t.insert_with_attributes(&mut txn, 10, " then ", Attrs::new());
            t.insert_with_attributes(&mut txn, 16, "link", link);
            p.push_back(&mut txn, XmlElementPrelim::empty("hardBreak"));
            p.push_back(&mut txn, XmlTextPrelim::new("after break"));
            let ol = body.push_back(&mut txn, XmlElementPrelim::empty("orderedList"));
            ol.insert_attribute(&mut txn, "start", Any::from(4.0));
            let li = ol.push_back(&mut txn, XmlElementPrelim::empty("listItem"));
            let lp = li.push_back(&mut txn, XmlElementPrelim::empty("paragraph"));
            lp.push_back(&mut txn, XmlTextPrelim::new("item"));
            let code = body.push_back(&mut txn, XmlElementPrelim::empty("codeBlock"));
            code.insert_attribute(&mut txn, "language", "rust");
            code.push_back(&mut txn, XmlTextPrelim::new("fn main() {}"));
            body.push_back(&mut txn, XmlElementPrelim::empty("horizontalRule"));
            let img = body.push_back(&mut txn, XmlElementPrelim::empty("image"));
            img.insert_attribute(&mut txn, "src", "/i.png");
            img.insert_attribute(&mut txn, "alt", "alt text");
        }
        let content = extract(&doc).unwrap();
        let expected = html(&content);
        (
            Post::new(
                "d",
                1,
                render_for_publish(&content, "version-one".into()),
                0,
                0,
            ),
            expected,
        )
    }

    #[test]
    fn restoring_reproduces_the_version_exactly() {
        let (post, expected_html) = sample_post();
        assert!(
            expected_html.contains("<strong>bold</strong> then <a href"),
            "{expected_html}"
        );
        // A draft that has moved on: different title, body, tags.
        let draft = Doc::with_client_id(2);
        {
            let (title, body) = (
                draft.get_or_insert_text("title"),
                draft.get_or_insert_xml_fragment("body"),
            );
            let mut txn = draft.transact_mut();
            title.insert(&mut txn, 0, "Changed since");
            let p = body.push_back(&mut txn, XmlElementPrelim::empty("paragraph"));
            p.push_back(&mut txn, XmlTextPrelim::new("newer text"));
        }
        let update = restore(&draft, &post).unwrap();
        let restored = extract(&draft).unwrap();
        assert_eq!(html(&restored), expected_html);
        assert_eq!(restored.title, "Version one");
        assert_eq!(restored.meta.slug, "version-one");
        assert_eq!(restored.meta.tags, vec!["a", "b"]);
        assert_eq!(restored.meta.excerpt, "ex");

        // The update is a forward edit: a peer that had the newer draft converges on it.
        let peer = Doc::with_client_id(3);
        let full = draft
            .transact()
            .encode_state_as_update_v1(&yrs::StateVector::default());
        peer.transact_mut()
            .apply_update(yrs::Update::decode_v1(&full).unwrap())
            .unwrap();
        assert_eq!(html(&extract(&peer).unwrap()), expected_html);
        assert!(!update.is_empty());
    }

    /// An `articles` entry written by the contract, every field but `cover` set.
    fn entry_doc(client: u64, headline: &str, words: &str, rating: f64, tags: &[&str]) -> Doc {
        let doc = Doc::with_client_id(client);
        let (text, body, fields) = (
            doc.get_or_insert_text("headline"),
            doc.get_or_insert_xml_fragment("body"),
            doc.get_or_insert_map(FIELDS_MAP),
        );
        let mut txn = doc.transact_mut();
        text.insert(&mut txn, 0, headline);
        let p = body.push_back(&mut txn, XmlElementPrelim::empty("paragraph"));
        let t = p.push_back(&mut txn, XmlTextPrelim::new(""));
        let bold = Attrs::from([(Arc::from("bold"), Any::from(HashMap::<String, Any>::new()))]);
        t.insert_with_attributes(&mut txn, 0, words, bold);
        fields.insert(&mut txn, "rating", rating);
        fields.insert(&mut txn, "featured", true);
        fields.insert(&mut txn, "day", "2026-02-28");
        fields.insert(&mut txn, "at", "2026-11-23T10:00:00+01:00");
        fields.insert(&mut txn, "category", "news");
        let tags: Vec<Any> = tags.iter().map(|t| Any::from(*t)).collect();
        fields.insert(&mut txn, "tags", Any::from(tags));
        fields.insert(
            &mut txn,
            "author",
            Any::from(HashMap::from([("id".to_string(), Any::from("person-1"))])),
        );
        drop(txn);
        doc
    }

    #[test]
    fn restoring_an_entry_writes_every_field_back_to_its_slot() {
        use crate::content::fields::{entry_json, read};
        use crate::publish::render_entry;
        let articles = crate::testing::articles();
        let published = entry_doc(1, "Version one", "Bold words", 4.0, &["rust", "cms"]);
        let rendered = render_entry(
            &articles,
            &read(&published, &articles).unwrap(),
            "v-one".into(),
        );
        let fields = rendered.entry.expect("an entry").fields;

        // The draft moved on: other values, a cover added, the slug changed.
        let draft = entry_doc(2, "A rewrite", "Other words", 2.0, &["edge"]);
        {
            let cover = HashMap::from([
                ("src".to_string(), Any::from("/c.png")),
                ("alt".to_string(), Any::from("")),
            ]);
            let map = draft.get_or_insert_map(FIELDS_MAP);
            let meta = draft.get_or_insert_map(META_MAP);
            let mut txn = draft.transact_mut();
            map.insert(&mut txn, "cover", Any::from(cover));
            meta.insert(&mut txn, "slug", "rewritten");
        }
        let before = draft
            .transact()
            .encode_state_as_update_v1(&yrs::StateVector::default());
        let update = restore_entry(&draft, &articles, "v-one", &fields).unwrap();

        let want = entry_json(&articles, &read(&published, &articles).unwrap());
        let got = entry_json(&articles, &read(&draft, &articles).unwrap());
        assert_eq!(got["fields"], want["fields"]);
        assert_eq!(
            got["fields"]["cover"],
            Value::Null,
            "a value the version did not have is cleared"
        );
        assert_eq!(got["slug"], "v-one");
        assert_eq!(
            got["fields"]["body"]["html"],
            "<p><strong>Bold words</strong></p>"
        );

        // The update alone brings a copy of the moved-on draft to the same place.
        let copy = Doc::with_client_id(3);
        {
            let mut txn = copy.transact_mut();
            txn.apply_update(yrs::Update::decode_v1(&before).unwrap())
                .unwrap();
            txn.apply_update(yrs::Update::decode_v1(&update).unwrap())
                .unwrap();
        }
        assert_eq!(
            entry_json(&articles, &read(&copy, &articles).unwrap())["fields"],
            want["fields"]
        );
    }
}
