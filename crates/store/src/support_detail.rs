//! One support as the OPL's views show it: what was captured, where it stands on the
//! roll, and the history of its outcomes.

use serde_json::Value;
use sqlx::Row;

use crate::verification::db;
use crate::{OutcomeChange, Receipt, Store, StoreError};

/// One support, whole.
#[derive(Clone, Debug, PartialEq)]
pub struct SupportDetail {
    pub receipt: Receipt,
    pub office_id: i64,
    pub paper: bool,
    /// The OPL staff member who captured a paper support.
    pub captured_by_user_id: Option<i64>,
    /// Device capture time, RFC 3339 UTC.
    pub captured_at: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// The captured credential fields (`CredentialInput`).
    pub credential: Value,
    /// Codes of the pre-send checks that failed on the device.
    pub precheck: Value,
    /// The citizen on the roll, once verified and found.
    pub citizen_clave: Option<String>,
    pub citizen_section: Option<i64>,
    /// The outcome before duplicates.
    pub preliminary_outcome: Option<String>,
    /// The roll snapshot of the last verification.
    pub outcome_snapshot_id: Option<i64>,
    pub history: Vec<OutcomeChange>,
}

impl Store {
    /// A support with its receipt, captured data and outcome history.
    pub async fn support_detail(
        &self,
        support_id: i64,
    ) -> Result<Option<SupportDetail>, StoreError> {
        let Some(receipt) = self.support_receipt(support_id).await? else {
            return Ok(None);
        };
        let row = sqlx::query(
            "SELECT office_id, paper, captured_by_user_id, captured_at, latitude, longitude, credential_json, \
             precheck_json, citizen_clave, citizen_section, preliminary_outcome, outcome_snapshot_id \
             FROM supports WHERE id = $1",
        )
        .bind(support_id)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        let json = |column: &str| -> Result<Value, StoreError> {
            let text: String = row.try_get(column).map_err(db)?;
            serde_json::from_str(&text)
                .map_err(|e| StoreError::Corrupt(format!("support {support_id} {column}: {e}")))
        };
        Ok(Some(SupportDetail {
            office_id: row.try_get("office_id").map_err(db)?,
            paper: row.try_get::<i64, _>("paper").map_err(db)? == 1,
            captured_by_user_id: row.try_get("captured_by_user_id").map_err(db)?,
            captured_at: row.try_get("captured_at").map_err(db)?,
            latitude: row.try_get("latitude").map_err(db)?,
            longitude: row.try_get("longitude").map_err(db)?,
            credential: json("credential_json")?,
            precheck: json("precheck_json")?,
            citizen_clave: row.try_get("citizen_clave").map_err(db)?,
            citizen_section: row.try_get("citizen_section").map_err(db)?,
            preliminary_outcome: row.try_get("preliminary_outcome").map_err(db)?,
            outcome_snapshot_id: row.try_get("outcome_snapshot_id").map_err(db)?,
            history: self.support_outcome_history(support_id).await?,
            receipt,
        }))
    }
}
