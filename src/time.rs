//! Time as Folio counts it: instants are milliseconds since the Unix epoch ([`Millis`]);
//! token expiries are whole seconds ([`Secs`]), as in their signed claims. Both print as
//! RFC 3339.

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch: every instant Folio stores, schedules or compares (the
/// platform's clock, `Date.now()`, counts in them).
pub type Millis = i64;

/// Whole seconds since the Unix epoch: a token's expiry as its signed claims carry it. A type
/// of its own so that seconds are never compared with, or stored as, milliseconds.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Secs(pub u64);

impl Secs {
    /// The expiry of what never expires (the admin key).
    pub const NEVER: Secs = Secs(u64::MAX);

    /// The whole seconds of `ms` (before the epoch: 0).
    pub fn from_millis(ms: Millis) -> Secs {
        Secs(u64::try_from(ms / 1000).unwrap_or(0))
    }

    /// In milliseconds; `None` when it does not fit ([`Secs::NEVER`]).
    pub fn to_millis(self) -> Option<Millis> {
        i64::try_from(self.0).ok().and_then(|s| s.checked_mul(1000))
    }

    /// `secs` later, saturating.
    pub fn plus(self, secs: u64) -> Secs {
        Secs(self.0.saturating_add(secs))
    }

    /// Seconds from `earlier` to this (0 if it is not later).
    pub fn since(self, earlier: Secs) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// Milliseconds since the epoch as RFC 3339 (UTC, millisecond precision).
pub fn iso8601(ms: Millis) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parses an RFC 3339 date-time (`2026-11-22T10:00:00Z`, `...T10:00:00.5+01:00`) into
/// milliseconds since the epoch. Leap seconds are not accepted.
pub fn parse_rfc3339(s: &str) -> Option<Millis> {
    let b = s.as_bytes();
    let digits = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let sep = |at: usize, c: &[u8]| b.get(at).is_some_and(|x| c.contains(x));
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let max_day = *month_days.get(usize::try_from(month - 1).ok()?)?;
    if !(1..=max_day).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut at = 19;
    let mut millis = 0;
    if sep(at, b".") {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            if at - start < 3 {
                millis = millis * 10 + i64::from(b[at] - b'0');
            }
            at += 1;
        }
        if at == start {
            return None;
        }
        for _ in (at - start)..3 {
            millis *= 10;
        }
    }
    let offset_min = match b.get(at..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), ..] if b.len() == at + 6 && sep(at + 3, b":") => {
            let (h, m) = (digits(at + 1, 2)?, digits(at + 4, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            if *sign == b'+' {
                h * 60 + m
            } else {
                -(h * 60 + m)
            }
        }
        _ => return None,
    };
    // Days since the epoch from the civil date (inverse of `iso8601`).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_min * 60;
    Some(secs * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_matches_known_instants() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(1_795_328_956_417), "2026-11-22T06:29:16.417Z");
    }

    #[test]
    fn rfc3339_round_trips_and_refuses_nonsense() {
        for ms in [0, 951_782_400_000, 1_795_328_956_417, 4_102_444_800_000] {
            assert_eq!(parse_rfc3339(&iso8601(ms)), Some(ms), "{}", iso8601(ms));
        }
        assert_eq!(
            parse_rfc3339("2026-11-22T10:00:00+01:00"),
            parse_rfc3339("2026-11-22T09:00:00Z")
        );
        assert_eq!(
            parse_rfc3339("2026-11-22T09:00:00.5Z"),
            parse_rfc3339("2026-11-22T09:00:00Z").map(|t| t + 500)
        );
        assert_eq!(
            parse_rfc3339("2026-11-22t09:00:00.123456z"),
            parse_rfc3339("2026-11-22T09:00:00.123Z")
        );
        for bad in [
            "",
            "2026-11-22",
            "2026-11-22T09:00:00",
            "2026-02-30T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-22T24:00:00Z",
            "2026-11-22T09:00:00+1:00",
            "2026-11-22T09:00:00.Z",
            "tomorrow",
            "2026-11-22T09:00:00Zjunk",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn seconds_and_milliseconds_convert_without_overflow() {
        assert_eq!(Secs::from_millis(1_999), Secs(1));
        assert_eq!(Secs::from_millis(-5), Secs(0));
        assert_eq!(Secs(2).to_millis(), Some(2_000));
        assert_eq!(Secs::NEVER.to_millis(), None);
        assert_eq!(Secs::NEVER.plus(1), Secs::NEVER);
        assert_eq!(Secs(5).since(Secs(7)), 0);
    }
}
