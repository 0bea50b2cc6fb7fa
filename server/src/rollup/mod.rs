//! Time-range questions answered from each person's aggregates
//! ([`query`]; what each month discovered, [`discovery`]; where a song or
//! an artist stood in the charts, [`ranks`], from the charts kept with
//! the figures, [`charts`]; a year's or a month's review,
//! [`review`], and its listening sessions, [`sessions`]), and the
//! partitions this server holds, whose aggregates the consumer counts into
//! and every request reads ([`held`]), whose answers going stale are
//! worked out again in the background ([`refresh`]).

mod by_month;
mod charts;
pub mod discovery;
pub mod held;
pub mod query;
pub mod question;
pub mod ranks;
mod refresh;
pub mod review;
pub mod sessions;
pub mod skips;
mod sums;
