//! What differs between the engines: how a write transaction serialises with other writers.
//!
//! Every write appends to the hash-chained audit log, whose next link depends on the last
//! one, so writers take a lock before reading the chain head. SQLite: `BEGIN IMMEDIATE`
//! takes the database write lock at once (a deferred transaction that reads first could not
//! upgrade later). PostgreSQL: a transaction-scoped advisory lock.

macro_rules! engine {
    ($module:ident, $db:ty, $begin:literal, $lock:expr) => {
        pub(crate) mod $module {
            use crate::error::Result;

            pub(crate) type Tx = sqlx::Transaction<'static, $db>;

            pub(crate) async fn begin_write(pool: &sqlx::Pool<$db>) -> Result<Tx> {
                let mut tx = pool.begin_with($begin).await?;
                let lock: Option<&str> = $lock;
                if let Some(lock) = lock {
                    sqlx::query(lock).execute(&mut *tx).await?;
                }
                Ok(tx)
            }

            /// Appends one event to the audit chain inside the caller's transaction; returns
            /// the id of its line.
            pub(crate) async fn audit(tx: &mut Tx, event: crate::AuditEvent<'_>) -> Result<i64> {
                let prev: Option<String> =
                    sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
                        .fetch_optional(&mut **tx)
                        .await?;
                let line = event.seal(prev.unwrap_or_default());
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO audit_log (at, actor_id, actor, action, entity, entity_id, country_code, detail, prev_hash, hash) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                )
                .bind(line.at)
                .bind(line.actor_id)
                .bind(line.actor)
                .bind(line.action)
                .bind(line.entity)
                .bind(line.entity_id)
                .bind(line.country_code)
                .bind(line.detail)
                .bind(line.prev_hash)
                .bind(line.hash)
                .fetch_one(&mut **tx)
                .await?;
                Ok(id)
            }

            /// Writes the red flags a submission raised (each rule once per submission).
            pub(crate) async fn raise_alerts(
                tx: &mut Tx,
                submission_id: i64,
                alerts: &[crate::protection::RaisedAlert],
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<u64> {
                let mut raised = 0;
                for a in alerts {
                    raised += sqlx::query(
                        "INSERT INTO alerts (rule_id, submission_id, country_code, site_id, severity, status, created_at) \
                         VALUES ($1, $2, $3, $4, $5, 'open', $6) ON CONFLICT (rule_id, submission_id) DO NOTHING",
                    )
                    .bind(a.rule_id)
                    .bind(submission_id)
                    .bind(&a.country_code)
                    .bind(a.site_id)
                    .bind(&a.severity)
                    .bind(at)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                }
                Ok(raised)
            }
        }
    };
}

engine!(sqlite, sqlx::Sqlite, "BEGIN IMMEDIATE", None);
engine!(postgres, sqlx::Postgres, "BEGIN", Some("SELECT pg_advisory_xact_lock(726863)"));
