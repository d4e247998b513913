//! Seeded faults in Ledgerline's shape: a share of calls answered 500 or 503, a share
//! answered 429 with `Retry-After`, and a share of writes stored but never answered.
//! The draw itself is qbo-sandbox's [`Injector`], so a seed gives the same sequence here
//! as in the other sandboxes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use qbo_sandbox::inject::{FaultInjection, Injector, Outcome};

#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// Share of calls answered 500 or 503 before anything is done (0..1).
    pub server_error_rate: f64,
    /// Share of calls answered 429 whatever the load (0..1).
    pub rate_limited_rate: f64,
    /// Share of writes stored and then left without an answer: the connection closes (0..1).
    pub drop_after_commit_rate: f64,
    /// The `Retry-After` of a 429, in seconds; 0 lets a test client retry at once.
    pub retry_after_secs: u64,
}

impl Default for Faults {
    fn default() -> Faults {
        Faults { server_error_rate: 0.0, rate_limited_rate: 0.0, drop_after_commit_rate: 0.0, retry_after_secs: 1 }
    }
}

impl Faults {
    pub(crate) fn problem(&self) -> Option<String> {
        [
            ("server error", self.server_error_rate),
            ("rate limited", self.rate_limited_rate),
            ("drop after commit", self.drop_after_commit_rate),
        ]
        .into_iter()
        .find(|(_, rate)| !(0.0..=1.0).contains(rate))
        .map(|(name, rate)| format!("the {name} rate {rate} is not between 0 and 1"))
    }

    fn injection(&self, seed: u64) -> FaultInjection {
        FaultInjection {
            seed,
            server_error_rate: self.server_error_rate,
            throttle_rate: self.rate_limited_rate,
            drop_after_commit_rate: self.drop_after_commit_rate,
            latency_min_ms: 0,
            latency_max_ms: 0,
        }
    }
}

/// What happens to one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    ServerError(u16),
    RateLimited,
    DropAfterCommit,
}

/// Faults answered since the start, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// Injected 500s and 503s.
    pub server_errors: u64,
    /// Injected 429s.
    pub rate_limited: u64,
    /// Writes stored whose connection was closed without an answer.
    pub dropped_after_commit: u64,
}

pub(crate) struct FaultPlan {
    injector: Injector,
    settings: Mutex<(Faults, u64)>,
    server_errors: AtomicU64,
    rate_limited: AtomicU64,
    dropped: AtomicU64,
}

impl FaultPlan {
    pub fn new(faults: Faults, seed: u64) -> FaultPlan {
        FaultPlan {
            injector: Injector::new(faults.injection(seed)),
            settings: Mutex::new((faults, seed)),
            server_errors: AtomicU64::default(),
            rate_limited: AtomicU64::default(),
            dropped: AtomicU64::default(),
        }
    }

    /// New settings, and the sequence started again from the seed.
    pub fn set(&self, faults: Faults) {
        let mut settings = crate::server::lock(&self.settings);
        self.injector.set(faults.injection(settings.1));
        settings.0 = faults;
    }

    pub fn retry_after_secs(&self) -> u64 {
        crate::server::lock(&self.settings).0.retry_after_secs
    }

    /// One draw per call, counted as it is answered. Reads are never dropped.
    pub fn decide(&self, is_write: bool) -> Fault {
        let (fault, counter) = match self.injector.decide(is_write).outcome {
            Outcome::Proceed => return Fault::None,
            Outcome::ServerError(error) => (Fault::ServerError(error.status), &self.server_errors),
            Outcome::Throttle(_) => (Fault::RateLimited, &self.rate_limited),
            Outcome::DropAfterCommit => (Fault::DropAfterCommit, &self.dropped),
        };
        counter.fetch_add(1, Ordering::Relaxed);
        fault
    }

    pub fn counts(&self) -> FaultCounts {
        FaultCounts {
            server_errors: self.server_errors.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
            dropped_after_commit: self.dropped.load(Ordering::Relaxed),
        }
    }
}
