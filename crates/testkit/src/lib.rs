//! Test-only support shared by the integration suites: the storage backend a test
//! runs on (`#[backends]` runs each test once per backend) and fresh PostgreSQL
//! databases in the cluster `.ci/run` starts (`APOYO_TEST_POSTGRES_URL`).

#![allow(clippy::expect_used, clippy::unwrap_used)]

pub use apoyo_test_macros::backends;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestBackend {
    /// The embedded default: SQLite and blobs in the temporary data directory.
    Sqlite,
    /// A fresh database in the cluster of `APOYO_TEST_POSTGRES_URL`, and blobs in the S3
    /// bucket of `APOYO_TEST_S3_URL` when one is given (both started by .ci/run).
    Postgres,
}

tokio::task_local! {
    static BACKEND: TestBackend;
}

/// The backend of the running test (SQLite outside `#[backends]`).
pub fn backend() -> TestBackend {
    BACKEND.try_with(|b| *b).unwrap_or(TestBackend::Sqlite)
}

/// Whether .ci/run said the services must be there (`APOYO_TEST_SERVICES=required`):
/// then a missing one fails the test instead of skipping it.
pub fn services_required() -> bool {
    std::env::var("APOYO_TEST_SERVICES").is_ok_and(|v| v == "required")
}

/// Runs a test body on `backend`; on PostgreSQL without `APOYO_TEST_POSTGRES_URL` the
/// test is skipped with a message (or fails, when the services are required).
pub async fn on_backend(backend: TestBackend, body: impl std::future::Future<Output = ()>) {
    if backend == TestBackend::Postgres && std::env::var("APOYO_TEST_POSTGRES_URL").is_err() {
        assert!(
            !services_required(),
            "APOYO_TEST_SERVICES=required but APOYO_TEST_POSTGRES_URL is not set: run `eval \"$(.ci/postgres.sh start)\"` first"
        );
        eprintln!(
            "skipped on PostgreSQL: APOYO_TEST_POSTGRES_URL is not set (.ci/run starts a server)"
        );
        return;
    }
    BACKEND.scope(backend, body).await;
}

/// A new, empty database in the test cluster; its URL.
pub async fn fresh_postgres_database() -> String {
    let admin_url = std::env::var("APOYO_TEST_POSTGRES_URL").expect("APOYO_TEST_POSTGRES_URL");
    let name = format!("apoyo_test_{}", uuid::Uuid::now_v7().simple());
    let admin = sqlx::PgPool::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {admin_url}: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    match admin_url.rfind('/') {
        Some(slash) if slash > admin_url.find("://").map_or(0, |i| i + 2) => {
            let (base, rest) = admin_url.split_at(slash);
            let query = rest.find('?').map_or("", |q| &rest[q..]);
            format!("{base}/{name}{query}")
        }
        _ => format!("{admin_url}/{name}"),
    }
}

/// The database URL of a fresh store on the current backend: `None` (SQLite in the
/// test's data directory) or a new PostgreSQL database.
pub async fn fresh_database_url() -> Option<String> {
    match backend() {
        TestBackend::Sqlite => None,
        TestBackend::Postgres => Some(fresh_postgres_database().await),
    }
}
