//! The Durable Object of one document: accepts y-websocket connections with the WebSocket
//! Hibernation API and runs a [`Room`] over its SQLite storage.
//!
//! State that must survive hibernation lives in storage (the document) or in each socket's
//! attachment (the awareness ids it owns, [`Conn`]); the live state ([`Live`]: the room, the
//! sockets, the coalescing cadence) is rebuilt from them on the first event after a wake.
//! Nothing here awaits while holding a `RefCell` borrow: every handler is synchronous inside.

use std::cell::RefCell;

use worker::{
    console_error, console_log, durable_object, DurableObject, Env, Request, Response, Result,
    State, WebSocket, WebSocketPair,
};

use crate::error::{close, Error};
use crate::limits::MAX_BODY_BYTES;
use crate::publish::{
    iso8601, next_alarm, render_for_publish, schedule_request, slug_for, Action, Post,
    ScheduleRequest,
};
use crate::room::Conn;
use crate::routes::Route;

use crate::intent::{self, Intent, Journal, Local, Outcome, Problem, Step};

use super::intents::{D1World, SqlJournal};
use super::publisher::{self, Entry, Registry};

use super::access::Identity;
use super::json_error;
use super::live::{now_ms, Live};
use super::sql::SqlStore;

// `alarm` binds `fetch` and `alarm` only: the socket handlers are bound by hand, synchronous
// (see the `#[wasm_bindgen] impl` below).
#[durable_object(alarm)]
pub struct DocumentObject {
    state: State,
    env: Env,
    /// The room, the sockets and the coalescing cadence (shared with the flush timer).
    live: std::rc::Rc<Live>,
    /// One publish or unpublish at a time (held across D1/KV awaits; edits keep flowing).
    publish_lock: futures_util::lock::Mutex<()>,
    /// This document's id, once known (see [`publisher::remember_id`]).
    doc_id: RefCell<Option<String>>,
    /// When D1's registry row was last touched (ms), and whether edits came since.
    touched_at: std::cell::Cell<i64>,
    dirty: std::cell::Cell<bool>,
    /// When a trailing touch is due (the alarm runs it), so the last edits of a burst reach
    /// the registry even if the author stays connected.
    touch_due: std::cell::Cell<Option<i64>>,
    /// Clients refused new sockets for a while after a refusal they would repeat.
    penalties: RefCell<crate::throttle::Penalties>,
    /// The fault switch's armed step (tests only; see [`faults_enabled`]).
    crash_at: RefCell<Option<String>>,
    /// The fault switch's error for the next D1 write (tests only).
    fail_d1: RefCell<Option<String>>,
}

/// Whether the test-only fault switch is on: the `FOLIO_FAULTS` variable is `on` (set by the
/// tests' `wrangler dev --var`, never in `wrangler.toml`).
fn faults_enabled(env: &Env) -> bool {
    env.var("FOLIO_FAULTS").is_ok_and(|v| v.to_string() == "on")
}

/// If nothing else is due, the alarm handler comes back this soon after a run that ended
/// early (an exception, a reset): it arms this first and replaces it at the end (ms).
const ALARM_FALLBACK_MS: i64 = 30_000;

/// Backoff before a failed scheduled entry is tried again (ms).
const SCHEDULE_RETRY_MS: i64 = 2_000;

/// Edits refresh the registry row (title, updated time) at most this often (ms).
const TOUCH_INTERVAL_MS: i64 = 10_000;

impl DocumentObject {
    /// Runs `f` on the room with everything queued stored first (see [`Live`]): every use
    /// here reads the document to send it somewhere.
    fn with_room<T>(
        &self,
        f: impl FnOnce(&mut crate::room::Room<SqlStore>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.live.with_settled_room(f)
    }

    /// An edit was accepted at `now`: the registry row (title, updated time) is refreshed at
    /// most every [`TOUCH_INTERVAL_MS`], with a trailing touch by the alarm (armed in the
    /// background: the socket handlers do not await).
    fn edited(&self, now: i64) {
        self.dirty.set(true);
        if now - self.touched_at.get() >= TOUCH_INTERVAL_MS {
            self.touch(None);
        } else if self.touch_due.get().is_none() {
            // Throttled: a trailing touch at the end of the window.
            let due = self.touched_at.get() + TOUCH_INTERVAL_MS;
            self.touch_due.set(Some(due));
            let storage = self.state.storage();
            worker::wasm_bindgen_futures::spawn_local(async move {
                alarm_by(&storage, due).await;
            });
        }
    }

    /// Closes `ws` for what it sent (`e`). If its client would send the same again on
    /// reconnecting, its user's new sockets are refused for a while (the penalty box).
    fn refuse(&self, ws: &WebSocket, conn: &Conn, e: &Error) {
        console_error!("closing a socket: {e}");
        if e.is_repeatable_refusal() {
            let ms = self.penalties.borrow_mut().strike(&conn.user, now_ms());
            console_log!("refusing new sockets of {:?} for {ms} ms", conn.user);
        }
        self.live.drop_socket(ws, e.close_code(), &e.close_reason());
    }

    fn accept(&self, identity: &Identity) -> Result<Response> {
        let greeting = match self.with_room(|room| room.greeting()) {
            Ok(frames) => frames,
            Err(e) => return super::error_json(&e),
        };
        let pair = WebSocketPair::new()?;
        self.state.accept_web_socket(&pair.server);
        // A random key names this connection's budget in the room.
        let conn = Conn {
            key: crate::store::fresh_client_id(),
            user: identity.user.clone(),
            read_only: !identity.role.can_edit(),
            expires_ms: identity.expires_ms,
            ..Conn::default()
        };
        self.live.add(pair.server.clone(), conn);
        for frame in greeting {
            pair.server.send_with_bytes(frame)?;
        }
        Response::from_websocket(pair.client)
    }

    fn document_state(&self) -> Result<Response> {
        let result = self.with_room(|room| {
            if room.is_empty() {
                return Err(Error::UnknownDocument);
            }
            let head = room.store().head();
            let stats = (head.generation, head.bytes, room.store().log_len());
            let failed = room.store().compaction_error().map(str::to_string);
            Ok((room.encode_state()?, stats, failed))
        });
        match result {
            Ok((bytes, (generation, snapshot_bytes, log_len), failed)) => {
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
                // The wasm instance serving this object (see `edge::instance`).
                headers.set("Folio-Instance", &super::instance())?;
                Ok(response)
            }
            Err(e) => super::error_json(&e),
        }
    }
}

/// Makes sure the alarm rings by `at` (ms): sets it unless it is already set earlier.
async fn alarm_by(storage: &worker::Storage, at: i64) {
    let later = match storage.get_alarm().await {
        Ok(Some(current)) => current > at,
        _ => true,
    };
    if later {
        if let Err(e) = storage.set_alarm((at - now_ms()).max(0)).await {
            console_error!("setting the alarm failed: {e}");
        }
    }
}

impl DocumentObject {
    /// The earliest token expiry still ahead of a connected socket (ms). Past ones are
    /// excluded: those sockets were closed by the alarm and may linger while closing.
    fn next_expiry(&self) -> Option<i64> {
        let now = now_ms();
        self.live
            .conns()
            .into_iter()
            .filter_map(|(_, expires)| expires)
            .filter(|&at| at > now)
            .min()
    }

    /// Closes the sockets whose token has expired (4001), so their clients reconnect with a
    /// fresh token even if they are idle.
    fn close_expired(&self) {
        let now = now_ms();
        for (ws, expires) in self.live.conns() {
            if expires.is_some_and(|at| at <= now) {
                let e = Error::TokenExpired;
                self.live
                    .drop_socket(&ws, e.close_code(), &e.close_reason());
            }
        }
    }

    /// The draft's content, or [`Error::UnknownDocument`] if nothing was ever stored.
    fn content(&self) -> Result<crate::content::Content, Error> {
        self.with_room(|room| {
            if room.is_empty() {
                return Err(Error::UnknownDocument);
            }
            crate::content::extract(room.doc())
        })
    }

    /// `GET /preview/{doc}`: the draft rendered as its published page would be.
    fn preview_page(&self, id: &str) -> Result<Response> {
        match self.content() {
            Ok(content) => {
                let slug = slug_for(&content).unwrap_or_else(|| id.to_string());
                let rendered = render_for_publish(&content, slug);
                // The URL carries the token: never cache or index the draft (the page headers
                // already keep the referrer from leaking it).
                let response = super::reader::page_response(&rendered)?;
                let headers = response.headers();
                headers.set("Cache-Control", "private, no-store")?;
                headers.set("X-Robots-Tag", "noindex")?;
                Ok(response)
            }
            Err(e) => super::error_json(&e),
        }
    }

    fn draft(&self, id: &str) -> Result<Response> {
        match self.content() {
            Ok(content) => super::json_response(200, &crate::render::document_json(id, &content)),
            Err(e) => super::error_json(&e),
        }
    }
}

/// D1 and KV bindings (wrangler.toml).
const DB: &str = "DB";
const POSTS: &str = "POSTS";

fn published_json(local: &Local, created: bool) -> serde_json::Value {
    serde_json::json!({
        "version": local.version,
        "slug": local.slug,
        "status": if local.published { "published" } else { "unpublished" },
        "published_at": iso8601(local.published_at),
        "created": created,
    })
}

/// What a request stopped by the fault switch answers (tests only).
fn crash_problem() -> Problem {
    Problem {
        status: 500,
        code: "crashed".into(),
        message: "stopped by the fault switch, as a crash would".into(),
        permanent: false,
    }
}

/// A problem as the API answers it.
fn problem_response(p: &Problem) -> Result<Response> {
    json_error(p.status, &p.code, &p.message)
}

fn unavailable(what: &str, detail: impl std::fmt::Display) -> Problem {
    console_error!("{what}: {detail}");
    Problem::transient(format!("{what}; try again"))
}

fn entry_json(e: &Entry) -> serde_json::Value {
    serde_json::json!({ "id": e.id, "action": e.action.as_str(), "at": iso8601(e.at) })
}

/// The pending or failed intent as authors see it (document list, editor, API).
fn intent_json(i: &Intent) -> serde_json::Value {
    let problem = i.problem.as_ref();
    serde_json::json!({
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
    serde_json::json!({
        "version": l.version,
        "content_hash": l.content_hash,
        "slug": l.slug,
        "status": if l.published { "published" } else { "unpublished" },
        "kv_pending": l.kv_pending,
        "kv_slug": l.kv_slug,
    })
}

impl DocumentObject {
    fn remember_id(&self, id: &str) {
        if self.doc_id.borrow().is_some() || crate::docid::validate(id).is_err() {
            return;
        }
        if let Err(e) = publisher::remember_id(&self.state.storage().sql(), id) {
            console_error!("remembering the document id: {e}");
        }
        *self.doc_id.borrow_mut() = Some(id.to_string());
    }

    fn doc_id(&self) -> Option<String> {
        if let Some(id) = self.doc_id.borrow().clone() {
            return Some(id);
        }
        let id = publisher::stored_id(&self.state.storage().sql())?;
        *self.doc_id.borrow_mut() = Some(id.clone());
        Some(id)
    }

    /// Refreshes this document's row in D1's registry in the background (title, updated
    /// time, and when given: the next scheduled publish and the publish problem).
    fn touch(&self, publishing: Option<Registry>) {
        let Some(id) = self.doc_id() else { return };
        let Ok(title) = self.with_room(|room| Ok(room.title())) else {
            return;
        };
        let Ok(db) = self.env.d1(DB) else { return };
        let now = now_ms();
        self.touched_at.set(now);
        self.dirty.set(false);
        self.state.wait_until(async move {
            if let Err(e) = publisher::touch(&db, &id, &title, now, publishing).await {
                console_error!("updating the document registry: {e}");
            }
        });
    }

    /// The journal of this object's publish intents, with the fault switch's armed step.
    fn journal(&self, now: i64) -> SqlJournal {
        SqlJournal {
            sql: self.state.storage().sql(),
            crash_at: self.crash_at.borrow().clone(),
            now,
        }
    }

    /// Whether `journal` reached the fault switch's step. If so the object forgets what it
    /// holds in memory, as a restarted one would, and the caller stops without another write.
    fn crashed(&self, journal: &SqlJournal) -> bool {
        let crashed = journal.crash_at.is_none() && self.crash_at.borrow().is_some();
        if crashed {
            *self.crash_at.borrow_mut() = None;
            self.live.forget_room();
            *self.doc_id.borrow_mut() = None;
        }
        crashed
    }

    /// D1 and the alarm, as the intents write to them (with the fault switch's D1 error).
    fn world<'a>(&'a self, db: &'a worker::D1Database) -> D1World<'a> {
        D1World {
            db,
            state: &self.state,
            fail: self.fail_d1.borrow_mut().take(),
        }
    }

    /// Writes KV if due, then sets the single alarm to the earliest of the schedule, the
    /// pending intent's next attempt and any pending KV write (or clears it).
    async fn rearm(&self, db: &worker::D1Database, kv: &worker::kv::KvStore, fresh: Option<&Post>) {
        self.rearm_after(db, kv, fresh, None).await;
    }

    /// As [`Self::rearm`], but the alarm fires no sooner than `not_before` (a retry's backoff:
    /// a failed entry is still due, and must not make the alarm fire again at once).
    async fn rearm_after(
        &self,
        db: &worker::D1Database,
        kv: &worker::kv::KvStore,
        fresh: Option<&Post>,
        not_before: Option<i64>,
    ) {
        let now = now_ms();
        let sql = self.state.storage().sql();
        let kv_next = match publisher::sync_kv(&sql, db, kv, now, fresh).await {
            Ok(next) => next,
            Err(e) => {
                console_error!("KV sync: {e}");
                Some(now + publisher::KV_RETRY_MS)
            }
        };
        let intent = match self.journal(now).intent() {
            Ok(intent) => intent,
            Err(e) => {
                console_error!("reading the publish intent: {e}");
                None
            }
        };
        let intent_next = intent.as_ref().filter(|i| !i.failed).map(|i| i.next_at);
        let problem = intent.as_ref().map(|i| intent_json(i).to_string());
        let earliest = match publisher::schedule(&sql) {
            Ok(entries) => {
                let next_publish = entries
                    .iter()
                    .find(|e| e.action == Action::Publish)
                    .map(|e| e.at);
                self.touch(Some(Registry {
                    next_publish_at: next_publish,
                    problem,
                }));
                entries.first().map(|e| e.at)
            }
            Err(e) => {
                console_error!("reading the schedule: {e}");
                Some(now + publisher::KV_RETRY_MS)
            }
        };
        let storage = self.state.storage();
        let next =
            next_alarm(earliest, kv_next).map(|at| not_before.map_or(at, |floor| at.max(floor)));
        let next = [next, intent_next, self.next_expiry()]
            .into_iter()
            .flatten()
            .min();
        let result = match next {
            Some(at) => storage.set_alarm((at - now).max(0)).await,
            None => storage.delete_alarm().await,
        };
        if let Err(e) = result {
            console_error!("setting the alarm failed: {e}");
        }
    }

    fn bindings(&self) -> Result<(worker::D1Database, worker::kv::KvStore), Problem> {
        match (self.env.d1(DB), self.env.kv(POSTS)) {
            (Ok(db), Ok(kv)) => Ok((db, kv)),
            (Err(e), _) | (_, Err(e)) => Err(unavailable("D1/KV bindings missing", e)),
        }
    }

    /// Records a scheduled entry that failed before it could become an intent, as a failed
    /// intent the author sees (and consumes the entry).
    fn entry_failed(&self, id: &str, action: Action, entry: Option<u64>, problem: &Problem) {
        let Some(entry) = entry else { return };
        let now = now_ms();
        let failed = Intent {
            entry: Some(entry),
            attempts: 1,
            problem: Some(problem.clone()),
            failed: true,
            ..Intent::new(id, action, 0, now)
        };
        if let Err(e) = self.journal(now).record(&failed, None) {
            console_error!("recording a failed scheduled entry: {e}");
        }
    }

    /// Publishes the current draft (for scheduled entry `entry`). The caller holds the
    /// publish lock.
    async fn publish_now(&self, id: &str, entry: Option<u64>) -> Result<(Local, bool), Problem> {
        let rendered = self
            .with_room(|room| {
                if room.is_empty() {
                    return Err(Error::UnknownDocument);
                }
                crate::content::extract(room.doc())
            })
            .map_err(|e| {
                let (status, code) = e.http_status();
                Problem {
                    status,
                    code: code.to_string(),
                    message: e.to_string(),
                    permanent: status < 500,
                }
            })
            .and_then(|content| match slug_for(&content) {
                Some(slug) => Ok(render_for_publish(&content, slug)),
                None => Err(Problem::permanent(
                    400,
                    "slug_required",
                    "give the document a title or a slug first",
                )),
            });
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
        let mut journal = self.journal(now);
        let mut world = self.world(&db);
        let result = intent::publish(&mut journal, &mut world, id, rendered, entry, now).await;
        if self.crashed(&journal) {
            return Err(crash_problem());
        }
        let written = result.as_ref().ok().and_then(|p| p.post.as_ref());
        self.rearm(&db, &kv, written).await;
        result.map(|p| (p.local, p.created))
    }

    /// Takes the post off the reader API (for scheduled entry `entry`). The caller holds the
    /// publish lock.
    async fn unpublish_now(&self, id: &str, entry: Option<u64>) -> Result<Local, Problem> {
        let (db, kv) = self.bindings()?;
        let now = now_ms();
        let mut journal = self.journal(now);
        let mut world = self.world(&db);
        let result = intent::unpublish(&mut journal, &mut world, id, entry, now).await;
        if self.crashed(&journal) {
            return Err(crash_problem());
        }
        self.rearm(&db, &kv, None).await;
        result
    }

    async fn publish(&self, id: &str) -> Result<Response> {
        let _guard = self.publish_lock.lock().await;
        match self.publish_now(id, None).await {
            Ok((local, created)) => super::json_response(200, &published_json(&local, created)),
            Err(p) => problem_response(&p),
        }
    }

    async fn unpublish(&self, id: &str) -> Result<Response> {
        let _guard = self.publish_lock.lock().await;
        match self.unpublish_now(id, None).await {
            Ok(local) => super::json_response(200, &published_json(&local, false)),
            Err(p) => problem_response(&p),
        }
    }

    /// `GET /api/docs/{doc}/publishing`: the object's view, and what D1 and KV hold, side by
    /// side (operators and the chaos test compare them).
    async fn publishing(&self, id: &str) -> Result<Response> {
        let now = now_ms();
        let journal = self.journal(now);
        let (local, intent, ran) = match (journal.local(), journal.intent(), journal.ran()) {
            (Ok(l), Ok(i), Ok(r)) => (l, i, r),
            (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => {
                return problem_response(&unavailable("reading the publish record failed", e))
            }
        };
        let schedule = publisher::schedule(&self.state.storage().sql()).unwrap_or_default();
        let alarm = self.state.storage().get_alarm().await.ok().flatten();
        let (db, kv) = match self.bindings() {
            Ok(b) => b,
            Err(p) => return problem_response(&p),
        };
        let d1 = publisher::d1_view(&db, id)
            .await
            .unwrap_or_else(|e| serde_json::json!({ "error": e }));
        let kv_view = match local
            .as_ref()
            .map(|l| l.kv_slug.clone())
            .filter(|s| !s.is_empty())
        {
            Some(slug) => publisher::kv_view(&kv, &slug).await,
            None => serde_json::Value::Null,
        };
        super::json_response(
            200,
            &serde_json::json!({
                "confirmed": local.as_ref().map(local_json),
                "pending": intent.as_ref().map(intent_json),
                "schedule": schedule.iter().map(entry_json).collect::<Vec<_>>(),
                "ran": ran.iter().map(|r| serde_json::json!({
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
    async fn publishing_retry(&self, id: &str) -> Result<Response> {
        let _guard = self.publish_lock.lock().await;
        let intent = match self.journal(now_ms()).intent() {
            Ok(Some(i)) => i,
            Ok(None) => {
                return json_error(404, "nothing_pending", "no publish or unpublish is pending")
            }
            Err(e) => {
                return problem_response(&unavailable("reading the publish intent failed", e))
            }
        };
        match intent.action {
            Action::Publish if intent.failed => match self.publish_now(id, None).await {
                Ok((local, created)) => super::json_response(200, &published_json(&local, created)),
                Err(p) => problem_response(&p),
            },
            Action::Unpublish if intent.failed => match self.unpublish_now(id, None).await {
                Ok(local) => super::json_response(200, &published_json(&local, false)),
                Err(p) => problem_response(&p),
            },
            _ => {
                let (db, kv) = match self.bindings() {
                    Ok(b) => b,
                    Err(p) => return problem_response(&p),
                };
                let now = now_ms();
                let mut journal = self.journal(now);
                let mut world = self.world(&db);
                let outcome = intent::drive(&mut journal, &mut world, now).await;
                self.rearm(&db, &kv, None).await;
                match outcome {
                    Outcome::Done(local) => super::json_response(
                        200,
                        &published_json(&local, intent.action == Action::Publish),
                    ),
                    Outcome::Idle => {
                        json_error(404, "nothing_pending", "no publish or unpublish is pending")
                    }
                    Outcome::Failed(p) => problem_response(&p),
                }
            }
        }
    }

    /// `DELETE /api/docs/{doc}/publishing`: drops a failed intent. One still being retried
    /// may have reached D1 and is not dropped (publish or unpublish again to replace it).
    async fn publishing_cancel(&self) -> Result<Response> {
        let _guard = self.publish_lock.lock().await;
        let now = now_ms();
        let mut journal = self.journal(now);
        let result = match journal.intent() {
            Ok(Some(i)) if i.failed => journal.discard().map(|()| Some(i)),
            Ok(Some(_)) => {
                return json_error(
                    409,
                    "still_retrying",
                    "this change may already be in D1 and is being retried; publish or unpublish again to replace it",
                )
            }
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        };
        match result {
            Ok(Some(i)) => {
                if let Ok((db, kv)) = self.bindings() {
                    self.rearm(&db, &kv, None).await;
                }
                super::json_response(200, &serde_json::json!({ "cancelled": intent_json(&i) }))
            }
            Ok(None) => json_error(404, "nothing_pending", "no publish or unpublish is pending"),
            Err(e) => problem_response(&unavailable("dropping the intent failed", e)),
        }
    }

    /// `POST /api/docs/{doc}/faults` `{"crash_at": step}`: the test-only fault switch. Off
    /// (404) unless the worker runs with `FOLIO_FAULTS=on`.
    async fn faults(&self, mut req: Request) -> Result<Response> {
        if !faults_enabled(&self.env) {
            return json_error(404, "not_found", "no such route on a document");
        }
        #[derive(serde::Deserialize)]
        struct Arm {
            /// Crash the object when it reaches this step.
            crash_at: Option<String>,
            /// Fail the next D1 write with this error, before writing.
            fail_d1: Option<String>,
        }
        let arm = match super::json_body::<Option<Arm>>(&mut req, MAX_BODY_BYTES).await {
            Ok(Some(arm)) => arm,
            Ok(None) => return json_error(400, "invalid_json", "expected {\"crash_at\": step}"),
            Err(response) => return response,
        };
        if let Some(step) = &arm.crash_at {
            if !Step::NAMES.contains(&step.as_str()) {
                return json_error(
                    400,
                    "invalid_step",
                    &format!("steps: {}", Step::NAMES.join(", ")),
                );
            }
        }
        *self.crash_at.borrow_mut() = arm.crash_at.clone();
        *self.fail_d1.borrow_mut() = arm.fail_d1.clone();
        super::json_response(
            200,
            &serde_json::json!({ "crash_at": arm.crash_at, "fail_d1": arm.fail_d1 }),
        )
    }

    /// `GET /api/docs/{doc}/export`: the stored snapshot and log, raw (see
    /// [`SqlStore::export`]).
    fn export(&self, id: &str) -> Result<Response> {
        let store = SqlStore::open(self.state.storage().sql()).map_err(Error::from);
        match store.and_then(|s| s.export()) {
            Ok(export) => {
                let mut body = export.to_json();
                body["doc_id"] = serde_json::Value::from(id);
                let response = super::json_response(200, &body)?;
                response.headers().set("Cache-Control", "no-store")?;
                Ok(response)
            }
            Err(e) => super::error_json(&e),
        }
    }

    fn schedule_list(&self) -> Result<Response> {
        match publisher::schedule(&self.state.storage().sql()) {
            Ok(entries) => super::json_response(
                200,
                &serde_json::json!({ "entries": entries.iter().map(entry_json).collect::<Vec<_>>() }),
            ),
            Err(e) => problem_response(&unavailable("reading the schedule failed", e)),
        }
    }

    async fn schedule_add(&self, id: &str, mut req: Request) -> Result<Response> {
        let body: ScheduleRequest =
            match super::json_body::<Option<ScheduleRequest>>(&mut req, MAX_BODY_BYTES).await {
                Ok(Some(body)) => body,
                Ok(None) => {
                    return json_error(400, "invalid_json", "expected {\"action\", \"at\"}")
                }
                Err(response) => return response,
            };
        let now = now_ms();
        let (action, at) = match schedule_request(&body, now) {
            Ok(ok) => ok,
            Err(bad) => {
                return super::error_json(&Error::BadParameter {
                    parameter: bad.parameter,
                    message: bad.message,
                })
            }
        };
        let _guard = self.publish_lock.lock().await;
        let sql = self.state.storage().sql();
        let entry = match publisher::add_entry(&sql, id, action, at, now) {
            Ok(entry) => entry,
            Err(e) => return problem_response(&unavailable("saving the schedule failed", e)),
        };
        if let Ok((db, kv)) = self.bindings() {
            self.rearm(&db, &kv, None).await;
        }
        super::json_response(
            201,
            &entry_json(&Entry {
                id: entry,
                doc_id: id.to_string(),
                action,
                at,
            }),
        )
    }

    async fn schedule_cancel(&self, entry: u64) -> Result<Response> {
        let _guard = self.publish_lock.lock().await;
        match publisher::remove_entry(&self.state.storage().sql(), entry) {
            Ok(true) => {
                if let Ok((db, kv)) = self.bindings() {
                    self.rearm(&db, &kv, None).await;
                }
                super::json_response(200, &serde_json::json!({ "cancelled": entry }))
            }
            Ok(false) => json_error(404, "entry_not_found", &format!("no pending entry {entry}")),
            Err(e) => problem_response(&unavailable("saving the schedule failed", e)),
        }
    }

    /// Makes the draft equal version `version`, live for every connected editor.
    async fn restore(&self, id: &str, version: u64) -> Result<Response> {
        let (db, _) = match self.bindings() {
            Ok(b) => b,
            Err(p) => return problem_response(&p),
        };
        let post = match publisher::version(&db, id, version).await {
            Ok(Some(post)) => post,
            Ok(None) => {
                return json_error(
                    404,
                    "version_not_found",
                    &format!("no published version {version}"),
                )
            }
            Err(e) => return problem_response(&unavailable("D1 is unavailable", e)),
        };
        // Restoring has one durable write, the local one below (stored with its log entry
        // before it is relayed): a crash before it leaves the draft as it was, and the
        // request can simply be retried. The fault switch proves it.
        let mut journal = self.journal(now_ms());
        if journal.checkpoint("restore.fetched").is_err() && self.crashed(&journal) {
            return problem_response(&crash_problem());
        }
        match self.with_room(|room| room.restore(&post)) {
            Ok(()) => {
                self.live.flush(now_ms());
                super::json_response(
                    200,
                    &serde_json::json!({ "restored": version, "title": post.content.title }),
                )
            }
            Err(e) => super::error_json(&e),
        }
    }

    /// Runs the due schedule entries in order. Each is consumed with the intent it records
    /// (see [`crate::intent`]), so it runs once; a permanent failure is kept visible as a
    /// failed intent, a transient one stops the run and the entry stays due.
    /// Returns whether something failed and must be retried later.
    async fn run_schedule(&self) -> bool {
        let sql = self.state.storage().sql();
        let due = match publisher::due(&sql, now_ms()) {
            Ok(due) => due,
            Err(e) => {
                console_error!("reading the schedule: {e}");
                return true;
            }
        };
        for entry in due {
            let result = match entry.action {
                Action::Publish => self
                    .publish_now(&entry.doc_id, Some(entry.id))
                    .await
                    .map(|_| ()),
                Action::Unpublish => self
                    .unpublish_now(&entry.doc_id, Some(entry.id))
                    .await
                    .map(|_| ()),
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
            }
        }
        false
    }
}

impl DurableObject for DocumentObject {
    fn new(state: State, env: Env) -> Self {
        // Once per start or wake from hibernation: operators (and tests) see object lifetimes.
        console_log!("document object constructed");
        Self {
            live: Live::new(&state),
            state,
            env,
            publish_lock: futures_util::lock::Mutex::new(()),
            doc_id: RefCell::new(None),
            touched_at: std::cell::Cell::new(0),
            dirty: std::cell::Cell::new(false),
            touch_due: std::cell::Cell::new(None),
            penalties: RefCell::new(Default::default()),
            crash_at: RefCell::new(None),
            fail_d1: RefCell::new(None),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let path = req.path();
        let upgrade = req
            .headers()
            .get("Upgrade")?
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
        if let Some(id) = path.strip_prefix("/sync/").or_else(|| {
            path.strip_prefix("/api/docs/")
                .and_then(|rest| rest.split('/').next())
        }) {
            self.remember_id(id);
        }
        // Only the worker reaches an object, and it attaches the verified identity to every
        // request it forwards; anything without one is refused.
        let Some(identity) = Identity::of_request(&req) else {
            return json_error(403, "forbidden", "no verified identity");
        };
        if upgrade {
            // A socket only on the sync route, forwarded as such by the worker.
            let sync = matches!(Route::parse("GET", &path), Ok(Route::Sync { .. }));
            if !sync || !identity.socket {
                return json_error(
                    400,
                    "upgrade_not_allowed",
                    "WebSockets are served on /sync/{doc} only",
                );
            }
            let refused = self.penalties.borrow().refused(&identity.user, now_ms());
            if let Some(wait) = refused {
                let response = super::error_json(&Error::RateLimited("refused frames"))?;
                response.headers().set("Retry-After", &wait.to_string())?;
                return Ok(response);
            }
            let response = self.accept(&identity)?;
            if let Some(at) = identity.expires_ms {
                alarm_by(&self.state.storage(), at).await;
            }
            return Ok(response);
        }
        match Route::parse(req.method().as_ref(), &path) {
            Ok(Route::PreviewPage { doc }) => return self.preview_page(doc),
            Ok(Route::DocState { .. }) => return self.document_state(),
            Ok(Route::Draft { doc }) => return self.draft(doc),
            Ok(Route::Publish { doc }) => return self.publish(doc).await,
            Ok(Route::Unpublish { doc }) => return self.unpublish(doc).await,
            Ok(Route::Schedule { .. }) => return self.schedule_list(),
            Ok(Route::ScheduleAdd { doc }) => {
                let doc = doc.to_string();
                return self.schedule_add(&doc, req).await;
            }
            Ok(Route::ScheduleCancel { entry, .. }) => return self.schedule_cancel(entry).await,
            Ok(Route::Restore { doc, version }) => return self.restore(doc, version).await,
            Ok(Route::Publishing { doc }) => return self.publishing(doc).await,
            Ok(Route::PublishingRetry { doc }) => return self.publishing_retry(doc).await,
            Ok(Route::PublishingCancel { .. }) => return self.publishing_cancel().await,
            Ok(Route::Export { doc }) => return self.export(doc),
            Ok(Route::Faults { .. }) => return self.faults(req).await,
            _ => {}
        }
        json_error(404, "not_found", "no such route on a document")
    }

    async fn alarm(&self) -> Result<Response> {
        // A fallback first: if this run ends early, the alarm still comes back. Replaced at
        // the end by the real next time.
        if let Err(e) = self.state.storage().set_alarm(ALARM_FALLBACK_MS).await {
            console_error!("arming the fallback alarm failed: {e}");
        }
        self.close_expired();
        let _guard = self.publish_lock.lock().await;
        if self.touch_due.get().is_some_and(|due| due <= now_ms()) {
            self.touch_due.set(None);
            if self.dirty.get() {
                self.touch(None);
            }
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
        let mut journal = self.journal(now);
        if journal
            .intent()
            .ok()
            .flatten()
            .is_some_and(|i| !i.failed && i.next_at <= now)
        {
            let mut world = self.world(&db);
            if let Outcome::Failed(p) = intent::drive(&mut journal, &mut world, now).await {
                console_error!("alarm: the pending publish failed again: {}", p.message);
            }
        }
        let retry = self.run_schedule().await;
        // Then pending KV writes, and the next alarm: after a failure, not before the backoff.
        let not_before = retry.then(|| now_ms() + SCHEDULE_RETRY_MS);
        self.rearm_after(&db, &kv, None, not_before).await;
        Response::ok("done")
    }
}

/// The WebSocket handlers, bound by hand and synchronous. The `#[durable_object]` macro binds
/// async ones, and each call through them costs a promise, a task and a microtask: about a
/// fifth of the isolate's time at 1,000 edits/s (`make profile`). Nothing here awaits; what
/// must wait (arming the alarm) runs in the background.
#[wasm_bindgen::prelude::wasm_bindgen]
impl DocumentObject {
    #[wasm_bindgen(js_name = webSocketMessage)]
    pub fn web_socket_message(
        &self,
        ws: web_sys::WebSocket,
        message: wasm_bindgen::JsValue,
    ) -> std::result::Result<(), wasm_bindgen::JsValue> {
        let ws = WebSocket::from(ws);
        // The clock, once per event.
        let now = now_ms();
        let (slot, mut conn) = self.live.take_conn(&ws);
        if conn.closed {
            self.live.put_conn(slot, conn, false);
            return Ok(()); // sent before we closed it: dropped unread
        }
        if message.is_string() {
            self.live.put_conn(slot, conn.clone(), false);
            self.refuse(&ws, &conn, &Error::TextFrame);
            return Ok(());
        }
        let frame = js_sys::Uint8Array::new(&message).to_vec();
        let received = self.live.with_room(|room| {
            room.spend(&conn, frame.len(), now)?;
            room.receive(&mut conn, &frame)
        });
        match received {
            Ok(outcome) => {
                self.live.put_conn(slot, conn, outcome.conn_changed);
                for reply in outcome.reply {
                    ws.send_with_bytes(reply)?;
                }
                if outcome.queued {
                    self.live.queued(now, outcome.edited);
                }
                if outcome.edited {
                    self.edited(now);
                }
            }
            Err(e @ (Error::Storage(_) | Error::Internal(_) | Error::Corrupt(_))) => {
                // The room was dropped: every editor reconnects and resyncs from storage, and
                // the sender re-sends what storage may have missed.
                self.live.put_conn(slot, conn, false);
                self.live.drop_all(&e);
            }
            Err(e) => {
                self.live.put_conn(slot, conn.clone(), false);
                self.refuse(&ws, &conn, &e);
            }
        }
        Ok(())
    }

    #[wasm_bindgen(js_name = webSocketClose)]
    pub fn web_socket_close(
        &self,
        ws: web_sys::WebSocket,
        _code: u16,
        _reason: String,
        _clean: bool,
    ) {
        self.live
            .drop_socket(&WebSocket::from(ws), close::NORMAL, "closed");
        if self.dirty.get() {
            self.touch(None); // the last edits since the previous touch
        }
    }

    #[wasm_bindgen(js_name = webSocketError)]
    pub fn web_socket_error(&self, ws: web_sys::WebSocket, error: wasm_bindgen::JsValue) {
        console_error!("socket error: {error:?}");
        self.live
            .drop_socket(&WebSocket::from(ws), close::INTERNAL_ERROR, "socket error");
    }
}
