//! The year reviews and the discoveries of a person whose dashboard is
//! open, worked out before they ask: a year's review worked out from its
//! months takes 10–20 ms at a million listens (its songs, artists and
//! albums added up, and the year before's), every month's discoveries
//! 10–20 ms, and either kept answers in under one. They are worked out once
//! the person's figures have not changed for [`SETTLED_AFTER`] (so not
//! after every batch of an import), for one person at a time, latest year
//! first, and asked the way a request asks: the server counting the
//! person's listens works them out and keeps them with the figures.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use app::review::Period;
use app::source::AnalyticsSource;
use chrono::{DateTime, Datelike, Utc};
use tokio::sync::{watch, Semaphore};

use super::live::PersonAnalytics;
use crate::accounts::PersonId;
use crate::aggregate::REVIEWS_KEPT;

/// How many calendar years, back from the latest listen's, are worked out ahead.
pub const YEARS_AHEAD: usize = 12;
const _: () = assert!(
    YEARS_AHEAD < REVIEWS_KEPT,
    "the years must fit in what is kept"
);

/// How long a person's figures must stay as they are before their stories are worked out.
const SETTLED_AFTER: Duration = Duration::from_secs(2);

/// Works out people's year reviews and discoveries ahead; cloning shares it.
#[derive(Clone)]
pub struct StoriesAhead(Arc<WarmerParts>);

struct WarmerParts {
    /// The people whose stories are waiting or being worked out: one run each at a time.
    running: Mutex<HashSet<PersonId>>,
    /// One person's stories at a time, so people opening pages together
    /// take one core from the requests, not both.
    one_at_a_time: Semaphore,
}

impl Default for StoriesAhead {
    fn default() -> Self {
        Self(Arc::new(WarmerParts {
            running: Mutex::default(),
            one_at_a_time: Semaphore::new(1),
        }))
    }
}

impl WarmerParts {
    fn running(&self) -> MutexGuard<'_, HashSet<PersonId>> {
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Takes a person off the running set when their run ends, however it ends.
struct Running {
    parts: Arc<WarmerParts>,
    person: PersonId,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.parts.running().remove(&self.person);
    }
}

/// When a person's figures last changed, as their summary says.
type Changed = Option<DateTime<Utc>>;

impl StoriesAhead {
    /// Works out the stories of the person `analytics` answers for, once
    /// their figures settle, and again until they were not changed while
    /// being worked out; nothing when a run of theirs is under way (it
    /// sees this change), or once the server is `closing`.
    pub fn warm(&self, analytics: PersonAnalytics, closing: watch::Receiver<bool>) {
        let person = analytics.person().clone();
        if !self.0.running().insert(person.clone()) {
            return;
        }
        let running = Running {
            parts: Arc::clone(&self.0),
            person,
        };
        let analytics = analytics.ahead();
        tokio::spawn(async move {
            let mut closing = closing;
            let mut worked_out_as_of: Option<Changed> = None;
            loop {
                let Some(settled) = settled(&analytics, &mut closing).await else {
                    return;
                };
                if worked_out_as_of == Some(settled) {
                    return;
                }
                let Ok(_turn) = running.parts.one_at_a_time.acquire().await else {
                    return;
                };
                work_out_stories(&analytics).await;
                worked_out_as_of = Some(settled);
            }
        });
    }
}

/// When the person's figures last changed, once they have not changed for
/// [`SETTLED_AFTER`]; `None` when they cannot be read or the server stops.
async fn settled(
    analytics: &PersonAnalytics,
    closing: &mut watch::Receiver<bool>,
) -> Option<Changed> {
    let mut last = None;
    loop {
        if *closing.borrow() {
            return None;
        }
        let changed = analytics.summary().await.ok()?.updated_at;
        if last == Some(changed) {
            return Some(changed);
        }
        last = Some(changed);
        tokio::select! {
            () = tokio::time::sleep(SETTLED_AFTER) => {}
            _ = closing.changed() => return None,
        }
    }
}

/// Asks for the reviews of the [`YEARS_AHEAD`] calendar years up to the
/// latest listen's (back to the first listen's), latest first, then the
/// discoveries; stops at the first that cannot be answered.
async fn work_out_stories(analytics: &PersonAnalytics) {
    let Ok(latest) = analytics.review(None).await else {
        return;
    };
    let (Some(first), Some(last)) = (latest.first_day, latest.last_day) else {
        return;
    };
    for year in (first.year()..=last.year()).rev().take(YEARS_AHEAD) {
        if analytics.review(Some(Period::Year(year))).await.is_err() {
            return;
        }
    }
    let _ = analytics.discoveries().await;
}
