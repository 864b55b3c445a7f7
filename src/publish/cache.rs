//! The edge cache in front of readers (the Workers Cache API): which responses are kept,
//! under which key, and exactly which keys a change purges.
//!
//! Kept: a post (`/api/posts/{slug}`, `/p/{slug}`), an entry (`/api/content/{c}/{slug}`), the
//! first page of a list without parameters (`/api/posts`, `/api/content/{c}`), and media
//! (`/media/{id}`, `/media/{id}?w=`). Lists with filters, a limit or a cursor are not kept:
//! a publish could not name every such key to purge. Keys live under one fixed origin
//! ([`KEY_ORIGIN`]) so that the worker (which serves) and a document's object (which
//! publishes, also from its alarm) compute the same key without knowing the host.

/// The origin of every cache key.
pub const KEY_ORIGIN: &str = "https://cache.folio.internal";

/// How long the edge keeps published content (`s-maxage`): a purge removes it at once where
/// the publish ran; the Cache API is per data centre, so elsewhere a copy lives at most this.
pub const EDGE_SECONDS: u32 = 300;

/// The full key of a path (with its canonical query, if any).
pub fn key(path: &str) -> String {
    format!("{KEY_ORIGIN}{path}")
}

/// The list path of a collection (`posts` is the post API).
pub fn list_path(collection: &str) -> String {
    if collection == crate::content::schema::POSTS {
        "/api/posts".into()
    } else {
        format!("/api/content/{collection}")
    }
}

/// The paths at which readers get `slug` of `collection`.
pub fn item_paths(collection: &str, slug: &str) -> Vec<String> {
    if collection == crate::content::schema::POSTS {
        vec![format!("/api/posts/{slug}"), format!("/p/{slug}")]
    } else {
        vec![format!("/api/content/{collection}/{slug}")]
    }
}

/// What a publish or unpublish of a document of `collection` purges: the list, and the item
/// under each slug it had or has now (a renamed post is gone from its old address).
pub fn on_publish(collection: &str, slugs: &[&str]) -> Vec<String> {
    let mut keys = vec![key(&list_path(collection))];
    for slug in slugs.iter().filter(|s| !s.is_empty()) {
        for path in item_paths(collection, slug) {
            let k = key(&path);
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    keys
}

/// What a new definition of `collection` purges: its list (what lists answer is shaped by
/// the definition). Published entries are not: each answers the version it published.
pub fn on_schema_change(collection: &str) -> Vec<String> {
    vec![key(&list_path(collection))]
}

/// Every key of media `id`: the original and each width.
pub fn media_keys(id: &str) -> Vec<String> {
    let mut keys = vec![key(&crate::media::url(id))];
    for w in crate::media::variant::WIDTHS {
        keys.push(key(&format!("{}?w={w}", crate::media::url(id))));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_publish_purges_the_list_and_each_address_once() {
        assert_eq!(
            on_publish("posts", &["new", "old", "new", ""]),
            vec![
                key("/api/posts"),
                key("/api/posts/new"),
                key("/p/new"),
                key("/api/posts/old"),
                key("/p/old"),
            ]
        );
        assert_eq!(
            on_publish("reviews", &["a"]),
            vec![key("/api/content/reviews"), key("/api/content/reviews/a")]
        );
        assert_eq!(
            on_schema_change("reviews"),
            vec![key("/api/content/reviews")]
        );
        let media = media_keys("ab");
        assert_eq!(media.len(), 6);
        assert_eq!(media[1], key("/media/ab?w=320"));
    }

    #[test]
    fn published_content_stays_at_the_edge_as_long_as_said() {
        let s_maxage = format!("s-maxage={EDGE_SECONDS}");
        assert!(super::super::POST_CACHE_CONTROL.contains(&s_maxage));
    }
}
