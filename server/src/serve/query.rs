//! Query strings read into typed structs, the axum way: a parameter no
//! endpoint knows, or one given twice, is refused with a `400` and the JSON
//! error saying which, instead of being silently ignored. Values stay text
//! here and are checked by the range types, whose messages say what a valid
//! value looks like.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::answer::ApiError;

/// Query parameters read into `T`; refused as a JSON `400` when they do not fit.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))
    }
}

/// What the range endpoints take: the range (`preset`, or `from` and `to`),
/// the order (`by`), the rows (`limit`), and for `/api/most-skipped` and
/// `/api/over-time` their own `min_plays` and `bucket`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeArgs {
    pub preset: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub by: Option<String>,
    pub limit: Option<String>,
    pub min_plays: Option<String>,
    pub bucket: Option<String>,
    /// `/api/sessions`' pause that ends a session, in minutes.
    pub gap: Option<String>,
}

/// What a chart download takes: the range and the order.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartArgs {
    pub preset: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub by: Option<String>,
}
