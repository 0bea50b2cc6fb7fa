//! The time-range half of the dashboard: presets and a custom from–to, the
//! choice of plays or listening time, all kept in the URL so a view can be
//! shared; then the range's body (rankings, most skipped songs, the
//! listening clock, listening over time and how plays split up), rendered
//! on the server ([`super::range_body`]) and fetched again whenever the
//! pushed figures change, so the range view is live too.

use chrono::{DateTime, Datelike, Duration, Utc};
use leptos::prelude::*;

use super::bar_chart::ChartSvg;
use leptos_router::hooks::use_query_map;

use serde::{Deserialize, Serialize};

use super::ranking::ChartDownloads;
use super::time_charts::render_over_time;
use crate::api::get_range_body;
use crate::format;
use crate::overview::OverviewPlace;
use crate::range::{Bucket, DateRange, Metric, Preset, RangeQuery, TimePoint};
use crate::review::SessionGap;

/// The range the URL asks for, or why it cannot be read.
pub fn query_from_url() -> Memo<Result<RangeQuery, String>> {
    let params = use_query_map();
    Memo::new(move |_| {
        let params = params.read();
        RangeQuery::parse(
            params.get_str("preset"),
            params.get_str("from"),
            params.get_str("to"),
            params.get_str("by"),
        )
    })
}

/// Where the overview is, as its URL says (see [`OverviewPlace`]).
pub fn place_from_url() -> Memo<Result<OverviewPlace, String>> {
    let params = use_query_map();
    Memo::new(move |_| {
        let params = params.read();
        OverviewPlace::parse(|name| params.get(name))
    })
}

/// A range as a person reads it: its first and last day.
pub fn describe_range(range: DateRange) -> String {
    let day = format::day;
    match (range.from, range.to) {
        (None, None) => "All time".into(),
        (Some(from), None) => format!("From {}", day(from)),
        (None, Some(to)) => format!("Until {}", day(to - Duration::days(1))),
        (Some(from), Some(to)) if to - from == Duration::days(1) => day(from),
        (Some(from), Some(to)) => format!("{} to {}", day(from), day(to - Duration::days(1))),
    }
}

#[component]
pub fn RangeExplorer(
    /// Changes whenever the pushed figures change.
    version: Signal<Option<DateTime<Utc>>>,
) -> impl IntoView {
    let query = query_from_url();
    let place = place_from_url();
    // A bad year or pause is the calendar's or the sessions' to report; the
    // range's links still keep the range.
    let place = Signal::derive(move || {
        place.get().unwrap_or_else(|_| OverviewPlace {
            range: query.get().unwrap_or_default(),
            ..OverviewPlace::default()
        })
    });
    let body = Resource::new(
        move || (query.get(), version.get()),
        |(query, _)| async move {
            match query {
                Ok(query) => rendered(get_range_body(query).await),
                Err(error) => Err(error),
            }
        },
    );
    view! {
        <section class="range" aria-labelledby="range-title">
            <h2 id="range-title">"Your listening"</h2>
            <RangeControls place />
            <RenderedBody body class="range-body" loading="Adding up the range…" failed="This range cannot be shown" />
        </section>
    }
}

/// What a section keeps of a body the server rendered, or why it has none.
pub fn rendered(body: Result<String, ServerFnError>) -> Result<RenderedHtml, String> {
    body.map(|html| RenderedHtml { html })
        .map_err(|error| error.to_string())
}

/// The body of a section that the server renders, once fetched (`loading`
/// until then), or why it could not be (`failed` and the error).
#[component]
pub fn RenderedBody(
    body: Resource<Result<RenderedHtml, String>>,
    class: &'static str,
    loading: &'static str,
    failed: &'static str,
) -> impl IntoView {
    view! {
        <Suspense fallback=move || view! { <p class="loading">{loading}</p> }>
            {move || {
                body.get()
                    .map(|result| match result {
                        Ok(RenderedHtml { html }) => view! { <div class=class inner_html=html></div> }.into_any(),
                        Err(error) => {
                            view! { <p class="notice" role="alert">{format!("{failed}: {error}")}</p> }.into_any()
                        }
                    })
            }}
        </Suspense>
    }
}

/// HTML rendered by the server, as the page carries it: not a second time
/// in the page's data, since hydration keeps the elements the server
/// rendered in place (an `inner_html` is not set while hydrating, only when
/// built or changed afterwards). Read back only from its own empty form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderedHtml {
    #[serde(skip)]
    pub html: String,
}

/// Presets and the metric as links, the custom range as a plain form: all
/// work with the keyboard, and without scripts.
#[component]
fn RangeControls(place: Signal<OverviewPlace>) -> impl IntoView {
    let query = Signal::derive(move || place.get().range);
    let with_range = move |range: RangeQuery| {
        OverviewPlace {
            range,
            ..place.get()
        }
        .href(None)
    };
    let presets = Preset::ALL.map(|preset| {
        let label = match preset {
            Preset::Last7Days => "Last 7 days",
            Preset::Last30Days => "Last 30 days",
            Preset::LatestYear => "Latest year",
            Preset::AllTime => "All time",
        };
        let href = move || {
            with_range(RangeQuery {
                preset: Some(preset),
                from: None,
                to: None,
                metric: query.get().metric,
            })
        };
        let current = move || query.get().is_preset(preset).then_some("true");
        view! { <a class="chip" href=href aria-current=current>{label}</a> }
    });
    let metrics =
        [(Metric::Plays, "Plays"), (Metric::Time, "Listening time")].map(|(metric, label)| {
            let href = move || {
                with_range(RangeQuery {
                    metric,
                    ..query.get()
                })
            };
            let current = move || (query.get().metric == metric).then_some("true");
            view! { <a class="chip" href=href aria-current=current>{label}</a> }
        });
    let from = move || {
        query
            .get()
            .from
            .map(|day| day.to_string())
            .unwrap_or_default()
    };
    let to = move || {
        query
            .get()
            .to
            .map(|day| day.to_string())
            .unwrap_or_default()
    };
    let by = move || query.get().metric.key();
    view! {
        <nav class="range-controls" aria-label="Time range">
            <div class="chips" role="group" aria-label="Preset ranges">{presets}</div>
            <form class="custom-range" method="get" action="/">
                <label>"From " <input type="date" name="from" value=from /></label>
                <label>"To (excluded) " <input type="date" name="to" value=to /></label>
                <input type="hidden" name="by" value=by />
                {move || place.get().year.map(|year| view! { <input type="hidden" name="year" value=year /> })}
                {move || {
                    let gap = place.get().gap;
                    (gap != SessionGap::DEFAULT).then(|| view! { <input type="hidden" name="gap" value=gap.minutes() /> })
                }}
                <button type="submit">"Show range"</button>
            </form>
            <div class="chips" role="group" aria-label="Rank by">{metrics}</div>
        </nav>
    }
}

/// Listening over time as an area chart and, as its text alternative, a table.
#[component]
pub fn OverTimePanel(
    heading: &'static str,
    /// The chart's accessible name.
    chart_label: &'static str,
    points: Vec<TimePoint>,
    bucket: Bucket,
    /// The range's URL parameters, when the chart can be downloaded.
    #[prop(optional)]
    download_query: Option<String>,
) -> impl IntoView {
    let svg = render_over_time(&points, bucket)
        .unwrap_or_else(|error| format!("<p>Chart unavailable: {error}</p>"));
    let step = move |point: &TimePoint| match bucket {
        Bucket::Month => format!("{:04}-{:02}", point.start.year(), point.start.month()),
        _ => format::day(point.start),
    };
    let rows = points
        .iter()
        .map(|point| view! { <tr><td>{step(point)}</td><td class="num">{format::count(point.plays)}</td><td class="num">{format::hours(point.ms_played)}</td></tr> })
        .collect_view();
    let heading_id = format!("{}-title", heading.to_lowercase().replace(' ', "-"));
    let labelled_by = heading_id.clone();
    view! {
        <section class="panel" aria-labelledby=labelled_by>
            <h2 id=heading_id>{heading}</h2>
            <ChartSvg label=chart_label.to_string() svg />
            {download_query.map(|query| view! { <ChartDownloads path="/charts/over-time".to_string() query /> })}
            <details>
                <summary>"The figures as a table"</summary>
                <table aria-label=heading>
                    <thead><tr><th scope="col">"From"</th><th scope="col" class="num">"Plays"</th><th scope="col" class="num">"Hours"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_read_with_their_last_day() {
        let range = DateRange::parse(Some("2024-01-01"), Some("2024-02-01")).unwrap();
        assert_eq!(describe_range(range), "2024-01-01 to 2024-01-31");
        let one_day = DateRange::parse(Some("2024-01-01"), Some("2024-01-02")).unwrap();
        assert_eq!(describe_range(one_day), "2024-01-01");
        assert_eq!(describe_range(DateRange::ALL_TIME), "All time");
    }

    #[test]
    fn rendered_html_is_not_carried_twice_in_the_page() {
        let rendered = RenderedHtml {
            html: "<p>All time: 3 listens</p>".into(),
        };
        let carried = serde_json::to_string(&Ok::<_, String>(rendered)).unwrap();
        assert!(!carried.contains("listens"), "{carried}");
        let read: Result<RenderedHtml, String> = serde_json::from_str(&carried).unwrap();
        assert_eq!(read, Ok(RenderedHtml::default()));
        let other = serde_json::from_str::<Result<RenderedHtml, String>>(r#"{"Ok":{"name":"x"}}"#);
        assert!(
            other.is_err(),
            "another resource's data read as rendered HTML"
        );
    }
}
