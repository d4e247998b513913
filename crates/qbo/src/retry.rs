//! When to try a request again: a pure function of what failed and how often, so the
//! policy is tested on its own and every caller follows the same one.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy { max_attempts: 6, base_delay: Duration::from_millis(500), max_delay: Duration::from_secs(30) }
    }
}

/// What went wrong with one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure<'a> {
    /// An HTTP answer with this status and, when it carried one, the fault code.
    Status { status: u16, code: Option<&'a str> },
    /// No answer in time.
    Timeout,
    /// The connection closed before the answer was complete.
    ConnectionDropped,
    /// The server could not be reached: nothing was sent.
    Connect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    RetryAfter(Duration),
    /// The access token was refused: get a fresh one (once) and try again.
    RefreshThenRetry,
    GiveUp,
}

/// `attempt` is the number of the attempt that failed (1 for the first); `jitter`
/// in 0..1 spreads retries of many clients apart (the caller draws it).
pub fn decide(
    policy: &RetryPolicy,
    failure: Failure<'_>,
    attempt: u32,
    refreshed_already: bool,
    jitter: f64,
) -> Decision {
    let backoff = || {
        if attempt >= policy.max_attempts {
            return Decision::GiveUp;
        }
        let exponential = policy.base_delay.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let capped = exponential.min(policy.max_delay);
        // Full jitter on the upper half: never less than half the backoff.
        let spread = capped.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0));
        Decision::RetryAfter(spread)
    };
    match failure {
        Failure::Status { status: 401, .. } if !refreshed_already => Decision::RefreshThenRetry,
        Failure::Status { status: 401, .. } => Decision::GiveUp,
        Failure::Status { status: 429 | 500 | 502 | 503 | 504, .. } => backoff(),
        Failure::Status { code: Some("3001"), .. } => backoff(),
        Failure::Status { .. } => Decision::GiveUp,
        Failure::Timeout | Failure::ConnectionDropped | Failure::Connect => backoff(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy =
        RetryPolicy { max_attempts: 4, base_delay: Duration::from_millis(100), max_delay: Duration::from_millis(350) };

    #[test]
    fn the_table() {
        use Decision::*;
        let ms = Duration::from_millis;
        let status = |status, code| Failure::Status { status, code };
        let cases: [(Failure<'_>, u32, bool, f64, Decision); 15] = [
            (status(429, Some("3001")), 1, false, 1.0, RetryAfter(ms(100))),
            (status(429, Some("3001")), 2, false, 1.0, RetryAfter(ms(200))),
            (status(429, Some("3001")), 3, false, 1.0, RetryAfter(ms(350))),
            (status(429, Some("3001")), 4, false, 1.0, GiveUp),
            (status(503, None), 1, false, 0.0, RetryAfter(ms(50))),
            (status(500, Some("10000")), 1, false, 1.0, RetryAfter(ms(100))),
            (Failure::Timeout, 2, false, 1.0, RetryAfter(ms(200))),
            (Failure::ConnectionDropped, 1, false, 1.0, RetryAfter(ms(100))),
            (Failure::Connect, 1, false, 1.0, RetryAfter(ms(100))),
            (status(401, Some("3200")), 1, false, 1.0, RefreshThenRetry),
            (status(401, Some("3200")), 2, true, 1.0, GiveUp),
            (status(400, Some("5010")), 1, false, 1.0, GiveUp),
            (status(400, Some("6240")), 1, false, 1.0, GiveUp),
            (status(400, Some("2020")), 1, false, 1.0, GiveUp),
            (status(403, Some("3100")), 1, false, 1.0, GiveUp),
        ];
        for (failure, attempt, refreshed, jitter, expected) in cases {
            assert_eq!(decide(&POLICY, failure, attempt, refreshed, jitter), expected, "{failure:?} attempt {attempt}");
        }
    }

    #[test]
    fn jitter_stays_within_half_to_full_backoff() {
        for jitter in [0.0, 0.25, 0.5, 0.99] {
            let Decision::RetryAfter(delay) = decide(&POLICY, Failure::Timeout, 2, false, jitter) else { panic!() };
            assert!(delay >= Duration::from_millis(100) && delay <= Duration::from_millis(200), "{delay:?}");
        }
    }
}
