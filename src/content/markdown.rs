//! Markdown into the rich-text model, for JSON writes (`{"markdown": "..."}`): parsed by
//! `pulldown-cmark` (CommonMark, plus strikethrough) into ProseMirror JSON in the editor's
//! schema, which [`super::write`] then writes through the same allowlist as everything else.
//!
//! Nothing here recurses: the tree is built with an explicit stack, and nesting deeper than
//! [`MAX_DEPTH`] is flattened into the enclosing block (its words are kept), so a hostile
//! `>>>>…` cannot build a value too deep to drop.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde_json::{json, Map, Value};

use super::model::MAX_DEPTH;

/// One open node: its JSON (without `content`) and its children so far.
struct Open {
    node: Map<String, Value>,
    content: Vec<Value>,
    /// Opened by us to hold inline content that came straight in a container (a tight
    /// list's item, a blockquote): closed by the next block boundary.
    implicit: bool,
}

struct Builder {
    stack: Vec<Open>,
    /// Container starts past [`MAX_DEPTH`] that were not opened, to skip their ends.
    skipped: Vec<usize>,
    marks: Vec<Value>,
    /// Inside an image: its alt text so far.
    image: Option<(String, String, String)>,
}

fn node(kind: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("type".into(), json!(kind));
    m
}

impl Builder {
    fn open(&mut self, node: Map<String, Value>, implicit: bool) {
        if self.stack.len() > MAX_DEPTH {
            let depth = self.stack.len();
            self.skipped.push(depth);
            return;
        }
        self.stack.push(Open {
            node,
            content: Vec::new(),
            implicit,
        });
    }

    fn close(&mut self) {
        if self.skipped.last() == Some(&self.stack.len()) {
            self.skipped.pop();
            return;
        }
        // The root (the doc) is never popped here.
        if self.stack.len() < 2 {
            return;
        }
        if let Some(open) = self.stack.pop() {
            let mut done = open.node;
            if !open.content.is_empty() {
                done.insert("content".into(), Value::Array(open.content));
            }
            self.push(Value::Object(done));
        }
    }

    fn top_kind(&self) -> &str {
        self.stack
            .last()
            .and_then(|o| o.node.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("doc")
    }

    fn push(&mut self, value: Value) {
        if let Some(top) = self.stack.last_mut() {
            top.content.push(value);
        }
    }

    /// Closes an implicit paragraph before a block boundary.
    fn end_implicit(&mut self) {
        if self.stack.last().is_some_and(|o| o.implicit) {
            self.close();
        }
    }

    /// Inline content needs a textblock: opens an implicit paragraph if there is none.
    fn inline(&mut self, value: Value) {
        if !matches!(self.top_kind(), "paragraph" | "heading" | "codeBlock") {
            self.open(node("paragraph"), true);
        }
        self.push(value);
    }

    fn text(&mut self, text: &str, extra: Option<Value>) {
        if text.is_empty() {
            return;
        }
        if let Some((_, _, alt)) = self.image.as_mut() {
            alt.push_str(text);
            return;
        }
        let mut t = json!({ "type": "text", "text": text });
        let mut marks = self.marks.clone();
        marks.extend(extra);
        if !marks.is_empty() && self.top_kind() != "codeBlock" {
            t["marks"] = Value::Array(marks);
        }
        self.inline(t);
    }

    fn start(&mut self, tag: Tag) {
        let block = |kind: &str| Some(node(kind));
        let opened = match tag {
            Tag::Paragraph => block("paragraph"),
            Tag::Heading { level, .. } => {
                let mut n = node("heading");
                let level = match level {
                    HeadingLevel::H1 => 1,
                    HeadingLevel::H2 => 2,
                    HeadingLevel::H3 => 3,
                    HeadingLevel::H4 => 4,
                    HeadingLevel::H5 => 5,
                    HeadingLevel::H6 => 6,
                };
                n.insert("attrs".into(), json!({ "level": level }));
                Some(n)
            }
            Tag::BlockQuote(_) => block("blockquote"),
            Tag::CodeBlock(kind) => {
                let mut n = node("codeBlock");
                if let CodeBlockKind::Fenced(info) = kind {
                    if let Some(lang) = info.split_whitespace().next() {
                        n.insert("attrs".into(), json!({ "language": lang }));
                    }
                }
                Some(n)
            }
            Tag::List(Some(start)) => {
                let mut n = node("orderedList");
                n.insert("attrs".into(), json!({ "start": start }));
                Some(n)
            }
            Tag::List(None) => block("bulletList"),
            Tag::Item => block("listItem"),
            Tag::Emphasis => return self.marks.push(json!({ "type": "italic" })),
            Tag::Strong => return self.marks.push(json!({ "type": "bold" })),
            Tag::Strikethrough => return self.marks.push(json!({ "type": "strike" })),
            Tag::Link { dest_url, .. } => {
                return self
                    .marks
                    .push(json!({ "type": "link", "attrs": { "href": dest_url.as_ref() } }))
            }
            Tag::Image {
                dest_url, title, ..
            } => {
                self.image = Some((dest_url.to_string(), title.to_string(), String::new()));
                return;
            }
            // Anything else (HTML blocks, tables, footnotes, metadata) is not in the model:
            // its text still comes through as paragraphs.
            _ => None,
        };
        if let Some(n) = opened {
            self.end_implicit();
            self.open(n, false);
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph
            | TagEnd::Heading(_)
            | TagEnd::BlockQuote(_)
            | TagEnd::CodeBlock
            | TagEnd::List(_)
            | TagEnd::Item => {
                self.end_implicit();
                self.close();
            }
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough | TagEnd::Link => {
                self.marks.pop();
            }
            TagEnd::Image => {
                if let Some((src, title, alt)) = self.image.take() {
                    let mut attrs = json!({ "src": src, "alt": alt });
                    if !title.is_empty() {
                        attrs["title"] = json!(title);
                    }
                    self.inline(json!({ "type": "image", "attrs": attrs }));
                }
            }
            _ => {}
        }
    }
}

/// `markdown` as a ProseMirror JSON document (`{"type": "doc", "content": [...]}`).
pub fn to_prosemirror(markdown: &str) -> Value {
    let mut b = Builder {
        stack: vec![Open {
            node: node("doc"),
            content: Vec::new(),
            implicit: false,
        }],
        skipped: Vec::new(),
        marks: Vec::new(),
        image: None,
    };
    for event in Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Start(tag) => b.start(tag),
            Event::End(tag) => b.end(tag),
            Event::Text(t) | Event::Html(t) | Event::InlineHtml(t) => b.text(&t, None),
            Event::Code(t) => b.text(&t, Some(json!({ "type": "code" }))),
            Event::SoftBreak => b.text(" ", None),
            Event::HardBreak => b.inline(json!({ "type": "hardBreak" })),
            Event::Rule => {
                b.end_implicit();
                b.push(json!({ "type": "horizontalRule" }));
            }
            _ => {}
        }
    }
    while b.stack.len() > 1 {
        b.close();
    }
    let root = b.stack.pop().map(|o| o.content).unwrap_or_default();
    json!({ "type": "doc", "content": root })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_the_editors_model() {
        let doc = to_prosemirror(
            "# Title\n\nSome **bold**, *it*, `code`, ~~gone~~ and [a link](https://x.y).\n\n\
             - one\n- two\n\n3. three\n\n> quoted\n\n```rust\nfn main() {}\n```\n\n---\n\n\
             ![alt text](/media/abc \"t\")\n\nline  \nbreak",
        );
        let content = doc["content"].as_array().unwrap();
        let kinds: Vec<&str> = content
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "heading",
                "paragraph",
                "bulletList",
                "orderedList",
                "blockquote",
                "codeBlock",
                "horizontalRule",
                "paragraph",
                "paragraph"
            ]
        );
        assert_eq!(content[0]["attrs"]["level"], 1);
        assert_eq!(content[0]["content"][0]["text"], "Title");
        let para = &content[1]["content"];
        assert_eq!(para[1]["text"], "bold");
        assert_eq!(para[1]["marks"][0]["type"], "bold");
        assert_eq!(para[3]["marks"][0]["type"], "italic");
        assert_eq!(para[5]["marks"][0]["type"], "code");
        assert_eq!(para[7]["marks"][0]["type"], "strike");
        assert_eq!(para[9]["marks"][0]["attrs"]["href"], "https://x.y");
        // A tight list's item gets its paragraph.
        assert_eq!(
            content[2]["content"][1]["content"][0]["content"][0]["text"],
            "two"
        );
        assert_eq!(content[3]["attrs"]["start"], 3);
        assert_eq!(content[4]["content"][0]["type"], "paragraph");
        assert_eq!(content[5]["attrs"]["language"], "rust");
        assert_eq!(content[5]["content"][0]["text"], "fn main() {}\n");
        let image = &content[7]["content"][0];
        assert_eq!(image["type"], "image");
        assert_eq!(image["attrs"]["src"], "/media/abc");
        assert_eq!(image["attrs"]["alt"], "alt text");
        assert_eq!(image["attrs"]["title"], "t");
        assert_eq!(content[8]["content"][1]["type"], "hardBreak");
    }

    #[test]
    fn deep_nesting_is_flattened_not_recursed() {
        let deep = ">".repeat(100_000) + " words";
        let doc = to_prosemirror(&deep);
        let mut depth = 0;
        let mut node = &doc;
        while let Some(child) = node["content"].get(0) {
            depth += 1;
            node = child;
        }
        assert!(depth <= MAX_DEPTH + 3, "depth {depth}");
        assert_eq!(node["text"], "words");
        let lists = "- ".repeat(50_000) + "x";
        let _ = to_prosemirror(&lists);
    }
}
