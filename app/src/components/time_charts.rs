//! Charts of time drawn with plotters as SVG: the listening clock (a heatmap
//! of weekday × hour), listening over time (an area chart) and a year's
//! calendar (a heatmap of its days, a column per week). As with the
//! bar charts, only primitives with explicit anchors are drawn, so the
//! server and the browser produce the same SVG; axes carry their units.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use chrono::{Datelike, NaiveDate};

use crate::range::{Bucket, ClockCell, TimePoint};
use crate::skips::SkipPoint;

const GREEN: RGBColor = RGBColor(29, 185, 84);
const TEXT: RGBColor = RGBColor(40, 40, 40);
const GRID: RGBColor = RGBColor(200, 200, 200);
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
pub const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Text size of the labels (plotters writes it as `font-size` of 1/1.24 of
/// it): shown at 6/7 of their drawn width or more, charts stay 11 px.
const TEXT_PX: f64 = 16.0;

fn font(size: f64, h: HPos, v: VPos) -> TextStyle<'static> {
    ("sans-serif", size)
        .into_font()
        .color(&TEXT)
        .pos(Pos::new(h, v))
}

/// Hours with one decimal, as the charts label them.
fn hours(ms: i64) -> String {
    format!("{:.1}", ms as f64 / 3_600_000.0)
}

/// The listening clock: one cell per weekday and hour (in `zone`), darker
/// for more listening time; each cell's title gives its figures.
pub fn render_clock(cells: &[ClockCell], zone: &str) -> Result<String, String> {
    const LEFT: i32 = 48;
    const TOP: i32 = 30;
    const CELL_W: i32 = 26;
    const CELL_H: i32 = 30;
    let width = (LEFT + 24 * CELL_W + 4) as u32;
    let height = (TOP + 7 * CELL_H + 34) as u32;
    let most = cells.iter().map(|c| c.ms_played).max().unwrap_or(0).max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        for hour in (0..24).step_by(3) {
            root.draw(&Text::new(
                format!("{hour:02}"),
                (LEFT + hour * CELL_W + CELL_W / 2, TOP - 6),
                font(TEXT_PX, HPos::Center, VPos::Bottom),
            ))
            .map_err(|e| e.to_string())?;
        }
        for (row, name) in WEEKDAYS.iter().enumerate() {
            root.draw(&Text::new(
                name.to_string(),
                (LEFT - 8, TOP + row as i32 * CELL_H + CELL_H / 2),
                font(TEXT_PX, HPos::Right, VPos::Center),
            ))
            .map_err(|e| e.to_string())?;
        }
        for cell in cells {
            let x = LEFT + i32::from(cell.hour) * CELL_W;
            let y = TOP + i32::from(cell.weekday) * CELL_H;
            let share = cell.ms_played as f64 / most as f64;
            let colour = if cell.plays == 0 {
                GRID.mix(0.25)
            } else {
                GREEN.mix(0.15 + 0.85 * share)
            };
            root.draw(&Rectangle::new(
                [(x + 1, y + 1), (x + CELL_W - 1, y + CELL_H - 1)],
                colour.filled(),
            ))
            .map_err(|e| e.to_string())?;
        }
        root.draw(&Text::new(
            format!("hour of the day ({zone}) · darker = more listening hours"),
            (LEFT, TOP + 7 * CELL_H + 10),
            font(TEXT_PX, HPos::Left, VPos::Top),
        ))
        .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// A year's days as a heatmap: a column per week (from Monday), a row per
/// weekday, darker for more listening time; days without listens faint.
/// `days` are the year's days with listens.
pub fn render_calendar(year: i32, days: &[TimePoint], zone: &str) -> Result<String, String> {
    const LEFT: i32 = 44;
    const TOP: i32 = 26;
    const CELL: i32 = 14;
    let first = NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| format!("no year {year}"))?;
    let next = NaiveDate::from_ymd_opt(year + 1, 1, 1).ok_or_else(|| format!("no year {year}"))?;
    let offset = first.weekday().num_days_from_monday() as i32;
    let length = (next - first).num_days() as i32;
    let weeks = (offset + length + 6) / 7;
    let width = (LEFT + weeks * CELL + 4) as u32;
    let height = (TOP + 7 * CELL + 30) as u32;
    // Where a day is drawn: its week's column and its weekday's row.
    let place = |day: NaiveDate| {
        let index = offset + (day - first).num_days() as i32;
        (LEFT + index / 7 * CELL, TOP + index % 7 * CELL)
    };
    let listened: std::collections::HashMap<NaiveDate, i64> =
        days.iter().map(|day| (day.start, day.ms_played)).collect();
    let most = days
        .iter()
        .map(|day| day.ms_played)
        .max()
        .unwrap_or(0)
        .max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        for (month, name) in MONTHS.iter().enumerate() {
            let Some(start) = NaiveDate::from_ymd_opt(year, month as u32 + 1, 1) else {
                continue;
            };
            // Above the first whole week of the month.
            let (x, _) = place(start + chrono::Duration::days(6));
            root.draw(&Text::new(
                name.to_string(),
                (x, TOP - 6),
                font(TEXT_PX, HPos::Left, VPos::Bottom),
            ))
            .map_err(|e| e.to_string())?;
        }
        for row in [0, 2, 4] {
            root.draw(&Text::new(
                WEEKDAYS[row].to_string(),
                (LEFT - 6, TOP + row as i32 * CELL + CELL / 2),
                font(TEXT_PX, HPos::Right, VPos::Center),
            ))
            .map_err(|e| e.to_string())?;
        }
        for day in first.iter_days().take(length as usize) {
            let (x, y) = place(day);
            let colour = match listened.get(&day) {
                Some(&ms) => GREEN.mix(0.25 + 0.75 * ms as f64 / most as f64),
                None => GRID.mix(0.12),
            };
            root.draw(&Rectangle::new(
                [(x + 1, y + 1), (x + CELL - 1, y + CELL - 1)],
                colour.filled(),
            ))
            .map_err(|e| e.to_string())?;
        }
        root.draw(&Text::new(
            format!("a column per week · darker = more listening hours (days in {zone})"),
            (LEFT, TOP + 7 * CELL + 10),
            font(TEXT_PX, HPos::Left, VPos::Top),
        ))
        .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// Listening hours per step as a filled line, with the first and last step
/// labelled under the x axis and the busiest step's hours on the y axis.
pub fn render_over_time(points: &[TimePoint], bucket: Bucket) -> Result<String, String> {
    let steps: Vec<(NaiveDate, i64)> = points.iter().map(|p| (p.start, p.ms_played)).collect();
    let caption = format!("listening hours per {}", step_name(bucket));
    render_line(&steps, "hours", hours, &caption)
}

/// The share of plays skipped per step, as a filled line like the hours'.
pub fn render_skip_rate(points: &[SkipPoint], bucket: Bucket) -> Result<String, String> {
    // Tenths of a percent, so the line is drawn from whole numbers.
    let steps: Vec<(NaiveDate, i64)> = (points.iter())
        .map(|p| {
            (
                p.start,
                if p.plays > 0 {
                    p.skips * 1000 / p.plays
                } else {
                    0
                },
            )
        })
        .collect();
    let caption = format!("share of plays skipped per {}", step_name(bucket));
    render_line(
        &steps,
        "skipped",
        |tenths| format!("{:.1}%", tenths as f64 / 10.0),
        &caption,
    )
}

fn step_name(bucket: Bucket) -> &'static str {
    match bucket {
        Bucket::Day => "day",
        Bucket::Week => "week (from Monday)",
        Bucket::Month => "month",
    }
}

/// A value per step as a filled line: the first and last step labelled
/// under the x axis, 0 and the largest value (as `label` writes it) on the y axis.
fn render_line(
    points: &[(NaiveDate, i64)],
    unit: &str,
    label: impl Fn(i64) -> String,
    caption: &str,
) -> Result<String, String> {
    const WIDTH: i32 = 680;
    const HEIGHT: i32 = 260;
    const LEFT: i32 = 56;
    const RIGHT: i32 = 12;
    const TOP: i32 = 16;
    const BOTTOM: i32 = 48;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let most = points.iter().map(|p| p.1).max().unwrap_or(0).max(1);
    let x_of = |index: usize| {
        if points.len() <= 1 {
            LEFT + plot_w / 2
        } else {
            LEFT + (index as i64 * i64::from(plot_w) / (points.len() as i64 - 1)) as i32
        }
    };
    let y_of =
        |ms: i64| TOP + plot_h - (ms as f64 / most as f64 * f64::from(plot_h)).round() as i32;
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (WIDTH as u32, HEIGHT as u32)).into_drawing_area();
        for (ms, label) in [(0, "0".to_string()), (most, label(most))] {
            let y = y_of(ms);
            root.draw(&PathElement::new(
                vec![(LEFT, y), (WIDTH - RIGHT, y)],
                GRID.stroke_width(1),
            ))
            .map_err(|e| e.to_string())?;
            root.draw(&Text::new(
                label,
                (LEFT - 6, y),
                font(TEXT_PX, HPos::Right, VPos::Center),
            ))
            .map_err(|e| e.to_string())?;
        }
        root.draw(&Text::new(
            unit,
            (4, TOP),
            font(TEXT_PX, HPos::Left, VPos::Top),
        ))
        .map_err(|e| e.to_string())?;
        if !points.is_empty() {
            let line: Vec<(i32, i32)> = points
                .iter()
                .enumerate()
                .map(|(index, point)| (x_of(index), y_of(point.1)))
                .collect();
            let mut area = line.clone();
            area.push((x_of(points.len() - 1), y_of(0)));
            area.push((x_of(0), y_of(0)));
            root.draw(&Polygon::new(area, GREEN.mix(0.25).filled()))
                .map_err(|e| e.to_string())?;
            root.draw(&PathElement::new(line, GREEN.stroke_width(2)))
                .map_err(|e| e.to_string())?;
            let first = points[0].0.to_string();
            let last = points[points.len() - 1].0.to_string();
            root.draw(&Text::new(
                first,
                (LEFT, HEIGHT - BOTTOM + 8),
                font(TEXT_PX, HPos::Left, VPos::Top),
            ))
            .map_err(|e| e.to_string())?;
            root.draw(&Text::new(
                last,
                (WIDTH - RIGHT, HEIGHT - BOTTOM + 8),
                font(TEXT_PX, HPos::Right, VPos::Top),
            ))
            .map_err(|e| e.to_string())?;
        }
        root.draw(&Text::new(
            caption,
            (LEFT + plot_w / 2, HEIGHT - 4),
            font(TEXT_PX, HPos::Center, VPos::Bottom),
        ))
        .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(weekday: u8, hour: u8, ms: i64) -> ClockCell {
        ClockCell {
            weekday,
            hour,
            plays: i64::from(ms > 0),
            ms_played: ms,
        }
    }

    #[test]
    fn the_clock_has_a_cell_per_weekday_and_hour_and_labelled_axes() {
        let cells: Vec<ClockCell> = (0..7)
            .flat_map(|d| (0..24).map(move |h| cell(d, h, i64::from(d) * 1000)))
            .collect();
        let svg = render_clock(&cells, "Asia/Tokyo").unwrap();
        assert_eq!(svg.matches("<rect").count(), 7 * 24);
        for label in [
            "Mon",
            "Sun",
            "\n00\n",
            "\n21\n",
            "hour of the day (Asia/Tokyo)",
        ] {
            assert!(svg.contains(label), "{label} missing");
        }
    }

    #[test]
    fn a_calendar_draws_every_day_of_its_year_darker_for_more_listening() {
        let day = |text: &str| text.parse::<NaiveDate>().unwrap();
        let listened = |start: &str, hours: i64| TimePoint {
            start: day(start),
            plays: 1,
            ms_played: hours * 3_600_000,
        };
        let days = [listened("2024-01-01", 1), listened("2024-12-31", 4)];
        let svg = render_calendar(2024, &days, "UTC").unwrap();
        assert_eq!(svg.matches("<rect").count(), 366, "a leap year");
        assert_eq!(
            render_calendar(2023, &[], "UTC")
                .unwrap()
                .matches("<rect")
                .count(),
            365
        );
        for label in ["Jan", "Dec", "Mon", "Fri", "days in UTC"] {
            assert!(svg.contains(label), "{label} missing");
        }
        // The busiest day is drawn opaque, the other lighter, the rest faint.
        let cells = |opacity: &str| svg.matches(&format!(r#"opacity="{opacity}" fill"#)).count();
        assert_eq!(
            cells("1"),
            1 + 12 + 3 + 1,
            "the busiest day, then every label"
        );
        assert_eq!(cells("0.4375"), 1);
        assert_eq!(cells("0.12"), 364);
    }

    #[test]
    fn the_area_chart_labels_its_ends_and_its_unit() {
        let points: Vec<TimePoint> = (1..=3)
            .map(|m| TimePoint {
                start: chrono::NaiveDate::from_ymd_opt(2024, m, 1).unwrap(),
                plays: 1,
                ms_played: i64::from(m) * 3_600_000,
            })
            .collect();
        let svg = render_over_time(&points, Bucket::Month).unwrap();
        for label in [
            "2024-01-01",
            "2024-03-01",
            "\n3.0\n",
            "hours",
            "listening hours per month",
        ] {
            assert!(svg.contains(label), "{label} missing from {svg}");
        }
        assert!(svg.contains("<polygon"));
        assert!(render_over_time(&[], Bucket::Day)
            .unwrap()
            .starts_with("<svg"));
    }
}
