//! The SQLite and PostgreSQL migrations describe the same schema: the same tables,
//! columns (type class, NOT NULL, default), primary keys, unique constraints, indexes,
//! foreign keys and triggers. A migration added to one directory without its twin in
//! the other fails here, with the difference spelled out.
//!
//! Needs the test PostgreSQL (`APOYO_TEST_POSTGRES_URL`, started by .ci/run): skipped
//! without it, failed instead when `APOYO_TEST_SERVICES=required`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use apoyo_testkit::{TestBackend, fresh_postgres_database, on_backend};
use sqlx::{AssertSqlSafe, Row};

/// What a schema is made of, in comparable form.
#[derive(Debug, Default, PartialEq, Eq)]
struct Schema {
    /// table → column → (type class, not null, has default)
    columns: BTreeMap<String, BTreeMap<String, (String, bool, bool)>>,
    /// table → primary key columns
    primary_keys: BTreeMap<String, Vec<String>>,
    /// (table, unique, columns, partial) of every index, named or implied by a
    /// constraint (names of implied indexes differ between the two databases).
    indexes: BTreeSet<(String, bool, Vec<String>, bool)>,
    /// Names of the indexes created by name in the migrations.
    index_names: BTreeSet<String>,
    /// (table, column, referenced table, referenced column)
    foreign_keys: BTreeSet<(String, String, String, String)>,
    /// (table, trigger name)
    triggers: BTreeSet<(String, String)>,
}

fn type_class(declared: &str) -> String {
    let t = declared.to_ascii_lowercase();
    if t.contains("int") {
        "integer"
    } else if t.contains("char") || t.contains("text") {
        "text"
    } else if t.contains("real") || t.contains("double") || t.contains("float") {
        "real"
    } else if t.contains("blob") || t.contains("bytea") {
        "blob"
    } else {
        return format!("other({t})");
    }
    .to_owned()
}

async fn sqlite_schema() -> Schema {
    let dir = tempfile::tempdir().unwrap();
    let pool = sqlx::SqlitePool::connect_with(
        sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.path().join("drift.sqlite3"))
            .create_if_missing(true),
    )
    .await
    .unwrap();
    sqlx::migrate!("./migrations/sqlite")
        .run(&pool)
        .await
        .unwrap();
    let mut schema = Schema::default();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    for table in tables {
        let columns = sqlx::query(AssertSqlSafe(format!("PRAGMA table_info({table})")))
            .fetch_all(&pool)
            .await
            .unwrap();
        let mut primary: Vec<(i64, String)> = Vec::new();
        let mut primary_is_rowid: Option<String> = None;
        for c in &columns {
            let name: String = c.get("name");
            let declared: String = c.get("type");
            let pk: i64 = c.get("pk");
            let default: Option<String> = c.get("dflt_value");
            // A single INTEGER PRIMARY KEY is the rowid: NOT NULL with a generated value,
            // as an identity column is on PostgreSQL.
            let rowid = pk == 1
                && declared.eq_ignore_ascii_case("INTEGER")
                && columns.iter().filter(|c| c.get::<i64, _>("pk") > 0).count() == 1;
            if rowid && default.is_none() {
                primary_is_rowid = Some(name.clone());
            }
            let not_null = c.get::<i64, _>("notnull") == 1 || pk > 0;
            schema.columns.entry(table.clone()).or_default().insert(
                name.clone(),
                (type_class(&declared), not_null, default.is_some() || rowid),
            );
            if pk > 0 {
                primary.push((pk, name));
            }
        }
        primary.sort();
        schema
            .primary_keys
            .insert(table.clone(), primary.into_iter().map(|(_, n)| n).collect());

        let indexes = sqlx::query(AssertSqlSafe(format!("PRAGMA index_list({table})")))
            .fetch_all(&pool)
            .await
            .unwrap();
        for index in indexes {
            let name: String = index.get("name");
            let origin: String = index.get("origin");
            if origin == "pk" {
                continue;
            }
            let unique = index.get::<i64, _>("unique") == 1;
            let partial = index.get::<i64, _>("partial") == 1;
            let columns: Vec<String> =
                sqlx::query(AssertSqlSafe(format!("PRAGMA index_info({name})")))
                    .fetch_all(&pool)
                    .await
                    .unwrap()
                    .iter()
                    .map(|c| c.get::<String, _>("name"))
                    .collect();
            schema
                .indexes
                .insert((table.clone(), unique, columns, partial));
            if origin == "c" {
                schema.index_names.insert(name);
            }
        }
        for fk in sqlx::query(AssertSqlSafe(format!("PRAGMA foreign_key_list({table})")))
            .fetch_all(&pool)
            .await
            .unwrap()
        {
            let from: String = fk.get("from");
            // A rowid that is also a foreign key is always given, never generated (a
            // plain BIGINT key on PostgreSQL).
            if let Some(column) = schema
                .columns
                .get_mut(&table)
                .and_then(|columns| columns.get_mut(&from))
                .filter(|_| primary_is_rowid.as_deref() == Some(from.as_str()))
            {
                column.2 = false;
            }
            schema.foreign_keys.insert((
                table.clone(),
                from,
                fk.get("table"),
                fk.get::<Option<String>, _>("to")
                    .unwrap_or_else(|| "id".into()),
            ));
        }
    }
    for row in sqlx::query("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
        .fetch_all(&pool)
        .await
        .unwrap()
    {
        schema.triggers.insert((row.get(0), row.get(1)));
    }
    pool.close().await;
    schema
}

async fn postgres_schema(url: &str) -> Schema {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    sqlx::migrate!("./migrations/postgres")
        .run(&pool)
        .await
        .unwrap();
    let mut schema = Schema::default();
    for row in sqlx::query(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text, \
         column_default IS NOT NULL OR is_identity = 'YES' \
         FROM information_schema.columns WHERE table_schema = 'public' \
         AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    {
        let table: String = row.get(0);
        let declared: String = row.get(2);
        schema.columns.entry(table).or_default().insert(
            row.get(1),
            (
                type_class(&declared),
                row.get::<String, _>(3) == "NO",
                row.get::<bool, _>(4),
            ),
        );
    }
    // Every index with its columns in order; constraint-backed ones are the PRIMARY
    // KEY (kept apart) and UNIQUE constraints.
    for row in sqlx::query(
        "SELECT t.relname::text, i.relname::text, x.indisunique, x.indisprimary, \
         x.indpred IS NOT NULL, \
         ARRAY(SELECT a.attname::text FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n) \
               JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n), \
         EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) \
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = 'public' AND t.relname <> '_sqlx_migrations'",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    {
        let table: String = row.get(0);
        let name: String = row.get(1);
        let columns: Vec<String> = row.get(5);
        if row.get::<bool, _>(3) {
            schema.primary_keys.insert(table, columns);
            continue;
        }
        schema
            .indexes
            .insert((table, row.get(2), columns, row.get(4)));
        if !row.get::<bool, _>(6) {
            schema.index_names.insert(name);
        }
    }
    for table in schema.columns.keys().cloned().collect::<Vec<_>>() {
        schema.primary_keys.entry(table).or_default();
    }
    for row in sqlx::query(
        "SELECT cl.relname::text, a.attname::text, rt.relname::text, ra.attname::text \
         FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid \
         JOIN pg_namespace n ON n.oid = cl.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
         JOIN pg_class rt ON rt.oid = c.confrelid \
         JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1] \
         WHERE c.contype = 'f' AND n.nspname = 'public'",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    {
        schema
            .foreign_keys
            .insert((row.get(0), row.get(1), row.get(2), row.get(3)));
    }
    for row in sqlx::query(
        "SELECT event_object_table::text, trigger_name::text FROM information_schema.triggers \
         WHERE trigger_schema = 'public'",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    {
        schema.triggers.insert((row.get(0), row.get(1)));
    }
    pool.close().await;
    schema
}

/// The differences, one per line, naming which side has what.
fn differences(sqlite: &Schema, postgres: &Schema) -> Vec<String> {
    fn sets<T: Ord + std::fmt::Debug + Clone>(
        what: &str,
        a: &BTreeSet<T>,
        b: &BTreeSet<T>,
        out: &mut Vec<String>,
    ) {
        for x in a.difference(b) {
            out.push(format!("{what} only on SQLite: {x:?}"));
        }
        for x in b.difference(a) {
            out.push(format!("{what} only on PostgreSQL: {x:?}"));
        }
    }
    let mut out = Vec::new();
    let flat = |s: &Schema| -> BTreeSet<(String, String, (String, bool, bool))> {
        s.columns
            .iter()
            .flat_map(|(t, cols)| {
                cols.iter()
                    .map(move |(c, d)| (t.clone(), c.clone(), d.clone()))
            })
            .collect()
    };
    sets(
        "column (table, name, (type, not null, default))",
        &flat(sqlite),
        &flat(postgres),
        &mut out,
    );
    let pks = |s: &Schema| -> BTreeSet<(String, Vec<String>)> {
        s.primary_keys
            .iter()
            .map(|(t, c)| (t.clone(), c.clone()))
            .collect()
    };
    sets("primary key", &pks(sqlite), &pks(postgres), &mut out);
    sets(
        "index (table, unique, columns, partial)",
        &sqlite.indexes,
        &postgres.indexes,
        &mut out,
    );
    sets(
        "named index",
        &sqlite.index_names,
        &postgres.index_names,
        &mut out,
    );
    sets(
        "foreign key",
        &sqlite.foreign_keys,
        &postgres.foreign_keys,
        &mut out,
    );
    sets("trigger", &sqlite.triggers, &postgres.triggers, &mut out);
    out
}

#[tokio::test]
async fn sqlite_and_postgresql_migrations_give_the_same_schema() {
    on_backend(TestBackend::Postgres, async {
        let sqlite = sqlite_schema().await;
        let postgres = postgres_schema(&fresh_postgres_database().await).await;
        assert!(sqlite.columns.len() > 15, "{:?}", sqlite.columns.keys());
        let found = differences(&sqlite, &postgres);
        assert!(
            found.is_empty(),
            "the schemas drifted; add the twin migration (migrations/sqlite and migrations/postgres):\n{}",
            found.join("\n")
        );
    })
    .await;
}

#[test]
fn a_drift_is_reported_by_name() {
    let mut a = Schema::default();
    a.columns
        .entry("supports".into())
        .or_default()
        .insert("roll_key".into(), ("text".into(), false, false));
    a.triggers
        .insert(("supports".into(), "supports_progress_insert".into()));
    let b = Schema::default();
    let found = differences(&a, &b).join("\n");
    assert!(
        found.contains("only on SQLite") && found.contains("roll_key"),
        "{found}"
    );
    assert!(found.contains("supports_progress_insert"), "{found}");
}
