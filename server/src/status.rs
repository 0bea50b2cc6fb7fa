//! What the consumer task says about itself, for the dashboard and `/readyz`.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

const KAFKA_PROBLEM: &str = "New listens are not arriving: the message broker does not answer";
const STORE_PROBLEM: &str = "New listens cannot be saved: the database does not answer";
const READ_PROBLEM: &str = "The figures shown are the last ones read: the database does not answer";

/// Shared health of the ingestion; cloning shares it. Each problem's
/// details are kept for the log; people are told only what they mean.
#[derive(Clone, Default)]
pub struct PipelineStatus {
    inner: Arc<RwLock<Health>>,
}

#[derive(Default, Clone)]
struct Health {
    kafka_problem: Option<String>,
    store_problem: Option<String>,
    /// Why the figures served are the last ones read rather than current ones.
    read_problem: Option<String>,
    events_counted: u64,
    last_batch_at: Option<DateTime<Utc>>,
}

impl PipelineStatus {
    pub fn kafka_trouble(&self, problem: impl Into<String>) {
        self.update(|health| health.kafka_problem = Some(problem.into()));
    }

    pub fn kafka_ok(&self) {
        if self.read(|health| health.kafka_problem.is_some()) {
            self.update(|health| health.kafka_problem = None);
        }
    }

    pub fn store_trouble(&self, problem: impl Into<String>) {
        self.update(|health| health.store_problem = Some(problem.into()));
    }

    pub fn store_ok(&self) {
        if self.read(|health| health.store_problem.is_some()) {
            self.update(|health| health.store_problem = None);
        }
    }

    /// The aggregates could not be read; the last ones read are served meanwhile.
    pub fn reads_failing(&self, problem: impl Into<String>) {
        self.update(|health| health.read_problem = Some(problem.into()));
    }

    /// Why the figures are not being read, for a person, if they are not.
    pub fn read_problem(&self) -> Option<String> {
        self.read(|health| health.read_problem.is_some())
            .then(|| READ_PROBLEM.to_string())
    }

    pub fn reads_ok(&self) {
        if self.read(|health| health.read_problem.is_some()) {
            self.update(|health| health.read_problem = None);
        }
    }

    pub fn batch_applied(&self, events: u64) {
        self.update(|health| {
            health.events_counted += events;
            health.last_batch_at = Some(Utc::now());
        });
    }

    /// What keeps the figures served from being current, for a person;
    /// `None` when nothing does. The details (hosts, user names, broker
    /// lists) stay in the log and on the monitoring address.
    pub fn problem(&self) -> Option<String> {
        self.read(|health| {
            let problems: Vec<&str> = [
                health.kafka_problem.as_ref().map(|_| KAFKA_PROBLEM),
                health.store_problem.as_ref().map(|_| STORE_PROBLEM),
                health.read_problem.as_ref().map(|_| READ_PROBLEM),
            ]
            .into_iter()
            .flatten()
            .collect();
            (!problems.is_empty()).then(|| problems.join(". "))
        })
    }

    /// Events this process has counted since it started.
    pub fn events_counted(&self) -> u64 {
        self.read(|health| health.events_counted)
    }

    fn read<T>(&self, f: impl FnOnce(&Health) -> T) -> T {
        match self.inner.read() {
            Ok(health) => f(&health),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }

    fn update(&self, f: impl FnOnce(&mut Health)) {
        match self.inner.write() {
            Ok(mut health) => f(&mut health),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_each_problem_until_it_clears_without_its_details() {
        let status = PipelineStatus::default();
        assert_eq!(status.problem(), None);
        status.kafka_trouble("no broker answered at kafka-1.internal:9092");
        status.store_trouble("mongodb://ann@db.internal: connection refused");
        let problem = status.problem().unwrap();
        assert!(problem.contains(KAFKA_PROBLEM) && problem.contains(STORE_PROBLEM));
        assert!(!problem.contains(".internal") && !problem.contains("ann@"));
        status.kafka_ok();
        assert_eq!(status.problem().unwrap(), STORE_PROBLEM);
        status.store_ok();
        assert_eq!(status.problem(), None);
        status.reads_failing("timed out");
        assert_eq!(status.problem().unwrap(), READ_PROBLEM);
        assert_eq!(status.read_problem().unwrap(), READ_PROBLEM);
        status.reads_ok();
        assert_eq!(status.problem(), None);
    }

    #[test]
    fn counts_events_across_batches() {
        let status = PipelineStatus::default();
        status.batch_applied(3);
        status.batch_applied(4);
        assert_eq!(status.events_counted(), 7);
    }
}
