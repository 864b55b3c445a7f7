//! Fuzz targets, as plain functions of bytes: `fuzz/` runs them under libFuzzer
//! (`make fuzz`), and `tests/fuzz_corpus.rs` replays the checked-in corpus through them on
//! every `make test`. Each panics only when an invariant breaks: that is the finding.
//!
//! Invariants checked:
//! - [`frames`]: any sequence of frames from an editor and a viewer leaves the document as it
//!   was before every refused frame; a viewer never changes it; what is in memory is what a
//!   fresh load from storage gives.
//! - [`update`]: one update applied to a document with content: refused cleanly (document
//!   unchanged) or accepted and durable.
//! - [`token`]: verifying arbitrary text never panics and never yields claims that were not
//!   signed; header parsing never panics.
//! - [`render`]: any CRDT content renders to HTML made only of the renderer's own tags and
//!   attributes, with no executable URL; read as an entry of a collection with every field
//!   type, every value is of its field's type, rich text renders the same way, and an image's
//!   URL is a safe one.
//! - [`schema`]: a definition from any JSON is refused or valid (names, caps, reserved names),
//!   survives being stored and read back, and does not tighten itself; a reader query on it is
//!   refused or names only its fields, within the filter cap.
//! - [`write`]: a JSON write from any body is refused by name, or applied so that every field
//!   it set reads back valid (text exactly as given); Markdown from any text builds a tree no
//!   deeper than the model allows; a three-way text merge from any three texts never fails,
//!   and a two-way one reproduces the new text exactly.

use yrs::updates::decoder::Decode;
use yrs::{ReadTxn, StateVector, Text, Transact};

use crate::access::token::{Keys, Purpose};
use crate::content::fields::{self, Read, Value};
use crate::content::safe_url;
use crate::content::schema::{is_name, tightenings, Collection, Kind, RESERVED_FIELDS};
use crate::limits::{MAX_FIELDS, MAX_OPTIONS};
use crate::publish::filter::{content_query, MAX_FILTERS};
use crate::sync::protocol;
use crate::sync::room::{Conn, Room};
use crate::testing::MemoryStorage;

/// What the document holds: its state vector and delete set (every struct is named by its
/// id, so two documents with both equal hold the same content). Not its encoding: how yrs
/// splits and squashes blocks depends on the transactions it ran, and an update that adds
/// nothing is run in memory but not stored, so a reload may lay the same content out
/// differently (found by the 32-bit fuzzer with a byte comparison).
fn state(room: &Room<MemoryStorage>) -> yrs::Snapshot {
    room.doc().transact().snapshot()
}

fn seeded() -> (Room<MemoryStorage>, MemoryStorage) {
    let storage = MemoryStorage::new();
    let mut room = Room::open(storage.clone()).expect("empty storage opens");
    let doc = yrs::Doc::with_client_id(1);
    let text = doc.get_or_insert_text("t");
    let update = {
        let mut txn = doc.transact_mut();
        text.insert(&mut txn, 0, "seed text");
        txn.encode_update_v1()
    };
    room.receive(&mut Conn::default(), &protocol::update(update))
        .expect("the seed applies");
    room.flush().expect("the seed is stored");
    (room, storage)
}

/// Flushes the room, then checks that a fresh load of `storage` equals the room in memory.
fn durable(room: &mut Room<MemoryStorage>, storage: &MemoryStorage) {
    room.flush().expect("memory storage does not fail");
    let loaded = match Room::open(storage.clone()) {
        Ok(room) => room,
        Err(e) => panic!("what was stored does not load: {e}"),
    };
    let sv = |r: &Room<MemoryStorage>| r.doc().transact().state_vector();
    assert_eq!(sv(&loaded), sv(room), "storage and memory disagree");
}

/// Frames as `[len: u8][frame]...`; even frames come from an editor, odd ones from a viewer.
pub fn frames(data: &[u8]) {
    let (mut room, storage) = seeded();
    let mut editor = Conn {
        key: 1,
        ..Conn::default()
    };
    let mut viewer = Conn {
        key: 2,
        read_only: true,
        ..Conn::default()
    };
    let mut rest = data;
    let mut n = 0usize;
    while let Some((&len, tail)) = rest.split_first() {
        let take = usize::from(len).min(tail.len());
        let (frame, tail) = tail.split_at(take);
        rest = tail;
        let before = state(&room);
        let conn = if n.is_multiple_of(2) {
            &mut editor
        } else {
            &mut viewer
        };
        let result = room.receive(conn, frame);
        // Coalescing: a flush after every third frame, so refusals meet queued updates.
        if n % 3 == 2 {
            room.flush().expect("memory storage does not fail");
        }
        if result.is_err() || conn.read_only {
            assert_eq!(
                state(&room),
                before,
                "a refused or read-only frame changed the document"
            );
        }
        n += 1;
    }
    durable(&mut room, &storage);
}

/// One update (Yjs v1) applied to a document with content.
pub fn update(data: &[u8]) {
    let (mut room, storage) = seeded();
    let before = state(&room);
    // yrs's decoder only ever sees what `wire` checked (it panics on 32-bit targets otherwise).
    let decoded =
        crate::sync::wire::check_update(data).is_ok() && yrs::Update::decode_v1(data).is_ok();
    match room.receive(&mut Conn::default(), &protocol::update(data.to_vec())) {
        Ok(_) => assert!(decoded, "an update that does not decode was accepted"),
        Err(_) => assert_eq!(
            state(&room),
            before,
            "a refused update changed the document"
        ),
    }
    durable(&mut room, &storage);
}

/// A token (as text) verified against a fixed key, and the header parsers.
pub fn token(data: &[u8]) {
    let keys = Keys::new("fuzzing-admin-key-0123456789abcdef0123").expect("long enough");
    let text = String::from_utf8_lossy(data);
    for purpose in [
        Purpose::Api,
        Purpose::Session,
        Purpose::Invite,
        Purpose::Preview,
    ] {
        if let Ok(claims) = keys.verify(&text, purpose, crate::time::Secs(0)) {
            // Only a token we signed verifies: re-signing the claims gives the same token.
            assert_eq!(keys.sign(&claims).ok().as_deref(), Some(&*text));
        }
    }
    let _ = keys.is_admin_key(&text);
    let _ = crate::access::token::bearer(&text);
    let _ = crate::access::token::cookie(&text, crate::access::token::SESSION_COOKIE);
}

/// Tags and attributes the renderer writes; anything else in its output is a finding.
pub const TAGS: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "blockquote",
    "pre",
    "code",
    "hr",
    "br",
    "img",
    "a",
    "strong",
    "em",
    "s",
    "u",
];
pub const ATTRS: &[&str] = &[
    "href", "src", "alt", "title", "start", "class", "rel", "srcset", "sizes", "width", "height",
    "loading", "decoding",
];

/// Checks `html` against the allowlists: every tag and attribute is the renderer's own, and
/// no URL attribute holds an executable scheme.
pub fn check_html(html: &str) {
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after
            .find('>')
            .expect("every '<' in the output closes a tag");
        let inner = &after[..close];
        let inner = inner.strip_prefix('/').unwrap_or(inner);
        let name_end = inner.find([' ', '/']).unwrap_or(inner.len());
        let name = &inner[..name_end];
        assert!(TAGS.contains(&name), "tag {name:?} in {html:?}");
        let mut attrs = &inner[name_end..];
        while let Some(eq) = attrs.find("=\"") {
            let attr = attrs[..eq].trim().trim_start_matches('/').trim();
            assert!(ATTRS.contains(&attr), "attribute {attr:?} in {html:?}");
            let value_start = eq + 2;
            let value_len = attrs[value_start..]
                .find('"')
                .expect("attribute values are quoted");
            let value = &attrs[value_start..value_start + value_len];
            if attr == "href" || attr == "src" {
                let plain = value
                    .replace("&amp;", "&")
                    .replace("&#x3a;", ":")
                    .to_ascii_lowercase();
                let squeezed: String = plain.chars().filter(|c| !c.is_whitespace()).collect();
                for bad in ["javascript:", "vbscript:", "data:text/html", "file:"] {
                    assert!(!squeezed.starts_with(bad), "{attr}={value:?}");
                }
            }
            attrs = &attrs[value_start + value_len + 1..];
        }
        rest = &after[close + 1..];
    }
}

/// Arbitrary bytes as a Yjs update into a document through a [`Room`] (the checks production
/// runs before yrs sees an update), then extracted and rendered.
pub fn render(data: &[u8]) {
    let Ok(mut room) = Room::open(MemoryStorage::new()) else {
        return;
    };
    // Roots must exist with their types before content is read as them.
    room.doc().get_or_insert_xml_fragment("body");
    room.doc().get_or_insert_text("title");
    room.doc().get_or_insert_map("meta");
    if room
        .receive(&mut Conn::default(), &protocol::update(data.to_vec()))
        .is_err()
    {
        return;
    }
    if room.doc().transact().state_vector() == StateVector::default() {
        return;
    }
    if let Ok(content) = crate::content::extract(room.doc()) {
        check_html(&crate::content::render::html(&content));
        let _ = crate::content::render::prosemirror_json(&content);
        let _ = crate::content::render::plain_text(&content);
    }
    entry(&room);
}

fn entry(room: &Room<MemoryStorage>) {
    let collection = crate::testing::articles();
    let Ok(entry) = fields::read(room.doc(), &collection) else {
        return;
    };
    for (field, (name, read)) in collection.fields.iter().zip(&entry.fields) {
        assert_eq!(
            &field.name, name,
            "fields are read in the definition's order"
        );
        let Read::Value(value) = read else { continue };
        let fits = matches!(
            (&field.kind, value),
            (Kind::Text { .. }, Value::Text(_))
                | (Kind::RichText, Value::RichText(_))
                | (Kind::Number { .. }, Value::Number(_))
                | (Kind::Boolean, Value::Boolean(_))
                | (Kind::Date, Value::Date(..))
                | (Kind::DateTime, Value::DateTime(..))
                | (Kind::Select { .. }, Value::Select(_))
                | (Kind::Tags, Value::Tags(_))
                | (Kind::Reference { .. }, Value::Reference(_))
                | (Kind::Image, Value::Image { .. })
        );
        assert!(fits, "{name}: {value:?} is not a {}", field.kind.name());
        match value {
            Value::Number(n) => assert!(n.is_finite(), "{name}: {n}"),
            Value::RichText(_) => {
                let json = value.to_json();
                check_html(json["html"].as_str().expect("rich text has html"));
            }
            Value::Image { src, .. } => {
                assert_eq!(
                    safe_url(src).as_deref(),
                    Some(src.as_str()),
                    "{name}: {src}"
                );
            }
            _ => {}
        }
    }
    for problem in fields::validate(&collection, &entry) {
        assert!(collection.field(&problem.name).is_some(), "{problem:?}");
    }
}

/// A definition as JSON, then (after a NUL byte) a reader query string `k=v&k[op]=v...`.
pub fn schema(data: &[u8]) {
    let (definition, query) = match data.iter().position(|b| *b == 0) {
        Some(at) => data.split_at(at),
        None => (data, &[][..]),
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(definition) else {
        return;
    };
    let Ok(collection) = Collection::parse(&value) else {
        return;
    };
    assert!(is_name(&collection.name), "{}", collection.name);
    assert!((1..=MAX_FIELDS).contains(&collection.fields.len()));
    for field in &collection.fields {
        assert!(is_name(&field.name), "{}", field.name);
        assert!(
            !RESERVED_FIELDS.contains(&field.name.as_str()),
            "{}",
            field.name
        );
        if let Kind::Select { options } = &field.kind {
            assert!((1..=MAX_OPTIONS).contains(&options.len()));
        }
    }
    let stored = serde_json::to_value(&collection).expect("a definition serializes");
    assert_eq!(
        Collection::parse(&stored).as_ref(),
        Ok(&collection),
        "stored and read back"
    );
    assert!(tightenings(&collection, &collection).is_empty());
    let query = String::from_utf8_lossy(query.get(1..).unwrap_or_default());
    let pairs: Vec<(&str, &str)> = query
        .split('&')
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .collect();
    if let Ok(q) = content_query(&collection, pairs) {
        assert!(q.filters.len() <= MAX_FILTERS);
        for filter in &q.filters {
            assert!(collection.field(&filter.field).is_some(), "{filter:?}");
        }
    }
}

/// An upload, declared as each accepted type: probing never panics, a size it accepts is in
/// bounds and agrees with the sniffed type, and a small enough image goes through the variant
/// path (decode, orient, downscale, encode) without panicking, its result probing as the type
/// and width asked.
pub fn media(data: &[u8]) {
    use crate::media::probe::{probe, sniff, MAX_DIMENSION};
    use crate::media::{variant, MediaType};
    let sniffed = sniff(data);
    for t in MediaType::ALL {
        let Ok(p) = probe(data, Some(t.mime())) else {
            continue;
        };
        assert_eq!(Ok(p.media_type), sniffed);
        assert_eq!(p.media_type, t);
        if let Some(d) = p.dims {
            assert!((1..=MAX_DIMENSION).contains(&d.width), "{d:?}");
            assert!((1..=MAX_DIMENSION).contains(&d.height), "{d:?}");
            // Small images only: the fuzzer's time goes to the headers.
            if variant::resizable(t, p.dims)
                && d.width > 1
                && u64::from(d.width) * u64::from(d.height) <= 1 << 16
            {
                let width = d.width / 2;
                if let Ok((bytes, out)) = variant::resize(data, t, width) {
                    let made = probe(&bytes, Some(out.mime())).expect("a variant probes");
                    assert_eq!(made.dims.map(|d| d.width), Some(width));
                }
            }
        }
    }
}

/// A JSON write body, then (after a NUL byte) Markdown, then (after another) three texts
/// separated by `\u{1}`: base, current and new.
pub fn write(data: &[u8]) {
    use crate::content::diff::{apply, merge};
    use crate::content::write::{apply as write_apply, parse, Set};
    let mut parts = data.splitn(3, |b| *b == 0);
    let body = parts.next().unwrap_or_default();
    let markdown = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let texts = String::from_utf8_lossy(parts.next().unwrap_or_default());

    let collection = crate::testing::articles();
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        match parse(&value, &collection) {
            Err(problems) => assert!(!problems.is_empty()),
            Ok(w) => {
                let doc = yrs::Doc::with_client_id(1);
                write_apply(&doc, &collection, &w).expect("a write applies");
                let entry = fields::read(&doc, &collection).expect("readable");
                for (name, set) in &w.fields {
                    let read = entry.get(name);
                    assert!(
                        !matches!(read, Read::Wrong(_)),
                        "{name}: {read:?} from {set:?}"
                    );
                    if let Set::Text { value, base: None } = set {
                        match read {
                            Read::Value(Value::Text(t)) => assert_eq!(t, value),
                            _ => assert!(value.trim().is_empty(), "{name}: {read:?}"),
                        }
                    }
                }
                if let Some(slug) = &w.slug {
                    assert_eq!(&entry.slug, slug);
                }
            }
        }
    }

    let tree = crate::content::markdown::to_prosemirror(&markdown);
    let mut stack = vec![(&tree, 0usize)];
    while let Some((node, depth)) = stack.pop() {
        assert!(depth <= crate::content::MAX_DEPTH + 3, "too deep");
        for child in node["content"].as_array().into_iter().flatten() {
            stack.push((child, depth + 1));
        }
    }

    let mut texts = texts.split('\u{1}');
    let (base, current, new) = (
        texts.next().unwrap_or_default(),
        texts.next().unwrap_or_default(),
        texts.next().unwrap_or_default(),
    );
    assert_eq!(apply(current, &merge(current, current, new)), new);
    let merged = apply(current, &merge(base, current, new));
    let _ = merged.len();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_html_oracle_catches_what_it_should() {
        check_html("<p>a &lt;b&gt; <a href=\"https://x\" rel=\"nofollow\">x</a><br></p>");
        for bad in [
            "<script>x</script>",
            "<p onclick=\"x\">",
            "<a href=\"javascript:alert(1)\">",
            "<a href=\" JavaScript:x\">",
            "<img src=\"data:text/html,x\">",
        ] {
            assert!(
                std::panic::catch_unwind(|| check_html(bad)).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn targets_take_empty_and_junk_input() {
        for data in [&[][..], &[0], &[255; 300], b"v1.a.b"] {
            frames(data);
            update(data);
            token(data);
            render(data);
            schema(data);
        }
    }
}
