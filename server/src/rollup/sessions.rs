//! Listening sessions of a range: its listens in time order, a new session
//! begun whenever a listen starts more than a [`SessionGap`] (30 minutes
//! unless asked otherwise) after the session's end. A listen's instant is
//! when it ended (as Spotify writes it); it started that long before minus
//! the time played.
//!
//! In that order a session ends between two listens by what those two
//! say alone, so each month's sessions are cut once and kept
//! ([`crate::aggregate::kept`]); a range joins them where a session
//! runs on from one month into the next, and cuts only the months it
//! takes in part.

use app::range::DateRange;
use app::review::{Session, SessionGap, Sessions};

use super::query::Piece;
use crate::aggregate::kept::{RunSessions, Span};
use crate::aggregate::months::Millis;
use crate::aggregate::{best, Aggregates};
use crate::zone::Zone;

impl Aggregates {
    /// The sessions of `range` (days in `zone`), whose days number `days`,
    /// a pause of more than `gap` ending one; the `longest` longest.
    pub fn sessions(
        &self,
        range: DateRange,
        zone: Zone,
        days: i64,
        gap: SessionGap,
        longest: usize,
    ) -> Sessions {
        let gap_ms = i64::from(gap.minutes()) * 60_000;
        let mut joined = Joined::new(gap_ms);
        for piece in self.pieces(range, zone) {
            if piece.is_whole() {
                let listens = piece.month().rows().len();
                let kept = self.kept_sessions();
                joined.add(&kept.get(gap_ms, piece.key(), listens, || cut(&piece, gap_ms)));
            } else {
                joined.add(&cut(&piece, gap_ms));
            }
        }
        let spans = joined.finish();
        let count = spans.len() as i64;
        let longest = best(spans, longest, |a, b| {
            (b.end - b.start)
                .cmp(&(a.end - a.start))
                .then(a.start.cmp(&b.start))
        });
        Sessions {
            count,
            per_week: if days > 0 {
                count as f64 * 7.0 / days as f64
            } else {
                0.0
            },
            longest: longest
                .into_iter()
                .map(|span| Session {
                    start: zone.at(span.start),
                    end: zone.at(span.end),
                    listens: span.listens,
                    ms_played: span.ms_played,
                })
                .collect(),
        }
    }
}

/// The sessions of a piece's listens taken alone.
fn cut(piece: &Piece<'_>, gap_ms: i64) -> RunSessions {
    let (start, month) = (piece.key().start(), piece.month());
    let mut listens: Vec<(Millis, i64)> = piece
        .rows()
        .map(|(index, at)| {
            let ms = i64::try_from(month.ms_of(index)).unwrap_or(i64::MAX);
            (start + i64::from(at), ms)
        })
        .collect();
    // Listens tied on their end in order of time played, as every run is.
    listens.sort_unstable();
    let first_start = listens
        .first()
        .map_or(0, |&(end, ms)| end.saturating_sub(ms));
    let mut spans: Vec<Span> = Vec::new();
    for (end, ms) in listens {
        let start = end.saturating_sub(ms);
        match spans.last_mut() {
            Some(span) if start.saturating_sub(span.end) <= gap_ms => {
                span.start = span.start.min(start);
                span.end = span.end.max(end);
                span.listens += 1;
                span.ms_played = span.ms_played.saturating_add(ms);
            }
            _ => spans.push(Span {
                start,
                end,
                listens: 1,
                ms_played: ms,
            }),
        }
    }
    RunSessions { first_start, spans }
}

/// Runs' sessions joined in time order.
struct Joined {
    gap_ms: i64,
    done: Vec<Span>,
    /// The last session: the next run's first may go on with it.
    open: Option<Span>,
}

impl Joined {
    fn new(gap_ms: i64) -> Self {
        Self {
            gap_ms,
            done: Vec::new(),
            open: None,
        }
    }

    /// Adds the sessions of the run after those added so far.
    fn add(&mut self, run: &RunSessions) {
        let mut spans = run.spans.iter().copied();
        let Some(first) = spans.next() else {
            return;
        };
        let first = match self.open.take() {
            Some(open) if run.first_start.saturating_sub(open.end) <= self.gap_ms => Span {
                start: open.start.min(first.start),
                end: open.end.max(first.end),
                listens: open.listens + first.listens,
                ms_played: open.ms_played.saturating_add(first.ms_played),
            },
            Some(open) => {
                self.done.push(open);
                first
            }
            None => first,
        };
        self.open = Some(first);
        for span in spans {
            self.done.extend(self.open.replace(span));
        }
    }

    fn finish(mut self) -> Vec<Span> {
        self.done.extend(self.open);
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::BatchDelta;
    use crate::event::{test_listen, ListenEvent};
    use chrono::NaiveDate;

    /// Listens in bursts over four months around New York's clock change:
    /// pauses of a few to a hundred minutes, some listens as long as
    /// hours (they begin in the month before), some ending together.
    fn listens(seed: i64, count: i64) -> Vec<ListenEvent> {
        let mut at = 0i64;
        (0..count)
            .map(|i| {
                let x = (i * 7919 + seed * 104_729) % 1009;
                at += match x % 10 {
                    0 => 0,
                    1..=6 => 3 + x % 5,
                    7 | 8 => 25 + x % 20,
                    _ => 60 + x % 2000,
                };
                let ms = match x % 13 {
                    0 => 3 * 3_600_000 + x * 1000,
                    1 => 0,
                    _ => 1000 * (30 + x % 400),
                };
                let mut listen = test_listen(
                    &format!("s{}", x % 40),
                    "A",
                    "2023-01-20T00:00:00Z",
                    ms as u64,
                    false,
                );
                listen.ts += chrono::Duration::minutes(at);
                listen
            })
            .collect()
    }

    /// The sessions of the listens in `range`, counted from the listens
    /// alone: sorted, each a session's or the start of the next.
    fn counted(
        listens: &[ListenEvent],
        range: DateRange,
        zone: Zone,
        gap: SessionGap,
        longest: usize,
    ) -> (i64, Vec<Session>) {
        let mut ends: Vec<(i64, i64)> = listens
            .iter()
            .filter(|listen| range.contains(zone.day_of(listen.ts.timestamp_millis())))
            .map(|listen| (listen.ts.timestamp_millis(), listen.ms_played as i64))
            .collect();
        ends.sort_unstable();
        let gap = i64::from(gap.minutes()) * 60_000;
        let mut spans: Vec<(i64, i64, i64, i64)> = Vec::new();
        for (end, ms) in ends {
            let start = end - ms;
            match spans.last_mut() {
                Some(span) if start - span.1 <= gap => {
                    *span = (span.0.min(start), span.1.max(end), span.2 + 1, span.3 + ms);
                }
                _ => spans.push((start, end, 1, ms)),
            }
        }
        let count = spans.len() as i64;
        spans.sort_by_key(|span| (-(span.1 - span.0), span.0));
        let longest = (spans.into_iter().take(longest))
            .map(|(start, end, listens, ms_played)| Session {
                start: zone.at(start),
                end: zone.at(end),
                listens,
                ms_played,
            })
            .collect();
        (count, longest)
    }

    #[test]
    fn kept_sessions_equal_a_count_of_the_listens_as_more_arrive_in_months_read_before() {
        let day = |text: &str| Some(text.parse::<NaiveDate>().unwrap());
        let ranges = [
            DateRange::ALL_TIME,
            DateRange {
                from: day("2023-02-01"),
                to: day("2023-03-01"),
            },
            DateRange {
                from: day("2023-02-11"),
                to: day("2023-03-13"),
            },
            DateRange {
                from: day("2023-03-01"),
                to: None,
            },
            DateRange {
                from: None,
                to: day("2023-03-31"),
            },
        ];
        let zones = ["UTC", "America/New_York", "Asia/Tokyo"].map(|z| Zone::parse(z).unwrap());
        let gaps = [5, 30, 30, 240, 30].map(|minutes| SessionGap::try_from(minutes).unwrap());
        for seed in 0..3 {
            let all = listens(seed, 3000);
            // The later half first, then the earlier, in batches: months
            // read before take listens, some of them joining sessions.
            let mut order: Vec<ListenEvent> = all[1500..].to_vec();
            order.extend_from_slice(&all[..1500]);
            let mut aggregates = Aggregates::default();
            let mut seen = Vec::new();
            for batch in order.chunks(700) {
                aggregates.apply(&BatchDelta::from_events(batch.iter()));
                seen.extend_from_slice(batch);
                for range in ranges {
                    for zone in zones {
                        for gap in gaps {
                            let asked = aggregates.sessions(range, zone, 7, gap, 5);
                            let (count, longest) = counted(&seen, range, zone, gap, 5);
                            let case = format!("seed {seed}, {range:?} in {zone}, gap {gap:?}");
                            assert_eq!(asked.count, count, "{case}");
                            assert_eq!(asked.longest, longest, "{case}");
                        }
                    }
                }
            }
            assert!(
                aggregates
                    .sessions(DateRange::ALL_TIME, Zone::UTC, 7, gaps[1], 1)
                    .count
                    > 100,
                "many sessions"
            );
        }
    }
}
