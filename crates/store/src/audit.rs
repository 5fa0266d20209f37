//! The append-only audit log. Each line carries the SHA-256 of the line before it and of its
//! own content, so that changing or deleting any line breaks the chain from there on.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use sha2::{Digest, Sha256};

use crate::model::{Actor, AuditRecord};
use crate::{Result, Store, run};

/// What happened, before it is sealed into the chain.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    pub actor: &'a Actor,
    /// `create`, `update`, `delete`, `import`, `sign_in`, `export`…
    pub action: &'a str,
    /// `admin_area`, `site`, `user`…
    pub entity: &'a str,
    pub entity_id: String,
    pub country_code: Option<&'a str>,
    /// A JSON object with what changed.
    pub detail: serde_json::Value,
}

pub(crate) struct SealedLine {
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub country_code: Option<String>,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEvent<'_> {
    pub(crate) fn seal(self, prev_hash: String) -> SealedLine {
        // Microseconds: the precision both engines keep, so the hash can be recomputed.
        let at = Utc::now().trunc_subsecs(6);
        let detail = self.detail.to_string();
        let hash = line_hash(
            &prev_hash,
            at,
            self.actor.user_id,
            &self.actor.name,
            self.action,
            self.entity,
            &self.entity_id,
            self.country_code,
            &detail,
        );
        SealedLine {
            at,
            actor_id: self.actor.user_id,
            actor: self.actor.name.clone(),
            action: self.action.to_string(),
            entity: self.entity.to_string(),
            entity_id: self.entity_id,
            country_code: self.country_code.map(str::to_string),
            detail,
            prev_hash,
            hash,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn line_hash(
    prev: &str,
    at: DateTime<Utc>,
    actor_id: Option<i64>,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: &str,
    country: Option<&str>,
    detail: &str,
) -> String {
    let mut h = Sha256::new();
    let actor_id = actor_id.map(|id| id.to_string()).unwrap_or_default();
    for part in [
        prev,
        &at.to_rfc3339_opts(SecondsFormat::Micros, true),
        &actor_id,
        actor,
        action,
        entity,
        entity_id,
        country.unwrap_or(""),
        detail,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// The result of checking the audit chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ChainCheck {
    pub lines: i64,
    /// The id of the first line whose hash does not match, if any.
    pub first_broken: Option<i64>,
}

impl Store {
    /// The newest audit lines, newest first, optionally limited to some countries.
    pub async fn audit_log(&self, limit: i64, entity: Option<&str>) -> Result<Vec<AuditRecord>> {
        run!(self, |pool, _h| {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT id, at, actor_id, actor, action, entity, entity_id, country_code, detail, prev_hash, hash FROM audit_log",
            );
            if let Some(entity) = entity {
                qb.push(" WHERE entity = ").push_bind(entity.to_string());
            }
            qb.push(" ORDER BY id DESC LIMIT ").push_bind(limit.clamp(1, 10_000));
            Ok(qb.build_query_as().fetch_all(pool).await?)
        })
    }

    /// The audit lines of one record, oldest first (a submission's reviews, edits, deletions).
    pub async fn audit_of(&self, entity: &str, entity_id: &str) -> Result<Vec<AuditRecord>> {
        run!(self, |pool, _h| {
            Ok(sqlx::query_as(
                "SELECT id, at, actor_id, actor, action, entity, entity_id, country_code, detail, prev_hash, hash \
                 FROM audit_log WHERE entity = $1 AND entity_id = $2 ORDER BY id LIMIT 1000",
            )
            .bind(entity)
            .bind(entity_id)
            .fetch_all(pool)
            .await?)
        })
    }

    /// One audit line.
    pub async fn audit_line(&self, id: i64) -> Result<AuditRecord> {
        run!(self, |pool, _h| {
            sqlx::query_as(
                "SELECT id, at, actor_id, actor, action, entity, entity_id, country_code, detail, prev_hash, hash FROM audit_log WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(crate::StoreError::NotFound { entity: "audit line" })
        })
    }

    /// Recomputes every link of the chain.
    pub async fn verify_audit_chain(&self) -> Result<ChainCheck> {
        let lines: Vec<AuditRecord> = run!(self, |pool, _h| {
            sqlx::query_as(
                "SELECT id, at, actor_id, actor, action, entity, entity_id, country_code, detail, prev_hash, hash FROM audit_log ORDER BY id",
            )
            .fetch_all(pool)
            .await?
        });
        let mut prev = String::new();
        for line in &lines {
            let expected = line_hash(
                &prev,
                line.at,
                line.actor_id,
                &line.actor,
                &line.action,
                &line.entity,
                &line.entity_id,
                line.country_code.as_deref(),
                &line.detail,
            );
            if line.prev_hash != prev || line.hash != expected {
                return Ok(ChainCheck { lines: lines.len() as i64, first_broken: Some(line.id) });
            }
            prev.clone_from(&line.hash);
        }
        Ok(ChainCheck { lines: lines.len() as i64, first_broken: None })
    }

    /// Records an event that writes nothing else (a sign-in, an export…).
    pub async fn record(&self, event: AuditEvent<'_>) -> Result<()> {
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            h::audit(&mut tx, event).await?;
            tx.commit().await?;
        });
        Ok(())
    }
}
