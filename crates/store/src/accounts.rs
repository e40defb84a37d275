//! User accounts, sessions and failed-login records.

use apoyo_domain::access::Role;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::Tx;

use crate::audit::{self, Actor};
use crate::{Store, StoreError, clock};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub must_change_password: bool,
    pub active: bool,
    /// The aspirant this user is (role aspirant) or collects for (role collector).
    pub aspirant_id: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    /// An argon2id PHC string; the store never sees passwords.
    pub password_hash: String,
    pub must_change_password: bool,
}

/// A live session with its user.
#[derive(Clone, Debug)]
pub struct SessionRecord {
    pub user: User,
    pub csrf_token: String,
    pub expires_at: String,
}

const USER_COLUMNS: &str = "u.id, u.email, u.name, u.role, u.must_change_password, u.active, \
     COALESCE(a.id, c.aspirant_id) AS aspirant_id";
const USER_JOINS: &str =
    "users u LEFT JOIN aspirants a ON a.user_id = u.id LEFT JOIN collectors c ON c.user_id = u.id";

pub(crate) fn user_from_row(row: &AnyRow) -> Result<User, StoreError> {
    let role: String = row.try_get("role").map_err(StoreError::Database)?;
    Ok(User {
        id: row.try_get("id").map_err(StoreError::Database)?,
        email: row.try_get("email").map_err(StoreError::Database)?,
        name: row.try_get("name").map_err(StoreError::Database)?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown role {role:?}")))?,
        must_change_password: row
            .try_get::<i64, _>("must_change_password")
            .map_err(StoreError::Database)?
            == 1,
        active: row
            .try_get::<i64, _>("active")
            .map_err(StoreError::Database)?
            == 1,
        aspirant_id: row.try_get("aspirant_id").map_err(StoreError::Database)?,
    })
}

/// Emails are compared case-insensitively and without surrounding spaces.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub(crate) async fn insert_user(
    tx: &mut Tx<'_>,
    actor: &Actor,
    new: &NewUser,
) -> Result<i64, StoreError> {
    let email = normalize_email(&new.email);
    let result = sqlx::query_scalar::<_, i64>(
        "INSERT INTO users (email, name, role, password_hash, must_change_password, active, created_at) \
         VALUES ($1, $2, $3, $4, $5, 1, $6) RETURNING id",
    )
    .bind(&email)
    .bind(new.name.trim())
    .bind(new.role.as_str())
    .bind(&new.password_hash)
    .bind(i64::from(new.must_change_password))
    .bind(clock::now())
    .fetch_one(&mut **tx)
    .await;
    let id = match result {
        Ok(id) => id,
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(StoreError::Conflict(crate::Conflict::EmailTaken(email)));
        }
        Err(e) => return Err(StoreError::Database(e)),
    };
    audit::append(
        tx,
        actor,
        "user.create",
        "user",
        id,
        None,
        Some(json!({"email": email, "name": new.name.trim(), "role": new.role.as_str()})),
    )
    .await?;
    Ok(id)
}

impl Store {
    pub async fn create_user(&self, actor: &Actor, new: NewUser) -> Result<User, StoreError> {
        let mut tx = self.begin().await?;
        let id = insert_user(&mut tx, actor, &new).await?;
        tx.commit().await.map_err(StoreError::Database)?;
        self.user(id).await?.ok_or(StoreError::NotFound("user"))
    }

    pub async fn user(&self, id: i64) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM {USER_JOINS} WHERE u.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::Database)?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// The user and their password hash, for login.
    pub async fn user_for_login(&self, email: &str) -> Result<Option<(User, String)>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS}, u.password_hash FROM {USER_JOINS} WHERE u.email = $1"
        )))
        .bind(normalize_email(email))
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::Database)?;
        match row {
            Some(row) => {
                let hash: String = row.try_get("password_hash").map_err(StoreError::Database)?;
                Ok(Some((user_from_row(&row)?, hash)))
            }
            None => Ok(None),
        }
    }

    pub async fn users(&self, role: Option<Role>) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM {USER_JOINS} WHERE ($1 IS NULL OR u.role = $1) ORDER BY u.id"
        )))
        .bind(role.map(Role::as_str))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::Database)?;
        rows.iter().map(user_from_row).collect()
    }

    pub async fn password_hash(&self, user_id: i64) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::Database)
    }

    /// Replaces the password and ends every other session of the user.
    pub async fn set_password(
        &self,
        actor: &Actor,
        user_id: i64,
        password_hash: &str,
        keep_session_hash: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1, must_change_password = 0 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::Database)?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> COALESCE($2, '')")
            .bind(user_id)
            .bind(keep_session_hash)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::Database)?;
        audit::append(
            &mut tx,
            actor,
            "user.password_change",
            "user",
            user_id,
            None,
            None,
        )
        .await?;
        tx.commit().await.map_err(StoreError::Database)
    }

    pub async fn create_session(
        &self,
        user_id: i64,
        token_hash: &str,
        csrf_token: &str,
        expires_at: &str,
    ) -> Result<(), StoreError> {
        let now = clock::now();
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf_token)
        .bind(&now)
        .bind(expires_at)
        .bind(&now)
        .execute(&self.pool)
        .await
        .map_err(StoreError::Database)?;
        Ok(())
    }

    /// The session's user if the session exists, has not expired and the user is active.
    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS}, s.csrf_token, s.expires_at FROM {USER_JOINS} JOIN sessions s ON s.user_id = u.id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = 1"
        )))
        .bind(token_hash)
        .bind(clock::now())
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::Database)?;
        match row {
            Some(row) => Ok(Some(SessionRecord {
                user: user_from_row(&row)?,
                csrf_token: row.try_get("csrf_token").map_err(StoreError::Database)?,
                expires_at: row.try_get("expires_at").map_err(StoreError::Database)?,
            })),
            None => Ok(None),
        }
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(StoreError::Database)?;
        Ok(())
    }

    pub async fn record_login_failure(&self, email: &str, client: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO login_failures (email, client, at) VALUES ($1, $2, $3)")
            .bind(normalize_email(email))
            .bind(client)
            .bind(clock::now())
            .execute(&self.pool)
            .await
            .map_err(StoreError::Database)?;
        Ok(())
    }

    /// Failed logins since `since` (RFC 3339) for this email and for this client.
    pub async fn login_failures_since(
        &self,
        email: &str,
        client: &str,
        since: &str,
    ) -> Result<(i64, i64), StoreError> {
        let by_email: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE email = $1 AND at >= $2")
                .bind(normalize_email(email))
                .bind(since)
                .fetch_one(&self.pool)
                .await
                .map_err(StoreError::Database)?;
        let by_client: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM login_failures WHERE client = $1 AND at >= $2",
        )
        .bind(client)
        .bind(since)
        .fetch_one(&self.pool)
        .await
        .map_err(StoreError::Database)?;
        Ok((by_email, by_client))
    }

    pub async fn clear_login_failures(&self, email: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE email = $1")
            .bind(normalize_email(email))
            .execute(&self.pool)
            .await
            .map_err(StoreError::Database)?;
        Ok(())
    }
}
