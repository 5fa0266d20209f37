//! Background exports: the jobs table, and the reads an export needs (submissions in id
//! order, one batch after another, never the whole table at once).
//!
//! A job goes `queued` → `running` → `done` (or `failed`, or `cancelled` by its owner).
//! The worker that runs it holds a lease, renewed with every batch; a `running` job whose
//! lease ran out belongs to a process that stopped, and the next worker takes it over and
//! resumes it from the recorded cursor.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use crate::collection::{ROW_COLUMNS, SubmissionFilter, SubmissionRow, push_submission_filter};
use crate::model::Actor;
use crate::{AuditEvent, Result, Store, StoreError, run};

/// The states of an export job.
pub const EXPORT_STATUSES: &[&str] = &["queued", "running", "done", "failed", "cancelled"];

/// An export job as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportJob {
    pub id: i64,
    pub user_id: i64,
    /// The creator's username.
    pub username: String,
    pub form_id: i64,
    pub xml_form_id: String,
    pub form_title: String,
    /// `csv`.
    pub format: String,
    /// The filters asked for (JSON).
    pub filter: String,
    /// What the creator may see, decided at creation (JSON).
    pub access: String,
    /// The columns, fixed when the job first ran (JSON; empty before).
    pub columns: String,
    pub status: String,
    pub rows_done: i64,
    /// How many rows matched when the job started (more may arrive while it runs).
    pub rows_total: Option<i64>,
    /// The id of the last submission written.
    pub cursor_id: i64,
    /// The file's length after the last batch recorded.
    pub bytes_written: i64,
    pub file_path: Option<String>,
    pub error: Option<String>,
    pub worker: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl ExportJob {
    /// Whether the job may still change (and so be cancelled rather than deleted).
    pub fn is_active(&self) -> bool {
        matches!(self.status.as_str(), "queued" | "running")
    }
}

/// A job to queue.
#[derive(Debug, Clone)]
pub struct NewExportJob {
    pub user_id: i64,
    pub form_id: i64,
    pub format: String,
    pub filter: serde_json::Value,
    pub access: serde_json::Value,
    /// Country of the export, for the audit line (when the filter names one).
    pub country: Option<String>,
}

/// How far a running job got: recorded after each batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportProgress {
    pub cursor_id: i64,
    pub rows_done: i64,
    pub bytes_written: i64,
}

const JOB_COLUMNS: &str = "SELECT j.id, j.user_id, u.username, j.form_id, f.xml_form_id, f.title AS form_title, \
    j.format, j.filter, j.access, j.columns, j.status, j.rows_done, j.rows_total, j.cursor_id, j.bytes_written, \
    j.file_path, j.error, j.worker, j.lease_until, j.created_at, j.updated_at, j.finished_at \
    FROM export_jobs j JOIN users u ON u.id = j.user_id JOIN forms f ON f.id = j.form_id";

impl Store {
    /// Queues an export, with its audit line (an export is a read that is always recorded).
    #[tracing::instrument(skip_all, fields(form = new.form_id))]
    pub async fn create_export_job(&self, actor: &Actor, new: &NewExportJob) -> Result<ExportJob> {
        let now = Utc::now();
        let id = run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO export_jobs (user_id, form_id, format, filter, access, status, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7) RETURNING id",
            )
            .bind(new.user_id)
            .bind(new.form_id)
            .bind(&new.format)
            .bind(new.filter.to_string())
            .bind(new.access.to_string())
            .bind(now)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "export",
                    entity: "export",
                    entity_id: id.to_string(),
                    country_code: new.country.as_deref(),
                    detail: json!({
                        "what": "submissions", "form": new.form_id, "format": new.format,
                        "filter": new.filter, "access": new.access, "step": "queued",
                    }),
                },
            )
            .await?;
            tx.commit().await?;
            id
        });
        self.export_job(id).await
    }

    pub async fn export_job(&self, id: i64) -> Result<ExportJob> {
        run!(self, |pool, _h| {
            sqlx::query_as(&format!("{JOB_COLUMNS} WHERE j.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
                .ok_or(StoreError::NotFound { entity: "export" })
        })
    }

    /// The newest jobs first: one user's, or everyone's (`None`).
    pub async fn list_export_jobs(&self, user_id: Option<i64>, limit: i64) -> Result<Vec<ExportJob>> {
        run!(self, |pool, _h| {
            let mut qb = sqlx::QueryBuilder::new(JOB_COLUMNS);
            if let Some(user) = user_id {
                qb.push(" WHERE j.user_id = ").push_bind(user);
            }
            qb.push(" ORDER BY j.id DESC LIMIT ").push_bind(limit.clamp(1, 10_000));
            Ok(qb.build_query_as().fetch_all(pool).await?)
        })
    }

    /// Takes the next job for `worker`: a running one whose lease ran out at `now` (its
    /// process stopped: resume it) before the oldest queued one. The job is `running` and
    /// leased to `worker` for `lease` when this returns it.
    #[tracing::instrument(skip_all)]
    pub async fn claim_export_job(&self, worker: &str, now: DateTime<Utc>, lease: TimeDelta) -> Result<Option<i64>> {
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let next: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM export_jobs WHERE status = 'queued' \
                 OR (status = 'running' AND (lease_until IS NULL OR lease_until < $1)) \
                 ORDER BY CASE WHEN status = 'running' THEN 0 ELSE 1 END, id LIMIT 1",
            )
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(id) = next {
                sqlx::query(
                    "UPDATE export_jobs SET status = 'running', worker = $1, lease_until = $2, updated_at = $3 WHERE id = $4",
                )
                .bind(worker)
                .bind(now + lease)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(next)
        })
    }

    /// Fixes a job's columns, estimated size and file when it first runs. `false`: the job
    /// is no longer `worker`'s (cancelled, or taken over).
    pub async fn plan_export_job(
        &self,
        id: i64,
        worker: &str,
        columns: &str,
        rows_total: i64,
        file_path: &str,
    ) -> Result<bool> {
        run!(self, |pool, _h| {
            let done = sqlx::query(
                "UPDATE export_jobs SET columns = $1, rows_total = $2, file_path = $3, cursor_id = 0, rows_done = 0, \
                 bytes_written = 0, updated_at = $4 WHERE id = $5 AND status = 'running' AND worker = $6",
            )
            .bind(columns)
            .bind(rows_total)
            .bind(file_path)
            .bind(Utc::now())
            .bind(id)
            .bind(worker)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Records a batch written (and renews the lease). `false`: the job is no longer
    /// `worker`'s, and it must stop writing.
    pub async fn record_export_progress(
        &self,
        id: i64,
        worker: &str,
        progress: ExportProgress,
        lease_until: DateTime<Utc>,
    ) -> Result<bool> {
        run!(self, |pool, _h| {
            let done = sqlx::query(
                "UPDATE export_jobs SET cursor_id = $1, rows_done = $2, bytes_written = $3, lease_until = $4, \
                 updated_at = $5 WHERE id = $6 AND status = 'running' AND worker = $7",
            )
            .bind(progress.cursor_id)
            .bind(progress.rows_done)
            .bind(progress.bytes_written)
            .bind(lease_until)
            .bind(Utc::now())
            .bind(id)
            .bind(worker)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Ends a running job: `done`, or `failed` with the reason.
    pub async fn finish_export_job(&self, id: i64, worker: &str, failure: Option<&str>) -> Result<bool> {
        let now = Utc::now();
        run!(self, |pool, _h| {
            let done = sqlx::query(
                "UPDATE export_jobs SET status = $1, error = $2, lease_until = NULL, updated_at = $3, finished_at = $4 \
                 WHERE id = $5 AND status = 'running' AND worker = $6",
            )
            .bind(if failure.is_some() { "failed" } else { "done" })
            .bind(failure)
            .bind(now)
            .bind(now)
            .bind(id)
            .bind(worker)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Gives a running job back (the server is stopping): the next worker resumes it at once.
    pub async fn release_export_job(&self, id: i64, worker: &str) -> Result<()> {
        run!(self, |pool, _h| {
            sqlx::query(
                "UPDATE export_jobs SET lease_until = NULL, worker = NULL WHERE id = $1 AND status = 'running' AND worker = $2",
            )
            .bind(id)
            .bind(worker)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Stops a queued or running job; its file is the caller's to remove.
    #[tracing::instrument(skip_all)]
    pub async fn cancel_export_job(&self, actor: &Actor, id: i64) -> Result<ExportJob> {
        let now = Utc::now();
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let changed = sqlx::query(
                "UPDATE export_jobs SET status = 'cancelled', lease_until = NULL, updated_at = $1, finished_at = $2 \
                 WHERE id = $3 AND status IN ('queued', 'running')",
            )
            .bind(now)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if changed.rows_affected() == 0 {
                return Err(StoreError::conflict("status", "the export has finished already: delete it instead"));
            }
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "cancel",
                    entity: "export",
                    entity_id: id.to_string(),
                    country_code: None,
                    detail: json!({}),
                },
            )
            .await?;
            tx.commit().await?;
        });
        self.export_job(id).await
    }

    /// Deletes a job that is no longer queued or running.
    #[tracing::instrument(skip_all)]
    pub async fn delete_export_job(&self, actor: &Actor, id: i64) -> Result<()> {
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let status: Option<String> = sqlx::query_scalar("SELECT status FROM export_jobs WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            match status.as_deref() {
                None => return Err(StoreError::NotFound { entity: "export" }),
                Some("queued" | "running") => {
                    return Err(StoreError::conflict("status", "the export is still running: cancel it first"));
                }
                Some(_) => {}
            }
            sqlx::query("DELETE FROM export_jobs WHERE id = $1").bind(id).execute(&mut *tx).await?;
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "delete",
                    entity: "export",
                    entity_id: id.to_string(),
                    country_code: None,
                    detail: json!({ "status": status }),
                },
            )
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Up to `limit` submissions of a form matching `f` whose id is above `after`, in id
    /// order: the export reads the table this way, one batch at a time, so that it needs
    /// neither an offset (slower with every page) nor more memory as the table grows.
    pub async fn submissions_after(
        &self,
        form_id: i64,
        f: &SubmissionFilter,
        after: i64,
        limit: i64,
    ) -> Result<Vec<SubmissionRow>> {
        // SQLite, without statistics, reads a form's rows through the (form, received) index
        // and sorts them for every batch, which makes an export quadratic: walk the rowid
        // from the cursor instead (the whole export then reads the table once).
        let columns = match self {
            Store::Sqlite(_) => ROW_COLUMNS.replacen("FROM submissions s ", "FROM submissions s NOT INDEXED ", 1),
            Store::Postgres(_) => ROW_COLUMNS.to_string(),
        };
        run!(self, |pool, _h| {
            let mut qb = sqlx::QueryBuilder::new(columns.as_str());
            qb.push(" WHERE s.form_id = ").push_bind(form_id);
            qb.push(" AND s.id > ").push_bind(after);
            push_submission_filter!(qb, f);
            qb.push(" ORDER BY s.id LIMIT ").push_bind(limit.clamp(1, 100_000));
            Ok(qb.build_query_as().fetch_all(pool).await?)
        })
    }

    /// How many submissions of a form match `f`.
    pub async fn count_submissions(&self, form_id: i64, f: &SubmissionFilter) -> Result<i64> {
        run!(self, |pool, _h| {
            let mut qb = sqlx::QueryBuilder::new("SELECT COUNT(*) FROM submissions s WHERE s.form_id = ");
            qb.push_bind(form_id);
            push_submission_filter!(qb, f);
            Ok(qb.build_query_scalar().fetch_one(pool).await?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine_tests;
    use crate::testing::TestDb;

    async fn seed(db: &TestDb) -> (i64, i64) {
        use crate::collection::NewFormVersion;
        use crate::model::{Role, UserInput};
        let actor = Actor::system("test");
        let user = db
            .save_user(
                &actor,
                None,
                &UserInput {
                    username: "im".into(),
                    display_name: "IM".into(),
                    role: Role::ImOfficer,
                    organisation_id: None,
                    all_countries: true,
                    countries: vec![],
                    active: true,
                },
                Some("x"),
            )
            .await
            .unwrap();
        let (form, _) = db
            .publish_form_version(
                &actor,
                &NewFormVersion {
                    xml_form_id: "f".into(),
                    title: "F".into(),
                    version: "1".into(),
                    file_name: "f.xlsx".into(),
                    xlsform: vec![],
                    xform: String::new(),
                    md5: "md5:0".into(),
                    changes: String::new(),
                    countries: vec![],
                },
            )
            .await
            .unwrap();
        (user.id, form.id)
    }

    #[test]
    fn the_batch_query_can_walk_the_rowid() {
        // `submissions_after` names the table this way to keep SQLite off the indexes.
        assert_eq!(ROW_COLUMNS.matches("FROM submissions s ").count(), 1);
    }

    engine_tests! {
        async fn a_job_is_claimed_leased_resumed_and_finished(db: TestDb) {
            let (user, form) = seed(&db).await;
            let actor = Actor::system("test");
            let new = NewExportJob {
                user_id: user,
                form_id: form,
                format: "csv".into(),
                filter: json!({}),
                access: json!({ "sensitive": "drop" }),
                country: None,
            };
            let job = db.create_export_job(&actor, &new).await.unwrap();
            assert_eq!(job.status, "queued");
            assert_eq!(job.username, "im");
            let now = Utc::now();
            let lease = TimeDelta::seconds(60);
            assert_eq!(db.claim_export_job("a", now, lease).await.unwrap(), Some(job.id));
            // Leased: another worker finds nothing until the lease runs out.
            assert_eq!(db.claim_export_job("b", now, lease).await.unwrap(), None);
            assert!(db.plan_export_job(job.id, "a", "[]", 10, "/tmp/x.csv").await.unwrap());
            let p = ExportProgress { cursor_id: 5, rows_done: 5, bytes_written: 100 };
            assert!(db.record_export_progress(job.id, "a", p, now + lease).await.unwrap());
            let later = now + TimeDelta::seconds(120);
            assert_eq!(db.claim_export_job("b", later, lease).await.unwrap(), Some(job.id));
            // The old worker lost the job: its writes are refused.
            assert!(!db.record_export_progress(job.id, "a", p, later).await.unwrap());
            let resumed = db.export_job(job.id).await.unwrap();
            assert_eq!((resumed.cursor_id, resumed.bytes_written, resumed.worker.as_deref()), (5, 100, Some("b")));
            assert!(db.finish_export_job(job.id, "b", None).await.unwrap());
            let done = db.export_job(job.id).await.unwrap();
            assert_eq!(done.status, "done");
            assert!(done.finished_at.is_some());
            assert!(matches!(db.cancel_export_job(&actor, job.id).await, Err(StoreError::Conflict { .. })));
            assert_eq!(db.list_export_jobs(Some(user), 10).await.unwrap().len(), 1);
            assert_eq!(db.list_export_jobs(Some(user + 1), 10).await.unwrap().len(), 0);
            db.delete_export_job(&actor, job.id).await.unwrap();
            assert!(matches!(db.export_job(job.id).await, Err(StoreError::NotFound { .. })));
        }

        async fn a_queued_job_is_cancelled_and_then_deleted(db: TestDb) {
            let (user, form) = seed(&db).await;
            let actor = Actor::system("test");
            let new = NewExportJob {
                user_id: user,
                form_id: form,
                format: "csv".into(),
                filter: json!({}),
                access: json!({}),
                country: None,
            };
            let job = db.create_export_job(&actor, &new).await.unwrap();
            assert!(matches!(db.delete_export_job(&actor, job.id).await, Err(StoreError::Conflict { .. })));
            let cancelled = db.cancel_export_job(&actor, job.id).await.unwrap();
            assert_eq!(cancelled.status, "cancelled");
            assert_eq!(db.claim_export_job("a", Utc::now(), TimeDelta::seconds(60)).await.unwrap(), None);
            db.delete_export_job(&actor, job.id).await.unwrap();
            let audit = db.audit_of("export", &job.id.to_string()).await.unwrap();
            let actions: Vec<&str> = audit.iter().map(|l| l.action.as_str()).collect();
            assert_eq!(actions, ["export", "cancel", "delete"]);
        }
    }
}
