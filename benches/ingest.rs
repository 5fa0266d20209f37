//! Load generator: OpenRosa submissions of the demo flow-monitoring survey posted to a
//! running `rumbo` (started here, in its own process) at concurrency 1, 8 and 64; prints
//! acknowledged (durable) submissions per second, p50 and p99 latency and the server's RSS.
//!
//! `cargo bench --bench ingest` (SQLite in a temporary folder); with
//! `RUMBO_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test` also PostgreSQL (in a
//! database created for the run). `RUMBO_BENCH_COUNT` sets the submissions per level
//! (default 10,000; a quarter of that at concurrency 1).

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use rumbo_domain::demo_submissions;

const PASSWORD: &str = "bench-pass-1";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The submissions as OpenRosa XML documents, each with its own instance id.
fn documents(count: usize, seed: u64) -> Vec<String> {
    let form = rumbo_xlsform::read_form(
        demo_submissions::FLOW_MONITORING_XLSX,
        Some(demo_submissions::FLOW_MONITORING_FILE_NAME),
    )
    .expect("the demo form reads");
    let validator = rumbo_xlsform::Validator::new(&form);
    let start = NaiveDate::from_ymd_opt(2026, 10, 1).expect("date");
    demo_submissions::generate(count, seed, &demo_submissions::demo_sites(), start, 57)
        .iter()
        .map(|record| {
            let validated = validator.validate_json(record).expect("a demo record is valid");
            rumbo_server::collect::record::to_xml(&form, demo_submissions::FORM_VERSION, &validated)
        })
        .collect()
}

async fn run_level(url: &str, docs: Arc<Vec<String>>, concurrency: usize) -> (f64, Duration, Duration, usize) {
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().expect("client");
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url, docs, next) = (client.clone(), url.to_string(), docs.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(xml) = docs.get(i) else { return latencies };
                let form = reqwest::multipart::Form::new().part(
                    "xml_submission_file",
                    reqwest::multipart::Part::text(xml.clone()).file_name("s.xml").mime_str("text/xml").expect("mime"),
                );
                let t = Instant::now();
                let r = client.post(&url).multipart(form).send().await.expect("the server answers");
                assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
                latencies.push(t.elapsed());
            }
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.expect("task"));
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pick = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    (latencies.len() as f64 / elapsed.as_secs_f64(), pick(0.5), pick(0.99), latencies.len())
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
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_rumbo"))
            .args(&args)
            // RUMBO_BENCH_LOG: the server's log filter (its log goes to standard error).
            .env("RUMBO_LOG", std::env::var("RUMBO_BENCH_LOG").unwrap_or_else(|_| "warn".into()))
            .env("RUMBO_DEMO_SUBMISSIONS", "0")
            .env("RUMBO_DEMO_PASSWORD", PASSWORD)
            .stdout(Stdio::null())
            .stderr(if std::env::var_os("RUMBO_BENCH_LOG").is_some() { Stdio::inherit() } else { Stdio::null() })
            .spawn()
            .expect("start rumbo"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_mins(2);
    while !reqwest::get(format!("{base}/portal/rumbo_wifi")).await.is_ok_and(|r| r.status() == 200) {
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let token: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/token"))
        .json(&serde_json::json!({ "username": "admin", "password": PASSWORD }))
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    let url = format!("{base}/openrosa/key/{}/submission", token["token"].as_str().expect("token"));
    let count: usize = std::env::var("RUMBO_BENCH_COUNT").ok().and_then(|c| c.parse().ok()).unwrap_or(10_000);
    println!("{engine}: idle RSS {:.1} MB", rss_mb(server.0.id()));
    for (level, concurrency) in [1usize, 8, 64].into_iter().enumerate() {
        let n = if concurrency == 1 { count / 4 } else { count };
        let docs = Arc::new(documents(n, 1000 + level as u64));
        let (rate, p50, p99, done) = run_level(&url, docs, concurrency).await;
        println!(
            "{engine:<10} concurrency {concurrency:>3}: {done:>6} acknowledged, {rate:>7.0}/s, p50 {:>6.2} ms, p99 {:>6.2} ms, server RSS {:.1} MB",
            p50.as_secs_f64() * 1000.0,
            p99.as_secs_f64() * 1000.0,
            rss_mb(server.0.id())
        );
    }
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken from the command line.
    bench("sqlite", &[]).await;
    if let Ok(url) = std::env::var("RUMBO_BENCH_POSTGRES_URL") {
        let name = format!("rumbo_bench_{}", std::process::id());
        let admin = sqlx::PgPool::connect(&url).await.expect("PostgreSQL");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.expect("create the bench database");
        let db = format!("{}/{name}", &url[..url.rfind('/').expect("a database in the URL")]);
        bench("postgres", &["--database-url".into(), db]).await;
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&admin).await;
    }
}
