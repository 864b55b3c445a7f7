//! Publishing, pure: a draft becomes a versioned post ([`post`]) under a slug ([`slug`]),
//! recorded as a write-ahead intent before it reaches D1 ([`intent`]), now or on a schedule
//! ([`schedule`]); what the document's object does next is planned here ([`plan`]); readers
//! query posts ([`query`]) and read their public page ([`page`]).

pub mod cache;
pub mod filter;
pub mod intent;
pub mod page;
pub mod plan;
pub mod post;
pub mod query;
pub mod schedule;
pub mod slug;

pub use page::{page_html, PAGE_CSP, POST_CACHE_CONTROL};
pub use post::{
    body_parts, etag, if_none_match, join_parts, render_entry, render_for_publish, split_utf8,
    Body, EntryRecord, Indexed, KvPost, Post, Rendered,
};
pub use query::{cursor, list_query, ListQuery, DEFAULT_PAGE, MAX_PAGE};
pub use schedule::{schedule_request, Action, ScheduleRequest};
pub use slug::{is_slug, slug_for, slug_for_entry, slugify, MAX_SLUG_LEN};
