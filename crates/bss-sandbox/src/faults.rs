//! Seeded faults: the failures a BSS client must survive, reproducible from a seed.
//!
//! The decision itself (one seeded draw per request, in a fixed order) is
//! qbo-sandbox's [`Injector`]; this module says what each outcome looks like in
//! BSS's shape: 500/503 and 403 "rate limit exceeded" with `Retry-After` [D codes,
//! I bodies], and a write stored but never answered.

use std::time::Duration;

use qbo_sandbox::inject::{FaultInjection, Injector, Outcome};
use serde::{Deserialize, Serialize};

use crate::server::lock;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Faults {
    /// Share of requests answered 500 or 503 before anything is done (0..1).
    pub server_error_rate: f64,
    /// Share of requests answered 403 "rate limit exceeded" whatever the load (0..1).
    pub rate_limited_rate: f64,
    /// Share of writes stored and then left without an answer: the connection closes (0..1).
    pub drop_after_commit_rate: f64,
    /// Added latency per request, drawn between these (real milliseconds).
    pub latency_min_ms: u64,
    pub latency_max_ms: u64,
    /// `Retry-After` of an injected 403, in sandbox seconds (sent as real seconds).
    pub retry_after_secs: u64,
    /// Whether `/oauth/token` gets faults too (never by default).
    pub on_token_endpoint: bool,
}

impl Default for Faults {
    fn default() -> Faults {
        Faults {
            server_error_rate: 0.0,
            rate_limited_rate: 0.0,
            drop_after_commit_rate: 0.0,
            latency_min_ms: 0,
            latency_max_ms: 0,
            retry_after_secs: 5,
            on_token_endpoint: false,
        }
    }
}

impl Faults {
    fn injection(&self, seed: u64) -> FaultInjection {
        FaultInjection {
            seed,
            server_error_rate: self.server_error_rate,
            throttle_rate: self.rate_limited_rate,
            drop_after_commit_rate: self.drop_after_commit_rate,
            latency_min_ms: self.latency_min_ms,
            latency_max_ms: self.latency_max_ms,
        }
    }
}

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    ServerError(u16),
    RateLimited,
    DropAfterCommit,
}

/// The seeded decider and the settings it was made from.
pub(crate) struct FaultPlan {
    injector: Injector,
    faults: std::sync::Mutex<(Faults, u64)>,
}

impl FaultPlan {
    pub fn new(faults: Faults, seed: u64) -> FaultPlan {
        FaultPlan { injector: Injector::new(faults.injection(seed)), faults: std::sync::Mutex::new((faults, seed)) }
    }

    /// New settings and a fresh sequence from the seed.
    pub fn set(&self, faults: Faults, seed: u64) {
        let mut current = lock(&self.faults);
        self.injector.set(faults.injection(seed));
        *current = (faults, seed);
    }

    pub fn faults(&self) -> Faults {
        lock(&self.faults).0.clone()
    }

    /// One draw: the latency to add and the fault, if any. Reads never drop.
    pub fn decide(&self, is_write: bool) -> (Duration, Fault) {
        let decision = self.injector.decide(is_write);
        let fault = match decision.outcome {
            Outcome::Proceed => Fault::None,
            Outcome::ServerError(fault) => Fault::ServerError(fault.status),
            Outcome::Throttle(_) => Fault::RateLimited,
            Outcome::DropAfterCommit => Fault::DropAfterCommit,
        };
        (decision.latency, fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_one_sequence_and_set_restarts_it() {
        let faults =
            Faults { server_error_rate: 0.2, rate_limited_rate: 0.2, drop_after_commit_rate: 0.2, ..Faults::default() };
        let plan = FaultPlan::new(faults.clone(), 7);
        let first: Vec<Fault> = (0..200).map(|_| plan.decide(true).1).collect();
        plan.set(faults.clone(), 7);
        let again: Vec<Fault> = (0..200).map(|_| plan.decide(true).1).collect();
        assert_eq!(first, again);
        assert!(first.contains(&Fault::ServerError(500)) && first.contains(&Fault::ServerError(503)));
        assert!(first.contains(&Fault::RateLimited) && first.contains(&Fault::DropAfterCommit));
        plan.set(faults, 8);
        let other: Vec<Fault> = (0..200).map(|_| plan.decide(true).1).collect();
        assert_ne!(first, other, "another seed, another sequence");
    }
}
