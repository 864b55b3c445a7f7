//! The content model of a Folio document and its extraction from the Yrs CRDT.
//!
//! A document holds `title` (`Y.Text`), `body` (`Y.XmlFragment` in the ProseMirror/TipTap
//! shape that TipTap's Collaboration extension writes with `field: 'body'`) and `meta`
//! (`Y.Map`: `slug`, `excerpt`, `tags`).
//!
//! # The security boundary
//! Any client can write any element, attribute or formatting straight into the CRDT,
//! bypassing the editor's schema. Extraction therefore works from an allowlist: known nodes
//! keep only their known attributes (validated), unknown nodes are replaced by their children,
//! unknown marks are dropped, URLs keep only `http`, `https`, `mailto` and relative forms, and
//! nesting deeper than [`MAX_DEPTH`] is flattened to its text. What comes out is a tree that
//! [`super::render`] can print without further checks.

use std::sync::Arc;

use yrs::types::text::Diff;
use yrs::types::Attrs;
use yrs::{
    Any, Doc, GetString, Map, Out, ReadTxn, Text, Transact, Xml, XmlElementRef, XmlFragment,
    XmlFragmentRef, XmlOut, XmlTextRef,
};

use super::model::{safe_url, Block, Content, Mark, Meta, Node, MAX_DEPTH, MAX_TAGS, MAX_TAG_LEN};
use crate::error::{Error, Result};

fn any_str(value: &Any) -> Option<String> {
    match value {
        Any::String(s) => Some(s.to_string()),
        _ => None,
    }
}

fn any_number(value: &Any) -> Option<f64> {
    match value {
        Any::Number(yrs::any::Number::Int(i)) => Some(*i as f64),
        Any::Number(yrs::any::Number::Float(f)) => Some(*f),
        // y-prosemirror stores some attributes as strings.
        Any::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn out_any(value: Out) -> Option<Any> {
    match value {
        Out::Any(any) => Some(any),
        _ => None,
    }
}

fn attr<T: ReadTxn>(el: &XmlElementRef, txn: &T, name: &str) -> Option<Any> {
    el.get_attribute(txn, name).and_then(out_any)
}

/// Reads the document's content through the allowlist.
///
/// # Errors
/// [`Error::Internal`] if the document is in a transaction.
pub fn extract(doc: &Doc) -> Result<Content> {
    // Root types are obtained before the read transaction (they take the document's lock).
    let title = doc.get_or_insert_text("title");
    let body = doc.get_or_insert_xml_fragment("body");
    let meta = doc.get_or_insert_map("meta");
    let txn = doc
        .try_transact()
        .map_err(|e| Error::Internal(format!("document busy: {e}")))?;

    let nodes = rich_text(&txn, &body);
    let text_field = |key: &str| {
        meta.get(&txn, key)
            .and_then(out_any)
            .and_then(|a| any_str(&a))
    };
    let tags = match meta.get(&txn, "tags") {
        Some(Out::Any(Any::Array(items))) => items.iter().filter_map(any_str).collect(),
        Some(Out::YArray(arr)) => {
            use yrs::Array;
            arr.iter(&txn)
                .filter_map(out_any)
                .filter_map(|a| any_str(&a))
                .collect()
        }
        _ => Vec::new(),
    };
    Ok(Content {
        title: title.get_string(&txn),
        body: nodes,
        meta: Meta {
            slug: text_field("slug").unwrap_or_default(),
            excerpt: text_field("excerpt").unwrap_or_default(),
            tags: clean_tags(tags),
        },
    })
}

/// The nodes of a rich-text root, through the allowlist.
pub(crate) fn rich_text<T: ReadTxn>(txn: &T, fragment: &XmlFragmentRef) -> Vec<Node> {
    let mut nodes = Vec::new();
    for child in fragment.children(txn) {
        node(txn, child, 0, &mut nodes);
    }
    nodes
}

fn clean_tags(tags: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.trim().chars().take(MAX_TAG_LEN).collect::<String>();
        if !tag.is_empty() && !out.contains(&tag) && out.len() < MAX_TAGS {
            out.push(tag);
        }
    }
    out
}

/// The nodes one child of a rich-text root reads as (none if the allowlist drops it; several
/// for a run of text with different marks).
pub(crate) fn child_nodes<T: ReadTxn>(txn: &T, child: XmlOut) -> Vec<Node> {
    let mut out = Vec::new();
    node(txn, child, 0, &mut out);
    out
}

fn node<T: ReadTxn>(txn: &T, child: XmlOut, depth: usize, out: &mut Vec<Node>) {
    match child {
        XmlOut::Text(text) => text_runs(txn, &text, out),
        // Every arm respects the depth cap: past it, only the words are kept.
        XmlOut::Fragment(fragment) if depth >= MAX_DEPTH => {
            let text = flat_text(txn, &fragment);
            if !text.is_empty() {
                out.push(Node::Text {
                    text,
                    marks: Vec::new(),
                });
            }
        }
        XmlOut::Fragment(fragment) => {
            for c in fragment.children(txn) {
                node(txn, c, depth + 1, out);
            }
        }
        XmlOut::Element(el) => element(txn, &el, depth, out),
    }
}

fn children<T: ReadTxn>(txn: &T, el: &XmlElementRef, depth: usize) -> Vec<Node> {
    let mut out = Vec::new();
    if depth >= MAX_DEPTH {
        // Too deep: keep the words, drop the structure.
        let text = flat_text(txn, el);
        if !text.is_empty() {
            out.push(Node::Text {
                text,
                marks: Vec::new(),
            });
        }
        return out;
    }
    for c in el.children(txn) {
        node(txn, c, depth + 1, &mut out);
    }
    out
}

/// All text under `el`, in order, walked with an explicit stack: hostile documents can nest
/// far deeper than the call stack (yrs' own `get_string` recurses).
fn flat_text<T: ReadTxn>(txn: &T, el: &impl XmlFragment) -> String {
    let mut out = String::new();
    let mut stack = Vec::new();
    push_children(txn, el, &mut stack);
    while let Some(node) = stack.pop() {
        match node {
            XmlOut::Text(text) => {
                for d in text.diff(txn, |_| ()) {
                    if let Out::Any(Any::String(s)) = d.insert {
                        out.push_str(&s);
                    }
                }
            }
            XmlOut::Element(e) => push_children(txn, &e, &mut stack),
            XmlOut::Fragment(f) => push_children(txn, &f, &mut stack),
        }
    }
    out
}

/// Pushes `parent`'s children so that the first is popped first.
fn push_children<T: ReadTxn>(txn: &T, parent: &impl XmlFragment, stack: &mut Vec<XmlOut>) {
    let start = stack.len();
    stack.extend(parent.children(txn));
    stack[start..].reverse();
}

fn element<T: ReadTxn>(txn: &T, el: &XmlElementRef, depth: usize, out: &mut Vec<Node>) {
    let block = |kind| Node::Block {
        kind,
        children: children(txn, el, depth),
    };
    let tag: &str = el.tag();
    let node = match tag {
        "paragraph" => block(Block::Paragraph),
        "heading" => {
            let level = attr(el, txn, "level")
                .and_then(|a| any_number(&a))
                .unwrap_or(1.0);
            block(Block::Heading {
                level: level.clamp(1.0, 6.0) as u8,
            })
        }
        "bulletList" => block(Block::BulletList),
        "orderedList" => {
            let start = attr(el, txn, "start")
                .and_then(|a| any_number(&a))
                .unwrap_or(1.0);
            block(Block::OrderedList {
                start: start.clamp(0.0, 1_000_000.0) as u32,
            })
        }
        "listItem" => block(Block::ListItem),
        "blockquote" => block(Block::Blockquote),
        "codeBlock" => {
            let language = attr(el, txn, "language")
                .and_then(|a| any_str(&a))
                .filter(|l| {
                    !l.is_empty()
                        && l.len() <= 32
                        && l.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"+-_#.".contains(&b))
                });
            block(Block::CodeBlock { language })
        }
        "horizontalRule" => Node::HorizontalRule,
        "hardBreak" => Node::HardBreak,
        "image" => {
            let src = attr(el, txn, "src")
                .and_then(|a| any_str(&a))
                .and_then(|s| safe_url(&s));
            match src {
                Some(src) => Node::Image {
                    src,
                    alt: attr(el, txn, "alt").and_then(|a| any_str(&a)),
                    title: attr(el, txn, "title").and_then(|a| any_str(&a)),
                    media: None,
                },
                None => return, // an image without a safe source is nothing
            }
        }
        // Unknown nodes (script, iframe, svg, anything) render their children only.
        _ => {
            out.extend(children(txn, el, depth));
            return;
        }
    };
    out.push(node);
}

fn text_runs<T: ReadTxn>(txn: &T, text: &XmlTextRef, out: &mut Vec<Node>) {
    let diffs: Vec<Diff<()>> = text.diff(txn, |_| ());
    for d in diffs {
        let s = match &d.insert {
            Out::Any(Any::String(s)) => s.to_string(),
            _ => continue, // embeds inside text are not part of the model
        };
        if s.is_empty() {
            continue;
        }
        out.push(Node::Text {
            text: s,
            marks: marks(d.attributes.as_deref()),
        });
    }
}

fn marks(attrs: Option<&Attrs>) -> Vec<Mark> {
    let Some(attrs) = attrs else {
        return Vec::new();
    };
    let mut marks = Vec::new();
    // A fixed order, so that equal formatting always renders the same way.
    for (name, mark) in [
        ("link", None),
        ("bold", Some(Mark::Bold)),
        ("italic", Some(Mark::Italic)),
        ("strike", Some(Mark::Strike)),
        ("underline", Some(Mark::Underline)),
        ("code", Some(Mark::Code)),
    ] {
        let Some(value) = attrs.get(&Arc::<str>::from(name)) else {
            continue;
        };
        if matches!(value, Any::Null | Any::Undefined | Any::Bool(false)) {
            continue;
        }
        match mark {
            Some(m) => marks.push(m),
            None => {
                let href = match value {
                    Any::Map(m) => m.get("href").and_then(any_str),
                    _ => None,
                };
                if let Some(href) = href.and_then(|h| safe_url(&h)) {
                    marks.push(Mark::Link { href });
                }
            }
        }
    }
    marks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_trimmed_deduplicated_and_capped() {
        let tags = clean_tags(vec![" a ".into(), "a".into(), "".into(), "b".repeat(100)]);
        assert_eq!(tags, vec!["a".to_string(), "b".repeat(MAX_TAG_LEN)]);
        assert_eq!(
            clean_tags((0..100).map(|i| i.to_string()).collect()).len(),
            MAX_TAGS
        );
    }
}
