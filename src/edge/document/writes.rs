//! JSON writes into the live draft (`PATCH /api/docs/{doc}`): checked against the
//! document's collection ([`crate::content::write`]), applied as one transaction of the
//! room, stored and relayed like any editor's edit, so open editors see it at once.

use worker::{Request, Response};

use super::DocumentObject;
use crate::content::write;
use crate::doc_id::DocId;
use crate::edge::error::{EdgeError, Result};
use crate::edge::http::{json_body, now_ms};
use crate::limits::MAX_WRITE_BYTES;

impl DocumentObject {
    /// `PATCH /api/docs/{doc}` `{fields, slug?, base?}` → 200 and the draft as
    /// `GET /api/docs/{doc}` answers it; 422 `invalid_fields` naming every field refused,
    /// with nothing written.
    pub(super) async fn write(&self, id: &DocId, mut req: Request) -> Result<Response> {
        let defined = self.collection(id).await?;
        let body: serde_json::Value = json_body(&mut req, MAX_WRITE_BYTES).await?;
        let write = write::parse(&body, &defined.collection).map_err(|problems| {
            let first = problems.first().map_or(String::new(), |p| {
                format!(" (first: {} {})", p.name, p.message)
            });
            EdgeError::Detailed {
                status: 422,
                code: "invalid_fields",
                message: format!(
                    "{} field{} not valid{first}; nothing was written",
                    problems.len(),
                    if problems.len() == 1 { " is" } else { "s are" },
                ),
                extra: vec![(
                    "fields",
                    serde_json::to_value(&problems).unwrap_or_default(),
                )],
            }
        })?;
        // Like reading it: a document never created nor written is unknown.
        self.known(id, &defined.collection).await?;
        let collection = &defined.collection;
        self.live
            .with_settled_room(|room| room.edit(|doc| write::apply(doc, collection, &write)))?;
        let now = now_ms();
        self.live.flush(now);
        self.edited(now);
        self.draft(id).await
    }
}
