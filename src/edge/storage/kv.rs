//! KV: the latest version of each published post under `post:{slug}` ([`KvPost`]), read by
//! the reader without D1, written by the document's object (see [`crate::publish::plan::kv`]).

use crate::error::StoreError;
use worker::kv::KvStore;
use worker::Env;

use crate::limits::MAX_KV_POST_BYTES;
use crate::publish::{KvPost, Post};

/// The `POSTS` binding (wrangler.toml).
///
/// # Errors
/// The binding is missing, as text.
pub fn posts(env: &Env) -> Result<KvStore, StoreError> {
    env.kv("POSTS").map_err(StoreError::from_message)
}

/// The KV key of the latest post under `slug`.
pub fn kv_key(slug: &str) -> String {
    format!("post:{slug}")
}

/// What KV holds under `slug`, if anything readable.
///
/// # Errors
/// KV's error, as text.
pub async fn read(kv: &KvStore, slug: &str) -> Result<Option<KvPost>, StoreError> {
    match kv.get(&kv_key(slug)).text().await {
        Ok(Some(text)) => {
            Ok(Some(KvPost::parse(&text).ok_or_else(|| {
                StoreError::Unexpected("an unreadable value".into())
            })?))
        }
        Ok(None) => Ok(None),
        Err(e) => Err(StoreError::from_message(e)),
    }
}

async fn put(kv: &KvStore, slug: &str, value: String) -> Result<(), StoreError> {
    kv.put(&kv_key(slug), value)
        .map_err(StoreError::from_message)?
        .execute()
        .await
        .map_err(StoreError::from_message)
}

/// Writes `post` under its slug (or a pointer to D1 if it is too large for KV).
///
/// # Errors
/// KV's error, as text.
pub async fn write_post(kv: &KvStore, post: &Post) -> Result<(), StoreError> {
    let body = KvPost::of(post, MAX_KV_POST_BYTES).to_json();
    put(kv, &post.content.slug, body).await
}

/// A tombstone under `slug`, not a delete: readers answer 404 from it without asking D1. The
/// slug stays the document's in D1 while it is unpublished, so no other post can need the
/// key; a later publish under another slug deletes it.
///
/// # Errors
/// KV's error, as text.
pub async fn write_tombstone(
    kv: &KvStore,
    slug: &str,
    doc_id: &str,
    version: u64,
) -> Result<(), StoreError> {
    let gone = KvPost::Gone {
        doc_id: doc_id.to_string(),
        version,
    };
    put(kv, slug, gone.to_json()).await
}

/// Deletes the key of `slug`.
///
/// # Errors
/// KV's error, as text.
pub async fn delete(kv: &KvStore, slug: &str) -> Result<(), StoreError> {
    kv.delete(&kv_key(slug))
        .await
        .map_err(StoreError::from_message)
}

/// What KV holds under `slug`: the post's version and hash, a pointer, or a tombstone.
pub async fn kv_view(kv: &KvStore, slug: &str) -> serde_json::Value {
    match kv.get(&kv_key(slug)).text().await {
        Ok(Some(text)) => match KvPost::parse(&text) {
            Some(KvPost::Post(p)) => serde_json::json!({
                "slug": slug, "state": "post", "version": p.version,
                "content_hash": p.content.content_hash,
            }),
            Some(KvPost::InD1 { version, .. }) => {
                serde_json::json!({ "slug": slug, "state": "in_d1", "version": version })
            }
            Some(KvPost::Gone { version, .. }) => {
                serde_json::json!({ "slug": slug, "state": "gone", "version": version })
            }
            None => serde_json::json!({ "slug": slug, "state": "unreadable" }),
        },
        Ok(None) => serde_json::json!({ "slug": slug, "state": "missing" }),
        Err(e) => serde_json::json!({ "slug": slug, "error": e.to_string() }),
    }
}
