//! Rendering of sanitized [`Content`] to HTML, ProseMirror JSON (the shape TipTap's
//! `getJSON()` gives), plain text and a word count.
//!
//! Every string that reaches HTML passes through [`escape`]; every URL was already filtered by
//! [`crate::content::safe_url`]. The only tags and attributes that can appear are the ones
//! written below.

use serde_json::{json, Map, Value};

use crate::content::fields::{Entry, Read, Value as FieldValue};
use crate::content::schema::Collection;
use crate::content::{Block, Content, Mark, Node};

/// Everything a client needs about a draft or a post, as JSON.
pub fn document_json(id: &str, content: &Content) -> Value {
    json!({
        "id": id,
        "title": content.title,
        "slug": content.meta.slug,
        "excerpt": content.meta.excerpt,
        "tags": content.meta.tags,
        "html": html(content),
        "json": prosemirror_json(content),
        "text": plain_text(content),
        "word_count": word_count(content),
    })
}

/// A rich-text value as readers get it: `{html, json, text}` (json: a ProseMirror document).
pub fn rich_text_json(nodes: &[Node]) -> Value {
    let mut html = String::new();
    nodes_html(nodes, &mut html);
    let mut text = String::new();
    text_of(nodes, &mut text);
    json!({
        "html": html,
        "json": { "type": "doc", "content": nodes_json(nodes) },
        "text": text.trim_end(),
    })
}

/// An entry as the body of its preview page: each field holding a value, in the collection's
/// order, under its label; rich text as its sanitized HTML, an image as an `<img>` (its `src`
/// was filtered when read), everything else as escaped text.
pub fn entry_html(collection: &Collection, entry: &Entry) -> String {
    let mut out = String::new();
    for field in &collection.fields {
        let Read::Value(value) = entry.get(&field.name) else {
            continue;
        };
        out.push_str("<section><h2>");
        escape(field.label.as_deref().unwrap_or(&field.name), &mut out);
        out.push_str("</h2>");
        match value {
            FieldValue::RichText(nodes) => nodes_html(nodes, &mut out),
            FieldValue::Image { src, alt, media } => {
                out.push_str("<p>");
                img_html(src, Some(alt), None, media.as_ref(), &mut out);
                out.push_str("</p>");
            }
            FieldValue::Number(n) => {
                out.push_str("<p>");
                escape(&n.to_string(), &mut out); // 4, not 4.0
                out.push_str("</p>");
            }
            other => {
                let text = match other.to_json() {
                    Value::String(s) => s,
                    Value::Array(items) => items
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", "),
                    Value::Bool(b) => if b { "yes" } else { "no" }.to_string(),
                    Value::Object(o) => o
                        .get("id")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    v => v.to_string(),
                };
                out.push_str("<p>");
                escape(&text, &mut out);
                out.push_str("</p>");
            }
        }
        out.push_str("</section>");
    }
    out
}

/// Escapes text for use in HTML text and double- or single-quoted attribute values.
pub fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Adjacent text runs with equal marks, merged (Yrs may split a run at any point).
fn merged(nodes: &[Node]) -> Vec<Node> {
    let mut out: Vec<Node> = Vec::with_capacity(nodes.len());
    for n in nodes {
        if let (
            Some(Node::Text { text, marks }),
            Node::Text {
                text: more,
                marks: m2,
            },
        ) = (out.last_mut(), n)
        {
            if marks == m2 {
                text.push_str(more);
                continue;
            }
        }
        out.push(n.clone());
    }
    out
}

/// The body as HTML.
pub fn html(content: &Content) -> String {
    let mut out = String::new();
    nodes_html(&content.body, &mut out);
    out
}

fn nodes_html(nodes: &[Node], out: &mut String) {
    for node in merged(nodes) {
        node_html(&node, out);
    }
}

fn node_html(node: &Node, out: &mut String) {
    match node {
        Node::Text { text, marks } => {
            for mark in marks {
                match mark {
                    Mark::Link { href } => {
                        out.push_str("<a href=\"");
                        escape(href, out);
                        out.push_str("\" rel=\"noopener noreferrer nofollow\">");
                    }
                    other => out.push_str(mark_tag(other).0),
                }
            }
            escape(text, out);
            for mark in marks.iter().rev() {
                out.push_str(mark_tag(mark).1);
            }
        }
        Node::HardBreak => out.push_str("<br>"),
        Node::HorizontalRule => out.push_str("<hr>"),
        Node::Image {
            src,
            alt,
            title,
            media,
        } => img_html(src, alt.as_deref(), title.as_deref(), media.as_ref(), out),
        Node::Block { kind, children } => {
            let (open, close): (String, &str) = match kind {
                Block::Paragraph => ("<p>".into(), "</p>"),
                Block::Heading { level } => (format!("<h{level}>"), heading_close(*level)),
                Block::BulletList => ("<ul>".into(), "</ul>"),
                Block::OrderedList { start: 1 } => ("<ol>".into(), "</ol>"),
                Block::OrderedList { start } => (format!("<ol start=\"{start}\">"), "</ol>"),
                Block::ListItem => ("<li>".into(), "</li>"),
                Block::Blockquote => ("<blockquote>".into(), "</blockquote>"),
                Block::CodeBlock {
                    language: Some(lang),
                } => {
                    let mut open = String::from("<pre><code class=\"language-");
                    escape(lang, &mut open);
                    open.push_str("\">");
                    (open, "</code></pre>")
                }
                Block::CodeBlock { language: None } => ("<pre><code>".into(), "</code></pre>"),
            };
            out.push_str(&open);
            nodes_html(children, out);
            out.push_str(close);
        }
    }
}

/// What readers get beside an image's `src` when it is a Folio media file the edge knows:
/// `width` and `height` (its displayed size, so the page does not shift as it loads), and
/// for an image with variants `srcset` and `sizes`. `None` for any other image.
pub fn media_attrs(
    src: &str,
    media: Option<&crate::media::MediaInfo>,
) -> Option<Vec<(&'static str, Value)>> {
    let (dims, variants) = sized(src, media)?;
    let mut attrs = vec![("width", dims.width.into()), ("height", dims.height.into())];
    if let Some((_, srcset, sizes)) = variants {
        attrs.push(("srcset", srcset.into()));
        attrs.push(("sizes", sizes.into()));
    }
    Some(attrs)
}

/// An image's `(src, srcset, sizes)` for its variants.
type Variants = (String, String, String);

/// The size of a media image the edge knows (`src` exactly `/media/{id}`), and its
/// [`Variants`] when it has some.
fn sized(
    src: &str,
    media: Option<&crate::media::MediaInfo>,
) -> Option<(crate::media::Dims, Option<Variants>)> {
    let media = media.filter(|_| crate::media::id_in_src(src).is_some())?;
    let dims = media.dims?;
    Some((
        dims,
        crate::media::variant::srcset(src, media.media_type, dims),
    ))
}

/// An `<img>`: lazily loaded, decoded off the main thread, and for a known media file with
/// its size, a screen-sized `src` and the `srcset` of its variants.
fn img_html(
    src: &str,
    alt: Option<&str>,
    title: Option<&str>,
    media: Option<&crate::media::MediaInfo>,
    out: &mut String,
) {
    let sized = sized(src, media);
    let variants = sized.as_ref().and_then(|(_, v)| v.as_ref());
    out.push_str("<img src=\"");
    escape(variants.map_or(src, |(fallback, ..)| fallback), out);
    out.push('"');
    if let Some((_, srcset, sizes)) = variants {
        out.push_str(" srcset=\"");
        escape(srcset, out);
        out.push_str("\" sizes=\"");
        escape(sizes, out);
        out.push('"');
    }
    if let Some((dims, _)) = &sized {
        out.push_str(&format!(
            " width=\"{}\" height=\"{}\"",
            dims.width, dims.height
        ));
    }
    // An image without alt text is announced by its file name; an empty alt marks it as
    // decorative, which is the honest default when the author wrote none.
    out.push_str(" alt=\"");
    escape(alt.unwrap_or(""), out);
    out.push('"');
    if let Some(title) = title {
        out.push_str(" title=\"");
        escape(title, out);
        out.push('"');
    }
    out.push_str(" loading=\"lazy\" decoding=\"async\">");
}

fn heading_close(level: u8) -> &'static str {
    match level {
        1 => "</h1>",
        2 => "</h2>",
        3 => "</h3>",
        4 => "</h4>",
        5 => "</h5>",
        _ => "</h6>",
    }
}

fn mark_tag(mark: &Mark) -> (&'static str, &'static str) {
    match mark {
        Mark::Bold => ("<strong>", "</strong>"),
        Mark::Italic => ("<em>", "</em>"),
        Mark::Strike => ("<s>", "</s>"),
        Mark::Underline => ("<u>", "</u>"),
        Mark::Code => ("<code>", "</code>"),
        Mark::Link { .. } => ("", "</a>"),
    }
}

/// The body as a ProseMirror document (`{"type": "doc", "content": [...]}`).
pub fn prosemirror_json(content: &Content) -> Value {
    json!({ "type": "doc", "content": nodes_json(&content.body) })
}

fn nodes_json(nodes: &[Node]) -> Vec<Value> {
    merged(nodes).iter().map(node_json).collect()
}

fn typed(kind: &str, attrs: Option<Value>, children: Option<&[Node]>) -> Value {
    let mut obj = Map::new();
    obj.insert("type".into(), kind.into());
    if let Some(attrs) = attrs {
        obj.insert("attrs".into(), attrs);
    }
    if let Some(children) = children.filter(|c| !c.is_empty()) {
        obj.insert("content".into(), nodes_json(children).into());
    }
    Value::Object(obj)
}

fn node_json(node: &Node) -> Value {
    match node {
        Node::Text { text, marks } => {
            let mut obj = Map::new();
            obj.insert("type".into(), "text".into());
            obj.insert("text".into(), text.as_str().into());
            if !marks.is_empty() {
                let marks: Vec<Value> = marks
                    .iter()
                    .map(|m| match m {
                        Mark::Bold => json!({"type": "bold"}),
                        Mark::Italic => json!({"type": "italic"}),
                        Mark::Strike => json!({"type": "strike"}),
                        Mark::Underline => json!({"type": "underline"}),
                        Mark::Code => json!({"type": "code"}),
                        Mark::Link { href } => json!({"type": "link", "attrs": {"href": href}}),
                    })
                    .collect();
                obj.insert("marks".into(), marks.into());
            }
            Value::Object(obj)
        }
        Node::HardBreak => typed("hardBreak", None, None),
        Node::HorizontalRule => typed("horizontalRule", None, None),
        Node::Image {
            src,
            alt,
            title,
            media,
        } => {
            let mut attrs = json!({"src": src, "alt": alt, "title": title});
            for (k, v) in media_attrs(src, media.as_ref()).unwrap_or_default() {
                attrs[k] = v;
            }
            typed("image", Some(attrs), None)
        }
        Node::Block { kind, children } => {
            let (name, attrs) = match kind {
                Block::Paragraph => ("paragraph", None),
                Block::Heading { level } => ("heading", Some(json!({ "level": level }))),
                Block::BulletList => ("bulletList", None),
                Block::OrderedList { start } => ("orderedList", Some(json!({ "start": start }))),
                Block::ListItem => ("listItem", None),
                Block::Blockquote => ("blockquote", None),
                Block::CodeBlock { language } => {
                    ("codeBlock", Some(json!({ "language": language })))
                }
            };
            typed(name, attrs, Some(children))
        }
    }
}

/// The body as plain text: blocks on their own lines, hard breaks as newlines.
pub fn plain_text(content: &Content) -> String {
    let mut out = String::new();
    text_of(&content.body, &mut out);
    out.trim_end().to_string()
}

fn text_of(nodes: &[Node], out: &mut String) {
    for node in nodes {
        match node {
            Node::Text { text, .. } => out.push_str(text),
            Node::HardBreak => out.push('\n'),
            Node::HorizontalRule | Node::Image { .. } => {}
            Node::Block { kind, children } => {
                text_of(children, out);
                let is_container = matches!(kind, Block::BulletList | Block::OrderedList { .. });
                if !is_container && !out.ends_with('\n') {
                    out.push('\n');
                }
            }
        }
    }
}

/// Words in the body: runs of non-whitespace containing a letter or digit.
pub fn word_count(content: &Content) -> usize {
    plain_text(content)
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Meta;

    fn text(s: &str, marks: Vec<Mark>) -> Node {
        Node::Text {
            text: s.into(),
            marks,
        }
    }

    fn sample() -> Content {
        Content {
            title: "T".into(),
            meta: Meta::default(),
            body: vec![
                Node::Block {
                    kind: Block::Heading { level: 2 },
                    children: vec![text("Intro", vec![])],
                },
                Node::Block {
                    kind: Block::Paragraph,
                    children: vec![
                        text("Hello ", vec![]),
                        text("bold", vec![Mark::Bold]),
                        text(" & ", vec![]),
                        text(
                            "<linked>",
                            vec![
                                Mark::Link {
                                    href: "https://x.y/?a=1&b=\"2\"".into(),
                                },
                                Mark::Italic,
                            ],
                        ),
                        Node::HardBreak,
                        text("two", vec![]),
                        text(" words", vec![]),
                    ],
                },
                Node::Block {
                    kind: Block::OrderedList { start: 3 },
                    children: vec![Node::Block {
                        kind: Block::ListItem,
                        children: vec![Node::Block {
                            kind: Block::Paragraph,
                            children: vec![text("item", vec![])],
                        }],
                    }],
                },
                Node::Block {
                    kind: Block::CodeBlock {
                        language: Some("rust".into()),
                    },
                    children: vec![text("let x = 1 < 2;", vec![])],
                },
                Node::HorizontalRule,
                Node::Image {
                    src: "/a.png".into(),
                    alt: Some("an \"image\"".into()),
                    title: None,
                    media: None,
                },
            ],
        }
    }

    #[test]
    fn html_is_escaped_and_uses_only_known_tags() {
        assert_eq!(
            html(&sample()),
            "<h2>Intro</h2><p>Hello <strong>bold</strong> &amp; <a href=\"https://x.y/?a=1&amp;b=&quot;2&quot;\" \
             rel=\"noopener noreferrer nofollow\"><em>&lt;linked&gt;</em></a><br>two words</p>\
             <ol start=\"3\"><li><p>item</p></li></ol><pre><code class=\"language-rust\">let x = 1 &lt; 2;</code></pre>\
             <hr><img src=\"/a.png\" alt=\"an &quot;image&quot;\" loading=\"lazy\" decoding=\"async\">"
        );
    }

    #[test]
    fn json_has_the_tiptap_shape() {
        let doc = prosemirror_json(&sample());
        assert_eq!(doc["type"], "doc");
        assert_eq!(
            doc["content"][0],
            json!({"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "Intro"}]})
        );
        let para = &doc["content"][1]["content"];
        assert_eq!(
            para[1],
            json!({"type": "text", "text": "bold", "marks": [{"type": "bold"}]})
        );
        assert_eq!(
            para[3]["marks"][0],
            json!({"type": "link", "attrs": {"href": "https://x.y/?a=1&b=\"2\""}})
        );
        assert_eq!(para[4], json!({"type": "hardBreak"}));
        assert_eq!(
            para[5],
            json!({"type": "text", "text": "two words"}),
            "adjacent runs merged"
        );
        assert_eq!(doc["content"][2]["attrs"], json!({"start": 3}));
        assert_eq!(
            doc["content"][5]["attrs"],
            json!({"src": "/a.png", "alt": "an \"image\"", "title": null})
        );
    }

    #[test]
    fn a_known_media_image_gets_its_size_and_srcset_and_others_do_not() {
        use crate::media::{Dims, MediaInfo, MediaType};
        let id = "0123456789abcdef0123456789abcdef";
        let image = |src: &str, media_type, width| Node::Image {
            src: src.into(),
            alt: Some("A cat".into()),
            title: None,
            media: Some(MediaInfo {
                media_type,
                dims: Some(Dims {
                    width,
                    height: width / 2,
                }),
            }),
        };
        let url = format!("/media/{id}");
        let content = |node| Content {
            body: vec![node],
            ..Content::default()
        };
        assert_eq!(
            html(&content(image(&url, MediaType::Jpeg, 2000))),
            format!(
                "<img src=\"{url}?w=1280\" srcset=\"{url}?w=320 320w, {url}?w=640 640w, \
                 {url}?w=960 960w, {url}?w=1280 1280w, {url}?w=1920 1920w, {url} 2000w\" \
                 sizes=\"(max-width: 2000px) 100vw, 2000px\" width=\"2000\" height=\"1000\" \
                 alt=\"A cat\" loading=\"lazy\" decoding=\"async\">"
            )
        );
        // A GIF has no variants, but its size.
        assert_eq!(
            html(&content(image(&url, MediaType::Gif, 400))),
            format!("<img src=\"{url}\" width=\"400\" height=\"200\" alt=\"A cat\" loading=\"lazy\" decoding=\"async\">")
        );
        // Info attached to a URL that is not a media path is ignored.
        assert_eq!(
            html(&content(image("https://x.y/c.png", MediaType::Jpeg, 2000))),
            "<img src=\"https://x.y/c.png\" alt=\"A cat\" loading=\"lazy\" decoding=\"async\">"
        );
        let json = prosemirror_json(&content(image(&url, MediaType::Png, 800)));
        assert_eq!(json["content"][0]["attrs"]["width"], 800);
        assert!(json["content"][0]["attrs"]["srcset"]
            .as_str()
            .unwrap()
            .ends_with("800w"));
    }

    #[test]
    fn plain_text_and_word_count() {
        assert_eq!(
            plain_text(&sample()),
            "Intro\nHello bold & <linked>\ntwo words\nitem\nlet x = 1 < 2;"
        );
        assert_eq!(word_count(&sample()), 11);
        assert_eq!(word_count(&Content::default()), 0);
    }

    #[test]
    fn an_entry_page_shows_each_field_with_a_value_escaped_under_its_label() {
        use crate::content::fields::{Entry, Read, Value as V};
        let entry = Entry {
            slug: "s".into(),
            fields: vec![
                (
                    "headline".into(),
                    Read::Value(V::Text("<b>Hi</b> & co".into())),
                ),
                ("body".into(), Read::Empty),
                ("rating".into(), Read::Value(V::Number(4.0))),
                ("featured".into(), Read::Value(V::Boolean(true))),
                ("category".into(), Read::Wrong("not an option".into())),
                (
                    "tags".into(),
                    Read::Value(V::Tags(vec!["a".into(), "b\"".into()])),
                ),
                (
                    "cover".into(),
                    Read::Value(V::Image {
                        src: "/c.png".into(),
                        alt: "A \"quote\"".into(),
                        media: None,
                    }),
                ),
            ],
        };
        let html = entry_html(&crate::testing::articles(), &entry);
        assert_eq!(
            html,
            "<section><h2>headline</h2><p>&lt;b&gt;Hi&lt;/b&gt; &amp; co</p></section>\
             <section><h2>rating</h2><p>4</p></section>\
             <section><h2>featured</h2><p>yes</p></section>\
             <section><h2>tags</h2><p>a, b&quot;</p></section>\
             <section><h2>cover</h2><p><img src=\"/c.png\" alt=\"A &quot;quote&quot;\" loading=\"lazy\" decoding=\"async\"></p></section>"
        );
    }
}
