//! Publishing rules, pure: slugs, change detection, the published post record, the reader
//! API's parameters, and the public page.
//!
//! # Rules
//! - A version is the rendered content of a document at a publish. Version numbers only grow,
//!   per document; publishing content whose hash equals the latest version's returns that
//!   version instead of creating one.
//! - A slug is `[a-z0-9-]{1,96}`; an author's slug is normalised with [`slugify`], an empty
//!   one is derived from the title. A slug belongs to one document.
//! - Each version is immutable, so its ETag is strong and never reused: `"{doc}.{version}"`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::content::Content;
use crate::render::{self, escape};

/// Longest slug (characters).
pub const MAX_SLUG_LEN: usize = 96;
/// Posts per page of `GET /api/posts`: default and maximum.
pub const DEFAULT_PAGE: u32 = 20;
pub const MAX_PAGE: u32 = 100;

/// The public page's Content-Security-Policy: no script at all, no plugins, no framing, no
/// form posts, images from anywhere over https; the page's own inline style.
pub const PAGE_CSP: &str = "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Cache policy of published content: short in browsers, longer at the edge, revalidated by
/// ETag. A new version is visible everywhere within a minute.
pub const POST_CACHE_CONTROL: &str = "public, max-age=60, stale-while-revalidate=300";

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

/// A published version: everything readers get.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post {
    pub doc_id: String,
    pub version: u64,
    /// What was rendered (stored flattened: one JSON object per post).
    #[serde(flatten)]
    pub content: Rendered,
    /// When this version was published (ms since the epoch).
    pub published_at: i64,
    /// When the document was first published (ms since the epoch).
    pub first_published_at: i64,
}

/// The rendering of `content` under `slug`, with its content hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rendered {
    pub slug: String,
    pub title: String,
    pub excerpt: String,
    pub tags: Vec<String>,
    pub html: String,
    pub json: Value,
    pub text: String,
    pub word_count: u64,
    /// Hex SHA-256 of what readers see (slug, title, excerpt, tags, HTML).
    pub content_hash: String,
}

/// Renders `content` for publishing under `slug`.
pub fn render_for_publish(content: &Content, slug: String) -> Rendered {
    let html = render::html(content);
    let mut hasher = Sha256::new();
    for part in [
        slug.as_str(),
        &content.title,
        &content.meta.excerpt,
        &content.meta.tags.join("\u{1f}"),
        &html,
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    let content_hash = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Rendered {
        slug,
        title: content.title.clone(),
        excerpt: content.meta.excerpt.clone(),
        tags: content.meta.tags.clone(),
        json: render::prosemirror_json(content),
        text: render::plain_text(content),
        word_count: render::word_count(content) as u64,
        html,
        content_hash,
    }
}

impl Post {
    /// Version `version` of document `doc_id`, published at `now`.
    pub fn new(
        doc_id: &str,
        version: u64,
        content: Rendered,
        now: i64,
        first_published_at: i64,
    ) -> Post {
        Post {
            doc_id: doc_id.to_string(),
            version,
            content,
            published_at: now,
            first_published_at,
        }
    }

    /// The strong ETag of this version.
    pub fn etag(&self) -> String {
        etag(&self.doc_id, self.version)
    }

    /// The reader API's JSON for this post.
    pub fn reader_json(&self) -> Value {
        serde_json::json!({
            "slug": self.content.slug,
            "title": self.content.title,
            "excerpt": self.content.excerpt,
            "tags": self.content.tags,
            "html": self.content.html,
            "json": self.content.json,
            "version": self.version,
            "published_at": iso8601(self.first_published_at),
            "updated_at": iso8601(self.published_at),
        })
    }
}

/// A version's body as D1 stores it, in parts: the large fields of [`Rendered`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Body {
    pub html: String,
    pub json: Value,
    pub text: String,
}

/// `content`'s body as JSON cut into parts of at most `max` bytes (`max` ≥ 4), each ending on
/// a character boundary. Joined back in order they are the JSON again.
pub fn body_parts(content: &Rendered, max: usize) -> Vec<String> {
    let body = Body {
        html: content.html.clone(),
        json: content.json.clone(),
        text: content.text.clone(),
    };
    let json = serde_json::to_string(&body).unwrap_or_else(|_| "{}".into());
    split_utf8(&json, max).map(str::to_string).collect()
}

/// `text` in pieces of at most `max` bytes (`max` ≥ 4, so a piece always holds a whole
/// character), each ending on a character boundary; joined in order they are `text`.
pub fn split_utf8(text: &str, max: usize) -> impl Iterator<Item = &str> {
    let max = max.max(4);
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut cut = rest.len().min(max);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (piece, tail) = rest.split_at(cut);
        rest = tail;
        Some(piece)
    })
}

/// The body from its parts, in order.
///
/// # Errors
/// The parts do not make one body (missing or damaged).
pub fn join_parts(parts: &[String]) -> Result<Body, String> {
    serde_json::from_str(&parts.concat()).map_err(|e| format!("a stored body is damaged: {e}"))
}

/// What KV holds under a post's slug key.
#[derive(Debug, Clone, PartialEq)]
pub enum KvPost {
    /// The latest version, whole.
    Post(Box<Post>),
    /// The latest version is too large for KV: readers get it from D1.
    InD1 { doc_id: String, version: u64 },
    /// The post was unpublished: readers get 404 and do not ask D1 (a tombstone, so that a
    /// KV delete that failed can never leave it readable).
    Gone { doc_id: String, version: u64 },
}

impl KvPost {
    /// The value to store: a post's JSON, or a marker with `"kv"` set (a post has no such
    /// key).
    pub fn to_json(&self) -> String {
        let marker = |kind: &str, doc_id: &str, version: u64| {
            serde_json::json!({ "kv": kind, "doc_id": doc_id, "version": version }).to_string()
        };
        match self {
            KvPost::Post(post) => serde_json::to_string(post).unwrap_or_default(),
            KvPost::InD1 { doc_id, version } => marker("in_d1", doc_id, *version),
            KvPost::Gone { doc_id, version } => marker("gone", doc_id, *version),
        }
    }

    /// Reads a stored value; `None` if it is none of the three.
    pub fn parse(text: &str) -> Option<KvPost> {
        let value: Value = serde_json::from_str(text).ok()?;
        let doc_id = || value.get("doc_id")?.as_str().map(str::to_string);
        let version = || value.get("version")?.as_u64();
        match value.get("kv").and_then(Value::as_str) {
            Some("in_d1") => Some(KvPost::InD1 {
                doc_id: doc_id()?,
                version: version()?,
            }),
            Some("gone") => Some(KvPost::Gone {
                doc_id: doc_id()?,
                version: version()?,
            }),
            Some(_) => None,
            None => serde_json::from_value(value)
                .ok()
                .map(|p| KvPost::Post(Box::new(p))),
        }
    }

    /// What to store for `post`: itself, or a pointer to D1 if its JSON is over `max` bytes.
    pub fn of(post: &Post, max: usize) -> KvPost {
        let whole = KvPost::Post(Box::new(post.clone()));
        if whole.to_json().len() > max {
            KvPost::InD1 {
                doc_id: post.doc_id.clone(),
                version: post.version,
            }
        } else {
            whole
        }
    }
}

/// The strong ETag of version `version` of `doc_id`.
pub fn etag(doc_id: &str, version: u64) -> String {
    format!("\"{doc_id}.{version}\"")
}

/// Whether an `If-None-Match` header value matches `etag` (a list, or `*`; weak or strong).
pub fn if_none_match(header: &str, etag: &str) -> bool {
    header
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

/// Milliseconds since the epoch as RFC 3339 (UTC, millisecond precision).
pub fn iso8601(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parses an RFC 3339 date-time (`2026-11-22T10:00:00Z`, `...T10:00:00.5+01:00`) into
/// milliseconds since the epoch. Leap seconds are not accepted.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let digits = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let sep = |at: usize, c: &[u8]| b.get(at).is_some_and(|x| c.contains(x));
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let max_day = *month_days.get(usize::try_from(month - 1).ok()?)?;
    if !(1..=max_day).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut at = 19;
    let mut millis = 0;
    if sep(at, b".") {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            if at - start < 3 {
                millis = millis * 10 + i64::from(b[at] - b'0');
            }
            at += 1;
        }
        if at == start {
            return None;
        }
        for _ in (at - start)..3 {
            millis *= 10;
        }
    }
    let offset_min = match b.get(at..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), ..] if b.len() == at + 6 && sep(at + 3, b":") => {
            let (h, m) = (digits(at + 1, 2)?, digits(at + 4, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            if *sign == b'+' {
                h * 60 + m
            } else {
                -(h * 60 + m)
            }
        }
        _ => return None,
    };
    // Days since the epoch from the civil date (inverse of `iso8601`).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_min * 60;
    Some(secs * 1000 + millis)
}

/// What a schedule entry does when it comes due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Publish,
    Unpublish,
}

impl Action {
    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "publish" => Some(Action::Publish),
            "unpublish" => Some(Action::Unpublish),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Publish => "publish",
            Action::Unpublish => "unpublish",
        }
    }
}

/// A `POST /api/docs/{id}/schedule` body.
#[derive(Debug, Deserialize)]
pub struct ScheduleRequest {
    pub action: String,
    pub at: String,
}

/// Checks a schedule request against the clock.
///
/// # Errors
/// [`BadParameter`] naming `action` or `at` (not RFC 3339, or not in the future).
pub fn schedule_request(req: &ScheduleRequest, now: i64) -> Result<(Action, i64), BadParameter> {
    let action = Action::parse(&req.action).ok_or(BadParameter {
        parameter: "action",
        message: "action must be \"publish\" or \"unpublish\"".into(),
    })?;
    let at = parse_rfc3339(&req.at).ok_or(BadParameter {
        parameter: "at",
        message: "at must be an RFC 3339 date-time, e.g. 2030-01-31T09:00:00Z".into(),
    })?;
    if at <= now {
        return Err(BadParameter {
            parameter: "at",
            message: "at must be in the future".into(),
        });
    }
    Ok((action, at))
}

/// When the object's single alarm should fire: the earliest of its schedule entries and a
/// pending KV write.
pub fn next_alarm(earliest_entry: Option<i64>, kv_pending: Option<i64>) -> Option<i64> {
    match (earliest_entry, kv_pending) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A bad reader-API parameter: answered with 400 naming it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadParameter {
    pub parameter: &'static str,
    pub message: String,
}

/// Parsed `GET /api/posts` parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub tag: Option<String>,
    pub limit: u32,
    /// Continue after this (first_published_at, doc_id).
    pub after: Option<(i64, String)>,
}

/// Parses the query pairs of `GET /api/posts`.
///
/// # Errors
/// [`BadParameter`] naming `tag`, `limit` or `cursor`.
pub fn list_query<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<ListQuery, BadParameter> {
    let mut q = ListQuery {
        tag: None,
        limit: DEFAULT_PAGE,
        after: None,
    };
    for (key, value) in pairs {
        match key {
            "tag" => {
                let tag = value.trim();
                if tag.is_empty() || tag.chars().count() > crate::content::MAX_TAG_LEN {
                    return Err(BadParameter {
                        parameter: "tag",
                        message: "tag must be 1-64 characters".into(),
                    });
                }
                q.tag = Some(tag.to_string());
            }
            "limit" => {
                q.limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_PAGE).contains(n))
                    .ok_or(BadParameter {
                        parameter: "limit",
                        message: format!("limit must be a whole number from 1 to {MAX_PAGE}"),
                    })?;
            }
            "cursor" => q.after = Some(parse_cursor(value)?),
            _ => {}
        }
    }
    Ok(q)
}

/// The cursor continuing after a post: `{first_published_at}.{doc_id}`.
pub fn cursor(first_published_at: i64, doc_id: &str) -> String {
    format!("{first_published_at}.{doc_id}")
}

fn parse_cursor(value: &str) -> Result<(i64, String), BadParameter> {
    let bad = || BadParameter {
        parameter: "cursor",
        message: "cursor is not one this API gave".into(),
    };
    let (time, doc) = value.split_once('.').ok_or_else(bad)?;
    let time: i64 = time.parse().map_err(|_| bad())?;
    crate::docid::validate(doc).map_err(|_| bad())?;
    Ok((time, doc.to_string()))
}

/// The public HTML page of a post.
pub fn page_html(content: &Rendered) -> String {
    let mut title = String::new();
    escape(&content.title, &mut title);
    let mut excerpt = String::new();
    escape(&content.excerpt, &mut excerpt);
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"description\" content=\"{excerpt}\"><title>{title}</title>\
         <style>body{{max-width:42rem;margin:2rem auto;padding:0 1rem;font:1.1rem/1.6 system-ui,sans-serif;color:#222}}\
         img{{max-width:100%}}pre{{overflow:auto;background:#f4f4f4;padding:.75rem}}</style></head>\
         <body><article><h1>{title}</h1>{}</article></body></html>\n",
        content.html
    )
}

#[cfg(test)]
mod tests {

    fn sample_post(html: &str) -> Post {
        let content = Rendered {
            slug: "s".into(),
            title: "t".into(),
            excerpt: String::new(),
            tags: vec![],
            html: html.into(),
            json: serde_json::json!({"type": "doc"}),
            text: "é".repeat(10),
            word_count: 1,
            content_hash: "h".into(),
        };
        Post::new("d", 2, content, 1, 1)
    }

    #[test]
    fn a_body_survives_parts_that_cut_anywhere() {
        let post = sample_post(&"<p>ü€𝄞</p>".repeat(50));
        for max in [4, 5, 7, 64, 1 << 20] {
            let parts = body_parts(&post.content, max);
            assert!(parts.iter().all(|p| p.len() <= max.max(4)), "{max}");
            let body = join_parts(&parts).unwrap();
            assert_eq!(body.html, post.content.html);
            assert_eq!(body.text, post.content.text);
            assert_eq!(body.json, post.content.json);
        }
        assert!(join_parts(&body_parts(&post.content, 8)[1..]).is_err());
    }

    #[test]
    fn kv_values_round_trip_and_large_posts_point_to_d1() {
        let post = sample_post("<p>x</p>");
        let whole = KvPost::of(&post, 1 << 20);
        assert_eq!(KvPost::parse(&whole.to_json()), Some(whole));
        let pointer = KvPost::of(&post, 10);
        assert_eq!(
            pointer,
            KvPost::InD1 {
                doc_id: "d".into(),
                version: 2
            }
        );
        assert_eq!(KvPost::parse(&pointer.to_json()), Some(pointer));
        let gone = KvPost::Gone {
            doc_id: "d".into(),
            version: 2,
        };
        assert_eq!(KvPost::parse(&gone.to_json()), Some(gone));
        assert_eq!(KvPost::parse("{\"kv\":\"other\"}"), None);
        assert_eq!(KvPost::parse("not json"), None);
    }
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

    #[test]
    fn equal_content_hashes_equal_and_any_visible_change_differs() {
        let base = Content {
            title: "T".into(),
            ..Default::default()
        };
        let h = |c: &Content, slug: &str| render_for_publish(c, slug.into()).content_hash;
        assert_eq!(h(&base, "t"), h(&base.clone(), "t"));
        assert_ne!(h(&base, "t"), h(&base, "u"));
        let mut tagged = base.clone();
        tagged.meta.tags = vec!["x".into()];
        assert_ne!(h(&base, "t"), h(&tagged, "t"));
        assert_eq!(h(&base, "t").len(), 64);
    }

    #[test]
    fn etags_and_if_none_match() {
        let tag = etag("doc", 3);
        assert_eq!(tag, "\"doc.3\"");
        assert!(if_none_match("\"doc.3\"", &tag));
        assert!(if_none_match("\"x\", W/\"doc.3\"", &tag));
        assert!(if_none_match("*", &tag));
        assert!(!if_none_match("\"doc.2\"", &tag));
    }

    #[test]
    fn iso8601_matches_known_instants() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(1_795_328_956_417), "2026-11-22T06:29:16.417Z");
    }

    #[test]
    fn rfc3339_round_trips_and_refuses_nonsense() {
        for ms in [0, 951_782_400_000, 1_795_328_956_417, 4_102_444_800_000] {
            assert_eq!(parse_rfc3339(&iso8601(ms)), Some(ms), "{}", iso8601(ms));
        }
        assert_eq!(
            parse_rfc3339("2026-11-22T10:00:00+01:00"),
            parse_rfc3339("2026-11-22T09:00:00Z")
        );
        assert_eq!(
            parse_rfc3339("2026-11-22T09:00:00.5Z"),
            parse_rfc3339("2026-11-22T09:00:00Z").map(|t| t + 500)
        );
        assert_eq!(
            parse_rfc3339("2026-11-22t09:00:00.123456z"),
            parse_rfc3339("2026-11-22T09:00:00.123Z")
        );
        for bad in [
            "",
            "2026-11-22",
            "2026-11-22T09:00:00",
            "2026-02-30T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-22T24:00:00Z",
            "2026-11-22T09:00:00+1:00",
            "2026-11-22T09:00:00.Z",
            "tomorrow",
            "2026-11-22T09:00:00Zjunk",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn schedule_requests_are_checked_against_the_clock() {
        let now = parse_rfc3339("2026-11-22T09:00:00Z").unwrap();
        let req = |action: &str, at: &str| ScheduleRequest {
            action: action.into(),
            at: at.into(),
        };
        assert_eq!(
            schedule_request(&req("publish", "2026-11-22T09:00:01Z"), now),
            Ok((Action::Publish, now + 1000))
        );
        assert_eq!(
            schedule_request(&req("unpublish", "2026-11-22T08:00:00Z"), now)
                .unwrap_err()
                .parameter,
            "at"
        );
        assert_eq!(
            schedule_request(&req("publish", "2026-11-22T09:00:00Z"), now)
                .unwrap_err()
                .parameter,
            "at"
        );
        assert_eq!(
            schedule_request(&req("delete", "2030-01-01T00:00:00Z"), now)
                .unwrap_err()
                .parameter,
            "action"
        );
        assert_eq!(
            schedule_request(&req("publish", "soon"), now)
                .unwrap_err()
                .parameter,
            "at"
        );
        assert_eq!(next_alarm(Some(5), Some(3)), Some(3));
        assert_eq!(next_alarm(None, Some(3)), Some(3));
        assert_eq!(next_alarm(Some(5), None), Some(5));
        assert_eq!(next_alarm(None, None), None);
    }

    #[test]
    fn list_parameters_are_checked_and_named() {
        let q = list_query([("tag", "rust"), ("limit", "5")]).unwrap();
        assert_eq!(
            (q.tag.as_deref(), q.limit, q.after),
            (Some("rust"), 5, None)
        );
        assert_eq!(list_query([]).unwrap().limit, DEFAULT_PAGE);
        for (k, v) in [
            ("limit", "0"),
            ("limit", "101"),
            ("limit", "x"),
            ("cursor", "nope"),
            ("cursor", "1.a/b"),
            ("tag", ""),
        ] {
            let err = list_query([(k, v)]).unwrap_err();
            assert_eq!(err.parameter, k, "{k}={v}");
        }
        let c = cursor(42, "doc-1");
        assert_eq!(
            list_query([("cursor", c.as_str())]).unwrap().after,
            Some((42, "doc-1".into()))
        );
    }

    #[test]
    fn the_page_escapes_its_title_and_excerpt() {
        let r = render_for_publish(
            &Content {
                title: "<script>x</script>".into(),
                ..Default::default()
            },
            "s".into(),
        );
        let mut post = Post::new("d", 1, r, 0, 0);
        post.content.excerpt = "\"><script>".into();
        let page = page_html(&post.content);
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;x&lt;/script&gt;"));
    }
}
