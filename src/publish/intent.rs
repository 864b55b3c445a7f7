//! Publishing as a write-ahead intent, pure: what a publish or unpublish must write, recorded
//! in the document's own storage before anything leaves it, then driven until D1 has it.
//!
//! # Rules
//! - **Intent first.** A publish records the exact [`Post`] it will write (an unpublish, the
//!   version it takes down) and arms the recovery alarm *before* the first write to D1. Until
//!   D1 confirms, the intent stays; the alarm, or the same request retried, drives it again.
//!   The confirmed record ([`Local`]) changes only in the same local write that ends the
//!   intent, so it never claims what D1 does not have.
//! - **A version number is given to one content only.** The next number is above the
//!   confirmed one, the pending intent's and the highest D1 holds, so a number that may have
//!   reached D1 (a batch that committed but reported an error) is never reused. D1 answers
//!   each write with the hash stored under the number; a different hash fails loudly and
//!   nothing points at it.
//! - **Failures are classified.** A permanent one (a row or value too large, a constraint, a
//!   taken slug, a hash conflict) is not retried: the intent is kept as *failed*, visible,
//!   until the author retries, cancels or publishes again. A transient one backs off
//!   exponentially ([`backoff_ms`]), capped.
//! - **Newest wins.** A new publish or unpublish, or a due scheduled entry, replaces a pending
//!   or failed intent; the replaced version number stays spent.
//! - **A scheduled entry runs once.** It is consumed in the same local write that records its
//!   intent (and logged), so a crash either leaves it pending or leaves its intent.
//! - KV follows the confirmed record ([`Local::kv_pending`], written with it) and is brought
//!   up to date by the object afterwards, retried by the alarm; it is not part of the intent.

use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::limits::{PUBLISH_RETRY_BASE_MS, PUBLISH_RETRY_MAX_MS};
use crate::publish::{Action, Post, Rendered};

/// The object's confirmed record of its latest version: what D1 is known to hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Local {
    pub doc_id: String,
    pub version: u64,
    pub content_hash: String,
    pub slug: String,
    pub published: bool,
    pub published_at: i64,
    pub first_published_at: i64,
    /// The slug whose KV entry holds this document (empty when none).
    pub kv_slug: String,
    pub kv_written_at: i64,
    /// KV does not reflect this record yet.
    pub kv_pending: bool,
}

/// A publish or unpublish on its way to D1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intent {
    pub doc_id: String,
    pub action: Action,
    /// Publish: the version being written. Unpublish: the confirmed version taken down.
    pub version: u64,
    pub content_hash: String,
    pub slug: String,
    /// The scheduled entry this intent carries out, if any.
    pub entry: Option<u64>,
    pub created_at: i64,
    /// Failed attempts so far.
    pub attempts: u32,
    /// When the alarm drives it next (ms).
    pub next_at: i64,
    /// The last failure, if any.
    pub problem: Option<Problem>,
    /// The last failure was permanent: not retried until the author asks.
    pub failed: bool,
}

impl Intent {
    /// A new intent, due for recovery [`RECOVERY_MS`] from `now` if nothing completes it.
    pub fn new(doc_id: &str, action: Action, version: u64, now: i64) -> Intent {
        Intent {
            doc_id: doc_id.to_string(),
            action,
            version,
            content_hash: String::new(),
            slug: String::new(),
            entry: None,
            created_at: now,
            attempts: 0,
            next_at: now + RECOVERY_MS,
            problem: None,
            failed: false,
        }
    }
}

/// Why an attempt failed, as the author sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// HTTP status a request answering with this problem uses.
    pub status: u16,
    pub code: String,
    pub message: String,
    pub permanent: bool,
}

impl Problem {
    pub fn permanent(status: u16, code: &str, message: impl Into<String>) -> Self {
        Problem {
            status,
            code: code.to_string(),
            message: message.into(),
            permanent: true,
        }
    }

    pub fn transient(message: impl Into<String>) -> Self {
        Problem {
            status: 503,
            code: "unavailable".into(),
            message: message.into(),
            permanent: false,
        }
    }

    pub fn slug_taken(slug: &str) -> Self {
        Problem::permanent(
            409,
            "slug_taken",
            format!("slug '{slug}' belongs to another document"),
        )
    }
}

/// A core error as the author sees it: permanent when it is the request's fault.
impl From<crate::error::Error> for Problem {
    fn from(e: crate::error::Error) -> Self {
        let (status, code) = e.http_status();
        Problem {
            status,
            code: code.to_string(),
            message: e.to_string(),
            permanent: status < 500,
        }
    }
}

/// Whether a store's failure is permanent for this publish or worth retrying: by the kind its
/// adapter sorted it into. Anything not known to be permanent is transient: retrying costs
/// little, dropping an author's publish costs much.
pub fn classify(error: &StoreError) -> Problem {
    match error {
        // Raced another document to the slug between the check and the write.
        StoreError::Unique { column, .. } if column == "slug" => Problem {
            message: "the slug belongs to another document".into(),
            ..Problem::slug_taken("")
        },
        StoreError::TooBig(detail) => Problem::permanent(
            413,
            "too_large",
            format!("the store refused the post as too large: {detail}"),
        ),
        StoreError::Unique { detail, .. } | StoreError::Constraint(detail) => Problem::permanent(
            409,
            "constraint",
            format!("the store refused the post: {detail}"),
        ),
        StoreError::Unavailable(detail) | StoreError::Unexpected(detail) => {
            Problem::transient(format!("the post store is unavailable: {detail}"))
        }
    }
}

/// Delay before retry `attempts` (1 = after the first failure): doubling from
/// [`PUBLISH_RETRY_BASE_MS`] up to [`PUBLISH_RETRY_MAX_MS`].
pub fn backoff_ms(attempts: u32) -> i64 {
    let doublings = attempts.saturating_sub(1).min(20);
    PUBLISH_RETRY_BASE_MS
        .saturating_mul(1 << doublings)
        .min(PUBLISH_RETRY_MAX_MS)
}

/// What D1 says before a publish: who holds the slug, and the highest version it has of this
/// document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stored {
    pub slug_owner: Option<String>,
    pub max_version: u64,
}

/// The version a publish of `hash` gets. Republishing the confirmed content keeps its number
/// (unless D1 holds a later one); anything else takes a number no one has used.
pub fn next_version(
    local: Option<&Local>,
    pending: Option<&Intent>,
    d1_max: u64,
    hash: &str,
) -> u64 {
    let confirmed = local.map_or(0, |l| l.version);
    if let Some(l) = local {
        let unspent = pending.is_none_or(|p| p.action != Action::Publish || p.version <= l.version);
        if l.version > 0 && l.content_hash == hash && l.version >= d1_max && unspent {
            return l.version;
        }
    }
    let spent = pending
        .filter(|p| p.action == Action::Publish)
        .map_or(0, |p| p.version);
    confirmed.max(spent).max(d1_max) + 1
}

/// A named point of a publish, unpublish or restore where a crash is injected in tests (see
/// [`Journal::checkpoint`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The intent is recorded and the alarm armed; nothing is in D1 yet.
    Recorded,
    /// D1 has the change; the local record does not know yet.
    Written,
    /// The local record has the change; KV does not yet.
    Committed,
}

impl Step {
    pub fn name(self, action: Action) -> &'static str {
        match (action, self) {
            (Action::Publish, Step::Recorded) => "publish.recorded",
            (Action::Publish, Step::Written) => "publish.written",
            (Action::Publish, Step::Committed) => "publish.committed",
            (Action::Unpublish, Step::Recorded) => "unpublish.recorded",
            (Action::Unpublish, Step::Written) => "unpublish.written",
            (Action::Unpublish, Step::Committed) => "unpublish.committed",
        }
    }

    /// Every step name, for the fault switch's validation.
    pub const NAMES: [&'static str; 7] = [
        "publish.recorded",
        "publish.written",
        "publish.committed",
        "unpublish.recorded",
        "unpublish.written",
        "unpublish.committed",
        "restore.fetched",
    ];
}

/// The document's own durable storage of the intent and the confirmed record. Every method
/// is one local write (atomic in a Durable Object: no await inside).
pub trait Journal {
    fn local(&self) -> Result<Option<Local>, StoreError>;
    fn intent(&self) -> Result<Option<Intent>, StoreError>;
    /// The exact post of the pending publish intent.
    fn intent_post(&self) -> Result<Option<Post>, StoreError>;
    /// Records `intent` (replacing any), with its post; consumes and logs its scheduled entry.
    fn record(&mut self, intent: &Intent, post: Option<&Post>) -> Result<(), StoreError>;
    /// Saves a changed intent (a failed attempt).
    fn update(&mut self, intent: &Intent) -> Result<(), StoreError>;
    /// Removes the intent and writes the confirmed record, in one write.
    fn complete(&mut self, local: &Local) -> Result<(), StoreError>;
    /// Removes a failed intent.
    fn discard(&mut self) -> Result<(), StoreError>;
    /// Consumes and logs a scheduled entry that needed no intent.
    fn consume_entry(&mut self, entry: u64, action: Action, version: u64)
        -> Result<(), StoreError>;
    /// A named step was reached. Tests crash here (an `Err` stops the drive as a crash would).
    fn checkpoint(&mut self, step: &str) -> Result<(), StoreError>;
}

/// What an intent is written to: D1, and the alarm that drives it again after a crash.
#[allow(async_fn_in_trait)] // single-threaded wasm: no Send bound is wanted
pub trait World {
    async fn stored(&mut self, doc_id: &str, slug: &str) -> Result<Stored, StoreError>;
    /// Writes `post` (idempotently); returns the content hash D1 holds under its version.
    async fn write_post(&mut self, post: &Post) -> Result<Option<String>, StoreError>;
    /// Marks the document's post unpublished.
    async fn write_unpublish(&mut self, doc_id: &str) -> Result<(), StoreError>;
    /// Makes the alarm fire no later than `at`.
    async fn arm(&mut self, at: i64) -> Result<(), StoreError>;
}

/// How long after recording an intent its recovery alarm fires, if nothing completes it.
pub const RECOVERY_MS: i64 = 5_000;

/// The result of a drive.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// D1 has it; the confirmed record now says so.
    Done(Local),
    /// Nothing was pending.
    Idle,
    /// It failed; the intent is kept (retried later unless `permanent`).
    Failed(Problem),
}

fn local_failure(e: StoreError) -> Problem {
    Problem::transient(format!("the document's storage failed: {e}"))
}

/// A publish D1 confirmed.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    pub local: Local,
    /// A new version was made (not the confirmed one returned again).
    pub created: bool,
    /// The post this call wrote, so KV can be written without reading it back from D1
    /// (`None` when it wrote nothing, or drove an intent recorded earlier).
    pub post: Option<Post>,
}

/// Publishes `rendered` for `doc_id` (for scheduled entry `entry`, if any): decides the
/// version, records the intent, drives it. Content equal to the published version confirms
/// that version (`created: false`).
pub async fn publish(
    journal: &mut impl Journal,
    world: &mut impl World,
    doc_id: &str,
    rendered: Rendered,
    entry: Option<u64>,
    now: i64,
) -> Result<Published, Problem> {
    let local = journal.local().map_err(local_failure)?;
    let pending = journal.intent().map_err(local_failure)?;
    let hash = rendered.content_hash.clone();
    // The same publish asked again (a retried request, or a scheduled entry for the content
    // already on its way): drive the recorded intent.
    if let Some(p) = pending
        .as_ref()
        .filter(|p| p.action == Action::Publish && !p.failed && p.content_hash == hash)
    {
        let version = p.version;
        if let Some(entry) = entry {
            journal
                .consume_entry(entry, Action::Publish, version)
                .map_err(local_failure)?;
        }
        return match drive(journal, world, now).await {
            Outcome::Done(local) => Ok(Published {
                local,
                created: true,
                post: None,
            }),
            Outcome::Idle => Err(Problem::transient(format!(
                "version {version} was not confirmed; try again"
            ))),
            Outcome::Failed(p) => Err(p),
        };
    }
    if pending.is_none() {
        if let Some(l) = local
            .as_ref()
            .filter(|l| l.published && l.content_hash == hash)
        {
            if let Some(entry) = entry {
                journal
                    .consume_entry(entry, Action::Publish, l.version)
                    .map_err(local_failure)?;
            }
            return Ok(Published {
                local: l.clone(),
                created: false,
                post: None,
            });
        }
    }
    let stored = world
        .stored(doc_id, &rendered.slug)
        .await
        .map_err(|e| classify(&e))?;
    let version = next_version(local.as_ref(), pending.as_ref(), stored.max_version, &hash);
    let intent = Intent {
        content_hash: hash,
        slug: rendered.slug.clone(),
        entry,
        ..Intent::new(doc_id, Action::Publish, version, now)
    };
    let taken = stored.slug_owner.filter(|owner| owner != doc_id).is_some();
    let (published_at, first) = match &local {
        Some(l) if l.version == version => (l.published_at, l.first_published_at),
        Some(l) if l.first_published_at > 0 => (now, l.first_published_at),
        _ => (now, now),
    };
    let post = Post::new(doc_id, version, rendered, published_at, first);
    if taken {
        let problem = Problem::slug_taken(&post.content.slug);
        if entry.is_some() {
            // A scheduled publish that cannot happen: kept as failed, for the author to see.
            let failed = Intent {
                problem: Some(problem.clone()),
                failed: true,
                ..intent
            };
            journal
                .record(&failed, Some(&post))
                .map_err(local_failure)?;
        }
        return Err(problem);
    }
    world.arm(intent.next_at).await.map_err(local_failure)?;
    journal
        .record(&intent, Some(&post))
        .map_err(local_failure)?;
    journal
        .checkpoint(Step::Recorded.name(Action::Publish))
        .map_err(local_failure)?;
    match drive(journal, world, now).await {
        Outcome::Done(l) => Ok(Published {
            created: local.is_none_or(|old| old.version != l.version),
            local: l,
            post: Some(post),
        }),
        Outcome::Idle => Err(Problem::transient("the publish was not recorded")),
        Outcome::Failed(p) => Err(p),
    }
}

/// Takes the document's post down (for scheduled entry `entry`, if any).
pub async fn unpublish(
    journal: &mut impl Journal,
    world: &mut impl World,
    doc_id: &str,
    entry: Option<u64>,
    now: i64,
) -> Result<Local, Problem> {
    let local = journal.local().map_err(local_failure)?;
    let pending = journal.intent().map_err(local_failure)?;
    let pending_publish = pending.as_ref().filter(|p| p.action == Action::Publish);
    if local.is_none() && pending_publish.is_none() {
        let problem = Problem::permanent(409, "not_published", "this document was never published");
        if let (Some(entry), Some(p)) = (entry, pending.as_ref()) {
            // A pending unpublish already covers it.
            journal
                .consume_entry(entry, Action::Unpublish, p.version)
                .map_err(local_failure)?;
            return drive_to_local(journal, world, now).await;
        }
        if let Some(entry) = entry {
            journal
                .consume_entry(entry, Action::Unpublish, 0)
                .map_err(local_failure)?;
        }
        return Err(problem);
    }
    let retried = pending
        .as_ref()
        .is_some_and(|p| p.action == Action::Unpublish && !p.failed && entry.is_none());
    if !retried {
        let base = local.clone().unwrap_or_default();
        let intent = Intent {
            content_hash: base.content_hash.clone(),
            slug: base.slug.clone(),
            entry,
            ..Intent::new(doc_id, Action::Unpublish, base.version, now)
        };
        world.arm(intent.next_at).await.map_err(local_failure)?;
        journal.record(&intent, None).map_err(local_failure)?;
        journal
            .checkpoint(Step::Recorded.name(Action::Unpublish))
            .map_err(local_failure)?;
    }
    drive_to_local(journal, world, now).await
}

async fn drive_to_local(
    journal: &mut impl Journal,
    world: &mut impl World,
    now: i64,
) -> Result<Local, Problem> {
    match drive(journal, world, now).await {
        Outcome::Done(l) => Ok(l),
        Outcome::Idle => journal
            .local()
            .map_err(local_failure)?
            .ok_or_else(|| Problem::transient("the unpublish was not recorded")),
        Outcome::Failed(p) => Err(p),
    }
}

/// Drives the pending intent once: writes it to D1 and, once D1 confirms, ends it in the
/// confirmed record. A failed intent is left alone (see [`retry`]).
pub async fn drive(journal: &mut impl Journal, world: &mut impl World, now: i64) -> Outcome {
    let intent = match journal.intent() {
        Ok(Some(i)) if !i.failed => i,
        Ok(_) => return Outcome::Idle,
        Err(e) => return Outcome::Failed(local_failure(e)),
    };
    match attempt(journal, world, &intent).await {
        Ok(local) => Outcome::Done(local),
        // A crash writes nothing more: what is recorded is what recovery starts from.
        Err(Stop::Crashed(problem)) => Outcome::Failed(problem),
        Err(Stop::Failed(problem)) => {
            let attempts = intent.attempts.saturating_add(1);
            let failed = Intent {
                attempts,
                next_at: now + backoff_ms(attempts),
                problem: Some(problem.clone()),
                failed: problem.permanent,
                ..intent
            };
            // Before the retry is recorded, make sure the alarm will come for it (a failed
            // permanent intent needs none).
            if !failed.failed {
                let _ = world.arm(failed.next_at).await;
            }
            if let Err(e) = journal.update(&failed) {
                return Outcome::Failed(local_failure(e));
            }
            Outcome::Failed(problem)
        }
    }
}

/// Why an attempt stopped.
enum Stop {
    /// It failed: the intent records the failure.
    Failed(Problem),
    /// A crash was injected at a checkpoint: nothing more is written.
    Crashed(Problem),
}

impl From<Problem> for Stop {
    fn from(p: Problem) -> Self {
        Stop::Failed(p)
    }
}

fn crashed(e: StoreError) -> Stop {
    Stop::Crashed(local_failure(e))
}

async fn attempt(
    journal: &mut impl Journal,
    world: &mut impl World,
    intent: &Intent,
) -> Result<Local, Stop> {
    let old = journal.local().map_err(local_failure)?;
    let action = intent.action;
    let local = match action {
        Action::Publish => {
            let post = journal
                .intent_post()
                .map_err(local_failure)?
                .ok_or_else(|| {
                    local_failure(StoreError::Unexpected(
                        "the intent's post is missing".into(),
                    ))
                })?;
            let stored = world.write_post(&post).await.map_err(|e| classify(&e))?;
            if stored.as_deref() != Some(post.content.content_hash.as_str()) {
                return Err(Stop::Failed(Problem::permanent(
                    500,
                    "version_conflict",
                    format!(
                        "D1 holds other content under version {} of {} (hash {:?}, expected {}); \
                         publish again to take a new version",
                        post.version, post.doc_id, stored, post.content.content_hash
                    ),
                )));
            }
            let old = old.unwrap_or_default();
            Local {
                doc_id: post.doc_id.clone(),
                version: post.version,
                content_hash: post.content.content_hash.clone(),
                slug: post.content.slug.clone(),
                published: true,
                published_at: post.published_at,
                first_published_at: post.first_published_at,
                kv_slug: old.kv_slug,
                kv_written_at: old.kv_written_at,
                kv_pending: true,
            }
        }
        Action::Unpublish => {
            let base = old.unwrap_or_default();
            world
                .write_unpublish(&intent.doc_id)
                .await
                .map_err(|e| classify(&e))?;
            Local {
                doc_id: intent.doc_id.clone(),
                published: false,
                kv_pending: true,
                ..base
            }
        }
    };
    journal
        .checkpoint(Step::Written.name(action))
        .map_err(crashed)?;
    journal.complete(&local).map_err(local_failure)?;
    journal
        .checkpoint(Step::Committed.name(action))
        .map_err(crashed)?;
    Ok(local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_cap() {
        assert_eq!(backoff_ms(1), PUBLISH_RETRY_BASE_MS);
        assert_eq!(backoff_ms(2), 2 * PUBLISH_RETRY_BASE_MS);
        assert_eq!(backoff_ms(3), 4 * PUBLISH_RETRY_BASE_MS);
        assert_eq!(backoff_ms(40), PUBLISH_RETRY_MAX_MS);
        assert_eq!(backoff_ms(u32::MAX), PUBLISH_RETRY_MAX_MS);
    }

    #[test]
    fn classifies_d1_errors() {
        // As D1 reports them, sorted by the adapter's one reader of messages.
        let c = |e: &str| classify(&StoreError::from_message(e));
        assert_eq!(
            c("D1_ERROR: string or blob too big: SQLITE_TOOBIG").code,
            "too_large"
        );
        assert_eq!(
            c("UNIQUE constraint failed: posts.slug: SQLITE_CONSTRAINT").code,
            "slug_taken"
        );
        assert_eq!(
            c("CHECK constraint failed: SQLITE_CONSTRAINT").code,
            "constraint"
        );
        let t = c("D1_ERROR: Network connection lost.");
        assert!(!t.permanent);
        assert_eq!(t.status, 503);
        // A uniqueness on another column is no slug race.
        assert_eq!(
            c("UNIQUE constraint failed: versions.doc_id, versions.version").code,
            "constraint"
        );
    }

    fn local(version: u64, hash: &str) -> Local {
        Local {
            version,
            content_hash: hash.into(),
            published: true,
            ..Local::default()
        }
    }

    #[test]
    fn version_numbers_are_never_reused() {
        // First publish.
        assert_eq!(next_version(None, None, 0, "a"), 1);
        // Same content as the confirmed version: same number.
        assert_eq!(next_version(Some(&local(3, "a")), None, 3, "a"), 3);
        // New content: the next number.
        assert_eq!(next_version(Some(&local(3, "a")), None, 3, "b"), 4);
        // D1 holds a later number the object never confirmed (an ambiguous failure).
        assert_eq!(next_version(Some(&local(3, "a")), None, 4, "b"), 5);
        assert_eq!(next_version(Some(&local(3, "a")), None, 4, "a"), 5);
        // A pending intent spent number 4, even if D1 never saw it.
        let pending = Intent {
            content_hash: "b".into(),
            ..Intent::new("d", Action::Publish, 4, 0)
        };
        assert_eq!(
            next_version(Some(&local(3, "a")), Some(&pending), 3, "c"),
            5
        );
        assert_eq!(
            next_version(Some(&local(3, "a")), Some(&pending), 3, "a"),
            5
        );
    }
}
