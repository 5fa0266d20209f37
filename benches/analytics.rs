//! Aggregates at scale (issue #5): how long it takes to rebuild every aggregate of the
//! flow-monitoring registry from millions of stored submissions, how many cells that
//! makes, and the dashboard API's latency once they are built.
//!
//! For each engine and size: a fresh store with the demo seed, the registry form
//! (`data/forms/dtm-fmr.xlsx`) published and the `fmr_*` indicators of
//! `data/indicators/dtm.toml` declared; N registry submissions bulk-loaded straight into
//! `submissions` (no HTTP, no validation: `benches/ingest.rs` measures that path);
//! `Store::reaggregate` timed; then `GET /api/v1/aggregates` asked 300 times per question
//! of a server started in this process, one request at a time.
//!
//! `cargo bench --bench analytics` (SQLite in a temporary folder). `RUMBO_BENCH_ROWS`: the
//! sizes, comma-separated (default `100000`). With
//! `RUMBO_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test` also PostgreSQL, in a
//! database created for each size and dropped afterwards; `RUMBO_BENCH_ENGINES=postgres`
//! measures only that one. Everything stays on 127.0.0.1.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate, Utc};
use rumbo_analytics::IndicatorFile;
use rumbo_server::{AppState, ServerConfig};
use rumbo_store::Store;
use rumbo_store::model::Actor;

const PASSWORD: &str = "bench-pass-1";
/// `form_id` of the flow-monitoring registry: only its indicators are declared.
const FMR_FORM: &str = "rumbo_fmr";
/// Rows per transaction of the bulk load.
const BATCH: usize = 5_000;
/// Rows per INSERT statement (15 parameters each: within both engines' limits).
const STATEMENT: usize = 1_000;
/// Requests per question.
const QUERIES: usize = 300;
/// Requests before the timed ones (connection set up, caches filled).
const WARM_UP: usize = 10;

/// The questions timed: a name, the indicator and the breakdown, always for one round.
const QUESTIONS: [(&str, &str, &str); 3] = [
    ("people by adm1×sex×age", "fmr_people", "adm1,sex,age_group"),
    ("daily flow by adm1×sex×age", "fmr_daily_flow", "adm1,sex,age_group"),
    ("people by day", "fmr_people", "day"),
];

/// splitmix64: small, fast and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<T: Copy>(&mut self, weighted: &[(T, u64)]) -> T {
        let total: u64 = weighted.iter().map(|(_, w)| w).sum();
        let mut at = self.below(total);
        for (value, weight) in weighted {
            if at < *weight {
                return *value;
            }
            at -= weight;
        }
        weighted[weighted.len() - 1].0
    }
}

/// A flow-monitoring point of the demo, and the rounds of its country.
struct Point {
    id: i64,
    code: String,
    country: String,
    /// `(round id, first day, days)`.
    rounds: Vec<(i64, NaiveDate, u64)>,
}

/// One row of `submissions`, as the bulk load writes it.
struct Row {
    instance_id: String,
    country: String,
    site_id: i64,
    round_id: i64,
    sha: String,
    data: String,
    collected_on: NaiveDate,
}

const NATIONALITIES: [(&str, u64); 7] =
    [("VEN", 70), ("COL", 8), ("HTI", 6), ("ECU", 5), ("CUB", 4), ("PER", 3), ("other", 4)];
const DIRECTIONS: [(&str, u64); 3] = [("entry", 45), ("exit", 35), ("transit", 20)];
const TRANSPORT: [(&str, u64); 5] = [("walking", 40), ("bus", 35), ("car", 10), ("hitchhiking", 10), ("boat", 5)];
const HOURS: [(u32, u64); 4] = [(4, 15), (6, 30), (8, 40), (12, 15)];
/// The registry's ten counts, with the most people one shift may count in each.
const BRACKETS: [(&str, u64); 10] = [
    ("f_0_4", 12),
    ("f_5_11", 12),
    ("f_12_17", 10),
    ("f_18_59", 30),
    ("f_60", 5),
    ("m_0_4", 12),
    ("m_5_11", 12),
    ("m_12_17", 10),
    ("m_18_59", 40),
    ("m_60", 5),
];

/// One observation shift: a point, a day in one of its country's rounds, one to three
/// nationality groups with their ten counts (0–40), as the validated JSON the store keeps.
fn shift(rng: &mut Rng, points: &[Point], n: usize) -> Row {
    let point = &points[rng.below(points.len() as u64) as usize];
    let (round_id, first, days) = point.rounds[rng.below(point.rounds.len() as u64) as usize];
    let day = first + Days::new(rng.below(days));
    let instance_id = format!("uuid:bench-{n:012}-{:016x}", rng.next());
    let mut data = String::with_capacity(640);
    let _ = write!(
        data,
        r#"{{"today":"{}","country":"{}","site":"{}","date":"{day}","observed_hours":{},"direction":"{}","transport":"{}","nationality_group":["#,
        day + Days::new(rng.below(2)),
        point.country,
        point.code,
        rng.pick(&HOURS),
        rng.pick(&DIRECTIONS),
        rng.pick(&TRANSPORT),
    );
    let groups = 1 + rng.below(3) as usize;
    let mut seen: Vec<&str> = Vec::with_capacity(groups);
    let mut total = 0;
    for _ in 0..groups {
        let nationality = rng.pick(&NATIONALITIES);
        if seen.contains(&nationality) {
            continue;
        }
        if !seen.is_empty() {
            data.push(',');
        }
        seen.push(nationality);
        let _ = write!(data, r#"{{"nationality":"{nationality}""#);
        let mut group_total = 0;
        for (field, most) in BRACKETS {
            let count = rng.below(most + 1);
            group_total += count;
            let _ = write!(data, r#","{field}":{count}"#);
        }
        total += group_total;
        let _ = write!(data, r#","group_total":{group_total}}}"#);
    }
    let _ = write!(data, r#"],"total":{total},"meta":{{"instanceID":"{instance_id}"}}}}"#);
    Row {
        sha: format!("{:016x}{:016x}{:016x}{:016x}", rng.next(), rng.next(), rng.next(), rng.next()),
        instance_id,
        country: point.country.clone(),
        site_id: point.id,
        round_id,
        data,
        collected_on: day,
    }
}

/// Runs `$body` with `$pool` bound to the store's pool, whichever the engine.
macro_rules! with_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match $store {
            Store::Sqlite($pool) => $body,
            Store::Postgres($pool) => $body,
        }
    };
}

/// Writes one batch in one transaction, a few multi-row INSERTs.
async fn insert(store: &Store, form_id: i64, version_id: i64, rows: &[Row]) {
    let now = Utc::now();
    with_pool!(store, |pool| {
        let mut tx = pool.begin().await.expect("begin");
        for chunk in rows.chunks(STATEMENT) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO submissions (form_id, form_version_id, instance_id, root_id, country_code, site_id, \
                 round_id, submitter, channel, xml, xml_sha256, data, collected_on, received_at, updated_at) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(form_id)
                    .push_bind(version_id)
                    .push_bind(r.instance_id.as_str())
                    .push_bind(r.instance_id.as_str())
                    .push_bind(r.country.as_str())
                    .push_bind(r.site_id)
                    .push_bind(r.round_id)
                    .push_bind("bench")
                    .push_bind("import")
                    .push_bind("<rumbo_fmr/>")
                    .push_bind(r.sha.as_str())
                    .push_bind(r.data.as_str())
                    .push_bind(r.collected_on)
                    .push_bind(now)
                    .push_bind(now);
            });
            qb.build().execute(&mut *tx).await.expect("insert submissions");
        }
        tx.commit().await.expect("commit");
    });
}

/// The demo's points with the rounds of their countries.
async fn points(store: &Store) -> Vec<Point> {
    type Sites = Vec<(i64, String, String)>;
    type Rounds = Vec<(i64, String, NaiveDate, NaiveDate)>;
    let (sites, rounds): (Sites, Rounds) = with_pool!(store, |pool| (
        sqlx::query_as("SELECT id, code, country_code FROM sites ORDER BY id").fetch_all(pool).await.expect("sites"),
        sqlx::query_as("SELECT id, country_code, starts_on, ends_on FROM rounds ORDER BY id")
            .fetch_all(pool)
            .await
            .expect("rounds"),
    ));
    sites
        .into_iter()
        .map(|(id, code, country)| {
            let rounds: Vec<(i64, NaiveDate, u64)> = rounds
                .iter()
                .filter(|r| r.1 == country)
                .map(|(id, _, start, end)| (*id, *start, (*end - *start).num_days() as u64 + 1))
                .collect();
            Point { id, code, country, rounds }
        })
        .filter(|p| !p.rounds.is_empty())
        .collect()
}

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// What one engine and size measured.
struct Measured {
    engine: &'static str,
    rows: usize,
    load_rate: f64,
    reaggregate_rate: f64,
    reaggregate_seconds: f64,
    cells: usize,
    /// `(question, p50, p95, p99)` in milliseconds.
    latencies: Vec<(&'static str, f64, f64, f64)>,
    rss_mb: f64,
    disk_mb: f64,
}

async fn bench(engine: &'static str, store: Store, rows: usize, disk: impl Fn() -> u64) -> Measured {
    store.migrate().await.expect("migrate");
    let started = Instant::now();
    rumbo_domain::demo::seed(&store, PASSWORD).await.expect("demo seed");
    let state = AppState::open(store.clone(), ServerConfig::default()).await.expect("server state");
    let user = store.credentials("admin").await.expect("credentials").expect("the demo admin").user;
    let caller = rumbo_server::auth::Caller { user, csrf: None };
    let all = points(&store).await;
    let mut countries: Vec<String> = all.iter().map(|p| p.country.clone()).collect();
    countries.sort();
    countries.dedup();
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/data/forms/dtm-fmr.xlsx")).expect("dtm-fmr.xlsx");
    let published = rumbo_server::collect::ops::publish(&state, &caller, "dtm-fmr.xlsx", bytes, countries)
        .await
        .unwrap_or_else(|e| panic!("publish dtm-fmr.xlsx: {e}"));
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/indicators/dtm.toml")).expect("dtm.toml");
    let defs: Vec<_> =
        IndicatorFile::parse(&text).expect("dtm.toml reads").into_iter().filter(|d| d.form == FMR_FORM).collect();
    let ids: Vec<String> = defs.iter().map(|d| d.id.clone()).collect();
    rumbo_server::analytics::save(&state, &caller, defs).await.unwrap_or_else(|e| panic!("save the indicators: {e}"));
    println!(
        "{engine} {rows}: seeded, published {} and declared {} in {:.1} s ({} points, {} rounds)",
        published.form.xml_form_id,
        ids.join(", "),
        started.elapsed().as_secs_f64(),
        all.len(),
        all.iter().map(|p| p.rounds.len()).sum::<usize>() / all.len().max(1)
    );

    // Bulk load.
    let mut rng = Rng(0x5EED_0000 ^ rows as u64);
    let started = Instant::now();
    let mut generating = Duration::ZERO;
    let mut done = 0;
    let mut last_report = Instant::now();
    while done < rows {
        let t = Instant::now();
        let batch: Vec<Row> = (done..(done + BATCH).min(rows)).map(|n| shift(&mut rng, &all, n)).collect();
        generating += t.elapsed();
        insert(&store, published.form.id, published.version.id, &batch).await;
        done += batch.len();
        if last_report.elapsed() > Duration::from_secs(30) {
            last_report = Instant::now();
            println!("  loaded {done}/{rows} ({:.0} rows/s)", done as f64 / started.elapsed().as_secs_f64().max(1e-9));
        }
    }
    let load_seconds = started.elapsed().as_secs_f64();
    let load_rate = rows as f64 / load_seconds.max(1e-9);
    println!(
        "{engine} {rows}: loaded in {load_seconds:.1} s, {load_rate:.0} rows/s ({:.1} s of it making the JSON); database {:.0} MB",
        generating.as_secs_f64(),
        mb(disk())
    );

    // Rebuild every aggregate.
    let registry = state.analytics.registry();
    let started = Instant::now();
    let (read, cells) = store.reaggregate(&Actor::system("bench"), registry.as_ref()).await.expect("reaggregate");
    let reaggregate_seconds = started.elapsed().as_secs_f64();
    let reaggregate_rate = read as f64 / reaggregate_seconds.max(1e-9);
    let rows_in_table: i64 = with_pool!(&store, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM agg_cells")
        .fetch_one(pool)
        .await
        .expect("count cells"));
    let per_indicator = store.cell_counts().await.expect("cell counts");
    let mut per_indicator: Vec<_> = per_indicator.into_iter().collect();
    per_indicator.sort();
    println!(
        "{engine} {rows}: reaggregate read {read} submissions and wrote {cells} cells in {reaggregate_seconds:.1} s \
         ({reaggregate_rate:.0} rows/s); agg_cells holds {rows_in_table} rows ({}); RSS {:.0} MB",
        per_indicator.iter().map(|(id, n)| format!("{id} {n}")).collect::<Vec<_>>().join(", "),
        rss_mb()
    );

    // The dashboard API, over HTTP.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("listen");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(rumbo_server::launch_with_listener(state.clone(), listener, async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let token: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&serde_json::json!({ "username": "admin", "password": PASSWORD }))
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    let token = token["token"].as_str().expect("a token").to_owned();
    let mut round_ids: Vec<i64> = all.iter().flat_map(|p| p.rounds.iter().map(|r| r.0)).collect();
    round_ids.sort_unstable();
    round_ids.dedup();
    let mut latencies = Vec::new();
    for (name, indicator, by) in QUESTIONS {
        let mut times = Vec::with_capacity(QUERIES);
        for i in 0..WARM_UP + QUERIES {
            let round = round_ids[i % round_ids.len()];
            let url = format!("{base}/api/v1/aggregates?indicator={indicator}&by={by}&round={round}");
            let t = Instant::now();
            let response = client.get(&url).bearer_auth(&token).send().await.expect("the server answers");
            let status = response.status();
            let body = response.bytes().await.expect("body");
            let elapsed = t.elapsed();
            assert_eq!(status, 200, "{url}: {}", String::from_utf8_lossy(&body));
            if i == 0 {
                let answer: serde_json::Value = serde_json::from_slice(&body).expect("json");
                println!(
                    "  {name}, round {round}: {} rows from cube {}, total {}",
                    answer["rows"].as_array().map_or(0, Vec::len),
                    answer["cube"],
                    answer["total"]["value"]
                );
            }
            if i >= WARM_UP {
                times.push(elapsed);
            }
        }
        times.sort();
        let pick = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)].as_secs_f64() * 1000.0;
        let (p50, p95, p99) = (pick(0.50), pick(0.95), pick(0.99));
        println!("{engine} {rows}: {name:<28} p50 {p50:>7.2} ms  p95 {p95:>7.2} ms  p99 {p99:>7.2} ms");
        latencies.push((name, p50, p95, p99));
    }
    // Public figures: the first anonymous question protects the indicator's whole public
    // table (every breakdown and total); the next ones read the protected table.
    let mut times = Vec::new();
    for i in 0..=QUERIES {
        let round = round_ids[i % round_ids.len()];
        let url = format!("{base}/api/v1/aggregates?indicator=fmr_people&by=adm1,sex,age_group&round={round}");
        let t = Instant::now();
        let response = client.get(&url).send().await.expect("the server answers");
        let status = response.status();
        let body = response.bytes().await.expect("body");
        assert_eq!(status, 200, "{url}: {}", String::from_utf8_lossy(&body));
        times.push(t.elapsed());
    }
    let protect = times.remove(0);
    times.sort();
    let p95 = times[((times.len() as f64 * 0.95) as usize).min(times.len() - 1)].as_secs_f64() * 1000.0;
    println!(
        "{engine} {rows}: public fmr_people by adm1 x sex x age: table protected in {:.0} ms; then p95 {p95:.2} ms",
        protect.as_secs_f64() * 1000.0
    );
    let rss = rss_mb();
    let _ = stop.send(());
    let _ = server.await;
    let disk_mb = mb(disk());
    println!("{engine} {rows}: RSS after the queries {rss:.0} MB; database {disk_mb:.0} MB on disk");
    drop(state);
    store.close().await;
    Measured { engine, rows, load_rate, reaggregate_rate, reaggregate_seconds, cells, latencies, rss_mb: rss, disk_mb }
}

fn file_size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or_default()
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken from the command line.
    let sizes: Vec<usize> = std::env::var("RUMBO_BENCH_ROWS")
        .unwrap_or_else(|_| "100000".into())
        .split(',')
        .filter_map(|s| s.trim().replace('_', "").parse().ok())
        .collect();
    // RUMBO_BENCH_ENGINES: which engines to measure (default both: `sqlite,postgres`;
    // PostgreSQL only with a URL).
    let engines = std::env::var("RUMBO_BENCH_ENGINES").unwrap_or_else(|_| "sqlite,postgres".into());
    let wanted = |engine: &str| engines.split(',').any(|e| e.trim() == engine);
    let postgres = std::env::var("RUMBO_BENCH_POSTGRES_URL").ok().filter(|_| wanted("postgres"));
    let mut results = Vec::new();
    for &rows in sizes.iter().filter(|_| wanted("sqlite")) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("rumbo.db");
        let store = Store::connect(&format!("sqlite://{}", path.display())).await.expect("SQLite");
        let wal = dir.path().join("rumbo.db-wal");
        results.push(bench("sqlite", store, rows, || file_size(&path) + file_size(&wal)).await);
    }
    if let Some(url) = postgres {
        let admin = sqlx::PgPool::connect(&url).await.expect("PostgreSQL");
        for &rows in &sizes {
            let name = format!("rumbo_bench_analytics_{}_{rows}", std::process::id());
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.expect("create the bench database");
            let db = format!("{}/{name}", &url[..url.rfind('/').expect("a database in the URL")]);
            let store = Store::connect(&db).await.expect("the bench database");
            let size_pool = admin.clone();
            let size_name = name.clone();
            let disk = move || {
                let pool = size_pool.clone();
                let name = size_name.clone();
                tokio::task::block_in_place(|| {
                    tokio::runtime::Handle::current().block_on(async {
                        sqlx::query_scalar::<_, i64>(&format!("SELECT pg_database_size('{name}')"))
                            .fetch_one(&pool)
                            .await
                            .map_or(0, |n| n as u64)
                    })
                })
            };
            results.push(bench("postgres", store, rows, disk).await);
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&admin).await;
        }
    }

    println!();
    println!(
        "| engine   |       rows | load rows/s | reaggregate rows/s (s) |      cells | p50 ms | p95 ms | p99 ms | RSS MB | disk MB |"
    );
    println!(
        "|----------|-----------:|------------:|-----------------------:|-----------:|-------:|-------:|-------:|-------:|--------:|"
    );
    for m in &results {
        let (_, p50, p95, p99) = m.latencies[0];
        println!(
            "| {:<8} | {:>10} | {:>11.0} | {:>13.0} ({:>6.1}) | {:>10} | {p50:>6.2} | {p95:>6.2} | {p99:>6.2} | {:>6.0} | {:>7.0} |",
            m.engine, m.rows, m.load_rate, m.reaggregate_rate, m.reaggregate_seconds, m.cells, m.rss_mb, m.disk_mb
        );
    }
    println!();
    println!("Latency of GET /api/v1/aggregates for one round, {QUERIES} requests each, one at a time (ms):");
    println!();
    println!("| engine   |       rows | question                     |    p50 |    p95 |    p99 |");
    println!("|----------|-----------:|------------------------------|-------:|-------:|-------:|");
    for m in &results {
        for (name, p50, p95, p99) in &m.latencies {
            println!("| {:<8} | {:>10} | {name:<28} | {p50:>6.2} | {p95:>6.2} | {p99:>6.2} |", m.engine, m.rows);
        }
    }
}
