//! Background exports at scale (issue #6): how many rows a second the export worker writes,
//! and how much memory it takes, for a CSV of millions of submissions.
//!
//! A fresh SQLite store (in a temporary folder, or under `RUMBO_BENCH_DIR`); one country,
//! one point and an administrator; a survey form published (the fields a flow-monitoring
//! survey has, two of them sensitive, a group and a repeat); N submissions written straight
//! into `submissions` (multi-row INSERTs, no HTTP, no validation); then one export job of
//! all of them queued as the administrator and run to the end by the worker's own code
//! (`jobs::claim` and `jobs::run_job`, batches of 5,000 rows), timed. The peak RSS of the
//! export is the process's `VmHWM`, reset (`/proc/self/clear_refs`) just before it starts,
//! so the bulk load does not count. The file is then read back: one header and N rows.
//!
//! `cargo bench --bench exports` (100,000 rows). `RUMBO_BENCH_ROWS`: the sizes,
//! comma-separated (`RUMBO_BENCH_ROWS=10000000` for the issue's ten million).

use std::fmt::Write as _;
use std::io::BufRead as _;
use std::time::Instant;

use chrono::{Days, NaiveDate, Utc};
use rumbo_server::auth::Caller;
use rumbo_server::outputs::jobs::{self, ExportRequest, Outcome, Run};
use rumbo_server::{AppState, ServerConfig};
use rumbo_store::Store;
use rumbo_store::model::{Actor, CountryInput, Role, SiteInput, SiteKind, UserInput};

/// Rows per transaction of the bulk load.
const LOAD_BATCH: usize = 10_000;
/// Rows per INSERT statement (13 parameters each).
const STATEMENT: usize = 1_000;

const FORM: &str = "| survey |\n\
    | | type | name | label | required | sensitive |\n\
    | | select_one sites | site | Point | yes | |\n\
    | | date | date | Day | yes | |\n\
    | | select_one sex | sex | Sex | yes | |\n\
    | | integer | age | Age | yes | |\n\
    | | select_one nat | nationality | Nationality | yes | |\n\
    | | select_one dir | direction | Direction | yes | |\n\
    | | select_one transport | transport | Transport | | |\n\
    | | select_multiple need | needs | Needs | | |\n\
    | | text | name | Name | | yes |\n\
    | | text | phone | Phone | | yes |\n\
    | | begin group | hh | Household | | |\n\
    | | integer | size | People travelling together | | |\n\
    | | integer | children | Children among them | | |\n\
    | | end group | | | | |\n\
    | | begin repeat | stops | Places passed through | | |\n\
    | | text | place | Place | | |\n\
    | | integer | nights | Nights | | |\n\
    | | end repeat | | | | |\n\
    | choices |\n\
    | | list_name | name | label | |\n\
    | | sites | COL-FMP-001 | Puente | |\n\
    | | sex | female | Woman | |\n\
    | | sex | male | Man | |\n\
    | | nat | VEN | Venezuelan | |\n\
    | | nat | COL | Colombian | |\n\
    | | nat | HTI | Haitian | |\n\
    | | dir | entry | Entry | |\n\
    | | dir | exit | Exit | |\n\
    | | transport | walking | Walking | |\n\
    | | transport | bus | Bus | |\n\
    | | need | food | Food | |\n\
    | | need | water | Water | |\n\
    | | need | shelter | Shelter | |\n\
    | settings |\n\
    | | form_id | version | |\n\
    | | bench_survey | 1 | |\n";

/// xorshift64*: small, and the same data on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }

    fn of<'a>(&mut self, values: &[&'a str]) -> &'a str {
        values[self.below(values.len() as u64) as usize]
    }
}

/// One interview, as the validated JSON the store keeps.
fn interview(rng: &mut Rng, n: usize, first: NaiveDate) -> (String, String, NaiveDate) {
    let day = first + Days::new(rng.below(180));
    let instance = format!("uuid:bench-export-{n:012}");
    let mut data = String::with_capacity(480);
    let _ = write!(
        data,
        r#"{{"site":"COL-FMP-001","date":"{day}","sex":"{}","age":{},"nationality":"{}","direction":"{}","transport":"{}","needs":["{}"],"name":"Persona {n}","phone":"+57 3{:09}","hh":{{"size":{},"children":{}}},"stops":["#,
        rng.of(&["female", "male"]),
        18 + rng.below(60),
        rng.of(&["VEN", "VEN", "COL", "HTI"]),
        rng.of(&["entry", "exit"]),
        rng.of(&["walking", "bus"]),
        rng.of(&["food", "water", "shelter"]),
        rng.below(1_000_000_000),
        1 + rng.below(6),
        rng.below(4),
    );
    for i in 0..=rng.below(2) {
        if i > 0 {
            data.push(',');
        }
        let _ = write!(
            data,
            r#"{{"place":"{}","nights":{}}}"#,
            rng.of(&["Cúcuta", "Pamplona", "Bucaramanga"]),
            rng.below(5)
        );
    }
    let _ = write!(data, r#"],"meta":{{"instanceID":"{instance}"}}}}"#);
    (instance, data, day)
}

/// Writes one batch of interviews in one transaction.
async fn insert(store: &Store, form: i64, version: i64, site: i64, rows: &[(String, String, NaiveDate)]) {
    let Store::Sqlite(pool) = store else { unreachable!("the bench runs on SQLite") };
    let now = Utc::now();
    let mut tx = pool.begin().await.expect("begin");
    for chunk in rows.chunks(STATEMENT) {
        let mut qb = sqlx::QueryBuilder::new(
            "INSERT INTO submissions (form_id, form_version_id, instance_id, root_id, country_code, site_id, \
             submitter, channel, xml, xml_sha256, data, collected_on, received_at, updated_at) ",
        );
        qb.push_values(chunk, |mut b, (instance, data, day)| {
            b.push_bind(form)
                .push_bind(version)
                .push_bind(instance.as_str())
                .push_bind(instance.as_str())
                .push_bind("COL")
                .push_bind(site)
                .push_bind("bench")
                .push_bind("import")
                .push_bind("<bench_survey/>")
                .push_bind("0")
                .push_bind(data.as_str())
                .push_bind(*day)
                .push_bind(now)
                .push_bind(now);
        });
        qb.build().execute(&mut *tx).await.expect("insert submissions");
    }
    tx.commit().await.expect("commit");
}

/// A line of `/proc/self/status`, in MB.
fn status_mb(key: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn bench(rows: usize, dir: &std::path::Path) {
    let url = format!("sqlite://{}", dir.join("bench.db").display());
    let store = Store::connect(&url).await.expect("open SQLite");
    store.migrate().await.expect("migrate");
    let actor = Actor::system("bench");
    store
        .upsert_country(
            &actor,
            &CountryInput {
                code: "COL".into(),
                iso2: "CO".into(),
                name_en: "Colombia".into(),
                name_es: "Colombia".into(),
                name_pt: "Colômbia".into(),
            },
        )
        .await
        .expect("country");
    let site = store
        .create_site(
            &actor,
            &SiteInput {
                country_code: "COL".into(),
                code: "COL-FMP-001".into(),
                name: "Puente".into(),
                kind: SiteKind::BorderCrossing,
                latitude: 7.82,
                longitude: -72.46,
                admin_area_pcode: None,
                active: true,
            },
        )
        .await
        .expect("site");
    let user = store
        .save_user(
            &actor,
            None,
            &UserInput {
                username: "admin".into(),
                display_name: "Admin".into(),
                role: Role::Admin,
                organisation_id: None,
                all_countries: true,
                countries: vec![],
                active: true,
            },
            Some("-"),
        )
        .await
        .expect("user");
    let config = ServerConfig { data_dir: dir.to_path_buf(), ..ServerConfig::default() };
    let state = AppState::open(store.clone(), config).await.expect("server state");
    let caller = Caller { user, csrf: None };
    let published =
        rumbo_server::collect::ops::publish(&state, &caller, "bench.md", FORM.as_bytes().to_vec(), vec!["COL".into()])
            .await
            .unwrap_or_else(|e| panic!("publish: {e}"));

    let mut rng = Rng(0x5EED_E4B0_0000_0001 ^ rows as u64);
    let first = NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date");
    let started = Instant::now();
    let mut done = 0;
    while done < rows {
        let batch: Vec<_> = (done..(done + LOAD_BATCH).min(rows)).map(|n| interview(&mut rng, n, first)).collect();
        insert(&store, published.form.id, published.version.id, site.id, &batch).await;
        done += batch.len();
        if done % 1_000_000 == 0 {
            println!("  loaded {done}/{rows} ({:.0} rows/s)", done as f64 / started.elapsed().as_secs_f64());
        }
    }
    let db_mb = ["bench.db", "bench.db-wal"]
        .iter()
        .map(|f| std::fs::metadata(dir.join(f)).map(|m| m.len()).unwrap_or_default())
        .sum::<u64>() as f64
        / 1_048_576.0;
    println!(
        "sqlite {rows}: loaded in {:.1} s ({:.0} rows/s); database {db_mb:.0} MB",
        started.elapsed().as_secs_f64(),
        rows as f64 / started.elapsed().as_secs_f64()
    );

    // The export, as the worker runs it.
    let job = jobs::create(&state, &caller, ExportRequest { form: published.form.id, ..ExportRequest::default() })
        .await
        .unwrap_or_else(|e| panic!("queue the export: {e}"));
    let claimed = jobs::claim(&state, "bench", Utc::now()).await.expect("claim");
    assert_eq!(claimed, Some(job.id));
    let before = status_mb("VmRSS:");
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let started = Instant::now();
    let outcome = jobs::run_job(&state, job.id, &Run::new("bench"), None).await.expect("run the export");
    let seconds = started.elapsed().as_secs_f64();
    let peak = status_mb("VmHWM:");
    assert_eq!(outcome, Outcome::Done);
    let job = store.export_job(job.id).await.expect("the job");
    assert_eq!(job.rows_done, rows as i64);
    let file_mb = job.bytes_written as f64 / 1_048_576.0;
    println!(
        "sqlite {rows}: exported in {seconds:.1} s: {:.0} rows/s, {:.1} MB/s, file {file_mb:.0} MB; RSS before {before:.0} MB, \
         peak during the export {peak:.0} MB{}",
        rows as f64 / seconds,
        file_mb / seconds,
        if reset { "" } else { " (VmHWM could not be reset: the peak includes the load)" }
    );
    let path = job.file_path.expect("the file");
    let lines = std::io::BufReader::new(std::fs::File::open(&path).expect("open the export")).lines().count();
    assert_eq!(lines, rows + 1, "one header and one line per submission");
    let _ = std::fs::remove_file(path);
    drop(state);
    store.close().await;
}

fn main() {
    let sizes: Vec<usize> = std::env::var("RUMBO_BENCH_ROWS")
        .unwrap_or_else(|_| "100000".into())
        .split(',')
        .filter_map(|s| s.trim().replace('_', "").parse().ok())
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    for rows in sizes {
        let base = std::env::var("RUMBO_BENCH_DIR").map_or_else(|_| std::env::temp_dir(), std::path::PathBuf::from);
        let dir = tempfile::Builder::new().prefix("rumbo-bench-exports-").tempdir_in(base).expect("temporary folder");
        runtime.block_on(bench(rows, dir.path()));
    }
}
