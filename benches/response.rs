//! Response monitoring (5W) benchmark, on a `rumbo demo` started here in its own process
//! (with the full 5W demo: 230 organisations, plans 2025 and 2026, a year of reports):
//!
//! * the demo's 5W fill, as the demo prints it;
//! * people reached: `fivew::consolidate` over the demo's 2025 rows (read through the API),
//!   and the whole `GET /api/v1/response/reached?year=2025`;
//! * a generated 50,000-row filled activity template uploaded through
//!   `POST /api/v1/response/reports/upload`: the server's read, check and store times.
//!
//! `cargo bench --bench response` (SQLite in a temporary folder); with
//! `RUMBO_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test` (or
//! `RUMBO_BENCH_POSTGRES_URL`) also PostgreSQL, in a database created for the run.
//! Prints numbers; never fails on timing.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rumbo_analytics::fivew::{self, Disagg, ReachRow, Rules};
use rumbo_server::response::reports::ReportInput;
use serde_json::Value;

const PASSWORD: &str = "bench-pass-1";
const UPLOAD_ROWS: usize = 50_000;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn get(c: &reqwest::Client, url: &str, token: &str) -> Value {
    let r = c.get(url).bearer_auth(token).send().await.expect("the server answers");
    assert_eq!(r.status(), 200, "{url}");
    r.json().await.expect("json")
}

/// The demo's rows of a year, as the consolidation reads them.
async fn reach_rows(c: &reqwest::Client, base: &str, token: &str, year: i32) -> Vec<ReachRow> {
    let plan = get(c, &format!("{base}/api/v1/response/plans/{year}"), token).await;
    let people: std::collections::HashSet<String> = plan["indicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .filter(|i| i["counts_people"] == true)
        .map(|i| i["code"].as_str().unwrap_or_default().to_string())
        .collect();
    let mut rows = Vec::new();
    let mut offset = 0;
    loop {
        let page =
            get(c, &format!("{base}/api/v1/response/reports?year={year}&limit=5000&offset={offset}"), token).await;
        let items = page["items"].as_array().expect("items");
        for r in items {
            if !matches!(r["status"].as_str(), Some("submitted" | "approved")) {
                continue;
            }
            let n = |k: &str| r[k].as_u64().unwrap_or(0);
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            rows.push(ReachRow {
                organisation: r["appealing_org_id"].to_string(),
                sector: s("sector_code"),
                indicator: s("indicator_code"),
                counts_people: people.contains(&s("indicator_code")),
                country: s("country_code"),
                admin1: s("admin1_pcode"),
                month: s("month").parse().expect("a month"),
                population: serde_json::from_value(r["population_type"].clone()).expect("a population type"),
                new: r["new_or_recurring"] == "new",
                reached: Disagg {
                    girls: n("girls"),
                    boys: n("boys"),
                    women: n("women"),
                    men: n("men"),
                    other: n("other"),
                },
            });
        }
        offset += items.len();
        if items.is_empty() || offset as i64 >= page["total"].as_i64().unwrap_or(0) {
            break;
        }
    }
    rows
}

/// A 50,000-row filled template of an organisation working everywhere, over the 2026 plan.
fn upload_rows(plan: &Value) -> Vec<ReportInput> {
    let indicators: Vec<(&str, bool)> = plan["indicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .map(|i| (i["code"].as_str().unwrap_or_default(), i["counts_people"] == true))
        .collect();
    let areas: Vec<(&str, &str)> = {
        let mut a: Vec<(&str, &str)> = plan["targets"]
            .as_array()
            .expect("targets")
            .iter()
            .filter_map(|t| Some((t["country_code"].as_str()?, t["admin1_pcode"].as_str()?)))
            .collect();
        a.sort_unstable();
        a.dedup();
        a
    };
    let populations = ["in_destination", "in_transit", "host_community", "pendular", "colombian_returnees"];
    (0..UPLOAD_ROWS)
        .map(|i| {
            // Mixed radix: every row has its own key (indicator, area, month, population), so
            // that none is a duplicate of another.
            let (indicator, people) = indicators[i % indicators.len()];
            let rest = i / indicators.len();
            let (country, admin1) = areas[rest % areas.len()];
            let rest = rest / areas.len();
            let (month, population) = (rest % 12 + 1, (rest / 12) % populations.len());
            let f = |k: usize| Some(((i * 7 + k * 13) % 90) as i64 + 1);
            let figures = [f(0), f(1), f(2), f(3), Some(0)];
            let total: i64 = figures.iter().flatten().sum();
            ReportInput {
                appealing_organisation_id: None,
                implementing_organisation_id: None,
                implementing_organisation: None,
                sector: None,
                indicator: indicator.into(),
                country: country.into(),
                admin1_pcode: Some(admin1.into()),
                month: format!("2026-{month:02}"),
                population_type: populations[population].into(),
                girls: people.then_some(figures[0]).flatten(),
                boys: people.then_some(figures[1]).flatten(),
                women: people.then_some(figures[2]).flatten(),
                men: people.then_some(figures[3]).flatten(),
                other: people.then_some(figures[4]).flatten(),
                total: Some(if people { total } else { total / 10 + 1 }),
                new_or_recurring: if population == 0 { "new" } else { "recurring" }.into(),
                modality: Some(if i % 4 == 0 { "cash" } else { "in_kind" }.into()),
                cash_value_usd: (i % 4 == 0).then_some(total as f64 * 30.0),
            }
        })
        .collect()
}

async fn bench(engine: &str, extra: &[String]) {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let mut args = vec![
        "demo".to_string(),
        "--data-dir".into(),
        dir.path().display().to_string(),
        "--port".into(),
        port.to_string(),
    ];
    args.extend(extra.iter().cloned());
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rumbo"))
        .args(&args)
        .env("RUMBO_LOG", std::env::var("RUMBO_BENCH_LOG").unwrap_or_else(|_| "warn".into()))
        .env("RUMBO_DEMO_SUBMISSIONS", "0")
        .env("RUMBO_DEMO_TRICKLE_MS", "0")
        .env("RUMBO_DEMO_PASSWORD", PASSWORD)
        .stdout(Stdio::piped())
        .stderr(if std::env::var_os("RUMBO_BENCH_LOG").is_some() { Stdio::inherit() } else { Stdio::null() })
        .spawn()
        .expect("start rumbo");
    let stdout = child.stdout.take().expect("stdout");
    let _server = Server(child);
    let (lines, said) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    loop {
        let line = said.recv_timeout(Duration::from_mins(10)).expect("the demo starts");
        if line.starts_with("5W:") {
            println!("{engine:<10} demo {line}");
        }
        if line.contains("api/v1/openapi.json") {
            break;
        }
    }
    let base = format!("http://127.0.0.1:{port}");
    let c = reqwest::Client::new();
    while c.get(format!("{base}/healthz")).send().await.is_err() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("{engine:<10} demo ready in {:.1} s", started.elapsed().as_secs_f64());
    let token: Value = c
        .post(format!("{base}/api/v1/auth/token"))
        .json(&serde_json::json!({ "username": "admin", "password": PASSWORD }))
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    let token = token["token"].as_str().expect("token").to_string();

    // (b) People reached over a demo year.
    let rows = reach_rows(&c, &base, &token, 2025).await;
    let mut times = Vec::new();
    let mut result = None;
    for _ in 0..10 {
        let t = Instant::now();
        result = Some(fivew::consolidate(&rows, &Rules::default()));
        times.push(ms(t.elapsed()));
    }
    let result = result.expect("consolidated");
    println!(
        "{engine:<10} fivew::consolidate, 2025 demo rows ({} rows, {} country-sectors): median {:.1} ms, best {:.1} ms",
        rows.len(),
        result.by_sector.len(),
        median(times.clone()),
        times.iter().copied().fold(f64::MAX, f64::min)
    );
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let body = get(&c, &format!("{base}/api/v1/response/reached?year=2025"), &token).await;
        times.push(ms(t.elapsed()));
        assert_eq!(body["rows"].as_u64().unwrap_or(0) as usize, rows.len());
    }
    println!(
        "{engine:<10} GET /api/v1/response/reached?year=2025 (every country): median {:.1} ms, best {:.1} ms",
        median(times.clone()),
        times.iter().copied().fold(f64::MAX, f64::min)
    );

    // (a) A 50,000-row upload.
    let plan = get(&c, &format!("{base}/api/v1/response/plans/2026"), &token).await;
    let orgs = get(&c, &format!("{base}/api/v1/organisations?q=IOM&limit=10"), &token).await;
    let iom =
        orgs["items"].as_array().and_then(|items| items.iter().find(|o| o["acronym"] == "IOM")).cloned().expect("IOM");
    let rows = upload_rows(&plan);
    let t = Instant::now();
    let file = rumbo_server::response::demo::filled_template(
        2026,
        iom["id"].as_i64().expect("id"),
        iom["name"].as_str().expect("name"),
        &rows,
    )
    .expect("a filled template");
    let written = t.elapsed();
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(file.clone()).file_name("rumbo-activities-2026-IOM.xlsx"));
    let t = Instant::now();
    let r = c
        .post(format!("{base}/api/v1/response/reports/upload"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .expect("the server answers");
    let elapsed = t.elapsed();
    let status = r.status();
    let body: Value = r.json().await.expect("json");
    assert_eq!(status, 201, "{body}");
    println!(
        "{engine:<10} upload of {} rows ({} KB, written in {:.0} ms): {:.0} ms end to end; server {} ms = read {} + check {} + store {} ms; flagged late {}, duplicate {}, outlier {}",
        body["rows"],
        file.len() / 1024,
        ms(written),
        ms(elapsed),
        body["elapsed_ms"],
        body["read_ms"],
        body["check_ms"],
        body["store_ms"],
        body["late"],
        body["duplicate"],
        body["outlier"],
    );
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken from the command line.
    bench("sqlite", &[]).await;
    let url = std::env::var("RUMBO_TEST_POSTGRES_URL").or_else(|_| std::env::var("RUMBO_BENCH_POSTGRES_URL"));
    if let Ok(url) = url {
        let name = format!("rumbo_bench_response_{}", std::process::id());
        let admin = sqlx::PgPool::connect(&url).await.expect("PostgreSQL");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.expect("create the bench database");
        let db = format!("{}/{name}", &url[..url.rfind('/').expect("a database in the URL")]);
        bench("postgres", &["--database-url".into(), db]).await;
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&admin).await;
    }
}
