//! The Durable Object of one document: dispatch, and the state it keeps between events. Each
//! job is a file of its own; every decision is the core's (a planner returning what to do),
//! carried out here:
//!
//! - [`live`]: the room, the sockets and the coalescing cadence, rebuilt after hibernation;
//! - [`sockets`]: accepting y-websocket connections, their messages, closes and expiries;
//! - [`reads`]: the draft, its state, preview and raw export; [`writes`]: JSON writes into it;
//! - [`publishing`]: publish, unpublish, restore and the publishing view (write-ahead
//!   intents, [`crate::publish::intent`]), and bringing KV up to date;
//! - [`schedule`]: scheduled entries, and running them when due;
//! - [`alarm`]: the single alarm (what it must do next is [`crate::publish::plan::alarm`]),
//!   and the registry touches.
//!
//! State that must survive hibernation lives in storage (the document, the publishing
//! tables) or in each socket's attachment (the awareness ids it owns). Nothing here awaits
//! while holding a `RefCell` borrow.

mod alarm;
mod live;
mod publishing;
mod reads;
mod schedule;
mod sockets;
mod writes;

use crate::error::StoreError;
use std::cell::RefCell;
use std::rc::Rc;

use worker::{console_error, console_log, durable_object, DurableObject, Env, Request, Response};

use self::live::Live;
use super::access::Identity;
use super::collections::{self, Defined};
use super::error::{respond, tolerated, EdgeError, Result};
use super::storage::d1;
use super::storage::journal::{SqlJournal, Tables};
use crate::access::throttle::Penalties;
use crate::access::Route;
use crate::content::schema::{Kind, POSTS};
use crate::doc_id::DocId;
use crate::edge::http::now_ms;
use crate::error::Error;
use crate::publish::plan::Touch;
use crate::time::Millis;

// `alarm` binds `fetch` and `alarm` only: the socket handlers are bound by hand, synchronous
// (see `sockets`).
#[durable_object(alarm)]
pub struct DocumentObject {
    state: worker::State,
    env: Env,
    /// The room, the sockets and the coalescing cadence (shared with the flush timer).
    live: Rc<Live>,
    /// The publishing tables, once their schema is created (once per object).
    tables: RefCell<Option<Tables>>,
    /// One publish or unpublish at a time (held across D1/KV awaits; edits keep flowing).
    publish_lock: futures_util::lock::Mutex<()>,
    /// This document's id, once known (see [`Tables::remember_id`]).
    doc_id: RefCell<Option<DocId>>,
    /// This document's collection, once known (see [`DocumentObject::collection`]).
    collection: RefCell<Option<String>>,
    /// The text root its title is read from, for the registry (see `touch_registry`).
    title_field: RefCell<Option<String>>,
    /// When edits refresh the registry row ([`Touch`]).
    touch: RefCell<Touch>,
    /// Clients refused new sockets for a while after a refusal they would repeat.
    penalties: RefCell<Penalties>,
    /// The pending `document.updated` event (loaded from storage on first use).
    updated_event: RefCell<Option<crate::webhook::Debounce>>,
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

impl DocumentObject {
    /// The publishing tables (their schema created on first use).
    ///
    /// # Errors
    /// 503 if SQLite refuses the schema.
    fn tables(&self) -> Result<Tables> {
        if let Some(tables) = self.tables.borrow().as_ref() {
            return Ok(tables.clone());
        }
        let tables = Tables::open(self.state.storage().sql()).map_err(|e| {
            EdgeError::unavailable("the document's storage is unavailable; try again", e)
        })?;
        *self.tables.borrow_mut() = Some(tables.clone());
        Ok(tables)
    }

    /// The journal of this object's publish intents, with the fault switch's armed step.
    fn journal(&self, now: Millis) -> Result<SqlJournal> {
        Ok(SqlJournal {
            tables: self.tables()?,
            crash_at: self.crash_at.borrow().clone(),
            now,
        })
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

    fn remember_id(&self, id: &DocId) {
        if self.doc_id.borrow().is_some() {
            return;
        }
        if let Err(e) = self
            .tables()
            .map_err(|e| StoreError::Unavailable(format!("{e:?}")))
            .and_then(|t| t.remember_id(id))
        {
            console_error!("remembering the document id: {e}");
        }
        *self.doc_id.borrow_mut() = Some(id.clone());
    }

    fn doc_id(&self) -> Option<DocId> {
        if let Some(id) = self.doc_id.borrow().clone() {
            return Some(id);
        }
        let id = tolerated(self.tables(), "the object's tables")?.stored_id()?;
        *self.doc_id.borrow_mut() = Some(id.clone());
        Some(id)
    }

    /// The definition in force of this document's collection. Which collection is fixed at
    /// creation: read once from the registry (a document not in it is a post), then kept in
    /// the object's storage.
    ///
    /// # Errors
    /// 503 if D1 or SQLite fails; 500 if the collection no longer exists.
    async fn collection(&self, id: &DocId) -> Result<Rc<Defined>> {
        let known = self.collection.borrow().clone();
        let name = match known
            .or_else(|| tolerated(self.tables(), "the object's tables")?.stored_collection())
        {
            Some(name) => name,
            None => {
                let unavailable = |e: StoreError| {
                    EdgeError::unavailable("the document registry is unavailable; try again", e)
                };
                let db = d1::db(&self.env).map_err(unavailable)?;
                let name = d1::document_collection(&db, id)
                    .await
                    .map_err(unavailable)?
                    .unwrap_or_else(|| POSTS.to_string());
                if let Err(e) = self.tables()?.remember_collection(&name) {
                    console_error!("remembering the collection: {e}");
                }
                name
            }
        };
        *self.collection.borrow_mut() = Some(name.clone());
        let defined = collections::load(&self.env, &name).await?.ok_or_else(|| {
            Error::Internal(format!(
                "document {id} belongs to `{name}`, which is not defined"
            ))
        })?;
        // The registry's title: the collection's first text field (a post's `title`).
        let title = defined
            .collection
            .fields
            .iter()
            .find(|f| matches!(f.kind, Kind::Text { .. }))
            .map(|f| f.name.clone());
        if let Some(title) = title {
            if self.title_field.borrow().as_ref() != Some(&title) {
                if let Err(e) = self.tables()?.remember_title_field(&title) {
                    console_error!("remembering the title field: {e}");
                }
                *self.title_field.borrow_mut() = Some(title);
            }
        }
        Ok(defined)
    }

    /// Whether the registry lists document `id` (it was created, or edited and touched).
    async fn registered(&self, id: &DocId) -> Result<bool> {
        let unavailable = |e: StoreError| {
            EdgeError::unavailable("the document registry is unavailable; try again", e)
        };
        let db = d1::db(&self.env).map_err(unavailable)?;
        let row = d1::document_collection(&db, id)
            .await
            .map_err(unavailable)?;
        Ok(row.is_some())
    }

    /// Records webhook event `kind` in the outbox (in this turn's write, with what it
    /// reports), then queues it in the background; the alarm queues what is left.
    fn emit(&self, kind: &'static str, data: serde_json::Value) {
        let recorded = crate::edge::webhooks::message_id()
            .map_err(|e| StoreError::Unavailable(format!("{e:?}")))
            .and_then(|id| {
                self.tables()
                    .map_err(|e| StoreError::Unavailable(format!("{e:?}")))?
                    .outbox_add(&id, kind, &data.to_string(), now_ms())
            });
        if let Err(e) = recorded {
            console_error!("recording webhook event {kind}: {e}");
            return;
        }
        let (env, tables) = (self.env.clone(), self.tables.borrow().clone());
        self.state.wait_until(async move {
            if let Some(tables) = tables {
                send_outbox(&env, &tables).await;
            }
        });
    }

    /// When the alarm must come back for webhook work: a `document.updated` window's end, or
    /// soon if events wait in the outbox.
    fn webhook_work(&self) -> Option<Millis> {
        let waiting = tolerated(self.tables(), "the object's tables")
            .and_then(|t| tolerated(t.outbox(), "the outbox"))
            .is_some_and(|o| !o.is_empty());
        let retry = waiting.then(|| now_ms() + crate::limits::OUTBOX_RETRY_MS);
        [self.updated_event().due, retry]
            .into_iter()
            .flatten()
            .min()
    }

    /// The `document.updated` debounce, as stored.
    fn updated_event(&self) -> crate::webhook::Debounce {
        let known = *self.updated_event.borrow();
        known.unwrap_or_else(|| {
            let due = self
                .tables()
                .ok()
                .and_then(|t| t.updated_event_due().ok().flatten());
            let loaded = crate::webhook::Debounce { due };
            *self.updated_event.borrow_mut() = Some(loaded);
            loaded
        })
    }

    /// An edit at `now`: opens a `document.updated` window if none is (stored, with the
    /// alarm set for its end).
    fn updated(&self, now: Millis) {
        let mut debounce = self.updated_event();
        // Called for every edit: while a window is open there is nothing to do.
        if debounce.due.is_some() {
            return;
        }
        let window = self
            .env
            .var("WEBHOOK_DEBOUNCE")
            .ok()
            .and_then(|v| v.to_string().parse::<i64>().ok())
            .map_or(crate::webhook::DEBOUNCE_SECONDS as i64, |s| {
                s.clamp(0, 86_400)
            });
        if let Some(due) = debounce.edited(now, window * 1000) {
            *self.updated_event.borrow_mut() = Some(debounce);
            if let Err(e) = self
                .tables()
                .map_err(|e| StoreError::Unavailable(format!("{e:?}")))
                .and_then(|t| t.set_updated_event_due(Some(due)))
            {
                console_error!("recording the document.updated event: {e}");
            }
            let storage = self.state.storage();
            worker::wasm_bindgen_futures::spawn_local(async move {
                alarm::alarm_by(&storage, due).await;
            });
        }
    }

    /// The alarm rang at `now`: sends `document.updated` if its window has closed, with the
    /// draft as it is now.
    async fn send_updated(&self, now: Millis) {
        let mut debounce = self.updated_event();
        if !debounce.ring(now) {
            return;
        }
        *self.updated_event.borrow_mut() = Some(debounce);
        if let Err(e) = self
            .tables()
            .map_err(|e| StoreError::Unavailable(format!("{e:?}")))
            .and_then(|t| t.set_updated_event_due(None))
        {
            console_error!("clearing the document.updated event: {e}");
        }
        let Some(id) = self.doc_id() else { return };
        let defined = match self.collection(&id).await {
            Ok(d) => d,
            Err(e) => return console_error!("document.updated: {e:?}"),
        };
        let entry = match self.entry(&defined.collection) {
            Ok(entry) => entry,
            Err(e) => return console_error!("document.updated: {e:?}"),
        };
        let mut data = crate::content::fields::entry_json(&defined.collection, &entry);
        data["document"] = serde_json::json!(id.as_str());
        data["updated_at"] = serde_json::json!(crate::time::iso8601(now));
        self.emit("document.updated", data);
    }

    async fn serve(&self, req: Request) -> Result<Response> {
        let path = req.path();
        let route = Route::parse(&req.inner().method(), &path);
        if let Some(doc) = route.as_ref().ok().and_then(Route::doc) {
            self.remember_id(doc);
        }
        // Only the worker reaches an object, and it attaches the verified identity to every
        // request it forwards; anything without one is refused.
        let Some(identity) = Identity::of_request(&req) else {
            return Err(EdgeError::api(403, "forbidden", "no verified identity"));
        };
        if super::http::wants_upgrade(&req) {
            return self.connect(&route, &identity).await;
        }
        let not_found = || EdgeError::api(404, "not_found", "no such route on a document");
        match route.map_err(|_| not_found())? {
            Route::PreviewPage { doc } => self.preview_page(&doc).await,
            Route::DocState { .. } => self.document_state(),
            Route::Draft { doc } => self.draft(&doc).await,
            Route::Write { doc } => self.write(&doc, req).await,
            Route::Export { doc } => self.export(&doc),
            Route::Publish { doc } => self.publish(&doc).await,
            Route::Unpublish { doc } => self.unpublish(&doc).await,
            Route::Restore { doc, version } => self.restore(&doc, version.0).await,
            Route::Publishing { doc } => self.publishing(&doc).await,
            Route::PublishingRetry { doc } => self.publishing_retry(&doc).await,
            Route::PublishingCancel { .. } => self.publishing_cancel().await,
            Route::Faults { .. } => self.faults(req).await,
            Route::Schedule { .. } => self.schedule_list(),
            Route::ScheduleAdd { doc } => self.schedule_add(&doc, req).await,
            Route::ScheduleCancel { entry, .. } => self.schedule_cancel(entry.0).await,
            _ => Err(not_found()),
        }
    }
}

/// Queues the outbox's events, oldest first, forgetting each once every webhook has it;
/// stops at the first failure (the alarm tries again).
pub(super) async fn send_outbox(env: &Env, tables: &Tables) -> bool {
    let Ok(waiting) = tables.outbox() else {
        return false;
    };
    for event in waiting {
        let data = serde_json::from_str(&event.data).unwrap_or_default();
        let queued =
            crate::edge::webhooks::enqueue(env, &event.id, &event.kind, event.created_at, data)
                .await;
        if let Err(e) = queued {
            if now_ms() - event.created_at < crate::limits::OUTBOX_MAX_AGE_MS {
                console_error!("webhook event {} not queued yet: {e:?}", event.kind);
                return false;
            }
            console_error!(
                "webhook event {} dropped after a day unqueued: {e:?}",
                event.kind
            );
        }
        if let Err(e) = tables.outbox_done(event.seq) {
            console_error!("forgetting a queued webhook event: {e}");
        }
    }
    true
}

impl DurableObject for DocumentObject {
    fn new(state: worker::State, env: Env) -> Self {
        // Once per start or wake from hibernation: operators (and tests) see object lifetimes.
        console_log!("document object constructed");
        Self {
            live: Live::new(&state),
            state,
            env,
            tables: RefCell::new(None),
            publish_lock: futures_util::lock::Mutex::new(()),
            doc_id: RefCell::new(None),
            collection: RefCell::new(None),
            title_field: RefCell::new(None),
            touch: RefCell::new(Touch::default()),
            updated_event: RefCell::new(None),
            penalties: RefCell::new(Penalties::default()),
            crash_at: RefCell::new(None),
            fail_d1: RefCell::new(None),
        }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        respond(self.serve(req).await)
    }

    async fn alarm(&self) -> worker::Result<Response> {
        self.ring().await
    }
}
