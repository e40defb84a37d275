//! Reading roll snapshots back: the list, and the counts stored with each.

use sqlx::{AssertSqlSafe, Row};

use crate::{Store, StoreError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotSummary {
    pub id: i64,
    pub name: String,
    /// `YYYY-MM-DD`.
    pub cut_date: String,
    pub row_count: i64,
    pub source_bytes: i64,
    pub source_sha256: String,
    /// RFC 3339, UTC.
    pub imported_at: String,
    pub active: bool,
}

/// Rows by situación.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatusCounts {
    pub lista_nominal: i64,
    pub padron: i64,
    pub baja: i64,
    pub reemplazada: i64,
}

impl StatusCounts {
    pub fn total(&self) -> i64 {
        self.lista_nominal + self.padron + self.baja + self.reemplazada
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MunicipalityCount {
    pub state: i64,
    /// INE numbering.
    pub municipality: i64,
    pub sections: i64,
    pub counts: StatusCounts,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotDetail {
    pub summary: SnapshotSummary,
    pub totals: StatusCounts,
    pub municipalities: Vec<MunicipalityCount>,
}

const SUMMARY_COLUMNS: &str =
    "id, name, cut_date, row_count, source_bytes, source_sha256, imported_at, active";

fn summary(row: &sqlx::any::AnyRow) -> Result<SnapshotSummary, sqlx::Error> {
    Ok(SnapshotSummary {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        cut_date: row.try_get("cut_date")?,
        row_count: row.try_get("row_count")?,
        source_bytes: row.try_get("source_bytes")?,
        source_sha256: row.try_get("source_sha256")?,
        imported_at: row.try_get("imported_at")?,
        active: row.try_get::<i64, _>("active")? == 1,
    })
}

impl Store {
    /// Every snapshot, newest first.
    pub async fn list_roll_snapshots(&self) -> Result<Vec<SnapshotSummary>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {SUMMARY_COLUMNS} FROM roll_snapshots ORDER BY id DESC"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::Database)?;
        rows.iter()
            .map(summary)
            .collect::<Result<_, _>>()
            .map_err(StoreError::Database)
    }

    /// The active snapshot, if any.
    pub async fn active_roll_snapshot(&self) -> Result<Option<SnapshotSummary>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {SUMMARY_COLUMNS} FROM roll_snapshots WHERE active = 1"
        )))
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::Database)?;
        row.as_ref()
            .map(summary)
            .transpose()
            .map_err(StoreError::Database)
    }

    /// A snapshot with its counts by situación and by municipio.
    pub async fn roll_snapshot_detail(&self, name: &str) -> Result<SnapshotDetail, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {SUMMARY_COLUMNS} FROM roll_snapshots WHERE name = $1"
        )))
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::Database)?
        .ok_or_else(|| StoreError::SnapshotNotFound(name.to_owned()))?;
        let summary = summary(&row).map_err(StoreError::Database)?;
        let rows = sqlx::query(
            "SELECT state, municipality, COUNT(*) AS sections, CAST(SUM(lista_nominal) AS BIGINT) AS lista_nominal, \
             CAST(SUM(padron) AS BIGINT) AS padron, CAST(SUM(baja) AS BIGINT) AS baja, \
             CAST(SUM(reemplazada) AS BIGINT) AS reemplazada \
             FROM roll_section_counts WHERE snapshot_id = $1 GROUP BY state, municipality ORDER BY state, municipality",
        )
        .bind(summary.id)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::Database)?;
        let mut totals = StatusCounts::default();
        let mut municipalities = Vec::with_capacity(rows.len());
        for row in rows {
            let counts = StatusCounts {
                lista_nominal: row.try_get("lista_nominal").map_err(StoreError::Database)?,
                padron: row.try_get("padron").map_err(StoreError::Database)?,
                baja: row.try_get("baja").map_err(StoreError::Database)?,
                reemplazada: row.try_get("reemplazada").map_err(StoreError::Database)?,
            };
            totals.lista_nominal += counts.lista_nominal;
            totals.padron += counts.padron;
            totals.baja += counts.baja;
            totals.reemplazada += counts.reemplazada;
            municipalities.push(MunicipalityCount {
                state: row.try_get("state").map_err(StoreError::Database)?,
                municipality: row.try_get("municipality").map_err(StoreError::Database)?,
                sections: row.try_get("sections").map_err(StoreError::Database)?,
                counts,
            });
        }
        Ok(SnapshotDetail {
            summary,
            totals,
            municipalities,
        })
    }
}
