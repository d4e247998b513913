//! The sandbox's clock: sandbox time runs `time_scale` times as fast as real time,
//! and a test moves it forward with [`Clock::advance`] instead of sleeping.
//!
//! Token lifetimes, the rate-limit minute and every `createdAt`/`updatedAt` are read
//! from it. A scale of 0 stops it: then only `advance` moves it, which makes
//! timestamps and expiries exact in tests.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

/// Milliseconds since the Unix epoch, UTC: the resolution of every sandbox timestamp.
pub type Millis = i64;

#[derive(Debug)]
struct Origin {
    real: Instant,
    sandbox: Millis,
    scale: f64,
}

/// A shared handle: clones read and move the same time.
#[derive(Debug, Clone)]
pub struct Clock {
    origin: Arc<Origin>,
    advanced_ms: Arc<AtomicI64>,
}

impl Clock {
    /// Starts at the real current time. `time_scale` must be finite and not negative
    /// (1 = real time, 60 = a sandbox minute per real second, 0 = stopped).
    pub fn new(time_scale: f64) -> Clock {
        Clock::starting_at(Utc::now(), time_scale)
    }

    pub fn starting_at(start: DateTime<Utc>, time_scale: f64) -> Clock {
        let scale = if time_scale.is_finite() && time_scale >= 0.0 { time_scale } else { 1.0 };
        let sandbox = start.timestamp_millis();
        Clock { origin: Arc::new(Origin { real: Instant::now(), sandbox, scale }), advanced_ms: Arc::default() }
    }

    pub fn time_scale(&self) -> f64 {
        self.origin.scale
    }

    /// Sandbox time now, in whole milliseconds.
    pub fn now_ms(&self) -> Millis {
        self.at(Instant::now())
    }

    /// Sandbox time at the real instant `real`.
    fn at(&self, real: Instant) -> Millis {
        let elapsed = real.saturating_duration_since(self.origin.real).as_secs_f64() * self.origin.scale * 1000.0;
        self.origin.sandbox + elapsed as Millis + self.advanced_ms.load(Ordering::Relaxed)
    }

    pub fn now(&self) -> DateTime<Utc> {
        from_millis(self.now_ms())
    }

    /// Moves sandbox time forward (the test seam: no test sleeps to age a token).
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX / 4);
        self.advanced_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// How long a client waits in real time for `sandbox_ms` of sandbox time to pass,
    /// in whole seconds, at least 1 (what a `Retry-After` header carries). A stopped
    /// clock counts as real time, since only a test can move it.
    pub fn real_seconds_for(&self, sandbox_ms: Millis) -> u64 {
        let scale = if self.origin.scale > 0.0 { self.origin.scale } else { 1.0 };
        let seconds = (sandbox_ms.max(0) as f64 / 1000.0 / scale).ceil();
        (seconds as u64).max(1)
    }
}

pub fn from_millis(ms: Millis) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::UNIX_EPOCH)
}

/// `2026-03-01T09:30:00.125Z`: RFC 3339, UTC, always three fraction digits.
pub fn format_millis(ms: Millis) -> String {
    from_millis(ms).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `2026-03-01`: the day of a sandbox time.
pub fn format_date(ms: Millis) -> String {
    from_millis(ms).date_naive().format("%Y-%m-%d").to_string()
}

/// A date as the BSS takes one: `YYYY-MM-DD`, a local `YYYY-MM-DDThh:mm:ss[.fff]`, or RFC 3339.
pub fn is_date(text: &str) -> bool {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
        || chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
        || DateTime::parse_from_rfc3339(text).is_ok()
}

/// An RFC 3339 time as the first whole millisecond at or after it (so `>=` on
/// millisecond timestamps means "at or after the instant").
pub fn parse_rfc3339_ceil(text: &str) -> Option<Millis> {
    let at = DateTime::parse_from_rfc3339(text).ok()?;
    let nanos = i128::from(at.timestamp()) * 1_000_000_000 + i128::from(at.timestamp_subsec_nanos());
    let ms = nanos.div_euclid(1_000_000) + i128::from(nanos.rem_euclid(1_000_000) != 0);
    Millis::try_from(ms).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopped_clock_moves_only_when_advanced_and_clones_follow() {
        let clock = Clock::new(0.0);
        let other = clock.clone();
        let at = clock.now_ms();
        assert_eq!(other.now_ms(), at);
        other.advance(Duration::from_secs(90));
        assert_eq!(clock.now_ms(), at + 90_000);
    }

    #[test]
    fn a_time_scale_speeds_sandbox_time_up() {
        let clock = Clock::new(60.0);
        let start = clock.at(clock.origin.real);
        assert_eq!(clock.at(clock.origin.real + Duration::from_millis(1500)) - start, 90_000);
    }

    #[test]
    fn retry_after_converts_sandbox_time_to_real_seconds() {
        assert_eq!(Clock::new(60.0).real_seconds_for(60_000), 1);
        assert_eq!(Clock::new(1.0).real_seconds_for(1_500), 2);
        assert_eq!(Clock::new(1.0).real_seconds_for(0), 1);
        assert_eq!(Clock::new(0.0).real_seconds_for(30_000), 30);
    }

    #[test]
    fn dates_are_taken_in_the_three_shapes_the_bss_accepts() {
        for text in ["2026-03-01", "2026-03-01T09:30:00", "2026-03-01T09:30:00.125", "2026-03-01T09:30:00+02:00"] {
            assert!(is_date(text), "{text}");
        }
        for text in ["2026-02-30", "01/03/2026", "2026-03-01T25:00:00", "yesterday"] {
            assert!(!is_date(text), "{text}");
        }
        assert_eq!(format_date(1_767_225_600_125), "2026-01-01");
        assert_eq!(format_millis(1_767_225_600_000), "2026-01-01T00:00:00.000Z");
    }

    #[test]
    fn timestamps_round_trip_through_rfc3339() {
        let text = format_millis(1_767_225_600_125);
        assert_eq!(text, "2026-01-01T00:00:00.125Z");
        assert_eq!(parse_rfc3339_ceil(&text), Some(1_767_225_600_125));
        assert_eq!(parse_rfc3339_ceil("2026-01-01T00:00:00.1251Z"), Some(1_767_225_600_126));
        assert_eq!(parse_rfc3339_ceil("2026-01-01T02:00:00+02:00"), Some(1_767_225_600_000));
        assert_eq!(parse_rfc3339_ceil("yesterday"), None);
    }
}
