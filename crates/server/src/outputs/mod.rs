//! What comes out of the aggregates and the submissions for readers: published tables as
//! XLSX and GeoJSON, and background exports of submissions.

pub mod exports;
pub mod jobs;
pub mod tables;
