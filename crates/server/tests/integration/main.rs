//! Integration tests: the server on a real port, driven as a client would, on SQLite and on
//! PostgreSQL; and a browser test in headless Chromium.

mod common;

mod access;
mod analytics;
mod api;
mod browser;
mod collection_pages;
mod demo;
mod exports;
mod feedback;
mod imports;
mod openrosa;
mod pages;
mod protection;
mod protection_browser;
mod public;
mod reports;
mod response;
mod response_browser;
mod response_dashboard;
mod response_pages;
mod services;
mod webform_browser;
