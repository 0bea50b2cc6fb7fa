//! PNGs drawn lately, kept by the SHA-256 of the SVG they were drawn from
//! (and the scale): a card downloaded again, or a chart asked for twice
//! while the figures stand still, is sent without rasterising it again
//! (about 90 ms of a core for a card). Only the same drawing finds an
//! entry, so nothing of one person's reaches another's answer.

use std::collections::VecDeque;
use std::sync::Mutex;

use axum::body::Bytes;
use sha2::{Digest, Sha256};

/// How much the kept PNGs may hold together.
const KEPT_BYTES: usize = 8 << 20;

/// What a drawing is known by: the digest of its SVG and scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drawing([u8; 32]);

impl Drawing {
    pub fn of(svg: &str, scale: f32) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(scale.to_le_bytes());
        hasher.update(svg.as_bytes());
        Drawing(hasher.finalize().into())
    }
}

/// The most recently used drawings last, within a byte budget.
#[derive(Debug)]
pub struct Drawn {
    kept: VecDeque<(Drawing, Bytes)>,
    bytes: usize,
    budget: usize,
}

impl Drawn {
    pub const fn new(budget: usize) -> Self {
        Self {
            kept: VecDeque::new(),
            bytes: 0,
            budget,
        }
    }

    /// The PNG of `drawing`, if kept; it becomes the most recently used.
    pub fn get(&mut self, drawing: Drawing) -> Option<Bytes> {
        let at = self.kept.iter().position(|(kept, _)| *kept == drawing)?;
        let entry = self.kept.remove(at)?;
        let png = entry.1.clone();
        self.kept.push_back(entry);
        Some(png)
    }

    /// Keeps `png`, forgetting the least recently used over the budget (a
    /// PNG larger than the whole budget is not kept).
    pub fn keep(&mut self, drawing: Drawing, png: Bytes) {
        if png.len() > self.budget || self.get(drawing).is_some() {
            return;
        }
        self.bytes += png.len();
        self.kept.push_back((drawing, png));
        while self.bytes > self.budget {
            let Some((_, forgotten)) = self.kept.pop_front() else {
                break;
            };
            self.bytes -= forgotten.len();
        }
    }
}

/// The server's kept PNGs.
pub static DRAWN: Mutex<Drawn> = Mutex::new(Drawn::new(KEPT_BYTES));

#[cfg(test)]
mod tests {
    use super::*;

    fn png(len: usize) -> Bytes {
        Bytes::from(vec![7u8; len])
    }

    #[test]
    fn the_same_drawing_is_found_and_others_are_not() {
        let mut drawn = Drawn::new(100);
        let card = Drawing::of("<svg>ann</svg>", 1.0);
        drawn.keep(card, png(10));
        assert_eq!(drawn.get(card), Some(png(10)));
        assert_eq!(drawn.get(Drawing::of("<svg>bob</svg>", 1.0)), None);
        assert_eq!(drawn.get(Drawing::of("<svg>ann</svg>", 2.0)), None);
    }

    #[test]
    fn the_least_recently_used_go_first_when_over_budget() {
        let mut drawn = Drawn::new(100);
        let [a, b, c] = ["a", "b", "c"].map(|svg| Drawing::of(svg, 1.0));
        drawn.keep(a, png(40));
        drawn.keep(b, png(40));
        assert!(drawn.get(a).is_some(), "a used again: b is now the oldest");
        drawn.keep(c, png(40));
        assert_eq!(drawn.get(b), None);
        assert!(drawn.get(a).is_some() && drawn.get(c).is_some());
        assert_eq!(drawn.bytes, 80);
        drawn.keep(Drawing::of("huge", 1.0), png(101));
        assert_eq!(drawn.bytes, 80, "larger than the budget: not kept");
    }
}
