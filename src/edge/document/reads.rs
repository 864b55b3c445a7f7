//! Reading the draft: its Yjs state (with storage diagnostics), its rendering as JSON or as
//! its page would look, and the raw stored snapshot and log.

use worker::Response;

use super::DocumentObject;
use crate::content::fields;
use crate::content::schema::{Collection, POSTS};
use crate::content::Content;
use crate::doc_id::DocId;
use crate::edge::error::Result;
use crate::edge::http::{instance, json_response};
use crate::edge::storage::sqlite::SqlStore;
use crate::error::Error;
use crate::publish::{render_for_publish, slug_for};

impl DocumentObject {
    /// The draft's content, or [`Error::UnknownDocument`] if nothing was ever stored.
    pub(super) fn content(&self) -> Result<Content, Error> {
        self.live.with_settled_room(|room| {
            if room.is_empty() {
                return Err(Error::UnknownDocument);
            }
            crate::content::extract(room.doc())
        })
    }

    /// The draft read as an entry of `collection`, or [`Error::UnknownDocument`].
    pub(super) fn entry(&self, collection: &Collection) -> Result<fields::Entry, Error> {
        self.live.with_settled_room(|room| {
            if room.is_empty() {
                return Err(Error::UnknownDocument);
            }
            fields::read(room.doc(), collection)
        })
    }

    /// `GET /api/docs/{doc}/state`: the document as one Yjs v1 update.
    pub(super) fn document_state(&self) -> Result<Response> {
        let (bytes, (generation, snapshot_bytes, log_len), failed) =
            self.live.with_settled_room(|room| {
                if room.is_empty() {
                    return Err(Error::UnknownDocument);
                }
                let head = room.store().head();
                let stats = (head.generation, head.bytes, room.store().log_len());
                let failed = room.store().compaction_error().map(str::to_string);
                Ok((room.encode_state()?, stats, failed))
            })?;
        let response = Response::from_bytes(bytes)?;
        let headers = response.headers();
        headers.set("Content-Type", "application/octet-stream")?;
        headers.set("Cache-Control", "no-store")?;
        // Storage diagnostics for operators and tests: how the state is persisted.
        headers.set("Folio-Snapshot-Generation", &generation.to_string())?;
        headers.set("Folio-Snapshot-Bytes", &snapshot_bytes.to_string())?;
        headers.set("Folio-Log-Entries", &log_len.to_string())?;
        if let Some(why) = failed {
            // The last compaction failed its self-check (nothing was lost; retried).
            headers.set("Folio-Compaction-Error", &why)?;
        }
        // The wasm instance serving this object (see `edge::http::instance`).
        headers.set("Folio-Instance", &instance())?;
        Ok(response)
    }

    /// `GET /preview/{doc}`: the draft rendered as its published page would be.
    pub(super) async fn preview_page(&self, id: &DocId) -> Result<Response> {
        let defined = self.collection(id).await?;
        let rendered = if defined.collection.name == POSTS {
            let content = self.content()?;
            let slug = slug_for(&content).unwrap_or_else(|| id.to_string());
            render_for_publish(&content, slug)
        } else {
            // An entry: its fields under their labels, titled by its first text field.
            let entry = self.entry(&defined.collection)?;
            let slug = crate::publish::slug_for_entry(&defined.collection, &entry)
                .unwrap_or_else(|| id.to_string());
            let mut page = crate::publish::render_entry(&defined.collection, &entry, slug);
            page.html = crate::content::render::entry_html(&defined.collection, &entry);
            page
        };
        // The URL carries the token: never cache or index the draft (the page headers
        // already keep the referrer from leaking it).
        let response = crate::edge::reader::page_response(&rendered)?;
        let headers = response.headers();
        headers.set("Cache-Control", "private, no-store")?;
        headers.set("X-Robots-Tag", "noindex")?;
        Ok(response)
    }

    /// Refuses a document never created nor written ([`Error::UnknownDocument`]). A document
    /// created by `POST /api/docs` exists before anyone writes in it; only an empty post needs
    /// the registry to tell which (an entry's collection already came from it).
    pub(super) async fn known(&self, id: &DocId, collection: &Collection) -> Result<()> {
        let empty = self
            .live
            .with_settled_room(|room| Ok::<_, Error>(room.is_empty()))?;
        if empty && collection.name == POSTS && !self.registered(id).await? {
            return Err(Error::UnknownDocument.into());
        }
        Ok(())
    }

    /// `GET /api/docs/{doc}`: the draft as its collection defines it, `{id, collection, slug,
    /// fields, problems}`; a post keeps its rendered shape too (title, html, json, text...).
    pub(super) async fn draft(&self, id: &DocId) -> Result<Response> {
        let defined = self.collection(id).await?;
        // A document created and not yet written: its editor gets the empty draft (and an
        // entry its problems).
        self.known(id, &defined.collection).await?;
        let (content, entry) = self.live.with_settled_room(|room| {
            let entry = fields::read(room.doc(), &defined.collection)?;
            let content = if defined.collection.name == POSTS {
                Some(crate::content::extract(room.doc())?)
            } else {
                None
            };
            Ok((content, entry))
        })?;
        let typed = fields::entry_json(&defined.collection, &entry);
        let body = match content {
            Some(content) => {
                let mut body = crate::content::render::document_json(id.as_str(), &content);
                for key in ["collection", "fields", "problems"] {
                    body[key] = typed[key].clone();
                }
                body
            }
            None => {
                let mut body = typed;
                body["id"] = id.as_str().into();
                body
            }
        };
        json_response(200, &body)
    }

    /// `GET /api/docs/{doc}/export`: the stored snapshot and log, raw (see
    /// [`SqlStore::export`]).
    pub(super) fn export(&self, id: &DocId) -> Result<Response> {
        let store = SqlStore::open(self.state.storage().sql()).map_err(Error::from)?;
        let mut body = store.export()?.to_json();
        body["doc_id"] = serde_json::Value::from(id.as_str());
        let response = json_response(200, &body)?;
        response.headers().set("Cache-Control", "no-store")?;
        Ok(response)
    }
}
