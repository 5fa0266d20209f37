//! Test databases on both engines.
//!
//! SQLite runs in a temporary folder. PostgreSQL runs when `RUMBO_TEST_POSTGRES_URL` is set,
//! each test in its own schema, dropped when the test ends. When the variable is unset at
//! build time the PostgreSQL tests are compiled as ignored, so the runner lists them as
//! skipped with the reason (the crate using [`engine_tests!`] needs the `rumbo_postgres` cfg
//! from a build script, as this one has); with `RUMBO_REQUIRE_POSTGRES=1` (as in CI) a
//! missing PostgreSQL fails them instead.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::{Engine, Store};

/// A migrated, empty store that removes itself when dropped.
pub struct TestDb {
    pub store: Store,
    dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl std::ops::Deref for TestDb {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    /// A store on `engine`, or `None` (after saying so) when PostgreSQL is not configured.
    pub async fn new(engine: Engine, test: &str) -> Option<TestDb> {
        match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary folder");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                let store = Store::connect(&url).await.expect("open SQLite");
                store.migrate().await.expect("migrate SQLite");
                Some(TestDb { store, dir: Some(dir), postgres: None })
            }
            Engine::Postgres => {
                let Some(url) = std::env::var("RUMBO_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) else {
                    assert!(
                        !std::env::var("RUMBO_REQUIRE_POSTGRES").is_ok_and(|v| v == "1"),
                        "{test}: RUMBO_REQUIRE_POSTGRES=1 but RUMBO_TEST_POSTGRES_URL is not set"
                    );
                    eprintln!("SKIPPED {test} on PostgreSQL: set RUMBO_TEST_POSTGRES_URL=postgres://… to run it");
                    return None;
                };
                let schema = format!(
                    "rumbo_test_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::Relaxed),
                    test.chars().filter(char::is_ascii_alphanumeric).take(20).collect::<String>().to_lowercase()
                );
                let store = Store::connect_postgres_schema(&url, &schema)
                    .await
                    .unwrap_or_else(|e| panic!("{test}: cannot reach PostgreSQL: {e}"));
                store.migrate().await.expect("migrate PostgreSQL");
                Some(TestDb { store, dir: None, postgres: Some((url, schema)) })
            }
        }
    }
}

impl TestDb {
    /// The SQLite database file (and its write-ahead log beside it), on SQLite.
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        self.dir.as_ref().map(|d| d.path().join("test.db"))
    }

    /// The server URL and the schema of this test's data, on PostgreSQL.
    pub fn postgres_schema(&self) -> Option<(&str, &str)> {
        self.postgres.as_ref().map(|(url, schema)| (url.as_str(), schema.as_str()))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((url, schema)) = self.postgres.take() else { return };
        let store = self.store.clone();
        // Dropping cannot await: drop the schema from a thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async move {
                store.close().await;
                if let Ok(admin) = Store::connect(&url).await {
                    if let Store::Postgres(pool) = &admin {
                        let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(pool).await;
                    }
                    admin.close().await;
                }
            });
        })
        .join();
    }
}

/// Declares one test per engine: `NAME_sqlite` and `NAME_postgres`, each given a fresh `TestDb`.
#[macro_export]
macro_rules! engine_tests {
    ($(async fn $name:ident($db:ident: TestDb) $body:block)+) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($db: $crate::testing::TestDb) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    if let Some(db) = $crate::testing::TestDb::new($crate::Engine::Sqlite, stringify!($name)).await {
                        run(db).await;
                    }
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(not(rumbo_postgres), ignore = "PostgreSQL: set RUMBO_TEST_POSTGRES_URL=postgres://… to run")]
                async fn postgres() {
                    if let Some(db) = $crate::testing::TestDb::new($crate::Engine::Postgres, stringify!($name)).await {
                        run(db).await;
                    }
                }
            }
        )+
    };
}
