//! Per-client request limits for the author HTTP endpoints: a token bucket per client key.
//!
//! The stateless worker keeps one [`Throttle`] per isolate. Cloudflare runs many isolates, so
//! in production this bounds each client per isolate (a client hammering one edge location
//! lands on few of them); it is the cheap first line, not a global quota.

use std::collections::HashMap;

use crate::limits::{MAX_THROTTLED_CLIENTS, PENALTY_BASE_MS, PENALTY_FORGIVE_MS, PENALTY_MAX_MS};

/// A token bucket: `rate` per second, up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bucket {
    tokens: f64,
    at_ms: i64,
}

/// Token buckets by client key, bounded in number.
#[derive(Debug)]
pub struct Throttle {
    rate: f64,
    burst: f64,
    max_clients: usize,
    buckets: HashMap<String, Bucket>,
}

impl Throttle {
    /// `rate` requests per second sustained, `burst` at once, at most `max_clients` tracked.
    pub fn new(rate: f64, burst: f64, max_clients: usize) -> Self {
        Throttle {
            rate,
            burst,
            max_clients,
            buckets: HashMap::new(),
        }
    }

    /// Takes one request for `key` at `now_ms`.
    ///
    /// # Errors
    /// The whole seconds to wait before the next request is allowed (`Retry-After`, ≥ 1).
    pub fn take(&mut self, key: &str, now_ms: i64) -> Result<(), u64> {
        if !self.buckets.contains_key(key) && self.buckets.len() >= self.max_clients {
            self.forget_idle(now_ms);
        }
        let (rate, burst) = (self.rate, self.burst);
        let bucket = self.buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: burst,
            at_ms: now_ms,
        });
        let elapsed = (now_ms - bucket.at_ms).max(0) as f64 / 1000.0;
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.at_ms = now_ms;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err((((1.0 - bucket.tokens) / rate).ceil() as u64).max(1))
        }
    }

    /// Drops buckets that have refilled (their clients are idle); if none have, drops all:
    /// memory stays bounded, and a forgotten client only gets a fresh burst.
    fn forget_idle(&mut self, now_ms: i64) {
        let (rate, burst) = (self.rate, self.burst);
        self.buckets
            .retain(|_, b| b.tokens + (now_ms - b.at_ms).max(0) as f64 / 1000.0 * rate < burst);
        if self.buckets.len() >= self.max_clients {
            self.buckets.clear();
        }
    }

    /// How many clients are tracked.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Whether no client is tracked.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }
}

/// The penalty box: a client whose socket was closed for something it would do again (over
/// budget, too large, refused) is refused new sockets for a while (429 with `Retry-After`),
/// doubling with each strike up to [`PENALTY_MAX_MS`]. Stock y-websocket reconnects at once
/// after every close that followed a successful open, so without this a refused client spins
/// the server forever; a refused *upgrade* makes it back off instead.
#[derive(Debug, Default)]
pub struct Penalties {
    /// Per client: strikes and when the current penalty ends (ms).
    clients: HashMap<String, (u32, i64)>,
}

impl Penalties {
    /// Records a strike against `key` at `now_ms`; returns how long it is refused (ms).
    pub fn strike(&mut self, key: &str, now_ms: i64) -> i64 {
        if !self.clients.contains_key(key) && self.clients.len() >= MAX_THROTTLED_CLIENTS {
            self.clients.retain(|_, (_, until)| *until > now_ms);
            if self.clients.len() >= MAX_THROTTLED_CLIENTS {
                self.clients.clear();
            }
        }
        let (strikes, until) = self.clients.entry(key.to_string()).or_insert((0, now_ms));
        // A client that stayed out of trouble for the forgiveness window starts afresh.
        if now_ms - *until > PENALTY_FORGIVE_MS {
            *strikes = 0;
        }
        *strikes = strikes.saturating_add(1);
        let ms = PENALTY_BASE_MS
            .saturating_mul(1 << (*strikes - 1).min(16))
            .min(PENALTY_MAX_MS);
        *until = now_ms + ms;
        ms
    }

    /// Whether `key` is refused at `now_ms`: the whole seconds until it may retry (≥ 1).
    pub fn refused(&self, key: &str, now_ms: i64) -> Option<u64> {
        let &(_, until) = self.clients.get(key)?;
        (until > now_ms).then(|| ((until - now_ms + 999) / 1000) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_sustained_rate_with_retry_after() {
        let mut t = Throttle::new(2.0, 5.0, 100);
        for _ in 0..5 {
            assert_eq!(t.take("a", 0), Ok(()));
        }
        assert_eq!(t.take("a", 0), Err(1));
        // Another client is unaffected.
        assert_eq!(t.take("b", 0), Ok(()));
        // Half a second refills one request at 2/s.
        assert_eq!(t.take("a", 500), Ok(()));
        assert_eq!(t.take("a", 500), Err(1));
        let mut slow = Throttle::new(0.1, 1.0, 100);
        assert_eq!(slow.take("a", 0), Ok(()));
        assert_eq!(slow.take("a", 0), Err(10));
    }

    #[test]
    fn memory_stays_bounded() {
        let mut t = Throttle::new(1.0, 1.0, 100);
        for i in 0..1000 {
            let _ = t.take(&format!("client-{i}"), 0);
            assert!(t.len() <= 100);
        }
        // Idle clients are forgotten first; a busy one keeps its (empty) bucket.
        let mut t = Throttle::new(1.0, 1.0, 2);
        assert_eq!(t.take("busy", 0), Ok(()));
        assert_eq!(t.take("idle", -10_000), Ok(()));
        assert_eq!(t.take("new", 0), Ok(()));
        assert_eq!(t.take("busy", 0), Err(1));
    }

    #[test]
    fn penalties_double_up_to_a_cap_and_are_forgiven() {
        let mut p = Penalties::default();
        assert_eq!(p.refused("a", 0), None);
        assert_eq!(p.strike("a", 0), PENALTY_BASE_MS);
        assert_eq!(
            p.refused("a", 0),
            Some((PENALTY_BASE_MS as u64).div_ceil(1000))
        );
        assert_eq!(p.refused("b", 0), None, "others are not affected");
        assert_eq!(p.refused("a", PENALTY_BASE_MS), None);
        assert_eq!(p.strike("a", PENALTY_BASE_MS), 2 * PENALTY_BASE_MS);
        let mut at = 0;
        for _ in 0..40 {
            at += p.strike("a", at);
        }
        assert_eq!(p.strike("a", at), PENALTY_MAX_MS);
        // Out of trouble for the forgiveness window: back to the base.
        let later = at + PENALTY_MAX_MS + PENALTY_FORGIVE_MS + 1;
        assert_eq!(p.strike("a", later), PENALTY_BASE_MS);
    }

    #[test]
    fn penalties_stay_bounded() {
        let mut p = Penalties::default();
        for i in 0..(MAX_THROTTLED_CLIENTS + 10) {
            p.strike(&format!("c{i}"), 0);
        }
        assert!(p.clients.len() <= MAX_THROTTLED_CLIENTS);
    }
}
