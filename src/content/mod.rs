//! A document's content: the sanitized model ([`model`]) read from the CRDT through an
//! allowlist ([`extract`]), printed as HTML, ProseMirror JSON and text ([`render`]), and
//! written back as a forward edit when a version is restored ([`restore`]) or a JSON write
//! arrives ([`write`]: values checked by the contract, text merged by [`diff`], Markdown
//! read by [`markdown`]).

pub mod diff;
pub mod extract;
pub mod fields;
pub mod markdown;
pub mod model;
pub mod render;
pub mod restore;
pub mod schema;
pub mod write;

pub use extract::extract;
pub use model::{safe_url, Block, Content, Mark, Meta, Node, MAX_DEPTH, MAX_TAGS, MAX_TAG_LEN};
