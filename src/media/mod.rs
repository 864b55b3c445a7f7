//! Media: uploaded files kept in R2 under an id derived from their content, and the images'
//! width variants.
//!
//! - [`probe`]: what an upload is, from its bytes (type, displayed size); hostile headers are
//!   errors, never panics (fuzzed: `fuzz/fuzz_targets/media.rs`);
//! - [`variant`]: the widths, the `srcset`, and how a variant is made;
//! - [`range`]: the one byte range a reader asks for;
//! - here: types, ids, and the media an image in a document refers to.
//!
//! A document refers to a media file by the path `/media/{id}` in an image's `src` (rich
//! text) or an image field's `src`. Before rendering for readers, the edge looks those ids up
//! ([`ids_in_nodes`]) and attaches what it knows ([`MediaInfo`]), so that the renderer can
//! print `width`, `height` and `srcset` without trusting what an author's client wrote.

pub mod probe;
pub mod range;
pub mod variant;

use std::collections::BTreeMap;

pub use probe::{Dims, Probe, ProbeError};

use crate::content::fields::{Entry, Read, Value as FieldValue};
use crate::content::Node;

/// The largest upload, in bytes: 25 MB (R2 takes up to 5 GB in one put, a Worker's request
/// body up to 100 MB on the free plan; a 25 MB cap keeps an upload inside one request's
/// memory with room to spare, where EmDash defaults to 10 MB).
pub const MAX_MEDIA_BYTES: u64 = 25 * 1_000_000;

/// Characters of a media id: 128 bits of the SHA-256 of the content, as hex.
pub const ID_LEN: usize = 32;

/// The accepted types. SVG is not one of them: it can carry script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MediaType {
    Jpeg,
    Png,
    Gif,
    Webp,
    Avif,
    Pdf,
}

impl MediaType {
    pub const ALL: [MediaType; 6] = [
        MediaType::Jpeg,
        MediaType::Png,
        MediaType::Gif,
        MediaType::Webp,
        MediaType::Avif,
        MediaType::Pdf,
    ];

    pub fn mime(self) -> &'static str {
        match self {
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::Gif => "image/gif",
            MediaType::Webp => "image/webp",
            MediaType::Avif => "image/avif",
            MediaType::Pdf => "application/pdf",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            MediaType::Jpeg => "JPEG",
            MediaType::Png => "PNG",
            MediaType::Gif => "GIF",
            MediaType::Webp => "WebP",
            MediaType::Avif => "AVIF",
            MediaType::Pdf => "PDF",
        }
    }

    /// The type of a MIME essence (lowercase, no parameters); `image/jpg` is a common alias.
    pub fn from_mime(mime: &str) -> Option<MediaType> {
        if mime == "image/jpg" {
            return Some(MediaType::Jpeg);
        }
        Self::ALL.into_iter().find(|t| t.mime() == mime)
    }

    pub fn is_image(self) -> bool {
        self != MediaType::Pdf
    }
}

/// The id of content whose SHA-256 is `sha256_hex`: its first [`ID_LEN`] characters. The same
/// bytes always get the same id, so an upload is stored once.
pub fn media_id(sha256_hex: &str) -> String {
    sha256_hex.chars().take(ID_LEN).collect()
}

/// Whether `s` is a media id: [`ID_LEN`] lowercase hex digits.
pub fn is_id(s: &str) -> bool {
    s.len() == ID_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The path readers fetch media `id` at.
pub fn url(id: &str) -> String {
    format!("/media/{id}")
}

/// The media id an image `src` refers to: exactly `/media/{id}`.
pub fn id_in_src(src: &str) -> Option<&str> {
    src.strip_prefix("/media/").filter(|id| is_id(id))
}

/// What the edge knows of a media file when rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaInfo {
    pub media_type: MediaType,
    pub dims: Option<Dims>,
}

/// Media ids to what is known of them.
pub type Known = BTreeMap<String, MediaInfo>;

/// Every media id the images in `nodes` refer to, added to `ids` (duplicates kept once).
pub fn ids_in_nodes(nodes: &[Node], ids: &mut Vec<String>) {
    for node in nodes {
        match node {
            Node::Image { src, .. } => push_id(src, ids),
            Node::Block { children, .. } => ids_in_nodes(children, ids),
            _ => {}
        }
    }
}

/// Every media id an entry's image and rich-text fields refer to.
pub fn ids_in_entry(entry: &Entry) -> Vec<String> {
    let mut ids = Vec::new();
    for (_, read) in &entry.fields {
        match read {
            Read::Value(FieldValue::Image { src, .. }) => push_id(src, &mut ids),
            Read::Value(FieldValue::RichText(nodes)) => ids_in_nodes(nodes, &mut ids),
            _ => {}
        }
    }
    ids
}

/// Attaches what `known` says to an entry's image and rich-text fields.
pub fn attach_entry(entry: &mut Entry, known: &Known) {
    for (_, read) in &mut entry.fields {
        match read {
            Read::Value(FieldValue::Image { src, media, .. }) => {
                *media = id_in_src(src).and_then(|id| known.get(id)).copied();
            }
            Read::Value(FieldValue::RichText(nodes)) => attach(nodes, known),
            _ => {}
        }
    }
}

/// Adds the media id of `src`, if it is one and not there yet.
pub fn push_id(src: &str, ids: &mut Vec<String>) {
    if let Some(id) = id_in_src(src) {
        if !ids.iter().any(|i| i == id) {
            ids.push(id.to_string());
        }
    }
}

/// Attaches what `known` says to every image of `nodes` that refers to media.
pub fn attach(nodes: &mut [Node], known: &Known) {
    for node in nodes {
        match node {
            Node::Image { src, media, .. } => {
                *media = id_in_src(src).and_then(|id| known.get(id)).copied();
            }
            Node::Block { children, .. } => attach(children, known),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{Block, Node};

    const ID: &str = "0123456789abcdef0123456789abcdef";

    fn image(src: &str) -> Node {
        Node::Image {
            src: src.into(),
            alt: None,
            title: None,
            media: None,
        }
    }

    #[test]
    fn ids_are_the_hash_prefix_and_only_exact_paths_refer_to_media() {
        let hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(media_id(hash), ID);
        assert!(is_id(ID));
        assert_eq!(id_in_src(&url(ID)), Some(ID));
        for not in [
            "/media/0123456789ABCDEF0123456789abcdef",
            "/media/0123456789abcdef0123456789abcde",
            "/media/0123456789abcdef0123456789abcdef?w=320",
            "https://x.y/media/0123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(id_in_src(not), None, "{not}");
        }
    }

    #[test]
    fn ids_are_collected_and_info_attached_at_any_depth() {
        let mut nodes = vec![
            image(&url(ID)),
            Node::Block {
                kind: Block::Blockquote,
                children: vec![image(&url(ID)), image("https://elsewhere/x.png")],
            },
        ];
        let mut ids = Vec::new();
        ids_in_nodes(&nodes, &mut ids);
        assert_eq!(ids, vec![ID.to_string()]);
        let info = MediaInfo {
            media_type: MediaType::Png,
            dims: Some(Dims {
                width: 2,
                height: 1,
            }),
        };
        attach(&mut nodes, &Known::from([(ID.to_string(), info)]));
        assert!(matches!(&nodes[0], Node::Image { media: Some(i), .. } if *i == info));
        let Node::Block { children, .. } = &nodes[1] else {
            panic!()
        };
        assert!(matches!(&children[0], Node::Image { media: Some(_), .. }));
        assert!(matches!(&children[1], Node::Image { media: None, .. }));
    }

    #[test]
    fn mime_types_round_trip() {
        for t in MediaType::ALL {
            assert_eq!(MediaType::from_mime(t.mime()), Some(t));
        }
        assert_eq!(MediaType::from_mime("image/jpg"), Some(MediaType::Jpeg));
        assert_eq!(MediaType::from_mime("image/svg+xml"), None);
    }
}
