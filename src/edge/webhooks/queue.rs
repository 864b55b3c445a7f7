//! The Durable Object of one webhook (`WebhookObject`, named by the webhook's id): its
//! deliveries, queued in its SQLite, sent in order of creation by its alarm.
//!
//! Why a Durable Object rather than Cloudflare Queues: a queue per webhook is what keeps one
//! endpoint's order and backoff from holding up another's, and an object gives exactly that
//! with storage that survives restarts, an alarm that outlives a crash, and the same code
//! under `wrangler dev` as in production; Queues' retries are per message, with no order.
//!
//! Only the worker reaches an object (its admin API and the events it emits); the routes
//! below are internal, on `https://webhook.internal`.

use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::{
    console_error, durable_object, DurableObject, Env, Request, Response, SqlStorage,
    SqlStorageValue,
};

use crate::edge::error::{respond, EdgeError, Result};
use crate::edge::http::{json_body, json_response, now_ms};
use crate::edge::storage::{d1, webhooks as store};
use crate::time::{iso8601, Millis};
use crate::webhook::{
    after_failure, check_url, should_disable, sign, AfterFailure, DISABLE_AFTER_MS, RETRY_SECONDS,
    TIMEOUT_MS,
};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  round INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER,
  last_error TEXT,
  last_latency_ms INTEGER,
  last_attempt_at INTEGER,
  next_at INTEGER,
  delivered_at INTEGER
);
CREATE INDEX IF NOT EXISTS deliveries_by_status ON deliveries (status, seq);
CREATE TABLE IF NOT EXISTS hook (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  webhook TEXT NOT NULL,
  failing_since INTEGER
);";

/// Deliveries sent by one run of the alarm before it hands over to the next (a run's wall
/// time stays short; the next run starts at once).
const PER_RUN: usize = 200;

/// Finished deliveries kept for the log (the newest).
const KEEP_FINISHED: i64 = 1000;

/// When the registry cannot be read, the alarm comes back after this long.
const D1_RETRY_MS: Millis = 30_000;

/// A delivery to queue (from [`super::emit`]).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Enqueue {
    pub webhook: String,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub body: String,
    pub created_at: Millis,
}

#[derive(Debug, Deserialize)]
struct Row {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    body: String,
    created_at: Millis,
    status: String,
    attempts: i64,
    round: i64,
    last_status: Option<i64>,
    last_error: Option<String>,
    last_latency_ms: Option<i64>,
    last_attempt_at: Option<Millis>,
    next_at: Option<Millis>,
    delivered_at: Option<Millis>,
}

impl Row {
    fn json(&self) -> serde_json::Value {
        json!({
            "id": self.id,
            "type": self.kind,
            "status": self.status,
            "attempts": self.attempts,
            "last_response": self.last_status,
            "last_error": self.last_error,
            "last_latency_ms": self.last_latency_ms,
            "last_attempt_at": self.last_attempt_at.map(iso8601),
            "next_attempt_at": if self.status == "pending" { self.next_at.map(iso8601) } else { None },
            "created_at": iso8601(self.created_at),
            "delivered_at": self.delivered_at.map(iso8601),
        })
    }
}

#[derive(Deserialize)]
struct Hook {
    webhook: String,
    failing_since: Option<Millis>,
}

/// What one attempt came to.
enum Attempt {
    Delivered { status: u16 },
    Failed { status: Option<u16>, error: String },
}

#[durable_object(alarm)]
pub struct WebhookObject {
    state: worker::State,
    env: Env,
    /// The schema was created (once per object, not on every request).
    schema: std::cell::Cell<bool>,
}

fn sql_error(e: worker::Error) -> EdgeError {
    EdgeError::unavailable(
        "the webhook's queue is unavailable; try again",
        e.to_string(),
    )
}

impl WebhookObject {
    fn sql(&self) -> Result<SqlStorage> {
        let sql = self.state.storage().sql();
        if !self.schema.get() {
            sql.exec(SCHEMA, None).map_err(sql_error)?;
            self.schema.set(true);
        }
        Ok(sql)
    }

    fn rows<T: for<'de> Deserialize<'de>>(
        sql: &SqlStorage,
        query: &str,
        binds: Vec<SqlStorageValue>,
    ) -> Result<Vec<T>> {
        sql.exec(query, binds)
            .map_err(sql_error)?
            .to_array()
            .map_err(sql_error)
    }

    fn run(sql: &SqlStorage, query: &str, binds: Vec<SqlStorageValue>) -> Result<usize> {
        Ok(sql.exec(query, binds).map_err(sql_error)?.rows_written())
    }

    fn hook(sql: &SqlStorage) -> Result<Option<Hook>> {
        Ok(Self::rows::<Hook>(
            sql,
            "SELECT webhook, failing_since FROM hook WHERE id = 1",
            vec![],
        )?
        .into_iter()
        .next())
    }

    /// Rings the alarm now unless it is set sooner.
    async fn wake(&self) {
        let storage = self.state.storage();
        let now = now_ms();
        let sooner = matches!(storage.get_alarm().await, Ok(Some(at)) if at <= now);
        if !sooner {
            if let Err(e) = storage.set_alarm(0).await {
                console_error!("webhook: setting the alarm failed: {e}");
            }
        }
    }

    async fn serve(&self, mut req: Request) -> Result<Response> {
        let sql = self.sql()?;
        let path = req.path();
        let method = req.method().to_string();
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (method.as_str(), segments.as_slice()) {
            ("POST", ["enqueue"]) => {
                let d: Enqueue = json_body(&mut req, 4 << 20).await?;
                Self::run(
                    &sql,
                    "INSERT INTO hook (id, webhook) VALUES (1, ?) ON CONFLICT (id) DO NOTHING",
                    vec![d.webhook.as_str().into()],
                )?;
                // Idempotent by id: an event emitted twice is queued once.
                let added = Self::run(
                    &sql,
                    "INSERT OR IGNORE INTO deliveries (id, type, body, created_at, next_at)
                     VALUES (?, ?, ?, ?, ?)",
                    vec![
                        d.id.as_str().into(),
                        d.kind.as_str().into(),
                        d.body.as_str().into(),
                        d.created_at.into(),
                        d.created_at.into(),
                    ],
                )?;
                self.wake().await;
                json_response(202, &json!({ "queued": added > 0 }))
            }
            ("GET", ["deliveries"]) => {
                let url = req.url()?;
                let param = |name: &str| {
                    url.query_pairs()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.into_owned())
                };
                let limit = param("limit")
                    .and_then(|l| l.parse::<i64>().ok())
                    .unwrap_or(100)
                    .clamp(1, 1000);
                let rows: Vec<Row> = match param("status") {
                    Some(status) => Self::rows(
                        &sql,
                        "SELECT * FROM deliveries WHERE status = ? ORDER BY seq DESC LIMIT ?",
                        vec![status.as_str().into(), limit.into()],
                    )?,
                    None => Self::rows(
                        &sql,
                        "SELECT * FROM deliveries ORDER BY seq DESC LIMIT ?",
                        vec![limit.into()],
                    )?,
                };
                let failing_since = Self::hook(&sql)?.and_then(|h| h.failing_since);
                json_response(
                    200,
                    &json!({
                        "deliveries": rows.iter().map(Row::json).collect::<Vec<_>>(),
                        "failing_since": failing_since.map(iso8601),
                    }),
                )
            }
            ("POST", ["retry", id]) => {
                // Back in the queue, at its place by creation, with the whole schedule again.
                let changed = Self::run(
                    &sql,
                    "UPDATE deliveries SET status = 'pending', round = 0, next_at = ?,
                       delivered_at = NULL WHERE id = ?",
                    vec![now_ms().into(), (*id).into()],
                )?;
                if changed == 0 {
                    return Err(EdgeError::api(
                        404,
                        "delivery_not_found",
                        format!("no delivery {id} for this webhook"),
                    ));
                }
                self.wake().await;
                let row: Vec<Row> = Self::rows(
                    &sql,
                    "SELECT * FROM deliveries WHERE id = ?",
                    vec![(*id).into()],
                )?;
                json_response(202, &row.first().map(Row::json).unwrap_or_default())
            }
            ("POST", ["wake"]) => {
                self.wake().await;
                json_response(202, &json!({ "woken": true }))
            }
            ("DELETE", [""]) => {
                self.state.storage().delete_all().await.map_err(sql_error)?;
                json_response(200, &json!({ "deleted": true }))
            }
            _ => Err(EdgeError::api(
                404,
                "not_found",
                "no such route on a webhook",
            )),
        }
    }

    /// One attempt of `row`, signed now, bounded by the timeout.
    async fn attempt(&self, url: &str, secret: &str, row: &Row) -> Attempt {
        let failed = |error: String| Attempt::Failed {
            status: None,
            error,
        };
        let allow = super::allow_private(&self.env);
        if let Err(why) = check_url(url, allow) {
            return failed(why);
        }
        let timestamp = now_ms() / 1000;
        let signature = match sign(secret, &row.id, timestamp, &row.body) {
            Ok(s) => s,
            Err(e) => return failed(e),
        };
        let request = (|| {
            let headers = worker::Headers::new();
            headers.set("content-type", "application/json")?;
            headers.set("user-agent", "Folio-Webhooks/1")?;
            headers.set("webhook-id", &row.id)?;
            headers.set("webhook-timestamp", &timestamp.to_string())?;
            headers.set("webhook-signature", &signature)?;
            let mut init = worker::RequestInit::new();
            init.with_method(worker::Method::Post)
                .with_headers(headers)
                .with_body(Some(row.body.as_str().into()));
            Request::new_with_init(url, &init)
        })();
        let request = match request {
            Ok(r) => r,
            Err(e) => return failed(format!("the request could not be made: {e}")),
        };
        let timeout = self
            .env
            .var("WEBHOOK_TIMEOUT_SECONDS")
            .ok()
            .and_then(|v| v.to_string().parse::<u64>().ok())
            .map_or(TIMEOUT_MS, |s| s * 1000);
        let controller = worker::AbortController::default();
        let signal = controller.signal();
        let fetch = worker::Fetch::Request(request);
        let send = Box::pin(fetch.send_with_signal(&signal));
        let delay = Box::pin(worker::Delay::from(std::time::Duration::from_millis(
            timeout,
        )));
        let raced = futures_util::future::select(send, delay).await;
        let outcome = match raced {
            futures_util::future::Either::Left((Ok(mut response), _)) => {
                let status = response.status_code();
                // The body is read (and dropped) so the connection is released.
                let _ = response.bytes().await;
                if (200..300).contains(&status) {
                    Attempt::Delivered { status }
                } else {
                    Attempt::Failed {
                        status: Some(status),
                        error: format!("answered {status}"),
                    }
                }
            }
            futures_util::future::Either::Left((Err(e), _)) => failed(format!("no answer: {e}")),
            futures_util::future::Either::Right(_) => {
                controller.abort();
                failed(format!("no answer within {} s", timeout / 1000))
            }
        };
        outcome
    }

    /// The alarm: sends what is due, in order, and sets itself for what comes next.
    async fn ring(&self) -> Result<()> {
        let sql = self.sql()?;
        let Some(hook) = Self::hook(&sql)? else {
            return Ok(());
        };
        let storage = self.state.storage();
        let db = d1::db(&self.env).map_err(|e| EdgeError::unavailable("D1", e))?;
        let row = match store::get(&db, &hook.webhook).await {
            Ok(Some(row)) => row,
            Ok(None) => {
                // Deleted: nothing of it is kept.
                storage.delete_all().await.map_err(sql_error)?;
                return Ok(());
            }
            Err(e) => {
                console_error!("webhook {}: reading it from D1: {e}", hook.webhook);
                storage.set_alarm(D1_RETRY_MS).await.map_err(sql_error)?;
                return Ok(());
            }
        };
        if !row.enabled() {
            // Enabling it again wakes it.
            return Ok(());
        }
        let schedule = self
            .env
            .var("WEBHOOK_RETRY_SECONDS")
            .ok()
            .and_then(|v| crate::webhook::parse_schedule(&v.to_string()))
            .unwrap_or_else(|| RETRY_SECONDS.to_vec());
        let disable_after = self
            .env
            .var("WEBHOOK_DISABLE_AFTER_SECONDS")
            .ok()
            .and_then(|v| v.to_string().parse::<i64>().ok())
            .map_or(DISABLE_AFTER_MS, |s| s * 1000);
        let mut failing_since = hook.failing_since;
        for _ in 0..PER_RUN {
            let head: Vec<Row> = Self::rows(
                &sql,
                "SELECT * FROM deliveries WHERE status = 'pending' ORDER BY seq LIMIT 1",
                vec![],
            )?;
            let Some(head) = head.into_iter().next() else {
                Self::run(
                    &sql,
                    "DELETE FROM deliveries WHERE status != 'pending' AND seq <=
                       (SELECT MAX(seq) FROM deliveries) - ?",
                    vec![KEEP_FINISHED.into()],
                )?;
                return Ok(());
            };
            let now = now_ms();
            if let Some(at) = head.next_at.filter(|&at| at > now) {
                storage.set_alarm(at - now).await.map_err(sql_error)?;
                return Ok(());
            }
            let started = now_ms();
            let outcome = self.attempt(&row.url, &row.secret, &head).await;
            let now = now_ms();
            let latency = now - started;
            match outcome {
                Attempt::Delivered { status } => {
                    Self::run(
                        &sql,
                        "UPDATE deliveries SET status = 'delivered', attempts = attempts + 1,
                           last_status = ?, last_error = NULL, last_latency_ms = ?,
                           last_attempt_at = ?, delivered_at = ?, next_at = NULL WHERE id = ?",
                        vec![
                            i64::from(status).into(),
                            latency.into(),
                            now.into(),
                            now.into(),
                            head.id.as_str().into(),
                        ],
                    )?;
                    if failing_since.take().is_some() {
                        Self::run(&sql, "UPDATE hook SET failing_since = NULL", vec![])?;
                    }
                }
                Attempt::Failed { status, error } => {
                    let round = u32::try_from(head.round + 1).unwrap_or(u32::MAX);
                    let (state, next) = match after_failure(round, now, &schedule) {
                        AfterFailure::RetryAt(at) => ("pending", Some(at)),
                        AfterFailure::Failed => ("failed", None),
                    };
                    Self::run(
                        &sql,
                        "UPDATE deliveries SET status = ?, attempts = attempts + 1, round = ?,
                           last_status = ?, last_error = ?, last_latency_ms = ?,
                           last_attempt_at = ?, next_at = ? WHERE id = ?",
                        vec![
                            state.into(),
                            i64::from(round).into(),
                            status.map(i64::from).into(),
                            error.as_str().into(),
                            latency.into(),
                            now.into(),
                            next.into(),
                            head.id.as_str().into(),
                        ],
                    )?;
                    let since = *failing_since.get_or_insert(now);
                    Self::run(
                        &sql,
                        "UPDATE hook SET failing_since = ?",
                        vec![since.into()],
                    )?;
                    if should_disable(Some(since), now, disable_after) {
                        let reason = format!(
                            "disabled: every attempt failed for {} hours (last: {error})",
                            (now - since) / 3_600_000
                        );
                        console_error!("webhook {}: {reason}", row.id);
                        if let Err(e) = store::disable(&db, &row.id, &reason, now).await {
                            console_error!("webhook {}: disabling it: {e}", row.id);
                        }
                        return Ok(());
                    }
                }
            }
        }
        storage.set_alarm(0).await.map_err(sql_error)?;
        Ok(())
    }
}

impl DurableObject for WebhookObject {
    fn new(state: worker::State, env: Env) -> Self {
        Self {
            state,
            env,
            schema: std::cell::Cell::new(false),
        }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        respond(self.serve(req).await)
    }

    async fn alarm(&self) -> worker::Result<Response> {
        if let Err(e) = self.ring().await {
            console_error!("webhook alarm: {e:?}");
            // Back soon; the queue is intact.
            let _ = self.state.storage().set_alarm(D1_RETRY_MS).await;
        }
        Response::ok("done")
    }
}
