//! The `Range` header of a media request (RFC 9110 §14): one byte range of an object of known
//! size. Several ranges, or a header that is not a byte range, get the whole object (a server
//! may ignore `Range`); a range that starts past the end is unsatisfiable (416).

/// What to send of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// All of it (200).
    All,
    /// Bytes `start..=end` (206), both within the object.
    Part { start: u64, end: u64 },
    /// Nothing can be sent (416, with `Content-Range: bytes */size`).
    Unsatisfiable,
}

impl Wanted {
    /// `Content-Range` of a part.
    pub fn content_range(self, size: u64) -> String {
        match self {
            Wanted::Part { start, end } => format!("bytes {start}-{end}/{size}"),
            _ => format!("bytes */{size}"),
        }
    }
}

/// The part of an object of `size` bytes that `header` asks for.
pub fn parse(header: Option<&str>, size: u64) -> Wanted {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Wanted::All;
    };
    if spec.contains(',') {
        return Wanted::All;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Wanted::All;
    };
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // `-N`: the last N bytes.
        return match number(last) {
            Some(n) if n > 0 && size > 0 => Wanted::Part {
                start: size.saturating_sub(n),
                end: size - 1,
            },
            Some(_) => Wanted::Unsatisfiable,
            None => Wanted::All,
        };
    }
    let Some(start) = number(first) else {
        return Wanted::All;
    };
    let end = if last.is_empty() {
        u64::MAX
    } else {
        match number(last) {
            Some(end) if end >= start => end,
            _ => return Wanted::All,
        }
    };
    if start >= size {
        return Wanted::Unsatisfiable;
    }
    Wanted::Part {
        start,
        end: end.min(size - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let p = |start, end| Wanted::Part { start, end };
        assert_eq!(parse(None, 100), Wanted::All);
        assert_eq!(parse(Some("bytes=0-9"), 100), p(0, 9));
        assert_eq!(parse(Some("bytes=90-"), 100), p(90, 99));
        assert_eq!(parse(Some("bytes=90-1000"), 100), p(90, 99));
        assert_eq!(parse(Some("bytes=-10"), 100), p(90, 99));
        assert_eq!(parse(Some("bytes=-1000"), 100), p(0, 99));
        assert_eq!(parse(Some("bytes=100-"), 100), Wanted::Unsatisfiable);
        assert_eq!(parse(Some("bytes=-0"), 100), Wanted::Unsatisfiable);
        assert_eq!(parse(Some("bytes=0-0"), 0), Wanted::Unsatisfiable);
        for ignored in [
            "bytes=0-1,5-6",
            "items=0-1",
            "bytes=5-1",
            "bytes=x-1",
            "bytes=-",
            "bytes=1",
            "bytes=99999999999999999999-",
            "bytes=+1-2",
        ] {
            assert_eq!(parse(Some(ignored), 100), Wanted::All, "{ignored}");
        }
        assert_eq!(p(0, 9).content_range(100), "bytes 0-9/100");
        assert_eq!(Wanted::Unsatisfiable.content_range(100), "bytes */100");
    }
}
