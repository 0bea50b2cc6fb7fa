//! The shareable card of a review, to download: `/cards/<period>/<layout>.svg`
//! or `.png`, the period `2023` or `2023-07`, the layout `wide` (1200×630)
//! or `story` (1080×1920). Drawn by [`app::components::review_card`].

use app::components::review_card::{render_card, CardLayout};
use app::review::Period;
use app::source::AnalyticsSource;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};

use super::answer::ApiError;
use super::auth::Viewer;
use super::charts::png_response;
use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/cards/{period}/{file}", get(card))
}

/// How a card is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CardFormat {
    Svg,
    Png,
}

impl CardFormat {
    fn extension(self) -> &'static str {
        match self {
            CardFormat::Svg => "svg",
            CardFormat::Png => "png",
        }
    }
}

/// The layout and format a file name asks for: `wide.png`, `story.svg`.
fn parse_file_name(file: &str) -> Option<(CardLayout, CardFormat)> {
    let (layout, format) = file.rsplit_once('.')?;
    let format = match format {
        "svg" => CardFormat::Svg,
        "png" => CardFormat::Png,
        _ => return None,
    };
    Some((CardLayout::parse(layout)?, format))
}

async fn card(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path((period, file)): Path<(String, String)>,
) -> Response {
    let period = match Period::parse(&period) {
        Ok(period) => period,
        Err(error) => return ApiError::BadRequest(error).into_response(),
    };
    let Some((layout, format)) = parse_file_name(&file) else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({
                "error": "no such card; cards are wide.svg, wide.png, story.svg and story.png"
            })),
        )
            .into_response();
    };
    let review = match state
        .live
        .for_person(&viewer.person, viewer.zone)
        .review(Some(period))
        .await
    {
        Ok(review) => review,
        Err(error) => return ApiError::Unavailable(error.to_string()).into_response(),
    };
    let svg = match render_card(&review, layout) {
        Ok(svg) => svg,
        Err(error) => {
            return ApiError::Unavailable(format!("the card cannot be drawn: {error}"))
                .into_response()
        }
    };
    let filename = format!("review-{period}-{}.{}", layout.key(), format.extension());
    let disposition = format!("attachment; filename=\"{filename}\"");
    match format {
        CardFormat::Svg => (
            [
                (header::CONTENT_TYPE, "image/svg+xml".to_string()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            svg,
        )
            .into_response(),
        // Drawn at the size it is for.
        CardFormat::Png => png_response(svg, 1.0, disposition).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_file_names_its_layout_and_format() {
        assert_eq!(
            parse_file_name("wide.png"),
            Some((CardLayout::Wide, CardFormat::Png))
        );
        assert_eq!(
            parse_file_name("story.svg"),
            Some((CardLayout::Story, CardFormat::Svg))
        );
        for bad in ["wide", "wide.gif", "square.png", ".png", "story.svg.png"] {
            assert_eq!(parse_file_name(bad), None, "{bad}");
        }
    }
}
