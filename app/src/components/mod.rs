//! The dashboard's components.

pub mod bar_chart;
pub mod dashboard;
pub mod detail;
pub mod people;
pub mod range_view;
pub mod ranking;
pub mod settings;
pub mod sign_in;
pub mod time_charts;
