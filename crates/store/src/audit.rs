//! The audit log: appended in the same transaction as every change of state;
//! the schema's triggers refuse updates and deletes.

use crate::Tx;
use serde::Serialize;
use serde_json::Value;

use crate::{Store, StoreError, clock};

/// Who makes a change, for the audit log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Actor {
    /// `None` for the system itself (demo set-up, migrations, background work).
    pub user_id: Option<i64>,
    pub request_id: Option<String>,
}

impl Actor {
    pub fn system() -> Self {
        Self::default()
    }

    pub fn user(user_id: i64, request_id: Option<String>) -> Self {
        Self {
            user_id: Some(user_id),
            request_id,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor_user_id: Option<i64>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub request_id: Option<String>,
}

/// Filters for reading the log; all optional.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor_user_id: Option<i64>,
    pub action: Option<String>,
    /// Entries with an id lower than this (pagination, newest first).
    pub before_id: Option<i64>,
    pub limit: i64,
}

pub(crate) async fn append(
    tx: &mut Tx<'_>,
    actor: &Actor,
    action: &str,
    entity: &str,
    entity_id: impl ToString,
    before: Option<Value>,
    after: Option<Value>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor_user_id, action, entity, entity_id, before_json, after_json, request_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(clock::now())
    .bind(actor.user_id)
    .bind(action)
    .bind(entity)
    .bind(entity_id.to_string())
    .bind(before.map(|v| v.to_string()))
    .bind(after.map(|v| v.to_string()))
    .bind(actor.request_id.as_deref())
    .execute(&mut **tx)
    .await
    .map_err(StoreError::Database)?;
    Ok(())
}

type AuditRow = (
    i64,
    String,
    Option<i64>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl Store {
    /// Records that personal data was looked at (a support's images or unmasked data):
    /// the audit log answers "who saw this citizen's credential, and when".
    pub async fn record_access(
        &self,
        actor: &Actor,
        action: &str,
        entity: &str,
        entity_id: i64,
        detail: Value,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        append(
            &mut tx,
            actor,
            action,
            entity,
            entity_id,
            None,
            Some(detail),
        )
        .await?;
        tx.commit().await.map_err(StoreError::Database)
    }

    /// Newest first.
    pub async fn audit_entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, at, actor_user_id, action, entity, entity_id, before_json, after_json, request_id \
             FROM audit_log \
             WHERE ($1 IS NULL OR entity = $1) AND ($2 IS NULL OR entity_id = $2) \
               AND ($3 IS NULL OR actor_user_id = $3) AND ($4 IS NULL OR action = $4) \
               AND ($5 IS NULL OR id < $5) \
             ORDER BY id DESC LIMIT $6",
        )
        .bind(filter.entity.as_deref())
        .bind(filter.entity_id.as_deref())
        .bind(filter.actor_user_id)
        .bind(filter.action.as_deref())
        .bind(filter.before_id)
        .bind(filter.limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::Database)?;
        Ok(rows
            .into_iter()
            .map(
                |(id, at, actor_user_id, action, entity, entity_id, before, after, request_id)| {
                    AuditEntry {
                        id,
                        at,
                        actor_user_id,
                        action,
                        entity,
                        entity_id,
                        before: before.and_then(|b| serde_json::from_str(&b).ok()),
                        after: after.and_then(|a| serde_json::from_str(&a).ok()),
                        request_id,
                    }
                },
            )
            .collect())
    }
}
