//! Publishing from the document's object: publish, unpublish and restore, driven as
//! write-ahead intents ([`crate::publish::intent`]) over the object's journal and D1; the
//! publishing view; the test-only fault switch; and bringing KV up to date
//! ([`crate::publish::plan::kv`]).
//!
//! The caller of every `*_now` holds the object's publish lock: one publish or unpublish at a
//! time per document, so version numbers are decided without races.

use crate::error::StoreError;
use serde_json::json;
use worker::kv::KvStore;
use worker::{console_error, D1Database, Request, Response};

use super::DocumentObject;
use crate::content::fields;
use crate::content::restore::restore_entry;
use crate::content::schema::Collection;
use crate::content::schema::POSTS;
use crate::doc_id::DocId;
use crate::edge::error::{tolerated, EdgeError, Result};
use crate::edge::http::{json_body, json_response, now_ms};
use crate::edge::storage::journal::{Entry, SqlJournal, Tables};
use crate::edge::storage::media as media_store;
use crate::edge::storage::{d1, kv};
use crate::limits::{KV_RETRY_MS, MAX_BODY_BYTES};
use crate::media;
use crate::publish::intent::{self, Intent, Journal, Local, Outcome, Problem, Step, Stored, World};
use crate::publish::plan::{self, KvPlan};
use crate::publish::{
    render_entry, render_for_publish, slug_for, slug_for_entry, Action, Post, Rendered,
};
use crate::time::{iso8601, Millis};

/// What a request stopped by the fault switch answers (tests only).
fn crash_problem() -> Problem {
    Problem {
        status: 500,
        code: "crashed".into(),
        message: "stopped by the fault switch, as a crash would".into(),
        permanent: false,
    }
}

pub(super) fn unavailable(what: &str, detail: impl std::fmt::Display) -> Problem {
    console_error!("{what}: {detail}");
    Problem::transient(format!("{what}; try again"))
}

/// What a 422 `invalid_fields` says, if an entry has problems.
fn invalid_fields(problems: &[fields::Problem]) -> Option<String> {
    let first = problems.first()?;
    Some(format!(
        "{} field{} not valid (first: {} {}); nothing was published",
        problems.len(),
        if problems.len() == 1 { " is" } else { "s are" },
        first.name,
        first.message
    ))
}

fn nothing_pending() -> EdgeError {
    EdgeError::api(404, "nothing_pending", "no publish or unpublish is pending")
}

fn published_json(local: &Local, created: bool) -> serde_json::Value {
    json!({
        "version": local.version,
        "slug": local.slug,
        "status": if local.published { "published" } else { "unpublished" },
        "published_at": iso8601(local.published_at),
        "created": created,
    })
}

/// What `entry.published` and `entry.unpublished` carry: the document, its collection, slug
/// and version, and where readers get it.
fn event_json(
    id: &DocId,
    collection: Option<&str>,
    local: &Local,
    entry: Option<u64>,
) -> serde_json::Value {
    let collection = collection.unwrap_or(POSTS);
    let url = if collection == POSTS {
        format!("/api/posts/{}", local.slug)
    } else {
        format!("/api/content/{collection}/{}", local.slug)
    };
    json!({
        "document": id.as_str(),
        "collection": collection,
        "slug": local.slug,
        "version": local.version,
        "published_at": iso8601(local.published_at),
        "scheduled_entry": entry,
        "url": url,
    })
}

pub(super) fn entry_json(e: &Entry) -> serde_json::Value {
    json!({ "id": e.id, "action": e.action.as_str(), "at": iso8601(e.at) })
}

/// The pending or failed intent as authors see it (document list, editor, API).
pub(super) fn intent_json(i: &Intent) -> serde_json::Value {
    let problem = i.problem.as_ref();
    json!({
        "action": i.action.as_str(),
        "version": i.version,
        "slug": i.slug,
        "scheduled_entry": i.entry,
        "since": iso8601(i.created_at),
        "attempts": i.attempts,
        "state": if i.failed { "failed" } else { "retrying" },
        "next_attempt_at": (!i.failed).then(|| iso8601(i.next_at)),
        "code": problem.map_or("pending", |p| p.code.as_str()),
        "message": problem.map_or("not confirmed yet; it is retried automatically", |p| p.message.as_str()),
    })
}

fn local_json(l: &Local) -> serde_json::Value {
    json!({
        "version": l.version,
        "content_hash": l.content_hash,
        "slug": l.slug,
        "status": if l.published { "published" } else { "unpublished" },
        "kv_pending": l.kv_pending,
        "kv_slug": l.kv_slug,
    })
}

/// D1, and the object's alarm, as the intents write to them.
pub(super) struct D1World<'a> {
    db: &'a D1Database,
    /// The document's collection when it is not `posts` (slugs are unique per collection).
    collection: Option<String>,
    storage: worker::Storage,
    /// The fault switch: the next write fails with this message, unwritten (tests only).
    fail: Option<String>,
}

impl World for D1World<'_> {
    async fn stored(
        &mut self,
        doc_id: &str,
        slug: &str,
    ) -> std::result::Result<Stored, StoreError> {
        d1::stored(self.db, doc_id, slug, self.collection.as_deref()).await
    }

    async fn write_post(&mut self, post: &Post) -> std::result::Result<Option<String>, StoreError> {
        if let Some(e) = self.fail.take() {
            // As D1 would say it, sorted as D1's errors are.
            return Err(StoreError::from_message(e));
        }
        d1::write_post(self.db, post).await
    }

    async fn write_unpublish(&mut self, doc_id: &str) -> std::result::Result<(), StoreError> {
        if let Some(e) = self.fail.take() {
            // As D1 would say it, sorted as D1's errors are.
            return Err(StoreError::from_message(e));
        }
        d1::write_unpublish(self.db, doc_id).await
    }

    async fn arm(&mut self, at: Millis) -> std::result::Result<(), StoreError> {
        super::alarm::try_alarm_by(&self.storage, at).await
    }
}

impl DocumentObject {
    /// The D1 and KV bindings.
    pub(super) fn bindings(&self) -> std::result::Result<(D1Database, KvStore), Problem> {
        match (d1::db(&self.env), kv::posts(&self.env)) {
            (Ok(db), Ok(kv)) => Ok((db, kv)),
            (Err(e), _) | (_, Err(e)) => Err(unavailable("D1/KV bindings missing", e)),
        }
    }

    /// D1 and the alarm, as the intents write to them (with the fault switch's D1 error).
    pub(super) fn world<'a>(&self, db: &'a D1Database) -> D1World<'a> {
        // Known in memory once `collection()` ran (every publish runs it first).
        let known = self.collection.borrow().clone();
        let collection = known
            .or_else(|| tolerated(self.tables(), "the object's tables")?.stored_collection())
            .filter(|c| c != POSTS);
        D1World {
            db,
            collection,
            storage: self.state.storage(),
            fail: self.fail_d1.borrow_mut().take(),
        }
    }

    /// The slug of the confirmed latest version (empty when none), read before a publish
    /// changes it: a renamed document's old addresses are purged too.
    fn published_slug(&self) -> String {
        tolerated(self.tables(), "the object's tables")
            .and_then(|t| tolerated(t.local(), "the confirmed record").flatten())
            .map(|l| l.slug)
            .unwrap_or_default()
    }

    fn journal_or_problem(&self, now: Millis) -> std::result::Result<SqlJournal, Problem> {
        self.journal(now)
            .map_err(|e| unavailable("the document's storage is unavailable", format!("{e:?}")))
    }

    /// Records a scheduled entry that failed before it could become an intent, as a failed
    /// intent the author sees (and consumes the entry).
    fn entry_failed(&self, id: &DocId, action: Action, entry: Option<u64>, problem: &Problem) {
        let Some(entry) = entry else { return };
        let now = now_ms();
        let failed = Intent {
            entry: Some(entry),
            attempts: 1,
            problem: Some(problem.clone()),
            failed: true,
            ..Intent::new(id.as_str(), action, 0, now)
        };
        let recorded = self
            .journal_or_problem(now)
            .map_err(|p| StoreError::Unavailable(p.message))
            .and_then(|mut j| j.record(&failed, None));
        if let Err(e) = recorded {
            console_error!("recording a failed scheduled entry: {e}");
        }
    }

    /// The draft rendered for publishing: a post as before; an entry of another collection
    /// only if it satisfies its definition (else 422 `invalid_fields`, permanent).
    async fn render(&self, collection: &Collection) -> std::result::Result<Rendered, Problem> {
        let slug_required = || {
            Problem::permanent(
                400,
                "slug_required",
                "give the document a title or a slug first",
            )
        };
        if collection.name == POSTS {
            let mut content = self.content().map_err(Problem::from)?;
            let slug = slug_for(&content).ok_or_else(slug_required)?;
            let mut ids = Vec::new();
            media::ids_in_nodes(&content.body, &mut ids);
            media::attach(&mut content.body, &self.media_known(&ids).await?);
            return Ok(render_for_publish(&content, slug));
        }
        let mut entry = self.entry(collection).map_err(Problem::from)?;
        if let Some(message) = invalid_fields(&fields::validate(collection, &entry)) {
            return Err(Problem::permanent(422, "invalid_fields", message));
        }
        let slug = slug_for_entry(collection, &entry).ok_or_else(slug_required)?;
        let known = self.media_known(&media::ids_in_entry(&entry)).await?;
        media::attach_entry(&mut entry, &known);
        Ok(render_entry(collection, &entry, slug))
    }

    /// What the media library knows of `ids` (type and size, for `width`, `height` and
    /// `srcset`); an id it does not know renders as a plain image.
    async fn media_known(&self, ids: &[String]) -> std::result::Result<media::Known, Problem> {
        if ids.is_empty() {
            return Ok(media::Known::new());
        }
        let db = d1::db(&self.env).map_err(|e| unavailable("D1 binding missing", e))?;
        let rows = media_store::known(&db, ids)
            .await
            .map_err(|e| unavailable("reading the media library failed", e))?;
        Ok(rows
            .iter()
            .filter_map(|r| Some((r.id.clone(), r.info()?)))
            .collect())
    }

    /// Purges the edge cache of what a publish or unpublish changed: the list and the
    /// document's addresses under its slug before and after.
    pub(super) async fn purge(&self, collection: Option<&str>, slugs: &[&str]) {
        let collection = collection.unwrap_or(POSTS);
        crate::edge::cache::purge(&crate::publish::cache::on_publish(collection, slugs)).await;
    }

    /// Publishes the current draft (for scheduled entry `entry`).
    pub(super) async fn publish_now(
        &self,
        id: &DocId,
        entry: Option<u64>,
    ) -> std::result::Result<(Local, bool), Problem> {
        let before = self.published_slug();
        let rendered = match self.collection(id).await {
            Ok(defined) => self.render(&defined.collection).await,
            Err(e) => Err(unavailable(
                "reading the document's collection failed",
                format!("{e:?}"),
            )),
        };
        let rendered = match rendered {
            Ok(r) => r,
            Err(p) => {
                if p.permanent {
                    self.entry_failed(id, Action::Publish, entry, &p);
                }
                return Err(p);
            }
        };
        let (db, kv) = self.bindings()?;
        let now = now_ms();
        let mut journal = self.journal_or_problem(now)?;
        let mut world = self.world(&db);
        let confirmed = tolerated(journal.local(), "the confirmed record").flatten();
        let result =
            intent::publish(&mut journal, &mut world, id.as_str(), rendered, entry, now).await;
        self.announce(id, confirmed.as_ref(), &journal, entry);
        if self.crashed(&journal) {
            return Err(crash_problem());
        }
        let collection = self.collection.borrow().clone();
        let written = result.as_ref().ok().and_then(|p| p.post.as_ref());
        self.rearm(&db, &kv, written).await;
        if let Ok(p) = &result {
            self.purge(collection.as_deref(), &[&p.local.slug, &before])
                .await;
        }
        result.map(|p| (p.local, p.created))
    }

    /// Queues `entry.published` or `entry.unpublished` if the confirmed record changed that
    /// way since `before`. Called right after the intent's last write, with no await between
    /// them, so the event is recorded in the same write as the change it reports: a crash
    /// keeps both or neither.
    pub(super) fn announce(
        &self,
        id: &DocId,
        before: Option<&Local>,
        journal: &SqlJournal,
        entry: Option<u64>,
    ) {
        let Ok(Some(after)) = journal.local() else {
            return;
        };
        let Some(kind) = crate::webhook::transition(
            before.map(|b| (b.published, b.version)),
            (after.published, after.version),
        ) else {
            return;
        };
        // After a restart the collection may not have been read yet: the stored name.
        let known = self.collection.borrow().clone();
        let collection =
            known.or_else(|| tolerated(self.tables(), "the object's tables")?.stored_collection());
        self.emit(kind, event_json(id, collection.as_deref(), &after, entry));
    }

    /// Takes the post off the reader API (for scheduled entry `entry`).
    pub(super) async fn unpublish_now(
        &self,
        id: &DocId,
        entry: Option<u64>,
    ) -> std::result::Result<Local, Problem> {
        let (db, kv) = self.bindings()?;
        let now = now_ms();
        let before = self.published_slug();
        let mut journal = self.journal_or_problem(now)?;
        let mut world = self.world(&db);
        let confirmed = tolerated(journal.local(), "the confirmed record").flatten();
        let result = intent::unpublish(&mut journal, &mut world, id.as_str(), entry, now).await;
        self.announce(id, confirmed.as_ref(), &journal, entry);
        if self.crashed(&journal) {
            return Err(crash_problem());
        }
        let collection = self.collection.borrow().clone();
        self.rearm(&db, &kv, None).await;
        if let Ok(local) = &result {
            self.purge(collection.as_deref(), &[&local.slug, &before])
                .await;
        }
        result
    }

    /// `POST /api/docs/{doc}/publish`.
    pub(super) async fn publish(&self, id: &DocId) -> Result<Response> {
        self.check_publishable(id).await?;
        let _guard = self.publish_lock.lock().await;
        let (local, created) = self.publish_now(id, None).await?;
        json_response(200, &published_json(&local, created))
    }

    /// Refuses to publish an entry that breaks its collection's rules: 422 `invalid_fields`
    /// with every field and why (`error.fields`), nothing published. A post has no rules.
    pub(super) async fn check_publishable(&self, id: &DocId) -> Result<()> {
        let defined = self.collection(id).await?;
        let collection = &defined.collection;
        if collection.name == POSTS {
            return Ok(());
        }
        let problems = fields::validate(collection, &self.entry(collection)?);
        match invalid_fields(&problems) {
            None => Ok(()),
            Some(message) => Err(EdgeError::Detailed {
                status: 422,
                code: "invalid_fields",
                message,
                extra: vec![("fields", serde_json::to_value(&problems)?)],
            }),
        }
    }

    /// `POST /api/docs/{doc}/unpublish`.
    pub(super) async fn unpublish(&self, id: &DocId) -> Result<Response> {
        let _guard = self.publish_lock.lock().await;
        let local = self.unpublish_now(id, None).await?;
        json_response(200, &published_json(&local, false))
    }

    /// `GET /api/docs/{doc}/publishing`: the object's view, and what D1 and KV hold, side by
    /// side (operators and the chaos test compare them).
    pub(super) async fn publishing(&self, id: &DocId) -> Result<Response> {
        let journal = self.journal(now_ms())?;
        let read = |e| unavailable("reading the publish record failed", e);
        let local = journal.local().map_err(read)?;
        let intent = journal.intent().map_err(read)?;
        let ran = journal.tables.ran().map_err(read)?;
        let schedule = journal.tables.schedule().unwrap_or_default();
        let alarm = tolerated(self.state.storage().get_alarm().await, "the alarm").flatten();
        let (db, kv) = self.bindings()?;
        let d1 = d1::d1_view(&db, id.as_str())
            .await
            .unwrap_or_else(|e| json!({ "error": e.to_string() }));
        let kv_slug = local.as_ref().map(|l| l.kv_slug.clone());
        let kv_view = match kv_slug.filter(|s| !s.is_empty()) {
            Some(slug) => kv::kv_view(&kv, &slug).await,
            None => serde_json::Value::Null,
        };
        json_response(
            200,
            &json!({
                "confirmed": local.as_ref().map(local_json),
                "pending": intent.as_ref().map(intent_json),
                "schedule": schedule.iter().map(entry_json).collect::<Vec<_>>(),
                "ran": ran.iter().map(|r| json!({
                    "entry": r.entry, "action": r.action, "version": r.version,
                    "ran_at": iso8601(r.ran_at), "runs": r.runs,
                })).collect::<Vec<_>>(),
                "alarm": alarm.map(iso8601),
                "d1": d1,
                "kv": kv_view,
            }),
        )
    }

    /// `POST /api/docs/{doc}/publishing/retry`: a pending intent is driven now; a failed
    /// publish is published afresh from the draft (the author fixed its cause), a failed
    /// unpublish is asked again.
    pub(super) async fn publishing_retry(&self, id: &DocId) -> Result<Response> {
        let _guard = self.publish_lock.lock().await;
        let intent = self
            .journal(now_ms())?
            .intent()
            .map_err(|e| unavailable("reading the publish intent failed", e))?
            .ok_or_else(nothing_pending)?;
        match intent.action {
            Action::Publish if intent.failed => {
                let (local, created) = self.publish_now(id, None).await?;
                json_response(200, &published_json(&local, created))
            }
            Action::Unpublish if intent.failed => {
                let local = self.unpublish_now(id, None).await?;
                json_response(200, &published_json(&local, false))
            }
            _ => {
                let (db, kv) = self.bindings()?;
                let now = now_ms();
                let mut journal = self.journal(now)?;
                let mut world = self.world(&db);
                let confirmed = tolerated(journal.local(), "the confirmed record").flatten();
                let outcome = intent::drive(&mut journal, &mut world, now).await;
                self.announce(id, confirmed.as_ref(), &journal, intent.entry);
                self.rearm(&db, &kv, None).await;
                match outcome {
                    Outcome::Done(local) => json_response(
                        200,
                        &published_json(&local, intent.action == Action::Publish),
                    ),
                    Outcome::Idle => Err(nothing_pending()),
                    Outcome::Failed(p) => Err(p.into()),
                }
            }
        }
    }

    /// `DELETE /api/docs/{doc}/publishing`: drops a failed intent. One still being retried
    /// may have reached D1 and is not dropped (publish or unpublish again to replace it).
    pub(super) async fn publishing_cancel(&self) -> Result<Response> {
        let _guard = self.publish_lock.lock().await;
        let mut journal = self.journal(now_ms())?;
        let failure = |e| unavailable("dropping the intent failed", e);
        let intent = journal
            .intent()
            .map_err(failure)?
            .ok_or_else(nothing_pending)?;
        if !intent.failed {
            return Err(EdgeError::api(
                409,
                "still_retrying",
                "this change may already be in D1 and is being retried; publish or unpublish again to replace it",
            ));
        }
        journal.discard().map_err(failure)?;
        if let Ok((db, kv)) = self.bindings() {
            self.rearm(&db, &kv, None).await;
        }
        json_response(200, &json!({ "cancelled": intent_json(&intent) }))
    }

    /// `POST /api/docs/{doc}/versions/{n}/restore`: makes the draft equal version `version`,
    /// live for every connected editor: a post's title, body and metadata, or an entry's slug
    /// and fields, each written back to its slot under the definition in force
    /// ([`restore_entry`]).
    pub(super) async fn restore(&self, id: &DocId, version: u64) -> Result<Response> {
        let defined = self.collection(id).await?;
        let (db, _) = self.bindings()?;
        let missing = || {
            EdgeError::api(
                404,
                "version_not_found",
                format!("no published version {version}"),
            )
        };
        let d1_down = |e: StoreError| unavailable("D1 is unavailable", e);
        if defined.collection.name == POSTS {
            let post = d1::version(&db, id.as_str(), version)
                .await
                .map_err(d1_down)?
                .ok_or_else(missing)?;
            self.restore_draft(|doc| crate::content::restore::restore(doc, &post))?;
            json_response(
                200,
                &json!({ "restored": version, "title": post.content.title }),
            )
        } else {
            let (slug, fields) = d1::entry_version(&db, id.as_str(), version)
                .await
                .map_err(d1_down)?
                .ok_or_else(missing)?;
            self.restore_draft(|doc| restore_entry(doc, &defined.collection, &slug, &fields))?;
            json_response(200, &json!({ "restored": version, "slug": slug }))
        }
    }

    /// Applies a restore's edit to the draft. Restoring has one durable write, this local one
    /// (stored with its log entry before it is relayed): a crash before it leaves the draft as
    /// it was, and the request can simply be retried. The fault switch proves it.
    fn restore_draft(
        &self,
        edit: impl FnOnce(&yrs::Doc) -> Result<Vec<u8>, crate::error::Error>,
    ) -> Result<()> {
        let mut journal = self.journal(now_ms())?;
        if journal.checkpoint("restore.fetched").is_err() && self.crashed(&journal) {
            return Err(crash_problem().into());
        }
        self.live.with_settled_room(|room| room.edit(edit))?;
        self.live.flush(now_ms());
        Ok(())
    }

    /// `POST /api/docs/{doc}/faults` `{"crash_at": step}`: the test-only fault switch. Off
    /// (404) unless the worker runs with `FOLIO_FAULTS=on`.
    pub(super) async fn faults(&self, mut req: Request) -> Result<Response> {
        if !super::faults_enabled(&self.env) {
            return Err(EdgeError::api(
                404,
                "not_found",
                "no such route on a document",
            ));
        }
        #[derive(serde::Deserialize)]
        struct Arm {
            /// Crash the object when it reaches this step.
            crash_at: Option<String>,
            /// Fail the next D1 write with this error, before writing.
            fail_d1: Option<String>,
        }
        let arm = json_body::<Option<Arm>>(&mut req, MAX_BODY_BYTES)
            .await?
            .ok_or_else(|| EdgeError::api(400, "invalid_json", "expected {\"crash_at\": step}"))?;
        if let Some(step) = &arm.crash_at {
            if !Step::NAMES.contains(&step.as_str()) {
                return Err(EdgeError::api(
                    400,
                    "invalid_step",
                    format!("steps: {}", Step::NAMES.join(", ")),
                ));
            }
        }
        *self.crash_at.borrow_mut() = arm.crash_at.clone();
        *self.fail_d1.borrow_mut() = arm.fail_d1.clone();
        json_response(
            200,
            &json!({ "crash_at": arm.crash_at, "fail_d1": arm.fail_d1 }),
        )
    }

    /// Brings KV up to the confirmed record if a write is pending and allowed now (as
    /// [`plan::kv`] says). Returns when to come back, if anything is still pending. `fresh`
    /// is the post just published, to save reading it back from D1.
    pub(super) async fn sync_kv(
        &self,
        tables: &Tables,
        db: &D1Database,
        kv_store: &KvStore,
        now: Millis,
        fresh: Option<&Post>,
    ) -> std::result::Result<Option<Millis>, StoreError> {
        let Some(mut written) = tables.local()? else {
            return Ok(None);
        };
        let write = match plan::kv(Some(&written), now) {
            KvPlan::Nothing => return Ok(None),
            KvPlan::Wait(at) => return Ok(Some(at)),
            // KV holds posts by slug; entries of collections are read from D1 (their slugs
            // are unique per collection only).
            KvPlan::Post { .. } | KvPlan::Tombstone { .. }
                if tables.stored_collection().is_some_and(|c| c != POSTS) =>
            {
                KvPlan::MarkWritten
            }
            write => write,
        };
        // What readers of KV saw until now: purged once KV holds the new record (a reader
        // between the publish and this write may have put the previous version back).
        let mut purge: Vec<String> = Vec::new();
        let result: std::result::Result<(), StoreError> = async {
            match write {
                KvPlan::Post { version, stale } => {
                    let post = match fresh.filter(|p| p.version == version) {
                        Some(p) => p.clone(),
                        None => d1::version(db, &written.doc_id, version)
                            .await?
                            .ok_or_else(|| {
                                StoreError::Unexpected(format!("version {version} missing from D1"))
                            })?,
                    };
                    kv::write_post(kv_store, &post).await?;
                    if let Some(stale) = stale {
                        kv::delete(kv_store, &stale).await?;
                        purge.push(stale);
                    }
                    purge.push(post.content.slug.clone());
                    written.kv_slug = post.content.slug;
                }
                KvPlan::Tombstone { slug } => {
                    kv::write_tombstone(kv_store, &slug, &written.doc_id, written.version).await?;
                    purge.push(slug);
                }
                KvPlan::MarkWritten | KvPlan::Nothing | KvPlan::Wait(_) => {}
            }
            Ok(())
        }
        .await;
        if result.is_ok() && !purge.is_empty() {
            let slugs: Vec<&str> = purge.iter().map(String::as_str).collect();
            self.purge(Some(POSTS), &slugs).await;
        }
        match result {
            Ok(()) => {
                // Another publish may have changed the record while KV was written.
                let latest = tables.local()?.unwrap_or_else(|| written.clone());
                let (next, again) = plan::kv_written(&latest, &written, now);
                tables.write_local(&next)?;
                Ok(again)
            }
            Err(e) => {
                console_error!("KV write for {} failed, retrying: {e}", written.doc_id);
                Ok(Some(now + KV_RETRY_MS))
            }
        }
    }
}
