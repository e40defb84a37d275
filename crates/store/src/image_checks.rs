//! The cross-check of typed data against the MRZ read from the back image: what waits
//! for it, and its results (migration 0008).

use serde_json::Value;
use sqlx::Row;

use crate::verification::db;
use crate::{Store, StoreError, clock};

/// A support whose back image has not been cross-checked yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingImageCheck {
    pub support_id: i64,
    /// The captured credential (`CredentialInput` JSON).
    pub credential_json: String,
    /// RFC 3339 UTC.
    pub received_at: String,
    /// The back image's object key and content type, when there is one.
    pub back: Option<(String, String)>,
}

/// One cross-check result.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageCheck {
    /// `agrees`, `differs`, `unreadable` or `no_mrz`.
    pub status: String,
    /// The three lines read, newline-separated.
    pub mrz: Option<String>,
    pub confidence: Option<f64>,
    /// `[{code, message}]`.
    pub differences: Value,
    pub read_ms: Option<i64>,
    /// RFC 3339 UTC; set by the store when recorded.
    pub checked_at: String,
}

impl Store {
    /// Up to `limit` supports after `after_id` with no cross-check yet, in id order.
    pub async fn supports_awaiting_image_check(
        &self,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<PendingImageCheck>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.id, s.credential_json, s.received_at, i.object_key, i.content_type \
             FROM supports s LEFT JOIN support_images i ON i.support_id = s.id AND i.kind = 'back' \
             WHERE s.id > $1 AND NOT EXISTS (SELECT 1 FROM image_checks c WHERE c.support_id = s.id) \
             ORDER BY s.id LIMIT $2",
        )
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|row| {
                let key: Option<String> = row.try_get("object_key").map_err(db)?;
                let content_type: Option<String> = row.try_get("content_type").map_err(db)?;
                Ok(PendingImageCheck {
                    support_id: row.try_get("id").map_err(db)?,
                    credential_json: row.try_get("credential_json").map_err(db)?,
                    received_at: row.try_get("received_at").map_err(db)?,
                    back: key.zip(content_type),
                })
            })
            .collect()
    }

    /// Records a cross-check (the first one wins: a support is checked once).
    pub async fn record_image_check(
        &self,
        support_id: i64,
        check: &ImageCheck,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO image_checks (support_id, status, mrz, confidence, differences_json, read_ms, checked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (support_id) DO NOTHING",
        )
        .bind(support_id)
        .bind(&check.status)
        .bind(&check.mrz)
        .bind(check.confidence)
        .bind(check.differences.to_string())
        .bind(check.read_ms)
        .bind(clock::now())
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    /// A support's cross-check, once made.
    pub async fn image_check(&self, support_id: i64) -> Result<Option<ImageCheck>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT status, mrz, confidence, differences_json, read_ms, checked_at \
             FROM image_checks WHERE support_id = $1",
        )
        .bind(support_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        else {
            return Ok(None);
        };
        let differences: String = row.try_get("differences_json").map_err(db)?;
        Ok(Some(ImageCheck {
            status: row.try_get("status").map_err(db)?,
            mrz: row.try_get("mrz").map_err(db)?,
            confidence: row.try_get("confidence").map_err(db)?,
            differences: serde_json::from_str(&differences).map_err(|e| {
                StoreError::Corrupt(format!("image check of support {support_id}: {e}"))
            })?,
            read_ms: row.try_get("read_ms").map_err(db)?,
            checked_at: row.try_get("checked_at").map_err(db)?,
        }))
    }
}
