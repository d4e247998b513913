//! Staying under QuickBooks' limits instead of hitting them: per company and app,
//! 500 requests and 40 batch calls a minute and 10 in flight. Every task of the
//! process that talks to one company shares one throttle (see [`for_company`]), and
//! callers wait for room rather than fail.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub requests_per_minute: u32,
    pub batch_per_minute: u32,
    pub max_in_flight: u32,
    /// QuickBooks minutes per real minute (match the sandbox's `--time-scale`).
    pub time_scale: f64,
    /// How much longer than a minute our window is: the server sees each request a
    /// little after we send it, so an exact window could overrun its count.
    pub safety_margin: f64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            requests_per_minute: 500,
            batch_per_minute: 40,
            max_in_flight: 10,
            time_scale: 1.0,
            safety_margin: 0.03,
        }
    }
}

impl Limits {
    /// The span over which the limits are counted, in real time, with the safety margin.
    pub fn window(&self) -> Duration {
        let scale = if self.time_scale.is_finite() && self.time_scale > 0.0 { self.time_scale } else { 1.0 };
        Duration::from_secs_f64(60.0 / scale * (1.0 + self.safety_margin.max(0.0)))
    }
}

#[derive(Default)]
struct Window {
    requests: VecDeque<Instant>,
    batches: VecDeque<Instant>,
}

pub struct CompanyThrottle {
    limits: Limits,
    window: Mutex<Window>,
    in_flight: Arc<Semaphore>,
}

/// Room for one request: holds an in-flight slot until dropped (after the whole
/// answer has been read).
#[derive(Debug)]
pub struct Permit {
    _slot: OwnedSemaphorePermit,
}

impl CompanyThrottle {
    pub fn new(limits: Limits) -> CompanyThrottle {
        let slots = limits.max_in_flight.max(1) as usize;
        CompanyThrottle { limits, window: Mutex::new(Window::default()), in_flight: Arc::new(Semaphore::new(slots)) }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Whether a batch call would be sent at once: the minute's batch calls are not used up.
    pub fn has_batch_room(&self) -> bool {
        let mut window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let length = self.limits.window();
        while window.batches.front().is_some_and(|t| now.duration_since(*t) >= length) {
            window.batches.pop_front();
        }
        window.batches.len() < self.limits.batch_per_minute as usize
    }

    /// Waits until one more request (a batch call when `is_batch`) fits every limit.
    pub async fn acquire(&self, is_batch: bool) -> Permit {
        let slot = self.in_flight.clone().acquire_owned().await.expect("the throttle's semaphore is never closed");
        loop {
            let wait = {
                let mut window = self.window.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                let length = self.limits.window();
                while window.requests.front().is_some_and(|t| now.duration_since(*t) >= length) {
                    window.requests.pop_front();
                }
                while window.batches.front().is_some_and(|t| now.duration_since(*t) >= length) {
                    window.batches.pop_front();
                }
                let requests_full = window.requests.len() >= self.limits.requests_per_minute as usize;
                let batches_full = is_batch && window.batches.len() >= self.limits.batch_per_minute as usize;
                if !requests_full && !batches_full {
                    window.requests.push_back(now);
                    if is_batch {
                        window.batches.push_back(now);
                    }
                    None
                } else {
                    // Sleep until the oldest entry that blocks us leaves the window.
                    let oldest = match (requests_full, batches_full) {
                        (true, true) => window.requests[0].min(window.batches[0]),
                        (true, false) => window.requests[0],
                        _ => window.batches[0],
                    };
                    Some(length.saturating_sub(now.duration_since(oldest)) + Duration::from_millis(1))
                }
            };
            match wait {
                None => return Permit { _slot: slot },
                Some(wait) => tokio::time::sleep(wait).await,
            }
        }
    }
}

/// The one throttle of a company (base URL + realm + app) in this process.
pub fn for_company(base_url: &str, realm_id: &str, client_key: &str, limits: Limits) -> Arc<CompanyThrottle> {
    static REGISTRY: OnceLock<Mutex<HashMap<String, Arc<CompanyThrottle>>>> = OnceLock::new();
    let key = format!("{base_url}|{realm_id}|{client_key}");
    let mut registry = REGISTRY.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    let throttle = registry.entry(key).or_insert_with(|| Arc::new(CompanyThrottle::new(limits)));
    if throttle.limits() != limits {
        *throttle = Arc::new(CompanyThrottle::new(limits));
    }
    throttle.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(requests: u32, batches: u32, in_flight: u32) -> Limits {
        Limits {
            requests_per_minute: requests,
            batch_per_minute: batches,
            max_in_flight: in_flight,
            time_scale: 1.0,
            safety_margin: 0.0,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_request_limit_makes_callers_wait_a_window() {
        let throttle = CompanyThrottle::new(limits(3, 10, 10));
        let start = Instant::now();
        for _ in 0..3 {
            drop(throttle.acquire(false).await);
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        drop(throttle.acquire(false).await);
        assert!(start.elapsed() >= Duration::from_secs(60), "{:?}", start.elapsed());
        assert!(start.elapsed() < Duration::from_secs(61));
    }

    #[tokio::test(start_paused = true)]
    async fn batches_have_their_own_limit() {
        let throttle = CompanyThrottle::new(limits(100, 2, 10));
        let start = Instant::now();
        drop(throttle.acquire(true).await);
        drop(throttle.acquire(true).await);
        drop(throttle.acquire(false).await);
        assert_eq!(start.elapsed(), Duration::ZERO, "plain requests are not held back by the batch limit");
        drop(throttle.acquire(true).await);
        assert!(start.elapsed() >= Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn in_flight_slots_are_held_until_the_permit_drops() {
        let throttle = Arc::new(CompanyThrottle::new(limits(100, 10, 1)));
        let held = throttle.acquire(false).await;
        let waiter = {
            let throttle = throttle.clone();
            tokio::spawn(async move { throttle.acquire(false).await })
        };
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(!waiter.is_finished());
        drop(held);
        waiter.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_time_scale_shortens_the_window() {
        let throttle = CompanyThrottle::new(Limits { time_scale: 60.0, ..limits(1, 1, 1) });
        let start = Instant::now();
        drop(throttle.acquire(false).await);
        drop(throttle.acquire(false).await);
        assert!(start.elapsed() >= Duration::from_secs(1) && start.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn one_throttle_per_company_in_the_process() {
        let a = for_company("http://x", "1", "app", Limits::default());
        let b = for_company("http://x", "1", "app", Limits::default());
        let c = for_company("http://x", "2", "app", Limits::default());
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
    }
}
