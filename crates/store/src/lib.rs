//! Persistence for apoyo. Today: the embedded SQLite store with roll snapshots
//! and their streaming import. The schema lives in `migrations/`, applied on open.

mod accounts;
mod audit;
mod blobs;
pub mod clock;
mod dialect;
mod error;
mod figures;
mod image_checks;
mod paper;
mod people;
mod processes;
mod progress;
mod reverification;
mod review;
mod roll_import;
mod roll_query;
mod roll_table;
mod roll_uploads;
mod support_detail;
mod supports;
mod verification;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

pub use accounts::{NewUser, SessionRecord, User, normalize_email};
pub use audit::{Actor, AuditEntry, AuditFilter};
pub use blobs::{BlobStore, sha256_hex};
pub use error::{Conflict, ImportError, RowError, RuleViolation, StoreError};
pub use figures::{CollectorFigures, DayFigures};
pub use image_checks::{ImageCheck, PendingImageCheck};
pub use paper::{NewPaperSupport, PAPER_IMAGE_KINDS};
pub use people::{Aspirant, Collector, NewAspirant, NewCollector};
pub use processes::{NewOffice, NewProcess, Office, OfficeKind, Process, ProcessKind};
pub use progress::{DispersionProgress, OutcomeCount, Progress, SectionProgress};
pub use reverification::{ReverificationReport, ReverificationRun, ReverificationStatus};
pub use review::{
    AspirantReviewStatus, DecisionResult, InconsistencyType, Objection, ObjectionFilter,
    ObjectionStatus, ReviewKind, ReviewRecord, ReviewSettings, ReviewerHour,
};
pub use roll_import::{ImportOptions, ImportReport, MAX_REPORTED_ROW_ERRORS};
pub use roll_query::{MunicipalityCount, SnapshotDetail, SnapshotSummary, StatusCounts};
pub use roll_uploads::{INTERRUPTED_IMPORT_MESSAGE, NewRollImport, RollImport, RollImportStatus};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AnyPool, Executor, PgPool, SqlitePool};
pub use support_detail::SupportDetail;
pub use supports::{
    Acceptance, CollectorAssignment, ImageKind, MAX_GROUP_COMMIT, NewImage, NewSupport,
    OutcomeFilter, Receipt, Reception, StoredImage, SupportListItem, folio,
};
pub use verification::{JOB_LEASE, JobStatus, OutcomeChange, SupportOutcome, VerificationJob};

/// The file name of the embedded database inside the data directory.
pub const SQLITE_FILE: &str = "apoyo.sqlite3";

/// The database behind a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: one file in the data directory.
    Sqlite,
    /// Several instances over one PostgreSQL database.
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The typed pool of the same database, for what the `Any` driver cannot do: migrations,
/// `COPY`, SQLite's bulk insert path.
#[derive(Clone, Debug)]
pub(crate) enum Native {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Handle to the store; cheap to clone. Shared SQL goes through sqlx's `Any` driver
/// (written with `$N` placeholders and types both databases have: BIGINT, TEXT, DOUBLE,
/// BLOB/BYTEA); where the two differ, `dialect` picks the text (docs/decisions.md).
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    native: Native,
    /// How long a claimed verification job belongs to its worker (PostgreSQL).
    job_lease: Duration,
}

/// A write transaction of the shared SQL.
pub(crate) type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Connections of the shared pool on PostgreSQL, per instance.
const POSTGRES_CONNECTIONS: u32 = 16;

/// The per-connection settings of the embedded database (also applied to the `Any`
/// pool's connections, whose URL cannot carry them).
const SQLITE_CONNECTION_PRAGMAS: &str = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000; \
     PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536; PRAGMA temp_store = FILE;";

impl Store {
    /// Opens the store named by `database_url` (`postgres://…`, `postgresql://…` or
    /// `sqlite://PATH`), or the embedded SQLite file in `data_dir` when there is none.
    pub async fn open(database_url: Option<&str>, data_dir: &Path) -> Result<Self, StoreError> {
        match database_url.map(str::trim).filter(|u| !u.is_empty()) {
            None => Self::open_data_dir(data_dir).await,
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Self::open_postgres(url).await
            }
            Some(url) => match url.strip_prefix("sqlite://") {
                Some(path) => Self::open_sqlite_file(Path::new(path)).await,
                None => Err(StoreError::Config(format!(
                    "database_url must start with postgres://, postgresql:// or sqlite:// (got {:?})",
                    url.split(':').next().unwrap_or_default()
                ))),
            },
        }
    }

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
        let native = SqlitePoolOptions::new()
            .max_connections(2)
            .min_connections(0)
            .idle_timeout(Duration::from_secs(60))
            .connect_with(options)
            .await
            .map_err(StoreError::Database)?;
        SQLITE_MIGRATIONS
            .run(&native)
            .await
            .map_err(StoreError::Migration)?;

        let path = path.to_str().ok_or_else(|| {
            StoreError::Config(format!(
                "the database path {} is not valid UTF-8; choose another data_dir",
                path.display()
            ))
        })?;
        // The URL's path is percent-decoded by the driver.
        let escaped = path
            .replace('%', "%25")
            .replace('?', "%3F")
            .replace('#', "%23");
        sqlx::any::install_default_drivers();
        let any = AnyConnectOptions::from_str(&format!("sqlite://{escaped}?mode=rw"))
            .map_err(StoreError::Database)?;
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(SQLITE_CONNECTION_PRAGMAS).await?;
                    Ok(())
                })
            })
            .connect_with(any)
            .await
            .map_err(StoreError::Database)?;
        Ok(Self {
            pool,
            native: Native::Sqlite(native),
            job_lease: JOB_LEASE,
        })
    }

    /// Connects to PostgreSQL and applies its migrations (`migrations/postgres`, kept in
    /// step with SQLite's by the schema-drift test). Several instances may share it.
    pub async fn open_postgres(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(StoreError::Database)?;
        let native = PgPoolOptions::new()
            .max_connections(4)
            .min_connections(0)
            .idle_timeout(Duration::from_secs(60))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(StoreError::Database)?;
        // sqlx's migrator takes an advisory lock: instances starting together apply each
        // migration once.
        POSTGRES_MIGRATIONS
            .run(&native)
            .await
            .map_err(StoreError::Migration)?;
        sqlx::any::install_default_drivers();
        let any = AnyConnectOptions::from_str(url).map_err(StoreError::Database)?;
        let pool = AnyPoolOptions::new()
            .max_connections(POSTGRES_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(any)
            .await
            .map_err(StoreError::Database)?;
        Ok(Self {
            pool,
            native: Native::Postgres(native),
            job_lease: JOB_LEASE,
        })
    }

    /// The same store with another job lease (see [`Store::reset_stale_jobs`]).
    pub fn with_job_lease(mut self, lease: Duration) -> Self {
        self.job_lease = lease;
        self
    }

    pub fn job_lease(&self) -> Duration {
        self.job_lease
    }

    pub fn backend(&self) -> Backend {
        match self.native {
            Native::Sqlite(_) => Backend::Sqlite,
            Native::Postgres(_) => Backend::Postgres,
        }
    }

    /// A write transaction. SQLite takes the write lock at once (`BEGIN IMMEDIATE`) so
    /// concurrent writers queue instead of failing with "database is locked";
    /// PostgreSQL's writers lock rows (see `dialect` for the locks taken on purpose).
    pub(crate) async fn begin(&self) -> Result<Tx<'static>, StoreError> {
        match self.backend() {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
        .map_err(StoreError::Database)
    }

    /// Whether the database answers (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query_scalar::<_, i64>("SELECT CAST(1 AS BIGINT)")
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::Database)?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
        match &self.native {
            Native::Sqlite(pool) => pool.close().await,
            Native::Postgres(pool) => pool.close().await,
        }
    }
}
