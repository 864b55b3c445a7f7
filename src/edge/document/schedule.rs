//! Scheduled publishing: the document's pending entries, adding and cancelling them, and
//! running them when the alarm finds them due.

use serde_json::json;
use worker::{console_error, Request, Response};

use super::publishing::{entry_json, unavailable};
use super::DocumentObject;
use crate::doc_id::DocId;
use crate::edge::error::{EdgeError, Result};
use crate::edge::http::{json_body, json_response, now_ms};
use crate::edge::storage::journal::Entry;
use crate::limits::MAX_BODY_BYTES;
use crate::publish::{schedule_request, Action, ScheduleRequest};

impl DocumentObject {
    /// `GET /api/docs/{doc}/schedule`.
    pub(super) fn schedule_list(&self) -> Result<Response> {
        let entries = self
            .tables()?
            .schedule()
            .map_err(|e| unavailable("reading the schedule failed", e))?;
        json_response(
            200,
            &json!({ "entries": entries.iter().map(entry_json).collect::<Vec<_>>() }),
        )
    }

    /// `POST /api/docs/{doc}/schedule` `{"action", "at"}`.
    pub(super) async fn schedule_add(&self, id: &DocId, mut req: Request) -> Result<Response> {
        let body = json_body::<Option<ScheduleRequest>>(&mut req, MAX_BODY_BYTES)
            .await?
            .ok_or_else(|| EdgeError::api(400, "invalid_json", "expected {\"action\", \"at\"}"))?;
        let now = now_ms();
        let (action, at) = schedule_request(&body, now)?;
        if action == Action::Publish {
            // Refused now, not when the alarm runs it: an entry that cannot be published.
            self.check_publishable(id).await?;
        }
        let _guard = self.publish_lock.lock().await;
        let entry = self
            .tables()?
            .add_entry(id, action, at, now)
            .map_err(|e| unavailable("saving the schedule failed", e))?;
        let scheduled = entry_json(&Entry {
            id: entry,
            doc_id: id.to_string(),
            action,
            at,
        });
        let mut data = scheduled.clone();
        data["document"] = serde_json::json!(id.as_str());
        self.emit("entry.scheduled", data);
        if let Ok((db, kv)) = self.bindings() {
            self.rearm(&db, &kv, None).await;
        }
        json_response(201, &scheduled)
    }

    /// `DELETE /api/docs/{doc}/schedule/{entry}`.
    pub(super) async fn schedule_cancel(&self, entry: u64) -> Result<Response> {
        let _guard = self.publish_lock.lock().await;
        let removed = self
            .tables()?
            .remove_entry(entry)
            .map_err(|e| unavailable("saving the schedule failed", e))?;
        if !removed {
            return Err(EdgeError::api(
                404,
                "entry_not_found",
                format!("no pending entry {entry}"),
            ));
        }
        if let Ok((db, kv)) = self.bindings() {
            self.rearm(&db, &kv, None).await;
        }
        json_response(200, &json!({ "cancelled": entry }))
    }

    /// Runs the due schedule entries in order. Each is consumed with the intent it records
    /// (see [`crate::publish::intent`]), so it runs once; a permanent failure is kept visible
    /// as a failed intent, a transient one stops the run and the entry stays due.
    /// Returns whether something failed and must be retried later.
    pub(super) async fn run_schedule(&self) -> bool {
        let due = match self.tables().map(|t| t.due(now_ms())) {
            Ok(Ok(due)) => due,
            Ok(Err(e)) => {
                console_error!("reading the schedule: {e}");
                return true;
            }
            Err(_) => return true,
        };
        for entry in due {
            let Ok(doc) = DocId::parse(&entry.doc_id) else {
                console_error!("a schedule entry names no document: {:?}", entry.doc_id);
                continue;
            };
            let result = match entry.action {
                Action::Publish => self.publish_now(&doc, Some(entry.id)).await.map(|_| ()),
                Action::Unpublish => self.unpublish_now(&doc, Some(entry.id)).await.map(|_| ()),
            };
            if let Err(p) = result {
                let verdict = if p.permanent {
                    "failed"
                } else {
                    "will be retried"
                };
                console_error!(
                    "scheduled {} of {} {verdict}: {}",
                    entry.action.as_str(),
                    entry.doc_id,
                    p.message
                );
                if !p.permanent {
                    return true;
                }
                self.emit(
                    "schedule.failed",
                    serde_json::json!({
                        "document": doc.as_str(),
                        "entry": entry.id,
                        "action": entry.action.as_str(),
                        "at": crate::time::iso8601(entry.at),
                        "error": { "code": p.code, "status": p.status, "message": p.message },
                    }),
                );
            }
        }
        false
    }
}
