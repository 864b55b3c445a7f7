//! Webhooks: what is sent, how it is signed, where it may go, and when a failed delivery is
//! tried again. The edge carries it out (`edge/webhooks.rs`: the registry in D1 and one
//! Durable Object per webhook holding its queue).
//!
//! # Rules
//! - A delivery follows Standard Webhooks: the body is `{type, timestamp, data}`, and the
//!   headers `webhook-id` (the same on every attempt, so receivers can drop repeats),
//!   `webhook-timestamp` (seconds, of the attempt) and `webhook-signature`:
//!   `v1,` + base64 HMAC-SHA256 of `id.timestamp.body` under the secret's bytes ([`sign`]).
//!   The secret is `whsec_` + base64 of 24 random bytes, shown once at creation.
//! - Deliveries of one webhook go out in the order they were created. A failure (a non-2xx
//!   answer, a timeout, no connection) is tried again after [`RETRY_SECONDS`]; after the last
//!   the delivery is `failed` and the queue moves on ([`after_failure`]). An endpoint that has
//!   failed every attempt for [`DISABLE_AFTER_MS`] is disabled ([`should_disable`]).
//! - Outbound requests go only to `http(s)` URLs, and to private, loopback or link-local
//!   addresses only where the operator allows them ([`check_url`]).
//! - `document.updated` is debounced per document ([`Debounce`]): at most one per window,
//!   sent at the window's end with the state the document has then.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::time::Millis;

/// Every event a webhook can subscribe to.
pub const EVENTS: [&str; 7] = [
    "entry.published",
    "entry.unpublished",
    "entry.scheduled",
    "schedule.failed",
    "document.updated",
    "media.uploaded",
    "media.deleted",
];

/// Seconds before each retry of a failed delivery: about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h
/// and 10 h (eight attempts over about 27.6 hours).
pub const RETRY_SECONDS: [u64; 7] = [5, 300, 1800, 7200, 18_000, 36_000, 36_000];

/// An endpoint failing every attempt for this long is disabled (5 days).
pub const DISABLE_AFTER_MS: Millis = 5 * 24 * 3600 * 1000;

/// How long one attempt may take before it counts as failed.
pub const TIMEOUT_MS: u64 = 15_000;

/// The default debounce window of `document.updated`, in seconds (`WEBHOOK_DEBOUNCE`).
pub const DEBOUNCE_SECONDS: u64 = 30;

/// The longest URL a webhook may have.
pub const MAX_URL_LEN: usize = 2048;

/// The longest description a webhook may have, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 500;

/// The most webhooks a Folio may have (each event is queued once per subscribed webhook).
pub const MAX_WEBHOOKS: usize = 50;

/// The events of a webhook definition: a non-empty list of known names, repeats dropped.
///
/// # Errors
/// What is wrong, for the 400.
pub fn parse_events(value: &serde_json::Value) -> Result<Vec<String>, String> {
    let list = value
        .as_array()
        .ok_or_else(|| format!("events must be a list of: {}", EVENTS.join(", ")))?;
    let mut events: Vec<String> = Vec::new();
    for item in list {
        match item.as_str() {
            Some(name) if EVENTS.contains(&name) => {
                if !events.iter().any(|e| e == name) {
                    events.push(name.to_string());
                }
            }
            _ => {
                return Err(format!(
                    "unknown event {item}; events are: {}",
                    EVENTS.join(", ")
                ))
            }
        }
    }
    if events.is_empty() {
        return Err("events must name at least one event".into());
    }
    Ok(events)
}

/// A new secret from 24 random bytes: `whsec_` + base64.
pub fn secret_from(bytes: &[u8; 24]) -> String {
    format!("whsec_{}", STANDARD.encode(bytes))
}

/// The `webhook-signature` header for one attempt: `v1,` + base64 HMAC-SHA256 of
/// `id.timestamp.body` under the secret's bytes (the base64 after `whsec_`).
///
/// # Errors
/// The secret is not `whsec_` + base64.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String, String> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|e| format!("the webhook secret is not base64: {e}"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The body of a delivery: `{type, timestamp (RFC 3339), data}`.
pub fn envelope(kind: &str, at: Millis, data: serde_json::Value) -> String {
    serde_json::json!({ "type": kind, "timestamp": crate::time::iso8601(at), "data": data })
        .to_string()
}

/// Whether Folio may send to `url`: `http(s)` only, no credentials in it, and no private,
/// loopback, link-local or unspecified address (nor `localhost`) unless `allow_private`.
///
/// Names are checked as written: what a public name resolves to cannot be seen from a
/// Worker (Cloudflare's own network refuses private destinations in production).
///
/// # Errors
/// Why the URL is refused.
pub fn check_url(url: &str, allow_private: bool) -> Result<(), String> {
    if url.len() > MAX_URL_LEN {
        return Err(format!("a webhook URL is at most {MAX_URL_LEN} characters"));
    }
    let rest = if let Some(rest) = url.strip_prefix("https://") {
        rest
    } else if let Some(rest) = url.strip_prefix("http://") {
        rest
    } else {
        return Err("a webhook URL must start with http:// or https://".into());
    };
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a webhook URL has no spaces or control characters".into());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("a webhook URL may not carry credentials".into());
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    }
    .to_ascii_lowercase();
    if host.is_empty() {
        return Err("a webhook URL needs a host".into());
    }
    if !allow_private && is_private(&host) {
        return Err(format!(
            "{host} is a private, loopback or link-local address (allowed only with ALLOW_PRIVATE_WEBHOOKS)"
        ));
    }
    Ok(())
}

/// Whether `host` names this machine or a private network.
fn is_private(host: &str) -> bool {
    use std::net::{IpAddr, Ipv4Addr};
    let name = host.trim_end_matches('.');
    if name == "localhost"
        || name.ends_with(".localhost")
        || name.ends_with(".local")
        || name.ends_with(".internal")
    {
        return true;
    }
    let v4 = |ip: Ipv4Addr| {
        ip.is_private()
            || ip.is_loopback()
            || ip.is_link_local()
            || ip.is_unspecified()
            || ip.is_broadcast()
            // 100.64.0.0/10, carrier-grade NAT
            || (ip.octets()[0] == 100 && (ip.octets()[1] & 0xc0) == 64)
    };
    match name.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => v4(ip),
        Ok(IpAddr::V6(ip)) => {
            let s = ip.segments();
            ip.is_loopback()
                || ip.is_unspecified()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || ip.to_ipv4_mapped().is_some_and(v4)
        }
        // A number a browser would read as an address (`http://2130706433/`, `0x7f.1`).
        Err(_) => name.split('.').all(|part| {
            part.starts_with(|c: char| c.is_ascii_digit())
                && part.chars().all(|c| c.is_ascii_hexdigit() || c == 'x')
        }),
    }
}

/// The event a change of a document's confirmed record announces: `before` and `after` are
/// (published, version). A version that becomes the published one is `entry.published` (a
/// new version, or one published again after an unpublish); a post taken down is
/// `entry.unpublished`; anything else (nothing changed, an unpublish of what was never
/// published) announces nothing.
pub fn transition(before: Option<(bool, u64)>, after: (bool, u64)) -> Option<&'static str> {
    let was = before.filter(|(published, _)| *published).map(|(_, v)| v);
    match (was, after) {
        (Some(v), (true, now)) if v == now => None,
        (_, (true, _)) => Some("entry.published"),
        (Some(_), (false, _)) => Some("entry.unpublished"),
        (None, (false, _)) => None,
    }
}

/// The retry schedule from a comma-separated list of seconds (the `WEBHOOK_RETRY_SECONDS`
/// variable, for tests), or `None` if it is not one.
pub fn parse_schedule(text: &str) -> Option<Vec<u64>> {
    let schedule: Option<Vec<u64>> = text
        .split(',')
        .map(|s| s.trim().parse().ok().filter(|&n: &u64| n <= 7 * 24 * 3600))
        .collect();
    schedule.filter(|s| !s.is_empty() && s.len() <= 20)
}

/// What happens to a delivery after failed attempt number `attempt` (1 for the first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again at this time.
    RetryAt(Millis),
    /// No attempts left: the delivery is failed.
    Failed,
}

/// See [`AfterFailure`]: the `attempt`-th failure waits `schedule[attempt - 1]`.
pub fn after_failure(attempt: u32, now: Millis, schedule: &[u64]) -> AfterFailure {
    match schedule.get((attempt as usize).saturating_sub(1)) {
        Some(&seconds) => AfterFailure::RetryAt(now + (seconds as Millis) * 1000),
        None => AfterFailure::Failed,
    }
}

/// Whether an endpoint failing since `failing_since` (its first failure after its last
/// success) is to be disabled at `now`.
pub fn should_disable(failing_since: Option<Millis>, now: Millis, after: Millis) -> bool {
    failing_since.is_some_and(|since| now - since >= after)
}

/// `document.updated` for one document: at most one per window. The first edit after a quiet
/// time opens a window; the event goes out when it closes, with the document as it is then.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Debounce {
    /// When the pending event is due.
    pub due: Option<Millis>,
}

impl Debounce {
    /// An edit at `now`: when the event is due, if this edit made one pending (the caller
    /// stores it and sets an alarm); `None` if one was pending already.
    pub fn edited(&mut self, now: Millis, window_ms: Millis) -> Option<Millis> {
        if self.due.is_some() {
            return None;
        }
        let due = now + window_ms;
        self.due = Some(due);
        Some(due)
    }

    /// Whether the event is due at `now` (then it is no longer pending).
    pub fn ring(&mut self, now: Millis) -> bool {
        if self.due.is_some_and(|due| due <= now) {
            self.due = None;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_standard_webhooks_test_vector() {
        // The specification's published vector (and every reference library's test).
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        // Any change of id, time or body changes it.
        let other = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_331,
            r#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_ne!(signature, other);
        assert!(sign("whsec_not base64!", "m", 1, "{}").is_err());
        let secret = secret_from(&[7; 24]);
        assert!(secret.starts_with("whsec_") && secret.len() == 6 + 32);
        assert!(sign(&secret, "m", 1, "{}").is_ok());
    }

    #[test]
    fn the_retry_schedule_spans_about_27_hours_then_fails() {
        let mut at = 0;
        let mut attempts = 1; // the first attempt failed at 0
        while let AfterFailure::RetryAt(next) = after_failure(attempts, at, &RETRY_SECONDS) {
            at = next;
            attempts += 1;
        }
        assert_eq!(attempts, 8, "eight attempts in all");
        assert_eq!(
            at,
            (5 + 300 + 1800 + 7200 + 18_000 + 36_000 + 36_000) * 1000
        );
        assert_eq!(
            after_failure(1, 1000, &RETRY_SECONDS),
            AfterFailure::RetryAt(6000)
        );
        assert_eq!(after_failure(8, 0, &RETRY_SECONDS), AfterFailure::Failed);
        // The short schedule of the tests.
        let short = parse_schedule("1, 1,2").unwrap();
        assert_eq!(after_failure(3, 0, &short), AfterFailure::RetryAt(2000));
        assert_eq!(after_failure(4, 0, &short), AfterFailure::Failed);
        assert_eq!(parse_schedule("1,x"), None);
        assert_eq!(parse_schedule(""), None);
        assert!(!should_disable(
            None,
            DISABLE_AFTER_MS * 2,
            DISABLE_AFTER_MS
        ));
        assert!(!should_disable(
            Some(10),
            DISABLE_AFTER_MS,
            DISABLE_AFTER_MS
        ));
        assert!(should_disable(
            Some(10),
            DISABLE_AFTER_MS + 10,
            DISABLE_AFTER_MS
        ));
    }

    #[test]
    fn document_updated_is_debounced_to_one_per_window() {
        let mut d = Debounce::default();
        assert_eq!(
            d.edited(1000, 30_000),
            Some(31_000),
            "the first edit opens a window"
        );
        assert_eq!(d.edited(2000, 30_000), None, "later edits ride along");
        assert!(!d.ring(30_999));
        assert_eq!(d.edited(30_000, 30_000), None);
        assert!(d.ring(31_000), "due at the window's end");
        assert!(!d.ring(31_001), "once");
        assert_eq!(
            d.edited(40_000, 30_000),
            Some(70_000),
            "the next edit opens the next"
        );
        // A burst of 1000 edits over 100 s with a 30 s window: 4 events, never two within
        // one window.
        let mut d = Debounce::default();
        let mut sent = Vec::new();
        for t in (0..100_000).step_by(100) {
            if d.ring(t) {
                sent.push(t);
            }
            d.edited(t, 30_000);
        }
        assert_eq!(sent, vec![30_000, 60_000, 90_000]);
        assert!(sent.windows(2).all(|w| w[1] - w[0] >= 30_000));
    }

    #[test]
    fn only_public_http_urls_unless_private_ones_are_allowed() {
        for ok in [
            "https://hooks.example.com/folio",
            "http://example.com:8080/x?y=1",
            "https://[2606:4700::1111]/",
            "https://cafe.be/",
        ] {
            assert_eq!(check_url(ok, false), Ok(()), "{ok}");
        }
        for private in [
            "http://127.0.0.1:9999/",
            "http://localhost/",
            "http://api.localhost/",
            "http://10.1.2.3/",
            "http://192.168.0.10/",
            "http://172.16.5.4/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://0.0.0.0/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://100.64.0.1/",
            "http://metadata.google.internal/",
        ] {
            assert!(check_url(private, false).is_err(), "{private}");
            assert_eq!(check_url(private, true), Ok(()), "{private}");
        }
        for bad in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "https://user:pass@example.com/",
            "https:///nohost",
            "https://exa mple.com/",
        ] {
            assert!(check_url(bad, true).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_change_of_the_published_version_is_announced_once() {
        assert_eq!(transition(None, (true, 1)), Some("entry.published"));
        assert_eq!(
            transition(Some((true, 1)), (true, 2)),
            Some("entry.published")
        );
        assert_eq!(transition(Some((true, 2)), (true, 2)), None, "unchanged");
        assert_eq!(
            transition(Some((false, 2)), (true, 2)),
            Some("entry.published"),
            "published again after an unpublish"
        );
        assert_eq!(
            transition(Some((true, 2)), (false, 2)),
            Some("entry.unpublished")
        );
        assert_eq!(transition(Some((false, 2)), (false, 2)), None);
        assert_eq!(transition(None, (false, 0)), None, "never published");
    }

    #[test]
    fn events_are_known_names() {
        let events = parse_events(&serde_json::json!(["entry.published", "entry.published"]));
        assert_eq!(events.unwrap(), vec!["entry.published"]);
        assert!(parse_events(&serde_json::json!([])).is_err());
        assert!(parse_events(&serde_json::json!(["entry.exploded"])).is_err());
        assert!(parse_events(&serde_json::json!("entry.published")).is_err());
        let body = envelope("media.deleted", 0, serde_json::json!({"id": "x"}));
        assert_eq!(
            body,
            r#"{"data":{"id":"x"},"timestamp":"1970-01-01T00:00:00.000Z","type":"media.deleted"}"#
        );
    }
}
