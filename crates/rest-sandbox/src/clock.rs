//! The server's clock. It stands still unless a test moves it, so every `updated_at` is
//! known in advance and `updated_after` can be tested to the millisecond without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};

/// A shared handle: clones read and move one time, in milliseconds since the Unix epoch.
#[derive(Debug, Clone)]
pub(crate) struct Clock {
    now_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn starting_at(start: DateTime<Utc>) -> Clock {
        Clock { now_ms: Arc::new(AtomicI64::new(start.timestamp_millis())) }
    }

    pub fn now_ms(&self) -> i64 {
        self.now_ms.load(Ordering::Relaxed)
    }

    pub fn advance(&self, by: Duration) {
        let by_ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX / 4);
        self.now_ms.fetch_add(by_ms, Ordering::Relaxed);
    }
}

pub(crate) fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::UNIX_EPOCH)
}

/// `2026-01-01T09:30:00.125Z`: RFC 3339, UTC, milliseconds always written.
pub(crate) fn format_millis(ms: i64) -> String {
    from_millis(ms).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// An RFC 3339 time as nanoseconds since the epoch: the finest a client may send, so a
/// filter on it is exact whatever the precision.
pub(crate) fn parse_nanos(text: &str) -> Option<i128> {
    let at = DateTime::parse_from_rfc3339(text).ok()?;
    Some(i128::from(at.timestamp()) * 1_000_000_000 + i128::from(at.timestamp_subsec_nanos()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_moves_only_when_advanced_and_clones_share_it() {
        let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().to_utc();
        let clock = Clock::starting_at(start);
        let other = clock.clone();
        other.advance(Duration::from_millis(1_500));
        assert_eq!(format_millis(clock.now_ms()), "2026-01-01T00:00:01.500Z");
        assert_eq!(parse_nanos("2026-01-01T02:00:01.5+02:00"), Some(i128::from(clock.now_ms()) * 1_000_000));
        assert_eq!(parse_nanos("2026-01-01 00:00:01"), None);
    }
}
