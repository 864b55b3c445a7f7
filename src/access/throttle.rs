//! Rate limits, all token buckets ([`TokenBucket`]): per client on the author HTTP endpoints
//! ([`Throttle`]), per connection on sockets ([`Budget`]), and the penalty box that makes a
//! refused client back off ([`Penalties`]).
//!
//! The stateless worker keeps one [`Throttle`] per isolate. Cloudflare runs many isolates, so
//! in production this bounds each client per isolate (a client hammering one edge location
//! lands on few of them); it is the cheap first line, not a global quota.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::limits::{
    BUDGET_BYTES_PER_SEC, BUDGET_BYTE_BURST, BUDGET_MESSAGES_PER_SEC, BUDGET_MESSAGE_BURST,
    MAX_THROTTLED_CLIENTS, PENALTY_BASE_MS, PENALTY_FORGIVE_MS, PENALTY_MAX_MS,
};

/// A token bucket refilled continuously at `rate` per second up to `burst`. The one copy of
/// the refill rule every limit here uses; a clock going backwards refills nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenBucket {
    pub tokens: f64,
    at_ms: i64,
}

impl TokenBucket {
    /// A full bucket at `now_ms`.
    pub fn full(burst: f64, now_ms: i64) -> Self {
        TokenBucket {
            tokens: burst,
            at_ms: now_ms,
        }
    }

    /// Adds what `rate` gave since the last refill, up to `burst`.
    pub fn refill(&mut self, rate: f64, burst: f64, now_ms: i64) {
        self.tokens = self.level(rate, burst, now_ms);
        self.at_ms = self.at_ms.max(now_ms);
    }

    /// The tokens there would be at `now_ms`, without refilling.
    pub fn level(&self, rate: f64, burst: f64, now_ms: i64) -> f64 {
        let secs = (now_ms - self.at_ms).max(0) as f64 / 1000.0;
        (self.tokens + secs * rate).min(burst)
    }
}

/// Token buckets by client key, bounded in number.
#[derive(Debug)]
pub struct Throttle {
    rate: f64,
    burst: f64,
    max_clients: usize,
    buckets: HashMap<String, TokenBucket>,
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
        let bucket = self
            .buckets
            .entry(key.to_string())
            .or_insert(TokenBucket::full(burst, now_ms));
        bucket.refill(rate, burst, now_ms);
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
            .retain(|_, b| b.level(rate, burst, now_ms) < burst);
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

/// A connection's allowance of messages and bytes: two token buckets.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    messages: TokenBucket,
    bytes: TokenBucket,
}

impl Budget {
    /// A full budget at time `now_ms`.
    pub fn new(now_ms: i64) -> Self {
        Budget {
            messages: TokenBucket::full(BUDGET_MESSAGE_BURST, now_ms),
            bytes: TokenBucket::full(BUDGET_BYTE_BURST, now_ms),
        }
    }

    /// Spends one message of `bytes` at `now_ms`. A message larger than what is left (a
    /// SyncStep2 of offline work, up to the document cap) is allowed while the byte bucket is
    /// not empty, and puts it in debt: the connection then waits for the refill.
    ///
    /// # Errors
    /// [`Error::RateLimited`] when the message bucket is empty or the byte bucket is not
    /// positive.
    pub fn spend(&mut self, bytes: usize, now_ms: i64) -> Result<()> {
        self.messages
            .refill(BUDGET_MESSAGES_PER_SEC, BUDGET_MESSAGE_BURST, now_ms);
        self.bytes
            .refill(BUDGET_BYTES_PER_SEC, BUDGET_BYTE_BURST, now_ms);
        if self.messages.tokens < 1.0 {
            return Err(Error::RateLimited("messages"));
        }
        if self.bytes.tokens <= 0.0 {
            return Err(Error::RateLimited("bytes"));
        }
        self.messages.tokens -= 1.0;
        self.bytes.tokens -= bytes as f64;
        Ok(())
    }

    /// Whether bytes are left to send a reply (see [`Budget::charge`]).
    pub fn can_reply(&self) -> bool {
        self.bytes.tokens > 0.0
    }

    /// Charges `bytes` the server sent in reply to this connection.
    pub fn charge(&mut self, bytes: usize) {
        self.bytes.tokens -= bytes as f64;
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

    #[test]
    fn a_budget_refills_and_runs_out() {
        let mut b = Budget::new(0);
        for _ in 0..BUDGET_MESSAGE_BURST as usize {
            b.spend(10, 0).unwrap();
        }
        assert_eq!(b.spend(10, 0), Err(Error::RateLimited("messages")));
        assert_eq!(Error::RateLimited("messages").close_code(), 4008);
        // 100 ms later, 20 more messages are allowed at 200/s.
        for _ in 0..20 {
            b.spend(10, 100).unwrap();
        }
        assert!(b.spend(10, 100).is_err());
        // Bytes: a burst of 4 MiB, then 1 MiB/s.
        let mut b = Budget::new(0);
        b.spend(4 << 20, 0).unwrap();
        assert_eq!(b.spend(1, 0), Err(Error::RateLimited("bytes")));
        b.spend(1 << 19, 500).unwrap();
        // A clock going backwards refills nothing and breaks nothing.
        assert!(b.spend(1 << 20, 100).is_err());
    }
}
