//! Situation reports (issue #6): how long the PDF report of a country (and of the region)
//! takes on the demo data.
//!
//! A fresh SQLite store in a temporary folder with what `rumbo demo` makes: the seed (18
//! countries, their admin-1 areas, 57 points, 6 rounds each), the DTM forms and indicators,
//! and about `RUMBO_BENCH_SUBMISSIONS` submissions (default 200,000, the demo's number),
//! stored through the same path as live ones. Then, for Colombia and for the region, round
//! "Ronda 3 – 2025", in Spanish:
//!
//! - **cold**: the first report, which also protects every public table it reads
//!   (disclosure control over each indicator's whole table), as after a server start or in
//!   `rumbo report`;
//! - **warm**: `RUMBO_BENCH_REPORTS` more (default 5), as a running server makes them
//!   (tables cached while the aggregates do not change), each split into gathering the
//!   figures (public answers, charts, map) and typesetting the PDF.
//!
//! `cargo bench --bench report`.

use std::time::{Duration, Instant};

use rumbo_server::outputs::report::{self, ReportFormat, ReportParams};
use rumbo_server::{AppState, ServerConfig};
use rumbo_store::Store;

const PASSWORD: &str = "bench-pass-1";
const ROUND: &str = "Ronda 3 – 2025";

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// Minimum, median and maximum.
fn spread(mut times: Vec<Duration>) -> String {
    times.sort();
    match times.as_slice() {
        [] => "—".into(),
        t => format!("{} / {} / {}", secs(t[0]), secs(t[t.len() / 2]), secs(t[t.len() - 1])),
    }
}

/// One report: the time to gather its figures, the time to typeset it, and its size.
async fn one(state: &AppState, country: Option<&str>) -> (Duration, Duration, usize) {
    let params = ReportParams {
        country: country.map(str::to_owned),
        round: Some(ROUND.into()),
        lang: Some("es".into()),
        format: Some("pdf".into()),
    };
    let request = report::resolve(state, &params, rumbo_server::i18n::Lang::Es).await.expect("a report to make");
    let started = Instant::now();
    let built = report::build(state, &request).await.expect("the figures");
    let gathered = started.elapsed();
    // Typst keeps what it laid out for the next document: start from nothing, as a report
    // whose figures changed would (mostly) have to.
    rumbo_report::forget_memoised();
    let started = Instant::now();
    let pdf = report::write_as(built, ReportFormat::Pdf).await.expect("the PDF");
    assert!(pdf.starts_with(b"%PDF-"));
    (gathered, started.elapsed(), pdf.len())
}

#[tokio::main]
async fn main() {
    let submissions = env_number("RUMBO_BENCH_SUBMISSIONS", 200_000);
    let reports = env_number("RUMBO_BENCH_REPORTS", 5).max(1);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = rumbo_server::settings::sqlite_url(&dir.path().join("rumbo.db"));
    let store = Store::connect(&url).await.expect("the store");
    store.migrate().await.expect("migrations");
    let started = Instant::now();
    rumbo_domain::demo::seed(&store, PASSWORD).await.expect("the demo seed");
    let state =
        AppState::open(store.clone(), ServerConfig { data_dir: dir.path().to_path_buf(), ..ServerConfig::default() })
            .await
            .expect("the server's state");
    rumbo_server::collect::demo::publish(&state).await.expect("the demo forms");
    let stored = rumbo_server::collect::demo::fill(&state, submissions, 0..10).await.expect("the demo submissions");
    println!("demo data: {stored} submissions stored in {}", secs(started.elapsed()));
    println!();
    println!(
        "| report | cold: figures + PDF | warm figures (min / median / max) | warm PDF (min / median / max) | size |"
    );
    println!("|---|---|---|---|---|");
    for (name, country) in [("Colombia", Some("COL")), ("region (18 countries)", None)] {
        let (cold_figures, cold_pdf, _) = one(&state, country).await;
        let mut figures = Vec::new();
        let mut pdfs = Vec::new();
        let mut size = 0;
        for _ in 0..reports {
            let (f, p, s) = one(&state, country).await;
            figures.push(f);
            pdfs.push(p);
            size = s;
        }
        println!(
            "| {name} | {} + {} | {} | {} | {} KiB |",
            secs(cold_figures),
            secs(cold_pdf),
            spread(figures),
            spread(pdfs),
            size.div_ceil(1024),
        );
    }
    store.close().await;
}
