//! The dashboard's components.

pub mod bar_chart;
pub mod dashboard;
pub mod time_charts;
