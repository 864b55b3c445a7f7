//! The hostile-content corpus (`tests/data/hostile-content.json`) written straight into the
//! CRDT and rendered: nothing executable reaches the HTML. The oracle scans the output: every
//! tag must be one the renderer writes, every attribute one it writes, every URL safe after
//! HTML-unescaping, and no text may form a tag.

use std::sync::Arc;

use folio::content::render::{html, plain_text, prosemirror_json};
use folio::content::{extract, safe_url};
use serde_json::Value;
use yrs::types::Attrs;
use yrs::{
    Any, Doc, Text, Transact, TransactionMut, Xml, XmlElementPrelim, XmlElementRef, XmlFragment,
    XmlTextPrelim,
};

// The renderer's own tags and attributes: the same allowlists the fuzz oracle uses.
use folio::fuzzing::{ATTRS, TAGS};

fn any(v: &Value) -> Any {
    match v {
        Value::Null => Any::Null,
        Value::Bool(b) => Any::Bool(*b),
        Value::Number(n) => Any::from(n.as_f64().unwrap_or(0.0)),
        Value::String(s) => Any::from(s.as_str()),
        Value::Array(a) => Any::from(a.iter().map(any).collect::<Vec<_>>()),
        Value::Object(o) => Any::from(
            o.iter()
                .map(|(k, v)| (k.clone(), any(v)))
                .collect::<std::collections::HashMap<_, _>>(),
        ),
    }
}

fn build(txn: &mut TransactionMut, parent: &impl XmlFragment, node: &Value) {
    if let Some(text) = node["text"].as_str() {
        let t = parent.push_back(txn, XmlTextPrelim::new(""));
        let mut attrs = Attrs::new();
        if let Some(format) = node["format"].as_object() {
            for (k, v) in format {
                attrs.insert(Arc::from(k.as_str()), any(v));
            }
        }
        t.insert_with_attributes(txn, 0, text, attrs);
        return;
    }
    let tag = node["tag"].as_str().expect("node has tag or text");
    let el: XmlElementRef = parent.push_back(txn, XmlElementPrelim::empty(tag));
    if let Some(attrs) = node["attrs"].as_object() {
        for (k, v) in attrs {
            el.insert_attribute(txn, k.as_str(), any(v));
        }
    }
    for child in node["children"].as_array().into_iter().flatten() {
        build(txn, &el, child);
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Checks every tag in `out` against the allowlists.
fn assert_safe(name: &str, out: &str) {
    let mut rest = out;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after
            .find('>')
            .unwrap_or_else(|| panic!("{name}: unterminated tag in {out}"));
        let tag = &after[..close];
        rest = &after[close + 1..];
        let tag = tag.strip_prefix('/').unwrap_or(tag);
        let (tag_name, attrs) = tag.split_once(' ').unwrap_or((tag, ""));
        assert!(
            TAGS.contains(&tag_name),
            "{name}: tag <{tag_name}> in {out}"
        );
        // Attributes are `name="value"` pairs; values never contain a raw quote.
        let mut attrs = attrs.trim();
        while !attrs.is_empty() {
            let (attr, value_rest) = attrs
                .split_once("=\"")
                .unwrap_or_else(|| panic!("{name}: attr syntax {attrs}"));
            assert!(ATTRS.contains(&attr), "{name}: attribute {attr} in {out}");
            let end = value_rest.find('"').expect("closed value");
            let value = unescape(&value_rest[..end]);
            if attr == "href" || attr == "src" {
                assert_eq!(
                    safe_url(&value).as_deref(),
                    Some(value.as_str()),
                    "{name}: url {value:?}"
                );
                assert!(!value
                    .to_ascii_lowercase()
                    .replace(['\t', '\n', ' '], "")
                    .starts_with("javascript:"));
            }
            attrs = value_rest[end + 1..].trim();
        }
    }
    let lower = out.to_ascii_lowercase();
    for bad in [
        "<script", "<iframe", "<svg", "<style", "<object", "<embed", "<form", "<input", "<meta",
        "<base",
    ] {
        assert!(!lower.contains(bad), "{name}: {bad:?} in {out}");
    }
}

#[test]
fn nothing_executable_reaches_the_output() {
    let corpus: Value =
        serde_json::from_str(include_str!("data/hostile-content.json")).expect("corpus is JSON");
    let cases = corpus["cases"].as_array().expect("cases");
    assert!(cases.len() >= 20);
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let doc = Doc::with_client_id(1);
        let body = doc.get_or_insert_xml_fragment("body");
        {
            let mut txn = doc.transact_mut();
            if let Some(depth) = case["deep"].as_u64() {
                let mut parent: XmlElementRef =
                    body.push_back(&mut txn, XmlElementPrelim::empty("blockquote"));
                for _ in 0..depth {
                    parent = parent.push_back(&mut txn, XmlElementPrelim::empty("blockquote"));
                }
                parent.push_back(&mut txn, XmlTextPrelim::new("bottom"));
            } else {
                for node in case["body"].as_array().expect("body") {
                    build(&mut txn, &body, node);
                }
            }
        }
        let content = extract(&doc).unwrap_or_else(|e| panic!("{name}: {e}"));
        let out = html(&content);
        assert_safe(name, &out);
        // The other renderings must not fail either, and keep the words.
        let json = prosemirror_json(&content);
        assert_eq!(json["type"], "doc", "{name}");
        let _ = plain_text(&content);
        if name == "deep nesting" {
            assert!(plain_text(&content).contains("bottom"), "deep text kept");
        }
        if name == "text that looks like markup" {
            assert!(
                out.contains("&lt;script&gt;"),
                "markup-looking text is escaped text: {out}"
            );
        }
        if name == "nested marks" {
            assert!(out.contains("<a href=\"https://ok.example\""), "{out}");
            assert!(
                out.contains("<strong><em><s><u><code>deep</code></u></s></em></strong>"),
                "{out}"
            );
        }
    }
}

#[test]
fn wrongly_typed_roots_do_not_panic() {
    // A client may define `body` as text and `title` as XML: extraction must still work.
    let writer = Doc::with_client_id(5);
    let body_as_text = writer.get_or_insert_text("body");
    let title_as_map = writer.get_or_insert_map("title");
    let meta_as_text = writer.get_or_insert_text("meta");
    {
        let mut txn = writer.transact_mut();
        body_as_text.insert(&mut txn, 0, "<script>alert(1)</script>");
        yrs::Map::insert(&title_as_map, &mut txn, "x", "y");
        meta_as_text.insert(&mut txn, 0, "slug");
    }
    let update = writer
        .transact()
        .encode_state_as_update_v1(&yrs::StateVector::default());
    let reader = Doc::with_client_id(6);
    reader
        .transact_mut()
        .apply_update(yrs::Update::decode_v1(&update).expect("decode"))
        .expect("apply");
    let content = extract(&reader).expect("extracts");
    assert_safe("wrong roots", &html(&content));
    let _ = prosemirror_json(&content);
}

use yrs::updates::decoder::Decode;
use yrs::ReadTxn;
