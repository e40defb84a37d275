//! The per-snapshot records table: its name, its shape and its indexes.

/// The table of one snapshot's records. The id is an integer the store assigned, so
/// formatting it into SQL cannot inject anything.
pub(crate) fn records_table(snapshot_id: i64) -> String {
    format!("roll_records_{snapshot_id}")
}

/// PostgreSQL gets BIGINT columns: the typed and `Any` readers decode them as `i64`.
pub(crate) fn create_table_sql(snapshot_id: i64, backend: crate::Backend) -> String {
    let sql = format!(
        "CREATE TABLE {} (
            line INTEGER PRIMARY KEY,
            clave_elector TEXT NOT NULL,
            curp TEXT,
            given_names TEXT NOT NULL,
            paternal_surname TEXT NOT NULL,
            maternal_surname TEXT NOT NULL,
            sex TEXT NOT NULL,
            birth_date TEXT NOT NULL,
            state INTEGER NOT NULL,
            municipality INTEGER NOT NULL,
            section INTEGER NOT NULL,
            model TEXT NOT NULL,
            cic TEXT,
            ocr TEXT,
            citizen_id TEXT,
            issue_number INTEGER NOT NULL,
            expiry_year INTEGER NOT NULL,
            status TEXT NOT NULL,
            removal_cause TEXT
        )",
        records_table(snapshot_id)
    );
    match backend {
        crate::Backend::Sqlite => sql,
        crate::Backend::Postgres => sql.replace("INTEGER", "BIGINT"),
    }
}

/// The lookups verification needs, each also a rule of the file (docs/roll-format.md):
/// models D–H by CIC (one credential per CIC); models A–C by clave + emisión, whose
/// prefix is also the citizen's identity for duplicates; one current credential per citizen.
pub(crate) fn index_sql(snapshot_id: i64) -> [(&'static str, String); 3] {
    let table = records_table(snapshot_id);
    [
        (
            "cic",
            format!("CREATE UNIQUE INDEX {table}_cic ON {table} (cic) WHERE cic IS NOT NULL"),
        ),
        (
            "clave_issue",
            format!(
                "CREATE UNIQUE INDEX {table}_clave_issue ON {table} (clave_elector, issue_number)"
            ),
        ),
        (
            "current",
            format!(
                "CREATE UNIQUE INDEX {table}_current ON {table} (clave_elector) WHERE status <> 'reemplazada'"
            ),
        ),
    ]
}
