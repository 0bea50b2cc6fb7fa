//! Sign-in throttling: after too many failed attempts within a window, for
//! one account name or from one client address, further attempts are
//! refused until the oldest failure leaves the window. Unknown names count
//! like known ones, so the answers never tell which names exist.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// How many failures a key may have within a window.
#[derive(Debug, Clone, Copy)]
pub struct Allowance {
    pub failures: usize,
    pub window: Duration,
}

/// Most keys remembered; beyond it the key idle longest is forgotten, so a
/// flood of made-up names cannot grow memory without bound.
const MAX_KEYS: usize = 100_000;

/// Failed attempts per key (an account name or a client address).
#[derive(Debug)]
pub struct Throttle {
    allowance: Allowance,
    failures: HashMap<String, VecDeque<Instant>>,
}

/// Refused: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl Throttle {
    pub fn new(allowance: Allowance) -> Self {
        Self {
            allowance,
            failures: HashMap::new(),
        }
    }

    /// Whether `key` may try now.
    pub fn check(&mut self, key: &str, now: Instant) -> Result<(), RetryAfter> {
        let Some(failures) = self.failures.get_mut(key) else {
            return Ok(());
        };
        let window = self.allowance.window;
        while failures
            .front()
            .is_some_and(|at| now.saturating_duration_since(*at) >= window)
        {
            failures.pop_front();
        }
        if failures.is_empty() {
            self.failures.remove(key);
            return Ok(());
        }
        if failures.len() < self.allowance.failures {
            return Ok(());
        }
        let oldest = failures[0];
        Err(RetryAfter(
            (oldest + window)
                .saturating_duration_since(now)
                .max(Duration::from_secs(1)),
        ))
    }

    pub fn record_failure(&mut self, key: &str, now: Instant) {
        if self.failures.len() >= MAX_KEYS && !self.failures.contains_key(key) {
            self.make_room(now);
        }
        let failures = self.failures.entry(key.to_string()).or_default();
        failures.push_back(now);
        while failures.len() > self.allowance.failures {
            failures.pop_front();
        }
    }

    /// A successful sign-in clears the key's failures.
    pub fn record_success(&mut self, key: &str) {
        self.failures.remove(key);
    }

    /// Makes room: forgets the keys whose failures all left the window, or
    /// if none did, any one key (cheaply, whatever the number of keys).
    fn make_room(&mut self, now: Instant) {
        let window = self.allowance.window;
        self.failures.retain(|_, failures| {
            failures
                .back()
                .is_some_and(|last| now.saturating_duration_since(*last) < window)
        });
        if self.failures.len() >= MAX_KEYS {
            if let Some(key) = self.failures.keys().next().cloned() {
                self.failures.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> Throttle {
        Throttle::new(Allowance {
            failures: 3,
            window: Duration::from_secs(60),
        })
    }

    #[test]
    fn refuses_after_the_allowed_failures_until_the_oldest_leaves_the_window() {
        let mut throttle = throttle();
        let start = Instant::now();
        for second in 0..3 {
            let at = start + Duration::from_secs(second);
            assert_eq!(throttle.check("ann", at), Ok(()));
            throttle.record_failure("ann", at);
        }
        let now = start + Duration::from_secs(10);
        assert_eq!(
            throttle.check("ann", now),
            Err(RetryAfter(Duration::from_secs(50)))
        );
        assert_eq!(throttle.check("bob", now), Ok(()), "other keys are free");
        assert_eq!(
            throttle.check("ann", start + Duration::from_secs(60)),
            Ok(())
        );
    }

    #[test]
    fn a_success_clears_the_failures() {
        let mut throttle = throttle();
        let now = Instant::now();
        for _ in 0..3 {
            throttle.record_failure("ann", now);
        }
        assert!(throttle.check("ann", now).is_err());
        throttle.record_success("ann");
        assert_eq!(throttle.check("ann", now), Ok(()));
    }

    #[test]
    fn memory_stays_bounded_whatever_the_number_of_keys() {
        let mut throttle = throttle();
        let now = Instant::now();
        for key in 0..MAX_KEYS + 10 {
            throttle.record_failure(&key.to_string(), now);
        }
        assert!(throttle.failures.len() <= MAX_KEYS);
    }
}
