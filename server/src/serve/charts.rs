//! Every chart of the range view as a file to download, drawn on the server
//! by the same plotters code as the page: `/charts/<chart>.svg` or `.png`
//! with the range's URL parameters (`preset` or `from`/`to`, and `by`).
//! Charts: `top-songs`, `top-artists`, `top-albums`, `listening-clock`, `over-time`.

use app::components::bar_chart::render_bar_chart;
use app::components::ranking::{albums_ranked, artists_ranked, ranking_bars, songs_ranked};
use app::components::time_charts::{render_clock, render_over_time};
use app::model::Limit;
use app::range::{RangeQuery, RangeView};
use app::source::AnalyticsSource;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use std::sync::{Arc, LazyLock};
use tokio::sync::Semaphore;

use super::answer::ApiError;
use super::auth::Viewer;
use super::drawn::{Drawing, DRAWN};
use super::query::{ApiQuery, ChartArgs};
use super::AppState;

/// Rows of the downloadable rankings, as on the dashboard.
const CHART_ROWS: u32 = 10;

pub fn routes() -> Router<AppState> {
    Router::new().route("/charts/{file}", get(chart))
}

async fn chart(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(file): Path<String>,
    ApiQuery(args): ApiQuery<ChartArgs>,
) -> Response {
    let Some((name, format)) = file.rsplit_once('.') else {
        return unknown_chart();
    };
    if !matches!(format, "svg" | "png") {
        return unknown_chart();
    }
    let query = match read_query(&args) {
        Ok(query) => query,
        Err(error) => return error.into_response(),
    };
    let asked = state
        .live
        .for_person(&viewer.person, viewer.zone)
        .range_view(&query, Limit::clamped(CHART_ROWS))
        .await;
    let view = match asked {
        Ok(view) => view,
        Err(error) => return ApiError::Unavailable(error.to_string()).into_response(),
    };
    let Some(drawn) = draw(name, &view) else {
        return unknown_chart();
    };
    let svg = match drawn {
        Ok(svg) => svg,
        Err(error) => {
            return ApiError::Unavailable(format!("the chart cannot be drawn: {error}"))
                .into_response()
        }
    };
    let filename = format!("{name}-{}.{format}", range_slug(&view));
    let disposition = format!("attachment; filename=\"{filename}\"");
    if format == "svg" {
        return (
            [
                (header::CONTENT_TYPE, "image/svg+xml".to_string()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            svg,
        )
            .into_response();
    }
    png_response(svg, 2.0, disposition).await
}

/// A PNG of `svg` at `scale` times its size, to download as the
/// content disposition says; rasterised a few at a time, and not again
/// while the same drawing is kept ([`super::drawn`]).
pub(super) async fn png_response(svg: String, scale: f32, disposition: String) -> Response {
    let sent = |png: Bytes| {
        (
            [
                (header::CONTENT_TYPE, "image/png".to_string()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            png,
        )
            .into_response()
    };
    let drawing = Drawing::of(&svg, scale);
    if let Some(png) = kept_png(|drawn| drawn.get(drawing)) {
        return sent(png);
    }
    // Rasterising is CPU work: a few at a time, whatever the number of requests.
    let Ok(_turn) = RASTERISING.acquire().await else {
        return ApiError::Unavailable("the server is stopping".into()).into_response();
    };
    match tokio::task::spawn_blocking(move || to_png(&svg, scale)).await {
        Ok(Ok(png)) => {
            let png = Bytes::from(png);
            kept_png(|drawn| drawn.keep(drawing, png.clone()));
            sent(png)
        }
        Ok(Err(error)) => ApiError::Unavailable(format!("the image cannot be rasterised: {error}"))
            .into_response(),
        Err(error) => ApiError::Unavailable(format!("the image cannot be rasterised: {error}"))
            .into_response(),
    }
}

/// Works on the kept PNGs (a poisoned lock only means a panic while
/// keeping one: they are still whole).
fn kept_png<T>(work: impl FnOnce(&mut super::drawn::Drawn) -> T) -> T {
    work(
        &mut DRAWN
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
    )
}

fn read_query(args: &ChartArgs) -> Result<RangeQuery, ApiError> {
    RangeQuery::parse(
        args.preset.as_deref(),
        args.from.as_deref(),
        args.to.as_deref(),
        args.by.as_deref(),
    )
    .map_err(ApiError::BadRequest)
}

fn unknown_chart() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({
            "error": "no such chart; charts are top-songs, top-artists, top-albums, listening-clock and over-time, as .svg or .png"
        })),
    )
        .into_response()
}

/// The chart called `name` of the range view, as SVG; `None` for an unknown name.
fn draw(name: &str, view: &RangeView) -> Option<Result<String, String>> {
    let metric = view.query.metric;
    Some(match name {
        "top-songs" => {
            render_bar_chart(&ranking_bars(&songs_ranked(view.top_songs.clone()), metric))
        }
        "top-artists" => render_bar_chart(&ranking_bars(
            &artists_ranked(view.top_artists.clone()),
            metric,
        )),
        "top-albums" => render_bar_chart(&ranking_bars(
            &albums_ranked(view.top_albums.clone()),
            metric,
        )),
        "listening-clock" => render_clock(&view.clock, &view.time_zone),
        "over-time" => render_over_time(&view.over_time, view.bucket),
        _ => return None,
    })
}

/// The range in a file name: `2024-01-01_2024-02-01`, or `all-time`.
fn range_slug(view: &RangeView) -> String {
    match (view.range.from, view.range.to) {
        (None, None) => "all-time".into(),
        (from, to) => format!(
            "{}_{}",
            from.map_or("start".into(), |d| d.to_string()),
            to.map_or("end".into(), |d| d.to_string())
        ),
    }
}

/// PNGs rasterised at once; more wait their turn.
static RASTERISING: Semaphore = Semaphore::const_new(2);

/// The system's fonts, read once: reading them takes longer than drawing a chart.
static FONTS: LazyLock<Arc<resvg::usvg::fontdb::Database>> = LazyLock::new(|| {
    let mut fonts = resvg::usvg::fontdb::Database::new();
    fonts.load_system_fonts();
    // The charts ask for `sans-serif`; name a sans-serif face this system has.
    let installed = |name: &str| {
        fonts
            .faces()
            .any(|face| face.families.iter().any(|(family, _)| family == name))
    };
    let sans = ["DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial"]
        .into_iter()
        .find(|name| installed(name));
    if let Some(sans) = sans {
        fonts.set_sans_serif_family(sans);
    }
    Arc::new(fonts)
});

/// Rasterises an SVG on a white background, at `scale` times its size
/// (twice, for a chart's text to stay sharp).
fn to_png(svg: &str, scale: f32) -> Result<Vec<u8>, String> {
    let options = resvg::usvg::Options {
        fontdb: FONTS.clone(),
        ..Default::default()
    };
    let tree = resvg::usvg::Tree::from_str(svg, &options).map_err(|e| e.to_string())?;
    let size = tree
        .size()
        .to_int_size()
        .scale_by(scale)
        .ok_or("the image is empty")?;
    let mut pixmap =
        resvg::tiny_skia::Pixmap::new(size.width(), size.height()).ok_or("the image is empty")?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::range::ClockCell;

    #[test]
    fn a_chart_becomes_a_png() {
        let cells: Vec<ClockCell> = (0..7u8)
            .flat_map(|weekday| {
                (0..24u8).map(move |hour| ClockCell {
                    weekday,
                    hour,
                    plays: 1,
                    ms_played: i64::from(hour) * 1000,
                })
            })
            .collect();
        let png = to_png(&render_clock(&cells, "UTC").unwrap(), 2.0).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(png.len() > 1000);
    }

    /// Names in Japanese, Chinese or Korean are drawn with their own
    /// glyphs (a font of the system that has them), not as empty boxes:
    /// two different names then make two different images.
    #[test]
    fn names_in_any_script_are_drawn_with_their_own_glyphs() {
        let text = |name: &str| {
            let svg = format!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" width="240" height="60"><text x="10" y="40" font-family="sans-serif" font-size="32">{name}</text></svg>"#
            );
            to_png(&svg, 1.0).unwrap()
        };
        let blank = to_png(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="240" height="60"></svg>"#,
            1.0,
        )
        .unwrap();
        for (one, other) in [("日本", "本日"), ("音楽", "楽音"), ("한국", "국한")] {
            let (one_png, other_png) = (text(one), text(other));
            assert_ne!(one_png, blank, "{one} is drawn");
            assert_ne!(
                one_png, other_png,
                "{one} and {other} look alike: no font here has their glyphs (install fonts-wqy-microhei, see the README)"
            );
        }
    }

    #[test]
    fn every_chart_of_the_view_is_drawn_and_unknown_ones_are_not() {
        let view = RangeView::default();
        for name in [
            "top-songs",
            "top-artists",
            "top-albums",
            "listening-clock",
            "over-time",
        ] {
            let svg = draw(name, &view).expect("a known chart").unwrap();
            assert!(svg.starts_with("<svg"), "{name}");
        }
        assert!(draw("pie", &view).is_none());
        assert_eq!(range_slug(&view), "all-time");
    }
}
