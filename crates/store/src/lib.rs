//! Persistence for apoyo. Today: the embedded SQLite store with roll snapshots
//! and their streaming import. The schema lives in `migrations/`, applied on open.

mod accounts;
mod audit;
mod blobs;
pub mod clock;
mod error;
mod image_checks;
mod paper;
mod people;
mod processes;
mod progress;
mod reverification;
mod roll_import;
mod roll_query;
mod roll_table;
mod support_detail;
mod supports;
mod verification;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use accounts::{NewUser, SessionRecord, User, normalize_email};
pub use audit::{Actor, AuditEntry, AuditFilter};
pub use blobs::{BlobStore, sha256_hex};
pub use error::{Conflict, ImportError, RowError, RuleViolation, StoreError};
pub use image_checks::{ImageCheck, PendingImageCheck};
pub use paper::{NewPaperSupport, PAPER_IMAGE_KINDS};
pub use people::{Aspirant, Collector, NewAspirant, NewCollector};
pub use processes::{NewOffice, NewProcess, Office, OfficeKind, Process, ProcessKind};
pub use progress::{DispersionProgress, OutcomeCount, Progress, SectionProgress};
pub use reverification::{ReverificationReport, ReverificationRun, ReverificationStatus};
pub use roll_import::{ImportOptions, ImportReport, MAX_REPORTED_ROW_ERRORS};
pub use roll_query::{MunicipalityCount, SnapshotDetail, SnapshotSummary, StatusCounts};
pub use support_detail::SupportDetail;
pub use supports::{
    Acceptance, CollectorAssignment, ImageKind, MAX_GROUP_COMMIT, NewImage, NewSupport,
    OutcomeFilter, Receipt, Reception, StoredImage, SupportListItem, folio,
};
pub use verification::{JobStatus, OutcomeChange, SupportOutcome, VerificationJob};

/// The file name of the embedded database inside the data directory.
pub const SQLITE_FILE: &str = "apoyo.sqlite3";

/// Handle to the store; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

impl Store {
    /// Opens (creating if needed) the SQLite store in `data_dir` and applies migrations.
    pub async fn open_data_dir(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        Self::open_sqlite_file(&data_dir.join(SQLITE_FILE)).await
    }

    /// Opens (creating if needed) a SQLite database file and applies migrations.
    pub async fn open_sqlite_file(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(StoreError::Database)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL + NORMAL: a commit survives a process crash; only an OS crash can lose
            // the last transactions, never corrupt the file.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30))
            // A bounded page cache (64 MiB): large imports stay in constant memory.
            .pragma("cache_size", "-65536")
            // Temporary data (index builds sort the whole snapshot) goes to files, not memory.
            .pragma("temp_store", "file");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(StoreError::Database)?;
        SQLITE_MIGRATIONS
            .run(&pool)
            .await
            .map_err(StoreError::Migration)?;
        Ok(Self { pool })
    }

    /// A write transaction; SQLite takes the write lock at once (`BEGIN IMMEDIATE`)
    /// so concurrent writers queue instead of failing with "database is locked".
    pub(crate) async fn begin(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(StoreError::Database)
    }

    /// Whether the database answers (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query_scalar::<_, i64>("SELECT 1")
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::Database)?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
