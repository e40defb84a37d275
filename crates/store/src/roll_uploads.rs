//! Roll imports started from the console (migration 0010): the record of each upload and
//! of the import that runs after it, with its progress, so that the page that sent the
//! file (or any other) can follow it. The import itself is [`Store::import_roll`].

use std::time::Duration;

use apoyo_domain::Date;
use serde_json::json;
use sqlx::{AssertSqlSafe, Row};

use crate::audit::append;
use crate::verification::db;
use crate::{Actor, Store, StoreError, clock};

/// The message of an import a stopped server left unfinished (Spanish: people read it).
pub const INTERRUPTED_IMPORT_MESSAGE: &str = "La importación se interrumpió porque el servidor se detuvo o reinició; no se importó nada. Envíe el archivo de nuevo.";

/// Where an import stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RollImportStatus {
    /// Receiving the file, or waiting for another import to end.
    Queued,
    Running,
    Done,
    Failed,
}

impl RollImportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "queued" => Some(Self::Queued),
            "running" => Some(Self::Running),
            "done" => Some(Self::Done),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }

    /// Done or failed: nothing will change any more.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Done | Self::Failed)
    }
}

/// What a new import is asked to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRollImport {
    pub name: String,
    pub cut_date: Date,
    pub activate: bool,
}

/// One import, as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RollImport {
    pub id: i64,
    /// The snapshot's name.
    pub name: String,
    /// `YYYY-MM-DD`.
    pub cut_date: String,
    pub activate: bool,
    pub status: RollImportStatus,
    /// Rows read so far (the snapshot's rows once done).
    pub rows_read: i64,
    /// Size of the uploaded file.
    pub bytes: i64,
    /// Why it failed (Spanish, for people).
    pub error: Option<String>,
    pub snapshot_id: Option<i64>,
    /// The snapshot made, once done.
    pub snapshot_name: Option<String>,
    pub created_by: i64,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// The last heartbeat of the instance running it.
    pub updated_at: String,
    pub finished_at: Option<String>,
}

const COLUMNS: &str = "i.id, i.name, i.cut_date, i.activate, i.status, i.rows_read, i.bytes, i.error, \
     i.snapshot_id, s.name AS snapshot_name, i.created_by, i.created_at, i.updated_at, i.finished_at \
     FROM roll_imports i LEFT JOIN roll_snapshots s ON s.id = i.snapshot_id";

fn record(row: &sqlx::any::AnyRow) -> Result<RollImport, StoreError> {
    let status: String = row.try_get("status").map_err(db)?;
    Ok(RollImport {
        id: row.try_get("id").map_err(db)?,
        name: row.try_get("name").map_err(db)?,
        cut_date: row.try_get("cut_date").map_err(db)?,
        activate: row.try_get::<i64, _>("activate").map_err(db)? == 1,
        status: RollImportStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("roll import status {status:?}")))?,
        rows_read: row.try_get("rows_read").map_err(db)?,
        bytes: row.try_get("bytes").map_err(db)?,
        error: row.try_get("error").map_err(db)?,
        snapshot_id: row.try_get("snapshot_id").map_err(db)?,
        snapshot_name: row.try_get("snapshot_name").map_err(db)?,
        created_by: row.try_get("created_by").map_err(db)?,
        created_at: row.try_get("created_at").map_err(db)?,
        updated_at: row.try_get("updated_at").map_err(db)?,
        finished_at: row.try_get("finished_at").map_err(db)?,
    })
}

impl Store {
    /// Records a new import, `queued` while its file is received.
    pub async fn create_roll_import(
        &self,
        actor: &Actor,
        new: &NewRollImport,
    ) -> Result<RollImport, StoreError> {
        let created_by = actor.user_id.ok_or_else(|| {
            StoreError::Config("a roll import is started by a user, not the system".into())
        })?;
        let now = clock::now();
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO roll_imports (name, cut_date, activate, status, rows_read, bytes, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, 'queued', 0, 0, $4, $5, $5) RETURNING id",
        )
        .bind(&new.name)
        .bind(new.cut_date.to_string())
        .bind(i64::from(new.activate))
        .bind(created_by)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        append(
            &mut tx,
            actor,
            "roll_import.create",
            "roll_import",
            id,
            None,
            Some(json!({
                "name": new.name,
                "cut_date": new.cut_date.to_string(),
                "activate": new.activate,
            })),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        self.roll_import(id)
            .await?
            .ok_or(StoreError::NotFound("roll import"))
    }

    /// Whether an import that has not ended yet makes a snapshot named `name`.
    pub async fn roll_import_pending_with_name(&self, name: &str) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM roll_imports WHERE name = $1 AND status IN ('queued', 'running') LIMIT 1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        Ok(found.is_some())
    }

    /// The file is stored: its size.
    pub async fn roll_import_received(&self, id: i64, bytes: u64) -> Result<(), StoreError> {
        sqlx::query("UPDATE roll_imports SET bytes = $1, updated_at = $2 WHERE id = $3")
            .bind(i64::try_from(bytes).unwrap_or(i64::MAX))
            .bind(clock::now())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    /// The import begins reading the file.
    pub async fn start_roll_import(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE roll_imports SET status = 'running', updated_at = $1 WHERE id = $2 AND status = 'queued'",
        )
        .bind(clock::now())
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    /// Progress and heartbeat of an import that has not ended (the caller throttles it).
    pub async fn update_roll_import_progress(
        &self,
        id: i64,
        rows_read: u64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE roll_imports SET rows_read = $1, updated_at = $2 \
             WHERE id = $3 AND status IN ('queued', 'running')",
        )
        .bind(i64::try_from(rows_read).unwrap_or(i64::MAX))
        .bind(clock::now())
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    /// The import made snapshot `snapshot_id` with `rows` rows.
    pub async fn finish_roll_import_done(
        &self,
        actor: &Actor,
        id: i64,
        snapshot_id: i64,
        rows: u64,
    ) -> Result<(), StoreError> {
        let now = clock::now();
        let rows = i64::try_from(rows).unwrap_or(i64::MAX);
        let mut tx = self.begin().await?;
        // Done even if marked failed meanwhile (a lost heartbeat): the snapshot exists.
        sqlx::query(
            "UPDATE roll_imports SET status = 'done', rows_read = $1, snapshot_id = $2, error = NULL, \
             updated_at = $3, finished_at = $3 WHERE id = $4",
        )
        .bind(rows)
        .bind(snapshot_id)
        .bind(&now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        append(
            &mut tx,
            actor,
            "roll_import.done",
            "roll_import",
            id,
            None,
            Some(json!({ "snapshot_id": snapshot_id, "rows": rows })),
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    /// The import stored nothing; `error` says why (Spanish, for people).
    pub async fn finish_roll_import_failed(
        &self,
        actor: &Actor,
        id: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        let now = clock::now();
        let mut tx = self.begin().await?;
        let changed = sqlx::query(
            "UPDATE roll_imports SET status = 'failed', error = $1, updated_at = $2, finished_at = $2 \
             WHERE id = $3 AND status <> 'done'",
        )
        .bind(error)
        .bind(&now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected();
        if changed > 0 {
            append(
                &mut tx,
                actor,
                "roll_import.failed",
                "roll_import",
                id,
                None,
                Some(json!({ "error": error })),
            )
            .await?;
        }
        tx.commit().await.map_err(db)
    }

    pub async fn roll_import(&self, id: i64) -> Result<Option<RollImport>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} WHERE i.id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref().map(record).transpose()
    }

    /// The latest `limit` imports, newest first.
    pub async fn recent_roll_imports(&self, limit: i64) -> Result<Vec<RollImport>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} ORDER BY i.id DESC LIMIT $1"
        )))
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter().map(record).collect()
    }

    /// Marks failed the imports a stopped server left `queued` or `running`: every one
    /// (`None`: one instance, at start-up), or those without a heartbeat for `stale`
    /// (several instances on PostgreSQL). Their uploads are lost; people send them again.
    pub async fn fail_interrupted_roll_imports(
        &self,
        stale: Option<Duration>,
    ) -> Result<u64, StoreError> {
        let before = stale.map(clock::before);
        let mut tx = self.begin().await?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM roll_imports WHERE status IN ('queued', 'running') \
             AND ($1 IS NULL OR updated_at < $1) ORDER BY id",
        )
        .bind(before.as_deref())
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let now = clock::now();
        for id in &ids {
            sqlx::query(
                "UPDATE roll_imports SET status = 'failed', error = $1, updated_at = $2, finished_at = $2 WHERE id = $3",
            )
            .bind(INTERRUPTED_IMPORT_MESSAGE)
            .bind(&now)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            append(
                &mut tx,
                &Actor::system(),
                "roll_import.interrupted",
                "roll_import",
                id,
                None,
                Some(json!({ "error": INTERRUPTED_IMPORT_MESSAGE })),
            )
            .await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(ids.len() as u64)
    }
}
