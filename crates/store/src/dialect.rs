//! The few places where SQLite and PostgreSQL need different SQL. Everything else is
//! written once, with `$N` placeholders, and runs on both through sqlx's `Any` driver.

use sqlx::pool::PoolConnection;
use sqlx::{Any, Connection};

use crate::{Backend, Store, StoreError, Tx};

impl Store {
    /// The suffix of a `SELECT … LIMIT n` that picks rows to claim: on PostgreSQL rows
    /// another instance is claiming are skipped, not waited for; SQLite has one writer.
    pub(crate) fn skip_locked(&self) -> &'static str {
        match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// Serialises the writers of one process for the rest of `tx`. SQLite's
    /// `BEGIN IMMEDIATE` already holds the only write lock; on PostgreSQL several
    /// instances write at once, so work that reads and then rewrites a whole group
    /// (duplicate resolution, batch re-verification) takes a transaction-scoped advisory
    /// lock keyed by `(scope, id)`.
    pub(crate) async fn lock_for_transaction(
        &self,
        tx: &mut Tx<'_>,
        scope: LockScope,
        id: i64,
    ) -> Result<(), StoreError> {
        if self.backend() == Backend::Postgres {
            sqlx::query(
                "SELECT CAST(1 AS BIGINT) FROM (SELECT pg_advisory_xact_lock($1, $2)) AS l",
            )
            .bind(scope as i32)
            .bind(i32::try_from(id.rem_euclid(i64::from(i32::MAX))).unwrap_or_default())
            .execute(&mut **tx)
            .await
            .map_err(StoreError::Database)?;
        }
        Ok(())
    }
}

impl Store {
    /// A shared transaction lock on a process (PostgreSQL): single verifications hold it
    /// together; batch re-verification holds [`LockScope::Process`] exclusively.
    pub(crate) async fn lock_process_shared(
        &self,
        tx: &mut Tx<'_>,
        process_id: i64,
    ) -> Result<(), StoreError> {
        if self.backend() == Backend::Postgres {
            sqlx::query(
                "SELECT CAST(1 AS BIGINT) FROM (SELECT pg_advisory_xact_lock_shared($1, $2)) AS l",
            )
            .bind(LockScope::Process as i32)
            .bind(i32::try_from(process_id.rem_euclid(i64::from(i32::MAX))).unwrap_or_default())
            .execute(&mut **tx)
            .await
            .map_err(StoreError::Database)?;
        }
        Ok(())
    }
}

/// What an advisory lock protects (the first key of `pg_advisory_xact_lock`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub(crate) enum LockScope {
    /// The duplicate group of one citizen in one office (the id is a hash of both).
    DuplicateGroup = 1,
    /// Every support of a process (batch re-verification).
    Process = 2,
    /// The review queue of one aspirant (the id is the aspirant's), while it is topped up.
    ReviewQueue = 3,
}

/// A stable 31-bit key of a text (FNV-1a), for advisory locks on text identities.
pub(crate) fn lock_key(text: &str) -> i64 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in text.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    i64::from(hash & 0x7fff_ffff)
}

impl Store {
    /// A connection for commits that must be durable when they return, even across a
    /// power loss: on SQLite it commits with `synchronous = FULL` (the pool's default is
    /// NORMAL); PostgreSQL's commits are durable already (`synchronous_commit = on`).
    /// Give it back with [`release_durable`](Self::release_durable).
    pub(crate) async fn durable_connection(&self) -> Result<PoolConnection<Any>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(StoreError::Database)?;
        if self.backend() == Backend::Sqlite {
            sqlx::query("PRAGMA synchronous = FULL")
                .execute(&mut *conn)
                .await
                .map_err(StoreError::Database)?;
        }
        Ok(conn)
    }

    /// A write transaction on `conn` (see [`begin`](Self::begin)).
    pub(crate) async fn begin_on<'c>(
        &self,
        conn: &'c mut PoolConnection<Any>,
    ) -> Result<Tx<'c>, StoreError> {
        match self.backend() {
            Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => conn.begin().await,
        }
        .map_err(StoreError::Database)
    }

    /// Gives a [`durable_connection`](Self::durable_connection) back to the pool with the
    /// pool's settings, or closes it if they cannot be restored.
    pub(crate) async fn release_durable(&self, mut conn: PoolConnection<Any>) {
        if self.backend() == Backend::Sqlite
            && sqlx::query("PRAGMA synchronous = NORMAL")
                .execute(&mut *conn)
                .await
                .is_err()
        {
            // Never hand a connection in an unknown state back to the pool.
            conn.detach();
        }
    }
}

/// `SELECT <this>` aggregating `expression` of every row into one JSON array (text);
/// NULL when there are no rows on PostgreSQL, `[]` on SQLite (both read as empty).
pub(crate) fn json_aggregate(backend: Backend, expression: &str) -> String {
    match backend {
        Backend::Sqlite => format!("json_group_array({expression})"),
        Backend::Postgres => format!("CAST(json_agg({expression}) AS TEXT)"),
    }
}

/// [`json_aggregate`] of one JSON array per row, of `columns` (comma-separated).
pub(crate) fn json_rows_aggregate(backend: Backend, columns: &str) -> String {
    match backend {
        Backend::Sqlite => format!("json_group_array(json_array({columns}))"),
        Backend::Postgres => format!("CAST(json_agg(json_build_array({columns})) AS TEXT)"),
    }
}

/// A subquery listing the values of the JSON array bound at `parameter`, as `sql_type`
/// (for `x IN (…)`).
pub(crate) fn json_list(backend: Backend, parameter: &str, sql_type: &str) -> String {
    match backend {
        // SQLite's values keep their JSON types.
        Backend::Sqlite => format!("SELECT value FROM json_each({parameter})"),
        Backend::Postgres => format!(
            "SELECT CAST(value AS {sql_type}) FROM json_array_elements_text(CAST({parameter} AS json)) AS j(value)"
        ),
    }
}

/// A FROM item whose column `value` is each element of the JSON array bound at
/// `parameter` (read with `value ->> i`).
pub(crate) fn json_elements(backend: Backend, parameter: &str) -> String {
    match backend {
        Backend::Sqlite => format!("json_each({parameter})"),
        Backend::Postgres => {
            format!("json_array_elements(CAST({parameter} AS json)) AS j(value)")
        }
    }
}
