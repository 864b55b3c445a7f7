//! The document's single alarm: what it must do when it rings (close expired sockets, the
//! trailing registry touch, recover a pending intent, run due entries, write KV) and when it
//! must ring next ([`plan::alarm`]). Also the registry touches themselves.

use worker::kv::KvStore;
use worker::{console_error, D1Database, Response};

use super::publishing::intent_json;
use super::DocumentObject;
use crate::content::fields;
use crate::content::schema::POSTS;
use crate::edge::collections;
use crate::edge::error::tolerated;
use crate::edge::http::now_ms;
use crate::edge::storage::d1::{self, Registry};
use crate::edge::storage::media as media_store;
use crate::error::StoreError;
use crate::limits::{ALARM_FALLBACK_MS, KV_RETRY_MS, SCHEDULE_RETRY_MS};
use crate::media;
use crate::publish::intent::{self, Journal, Outcome};
use crate::publish::plan::{self, AlarmInputs, TouchPlan};
use crate::publish::{Action, Post};
use crate::time::Millis;

/// Makes sure the alarm rings by `at`: sets it unless it is already set earlier.
///
/// # Errors
/// The platform's error, sorted.
pub(super) async fn try_alarm_by(storage: &worker::Storage, at: Millis) -> Result<(), StoreError> {
    let later = match storage.get_alarm().await {
        Ok(Some(current)) => current > at,
        _ => true,
    };
    if later {
        storage
            .set_alarm((at - now_ms()).max(0))
            .await
            .map_err(StoreError::from_message)?;
    }
    Ok(())
}

/// As [`try_alarm_by`], logging a failure.
pub(super) async fn alarm_by(storage: &worker::Storage, at: Millis) {
    if let Err(e) = try_alarm_by(storage, at).await {
        console_error!("setting the alarm failed: {e}");
    }
}

impl DocumentObject {
    pub(super) async fn alarm_by(&self, at: Millis) {
        alarm_by(&self.state.storage(), at).await;
    }

    /// Refreshes this document's row in D1's registry in the background (title, updated
    /// time, and when given: the next scheduled publish and the publish problem).
    pub(super) fn touch_registry(&self, publishing: Option<Registry>) {
        let Some(id) = self.doc_id() else { return };
        // A post's title, or an entry's first text field (as its collection was last read).
        // Two statements: a `borrow()` held while `borrow_mut()` runs would panic (and a panic
        // resets the isolate), which a chaos run caught after a restart.
        let known = self.title_field.borrow().clone();
        let root = known.or_else(|| {
            let field = tolerated(self.tables(), "the object's tables")?.stored_title_field()?;
            *self.title_field.borrow_mut() = Some(field.clone());
            Some(field)
        });
        let root = root.as_deref().unwrap_or("title");
        let Ok((title, slug)) = self
            .live
            .with_settled_room(|room| Ok((room.text(root), fields::draft_slug(room.doc()))))
        else {
            return;
        };
        let Ok(db) = d1::db(&self.env) else { return };
        let now = now_ms();
        self.touch.borrow_mut().touched(now);
        let known = self.collection.borrow().clone();
        let collection =
            known.or_else(|| tolerated(self.tables(), "the object's tables")?.stored_collection());
        let (live, env) = (self.live.clone(), self.env.clone());
        self.state.wait_until(async move {
            if let Err(e) = d1::touch(&db, id.as_str(), (&title, &slug), now, publishing).await {
                console_error!("updating the document registry: {e}");
            }
            // The media the draft refers to, so that none of it can be deleted meanwhile.
            let name = collection.unwrap_or_else(|| POSTS.to_string());
            let defined = match collections::load(&env, &name).await {
                Ok(Some(defined)) => defined,
                Ok(None) => return,
                Err(e) => return console_error!("reading {name} for the draft's media: {e:?}"),
            };
            let ids = live.with_settled_room(|room| {
                Ok(if name == POSTS {
                    let mut ids = Vec::new();
                    media::ids_in_nodes(&crate::content::extract(room.doc())?.body, &mut ids);
                    ids
                } else {
                    media::ids_in_entry(&fields::read(room.doc(), &defined.collection)?)
                })
            });
            match ids {
                Ok(ids) => {
                    if let Err(e) = media_store::set_draft_refs(&db, id.as_str(), &ids).await {
                        console_error!("recording the draft's media: {e}");
                    }
                }
                Err(e) => console_error!("reading the draft's media: {e:?}"),
            }
        });
    }

    /// Writes KV if due, then sets the single alarm to the earliest of the schedule, the
    /// pending intent's next attempt, a pending KV write and a token expiry (or clears it).
    pub(super) async fn rearm(&self, db: &D1Database, kv: &KvStore, fresh: Option<&Post>) {
        self.rearm_after(db, kv, fresh, None).await;
    }

    /// As [`Self::rearm`], but the schedule and KV bring the alarm back no sooner than
    /// `not_before` (a retry's backoff: a failed entry is still due, and must not make the
    /// alarm fire again at once).
    async fn rearm_after(
        &self,
        db: &D1Database,
        kv: &KvStore,
        fresh: Option<&Post>,
        not_before: Option<Millis>,
    ) {
        let now = now_ms();
        let Ok(journal) = self.journal(now) else {
            console_error!("the publishing tables are unavailable; retried by the fallback alarm");
            return;
        };
        let kv_next = match self.sync_kv(&journal.tables, db, kv, now, fresh).await {
            Ok(next) => next,
            Err(e) => {
                console_error!("KV sync: {e}");
                Some(now + KV_RETRY_MS)
            }
        };
        let intent = journal.intent().unwrap_or_else(|e| {
            console_error!("reading the publish intent: {e}");
            None
        });
        let schedule = match journal.tables.schedule() {
            Ok(entries) => {
                let next_publish = entries.iter().find(|e| e.action == Action::Publish);
                self.touch_registry(Some(Registry {
                    next_publish_at: next_publish.map(|e| e.at),
                    problem: intent.as_ref().map(|i| intent_json(i).to_string()),
                }));
                entries.first().map(|e| e.at)
            }
            Err(e) => {
                console_error!("reading the schedule: {e}");
                Some(now + KV_RETRY_MS)
            }
        };
        let next = plan::alarm(&AlarmInputs {
            schedule,
            kv: kv_next,
            intent: intent.as_ref().filter(|i| !i.failed).map(|i| i.next_at),
            expiry: self.next_expiry(),
            webhooks: self.webhook_work(),
            not_before,
        });
        let storage = self.state.storage();
        let result = match next {
            Some(at) => storage.set_alarm((at - now).max(0)).await,
            None => storage.delete_alarm().await,
        };
        if let Err(e) = result {
            console_error!("setting the alarm failed: {e}");
        }
    }

    /// The alarm rang.
    pub(super) async fn ring(&self) -> worker::Result<Response> {
        // A fallback first: if this run ends early, the alarm still comes back. Replaced at
        // the end by the real next time.
        if let Err(e) = self.state.storage().set_alarm(ALARM_FALLBACK_MS).await {
            console_error!("arming the fallback alarm failed: {e}");
        }
        self.close_expired();
        let _guard = self.publish_lock.lock().await;
        let touch = self.touch.borrow_mut().alarm(now_ms());
        if touch == TouchPlan::Now {
            self.touch_registry(None);
        }
        let (db, kv) = match self.bindings() {
            Ok(b) => b,
            Err(p) => {
                console_error!("alarm: {}", p.message);
                return Response::ok("bindings missing; retried by the fallback alarm");
            }
        };
        // The pending intent, when its next attempt is due (after a crash: its recovery).
        let now = now_ms();
        if let Ok(mut journal) = self.journal(now) {
            let due = tolerated(journal.intent(), "the pending intent").flatten();
            if let Some(intent) = due.filter(|i| !i.failed && i.next_at <= now) {
                let mut world = self.world(&db);
                let confirmed = tolerated(journal.local(), "the confirmed record").flatten();
                let outcome = intent::drive(&mut journal, &mut world, now).await;
                // Recovered (after a crash, or a failure): the event the request that started
                // it could not record.
                if let Some(id) = self.doc_id() {
                    self.announce(&id, confirmed.as_ref(), &journal, intent.entry);
                }
                if let Outcome::Failed(p) = outcome {
                    console_error!("alarm: the pending publish failed again: {}", p.message);
                }
            }
        }
        let retry = self.run_schedule().await;
        self.send_updated(now_ms()).await;
        if let Ok(tables) = self.tables() {
            super::send_outbox(&self.env, &tables).await;
        }
        // Then pending KV writes, and the next alarm: after a failure, not before the backoff.
        let not_before = retry.then(|| now_ms() + SCHEDULE_RETRY_MS);
        self.rearm_after(&db, &kv, None, not_before).await;
        Response::ok("done")
    }
}
