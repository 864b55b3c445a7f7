//! Scheduled publishing requests: what an entry does and when, checked against the clock.

use serde::{Deserialize, Serialize};

use crate::error::BadParameter;
use crate::time::parse_rfc3339;

/// What a schedule entry does when it comes due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Publish,
    Unpublish,
}

impl Action {
    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "publish" => Some(Action::Publish),
            "unpublish" => Some(Action::Unpublish),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Publish => "publish",
            Action::Unpublish => "unpublish",
        }
    }
}

/// A `POST /api/docs/{id}/schedule` body.
#[derive(Debug, Deserialize)]
pub struct ScheduleRequest {
    pub action: String,
    pub at: String,
}

/// Checks a schedule request against the clock.
///
/// # Errors
/// [`BadParameter`] naming `action` or `at` (not RFC 3339, or not in the future).
pub fn schedule_request(req: &ScheduleRequest, now: i64) -> Result<(Action, i64), BadParameter> {
    let action = Action::parse(&req.action).ok_or(BadParameter {
        parameter: "action".into(),
        message: "action must be \"publish\" or \"unpublish\"".into(),
    })?;
    let at = parse_rfc3339(&req.at).ok_or(BadParameter {
        parameter: "at".into(),
        message: "at must be an RFC 3339 date-time, e.g. 2030-01-31T09:00:00Z".into(),
    })?;
    if at <= now {
        return Err(BadParameter {
            parameter: "at".into(),
            message: "at must be in the future".into(),
        });
    }
    Ok((action, at))
}

/// When the object's single alarm should fire: the earliest of its schedule entries and a
/// pending KV write.
pub fn next_alarm(earliest_entry: Option<i64>, kv_pending: Option<i64>) -> Option<i64> {
    match (earliest_entry, kv_pending) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_requests_are_checked_against_the_clock() {
        let now = parse_rfc3339("2026-11-22T09:00:00Z").unwrap();
        let req = |action: &str, at: &str| ScheduleRequest {
            action: action.into(),
            at: at.into(),
        };
        assert_eq!(
            schedule_request(&req("publish", "2026-11-22T09:00:01Z"), now),
            Ok((Action::Publish, now + 1000))
        );
        assert_eq!(
            schedule_request(&req("unpublish", "2026-11-22T08:00:00Z"), now)
                .unwrap_err()
                .parameter,
            "at"
        );
        assert_eq!(
            schedule_request(&req("publish", "2026-11-22T09:00:00Z"), now)
                .unwrap_err()
                .parameter,
            "at"
        );
        assert_eq!(
            schedule_request(&req("delete", "2030-01-01T00:00:00Z"), now)
                .unwrap_err()
                .parameter,
            "action"
        );
        assert_eq!(
            schedule_request(&req("publish", "soon"), now)
                .unwrap_err()
                .parameter,
            "at"
        );
        assert_eq!(next_alarm(Some(5), Some(3)), Some(3));
        assert_eq!(next_alarm(None, Some(3)), Some(3));
        assert_eq!(next_alarm(Some(5), None), Some(5));
        assert_eq!(next_alarm(None, None), None);
    }
}
