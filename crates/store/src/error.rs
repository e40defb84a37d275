use std::fmt;
use std::path::PathBuf;

/// Failures of the store itself (English: operators read them in logs).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid store configuration: {0}")]
    Config(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("cannot apply database migrations: {0}")]
    Migration(#[source] sqlx::migrate::MigrateError),
    #[error("no roll snapshot is named {0:?}")]
    SnapshotNotFound(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("conflict: {0}")]
    Conflict(Conflict),
    #[error("rule broken: {0}")]
    Rule(RuleViolation),
    #[error("cannot store a blob: {0}")]
    Blob(#[source] std::io::Error),
    #[error("stored data is not what the schema promises: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// A database uniqueness constraint refused the write.
    pub(crate) fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(e))
            if e.kind() == sqlx::error::ErrorKind::UniqueViolation)
    }
}

/// A uniqueness rule the request would break.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    #[error("the email {0:?} is already used by another account")]
    EmailTaken(String),
    #[error("a process named {0:?} already exists")]
    ProcessNameTaken(String),
    #[error("the process already has an office named {0:?}")]
    OfficeNameTaken(String),
    #[error("clave {clave} already collects for aspirant {aspirant_id} in this process")]
    CollectorTaken { clave: String, aspirant_id: i64 },
    #[error("the client id {0:?} was already used for a support with other content")]
    SupportClientIdReused(String),
    #[error("another reviewer holds support {0} in the review queue")]
    ReviewHeldByOther(i64),
    #[error("support {0} already has an open objection")]
    ObjectionOpen(i64),
    #[error("objection {0} was already resolved")]
    ObjectionResolved(i64),
    #[error("the inconsistency code {0:?} already exists")]
    InconsistencyCodeTaken(String),
}

/// A domain rule the request would break.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuleViolation {
    #[error("clave {0} is not on the Lista Nominal of the process's roll snapshot")]
    CollectorNotOnRoll(String),
    #[error("clave {clave} is on the roll but not on the Lista Nominal ({status})")]
    CollectorNotCurrent { clave: String, status: String },
    #[error("the office's territory has no secciones on the roll snapshot")]
    EmptyTerritory,
    #[error("sección {0} is not on the process's roll snapshot")]
    UnknownSection(u16),
    #[error("the collection period ends before it starts")]
    PeriodReversed,
    #[error("the office belongs to another process")]
    OfficeOfAnotherProcess,
    #[error("the collector is deactivated")]
    CollectorInactive,
    #[error("a support needs exactly one image of each kind")]
    SupportImagesIncomplete,
    #[error("unknown or retired inconsistency code {0:?}")]
    UnknownInconsistency(String),
    #[error("support {0} is not in the review queue and was never reviewed")]
    NotInReviewQueue(i64),
    #[error("support {0} has not been verified against the roll yet")]
    NotVerified(i64),
    #[error("the hearing of the process is not open")]
    HearingClosed,
    #[error("support {0} is not rejected")]
    NotRejected(i64),
    #[error(
        "support {0} was rejected by the roll check, not by the review desk; granting cannot change it"
    )]
    RollRejectionNotGrantable(i64),
}

/// One problem in one row of a roll file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    pub column: &'static str,
    pub problem: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.problem
        )
    }
}

/// Why an import stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("a roll snapshot named {0:?} already exists; choose another --name")]
    NameTaken(String),
    #[error("line 1: {0}")]
    Header(String),
    #[error("the file has no rows after its header")]
    Empty,
    #[error("{} problem(s) found{}; nothing was imported", .errors.len(), if *.truncated { " (stopped counting)" } else { "" })]
    Rows {
        errors: Vec<RowError>,
        /// More problems exist than are listed.
        truncated: bool,
    },
    #[error("cannot read the roll file: {0}")]
    Io(#[source] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ImportError {
    fn from(error: sqlx::Error) -> Self {
        ImportError::Store(StoreError::Database(error))
    }
}
