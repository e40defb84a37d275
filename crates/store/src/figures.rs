//! Figures for the console: each collector's work, and valid supports over time.

use serde::Serialize;

use crate::verification::db;
use crate::{Store, StoreError};

/// One collector of an aspirant, with what they sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CollectorFigures {
    pub collector_id: i64,
    pub name: String,
    pub active: bool,
    pub sent: i64,
    pub valid: i64,
    pub rejected: i64,
    pub pending: i64,
    /// RFC 3339 UTC of the last support received, if any.
    pub last_received_at: Option<String>,
}

/// Supports received on one day (UTC date, `YYYY-MM-DD`) and how many of them are valid now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DayFigures {
    pub day: String,
    pub received: i64,
    pub valid: i64,
}

type CollectorRow = (
    i64,
    String,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

impl Store {
    /// Every collector of an aspirant with their figures, by name.
    pub async fn collector_figures(
        &self,
        aspirant_id: i64,
    ) -> Result<Vec<CollectorFigures>, StoreError> {
        let rows: Vec<CollectorRow> = sqlx::query_as(
            "SELECT c.id, c.name, c.active, CAST(COUNT(s.id) AS BIGINT), \
             CAST(SUM(CASE WHEN s.outcome = 'valid' THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN s.outcome IS NOT NULL AND s.outcome <> 'valid' THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN s.id IS NOT NULL AND s.outcome IS NULL THEN 1 ELSE 0 END) AS BIGINT), \
             MAX(s.received_at) \
             FROM collectors c LEFT JOIN supports s ON s.collector_id = c.id \
             WHERE c.aspirant_id = $1 GROUP BY c.id, c.name, c.active ORDER BY c.name, c.id",
        )
        .bind(aspirant_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows
            .into_iter()
            .map(
                |(collector_id, name, active, sent, valid, rejected, pending, last)| {
                    CollectorFigures {
                        collector_id,
                        name,
                        active: active == 1,
                        sent,
                        valid: valid.unwrap_or(0),
                        rejected: rejected.unwrap_or(0),
                        pending: pending.unwrap_or(0),
                        last_received_at: last,
                    }
                },
            )
            .collect())
    }

    /// Supports of an aspirant per day of reception, oldest first.
    pub async fn supports_by_day(&self, aspirant_id: i64) -> Result<Vec<DayFigures>, StoreError> {
        let rows: Vec<(String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT SUBSTR(received_at, 1, 10) AS day, CAST(COUNT(*) AS BIGINT), \
             CAST(SUM(CASE WHEN outcome = 'valid' THEN 1 ELSE 0 END) AS BIGINT) \
             FROM supports WHERE aspirant_id = $1 GROUP BY SUBSTR(received_at, 1, 10) ORDER BY day",
        )
        .bind(aspirant_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows
            .into_iter()
            .map(|(day, received, valid)| DayFigures {
                day,
                received,
                valid: valid.unwrap_or(0),
            })
            .collect())
    }
}
