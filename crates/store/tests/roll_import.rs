//! Roll import against a real store (SQLite file, and a fresh PostgreSQL database when
//! the test cluster is configured): good files, every kind of bad file, atomicity.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use apoyo_testkit::backends;

use std::io::Cursor;

use apoyo_domain::Date;
use apoyo_domain::roll::COLUMNS;
use apoyo_store::{ImportError, ImportOptions, MAX_REPORTED_ROW_ERRORS, Store};

fn cut() -> Date {
    Date::new(2026, 8, 31).unwrap()
}

fn options(name: &str) -> ImportOptions {
    ImportOptions {
        name: name.into(),
        cut_date: cut(),
        activate: true,
    }
}

/// A valid row for citizen `i` (distinct clave, CIC and identificador per `i`).
fn row(i: u32, municipality: u32, section: u32, emision: u32, status: &str, cause: &str) -> String {
    let birth = Date::from_days_since_epoch(
        Date::new(1960, 1, 1).unwrap().days_since_epoch() + i64::from(i / 1000),
    );
    let id = format!("{:09}", 100_000_000 + i * 10 + emision);
    format!(
        "PRLPGD{}10M{:03},,MARIA,PEREZ,LOPEZ,M,{birth},10,{municipality},{section},H,{:09},{section:04}{id},{id},{emision:02},2031,{status},{cause}",
        birth.to_yymmdd(),
        i % 1000,
        200_000_000 + i * 10 + emision,
    )
}

fn file(rows: &[String]) -> String {
    let mut text = COLUMNS.join(",");
    text.push('\n');
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    text
}

fn good_rows(n: u32) -> Vec<String> {
    (0..n)
        .map(|i| {
            row(
                i,
                1 + i % 3,
                100 + i % 7 * 3 + i % 3,
                1,
                "lista_nominal",
                "",
            )
        })
        .collect()
}

async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        apoyo_testkit::fresh_database_url().await.as_deref(),
        dir.path(),
    )
    .await
    .unwrap();
    (dir, store)
}

async fn import(
    store: &Store,
    text: String,
    name: &str,
) -> Result<apoyo_store::ImportReport, ImportError> {
    store
        .import_roll(Cursor::new(text.into_bytes()), options(name), |_| {})
        .await
}

fn row_errors(result: Result<apoyo_store::ImportReport, ImportError>) -> Vec<String> {
    match result {
        Err(ImportError::Rows { errors, .. }) => errors.iter().map(ToString::to_string).collect(),
        other => panic!("expected row errors, got {other:?}"),
    }
}

#[backends]
async fn imports_a_good_file_with_counts_per_section_and_municipality() {
    let (_dir, store) = store().await;
    let mut rows = good_rows(300);
    rows.push(row(300, 1, 100, 1, "padron", ""));
    rows.push(row(301, 2, 101, 1, "baja", "defuncion"));
    rows.push(row(302, 3, 102, 2, "lista_nominal", ""));
    // An earlier credential of citizen 302.
    rows.push(row(302, 3, 102, 1, "reemplazada", ""));
    let report = import(&store, file(&rows), "corte-1").await.unwrap();
    assert_eq!(report.rows, 304);
    assert_eq!(report.sha256.len(), 64);

    let detail = store.roll_snapshot_detail("corte-1").await.unwrap();
    assert!(detail.summary.active);
    assert_eq!(detail.totals.lista_nominal, 301);
    assert_eq!(detail.totals.padron, 1);
    assert_eq!(detail.totals.baja, 1);
    assert_eq!(detail.totals.reemplazada, 1);
    assert_eq!(detail.municipalities.len(), 3);
    assert_eq!(
        detail
            .municipalities
            .iter()
            .map(|m| m.counts.total())
            .sum::<i64>(),
        304
    );
    assert_eq!(detail.municipalities[0].municipality, 1);
}

#[backends]
async fn a_second_snapshot_becomes_active_and_both_are_kept() {
    let (_dir, store) = store().await;
    import(&store, file(&good_rows(10)), "a").await.unwrap();
    import(&store, file(&good_rows(12)), "b").await.unwrap();
    let list = store.list_roll_snapshots().await.unwrap();
    assert_eq!(
        list.iter()
            .map(|s| (s.name.as_str(), s.active, s.row_count))
            .collect::<Vec<_>>(),
        [("b", true, 12), ("a", false, 10)]
    );
    let keep = ImportOptions {
        activate: false,
        ..options("c")
    };
    store
        .import_roll(Cursor::new(file(&good_rows(5)).into_bytes()), keep, |_| {})
        .await
        .unwrap();
    assert_eq!(
        store.active_roll_snapshot().await.unwrap().map(|s| s.name),
        Some("b".into())
    );
    assert!(matches!(
        import(&store, file(&good_rows(5)), "b").await,
        Err(ImportError::NameTaken(_))
    ));
}

#[backends]
async fn bad_rows_are_reported_by_line_and_column_and_nothing_is_stored() {
    let (_dir, store) = store().await;
    import(&store, file(&good_rows(5)), "before").await.unwrap();
    let before = store.list_roll_snapshots().await.unwrap();

    let mut rows = good_rows(20);
    rows[3] = rows[3].replace(",M,", ",X,");
    rows[7] = rows[7].replace("PRLPGD", "PRLPG1");
    rows[11] = rows[11].replace(",lista_nominal,", ",baja,");
    rows[15] = rows[15].replacen(",10,", ",33,", 1);
    let errors = row_errors(import(&store, file(&rows), "after").await);
    assert_eq!(errors.len(), 4, "{errors:#?}");
    assert!(
        errors[0].starts_with("line 5, column sexo: expected H or M"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].starts_with("line 9, column clave_elector: invalid clave"),
        "{}",
        errors[1]
    );
    assert!(
        errors[2].starts_with("line 13, column causa_baja: required"),
        "{}",
        errors[2]
    );
    assert!(
        errors[3].starts_with("line 17, column entidad:"),
        "{}",
        errors[3]
    );

    assert_eq!(store.list_roll_snapshots().await.unwrap(), before);
}

#[backends]
async fn a_credential_twice_is_refused_with_both_lines() {
    let (_dir, store) = store().await;
    let mut rows = good_rows(10);
    rows.push(rows[2].clone());
    let errors = row_errors(import(&store, file(&rows), "dup").await);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].starts_with("line 12, column cic: credential with CIC"),
        "{}",
        errors[0]
    );
    assert!(errors[0].ends_with("(first at line 4)"), "{}", errors[0]);

    // Same clave and emisión with another CIC.
    let mut rows = good_rows(10);
    let twin = rows[4]
        .replace(",2000000", ",2999999")
        .replace("1000000", "1999999");
    rows.push(twin);
    let errors = row_errors(import(&store, file(&rows), "dup2").await);
    assert!(
        errors[0].contains("column emision") && errors[0].contains("first at line 6"),
        "{errors:#?}"
    );

    // Two current credentials for one citizen.
    let mut rows = good_rows(10);
    rows.push(row(4, 2, 101, 2, "lista_nominal", ""));
    let errors = row_errors(import(&store, file(&rows), "dup3").await);
    assert!(
        errors[0].contains("column situacion") && errors[0].contains("two current credentials"),
        "{errors:#?}"
    );
    assert!(store.list_roll_snapshots().await.unwrap().is_empty());
}

#[backends]
async fn superseded_credentials_need_a_newer_current_one() {
    let (_dir, store) = store().await;
    let mut rows = good_rows(3);
    rows.push(row(1, 2, 101, 3, "reemplazada", ""));
    rows.push(row(50, 2, 101, 1, "reemplazada", ""));
    let errors = row_errors(import(&store, file(&rows), "s").await);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors[0].starts_with("line 5, column situacion") && errors[0].contains("not lower"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].starts_with("line 6, column situacion")
            && errors[1].contains("no current credential"),
        "{}",
        errors[1]
    );
}

#[backends]
async fn malformed_files_fail_clearly() {
    let (_dir, store) = store().await;
    // Wrong header.
    let text = file(&good_rows(2)).replacen("nombre", "name", 1);
    let error = import(&store, text, "h").await.unwrap_err().to_string();
    assert!(
        error.starts_with("line 1: expected the header")
            && error.contains("column 3 should be \"nombre\" but is \"name\""),
        "{error}"
    );
    // Empty, and header only.
    assert!(matches!(
        import(&store, String::new(), "e").await,
        Err(ImportError::Header(_))
    ));
    assert!(matches!(
        import(&store, file(&[]), "e").await,
        Err(ImportError::Empty)
    ));
    // Invalid UTF-8 in a value.
    let mut bytes = file(&good_rows(3)).into_bytes();
    let at = bytes.windows(5).rposition(|w| w == b"MARIA").unwrap();
    bytes[at + 1] = 0xC3;
    bytes[at + 2] = 0x28;
    let result = store
        .import_roll(Cursor::new(bytes), options("u"), |_| {})
        .await;
    let errors = row_errors(result);
    assert!(
        errors[0].starts_with("line 4, column nombre: not valid UTF-8"),
        "{errors:#?}"
    );
    // A truncated last line.
    let mut text = file(&good_rows(4));
    text.truncate(text.len() - 25);
    let errors = row_errors(import(&store, text, "t").await);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].starts_with("line 5, column") && errors[0].contains("truncated"),
        "{errors:#?}"
    );
    assert!(store.list_roll_snapshots().await.unwrap().is_empty());
}

#[backends]
async fn tolerates_bom_crlf_quotes_and_blank_lines() {
    let (_dir, store) = store().await;
    let rows = good_rows(3);
    let quoted = rows[1]
        .split(',')
        .map(|f| format!("\"{f}\""))
        .collect::<Vec<_>>()
        .join(",");
    let text = format!(
        "\u{feff}{}\r\n{}\r\n{}\r\n\r\n{}",
        COLUMNS.join(","),
        rows[0],
        quoted,
        rows[2]
    );
    let report = import(&store, text, "bom").await.unwrap();
    assert_eq!(report.rows, 3);
}

#[backends]
async fn stops_after_the_error_limit() {
    let (_dir, store) = store().await;
    let rows: Vec<String> = good_rows(400)
        .into_iter()
        .map(|r| r.replace(",M,", ",Q,"))
        .collect();
    match import(&store, file(&rows), "many").await {
        Err(ImportError::Rows { errors, truncated }) => {
            assert_eq!(errors.len(), MAX_REPORTED_ROW_ERRORS);
            assert!(truncated);
            assert_eq!(errors[0].line, 2);
        }
        other => panic!("{other:?}"),
    }
}

#[backends]
async fn a_section_in_two_municipalities_is_refused() {
    let (_dir, store) = store().await;
    let mut rows = good_rows(5);
    rows.push(row(90, 9, 100, 1, "lista_nominal", ""));
    let errors = row_errors(import(&store, file(&rows), "m").await);
    assert!(
        errors[0].starts_with(
            "line 7, column municipio: sección 100 of entidad 10 belongs to municipio"
        ),
        "{errors:#?}"
    );
}
