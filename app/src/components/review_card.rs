//! The shareable card of a review, drawn with plotters as SVG (the server
//! rasterises it to PNG): a wide card for links (1200×630) and a tall one
//! for stories (1080×1920). Names are cut to the room they have; plotters
//! escapes them, so a name can never become markup.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::format::{self, ellipsize};
use crate::review::{weekday_name, Movement, Review};

const BACKGROUND: RGBColor = RGBColor(18, 18, 18);
const GREEN: RGBColor = RGBColor(30, 215, 96);
const TEXT: RGBColor = RGBColor(245, 245, 245);
const MUTED: RGBColor = RGBColor(170, 170, 170);

/// The shape of a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardLayout {
    /// 1200×630, for a link's preview.
    Wide,
    /// 1080×1920, for a phone's story.
    Story,
}

impl CardLayout {
    /// Reads `wide` or `story`.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "wide" => Some(CardLayout::Wide),
            "story" => Some(CardLayout::Story),
            _ => None,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            CardLayout::Wide => "wide",
            CardLayout::Story => "story",
        }
    }

    /// Its size in pixels.
    pub fn size(self) -> (u32, u32) {
        match self {
            CardLayout::Wide => (1200, 630),
            CardLayout::Story => (1080, 1920),
        }
    }

    /// Its text sizes. The page shows the wide card at full size on a wide
    /// screen and the story card at about 320 px wide on a phone (390 px):
    /// plotters writes a font size of size / 1.24, so no size is under 24
    /// (wide) or 50 (story), for text of 11 px or more as shown.
    fn text(self) -> TextSizes {
        match self {
            CardLayout::Wide => TextSizes {
                title: 44.0,
                hours: 72.0,
                plays: 36.0,
                note: 24.0,
                label: 24.0,
                row: 26.0,
                footer: 24.0,
            },
            CardLayout::Story => TextSizes {
                title: 76.0,
                hours: 120.0,
                plays: 62.0,
                note: 50.0,
                label: 50.0,
                row: 54.0,
                footer: 50.0,
            },
        }
    }
}

/// The text sizes of a card, in its pixels.
#[derive(Debug, Clone, Copy)]
struct TextSizes {
    title: f64,
    hours: f64,
    plays: f64,
    note: f64,
    /// A heading over a list.
    label: f64,
    /// A line of a list.
    row: f64,
    footer: f64,
}

/// Lines of text drawn one under another from a point, each cut to the
/// width of its column.
struct Column<'a, 'b> {
    area: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    x: i32,
    y: i32,
    width: i32,
}

impl<'a, 'b> Column<'a, 'b> {
    fn at(
        area: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
        (x, y): (i32, i32),
        width: i32,
    ) -> Self {
        Self { area, x, y, width }
    }

    /// Draws `text` at `size` px (cut to fit), then moves below it.
    fn line(&mut self, text: &str, size: f64, color: RGBColor) -> Result<(), String> {
        self.marked_line(text, "", size, color)
    }

    /// Draws `text` with `mark` at the column's right edge, the text cut
    /// to the room the mark leaves, then moves below them.
    fn marked_line(
        &mut self,
        text: &str,
        mark: &str,
        size: f64,
        color: RGBColor,
    ) -> Result<(), String> {
        // Drawn at size / 1.24, a character of these faces is at most
        // about half the size wide.
        let chars = |width: f64| (width / (size * 0.5)).floor() as usize;
        let mark_width = if mark.is_empty() {
            0.0
        } else {
            (mark.chars().count() as f64 + 1.0) * size * 0.5
        };
        let fits = chars(f64::from(self.width) - mark_width).max(4);
        let style = |h| {
            ("sans-serif", size)
                .into_font()
                .color(&color)
                .pos(Pos::new(h, VPos::Top))
        };
        let draw = |text: String, x: i32, h: HPos| {
            self.area
                .draw(&Text::new(text, (x, self.y), style(h)))
                .map_err(|error| error.to_string())
        };
        draw(ellipsize(&format::drawable(text), fits), self.x, HPos::Left)?;
        if !mark.is_empty() {
            draw(mark.to_string(), self.x + self.width, HPos::Right)?;
        }
        self.y += (size * 1.3).round() as i32;
        Ok(())
    }

    fn gap(&mut self, pixels: i32) {
        self.y += pixels;
    }
}

/// The card of `review` in `layout`, as SVG.
pub fn render_card(review: &Review, layout: CardLayout) -> Result<String, String> {
    let (width, height) = layout.size();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&BACKGROUND).map_err(|error| error.to_string())?;
        root.draw(&Rectangle::new(
            [(0, 0), (width as i32, 12)],
            GREEN.filled(),
        ))
        .map_err(|error| error.to_string())?;
        let sizes = layout.text();
        match layout {
            CardLayout::Wide => {
                let mut left = Column::at(&root, (60, 60), 500);
                headline(&mut left, review, sizes)?;
                left.gap(24);
                moments(&mut left, review, sizes.row)?;
                let mut right = Column::at(&root, (620, 64), 540);
                rankings(&mut right, review, 5, sizes)?;
            }
            CardLayout::Story => {
                let mut column = Column::at(&root, (80, 100), 920);
                headline(&mut column, review, sizes)?;
                column.gap(40);
                rankings(&mut column, review, 5, sizes)?;
                column.gap(30);
                moments(&mut column, review, sizes.row)?;
            }
        }
        let footer = ("sans-serif", sizes.footer)
            .into_font()
            .color(&MUTED)
            .pos(Pos::new(HPos::Right, VPos::Bottom));
        root.draw(&Text::new(
            "Listening analytics".to_string(),
            (width as i32 - 40, height as i32 - 30),
            footer,
        ))
        .map_err(|error| error.to_string())?;
        root.present().map_err(|error| error.to_string())?;
    }
    Ok(svg)
}

/// The period and its totals.
fn headline(column: &mut Column, review: &Review, sizes: TextSizes) -> Result<(), String> {
    let title = format!("My {} in music", review.period.label());
    column.line(&title, sizes.title, TEXT)?;
    column.gap((sizes.title * 0.25) as i32);
    let hours = format!("{} hours", format::hours(review.totals.ms_played));
    column.line(&hours, sizes.hours, GREEN)?;
    let plays = format!("{} plays", format::count(review.totals.plays));
    column.line(&plays, sizes.plays, TEXT)?;
    let before = review.period.previous().label();
    let change = super::review::change(review.totals.ms_played, review.before.ms_played, &before);
    column.line(&format!("Listening time {change}"), sizes.note, MUTED)
}

/// The top songs and artists, `rows` of each.
fn rankings(
    column: &mut Column,
    review: &Review,
    rows: usize,
    sizes: TextSizes,
) -> Result<(), String> {
    column.line("Top songs", sizes.label, MUTED)?;
    for ranked in review.top_songs.iter().take(rows) {
        let song = &ranked.row;
        let moved = Movement::of(song.rank, ranked.rank_before).mark();
        let text = format!("{}. {} — {}", song.rank, song.track_name, song.artist_name);
        column.marked_line(&text, &moved, sizes.row, TEXT)?;
    }
    column.gap((sizes.row * 0.6) as i32);
    column.line("Top artists", sizes.label, MUTED)?;
    for ranked in review.top_artists.iter().take(rows) {
        let artist = &ranked.row;
        let moved = Movement::of(artist.rank, ranked.rank_before).mark();
        let text = format!("{}. {}", artist.rank, artist.artist_name);
        column.marked_line(&text, &moved, sizes.row, TEXT)?;
    }
    Ok(())
}

/// Discoveries, the best day, the streak and the busiest times.
fn moments(column: &mut Column, review: &Review, size: f64) -> Result<(), String> {
    let mut facts = vec![format!(
        "{} new artists, {} new songs",
        format::count(review.new_artists),
        format::count(review.new_songs)
    )];
    if let Some(top) = review.top_discoveries.first() {
        facts.push(format!("Top discovery: {}", top.artist_name));
    }
    if let Some(streak) = review.longest_streak {
        facts.push(format!("Longest streak: {} days", streak.days));
    }
    if let Some(day) = review.most_played_day {
        facts.push(format!("Biggest day: {}", day.start));
    }
    if let (Some(hour), Some(weekday)) = (review.busiest_hour, review.busiest_weekday) {
        facts.push(format!(
            "Busiest: {}s, {:02}:00 ({})",
            weekday_name(weekday.at.0),
            hour.at.0,
            review.time_zone
        ));
    }
    for fact in facts {
        column.line(&fact, size, TEXT)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TopSong;
    use crate::review::{Period, Ranked, Totals};

    fn review() -> Review {
        let mut review = Review::empty(Period::Year(2023), "UTC", None, None, Totals::default());
        review.totals = Totals {
            plays: 1234,
            ms_played: 7_200_000,
        };
        review.new_songs = 3;
        review.new_artists = 2;
        review.top_songs = vec![Ranked {
            row: TopSong {
                rank: 1,
                track_uri: "spotify:track:x".into(),
                track_name: "<script>alert(1)</script>\u{1} & a very long name that goes on and on and on and on and on".into(),
                artist_name: "Ärtist".into(),
                album_name: String::new(),
                plays: 40,
                ms_played: 1000,
                skips: 0,
            },
            rank_before: Some(4),
        }];
        review
    }

    #[test]
    fn a_card_has_its_size_its_figures_and_no_markup_from_names() {
        for layout in [CardLayout::Wide, CardLayout::Story] {
            let svg = render_card(&review(), layout).unwrap();
            let (width, height) = layout.size();
            assert!(
                svg.contains(&format!("width=\"{width}\" height=\"{height}\"")),
                "{svg}"
            );
            assert!(svg.contains("My 2023 in music"));
            assert!(svg.contains("2.0 hours"));
            assert!(svg.contains("1,234 plays"));
            assert!(svg.contains("▲3"), "the movement is drawn");
            assert!(!svg.contains("<script"), "a name is escaped");
            assert!(svg.contains("&lt;script&gt;"));
            assert!(svg.contains("…"), "a long name is cut");
            assert!(
                !svg.contains('\u{1}'),
                "no control character (it is not XML)"
            );
        }
        assert_eq!(CardLayout::parse("story"), Some(CardLayout::Story));
        assert_eq!(CardLayout::parse("square"), None);
    }
}
