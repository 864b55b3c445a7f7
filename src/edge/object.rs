//! The Durable Object of one document: accepts y-websocket connections with the WebSocket
//! Hibernation API and runs a [`Room`] over its SQLite storage.
//!
//! State that must survive hibernation lives in storage (the document) or in each socket's
//! attachment (the awareness ids it owns, [`Conn`]); the [`Room`] is rebuilt from them on the
//! first event after a wake. Nothing here awaits while holding the room's `RefCell` borrow:
//! every handler is synchronous inside.

use std::cell::RefCell;

use worker::{
    console_error, console_log, durable_object, DurableObject, Env, Request, Response, Result,
    Socket, State, WebSocket, WebSocketIncomingMessage, WebSocketPair,
};

use crate::error::{close, Error};
use crate::limits::MAX_BODY_BYTES;
use crate::publish::{
    iso8601, next_alarm, render_for_publish, schedule_request, slug_for, Action, Post,
    ScheduleRequest,
};
use crate::room::{farewell, Conn, Room};
use crate::routes::Route;

use super::publisher::{self, read_local, write_local, Entry, FlushError, Local};

use super::access::Identity;
use super::json_error;
use super::sql::SqlStore;

#[durable_object]
pub struct DocumentObject {
    state: State,
    env: Env,
    room: RefCell<Option<Room<SqlStore>>>,
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
}

/// Backoff before a failed scheduled entry is tried again (ms).
const SCHEDULE_RETRY_MS: i64 = 2_000;

/// Edits refresh the registry row (title, updated time) at most this often (ms).
const TOUCH_INTERVAL_MS: i64 = 10_000;

fn conn_of(ws: &WebSocket) -> Conn {
    // Every accepted socket gets an attachment with its role and expiry. If it cannot be
    // read, fail closed: read-only, and expired (closed with 4001 on its next message, so the
    // client reconnects and is accepted afresh).
    let closed = || Conn {
        read_only: true,
        expires_ms: Some(0),
        ..Conn::default()
    };
    match ws.deserialize_attachment::<String>() {
        Ok(Some(json)) => serde_json::from_str(&json).unwrap_or_else(|_| closed()),
        _ => closed(),
    }
}

fn save_conn(ws: &WebSocket, conn: &Conn) {
    if let Ok(json) = serde_json::to_string(conn) {
        if let Err(e) = ws.serialize_attachment(json) {
            console_error!("saving a socket attachment failed: {e}");
        }
    }
}

impl DocumentObject {
    /// Runs `f` on the room, loading it first if needed. Drops the room after a storage or
    /// internal error so the next event loads it again from storage.
    fn with_room<T>(
        &self,
        f: impl FnOnce(&mut Room<SqlStore>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut slot = self.room.borrow_mut();
        let room = match slot.as_mut() {
            Some(room) => room,
            None => {
                let sql = SqlStore::open(self.state.storage().sql())?;
                let mut room = Room::open(sql)?;
                // Connections outlive the room (hibernation): take back their awareness claims.
                for ws in self.state.get_websockets() {
                    room.adopt(&conn_of(&ws));
                }
                slot.insert(room)
            }
        };
        let result = f(room);
        if let Err(e @ (Error::Storage(_) | Error::Internal(_) | Error::Corrupt(_))) = &result {
            console_error!(
                "document {:?}: {e}; dropping the in-memory room",
                self.state.id().to_string()
            );
            *slot = None;
        }
        result
    }

    /// Sends `frame` to every connected socket but `except`, copying it into JS once.
    fn broadcast(&self, except: Option<&WebSocket>, frame: &[u8]) {
        let buffer = js_sys::Uint8Array::from(frame).buffer();
        for ws in self.state.get_websockets() {
            if Some(&ws) == except {
                continue;
            }
            let raw: &web_sys::WebSocket = ws.as_ref();
            // A socket that is closing refuses sends; its close event cleans up.
            let _ = raw.send_with_array_buffer(&buffer);
        }
    }

    /// Closes `ws` with `code`/`reason`, telling the others its awareness states are gone.
    fn drop_socket(&self, ws: &WebSocket, code: u16, reason: &str) {
        let mut conn = conn_of(ws);
        conn.closed = true;
        let gone = match self.room.borrow_mut().as_mut() {
            Some(room) => room.disconnect(&mut conn),
            None => farewell(&mut conn),
        };
        save_conn(ws, &conn);
        if let Some(frame) = gone {
            self.broadcast(Some(ws), &frame);
        }
        // Fails if the socket is already closed, which is the outcome we want anyway.
        let _ = ws.close(Some(code), Some(reason));
    }

    /// Closes `ws` for what it sent (`e`). If its client would send the same again on
    /// reconnecting, its user's new sockets are refused for a while (the penalty box).
    fn refuse(&self, ws: &WebSocket, conn: &Conn, e: &Error) {
        console_error!("closing a socket: {e}");
        if e.is_repeatable_refusal() {
            let ms = self.penalties.borrow_mut().strike(&conn.user, now_ms());
            console_log!("refusing new sockets of {:?} for {ms} ms", conn.user);
        }
        self.drop_socket(ws, e.close_code(), &e.close_reason());
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
        save_conn(&pair.server, &conn);
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

impl DocumentObject {
    /// Makes the alarm fire no later than `at` (ms).
    async fn alarm_by(&self, at: i64) {
        let storage = self.state.storage();
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

    /// The earliest token expiry still ahead of a connected socket (ms). Past ones are
    /// excluded: those sockets were closed by the alarm and may linger while closing.
    fn next_expiry(&self) -> Option<i64> {
        let now = now_ms();
        self.state
            .get_websockets()
            .iter()
            .filter_map(|ws| conn_of(ws).expires_ms)
            .filter(|&at| at > now)
            .min()
    }

    /// Closes the sockets whose token has expired (4001), so their clients reconnect with a
    /// fresh token even if they are idle.
    fn close_expired(&self) {
        let now = now_ms();
        for ws in self.state.get_websockets() {
            if conn_of(&ws).expires_ms.is_some_and(|at| at <= now) {
                let e = Error::TokenExpired;
                self.drop_socket(&ws, e.close_code(), &e.close_reason());
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

fn now_ms() -> i64 {
    worker::Date::now().as_millis() as i64
}

fn published_json(local: &Local, created: bool) -> serde_json::Value {
    serde_json::json!({
        "version": local.version,
        "slug": local.slug,
        "status": if local.published { "published" } else { "unpublished" },
        "published_at": iso8601(local.published_at),
        "created": created,
    })
}

/// Why a publish or unpublish did not happen.
struct Failure {
    status: u16,
    code: &'static str,
    message: String,
    /// Trying again later cannot help (a scheduled entry is then dropped, not retried).
    permanent: bool,
}

impl Failure {
    fn permanent(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Failure {
            status,
            code,
            message: message.into(),
            permanent: true,
        }
    }

    fn unavailable(what: &str, detail: impl std::fmt::Display) -> Self {
        console_error!("{what}: {detail}");
        Failure {
            status: 503,
            code: "unavailable",
            message: format!("{what}; try again"),
            permanent: false,
        }
    }

    fn response(&self) -> Result<Response> {
        json_error(self.status, self.code, &self.message)
    }
}

fn slug_taken(slug: &str) -> Failure {
    Failure::permanent(
        409,
        "slug_taken",
        format!("slug '{slug}' belongs to another document"),
    )
}

fn entry_json(e: &Entry) -> serde_json::Value {
    serde_json::json!({ "id": e.id, "action": e.action.as_str(), "at": iso8601(e.at) })
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
    /// time, and the next scheduled publish when given).
    fn touch(&self, next_publish_at: Option<Option<i64>>) {
        let Some(id) = self.doc_id() else { return };
        let Ok(title) = self.with_room(|room| Ok(room.title())) else {
            return;
        };
        let Ok(db) = self.env.d1(DB) else { return };
        let now = now_ms();
        self.touched_at.set(now);
        self.dirty.set(false);
        self.state.wait_until(async move {
            if let Err(e) = publisher::touch(&db, &id, &title, now, next_publish_at).await {
                console_error!("updating the document registry: {e}");
            }
        });
    }

    /// Writes KV if due, then sets the single alarm to the earliest of the schedule and any
    /// pending KV write (or clears it).
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
        let earliest = match publisher::schedule(&sql) {
            Ok(entries) => {
                let next_publish = entries
                    .iter()
                    .find(|e| e.action == Action::Publish)
                    .map(|e| e.at);
                self.touch(Some(next_publish));
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
        // Sockets whose token runs out are closed by the alarm too.
        let next = match (next, self.next_expiry()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let result = match next {
            Some(at) => storage.set_alarm((at - now).max(0)).await,
            None => storage.delete_alarm().await,
        };
        if let Err(e) = result {
            console_error!("setting the alarm failed: {e}");
        }
    }

    fn bindings(&self) -> Result<(worker::D1Database, worker::kv::KvStore), Failure> {
        match (self.env.d1(DB), self.env.kv(POSTS)) {
            (Ok(db), Ok(kv)) => Ok((db, kv)),
            (Err(e), _) | (_, Err(e)) => Err(Failure::unavailable("D1/KV bindings missing", e)),
        }
    }

    /// Publishes the current draft. The caller holds the publish lock.
    async fn publish_now(&self, id: &str) -> Result<(Local, bool), Failure> {
        let content = self
            .with_room(|room| {
                if room.is_empty() {
                    return Err(Error::UnknownDocument);
                }
                crate::content::extract(room.doc())
            })
            .map_err(|e| {
                let (status, code) = e.http_status();
                Failure {
                    status,
                    code,
                    message: e.to_string(),
                    permanent: status < 500,
                }
            })?;
        let slug = slug_for(&content).ok_or_else(|| {
            Failure::permanent(
                400,
                "slug_required",
                "give the document a title or a slug first",
            )
        })?;
        let rendered = render_for_publish(&content, slug);
        let sql = self.state.storage().sql();
        let local = read_local(&sql)
            .map_err(|e| Failure::unavailable("reading the publish record failed", e))?;
        if let Some(l) = local
            .as_ref()
            .filter(|l| l.published && l.content_hash == rendered.content_hash)
        {
            return Ok((l.clone(), false));
        }
        let (db, kv) = self.bindings()?;
        match publisher::slug_owner(&db, &rendered.slug).await {
            Ok(Some(owner)) if owner != id => return Err(slug_taken(&rendered.slug)),
            Ok(_) => {}
            Err(e) => return Err(Failure::unavailable("D1 is unavailable", e)),
        }
        let now = now_ms();
        let (version, published_at, first) = match &local {
            // Same content as the latest version (republishing after unpublish): same version.
            Some(l) if l.content_hash == rendered.content_hash => {
                (l.version, l.published_at, l.first_published_at)
            }
            Some(l) => (l.version + 1, now, l.first_published_at),
            None => (1, now, now),
        };
        let post = Post::new(id, version, rendered, published_at, first);
        let record = Local {
            doc_id: id.to_string(),
            version,
            content_hash: post.content.content_hash.clone(),
            slug: post.content.slug.clone(),
            published: true,
            published_at,
            first_published_at: first,
            kv_slug: local
                .as_ref()
                .map(|l| l.kv_slug.clone())
                .unwrap_or_default(),
            kv_written_at: local.as_ref().map_or(0, |l| l.kv_written_at),
            kv_pending: true,
        };
        write_local(&sql, Some(&record))
            .map_err(|e| Failure::unavailable("saving the publish record failed", e))?;
        if let Err(e) = publisher::flush_publish(&db, &post).await {
            let _ = write_local(&sql, local.as_ref()); // a version exists everywhere or nowhere
            return Err(match e {
                FlushError::SlugTaken => slug_taken(&post.content.slug),
                FlushError::Unavailable(e) => Failure::unavailable("D1 is unavailable", e),
            });
        }
        self.rearm(&db, &kv, Some(&post)).await;
        let created = local.is_none_or(|l| l.version != version);
        Ok((record, created))
    }

    /// Takes the post off the reader API. The caller holds the publish lock.
    async fn unpublish_now(&self, id: &str) -> Result<Local, Failure> {
        let sql = self.state.storage().sql();
        let local = read_local(&sql)
            .map_err(|e| Failure::unavailable("reading the publish record failed", e))?
            .ok_or_else(|| {
                Failure::permanent(409, "not_published", "this document was never published")
            })?;
        if !local.published {
            return Ok(local);
        }
        let record = Local {
            published: false,
            kv_pending: true,
            ..local.clone()
        };
        write_local(&sql, Some(&record))
            .map_err(|e| Failure::unavailable("saving the publish record failed", e))?;
        let (db, kv) = self.bindings()?;
        if let Err(e) = publisher::flush_unpublish(&db, id).await {
            let _ = write_local(&sql, Some(&local));
            return Err(match e {
                FlushError::SlugTaken => {
                    Failure::unavailable("D1 refused the change", "constraint")
                }
                FlushError::Unavailable(e) => Failure::unavailable("D1 is unavailable", e),
            });
        }
        self.rearm(&db, &kv, None).await;
        Ok(record)
    }

    async fn publish(&self, id: &str) -> Result<Response> {
        let _guard = self.publish_lock.lock().await;
        match self.publish_now(id).await {
            Ok((local, created)) => super::json_response(200, &published_json(&local, created)),
            Err(f) => f.response(),
        }
    }

    async fn unpublish(&self, id: &str) -> Result<Response> {
        let _guard = self.publish_lock.lock().await;
        match self.unpublish_now(id).await {
            Ok(local) => super::json_response(200, &published_json(&local, false)),
            Err(f) => f.response(),
        }
    }

    fn schedule_list(&self) -> Result<Response> {
        match publisher::schedule(&self.state.storage().sql()) {
            Ok(entries) => super::json_response(
                200,
                &serde_json::json!({ "entries": entries.iter().map(entry_json).collect::<Vec<_>>() }),
            ),
            Err(e) => Failure::unavailable("reading the schedule failed", e).response(),
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
            Err(e) => return Failure::unavailable("saving the schedule failed", e).response(),
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
            Err(e) => Failure::unavailable("saving the schedule failed", e).response(),
        }
    }

    /// Makes the draft equal version `version`, live for every connected editor.
    async fn restore(&self, id: &str, version: u64) -> Result<Response> {
        let (db, _) = match self.bindings() {
            Ok(b) => b,
            Err(f) => return f.response(),
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
            Err(e) => return Failure::unavailable("D1 is unavailable", e).response(),
        };
        match self.with_room(|room| room.restore(&post)) {
            Ok(frame) => {
                self.broadcast(None, &frame);
                super::json_response(
                    200,
                    &serde_json::json!({ "restored": version, "title": post.content.title }),
                )
            }
            Err(e) => super::error_json(&e),
        }
    }

    /// Runs the due schedule entries in order. A permanent failure drops its entry (logged);
    /// a transient one keeps it and every later one for the next alarm. Running an entry
    /// twice is harmless: publishing unchanged content is a no-op.
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
                Action::Publish => self.publish_now(&entry.doc_id).await.map(|_| ()),
                Action::Unpublish => self.unpublish_now(&entry.doc_id).await.map(|_| ()),
            };
            match result {
                Ok(()) => {}
                Err(f) if f.permanent => {
                    console_error!(
                        "scheduled {} of {} dropped: {}",
                        entry.action.as_str(),
                        entry.doc_id,
                        f.message
                    );
                }
                Err(f) => {
                    console_error!(
                        "scheduled {} of {} will be retried: {}",
                        entry.action.as_str(),
                        entry.doc_id,
                        f.message
                    );
                    return true;
                }
            }
            if let Err(e) = publisher::remove_entry(&sql, entry.id) {
                console_error!("removing a done schedule entry: {e}");
                return true;
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
            state,
            env,
            room: RefCell::new(None),
            publish_lock: futures_util::lock::Mutex::new(()),
            doc_id: RefCell::new(None),
            touched_at: std::cell::Cell::new(0),
            dirty: std::cell::Cell::new(false),
            touch_due: std::cell::Cell::new(None),
            penalties: RefCell::new(Default::default()),
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
                self.alarm_by(at).await;
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
            _ => {}
        }
        json_error(404, "not_found", "no such route on a document")
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        let mut conn = conn_of(&ws);
        if conn.closed {
            return Ok(()); // sent before we closed it: dropped unread
        }
        let frame = match message {
            WebSocketIncomingMessage::Binary(frame) => frame,
            WebSocketIncomingMessage::String(_) => {
                self.refuse(&ws, &conn, &Error::TextFrame);
                return Ok(());
            }
        };
        let now = now_ms();
        let received = self.with_room(|room| {
            room.spend(&conn, frame.len(), now)?;
            room.receive(&mut conn, &frame)
        });
        match received {
            Ok(outcome) => {
                for reply in outcome.reply {
                    ws.send_with_bytes(reply)?;
                }
                if outcome.conn_changed {
                    save_conn(&ws, &conn);
                }
                let edited = outcome.edited;
                if let Some(frame) = outcome.broadcast {
                    self.broadcast(Some(&ws), &frame);
                }
                if edited {
                    self.dirty.set(true);
                    let now = now_ms();
                    if now - self.touched_at.get() >= TOUCH_INTERVAL_MS {
                        self.touch(None);
                    } else if self.touch_due.get().is_none() {
                        // Throttled: a trailing touch at the end of the window.
                        let due = self.touched_at.get() + TOUCH_INTERVAL_MS;
                        self.touch_due.set(Some(due));
                        self.alarm_by(due).await;
                    }
                }
            }
            Err(e @ (Error::Storage(_) | Error::Internal(_) | Error::Corrupt(_))) => {
                // The room was dropped: every editor reconnects and resyncs from storage, and
                // the sender re-sends what storage may have missed.
                for socket in self.state.get_websockets() {
                    self.drop_socket(&socket, e.close_code(), &e.close_reason());
                }
            }
            Err(e) => self.refuse(&ws, &conn, &e),
        }
        Ok(())
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        _code: usize,
        _reason: String,
        _clean: bool,
    ) -> Result<()> {
        self.drop_socket(&ws, close::NORMAL, "closed");
        if self.dirty.get() {
            self.touch(None); // the last edits since the previous touch
        }
        Ok(())
    }

    async fn websocket_error(&self, ws: WebSocket, error: worker::Error) -> Result<()> {
        console_error!("socket error: {error}");
        self.drop_socket(&ws, close::INTERNAL_ERROR, "socket error");
        Ok(())
    }

    async fn alarm(&self) -> Result<Response> {
        self.close_expired();
        let _guard = self.publish_lock.lock().await;
        if self.touch_due.get().is_some_and(|due| due <= now_ms()) {
            self.touch_due.set(None);
            if self.dirty.get() {
                self.touch(None);
            }
        }
        let retry = self.run_schedule().await;
        // Then pending KV writes, and the next alarm: after a failure, not before the backoff.
        let not_before = retry.then(|| now_ms() + SCHEDULE_RETRY_MS);
        match self.bindings() {
            Ok((db, kv)) => self.rearm_after(&db, &kv, None, not_before).await,
            Err(f) => {
                let _ = self.state.storage().set_alarm(publisher::KV_RETRY_MS).await;
                console_error!("alarm: {}", f.message);
            }
        }
        Response::ok("done")
    }

    async fn connect(&self, mut socket: Socket) -> Result<()> {
        // Documents speak HTTP and WebSocket only.
        let _ = socket.close().await;
        Err(worker::Error::RustError(
            "documents do not accept TCP connections".into(),
        ))
    }
}
