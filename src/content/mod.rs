//! A document's content: the sanitized model ([`model`]) read from the CRDT through an
//! allowlist ([`extract`]), printed as HTML, ProseMirror JSON and text ([`render`]), and
//! written back as a forward edit when a version is restored ([`restore`]).

pub mod extract;
pub mod fields;
pub mod model;
pub mod render;
pub mod restore;
pub mod schema;

pub use extract::extract;
pub use model::{safe_url, Block, Content, Mark, Meta, Node, MAX_DEPTH, MAX_TAGS, MAX_TAG_LEN};
