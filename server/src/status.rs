//! What the consumer task says about itself, for the dashboard and `/readyz`.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

/// Shared health of the ingestion; cloning shares it.
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

    /// Why the last read of the aggregates failed, if it did.
    pub fn read_problem(&self) -> Option<String> {
        self.read(|health| health.read_problem.clone())
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
    /// `None` when nothing does.
    pub fn problem(&self) -> Option<String> {
        self.read(|health| {
            let problems: Vec<String> = [
                health
                    .kafka_problem
                    .as_ref()
                    .map(|kafka| format!("New listens are not arriving: {kafka}")),
                health
                    .store_problem
                    .as_ref()
                    .map(|store| format!("New listens cannot be saved: {store}")),
                health.read_problem.as_ref().map(|read| {
                    format!("The figures shown are the last ones read; reading newer ones failed: {read}")
                }),
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
    fn reports_each_problem_until_it_clears() {
        let status = PipelineStatus::default();
        assert_eq!(status.problem(), None);
        status.kafka_trouble("no broker answered");
        status.store_trouble("connection refused");
        let problem = status.problem().unwrap();
        assert!(problem.contains("no broker answered") && problem.contains("connection refused"));
        status.kafka_ok();
        assert_eq!(
            status.problem().unwrap(),
            "New listens cannot be saved: connection refused"
        );
        status.store_ok();
        assert_eq!(status.problem(), None);
        status.reads_failing("timed out");
        assert!(status.problem().unwrap().contains("last ones read"));
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
