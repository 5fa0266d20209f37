//! Rumbo's storage: one schema on two engines.
//!
//! SQLite (WAL, one file under the data folder) is the embedded default; PostgreSQL is for
//! shared deployments. The engine is picked once, from the URL scheme, and every repository
//! method runs the same SQL on both: `$1` placeholders and `RETURNING` are understood by
//! each. Where the engines really differ (how a write transaction takes its lock) the two
//! versions stand next to each other in [`engine`].
//!
//! Every write goes through one transaction that also appends to the hash-chained audit log.

pub mod analytics;
mod audit;
pub mod collection;
mod engine;
pub mod error;
pub mod exports;
pub mod feedback;
mod locations;
pub mod model;
mod people;
pub mod protection;
pub mod response;
pub mod services;
#[cfg(feature = "testing")]
pub mod testing;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

pub use audit::{AuditEvent, ChainCheck};
pub use error::{FieldError, Result, StoreError};
pub use locations::{CountryCounts, ImportSummary};
pub use people::Credentials;

/// Runs `$body` once per engine with `$pool` bound to that engine's pool and `$h` to its
/// engine helpers, so one body of SQL serves SQLite and PostgreSQL.
macro_rules! run {
    ($store:expr, |$pool:ident, $h:ident| $body:block) => {
        match $store {
            $crate::Store::Sqlite($pool) => {
                #[allow(unused_imports)]
                use $crate::engine::sqlite as $h;
                $body
            }
            $crate::Store::Postgres($pool) => {
                #[allow(unused_imports)]
                use $crate::engine::postgres as $h;
                $body
            }
        }
    };
}
pub(crate) use run;

/// A connection pool to one of the two engines.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Which engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Store {
    /// Opens a store from a URL: `sqlite:///path/to/rumbo.db` or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Self> {
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)?;
            Self::connect_postgres(options).await
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // An acknowledged write must survive a power cut: keep FULL, not NORMAL.
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(15))
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
            Ok(Self::Sqlite(pool))
        } else {
            Err(StoreError::invalid(
                "database_url",
                format!("'{}' is neither a sqlite: nor a postgres: URL", redact_url(url)),
            ))
        }
    }

    /// Opens a PostgreSQL store whose tables live in `schema` (created when missing).
    /// Tests use this to run side by side in one database.
    pub async fn connect_postgres_schema(url: &str, schema: &str) -> Result<Self> {
        if !schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(StoreError::invalid("schema", "may hold only letters, digits and '_'"));
        }
        let options = PgConnectOptions::from_str(url)?;
        let admin = PgPoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
        sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}")).execute(&admin).await?;
        admin.close().await;
        Self::connect_postgres(options.options([("search_path", schema)])).await
    }

    async fn connect_postgres(options: PgConnectOptions) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(15))
            .connect_with(options)
            .await?;
        Ok(Self::Postgres(pool))
    }

    pub fn engine(&self) -> Engine {
        match self {
            Store::Sqlite(_) => Engine::Sqlite,
            Store::Postgres(_) => Engine::Postgres,
        }
    }

    /// Applies the migrations of this engine that have not run yet.
    #[tracing::instrument(skip_all)]
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Store::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Store::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        run!(self, |pool, _h| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    pub async fn close(&self) {
        run!(self, |pool, _h| { pool.close().await });
    }
}

/// A database URL with any password replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme_end + 3], &userinfo[..colon], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(redact_url("postgres://rumbo:s3cret@db:5432/rumbo"), "postgres://rumbo:***@db:5432/rumbo");
        assert_eq!(redact_url("postgres://rumbo@db/rumbo"), "postgres://rumbo@db/rumbo");
        assert_eq!(redact_url("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
    }
}
