//! Seeded, deterministic fault injection: the failures a client must survive.
//!
//! "Drop after commit" is the nasty one: the write is stored (and its answer kept
//! under its requestid) but the connection closes before the answer is sent.

use std::sync::Mutex;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::fault::Fault;
use crate::server::lock;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultInjection {
    pub seed: u64,
    /// Share of API requests answered 500 or 503 before anything is done.
    pub server_error_rate: f64,
    /// Share of API requests answered 429 whatever the load.
    pub throttle_rate: f64,
    /// Share of writes committed and then left without an answer.
    pub drop_after_commit_rate: f64,
    pub latency_min_ms: u64,
    pub latency_max_ms: u64,
}

#[derive(Debug)]
pub enum Outcome {
    Proceed,
    ServerError(Fault),
    Throttle(Fault),
    DropAfterCommit,
}

#[derive(Debug)]
pub struct Decision {
    pub latency: Duration,
    pub outcome: Outcome,
}

pub struct Injector {
    state: Mutex<(FaultInjection, ChaCha8Rng)>,
}

impl Injector {
    pub fn new(config: FaultInjection) -> Injector {
        let rng = ChaCha8Rng::seed_from_u64(config.seed);
        Injector { state: Mutex::new((config, rng)) }
    }

    /// New settings, and a fresh sequence from their seed.
    pub fn set(&self, config: FaultInjection) {
        let rng = ChaCha8Rng::seed_from_u64(config.seed);
        *lock(&self.state) = (config, rng);
    }

    pub fn config(&self) -> FaultInjection {
        lock(&self.state).0.clone()
    }

    /// One decision per API request. The draws always happen in the same order, so a
    /// seed gives the same sequence of decisions for the same sequence of requests.
    pub fn decide(&self, is_write: bool) -> Decision {
        let mut state = lock(&self.state);
        let (config, rng) = &mut *state;
        let low = config.latency_min_ms.min(config.latency_max_ms);
        let high = config.latency_max_ms.max(config.latency_min_ms);
        let latency = Duration::from_millis(if high > low { rng.random_range(low..=high) } else { low });
        let server_error: f64 = rng.random();
        let throttle: f64 = rng.random();
        let drop: f64 = rng.random();
        let use_503: bool = rng.random();
        let outcome = if server_error < config.server_error_rate {
            let status = if use_503 { 503 } else { 500 };
            Outcome::ServerError(Fault::system(status, format!("Injected server error {status}")))
        } else if throttle < config.throttle_rate {
            Outcome::Throttle(Fault::throttled())
        } else if is_write && drop < config.drop_after_commit_rate {
            Outcome::DropAfterCommit
        } else {
            Outcome::Proceed
        };
        Decision { latency, outcome }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(decision: &Decision) -> &'static str {
        match decision.outcome {
            Outcome::Proceed => "ok",
            Outcome::ServerError(_) => "5xx",
            Outcome::Throttle(_) => "429",
            Outcome::DropAfterCommit => "drop",
        }
    }

    fn config() -> FaultInjection {
        FaultInjection {
            seed: 42,
            server_error_rate: 0.1,
            throttle_rate: 0.05,
            drop_after_commit_rate: 0.05,
            latency_min_ms: 2,
            latency_max_ms: 9,
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_sequence() {
        let a = Injector::new(config());
        let b = Injector::new(config());
        let first: Vec<_> = (0..500).map(|i| (label(&a.decide(i % 2 == 0)), a.decide(true).latency)).collect();
        let second: Vec<_> = (0..500).map(|i| (label(&b.decide(i % 2 == 0)), b.decide(true).latency)).collect();
        assert_eq!(first, second);
        b.set(config());
        let again: Vec<_> = (0..500).map(|i| (label(&b.decide(i % 2 == 0)), b.decide(true).latency)).collect();
        assert_eq!(first, again, "set() reseeds");
    }

    #[test]
    fn rates_are_roughly_honoured_and_reads_never_drop() {
        let injector = Injector::new(config());
        let mut counts = std::collections::HashMap::new();
        for _ in 0..10_000 {
            let decision = injector.decide(true);
            assert!((2..=9).contains(&(decision.latency.as_millis() as u64)));
            *counts.entry(label(&decision)).or_insert(0u32) += 1;
        }
        let share = |k: &str| f64::from(*counts.get(k).unwrap_or(&0)) / 10_000.0;
        assert!((0.08..0.12).contains(&share("5xx")), "{counts:?}");
        assert!((0.03..0.07).contains(&share("429")), "{counts:?}");
        assert!((0.03..0.06).contains(&share("drop")), "{counts:?}");
        for _ in 0..2_000 {
            assert_ne!(label(&injector.decide(false)), "drop");
        }
    }

    #[test]
    fn no_configuration_means_no_faults() {
        let injector = Injector::new(FaultInjection::default());
        for _ in 0..1_000 {
            let decision = injector.decide(true);
            assert_eq!(label(&decision), "ok");
            assert!(decision.latency.is_zero());
        }
    }
}
