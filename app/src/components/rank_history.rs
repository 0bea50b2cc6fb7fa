//! A song's or an artist's rank history on its page: its best month, the
//! months and weeks it was number one, and its rank in each month's chart
//! of the person's listening, newest first.

use chrono::{Datelike, NaiveDate};
use leptos::prelude::*;

use super::time_charts::MONTHS;
use crate::format;
use crate::range::RankHistory;

/// `Mar 2022`.
fn month_label(month: NaiveDate) -> String {
    format!("{} {}", MONTHS[month.month0() as usize], month.year())
}

/// The rank history of something ranked among the person's `charted`
/// (`songs` or `artists`).
#[component]
pub fn RankHistoryPanel(history: RankHistory, charted: &'static str) -> impl IntoView {
    let best = history.best_month.map_or_else(
        || "—".to_string(),
        |best| {
            format!(
                "{}: {} plays, #{} of your {charted} that month",
                month_label(best.month),
                format::count(best.plays),
                best.rank
            )
        },
    );
    let months_on_top = history
        .months
        .iter()
        .filter(|month| month.rank == 1)
        .count();
    let rows = (history.months.iter().rev())
        .map(|month| {
            view! {
                <tr>
                    <th scope="row">{month_label(month.month)}</th>
                    <td class="num">{format!("#{}", month.rank)}</td>
                    <td class="num">{format::count(month.plays)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="panel" aria-labelledby="rank-history-title">
            <h2 id="rank-history-title">"Rank history"</h2>
            <p class="hint">{format!("Its place among all your {charted} each month, by plays, over all your history.")}</p>
            <dl class="moments" aria-label="Rank history">
                <div class="fact"><dt>"Best month"</dt><dd>{best}</dd></div>
                <div class="fact"><dt>"Months at number one"</dt><dd>{format::count(months_on_top as i64)}</dd></div>
                <div class="fact"><dt>"Weeks at number one"</dt><dd>{format::count(history.weeks_at_number_one)}</dd></div>
            </dl>
            <div class="scroll rank-months">
                <table class="ranking" aria-label="Rank by month">
                    <thead><tr><th scope="col">"Month"</th><th scope="col" class="num">"Rank"</th><th scope="col" class="num">"Plays"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}
