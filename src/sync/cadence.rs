//! When a room flushes what it queued: the coalescing cadence ([`Cadence`]), a token bucket
//! over flushes whose interval grows with the number of receivers (see `limits.rs` for the
//! measurements behind its constants).

use crate::limits::{
    FLUSH_BURST, FLUSH_MAX_MS, FLUSH_MIN_MS, FLUSH_SENDS_PER_SEC, PRESENCE_MAX_MS,
    PRESENCE_SENDS_PER_SEC,
};

/// When to flush: at once while flushes come no faster than one per [`Cadence::interval`] on
/// average (with a burst of [`FLUSH_BURST`]), so light load adds no delay; under load, one
/// flush per interval, each carrying what arrived meanwhile. A token bucket, kept as the
/// time the next flush would be due at the sustained rate (the "generic cell rate
/// algorithm"), in whole milliseconds. Presence alone (awareness, no document update) also
/// waits [`Cadence::presence_interval`] after the last flush: hundreds of viewers renewing
/// their presence would otherwise fill every flush slot with sends to everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cadence {
    /// When the next flush is due at the sustained rate (ms); flushes may run ahead of it by
    /// up to `FLUSH_BURST - 1` intervals.
    next_ms: i64,
    /// When presence alone may be flushed next (ms).
    presence_ms: i64,
    /// The earliest timer set and not yet run (ms).
    due_ms: Option<i64>,
}

/// What [`Cadence::queued`] asks of the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Flush now.
    Now,
    /// Flush at this time (ms): set a timer for it.
    At(i64),
    /// A flush is already due; nothing to do.
    Pending,
}

impl Cadence {
    /// The least time between two flushes to `receivers` connections (ms): a flush costs one
    /// send per receiver (see [`FLUSH_SENDS_PER_SEC`]).
    pub fn interval(receivers: usize) -> i64 {
        let receivers = i64::try_from(receivers).unwrap_or(i64::MAX);
        (receivers.saturating_mul(1000) / FLUSH_SENDS_PER_SEC).clamp(FLUSH_MIN_MS, FLUSH_MAX_MS)
    }

    /// The least time between two flushes of presence alone to `receivers` connections (ms):
    /// presence has its own, larger budget of sends ([`PRESENCE_SENDS_PER_SEC`]).
    pub fn presence_interval(receivers: usize) -> i64 {
        let receivers = i64::try_from(receivers).unwrap_or(i64::MAX);
        (receivers.saturating_mul(1000) / PRESENCE_SENDS_PER_SEC)
            .clamp(FLUSH_MIN_MS, PRESENCE_MAX_MS)
    }

    /// Something was queued at `now_ms`, for `receivers` connections: a document update
    /// (`urgent`) or presence alone.
    pub fn queued(&mut self, now_ms: i64, receivers: usize, urgent: bool) -> When {
        let ahead = (FLUSH_BURST - 1) * Cadence::interval(receivers);
        let mut allowed = self.next_ms.saturating_sub(ahead);
        if !urgent {
            allowed = allowed.max(self.presence_ms);
        }
        if now_ms >= allowed {
            When::Now
        } else if self.due_ms.is_some_and(|due| due <= allowed) {
            When::Pending
        } else {
            self.due_ms = Some(allowed);
            When::At(allowed)
        }
    }

    /// A flush to `receivers` connections ran at `now_ms`.
    pub fn flushed(&mut self, now_ms: i64, receivers: usize) {
        self.next_ms = self.next_ms.max(now_ms) + Cadence::interval(receivers);
        self.presence_ms = now_ms + Cadence::presence_interval(receivers);
        self.due_ms = None;
    }

    /// A timer ran at `now_ms` and found nothing to flush (an earlier flush took it all).
    pub fn fired(&mut self, now_ms: i64) {
        if self.due_ms.is_some_and(|due| due <= now_ms) {
            self.due_ms = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cadence_flushes_at_once_within_its_burst_then_once_per_interval() {
        let mut c = Cadence::default();
        let interval = Cadence::interval(10);
        // A burst goes out at once, flush by flush.
        for _ in 0..FLUSH_BURST {
            assert_eq!(c.queued(1_000, 10, true), When::Now);
            c.flushed(1_000, 10);
        }
        // Then one timer, an interval after the burst's share of time.
        assert_eq!(c.queued(1_001, 10, true), When::At(1_000 + interval));
        assert_eq!(c.queued(1_002, 10, true), When::Pending);
        assert!(c.due_ms.is_some());
        c.flushed(1_000 + interval, 10);
        assert!(c.due_ms.is_none());
        // At the sustained rate, one flush per interval, each at once.
        let mut t = 5_000;
        for _ in 0..100 {
            assert_eq!(c.queued(t, 10, true), When::Now);
            c.flushed(t, 10);
            t += interval;
        }
        // Under load the flushes come one interval apart.
        let mut flushes = 0;
        for now in t..t + 100 * interval {
            match c.queued(now, 10, true) {
                When::Now => c.flushed(now, 10),
                When::At(at) if at == now => c.flushed(now, 10),
                When::At(_) | When::Pending if c.due_ms == Some(now) => c.flushed(now, 10),
                _ => continue,
            }
            flushes += 1;
        }
        assert!((100..=100 + FLUSH_BURST).contains(&flushes), "{flushes}");
    }

    #[test]
    fn presence_alone_waits_its_own_interval_but_an_edit_does_not() {
        let mut c = Cadence::default();
        assert_eq!(c.queued(1_000, 200, false), When::Now);
        c.flushed(1_000, 200);
        let wait = Cadence::presence_interval(200);
        assert_eq!(wait, 200);
        // Presence alone: a timer at the end of its interval.
        assert_eq!(c.queued(1_010, 200, false), When::At(1_000 + wait));
        assert_eq!(c.queued(1_020, 200, false), When::Pending);
        // An edit comes earlier: an earlier timer (the bucket still has room: at once).
        assert_eq!(c.queued(1_030, 200, true), When::Now);
        c.flushed(1_030, 200);
        // The presence timer finds nothing left and is forgotten.
        c.fired(1_000 + wait);
        assert_eq!(c.queued(1_300, 200, false), When::Now);
        // An edit while only presence is due, with the bucket empty: the earlier of the two.
        let mut c = Cadence::default();
        for _ in 0..FLUSH_BURST {
            c.flushed(5_000, 200);
        }
        let presence = c.queued(5_001, 200, false);
        assert_eq!(presence, When::At(5_000 + wait));
        let edit = c.queued(5_002, 200, true);
        assert_eq!(edit, When::At(5_000 + Cadence::interval(200)));
        assert_eq!(c.queued(5_003, 200, false), When::Pending);
    }

    #[test]
    fn the_interval_grows_with_the_receivers_within_bounds() {
        assert_eq!(Cadence::interval(0), FLUSH_MIN_MS);
        assert_eq!(Cadence::interval(2), FLUSH_MIN_MS);
        assert_eq!(Cadence::interval(10), 20);
        assert_eq!(Cadence::interval(50), FLUSH_MAX_MS);
        assert_eq!(Cadence::interval(usize::MAX), FLUSH_MAX_MS);
        let sends_per_sec = |r: usize| r as i64 * 1000 / Cadence::interval(r);
        assert!((1..=20).all(|r| sends_per_sec(r) <= FLUSH_SENDS_PER_SEC));
    }
}
