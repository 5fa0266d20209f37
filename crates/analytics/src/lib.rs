//! Indicators and aggregates.
