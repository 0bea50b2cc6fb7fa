//! Horizontal bar charts drawn with plotters as SVG.
//!
//! Only primitives with explicit anchors are drawn (no measured text), so the
//! server and the browser produce the same SVG. Each row has its label above
//! its bar, which stays readable from a phone to a wide screen.

use leptos::prelude::*;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::format::{drawable, ellipsize};

/// One bar: what it stands for and how long it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    /// The value as shown at the end of the row, e.g. `42 plays`.
    pub value_text: String,
}

const WIDTH: u32 = 640;
const ROW_HEIGHT: u32 = 50;
/// Text size (plotters writes it as `font-size` of 1/1.24 of it): shown at
/// 320 px wide (a phone's panel), the text is still 11 px.
const FONT_PX: f64 = 27.5;
const LABEL_CHARS: usize = 50;
/// Spotify green; the stylesheet may recolour bars and text for the theme.
const BAR_COLOUR: RGBColor = RGBColor(29, 185, 84);
const TEXT_COLOUR: RGBColor = RGBColor(40, 40, 40);

/// Renders the bars as an SVG document, longest value first as given.
pub fn render_bar_chart(bars: &[Bar]) -> Result<String, String> {
    let height = ROW_HEIGHT * bars.len().max(1) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        let longest = bars.iter().map(|bar| bar.value).fold(0.0, f64::max);
        let label_font = ("sans-serif", FONT_PX).into_font().color(&TEXT_COLOUR);
        let value_font = ("sans-serif", FONT_PX)
            .into_font()
            .color(&TEXT_COLOUR)
            .pos(Pos::new(HPos::Right, VPos::Top));
        for (row, bar) in bars.iter().enumerate() {
            let top = (row as u32 * ROW_HEIGHT) as i32 + 4;
            let value_width = bar.value_text.chars().count() + 2;
            let label = ellipsize(
                &drawable(&bar.label),
                LABEL_CHARS.saturating_sub(value_width),
            );
            root.draw(&Text::new(label, (0, top), label_font.clone()))
                .map_err(|e| e.to_string())?;
            root.draw(&Text::new(
                bar.value_text.clone(),
                (WIDTH as i32, top),
                value_font.clone(),
            ))
            .map_err(|e| e.to_string())?;
            let bar_top = top + 30;
            let bar_bottom = bar_top + 12;
            root.draw(&Rectangle::new(
                [(0, bar_top), (WIDTH as i32, bar_bottom)],
                BAR_COLOUR.mix(0.14).filled(),
            ))
            .map_err(|e| e.to_string())?;
            let filled = if longest > 0.0 {
                ((bar.value / longest) * f64::from(WIDTH)).round().max(3.0) as i32
            } else {
                3
            };
            root.draw(&Rectangle::new(
                [(0, bar_top), (filled, bar_bottom)],
                BAR_COLOUR.filled(),
            ))
            .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// The smallest text a chart shows, in CSS pixels.
pub const MIN_TEXT_PX: f64 = 11.0;

/// How wide an SVG drawn here must be shown for its smallest text to be
/// [`MIN_TEXT_PX`] high: it is drawn `width` user units wide and scaled to
/// its box, so its text scales with it. `None` without text.
pub fn readable_width(svg: &str) -> Option<u32> {
    let number_after = |text: &str, key: &str| -> Option<f64> {
        let start = text.find(key)? + key.len();
        let end = start + text[start..].find('"')?;
        text[start..end].parse().ok()
    };
    let width = number_after(svg, " width=\"")?;
    let smallest = svg
        .match_indices(" font-size=\"")
        .filter_map(|(at, _)| number_after(&svg[at..], " font-size=\""))
        .fold(f64::INFINITY, f64::min);
    (smallest.is_finite() && smallest > 0.0).then(|| (width * MIN_TEXT_PX / smallest).ceil() as u32)
}

/// A chart drawn here, named for assistive technology. It is never shown
/// narrower than keeps its text readable ([`readable_width`]): in a
/// narrower box (a phone) it scrolls sideways within it.
#[component]
pub fn ChartSvg(
    label: String,
    svg: String,
    /// Classes besides `chart`.
    #[prop(optional)]
    class: &'static str,
) -> impl IntoView {
    let style = readable_width(&svg).map(|width| format!("--chart-min-width: {width}px"));
    let class = if class.is_empty() {
        "chart".to_string()
    } else {
        format!("chart {class}")
    };
    view! { <div class=class role="img" aria-label=label style=style inner_html=svg></div> }
}

/// A chart with its accessible name; the table beside it carries the same figures as text.
#[component]
pub fn BarChart(
    /// Names the chart for assistive technology.
    title: String,
    bars: Vec<Bar>,
) -> impl IntoView {
    let svg = render_bar_chart(&bars)
        .unwrap_or_else(|error| format!("<p class=\"chart-error\">Chart unavailable: {error}</p>"));
    view! { <ChartSvg label=title svg /> }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, value: f64) -> Bar {
        Bar {
            label: label.into(),
            value,
            value_text: format!("{value} plays"),
        }
    }

    #[test]
    fn draws_one_labelled_row_per_bar() {
        let svg = render_bar_chart(&[bar("1. First", 10.0), bar("2. Second", 5.0)]).unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("viewBox=\"0 0 640 100\""));
        assert!(svg.contains("\n1. First\n"));
        assert!(svg.contains("\n2. Second\n"));
        assert!(svg.contains("\n10 plays\n"));
    }

    #[test]
    fn bar_lengths_are_proportional_to_values() {
        let svg = render_bar_chart(&[bar("a", 10.0), bar("b", 5.0)]).unwrap();
        // Full-width tracks for both rows, then bars of 640 and 320 pixels.
        assert!(svg.contains("width=\"640\" height=\"12\""));
        assert!(svg.contains("width=\"320\" height=\"12\""));
    }

    #[test]
    fn escapes_markup_in_labels() {
        let svg = render_bar_chart(&[bar("<b>Rock & Roll</b>", 1.0)]).unwrap();
        assert!(svg.contains("&lt;b&gt;Rock &amp; Roll&lt;/b&gt;"));
        assert!(!svg.contains("<b>"));
    }

    #[test]
    fn control_characters_in_labels_are_left_out() {
        let svg = render_bar_chart(&[bar("zero\u{0}one\u{7}\u{1b}two", 1.0)]).unwrap();
        assert!(svg.contains("zeroonetwo"), "{svg}");
        assert!(!svg.chars().any(|c| c.is_control() && !c.is_whitespace()));
    }

    #[test]
    fn long_labels_are_shortened() {
        let long = "x".repeat(200);
        let svg = render_bar_chart(&[bar(&long, 1.0)]).unwrap();
        assert!(!svg.contains(&long));
        assert!(svg.contains('…'));
    }

    #[test]
    fn a_chart_is_never_shown_so_narrow_that_its_text_is_under_11_pixels() {
        let svg = render_bar_chart(&[bar("a", 1.0)]).unwrap();
        let width = readable_width(&svg).unwrap();
        // plotters writes the size as 1/1.24 of it.
        assert_eq!(
            width,
            (640.0 * MIN_TEXT_PX / (FONT_PX / 1.24)).ceil() as u32
        );
        // It fits a phone's panel (390 px less the page's and panel's margins).
        assert!(width <= 320, "{width}");
        assert_eq!(readable_width("<svg width=\"100\"></svg>"), None);
        let two = r#"<svg width="200" height="9"><text font-size="20">a</text><text font-size="10">b</text></svg>"#;
        assert_eq!(readable_width(two), Some(220));
    }

    #[test]
    fn an_empty_chart_is_still_a_valid_svg() {
        let svg = render_bar_chart(&[]).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    }
}
