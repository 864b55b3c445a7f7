//! JSON writes into the live draft (`PATCH /api/docs/{doc}`, and `POST /api/docs` with
//! `fields`): values as the content-type contract defines them, checked first ([`parse`]),
//! then applied as one transaction of the document ([`apply`]) whose update is stored and
//! relayed like any editor's.
//!
//! # Rules
//! - Only the fields named are touched; `null` clears one (unless it is required).
//! - Every value is read back through the very code that reads the CRDT
//!   ([`super::fields`]), so a write is accepted exactly when the draft would then hold a
//!   valid value: a number written as `"4"` is refused, not coerced. The rules (length, range,
//!   options) are those of publishing; any broken one is a [`Problem`] naming the field.
//! - Text fields change by a minimal diff ([`super::diff`]), so a concurrent author's typing
//!   merges. With `base` (the text the writer read), the writer's change is merged into
//!   whatever authors typed since, three-way; without, the field becomes the value as given.
//! - Rich text is ProseMirror JSON (`{"type": "doc", ...}`, or the `{html, json, text}` the
//!   API answers, whose `json` is used) or `{"markdown": "..."}`, written through the
//!   allowlist restoring uses. Only the top-level blocks that differ are replaced (with
//!   `base`, those that differ from what the writer read), so typing in the others merges.

use serde_json::{Map, Value};
use yrs::{Doc, GetString, Map as _, Text, Transact, XmlFragment};

use super::diff::{merge, units, Change};
use super::fields::{any_value, rule_broken, Problem, Read, FIELDS_MAP, META_MAP};
use super::restore::{any, children, Parent};
use super::schema::{Collection, Field, Kind, Slot};
use crate::error::{Error, Result};
use crate::publish::{is_slug, MAX_SLUG_LEN};

/// A checked write: what to set, field by field.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    pub slug: Option<String>,
    pub fields: Vec<(String, Set)>,
}

/// What a field becomes.
#[derive(Debug, Clone, PartialEq)]
pub enum Set {
    Clear,
    /// Text, merged from `base` (the text the writer read) if given.
    Text {
        value: String,
        base: Option<String>,
    },
    /// Rich text as ProseMirror JSON (the doc's `content`), merged from `base` (the rich
    /// text the writer read) if given.
    RichText {
        content: Vec<Value>,
        base: Option<Vec<Value>>,
    },
    /// A value kept in a map, as JSON.
    Json(Value),
}

/// A `{"fields": {...}, "slug"?, "base"?}` body checked against `collection`.
///
/// # Errors
/// Every problem found, each naming its field (`slug` for the slug, `fields` for the shape).
pub fn parse(body: &Value, collection: &Collection) -> std::result::Result<Write, Vec<Problem>> {
    let problem = |name: &str, message: String| Problem {
        name: name.to_string(),
        message,
    };
    let Some(object) = body.as_object() else {
        return Err(vec![problem(
            "fields",
            "expected {\"fields\": {...}, \"slug\"?: \"...\"}".into(),
        )]);
    };
    let mut problems = Vec::new();
    for key in object.keys() {
        if !["fields", "slug", "base", "collection"].contains(&key.as_str()) {
            problems.push(problem(key, "is not a property of a write".into()));
        }
    }
    let empty = Map::new();
    let fields = match object.get("fields") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(fields)) => fields,
        Some(_) => {
            problems.push(problem(
                "fields",
                "expected an object of field values".into(),
            ));
            &empty
        }
    };
    let base = object
        .get("base")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let slug = match object.get("slug") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if is_slug(s) && s.len() <= MAX_SLUG_LEN => Some(s.clone()),
        Some(_) => {
            problems.push(problem(
                "slug",
                "a slug is 1-96 characters of a-z, 0-9 and single '-'".into(),
            ));
            None
        }
    };
    let mut sets = Vec::new();
    for (name, value) in fields {
        let Some(field) = collection.field(name) else {
            problems.push(problem(
                name,
                format!("is not a field of `{}`", collection.name),
            ));
            continue;
        };
        match check(field, value, base.get(name)) {
            Ok(set) => sets.push((name.clone(), set)),
            Err(message) => problems.push(problem(name, message)),
        }
    }
    if problems.is_empty() {
        Ok(Write { slug, fields: sets })
    } else {
        Err(problems)
    }
}

/// Rich text in any accepted shape (`{"markdown"}`, a ProseMirror doc, or the API's
/// `{html, json, text}`) as the doc's top-level nodes.
fn rich_text_content(value: &Value) -> std::result::Result<Vec<Value>, String> {
    let doc = if let Some(md) = value.get("markdown") {
        let md = md.as_str().ok_or("markdown must be a string")?;
        super::markdown::to_prosemirror(md)
    } else if value.get("type").and_then(Value::as_str) == Some("doc") {
        value.clone()
    } else if value.pointer("/json/type").and_then(Value::as_str) == Some("doc") {
        value["json"].clone()
    } else {
        return Err(
            "expected rich text: ProseMirror JSON {\"type\": \"doc\", \"content\": [...]} or {\"markdown\": \"...\"}"
                .into(),
        );
    };
    Ok(doc
        .get("content")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default())
}

/// One field's value, checked.
fn check(field: &Field, value: &Value, base: Option<&Value>) -> std::result::Result<Set, String> {
    if value.is_null() {
        return if field.required {
            Err("is required".into())
        } else {
            Ok(Set::Clear)
        };
    }
    let read = |json: &Value| match any_value(&field.kind, &any(json, 0)) {
        Read::Value(v) => rule_broken(&field.kind, &v).map_or(Ok(()), Err),
        Read::Empty if field.required => Err("is required".to_string()),
        Read::Empty => Ok(()),
        Read::Wrong(why) => Err(why),
    };
    match (&field.kind, field.slot()) {
        (Kind::Text { .. }, Slot::RootText(_)) => {
            let Some(text) = value.as_str() else {
                return Err("expected text".into());
            };
            read(value)?;
            let base = match base {
                None | Some(Value::Null) => None,
                Some(Value::String(b)) => Some(b.clone()),
                Some(_) => return Err("its base must be the text the change was made from".into()),
            };
            Ok(Set::Text {
                value: text.to_string(),
                base,
            })
        }
        (Kind::RichText, _) => {
            let content = rich_text_content(value)?;
            if field.required && content.is_empty() {
                return Err("is required".into());
            }
            let base = match base {
                None | Some(Value::Null) => None,
                Some(b) => Some(rich_text_content(b).map_err(|e| format!("its base: {e}"))?),
            };
            Ok(Set::RichText { content, base })
        }
        (Kind::Image, _) => {
            // Only what the contract keeps: the API's answer also carries sizes and variants.
            let kept = serde_json::json!({ "src": value.get("src"), "alt": value.get("alt") });
            read(&kept)?;
            Ok(Set::Json(kept))
        }
        (Kind::Reference { .. }, _) => {
            let kept = serde_json::json!({ "id": value.get("id") });
            read(&kept)?;
            Ok(Set::Json(kept))
        }
        _ => {
            read(value)?;
            Ok(Set::Json(value.clone()))
        }
    }
}

/// The top-level blocks `content` (ProseMirror JSON nodes) reads as, through the allowlist
/// (written into a scratch document and read back).
fn blocks(content: &[Value]) -> Vec<Vec<super::Node>> {
    use super::extract::child_nodes;
    let scratch = Doc::new();
    let written = scratch.get_or_insert_xml_fragment("blocks");
    children(
        &mut scratch.transact_mut(),
        &mut Parent::Fragment(written.clone()),
        content,
        0,
    );
    let st = scratch.transact();
    written.children(&st).map(|c| child_nodes(&st, c)).collect()
}

/// How many blocks `a` and `b` share at their start and, after that, at their end.
fn common_ends<T: PartialEq>(a: &[T], b: &[T]) -> (usize, usize) {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let room = a.len().min(b.len()) - prefix;
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(room)
        .take_while(|(x, y)| x == y)
        .count();
    (prefix, suffix)
}

/// Makes rich text `fragment` read as `content` (ProseMirror JSON nodes), replacing only
/// the top-level blocks that differ: the blocks before the first difference and after the
/// last stay as they are, so an author typing in one of them keeps their keystrokes. With
/// `base` (what the writer read), the blocks the writer changed are those that differ from
/// `base`, and they replace the same run of blocks now, whatever authors typed elsewhere.
fn replace_blocks(
    txn: &mut yrs::TransactionMut,
    fragment: &yrs::XmlFragmentRef,
    content: &[Value],
    base: Option<&[Value]>,
) {
    use super::extract::child_nodes;
    let new = blocks(content);
    let old: Vec<Vec<super::Node>> = fragment
        .children(txn)
        .map(|c| child_nodes(txn, c))
        .collect();
    // The writer's change, in blocks kept at either end; from the base if it still fits.
    let from_base = base.map(|b| common_ends(&blocks(b), &new));
    let (prefix, suffix) = match from_base {
        Some((p, s)) if p + s <= old.len() && p + s <= new.len() => (p, s),
        _ => common_ends(&old, &new),
    };
    let removed = old.len() - prefix - suffix;
    let at = u32::try_from(prefix).unwrap_or(u32::MAX);
    if removed > 0 {
        fragment.remove_range(txn, at, u32::try_from(removed).unwrap_or(u32::MAX));
    }
    let middle: Vec<super::Node> = new[prefix..new.len() - suffix]
        .iter()
        .flatten()
        .cloned()
        .collect();
    if middle.is_empty() {
        return;
    }
    let json = super::render::rich_text_json(&middle);
    let nodes = json
        .pointer("/json/content")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    children(
        txn,
        &mut Parent::FragmentAt(fragment.clone(), at),
        &nodes,
        0,
    );
}

/// Applies `write` to `doc` as one transaction and returns its update (Yjs v1).
///
/// # Errors
/// [`Error::Internal`] if the document is in a transaction.
pub fn apply(doc: &Doc, collection: &Collection, write: &Write) -> Result<Vec<u8>> {
    enum Root {
        Text(yrs::TextRef),
        Xml(yrs::XmlFragmentRef),
        Map(yrs::MapRef),
    }
    let kind = doc.offset_kind();
    let roots: Vec<(&str, &Set, Root)> = write
        .fields
        .iter()
        .filter_map(|(name, set)| {
            let field = collection.field(name)?;
            let root = match field.slot() {
                Slot::RootText(n) => Root::Text(doc.get_or_insert_text(n)),
                Slot::RootXml(n) => Root::Xml(doc.get_or_insert_xml_fragment(n)),
                Slot::Fields(_) => Root::Map(doc.get_or_insert_map(FIELDS_MAP)),
                Slot::Meta(_) => Root::Map(doc.get_or_insert_map(META_MAP)),
            };
            Some((name.as_str(), set, root))
        })
        .collect();
    let meta = doc.get_or_insert_map(META_MAP);
    let mut txn = doc
        .try_transact_mut()
        .map_err(|e| Error::Internal(format!("document busy: {e}")))?;
    if let Some(slug) = &write.slug {
        meta.insert(&mut txn, "slug", slug.as_str());
    }
    for (name, set, root) in roots {
        match (root, set) {
            (Root::Text(text), Set::Text { value, base }) => {
                let current = text.get_string(&txn);
                let base = base.as_deref().unwrap_or(&current);
                let changes = merge(base, &current, value);
                // Offsets of every character boundary of the current text, in the
                // document's units (the changes go from the end backwards, so these hold).
                let mut at = Vec::with_capacity(current.len() + 1);
                let mut sum = 0u32;
                at.push(0);
                let mut buf = [0u8; 4];
                for c in current.chars() {
                    sum += units(c.encode_utf8(&mut buf), kind);
                    at.push(sum);
                }
                let offset = |i: usize| at.get(i).copied().unwrap_or(sum);
                for change in changes {
                    match change {
                        Change::Delete(r) => {
                            let start = offset(r.start);
                            text.remove_range(&mut txn, start, offset(r.end) - start);
                        }
                        Change::Insert(i, s) => text.insert(&mut txn, offset(i), &s),
                    }
                }
            }
            (Root::Text(text), Set::Clear) => {
                let len = text.len(&txn);
                text.remove_range(&mut txn, 0, len);
            }
            (Root::Xml(fragment), set) => {
                let (content, base) = match set {
                    Set::RichText { content, base } => (content.as_slice(), base.as_deref()),
                    _ => (&[][..], None),
                };
                replace_blocks(&mut txn, &fragment, content, base);
            }
            (Root::Map(map), Set::Clear) => {
                map.remove(&mut txn, name);
            }
            (Root::Map(map), Set::Json(value)) => {
                map.insert(&mut txn, name, any(value, 0));
            }
            (Root::Map(map), Set::Text { value, .. }) => {
                map.insert(&mut txn, name, value.as_str());
            }
            // Parsed by the same definition: a text slot always gets text, and so on.
            (Root::Text(_), _) | (Root::Map(_), Set::RichText { .. }) => {}
        }
    }
    Ok(txn.encode_update_v1())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::fields::{entry_json, read};
    use crate::testing::articles;
    use serde_json::json;
    use yrs::updates::decoder::Decode;
    use yrs::{ReadTxn, StateVector, Update};

    fn write(doc: &Doc, body: Value) -> std::result::Result<Vec<u8>, Vec<Problem>> {
        let articles = articles();
        let w = parse(&body, &articles)?;
        Ok(apply(doc, &articles, &w).unwrap())
    }

    fn fields(doc: &Doc) -> Value {
        entry_json(&articles(), &read(doc, &articles()).unwrap())
    }

    /// Brings `to` up to date with `from`, as the relay would.
    fn sync(from: &Doc, to: &Doc) {
        let sv = to.transact().state_vector();
        let update = from.transact().encode_state_as_update_v1(&sv);
        to.transact_mut()
            .apply_update(Update::decode_v1(&update).unwrap())
            .unwrap();
    }

    #[test]
    fn every_type_is_written_to_its_slot_and_reads_back() {
        let doc = Doc::with_client_id(1);
        write(
            &doc,
            json!({"slug": "first-entry", "fields": {
                "headline": "Hello",
                "body": {"markdown": "Some **bold** words"},
                "rating": 4, "featured": true, "day": "2026-02-28",
                "at": "2026-11-23T10:00:00Z", "category": "news",
                "tags": ["rust", "cms"], "author": {"id": "person-1"},
                "cover": {"src": "/media/x.png", "alt": "a cover", "width": 10, "srcset": "junk"}
            }}),
        )
        .unwrap();
        let got = fields(&doc);
        assert_eq!(got["slug"], "first-entry");
        assert_eq!(got["problems"], json!([]));
        let f = &got["fields"];
        assert_eq!(f["headline"], "Hello");
        assert_eq!(f["body"]["html"], "<p>Some <strong>bold</strong> words</p>");
        assert_eq!(f["rating"], 4.0);
        assert_eq!(f["featured"], true);
        assert_eq!(f["day"], "2026-02-28");
        assert_eq!(f["tags"], json!(["rust", "cms"]));
        assert_eq!(f["author"], json!({"id": "person-1"}));
        assert_eq!(f["cover"], json!({"src": "/media/x.png", "alt": "a cover"}));

        // The API's own answer for rich text is accepted back (export, then import).
        let body = f["body"].clone();
        let other = Doc::with_client_id(2);
        write(&other, json!({"fields": {"body": body}})).unwrap();
        assert_eq!(fields(&other)["fields"]["body"], f["body"]);

        // Only named fields change; null clears.
        write(
            &doc,
            json!({"fields": {"featured": null, "headline": "Hello there"}}),
        )
        .unwrap();
        let got = fields(&doc);
        assert_eq!(got["fields"]["featured"], Value::Null);
        assert_eq!(got["fields"]["headline"], "Hello there");
        assert_eq!(got["fields"]["rating"], 4.0);
    }

    #[test]
    fn bad_values_are_refused_by_name_and_nothing_is_written() {
        let articles = articles();
        let problems = parse(
            &json!({"slug": "Not A Slug", "fields": {
                "headline": "x".repeat(21), "rating": "4", "category": "gossip",
                "nope": 1, "body": {"html": "<p>x</p>"}, "author": {"id": "bad id!"},
                "day": "2026-02-30"
            }}),
            &articles,
        )
        .unwrap_err();
        let mut names: Vec<&str> = problems.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            ["author", "body", "category", "day", "headline", "nope", "rating", "slug"]
        );
        let rating = problems.iter().find(|p| p.name == "rating").unwrap();
        assert_eq!(rating.message, "expected a number");
        // A required field cannot be cleared.
        let problems = parse(&json!({"fields": {"headline": null}}), &articles).unwrap_err();
        assert_eq!(problems[0].message, "is required");
        assert!(parse(&json!([1]), &articles).is_err());
    }

    #[test]
    fn text_changes_by_a_minimal_diff_that_merges_with_concurrent_typing() {
        let server = Doc::with_client_id(1);
        write(&server, json!({"fields": {"headline": "Hello world"}})).unwrap();
        // An author has the same text and types at its end, concurrently with the write.
        let author = Doc::with_client_id(2);
        sync(&server, &author);
        {
            let t = author.get_or_insert_text("headline");
            let mut txn = author.transact_mut();
            let len = t.len(&txn);
            t.insert(&mut txn, len, "!!");
        }
        let update = write(&server, json!({"fields": {"headline": "Howdy world"}})).unwrap();
        // Small: the write touched "ello", not the whole field.
        let full = server
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        assert!(
            update.len() < full.len(),
            "{} vs {}",
            update.len(),
            full.len()
        );
        sync(&author, &server);
        sync(&server, &author);
        assert_eq!(fields(&server)["fields"]["headline"], "Howdy world!!");
        assert_eq!(fields(&author)["fields"]["headline"], "Howdy world!!");

        // With a base: the author's typing the writer never saw is kept, three-way.
        write(
            &server,
            json!({"fields": {"headline": "Hi world"}, "base": {"headline": "Howdy world"}}),
        )
        .unwrap();
        assert_eq!(fields(&server)["fields"]["headline"], "Hi world!!");
    }

    /// Types `text` at `at` in the first text of top-level block `block` of `doc`'s body.
    fn type_into(doc: &Doc, block: u32, at: u32, text: &str) {
        let body = doc.get_or_insert_xml_fragment("body");
        let mut txn = doc.transact_mut();
        let Some(yrs::XmlOut::Element(p)) = body.get(&txn, block) else {
            panic!("a block")
        };
        let Some(yrs::XmlOut::Text(t)) = p.get(&txn, 0) else {
            panic!("its text")
        };
        t.insert(&mut txn, at, text);
    }

    #[test]
    fn rich_text_replaces_only_the_blocks_that_changed() {
        let server = Doc::with_client_id(1);
        write(
            &server,
            json!({"fields": {"headline": "H", "body": {"markdown": "First\n\nSecond\n\nThird"}}}),
        )
        .unwrap();
        // An author types in the first paragraph while a writer changes the third and adds
        // a fourth.
        let author = Doc::with_client_id(2);
        sync(&server, &author);
        type_into(&author, 0, 5, " typed");
        let update = write(
            &server,
            json!({"fields": {"body": {"markdown": "First\n\nSecond\n\nThird, changed\n\nFourth"}}}),
        )
        .unwrap();
        sync(&author, &server);
        sync(&server, &author);
        let want = "<p>First typed</p><p>Second</p><p>Third, changed</p><p>Fourth</p>";
        assert_eq!(fields(&server)["fields"]["body"]["html"], want);
        assert_eq!(fields(&author)["fields"]["body"]["html"], want);
        // Small: two blocks written, not four.
        assert!(update.len() < 120, "{} bytes", update.len());
        // The same body again changes nothing at all.
        let again = write(
            &server,
            json!({"fields": {"body": {"markdown": "First typed\n\nSecond\n\nThird, changed\n\nFourth"}}}),
        )
        .unwrap();
        assert_eq!(again, vec![0, 0], "the same body again changes nothing");
        // With a base: the author's typing already reached the server, and is kept.
        type_into(&author, 1, 6, " again");
        sync(&author, &server);
        write(
            &server,
            json!({
                "fields": {"body": {"markdown": "First typed\n\nSecond\n\nThird, changed\n\nFifth"}},
                "base": {"body": {"markdown": "First typed\n\nSecond\n\nThird, changed\n\nFourth"}},
            }),
        )
        .unwrap();
        assert_eq!(
            fields(&server)["fields"]["body"]["html"],
            "<p>First typed</p><p>Second again</p><p>Third, changed</p><p>Fifth</p>"
        );
        // Emptying a required rich text is refused like clearing it.
        let problems = write(&server, json!({"fields": {"body": {"markdown": ""}}})).unwrap_err();
        assert_eq!(problems[0].message, "is required");
    }

    #[test]
    fn posts_take_writes_into_their_own_slots() {
        let posts = Collection::posts();
        let doc = Doc::with_client_id(1);
        let w = parse(
            &json!({"fields": {"title": "T", "excerpt": "E", "tags": ["a"],
                    "body": {"type": "doc", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "B"}]}]}}}),
            &posts,
        )
        .unwrap();
        apply(&doc, &posts, &w).unwrap();
        let content = crate::content::extract(&doc).unwrap();
        assert_eq!(content.title, "T");
        assert_eq!(content.meta.excerpt, "E");
        assert_eq!(content.meta.tags, vec!["a"]);
        assert_eq!(crate::content::render::plain_text(&content), "B");
    }
}
