//! Listening sessions of a range: its listens in time order, a new session
//! begun whenever a listen starts more than a [`SessionGap`] (30 minutes
//! unless asked otherwise) after the session's end. A listen's instant is
//! when it ended (as Spotify writes it); it started that long before minus
//! the time played.

use app::range::DateRange;
use app::review::{Session, SessionGap, Sessions};

use crate::aggregate::months::Millis;
use crate::aggregate::{best, Aggregates};
use crate::zone::Zone;

/// A session as counted: instants in milliseconds.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: Millis,
    end: Millis,
    listens: i64,
    ms_played: i64,
}

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
        let mut listens: Vec<(Millis, i64)> = Vec::new();
        for piece in self.pieces(range, zone) {
            let start = piece.key().start();
            for (index, at) in piece.rows() {
                let ms = i64::try_from(piece.month().ms_of(index)).unwrap_or(i64::MAX);
                listens.push((start + i64::from(at), ms));
            }
        }
        listens.sort_unstable();
        let gap = i64::from(gap.minutes()) * 60_000;
        let mut spans: Vec<Span> = Vec::new();
        for (end, ms) in listens {
            let start = end.saturating_sub(ms);
            match spans.last_mut() {
                Some(span) if start.saturating_sub(span.end) <= gap => {
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
