//! What a document's object does next, decided here and carried out by the edge: each
//! planner is a pure function (or a small state machine) of what the object knows, returning
//! a plan. Version numbering is [`super::intent::next_version`]; the rest is here:
//!
//! - [`Touch`]: when an edit refreshes the document's registry row in D1;
//! - [`kv`] and [`kv_written`]: whether KV must be written, and what is pending after (a
//!   failed write is retried after `KV_RETRY_MS`);
//! - [`alarm`]: when the object's single alarm must ring next.

use super::intent::Local;
use crate::limits::{KV_WRITE_INTERVAL_MS, TOUCH_INTERVAL_MS};
use crate::time::Millis;

/// When edits refresh the registry row (title, updated time): at most every
/// [`TOUCH_INTERVAL_MS`], with one trailing refresh so the last edits of a burst are never
/// left out, even if the author stays connected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Touch {
    touched_at: Millis,
    /// Edits came since the last refresh.
    dirty: bool,
    /// When the trailing refresh is due (the alarm runs it).
    due: Option<Millis>,
}

/// What to do about the registry row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TouchPlan {
    Nothing,
    /// Refresh it now (then call [`Touch::touched`]).
    Now,
    /// Make sure the alarm rings by then (it refreshes the row).
    AlarmBy(Millis),
}

impl Touch {
    /// An edit was accepted at `now`.
    pub fn edited(&mut self, now: Millis) -> TouchPlan {
        self.dirty = true;
        if now - self.touched_at >= TOUCH_INTERVAL_MS {
            TouchPlan::Now
        } else if self.due.is_none() {
            let due = self.touched_at + TOUCH_INTERVAL_MS;
            self.due = Some(due);
            TouchPlan::AlarmBy(due)
        } else {
            TouchPlan::Nothing
        }
    }

    /// A socket closed: its last edits since the previous refresh go out now.
    pub fn closed(&self) -> TouchPlan {
        if self.dirty {
            TouchPlan::Now
        } else {
            TouchPlan::Nothing
        }
    }

    /// The alarm rang at `now`: the trailing refresh, if it is due and edits came.
    pub fn alarm(&mut self, now: Millis) -> TouchPlan {
        if self.due.is_some_and(|due| due <= now) {
            self.due = None;
            return self.closed();
        }
        TouchPlan::Nothing
    }

    /// The row was refreshed at `now`.
    pub fn touched(&mut self, now: Millis) {
        self.touched_at = now;
        self.dirty = false;
    }
}

/// What KV needs, given the confirmed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvPlan {
    /// KV reflects the record.
    Nothing,
    /// A write is pending but the last one was too recent: come back then.
    Wait(Millis),
    /// Write version `version` under its slug, and delete `stale` (the key of the slug it
    /// was published under before, if it changed) once that is written.
    Post { version: u64, stale: Option<String> },
    /// The document is unpublished: a tombstone under `slug` (readers answer 404 from it
    /// without asking D1).
    Tombstone { slug: String },
    /// Unpublished and never in KV: nothing to write, only mark the record written.
    MarkWritten,
}

/// Whether KV must be written for `local` at `now` (at most one write per
/// [`KV_WRITE_INTERVAL_MS`] per document).
pub fn kv(local: Option<&Local>, now: Millis) -> KvPlan {
    let Some(local) = local.filter(|l| l.kv_pending) else {
        return KvPlan::Nothing;
    };
    if now - local.kv_written_at < KV_WRITE_INTERVAL_MS {
        return KvPlan::Wait(local.kv_written_at + KV_WRITE_INTERVAL_MS);
    }
    if local.published {
        KvPlan::Post {
            version: local.version,
            stale: Some(local.kv_slug.clone()).filter(|s| !s.is_empty() && *s != local.slug),
        }
    } else if !local.kv_slug.is_empty() {
        KvPlan::Tombstone {
            slug: local.kv_slug.clone(),
        }
    } else {
        KvPlan::MarkWritten
    }
}

/// The record after KV was written at `now` from `written` (with `kv_slug` the key now
/// holding the document), given `latest`, the record as it is now (another publish may have
/// changed it meanwhile: a newer version stays pending). Returns it, and when to write again.
pub fn kv_written(latest: &Local, written: &Local, now: Millis) -> (Local, Option<Millis>) {
    let pending = latest.version != written.version || latest.published != written.published;
    let next = Local {
        kv_written_at: now,
        kv_slug: written.kv_slug.clone(),
        kv_pending: pending,
        ..latest.clone()
    };
    (next, pending.then_some(now + KV_WRITE_INTERVAL_MS))
}

/// What the alarm's next time depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlarmInputs {
    /// The earliest pending schedule entry.
    pub schedule: Option<Millis>,
    /// A pending KV write.
    pub kv: Option<Millis>,
    /// The pending (not failed) intent's next attempt.
    pub intent: Option<Millis>,
    /// The earliest token expiry of a connected socket still ahead.
    pub expiry: Option<Millis>,
    /// Webhook work: a `document.updated` window's end, or events to queue again.
    pub webhooks: Option<Millis>,
    /// After a transient failure of the schedule: neither the schedule nor KV bring the alarm
    /// back before this (a failed entry is still due and must not ring it again at once).
    pub not_before: Option<Millis>,
}

/// When the single alarm must ring next; `None`: delete it.
pub fn alarm(inputs: &AlarmInputs) -> Option<Millis> {
    let work = super::schedule::next_alarm(inputs.schedule, inputs.kv)
        .map(|at| inputs.not_before.map_or(at, |floor| at.max(floor)));
    [work, inputs.intent, inputs.expiry, inputs.webhooks]
        .into_iter()
        .flatten()
        .min()
}

/// The earliest of `expiries` after `now`. Past ones are left out: those sockets were closed
/// by the alarm and may linger while closing.
pub fn next_expiry(
    now: Millis,
    expiries: impl IntoIterator<Item = Option<Millis>>,
) -> Option<Millis> {
    expiries.into_iter().flatten().filter(|&at| at > now).min()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_touch_the_registry_at_most_once_per_interval_with_a_trailing_touch() {
        let mut t = Touch::default();
        assert_eq!(t.edited(TOUCH_INTERVAL_MS), TouchPlan::Now);
        t.touched(TOUCH_INTERVAL_MS);
        assert_eq!(t.closed(), TouchPlan::Nothing, "nothing new since");
        let start = TOUCH_INTERVAL_MS;
        // Within the window: one alarm for the trailing touch, then nothing more.
        assert_eq!(
            t.edited(start + 1),
            TouchPlan::AlarmBy(start + TOUCH_INTERVAL_MS)
        );
        assert_eq!(t.edited(start + 2), TouchPlan::Nothing);
        assert_eq!(t.alarm(start + 5), TouchPlan::Nothing, "not due yet");
        assert_eq!(t.alarm(start + TOUCH_INTERVAL_MS), TouchPlan::Now);
        t.touched(start + TOUCH_INTERVAL_MS);
        assert_eq!(t.alarm(start + 3 * TOUCH_INTERVAL_MS), TouchPlan::Nothing);
        // A socket closing sends the edits since the last touch.
        assert_eq!(
            t.edited(start + TOUCH_INTERVAL_MS + 1),
            TouchPlan::AlarmBy(start + 2 * TOUCH_INTERVAL_MS)
        );
        assert_eq!(t.closed(), TouchPlan::Now);
        t.touched(start + TOUCH_INTERVAL_MS + 2);
        // The due alarm then finds nothing new.
        assert_eq!(t.alarm(start + 2 * TOUCH_INTERVAL_MS), TouchPlan::Nothing);
    }

    fn local(
        version: u64,
        published: bool,
        slug: &str,
        kv_slug: &str,
        written_at: Millis,
    ) -> Local {
        Local {
            doc_id: "d".into(),
            version,
            slug: slug.into(),
            published,
            kv_slug: kv_slug.into(),
            kv_written_at: written_at,
            kv_pending: true,
            ..Local::default()
        }
    }

    #[test]
    fn kv_is_written_once_a_second_with_the_old_slug_deleted_or_a_tombstone() {
        assert_eq!(kv(None, 0), KvPlan::Nothing);
        let done = Local {
            kv_pending: false,
            ..local(1, true, "a", "a", 0)
        };
        assert_eq!(kv(Some(&done), 5_000), KvPlan::Nothing);
        let recent = local(2, true, "a", "a", 10_000);
        assert_eq!(
            kv(Some(&recent), 10_500),
            KvPlan::Wait(10_000 + KV_WRITE_INTERVAL_MS)
        );
        assert_eq!(
            kv(Some(&recent), 11_000),
            KvPlan::Post {
                version: 2,
                stale: None
            }
        );
        let renamed = local(3, true, "b", "a", 0);
        assert_eq!(
            kv(Some(&renamed), 5_000),
            KvPlan::Post {
                version: 3,
                stale: Some("a".into())
            }
        );
        let first = local(1, true, "a", "", 0);
        assert_eq!(
            kv(Some(&first), 5_000),
            KvPlan::Post {
                version: 1,
                stale: None
            }
        );
        let down = local(3, false, "b", "b", 0);
        assert_eq!(
            kv(Some(&down), 5_000),
            KvPlan::Tombstone { slug: "b".into() }
        );
        let never = local(0, false, "", "", 0);
        assert_eq!(kv(Some(&never), 5_000), KvPlan::MarkWritten);
    }

    #[test]
    fn a_publish_during_a_kv_write_stays_pending() {
        let written = local(2, true, "a", "a", 0);
        let (same, next) = kv_written(&written, &written, 7_000);
        assert_eq!(
            (same.kv_pending, same.kv_written_at, next),
            (false, 7_000, None)
        );
        let newer = local(3, true, "a", "a", 0);
        let (after, next) = kv_written(&newer, &written, 7_000);
        assert_eq!((after.version, after.kv_pending), (3, true));
        assert_eq!(next, Some(7_000 + KV_WRITE_INTERVAL_MS));
        let unpublished = local(2, false, "a", "a", 0);
        assert!(kv_written(&unpublished, &written, 7_000).0.kv_pending);
    }

    #[test]
    fn the_alarm_rings_for_the_earliest_need_after_a_backoff_floor() {
        assert_eq!(alarm(&AlarmInputs::default()), None);
        let inputs = AlarmInputs {
            schedule: Some(100),
            kv: Some(50),
            ..Default::default()
        };
        assert_eq!(alarm(&inputs), Some(50));
        // A failed entry backs off: schedule and KV wait, the intent and expiries do not.
        let backoff = AlarmInputs {
            not_before: Some(2_000),
            ..inputs.clone()
        };
        assert_eq!(alarm(&backoff), Some(2_000));
        let intent = AlarmInputs {
            intent: Some(1_000),
            ..backoff.clone()
        };
        assert_eq!(alarm(&intent), Some(1_000));
        let expiry = AlarmInputs {
            expiry: Some(700),
            ..intent
        };
        assert_eq!(alarm(&expiry), Some(700));
        // A document.updated window ends before: it is not held back by the backoff either.
        let updated = AlarmInputs {
            webhooks: Some(600),
            ..expiry
        };
        assert_eq!(alarm(&updated), Some(600));
        assert_eq!(
            next_expiry(10, [None, Some(5), Some(30), Some(20)]),
            Some(20)
        );
        assert_eq!(next_expiry(10, [Some(10)]), None);
    }
}
