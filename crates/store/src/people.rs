//! Organisations, users, sessions and API tokens.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::model::{Actor, ApiToken, ListFilter, Organisation, OrganisationInput, Page, User, UserInput, fold};
use crate::{AuditEvent, Result, Store, StoreError, run};

/// After a password change: the user's sessions end, and when someone else (an
/// administrator) set the password, their API tokens are revoked too, as for an account
/// taken back from an intruder. One's own change keeps one's tokens (integrations).
macro_rules! end_access {
    ($tx:expr, $user_id:expr, $actor:expr) => {{
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind($user_id).execute(&mut *$tx).await?;
        if $actor.user_id != Some($user_id) {
            sqlx::query("DELETE FROM api_tokens WHERE user_id = $1").bind($user_id).execute(&mut *$tx).await?;
        }
    }};
}

/// See [`Store::credentials`].
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
    pub locked_until: Option<DateTime<Utc>>,
}

const USER_COLUMNS: &str = "SELECT id, username, display_name, role, organisation_id, all_countries, active FROM users";

impl Store {
    // ---- organisations ----

    pub async fn list_organisations(&self, f: &ListFilter) -> Result<Page<Organisation>> {
        run!(self, |pool, _h| {
            let mut qb = sqlx::QueryBuilder::new("SELECT id, name, acronym, kind FROM organisations o WHERE 1 = 1");
            if let Some(pattern) = f.pattern() {
                qb.push(" AND o.search LIKE ").push_bind(pattern).push(" ESCAPE '\\'");
            }
            if let Some(kind) = &f.kind {
                qb.push(" AND o.kind = ").push_bind(kind.clone());
            }
            qb.push(" ORDER BY o.name");
            let items: Vec<Organisation> = qb.build_query_as().fetch_all(pool).await?;
            let total = items.len() as i64;
            let items = items.into_iter().skip(f.offset() as usize).take(f.limit() as usize).collect();
            Ok(Page { items, total })
        })
    }

    pub async fn organisation(&self, id: i64) -> Result<Organisation> {
        run!(self, |pool, _h| {
            sqlx::query_as("SELECT id, name, acronym, kind FROM organisations WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
                .ok_or(StoreError::NotFound { entity: "organisation" })
        })
    }

    #[tracing::instrument(skip_all)]
    pub async fn save_organisation(
        &self,
        actor: &Actor,
        id: Option<i64>,
        input: &OrganisationInput,
    ) -> Result<Organisation> {
        input.validate()?;
        if let Some(id) = id {
            self.organisation(id).await?;
        }
        let now = Utc::now();
        let name = input.name.trim();
        let acronym = input.acronym.trim();
        let saved = run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM organisations WHERE lower(name) = lower($1)")
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
            if taken.is_some() && taken != id {
                return Err(StoreError::conflict("name", format!("an organisation named {name} exists already")));
            }
            let saved: i64 = if let Some(id) = id {
                sqlx::query(
                    "UPDATE organisations SET name = $1, acronym = $2, kind = $3, updated_at = $4 WHERE id = $5",
                )
                .bind(name)
                .bind(acronym)
                .bind(input.kind.as_str())
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                id
            } else {
                sqlx::query_scalar("INSERT INTO organisations (name, acronym, kind, created_at, updated_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                    .bind(name).bind(acronym).bind(input.kind.as_str()).bind(now).bind(now)
                    .fetch_one(&mut *tx).await?
            };
            sqlx::query("UPDATE organisations SET search = $1 WHERE id = $2")
                .bind(fold(&format!("{name} {acronym}")))
                .bind(saved)
                .execute(&mut *tx)
                .await?;
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: if id.is_some() { "update" } else { "create" },
                    entity: "organisation",
                    entity_id: saved.to_string(),
                    country_code: None,
                    detail: json!({ "name": name, "acronym": acronym, "kind": input.kind }),
                },
            )
            .await?;
            tx.commit().await?;
            saved
        });
        self.organisation(saved).await
    }

    // ---- users ----

    async fn user_countries(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<String>>> {
        let rows: Vec<(i64, String)> = run!(self, |pool, _h| {
            let mut qb = sqlx::QueryBuilder::new("SELECT user_id, country_code FROM user_countries WHERE user_id IN (");
            let mut list = qb.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            list.push_unseparated(") ORDER BY country_code");
            if ids.is_empty() { Vec::new() } else { qb.build_query_as().fetch_all(pool).await? }
        });
        let mut map: HashMap<i64, Vec<String>> = HashMap::new();
        for (user, country) in rows {
            map.entry(user).or_default().push(country);
        }
        Ok(map)
    }

    /// Users, filtered by text (`q`), role (`kind`) and, with `scope`, to those whose
    /// countries all lie within it (regional users are only listed without scope), so that
    /// a country administrator sees exactly the users they may manage.
    pub async fn list_users(&self, f: &ListFilter) -> Result<Page<User>> {
        let mut users: Vec<User> = run!(self, |pool, _h| {
            sqlx::query_as(&format!("{USER_COLUMNS} ORDER BY username")).fetch_all(pool).await?
        });
        let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
        let mut countries = self.user_countries(&ids).await?;
        for u in &mut users {
            u.countries = countries.remove(&u.id).unwrap_or_default();
        }
        let pattern = f.q.as_deref().map(fold).filter(|q| !q.is_empty());
        users.retain(|u| {
            pattern.as_ref().is_none_or(|p| fold(&format!("{} {}", u.username, u.display_name)).contains(p.as_str()))
                && f.kind.as_ref().is_none_or(|k| u.role.as_str() == k)
                && f.country.as_ref().is_none_or(|c| u.countries.contains(c) || u.all_countries)
                && f.scope.as_ref().is_none_or(|s| {
                    !u.all_countries && !u.countries.is_empty() && u.countries.iter().all(|c| s.contains(c))
                })
        });
        let total = users.len() as i64;
        let items = users.into_iter().skip(f.offset() as usize).take(f.limit() as usize).collect();
        Ok(Page { items, total })
    }

    pub async fn user(&self, id: i64) -> Result<User> {
        let mut user: User = run!(self, |pool, _h| {
            sqlx::query_as(&format!("{USER_COLUMNS} WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
                .ok_or(StoreError::NotFound { entity: "user" })?
        });
        user.countries = self.user_countries(&[id]).await?.remove(&id).unwrap_or_default();
        Ok(user)
    }

    /// What signing in needs to know of a user: the account, its password hash, and until
    /// when it is locked after repeated failures.
    pub async fn credentials(&self, username: &str) -> Result<Option<Credentials>> {
        let row: Option<(i64, String, Option<DateTime<Utc>>)> = run!(self, |pool, _h| {
            sqlx::query_as("SELECT id, password_hash, locked_until FROM users WHERE username = $1")
                .bind(username.trim().to_lowercase())
                .fetch_optional(pool)
                .await?
        });
        match row {
            None => Ok(None),
            Some((id, password_hash, locked_until)) => {
                Ok(Some(Credentials { user: self.user(id).await?, password_hash, locked_until }))
            }
        }
    }

    /// Reserves one sign-in attempt before the password is checked, so that attempts made
    /// in parallel are counted too. `false` when the account is locked, or when
    /// `max_failures` attempts are already counted.
    pub async fn begin_login_attempt(&self, user_id: i64, max_failures: i32) -> Result<bool> {
        let now = Utc::now();
        let reserved: Option<i32> = run!(self, |pool, _h| {
            sqlx::query_scalar(
                "UPDATE users SET failed_logins = failed_logins + 1 \
                 WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2) AND failed_logins < $3 \
                 RETURNING failed_logins",
            )
            .bind(user_id)
            .bind(now)
            .bind(max_failures)
            .fetch_optional(pool)
            .await?
        });
        Ok(reserved.is_some())
    }

    /// After a wrong password: once `max_failures` attempts are counted, the account is
    /// locked for `lock_for` and the count starts again. Returns the end of a new lock.
    pub async fn login_failed(
        &self,
        user_id: i64,
        max_failures: i32,
        lock_for: chrono::Duration,
    ) -> Result<Option<DateTime<Utc>>> {
        let until = Utc::now() + lock_for;
        let locked: Option<i64> = run!(self, |pool, _h| {
            sqlx::query_scalar(
                "UPDATE users SET failed_logins = 0, locked_until = $1 WHERE id = $2 AND failed_logins >= $3 RETURNING id",
            )
            .bind(until)
            .bind(user_id)
            .bind(max_failures)
            .fetch_optional(pool)
            .await?
        });
        Ok(locked.map(|_| until))
    }

    /// After a right password: the count starts again and any lock is lifted.
    pub async fn login_succeeded(&self, user_id: i64) -> Result<()> {
        run!(self, |pool, _h| {
            sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
                .bind(user_id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    pub async fn user_id_by_username(&self, username: &str) -> Result<i64> {
        run!(self, |pool, _h| {
            sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
                .bind(username.trim().to_lowercase())
                .fetch_optional(pool)
                .await?
                .ok_or(StoreError::NotFound { entity: "user" })
        })
    }

    /// Creates (`id` = `None`) or changes a user. A new user needs `password_hash`; on an
    /// update a `Some` hash replaces the password.
    #[tracing::instrument(skip_all)]
    pub async fn save_user(
        &self,
        actor: &Actor,
        id: Option<i64>,
        input: &UserInput,
        password_hash: Option<&str>,
    ) -> Result<User> {
        input.validate()?;
        if id.is_none() && password_hash.is_none() {
            return Err(StoreError::invalid("password", "is required for a new user"));
        }
        if let Some(id) = id {
            self.user(id).await?;
        }
        let now = Utc::now();
        let saved = run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
                .bind(&input.username)
                .fetch_optional(&mut *tx)
                .await?;
            if taken.is_some() && taken != id {
                return Err(StoreError::conflict("username", format!("the username {} is taken", input.username)));
            }
            if let Some(org) = input.organisation_id {
                let found: Option<i64> = sqlx::query_scalar("SELECT id FROM organisations WHERE id = $1")
                    .bind(org)
                    .fetch_optional(&mut *tx)
                    .await?;
                if found.is_none() {
                    return Err(StoreError::invalid("organisation_id", format!("no organisation has id {org}")));
                }
            }
            for c in &input.countries {
                let found: Option<String> = sqlx::query_scalar("SELECT code FROM countries WHERE code = $1")
                    .bind(c)
                    .fetch_optional(&mut *tx)
                    .await?;
                if found.is_none() {
                    return Err(StoreError::invalid("countries", format!("no country has code {c}")));
                }
            }
            let saved: i64 = if let Some(id) = id {
                sqlx::query("UPDATE users SET username = $1, display_name = $2, role = $3, organisation_id = $4, all_countries = $5, active = $6, updated_at = $7 WHERE id = $8")
                    .bind(&input.username).bind(&input.display_name).bind(input.role.as_str()).bind(input.organisation_id)
                    .bind(input.all_countries).bind(input.active).bind(now).bind(id)
                    .execute(&mut *tx).await?;
                if let Some(hash) = password_hash {
                    sqlx::query("UPDATE users SET password_hash = $1, digest_ha1 = NULL WHERE id = $2")
                        .bind(hash)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    end_access!(tx, id, actor);
                }
                if !input.active {
                    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
                }
                sqlx::query("DELETE FROM user_countries WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
                id
            } else {
                sqlx::query_scalar("INSERT INTO users (username, display_name, password_hash, role, organisation_id, all_countries, active, created_at, updated_at) \
                                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
                    .bind(&input.username).bind(&input.display_name).bind(password_hash.unwrap_or_default()).bind(input.role.as_str())
                    .bind(input.organisation_id).bind(input.all_countries).bind(input.active).bind(now).bind(now)
                    .fetch_one(&mut *tx).await?
            };
            if !input.all_countries {
                for c in &input.countries {
                    sqlx::query("INSERT INTO user_countries (user_id, country_code) VALUES ($1, $2)")
                        .bind(saved)
                        .bind(c)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            h::audit(&mut tx, AuditEvent {
                actor,
                action: if id.is_some() { "update" } else { "create" },
                entity: "user",
                entity_id: saved.to_string(),
                country_code: None,
                detail: json!({ "username": input.username, "role": input.role, "all_countries": input.all_countries, "countries": input.countries,
                                "organisation_id": input.organisation_id, "active": input.active, "password_changed": password_hash.is_some() }),
            })
            .await?;
            tx.commit().await?;
            saved
        });
        self.user(saved).await
    }

    /// Replaces a user's password and ends their sessions.
    #[tracing::instrument(skip_all)]
    pub async fn set_password(&self, actor: &Actor, id: i64, password_hash: &str) -> Result<()> {
        let user = self.user(id).await?;
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            sqlx::query("UPDATE users SET password_hash = $1, digest_ha1 = NULL, updated_at = $2 WHERE id = $3")
                .bind(password_hash)
                .bind(Utc::now())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            end_access!(tx, id, actor);
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "set_password",
                    entity: "user",
                    entity_id: id.to_string(),
                    country_code: None,
                    detail: json!({ "username": user.username }),
                },
            )
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    // ---- sessions ----

    /// Stores a new sign-in session (only the hash of its secret) and drops expired ones.
    pub async fn create_session(
        &self,
        user_id: i64,
        token_hash: &str,
        csrf: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let now = Utc::now();
        run!(self, |pool, _h| {
            sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(now).execute(pool).await?;
            sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(token_hash).bind(user_id).bind(csrf).bind(now).bind(expires_at)
                .execute(pool).await?;
        });
        Ok(())
    }

    /// The active user of an unexpired session, with the session's CSRF token.
    pub async fn session(&self, token_hash: &str) -> Result<Option<(User, String)>> {
        let row: Option<(i64, String)> = run!(self, |pool, _h| {
            sqlx::query_as(
                "SELECT s.user_id, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = $3",
            )
            .bind(token_hash)
            .bind(Utc::now())
            .bind(true)
            .fetch_optional(pool)
            .await?
        });
        match row {
            None => Ok(None),
            Some((id, csrf)) => Ok(Some((self.user(id).await?, csrf))),
        }
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        run!(self, |pool, _h| {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(pool).await?;
        });
        Ok(())
    }

    // ---- API tokens ----

    #[tracing::instrument(skip_all)]
    pub async fn create_api_token(
        &self,
        actor: &Actor,
        user_id: i64,
        name: &str,
        token_hash: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<ApiToken> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(StoreError::invalid("name", "is required, at most 100 characters"));
        }
        let user = self.user(user_id).await?;
        let now = Utc::now();
        let id: i64 = run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let id: i64 = sqlx::query_scalar("INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                .bind(user_id).bind(name).bind(token_hash).bind(now).bind(expires_at)
                .fetch_one(&mut *tx).await?;
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "create",
                    entity: "api_token",
                    entity_id: id.to_string(),
                    country_code: None,
                    detail: json!({ "user": user.username, "name": name, "expires_at": expires_at }),
                },
            )
            .await?;
            tx.commit().await?;
            id
        });
        Ok(ApiToken { id, user_id, name: name.to_string(), created_at: now, expires_at, last_used_at: None })
    }

    pub async fn list_api_tokens(&self, user_id: i64) -> Result<Vec<ApiToken>> {
        run!(self, |pool, _h| {
            Ok(sqlx::query_as("SELECT id, user_id, name, created_at, expires_at, last_used_at FROM api_tokens WHERE user_id = $1 ORDER BY id")
                .bind(user_id)
                .fetch_all(pool)
                .await?)
        })
    }

    #[tracing::instrument(skip_all)]
    pub async fn revoke_api_token(&self, actor: &Actor, user_id: i64, id: i64) -> Result<()> {
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let done = sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND user_id = $2")
                .bind(id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound { entity: "API token" });
            }
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "delete",
                    entity: "api_token",
                    entity_id: id.to_string(),
                    country_code: None,
                    detail: json!({ "user_id": user_id }),
                },
            )
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The active user owning an unexpired token, noting its use.
    pub async fn token_user(&self, token_hash: &str) -> Result<Option<User>> {
        let now = Utc::now();
        let row: Option<(i64, i64, Option<DateTime<Utc>>)> = run!(self, |pool, _h| {
            sqlx::query_as(
                "SELECT t.id, t.user_id, t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id \
                 WHERE t.token_hash = $1 AND (t.expires_at IS NULL OR t.expires_at > $2) AND u.active = $3",
            )
            .bind(token_hash)
            .bind(now)
            .bind(true)
            .fetch_optional(pool)
            .await?
        });
        let Some((token_id, user_id, last_used)) = row else { return Ok(None) };
        // At most once a minute per token, so busy clients (a phone sending a day of
        // submissions) do not turn every request into a write that waits for the writers.
        if last_used.is_none_or(|at| at < now - chrono::Duration::minutes(1)) {
            run!(self, |pool, _h| {
                sqlx::query(
                    "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
                )
                .bind(now)
                .bind(token_id)
                .bind(now - chrono::Duration::minutes(1))
                .execute(pool)
                .await?;
            });
        }
        Ok(Some(self.user(user_id).await?))
    }

    /// How many users exist (a fresh instance has none).
    pub async fn count_users(&self) -> Result<i64> {
        run!(self, |pool, _h| { Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await?) })
    }
}
