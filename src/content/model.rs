//! The content model of a Folio document: what survives extraction ([`super::extract`]) and
//! what the renderer ([`super::render`]) prints without further checks.

use serde::Serialize;

/// Deepest nesting of body nodes kept; deeper content is flattened into text. Real documents
/// nest a handful of levels (a list in a quote in a list); the cap bounds recursion on hostile
/// input.
pub const MAX_DEPTH: usize = 32;

/// Most tags kept per document, and longest tag kept (characters).
pub const MAX_TAGS: usize = 32;
pub const MAX_TAG_LEN: usize = 64;

/// A document's content, sanitized.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Content {
    pub title: String,
    pub body: Vec<Node>,
    pub meta: Meta,
}

/// The `meta` map.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Meta {
    pub slug: String,
    pub excerpt: String,
    pub tags: Vec<String>,
}

/// A body node that survived the allowlist.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Block {
        kind: Block,
        children: Vec<Node>,
    },
    Text {
        text: String,
        marks: Vec<Mark>,
    },
    HardBreak,
    HorizontalRule,
    Image {
        src: String,
        alt: Option<String>,
        title: Option<String>,
        /// What the edge knows of the media file `src` refers to (`/media/{id}`), attached
        /// before rendering for readers ([`crate::media::attach`]); never read from the CRDT.
        media: Option<crate::media::MediaInfo>,
    },
}

/// Block node types and their validated attributes.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Paragraph,
    Heading { level: u8 },
    BulletList,
    OrderedList { start: u32 },
    ListItem,
    Blockquote,
    CodeBlock { language: Option<String> },
}

/// Marks and their validated attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    Bold,
    Italic,
    Strike,
    Underline,
    Code,
    Link { href: String },
}

/// Returns `url` if its scheme is allowed (`http`, `https`, `mailto`) or it is relative.
///
/// Browsers ignore ASCII tabs and newlines inside URLs and leading control characters and
/// spaces (WHATWG URL), so `java\tscript:` is `javascript:`: the scheme is judged on the URL
/// with those removed, and that cleaned form is what is kept.
pub fn safe_url(url: &str) -> Option<String> {
    let cleaned: String = url
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    if cleaned.is_empty() || cleaned.chars().any(|c| c.is_control()) {
        return None;
    }
    let scheme_end = cleaned.find(':');
    let path_start = cleaned.find(['/', '?', '#']);
    match (scheme_end, path_start) {
        // A colon before any path character: that is a scheme.
        (Some(colon), p) if p.is_none_or(|p| colon < p) => {
            let scheme = cleaned[..colon].to_ascii_lowercase();
            matches!(scheme.as_str(), "http" | "https" | "mailto").then_some(cleaned)
        }
        _ => Some(cleaned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_only_safe_schemes() {
        for ok in [
            "https://a.b/c",
            "http://x",
            "mailto:a@b.c",
            "/rel",
            "rel/x",
            "#frag",
            "?q=1",
            "HTTPS://X",
        ] {
            assert!(safe_url(ok).is_some(), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            " javascript:alert(1)",
            "java\tscript:alert(1)",
            "java\nscript:alert(1)",
            "\u{0001}javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:x",
            "file:///etc/passwd",
            "",
            "   ",
        ] {
            assert_eq!(safe_url(bad), None, "{bad:?}");
        }
        // Entity-obfuscated schemes are not schemes: the text is kept literally (and escaped
        // on output), so a browser sees a relative URL.
        assert_eq!(
            safe_url("javascript&#58;alert(1)").as_deref(),
            Some("javascript&#58;alert(1)")
        );
    }
}
