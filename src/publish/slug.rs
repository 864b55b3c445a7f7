//! Slugs: `[a-z0-9-]{1,96}`. An author's slug is normalised with [`slugify`]; an empty one is
//! derived from the title. A slug belongs to one document (D1 enforces it).

use crate::content::fields::{Entry, Read, Value};
use crate::content::schema::{Collection, Kind};
use crate::content::Content;

/// Longest slug (characters).
pub const MAX_SLUG_LEN: usize = 96;

/// Lower-case ASCII letters and digits, every other run of characters one `-`, trimmed, at
/// most [`MAX_SLUG_LEN`] characters. Letters with accents lose them where ASCII has them.
pub fn slugify(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars() {
        let c = fold(c);
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
        if slug.len() >= MAX_SLUG_LEN {
            break;
        }
    }
    slug.trim_end_matches('-').to_string()
}

fn fold(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'a',
        'ç' | 'Ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'i',
        'ñ' | 'Ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'u',
        'ý' | 'ÿ' | 'Ý' => 'y',
        other => other,
    }
}

/// Whether `slug` is already in canonical form.
pub fn is_slug(slug: &str) -> bool {
    !slug.is_empty() && slugify(slug) == slug
}

/// The slug a document publishes under: its `meta.slug` normalised, else its title's.
/// `None` when both are empty.
pub fn slug_for(content: &Content) -> Option<String> {
    [content.meta.slug.as_str(), content.title.as_str()]
        .into_iter()
        .map(slugify)
        .find(|s| !s.is_empty())
}

/// The slug an entry publishes under: its `meta.slug` normalised, else its first text field's
/// value. `None` when both are empty.
pub fn slug_for_entry(collection: &Collection, entry: &Entry) -> Option<String> {
    let first_text = collection
        .fields
        .iter()
        .filter(|f| matches!(f.kind, Kind::Text { .. }))
        .find_map(|f| match entry.get(&f.name) {
            Read::Value(Value::Text(text)) => Some(text.as_str()),
            _ => None,
        });
    [Some(entry.slug.as_str()), first_text]
        .into_iter()
        .flatten()
        .map(slugify)
        .find(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Meta;

    #[test]
    fn slugs() {
        assert_eq!(slugify("Hello, World!"), "hello-world");
        assert_eq!(
            slugify("  Crème brûlée -- déjà vu  "),
            "creme-brulee-deja-vu"
        );
        assert_eq!(slugify("日本語"), "");
        assert_eq!(slugify(&"a".repeat(200)).len(), MAX_SLUG_LEN);
        assert!(is_slug("a-b-1") && !is_slug("A b") && !is_slug("") && !is_slug("-a"));
        let mut c = Content {
            title: "My Post".into(),
            ..Default::default()
        };
        assert_eq!(slug_for(&c).as_deref(), Some("my-post"));
        c.meta = Meta {
            slug: "Custom Slug".into(),
            ..Default::default()
        };
        assert_eq!(slug_for(&c).as_deref(), Some("custom-slug"));
        assert_eq!(slug_for(&Content::default()), None);
    }
}
