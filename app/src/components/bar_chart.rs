//! Horizontal bar charts drawn with plotters as SVG.
//!
//! Only primitives with explicit anchors are drawn (no measured text), so the
//! server and the browser produce the same SVG. Each row has its label above
//! its bar, which stays readable from a phone to a wide screen.

use leptos::prelude::*;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::format::ellipsize;

/// One bar: what it stands for and how long it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    /// The value as shown at the end of the row, e.g. `42 plays`.
    pub value_text: String,
}

const WIDTH: u32 = 640;
const ROW_HEIGHT: u32 = 46;
const LABEL_CHARS: usize = 56;
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
        let label_font = ("sans-serif", 19.0).into_font().color(&TEXT_COLOUR);
        let value_font = ("sans-serif", 19.0)
            .into_font()
            .color(&TEXT_COLOUR)
            .pos(Pos::new(HPos::Right, VPos::Top));
        for (row, bar) in bars.iter().enumerate() {
            let top = (row as u32 * ROW_HEIGHT) as i32 + 4;
            let value_width = bar.value_text.chars().count() + 2;
            let label = ellipsize(&bar.label, LABEL_CHARS.saturating_sub(value_width));
            root.draw(&Text::new(label, (0, top), label_font.clone()))
                .map_err(|e| e.to_string())?;
            root.draw(&Text::new(
                bar.value_text.clone(),
                (WIDTH as i32, top),
                value_font.clone(),
            ))
            .map_err(|e| e.to_string())?;
            let bar_top = top + 22;
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

/// A chart with its accessible name; the table beside it carries the same figures as text.
#[component]
pub fn BarChart(
    /// Names the chart for assistive technology.
    title: String,
    bars: Vec<Bar>,
) -> impl IntoView {
    let svg = render_bar_chart(&bars)
        .unwrap_or_else(|error| format!("<p class=\"chart-error\">Chart unavailable: {error}</p>"));
    view! { <div class="chart" role="img" aria-label=title inner_html=svg></div> }
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
        assert!(svg.contains("viewBox=\"0 0 640 92\""));
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
    fn long_labels_are_shortened() {
        let long = "x".repeat(200);
        let svg = render_bar_chart(&[bar(&long, 1.0)]).unwrap();
        assert!(!svg.contains(&long));
        assert!(svg.contains('…'));
    }

    #[test]
    fn an_empty_chart_is_still_a_valid_svg() {
        let svg = render_bar_chart(&[]).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    }
}
