//! Time-range questions answered from each person's aggregates
//! ([`query`]; what each month discovered, [`discovery`]; a year's or a month's review, [`review`], and its listening sessions, [`sessions`]), and the partitions this server holds, whose aggregates the
//! consumer counts into and every request reads ([`held`]).

pub mod discovery;
pub mod held;
pub mod query;
pub mod question;
pub mod review;
pub mod sessions;
