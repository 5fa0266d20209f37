//! What comes out of the aggregates and the submissions for readers: published tables as
//! XLSX and GeoJSON, background exports of submissions, and situation reports.

pub mod exports;
pub mod jobs;
pub mod report;
pub mod tables;
