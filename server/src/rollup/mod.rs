//! Time-range questions answered from the rollups by day
//! ([`crate::aggregate::days`]): the range index of every partition's days
//! ([`index`]), the questions themselves ([`query`]), and everyone's ranges
//! kept current as batches are counted ([`people`]).

pub mod index;
pub mod people;
pub mod query;
