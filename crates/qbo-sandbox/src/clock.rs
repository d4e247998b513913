//! The sandbox's clock: real time plus an offset an admin call can move, so
//! tests can age a CDC cursor past 30 days without waiting.
//!
//! A test that compares expiries on both sides of the wire (the client's token
//! refresh against the gateway's token check) freezes it and hands a clone to the
//! client, so one `advance` moves both and no real time slips in between.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

/// `frozen_at` holds no time while the clock runs.
const RUNNING: i64 = i64::MIN;

#[derive(Debug, Clone)]
pub struct Clock {
    offset_seconds: Arc<AtomicI64>,
    frozen_at: Arc<AtomicI64>,
}

impl Default for Clock {
    fn default() -> Clock {
        Clock { offset_seconds: Arc::default(), frozen_at: Arc::new(AtomicI64::new(RUNNING)) }
    }
}

impl Clock {
    pub fn now_utc(&self) -> DateTime<Utc> {
        let offset = TimeDelta::seconds(self.offset_seconds.load(Ordering::Relaxed));
        match self.frozen_at.load(Ordering::Relaxed) {
            RUNNING => Utc::now() + offset,
            frozen => DateTime::from_timestamp(frozen, 0).unwrap_or(DateTime::UNIX_EPOCH) + offset,
        }
    }

    pub fn advance(&self, seconds: i64) {
        self.offset_seconds.fetch_add(seconds, Ordering::Relaxed);
    }

    /// Stops the clock at the current whole second; from then on only `advance` moves it.
    pub fn freeze(&self) {
        let _ = self.frozen_at.compare_exchange(RUNNING, Utc::now().timestamp(), Ordering::Relaxed, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frozen_clock_moves_only_when_advanced_and_its_clones_follow() {
        let clock = Clock::default();
        clock.advance(100);
        clock.freeze();
        let handle = clock.clone();
        let at = clock.now_utc();
        assert!(at - Utc::now() > TimeDelta::seconds(98), "the offset is kept");
        assert_eq!(handle.now_utc(), at);
        handle.advance(5);
        assert_eq!(clock.now_utc(), at + TimeDelta::seconds(5));
    }
}
