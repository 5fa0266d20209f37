//! Rumbo's domain rules that sit above storage: who may do what (the permission matrix),
//! passwords and secrets, admin boundaries (GeoJSON import, locating a point, drawing maps)
//! and the demo instance.

pub mod boundaries;
pub mod demo;
pub mod demo_dtm;
pub mod demo_services;
pub mod demo_submissions;
pub mod map;
pub mod permissions;
pub mod sealing;
pub mod secrets;

pub use rumbo_store as store;
