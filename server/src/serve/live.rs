//! The figures the dashboard and the API serve: each person's leaderboards,
//! re-read from MongoDB in the background as soon as this server wrote
//! some, and every [`REFRESH_EVERY`] in any case (the
//! partitions' heads, then only the people who changed, each an exact `_id`
//! read). A request never waits for the database, and the database sees at
//! most 25 reads a second (while this server writes leaderboards; 5 when
//! it does not), whatever the traffic. When a read fails, the last
//! figures read stay served and the pipeline status says they are not
//! current. Every question is asked for one person ([`PersonAnalytics`]),
//! and only their own figures can answer it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::model::{Dashboard, Limit, PipelineHealth, Summary, TopArtist, TopSong};
use app::range::{ArtistDetail, RangeQuery, RangeView, SongDetail};

use super::ask::{Answered, Asker};
use super::owners::Directory;
use crate::rollup::question::{Answer, Asked, Question, Refusal};
use crate::zone::Zone;
use app::review::{Period, Review, SessionGap, SessionsView};
use app::skips::SkipStory;
use app::source::{AnalyticsSource, SourceError};
use app::stories::{Calendar, DiscoveryMonth};
use async_trait::async_trait;
use tokio::sync::watch;
use tokio::time::{sleep, sleep_until, timeout, Instant};

use crate::accounts::PersonId;
use crate::rollup::held::{Freshness, Held};
use crate::status::PipelineStatus;
use crate::store::leaderboard::{Leaderboards, WrittenSignal};
use crate::store::{StoreError, TopicStore};

/// How often the figures are read again when this server wrote none
/// (another instance may have).
const REFRESH_EVERY: Duration = Duration::from_millis(200);
/// The least time between two reads of the figures: while listens pour in,
/// leaderboards are written many times a second, and reading each would
/// take the database's time from counting.
const MIN_READ_GAP: Duration = Duration::from_millis(40);
/// Longest the reader waits at start for the consumer's first assignment
/// before loading every partition itself. Short: after a crash, the group
/// waits for the dead member's session to time out (10 s) before it assigns
/// anything, and the leaderboards are served from MongoDB meanwhile, so a
/// longer wait left every range empty beside exact totals for that long.
const FIRST_ASSIGNMENT_WAIT: Duration = Duration::from_secs(2);
/// How long a read may take before it counts as failed.
const READ_PATIENCE: Duration = Duration::from_secs(1);

/// Everyone's latest leaderboards, as read together, and the partitions
/// each person's figures are in.
#[derive(Debug, Default)]
pub struct Everyone {
    pub people: HashMap<PersonId, Arc<Leaderboards>>,
    pub partitions: HashMap<PersonId, Vec<i32>>,
}

/// The latest figures read; `None` until the first read.
pub type Figures = Option<Arc<Everyone>>;

/// Everyone's latest figures, shared by every request.
pub struct LiveAnalytics {
    latest: watch::Receiver<Figures>,
    status: PipelineStatus,
    asker: Asker,
    /// Each person's dashboard as pushed to open pages, made once per change.
    payloads: Mutex<HashMap<PersonId, SharedPayload>>,
}

/// A person's pushed dashboard, and what it was made of.
struct SharedPayload {
    leaderboards: Arc<Leaderboards>,
    problem: Option<String>,
    json: Arc<str>,
}

impl LiveAnalytics {
    /// Starts reading the figures, and following the partitions no live
    /// server counts into the held ones, in the background; call inside a
    /// Tokio runtime. `written` rings when this server's consumer wrote
    /// leaderboards.
    pub fn start(
        store: TopicStore,
        status: PipelineStatus,
        asker: Asker,
        directory: Directory,
        written: WrittenSignal,
    ) -> Self {
        let (publish, latest) = watch::channel(None);
        tokio::spawn(follow_partitions(
            store.clone(),
            asker.held().clone(),
            directory,
            publish.clone(),
        ));
        tokio::spawn(refresh(store, status.clone(), written, publish));
        Self {
            latest,
            status,
            asker,
            payloads: Mutex::new(HashMap::new()),
        }
    }

    /// Hears of every change of anyone's figures.
    pub fn changes(&self) -> watch::Receiver<Figures> {
        self.latest.clone()
    }

    /// The questions one person may ask: about their own listens only,
    /// their days and hours in `zone`.
    pub fn for_person(self: &Arc<Self>, person: &PersonId, zone: Zone) -> PersonAnalytics {
        PersonAnalytics {
            person: person.clone(),
            zone,
            freshness: Freshness::Current,
            live: self.clone(),
        }
    }

    /// A person's latest leaderboards (empty ones before they have listens);
    /// right after start, waits briefly for the first read.
    async fn leaderboards(&self, person: &PersonId) -> Result<Arc<Leaderboards>, SourceError> {
        let stored = self.stored_leaderboards(person).await?;
        if self.partitions_of(person).len() > 1 {
            return self.leaderboards_across(person, &stored).await;
        }
        Ok(stored)
    }

    /// A person's leaderboards as the partitions published them (added up
    /// when they are in several).
    async fn stored_leaderboards(
        &self,
        person: &PersonId,
    ) -> Result<Arc<Leaderboards>, SourceError> {
        let pick = |everyone: &Everyone| everyone.people.get(person).cloned().unwrap_or_default();
        if let Some(everyone) = self.latest.borrow().as_ref() {
            return Ok(pick(everyone));
        }
        let mut latest = self.latest.clone();
        let first = timeout(READ_PATIENCE, latest.wait_for(Option::is_some)).await;
        match first {
            Ok(Ok(everyone)) => Ok(everyone.as_ref().map(|e| pick(e)).unwrap_or_default()),
            _ => Err(SourceError(self.status.read_problem().unwrap_or_else(
                || format!("MongoDB did not answer within {READ_PATIENCE:?}"),
            ))),
        }
    }

    /// The leaderboards of a person whose listens lie in several partitions
    /// (partitions were added to the topic), from the partitions' figures
    /// together: each partition's rankings stop at their hundredth row and
    /// count the songs and artists found in it, so adding them up would
    /// leave plays out and count a song heard in two partitions twice.
    async fn leaderboards_across(
        &self,
        person: &PersonId,
        stored: &Leaderboards,
    ) -> Result<Arc<Leaderboards>, SourceError> {
        let asked = Question::Standing.in_zone(Zone::UTC);
        let answered = self.ask(person, &asked, Freshness::Current).await?;
        let mut together = match &*answered.answer {
            Ok(Answer::Standing(together)) => together.clone(),
            Err(refusal) => return Err(SourceError(refusal.to_string())),
            Ok(_) => return Err(unexpected()),
        };
        // As of the partitions' last publication, as everyone else's.
        together.summary.updated_at = stored.summary.updated_at;
        Ok(Arc::new(together))
    }

    /// Whether new listens are being counted right now (the same for everyone).
    pub fn health(&self) -> PipelineHealth {
        PipelineHealth {
            problem: self.status.problem(),
        }
    }

    /// Listens held here: of partitions counted here, of partitions followed here.
    pub fn listens_held(&self) -> (i64, i64) {
        self.asker.held().listens()
    }

    /// Answers a question about a person's listens, wherever they are held.
    pub async fn ask(
        &self,
        person: &PersonId,
        question: &Asked,
        freshness: Freshness,
    ) -> Result<Answered, SourceError> {
        let partitions = self.partitions_of(person);
        self.asker
            .ask(person, &partitions, question, freshness)
            .await
            .map_err(|error| SourceError(error.to_string()))
    }

    /// The partitions a person's figures are in (more than one once
    /// partitions were added to the topic); none before any.
    pub fn partitions_of(&self, person: &PersonId) -> Vec<i32> {
        self.latest
            .borrow()
            .as_ref()
            .and_then(|everyone| everyone.partitions.get(person).cloned())
            .unwrap_or_default()
    }

    /// How many listens a person has counted; 0 before any.
    pub async fn listens_of(&self, person: &PersonId) -> Result<i64, SourceError> {
        Ok(self.leaderboards(person).await?.summary.events)
    }

    /// A person's dashboard (`rows` long rankings) as JSON for open pages:
    /// made once per change of their figures or of the pipeline's health,
    /// and shared by all their open pages.
    pub async fn dashboard_payload(
        &self,
        person: &PersonId,
        rows: Limit,
    ) -> Result<Arc<str>, SourceError> {
        let leaderboards = self.leaderboards(person).await?;
        let health = self.health();
        let mut payloads = self
            .payloads
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(shared) = payloads.get(person) {
            if Arc::ptr_eq(&shared.leaderboards, &leaderboards) && shared.problem == health.problem
            {
                return Ok(shared.json.clone());
            }
        }
        let dashboard = dashboard_of(&leaderboards, rows, health.clone());
        let payload: Arc<str> = serde_json::to_string(&dashboard)
            .map_err(|error| SourceError(error.to_string()))?
            .into();
        payloads.insert(
            person.clone(),
            SharedPayload {
                leaderboards,
                problem: health.problem,
                json: payload.clone(),
            },
        );
        Ok(payload)
    }
}

fn dashboard_of(leaderboards: &Leaderboards, limit: Limit, health: PipelineHealth) -> Dashboard {
    Dashboard {
        summary: leaderboards.summary.clone(),
        top_songs: first(&leaderboards.top_songs, limit),
        top_artists: first(&leaderboards.top_artists, limit),
        health,
    }
}

/// Each person's partitions and the position at which they last changed there.
type Versions = HashMap<PersonId, BTreeMap<i32, i64>>;

/// Reads the figures again and again until the server stops.
async fn refresh(
    store: TopicStore,
    status: PipelineStatus,
    written: WrittenSignal,
    publish: watch::Sender<Figures>,
) {
    let mut known = Versions::new();
    while !publish.is_closed() {
        let started = Instant::now();
        match timeout(READ_PATIENCE, read_changes(&store, &mut known, &publish)).await {
            Ok(Ok(())) => status.reads_ok(),
            Ok(Err(error)) => status.reads_failing(error.to_string()),
            Err(_) => {
                status.reads_failing(format!("MongoDB did not answer within {READ_PATIENCE:?}"))
            }
        }
        tokio::select! {
            () = sleep(REFRESH_EVERY) => {}
            () = written.heard() => {}
        }
        sleep_until(started + MIN_READ_GAP).await;
    }
}

/// Reads the heads, then the leaderboards of whoever changed since `known`,
/// and publishes everyone's figures when anything changed (or at the first read).
async fn read_changes(
    store: &TopicStore,
    known: &mut Versions,
    publish: &watch::Sender<Figures>,
) -> Result<(), StoreError> {
    let mut now = Versions::new();
    for (partition, heads) in store.leaderboard_heads().await? {
        for (person, version) in heads {
            now.entry(person).or_default().insert(partition, version);
        }
    }
    let partitions = now
        .iter()
        .map(|(person, versions)| (person.clone(), versions.keys().copied().collect()))
        .collect();
    let current = publish.borrow().clone();
    let kept = |person: &PersonId| {
        current
            .as_ref()
            .and_then(|everyone| everyone.people.get(person))
            .filter(|_| known.get(person) == now.get(person))
            .cloned()
    };
    // Whose figures to read again, partition by partition.
    let mut to_read: BTreeMap<i32, Vec<&PersonId>> = BTreeMap::new();
    for (person, versions) in &now {
        if kept(person).is_none() {
            for partition in versions.keys() {
                to_read.entry(*partition).or_default().push(person);
            }
        }
    }
    let mut read: HashMap<PersonId, Vec<Leaderboards>> = HashMap::new();
    for (partition, people) in &to_read {
        for (person, leaderboards) in store.partition_leaderboards(*partition, people).await? {
            read.entry(person).or_default().push(leaderboards);
        }
    }
    let changed = current.is_none() || now.len() != known.len() || !to_read.is_empty();
    let people = now
        .keys()
        .map(|person| {
            let leaderboards = kept(person).unwrap_or_else(|| {
                Arc::new(Leaderboards::merge(read.remove(person).unwrap_or_default()))
            });
            (person.clone(), leaderboards)
        })
        .collect();
    *known = now;
    if changed {
        publish.send_replace(Some(Arc::new(Everyone { people, partitions })));
    }
    Ok(())
}

/// Follows the partitions this server's consumer does not own into
/// `held` until the server stops. No time limit here: the first load of a
/// large history takes a while.
async fn follow_partitions(
    store: TopicStore,
    held: Held,
    directory: Directory,
    figures: watch::Sender<Figures>,
) {
    // What this server's consumer is assigned, it loads: wait to know what.
    let started = Instant::now();
    while !held.assignment_known() && started.elapsed() < FIRST_ASSIGNMENT_WAIT {
        sleep(Duration::from_millis(50)).await;
    }
    let mut failing = false;
    while !figures.is_closed() {
        let owned_elsewhere = |partition| directory.owner_elsewhere(partition).is_some();
        match store.follow_partitions(&held, owned_elsewhere).await {
            Ok(_) if failing => {
                failing = false;
                tracing::info!("following the partitions works again");
            }
            Ok(_) => {}
            Err(error) if !failing => {
                failing = true;
                tracing::warn!("following the partitions failed, retrying: {error}");
            }
            Err(_) => {}
        }
        sleep(REFRESH_EVERY).await;
    }
}

fn first<T: Clone>(rows: &[T], limit: Limit) -> Vec<T> {
    rows.iter().take(limit.get() as usize).cloned().collect()
}

/// One person's figures: what a request acting for them may read.
#[derive(Clone)]
pub struct PersonAnalytics {
    person: PersonId,
    zone: Zone,
    /// How current its answers must be: the figures as they are now.
    freshness: Freshness,
    live: Arc<LiveAnalytics>,
}

impl PersonAnalytics {
    /// Whose figures these are.
    pub fn person(&self) -> &PersonId {
        &self.person
    }

    /// The same questions asked to be worked out ahead ([`Freshness::Ahead`]).
    pub fn ahead(self) -> Self {
        Self {
            freshness: Freshness::Ahead,
            ..self
        }
    }

    /// The answer to a question about their listens; `None` when there is
    /// no such artist or song.
    async fn ask(&self, question: &Question) -> Result<Option<Answer>, SourceError> {
        // A page shows what was just pushed to it: the figures as they are.
        let asked = question.clone().in_zone(self.zone);
        let answered = self.live.ask(&self.person, &asked, self.freshness).await?;
        match &*answered.answer {
            Ok(answer) => Ok(Some(answer.clone())),
            Err(Refusal::NoSuch(_)) => Ok(None),
            Err(Refusal::BadRequest(why)) => Err(SourceError(why.clone())),
            Err(refused @ Refusal::Unanswered(_)) => Err(SourceError(refused.to_string())),
        }
    }
}

fn unexpected() -> SourceError {
    SourceError("the server holding these listens answered another question".into())
}

#[async_trait]
impl AnalyticsSource for PersonAnalytics {
    async fn summary(&self) -> Result<Summary, SourceError> {
        Ok(self.live.leaderboards(&self.person).await?.summary.clone())
    }

    async fn top_songs(&self, limit: Limit) -> Result<Vec<TopSong>, SourceError> {
        Ok(first(
            &self.live.leaderboards(&self.person).await?.top_songs,
            limit,
        ))
    }

    async fn top_artists(&self, limit: Limit) -> Result<Vec<TopArtist>, SourceError> {
        Ok(first(
            &self.live.leaderboards(&self.person).await?.top_artists,
            limit,
        ))
    }

    async fn dashboard(&self, limit: Limit) -> Result<Dashboard, SourceError> {
        let leaderboards = self.live.leaderboards(&self.person).await?;
        Ok(dashboard_of(&leaderboards, limit, self.health()))
    }

    async fn range_view(&self, query: &RangeQuery, limit: Limit) -> Result<RangeView, SourceError> {
        let question = Question::View {
            query: *query,
            limit,
        };
        match self.ask(&question).await? {
            Some(Answer::View(view)) => Ok(view),
            _ => Err(unexpected()),
        }
    }

    async fn artist_detail(
        &self,
        name: &str,
        query: &RangeQuery,
    ) -> Result<Option<ArtistDetail>, SourceError> {
        let question = Question::Artist {
            name: name.to_string(),
            query: *query,
            limit: Limit::DEFAULT,
        };
        match self.ask(&question).await? {
            Some(Answer::Artist(detail)) => Ok(Some(detail)),
            None => Ok(None),
            _ => Err(unexpected()),
        }
    }

    async fn song_detail(
        &self,
        track_uri: &str,
        query: &RangeQuery,
    ) -> Result<Option<SongDetail>, SourceError> {
        let question = Question::Song {
            uri: track_uri.to_string(),
            query: *query,
        };
        match self.ask(&question).await? {
            Some(Answer::Song(detail)) => Ok(Some(detail)),
            None => Ok(None),
            _ => Err(unexpected()),
        }
    }

    async fn calendar(&self, year: Option<i32>) -> Result<Calendar, SourceError> {
        match self.ask(&Question::calendar(year, self.zone)).await? {
            Some(Answer::Calendar(calendar)) => Ok(calendar),
            _ => Err(unexpected()),
        }
    }

    async fn discoveries(&self) -> Result<Vec<DiscoveryMonth>, SourceError> {
        match self.ask(&Question::Discoveries).await? {
            Some(Answer::Discoveries(months)) => Ok(months),
            _ => Err(unexpected()),
        }
    }

    async fn review(&self, period: Option<Period>) -> Result<Review, SourceError> {
        match self.ask(&Question::Review { period }).await? {
            Some(Answer::Review(review)) => Ok(*review),
            _ => Err(unexpected()),
        }
    }

    async fn sessions(
        &self,
        query: &RangeQuery,
        gap: SessionGap,
    ) -> Result<SessionsView, SourceError> {
        let question = Question::Sessions { query: *query, gap };
        match self.ask(&question).await? {
            Some(Answer::Sessions(view)) => Ok(view),
            _ => Err(unexpected()),
        }
    }

    async fn skips(&self, query: &RangeQuery, limit: Limit) -> Result<SkipStory, SourceError> {
        let question = Question::Skips {
            query: *query,
            limit,
        };
        match self.ask(&question).await? {
            Some(Answer::Skips(story)) => Ok(story),
            _ => Err(unexpected()),
        }
    }

    fn health(&self) -> PipelineHealth {
        self.live.health()
    }
}
