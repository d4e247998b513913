//! Intuit's per-company, per-app request limits: 500 requests and 40 batch calls a
//! minute, 10 in flight. Beyond them the gateway answers 429.
//!
//! The window slides (timestamps of admitted requests), so a burst at a window edge
//! cannot double the rate. `time_scale` shrinks the minute for fast tests and benchmarks.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::fault::Fault;
use crate::server::lock;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    pub requests_per_minute: u32,
    pub batch_per_minute: u32,
    pub max_in_flight: u32,
    pub enabled: bool,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { requests_per_minute: 500, batch_per_minute: 40, max_in_flight: 10, enabled: true }
    }
}

/// Admission state of one (company, app) pair.
#[derive(Default)]
struct Window {
    requests: VecDeque<Instant>,
    batches: VecDeque<Instant>,
    in_flight: Arc<AtomicU32>,
}

impl Window {
    fn forget_before(&mut self, horizon: Instant) {
        while self.requests.front().is_some_and(|t| *t <= horizon) {
            self.requests.pop_front();
        }
        while self.batches.front().is_some_and(|t| *t <= horizon) {
            self.batches.pop_front();
        }
    }
}

struct Settings {
    limits: Limits,
    minute: Duration,
}

pub struct Throttle {
    settings: Mutex<Settings>,
    windows: Mutex<HashMap<(String, String), Window>>,
    throttled: Mutex<HashMap<String, u64>>,
}

/// Holds an in-flight slot; dropping it frees the slot.
#[derive(Debug)]
pub struct InFlightGuard {
    counter: Arc<AtomicU32>,
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::AcqRel);
    }
}

fn minute(time_scale: f64) -> Duration {
    let scale = if time_scale.is_finite() && time_scale > 0.0 { time_scale } else { 1.0 };
    Duration::from_secs_f64(60.0 / scale)
}

impl Throttle {
    pub fn new(limits: Limits, time_scale: f64) -> Throttle {
        Throttle {
            settings: Mutex::new(Settings { limits, minute: minute(time_scale) }),
            windows: Mutex::new(HashMap::new()),
            throttled: Mutex::new(HashMap::new()),
        }
    }

    pub fn set_limits(&self, limits: Limits, time_scale: f64) {
        *lock(&self.settings) = Settings { limits, minute: minute(time_scale) };
    }

    pub fn limits(&self) -> Limits {
        lock(&self.settings).limits
    }

    /// Admits one request of (realm, client_id), or refuses it with Intuit's 429.
    /// A refused request counts toward nothing.
    pub fn admit(&self, realm: &str, client_id: &str, is_batch: bool) -> Result<InFlightGuard, Fault> {
        self.admit_at(realm, client_id, is_batch, Instant::now())
    }

    fn admit_at(&self, realm: &str, client_id: &str, is_batch: bool, now: Instant) -> Result<InFlightGuard, Fault> {
        let (limits, minute) = {
            let settings = lock(&self.settings);
            (settings.limits, settings.minute)
        };
        let mut windows = lock(&self.windows);
        let window = windows.entry((realm.to_owned(), client_id.to_owned())).or_default();
        if limits.enabled {
            if let Some(horizon) = now.checked_sub(minute) {
                window.forget_before(horizon);
            }
            let over = window.requests.len() >= limits.requests_per_minute as usize
                || (is_batch && window.batches.len() >= limits.batch_per_minute as usize)
                || window.in_flight.load(Ordering::Acquire) >= limits.max_in_flight;
            if over {
                drop(windows);
                *lock(&self.throttled).entry(realm.to_owned()).or_default() += 1;
                return Err(Fault::throttled());
            }
            window.requests.push_back(now);
            if is_batch {
                window.batches.push_back(now);
            }
        }
        window.in_flight.fetch_add(1, Ordering::AcqRel);
        Ok(InFlightGuard { counter: window.in_flight.clone() })
    }

    /// 429s answered to clients of this company.
    pub fn throttled_count(&self, realm: &str) -> u64 {
        lock(&self.throttled).get(realm).copied().unwrap_or(0)
    }

    pub fn reset(&self) {
        lock(&self.windows).retain(|_, window| window.in_flight.load(Ordering::Acquire) > 0);
        for window in lock(&self.windows).values_mut() {
            window.requests.clear();
            window.batches.clear();
        }
        lock(&self.throttled).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(requests: u32, batches: u32, in_flight: u32) -> Limits {
        Limits { requests_per_minute: requests, batch_per_minute: batches, max_in_flight: in_flight, enabled: true }
    }

    #[test]
    fn admits_up_to_the_limit_and_refuses_one_more() {
        let throttle = Throttle::new(limits(3, 10, 10), 1.0);
        let t0 = Instant::now();
        for _ in 0..3 {
            drop(throttle.admit_at("r", "app", false, t0).unwrap());
        }
        let refused = throttle.admit_at("r", "app", false, t0).unwrap_err();
        assert_eq!(refused.status, 429);
        assert_eq!(throttle.throttled_count("r"), 1);
    }

    #[test]
    fn the_window_slides_instead_of_resetting_each_minute() {
        let throttle = Throttle::new(limits(2, 10, 10), 1.0);
        let t0 = Instant::now();
        drop(throttle.admit_at("r", "app", false, t0).unwrap());
        drop(throttle.admit_at("r", "app", false, t0 + Duration::from_secs(59)).unwrap());
        // At 61 s the first request has left the window, the second has not.
        drop(throttle.admit_at("r", "app", false, t0 + Duration::from_secs(61)).unwrap());
        assert!(throttle.admit_at("r", "app", false, t0 + Duration::from_secs(62)).is_err());
        drop(throttle.admit_at("r", "app", false, t0 + Duration::from_secs(120)).unwrap());
    }

    #[test]
    fn batches_have_their_own_limit_and_count_as_requests() {
        let throttle = Throttle::new(limits(5, 2, 10), 1.0);
        let t0 = Instant::now();
        drop(throttle.admit_at("r", "app", true, t0).unwrap());
        drop(throttle.admit_at("r", "app", true, t0).unwrap());
        assert!(throttle.admit_at("r", "app", true, t0).is_err());
        drop(throttle.admit_at("r", "app", false, t0).unwrap());
        drop(throttle.admit_at("r", "app", false, t0).unwrap());
        drop(throttle.admit_at("r", "app", false, t0).unwrap());
        assert!(throttle.admit_at("r", "app", false, t0).is_err(), "2 batches + 3 requests fill 5");
    }

    #[test]
    fn in_flight_slots_are_held_by_guards() {
        let throttle = Throttle::new(limits(100, 10, 2), 1.0);
        let t0 = Instant::now();
        let first = throttle.admit_at("r", "app", false, t0).unwrap();
        let _second = throttle.admit_at("r", "app", false, t0).unwrap();
        assert!(throttle.admit_at("r", "app", false, t0).is_err());
        drop(first);
        assert!(throttle.admit_at("r", "app", false, t0).is_ok());
    }

    #[test]
    fn companies_and_apps_are_counted_apart() {
        let throttle = Throttle::new(limits(1, 1, 10), 1.0);
        let t0 = Instant::now();
        drop(throttle.admit_at("r1", "app", false, t0).unwrap());
        drop(throttle.admit_at("r2", "app", false, t0).unwrap());
        drop(throttle.admit_at("r1", "other", false, t0).unwrap());
        assert!(throttle.admit_at("r1", "app", false, t0).is_err());
        assert_eq!(throttle.throttled_count("r2"), 0);
    }

    #[test]
    fn a_time_scale_shortens_the_minute() {
        let throttle = Throttle::new(limits(1, 1, 10), 60.0);
        let t0 = Instant::now();
        drop(throttle.admit_at("r", "app", false, t0).unwrap());
        assert!(throttle.admit_at("r", "app", false, t0 + Duration::from_millis(900)).is_err());
        assert!(throttle.admit_at("r", "app", false, t0 + Duration::from_millis(1001)).is_ok());
    }

    #[test]
    fn disabled_limits_admit_everything() {
        let throttle = Throttle::new(Limits { enabled: false, ..limits(1, 1, 1) }, 1.0);
        let t0 = Instant::now();
        let guards: Vec<_> = (0..50).map(|_| throttle.admit_at("r", "app", true, t0).unwrap()).collect();
        assert_eq!(guards.len(), 50);
    }
}
