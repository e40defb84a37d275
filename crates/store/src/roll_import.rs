//! Streaming, validated, atomic import of a roll file (docs/roll-format.md).
//!
//! A blocking thread reads and validates the CSV while the async side inserts
//! batches into one transaction, so parsing and SQLite work overlap on two cores
//! and memory stays bounded by the batch size and the number of secciones.

use std::collections::HashMap;
use std::io::Read;
use std::time::{Duration, Instant};

use apoyo_domain::Date;
use apoyo_domain::roll::{COLUMNS, RollRecord, RollStatus, parse_row};
use sha2::{Digest, Sha256};
use sqlx::error::ErrorKind;
use sqlx::{AssertSqlSafe, Postgres, Sqlite, Transaction};
use tokio::sync::mpsc;

use crate::error::{ImportError, RowError};
use crate::roll_table::{create_table_sql, index_sql, records_table};
use crate::{Native, Store};

/// The import's transaction, on the store's typed pool: SQLite inserts rows with
/// multi-row `INSERT`s, PostgreSQL streams them with `COPY`; the rest is shared SQL.
enum ImportTx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$t` bound to the typed transaction, whichever it is.
macro_rules! on_tx {
    ($tx:expr, $t:ident => $body:expr) => {
        match $tx {
            ImportTx::Sqlite($t) => $body,
            ImportTx::Postgres($t) => $body,
        }
    };
}

/// The import stops reading after this many problems and lists them.
pub const MAX_REPORTED_ROW_ERRORS: usize = 100;
/// Rows per INSERT statement (19 parameters each, well under SQLite's 32,766).
const ROWS_PER_STATEMENT: usize = 500;
/// Rows per message from the parser thread.
const ROWS_PER_BATCH: usize = 5_000;

#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Unique name of the snapshot.
    pub name: String,
    /// Fecha de corte.
    pub cut_date: Date,
    /// Make the new snapshot the active one on success.
    pub activate: bool,
}

#[derive(Clone, Debug)]
pub struct ImportReport {
    pub snapshot_id: i64,
    pub name: String,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
    pub elapsed: Duration,
}

/// Rows of one sección, tallied while reading.
#[derive(Clone, Copy, Debug)]
struct SectionTally {
    municipality: u16,
    first_line: u64,
    counts: [i64; 4],
}

type SectionKey = (u8, u16);

struct Parsed {
    rows: Vec<(u64, RollRecord)>,
    errors: Vec<RowError>,
}

struct FileSummary {
    rows: u64,
    bytes: u64,
    sha256: String,
    sections: HashMap<SectionKey, SectionTally>,
}

/// Hashes and counts the bytes as the CSV reader pulls them.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

fn status_index(status: RollStatus) -> usize {
    match status {
        RollStatus::ListaNominal => 0,
        RollStatus::Padron => 1,
        RollStatus::Baja => 2,
        RollStatus::Reemplazada => 3,
    }
}

fn check_header(header: &csv::ByteRecord) -> Result<(), ImportError> {
    let expected = COLUMNS.join(",");
    if header.is_empty() {
        return Err(ImportError::Header(format!(
            "the file is empty; expected the header {expected}"
        )));
    }
    let fields: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let f = if i == 0 {
                f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f)
            } else {
                f
            };
            String::from_utf8_lossy(f).trim().to_owned()
        })
        .collect();
    if fields
        .iter()
        .map(String::as_str)
        .eq(COLUMNS.iter().copied())
    {
        return Ok(());
    }
    let difference = (0..fields.len().max(COLUMNS.len()))
        .find(|i| fields.get(*i).map(String::as_str) != COLUMNS.get(*i).copied())
        .unwrap_or(0);
    Err(ImportError::Header(format!(
        "expected the header {expected}; column {} should be {:?} but is {:?}",
        difference + 1,
        COLUMNS.get(difference).copied().unwrap_or("(nothing)"),
        fields
            .get(difference)
            .map(String::as_str)
            .unwrap_or("(nothing)"),
    )))
}

/// Reads and validates the whole file, sending valid rows and row problems in batches.
fn parse_file<R: Read>(
    source: R,
    sender: &mpsc::Sender<Parsed>,
) -> Result<FileSummary, ImportError> {
    let hashing = HashingReader {
        inner: source,
        hasher: Sha256::new(),
        bytes: 0,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(hashing);
    let mut record = csv::ByteRecord::new();
    let has_header = reader.read_byte_record(&mut record).map_err(csv_error)?;
    if !has_header {
        record.clear();
    }
    check_header(&record)?;

    let mut sections: HashMap<SectionKey, SectionTally> = HashMap::new();
    let mut batch = Parsed {
        rows: Vec::with_capacity(ROWS_PER_BATCH),
        errors: Vec::new(),
    };
    let mut rows = 0u64;
    let mut error_count = 0usize;
    while reader.read_byte_record(&mut record).map_err(csv_error)? {
        let line = record.position().map_or(0, csv::Position::line);
        // A blank line is not a row.
        if record.len() == 1
            && record
                .get(0)
                .is_some_and(|f| f.iter().all(u8::is_ascii_whitespace))
        {
            continue;
        }
        rows += 1;
        let mut fields: Vec<&str> = Vec::with_capacity(COLUMNS.len());
        let mut utf8_problem = None;
        for (i, field) in record.iter().enumerate() {
            match std::str::from_utf8(field) {
                Ok(text) => fields.push(text),
                Err(e) => {
                    utf8_problem = Some(RowError {
                        line,
                        column: COLUMNS.get(i).copied().unwrap_or("(extra column)"),
                        problem: format!(
                            "not valid UTF-8 text (bad byte at position {} of the value); save the file as UTF-8",
                            e.valid_up_to() + 1
                        ),
                    });
                    break;
                }
            }
        }
        let outcome = match utf8_problem {
            Some(problem) => Err(vec![problem]),
            None => parse_row(&fields).map_err(|errors| {
                errors
                    .into_iter()
                    .map(|e| RowError {
                        line,
                        column: e.column,
                        problem: e.problem,
                    })
                    .collect()
            }),
        };
        match outcome {
            Ok(parsed) => {
                let key = (parsed.state, parsed.section);
                let tally = sections.entry(key).or_insert(SectionTally {
                    municipality: parsed.municipality,
                    first_line: line,
                    counts: [0; 4],
                });
                if tally.municipality != parsed.municipality {
                    error_count += 1;
                    batch.errors.push(RowError {
                        line,
                        column: "municipio",
                        problem: format!(
                            "sección {} of entidad {} belongs to municipio {} (line {}), not {}",
                            parsed.section,
                            parsed.state,
                            tally.municipality,
                            tally.first_line,
                            parsed.municipality
                        ),
                    });
                } else {
                    tally.counts[status_index(parsed.status)] += 1;
                    batch.rows.push((line, parsed));
                }
            }
            Err(errors) => {
                error_count += errors.len();
                batch.errors.extend(errors);
            }
        }
        if batch.rows.len() >= ROWS_PER_BATCH || error_count > MAX_REPORTED_ROW_ERRORS {
            let full = std::mem::replace(
                &mut batch,
                Parsed {
                    rows: Vec::with_capacity(ROWS_PER_BATCH),
                    errors: Vec::new(),
                },
            );
            if sender.blocking_send(full).is_err() || error_count > MAX_REPORTED_ROW_ERRORS {
                // The importer stopped listening (it has enough problems to report).
                break;
            }
        }
    }
    if !batch.rows.is_empty() || !batch.errors.is_empty() {
        // A closed channel only means the importer already stopped.
        let _ = sender.blocking_send(batch);
    }
    let hashing = reader.into_inner();
    Ok(FileSummary {
        rows,
        bytes: hashing.bytes,
        sha256: format!("{:x}", hashing.hasher.finalize()),
        sections,
    })
}

fn csv_error(error: csv::Error) -> ImportError {
    match error.into_kind() {
        csv::ErrorKind::Io(e) => ImportError::Io(e),
        other => ImportError::Io(std::io::Error::other(format!("{other:?}"))),
    }
}

/// `INSERT INTO <table> VALUES (…),(…)` for `rows` rows of the nineteen columns.
/// Many rows per statement: the driver's cost is per statement, SQLite's per row.
fn insert_sql(snapshot_id: i64, rows: usize) -> String {
    const ROW: &str = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    let mut sql = format!("INSERT INTO {} VALUES ", records_table(snapshot_id));
    sql.reserve(rows * (ROW.len() + 1));
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(ROW);
    }
    sql
}

async fn insert_rows(
    tx: &mut Transaction<'static, Sqlite>,
    sql: String,
    rows: &[(u64, RollRecord)],
) -> Result<(), sqlx::Error> {
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for (line, r) in rows {
        query = query
            .bind(*line as i64)
            .bind(r.clave_elector.as_str())
            .bind(r.curp.as_deref())
            .bind(r.given_names.as_str())
            .bind(r.paternal_surname.as_str())
            .bind(r.maternal_surname.as_str())
            .bind(match r.sex {
                apoyo_domain::Sex::H => "H",
                apoyo_domain::Sex::M => "M",
            })
            .bind(r.birth_date.to_string())
            .bind(i64::from(r.state))
            .bind(i64::from(r.municipality))
            .bind(i64::from(r.section))
            .bind(r.model.to_string())
            .bind(r.cic.as_deref())
            .bind(r.ocr.as_deref())
            .bind(r.citizen_id.as_deref())
            .bind(i64::from(r.issue_number))
            .bind(i64::from(r.expiry_year))
            .bind(r.status.code())
            .bind(r.removal_cause.map(|c| c.code()));
    }
    query.execute(&mut **tx).await.map(|_| ())
}

/// One CSV field for `COPY … (FORMAT csv)`: empty unquoted is NULL, everything else quoted.
fn push_csv_field(out: &mut String, value: Option<&str>) {
    if let Some(value) = value {
        out.push('"');
        for c in value.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
        out.push('"');
    }
}

/// Streams rows into the snapshot table with `COPY` (PostgreSQL's bulk path).
async fn copy_rows(
    tx: &mut Transaction<'static, Postgres>,
    snapshot_id: i64,
    rows: &[(u64, RollRecord)],
) -> Result<(), sqlx::Error> {
    let mut data = String::with_capacity(rows.len() * 160);
    for (line, r) in rows {
        let numbers = [
            i64::from(r.state),
            i64::from(r.municipality),
            i64::from(r.section),
        ];
        data.push_str(&line.to_string());
        for value in [
            Some(r.clave_elector.as_str()),
            r.curp.as_deref(),
            Some(r.given_names.as_str()),
            Some(r.paternal_surname.as_str()),
            Some(r.maternal_surname.as_str()),
            Some(match r.sex {
                apoyo_domain::Sex::H => "H",
                apoyo_domain::Sex::M => "M",
            }),
            Some(&r.birth_date.to_string()),
        ] {
            data.push(',');
            push_csv_field(&mut data, value);
        }
        for number in numbers {
            data.push(',');
            data.push_str(&number.to_string());
        }
        for value in [
            Some(r.model.to_string().as_str()),
            r.cic.as_deref(),
            r.ocr.as_deref(),
            r.citizen_id.as_deref(),
        ] {
            data.push(',');
            push_csv_field(&mut data, value);
        }
        data.push_str(&format!(",{},{},", r.issue_number, r.expiry_year));
        push_csv_field(&mut data, Some(r.status.code()));
        data.push(',');
        push_csv_field(&mut data, r.removal_cause.map(|c| c.code()));
        data.push('\n');
    }
    let mut copy = tx
        .copy_in_raw(&format!(
            "COPY {} FROM STDIN WITH (FORMAT csv)",
            records_table(snapshot_id)
        ))
        .await?;
    if let Err(e) = copy.send(data.into_bytes()).await {
        // Ends the COPY so the connection stays usable for the rollback.
        let _ = copy.abort("the import failed").await;
        return Err(e);
    }
    copy.finish().await.map(|_| ())
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.kind() == ErrorKind::UniqueViolation)
}

/// Rows that break a uniqueness rule, one problem per row, in the order that explains
/// best: the same credential (CIC), then the same clave and emisión, then a second
/// current credential of the citizen. Runs only when a rule is broken.
async fn find_duplicates(
    tx: &mut ImportTx,
    snapshot_id: i64,
) -> Result<Vec<RowError>, sqlx::Error> {
    let table = records_table(snapshot_id);
    let limit = (MAX_REPORTED_ROW_ERRORS + 1) as i64;
    let mut errors: Vec<RowError> = Vec::new();
    let mut reported = std::collections::HashSet::new();

    let sql = format!(
        "SELECT r.line, r.cic, f.first FROM {table} r JOIN \
         (SELECT cic, MIN(line) AS first FROM {table} WHERE cic IS NOT NULL GROUP BY cic HAVING COUNT(*) > 1) f \
         ON f.cic = r.cic WHERE r.line <> f.first ORDER BY r.line LIMIT $1"
    );
    let rows: Vec<(i64, String, i64)> = on_tx!(tx, t => sqlx::query_as(AssertSqlSafe(sql))
        .bind(limit)
        .fetch_all(&mut **t)
        .await)?;
    for (line, cic, first) in rows {
        reported.insert(line);
        errors.push(RowError {
            line: line as u64,
            column: "cic",
            problem: format!("credential with CIC {cic} appears twice (first at line {first})"),
        });
    }

    let sql = format!(
        "SELECT r.line, r.clave_elector, r.issue_number, f.first FROM {table} r JOIN \
         (SELECT clave_elector, issue_number, MIN(line) AS first FROM {table} \
          GROUP BY clave_elector, issue_number HAVING COUNT(*) > 1) f \
         ON f.clave_elector = r.clave_elector AND f.issue_number = r.issue_number \
         WHERE r.line <> f.first ORDER BY r.line LIMIT $1"
    );
    let rows: Vec<(i64, String, i64, i64)> = on_tx!(tx, t => sqlx::query_as(AssertSqlSafe(sql))
        .bind(limit)
        .fetch_all(&mut **t)
        .await)?;
    for (line, clave, issue, first) in rows {
        if reported.insert(line) {
            errors.push(RowError {
                line: line as u64,
                column: "emision",
                problem: format!("credential {clave} with emisión {issue:02} appears twice (first at line {first})"),
            });
        }
    }

    let sql = format!(
        "SELECT r.line, r.clave_elector, f.first FROM {table} r JOIN \
         (SELECT clave_elector, MIN(line) AS first FROM {table} WHERE status <> 'reemplazada' \
          GROUP BY clave_elector HAVING COUNT(*) > 1) f \
         ON f.clave_elector = r.clave_elector \
         WHERE r.status <> 'reemplazada' AND r.line <> f.first ORDER BY r.line LIMIT $1"
    );
    let rows: Vec<(i64, String, i64)> = on_tx!(tx, t => sqlx::query_as(AssertSqlSafe(sql))
        .bind(limit)
        .fetch_all(&mut **t)
        .await)?;
    for (line, clave, first) in rows {
        if reported.insert(line) {
            errors.push(RowError {
                line: line as u64,
                column: "situacion",
                problem: format!(
                    "citizen {clave} has two current credentials; all but one must be reemplazada (first at line {first})"
                ),
            });
        }
    }
    Ok(errors)
}

/// Builds the snapshot's indexes by sorting, once all rows are in. `false` when a
/// uniqueness rule is broken (the caller then explains which rows break it).
async fn build_indexes(tx: &mut ImportTx, snapshot_id: i64) -> Result<bool, sqlx::Error> {
    for (_, sql) in index_sql(snapshot_id) {
        // In a savepoint: a failed statement aborts a PostgreSQL transaction, and the
        // caller then still has to find the rows that break the rule.
        on_tx!(tx, t => sqlx::query("SAVEPOINT build_index").execute(&mut **t).await.map(|_| ()))?;
        match on_tx!(tx, t => sqlx::query(AssertSqlSafe(sql)).execute(&mut **t).await.map(|_| ())) {
            Ok(()) => {
                on_tx!(tx, t => sqlx::query("RELEASE SAVEPOINT build_index").execute(&mut **t).await.map(|_| ()))?;
            }
            Err(e) if is_unique_violation(&e) => {
                on_tx!(tx, t => sqlx::query("ROLLBACK TO SAVEPOINT build_index").execute(&mut **t).await.map(|_| ()))?;
                return Ok(false);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// line, clave, emisión, and the current credential's line and emisión (if any).
type SupersededProblem = (i64, String, i64, Option<i64>, Option<i64>);

/// Rules across rows that need the whole file: every superseded credential has a
/// current one with a higher emisión.
async fn check_superseded(
    tx: &mut ImportTx,
    snapshot_id: i64,
) -> Result<Vec<RowError>, sqlx::Error> {
    let table = records_table(snapshot_id);
    let sql = format!(
        "SELECT r.line, r.clave_elector, r.issue_number, c.line, c.issue_number \
         FROM {table} r LEFT JOIN {table} c ON c.clave_elector = r.clave_elector AND c.status <> 'reemplazada' \
         WHERE r.status = 'reemplazada' AND (c.line IS NULL OR r.issue_number >= c.issue_number) \
         ORDER BY r.line LIMIT $1"
    );
    let rows: Vec<SupersededProblem> = on_tx!(tx, t => sqlx::query_as(AssertSqlSafe(sql))
        .bind((MAX_REPORTED_ROW_ERRORS + 1) as i64)
        .fetch_all(&mut **t)
        .await)?;
    Ok(rows
        .into_iter()
        .map(|(line, clave, issue, current_line, current_issue)| RowError {
            line: line as u64,
            column: "situacion",
            problem: match (current_line, current_issue) {
                (Some(current_line), Some(current_issue)) => format!(
                    "reemplazada credential {clave} has emisión {issue:02}, not lower than the current credential's {current_issue:02} (line {current_line})"
                ),
                _ => format!("reemplazada credential {clave} has no current credential in the file"),
            },
        })
        .collect())
}

impl Store {
    /// Imports a roll file as a new snapshot. All or nothing: on any problem, or if
    /// the process dies midway, the store is left exactly as it was.
    pub async fn import_roll<R: Read + Send + 'static>(
        &self,
        source: R,
        options: ImportOptions,
        mut progress: impl FnMut(u64) + Send,
    ) -> Result<ImportReport, ImportError> {
        let started = Instant::now();
        let mut tx = match &self.native {
            Native::Sqlite(pool) => ImportTx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Native::Postgres(pool) => ImportTx::Postgres(pool.begin().await?),
        };
        let name = options.name.clone();
        let taken: Option<i64> = on_tx!(&mut tx, t => sqlx::query_scalar("SELECT id FROM roll_snapshots WHERE name = $1")
            .bind(&name)
            .fetch_optional(&mut **t)
            .await)?;
        if taken.is_some() {
            return Err(ImportError::NameTaken(options.name));
        }
        let cut_date = options.cut_date.to_string();
        let now = crate::clock::now();
        let inserted: Result<i64, sqlx::Error> = on_tx!(&mut tx, t => sqlx::query_scalar(
            "INSERT INTO roll_snapshots (name, cut_date, source_sha256, source_bytes, row_count, imported_at, active) \
             VALUES ($1, $2, '', 0, 0, $3, 0) RETURNING id",
        )
        .bind(&name)
        .bind(&cut_date)
        .bind(&now)
        .fetch_one(&mut **t)
        .await);
        let snapshot_id = match inserted {
            Ok(id) => id,
            // Another instance took the name since the check above.
            Err(e) if is_unique_violation(&e) => return Err(ImportError::NameTaken(options.name)),
            Err(e) => return Err(e.into()),
        };

        let create = create_table_sql(snapshot_id, self.backend());
        on_tx!(&mut tx, t => sqlx::query(AssertSqlSafe(create)).execute(&mut **t).await.map(|_| ()))?;

        let (sender, mut receiver) = mpsc::channel::<Parsed>(4);
        let parser = tokio::task::spawn_blocking(move || parse_file(source, &sender));

        let full_chunk_sql = insert_sql(snapshot_id, ROWS_PER_STATEMENT);
        let mut errors: Vec<RowError> = Vec::new();
        let mut inserted = 0u64;
        while let Some(batch) = receiver.recv().await {
            errors.extend(batch.errors);
            for chunk in batch.rows.chunks(ROWS_PER_STATEMENT) {
                match &mut tx {
                    ImportTx::Sqlite(t) => {
                        let sql = if chunk.len() == ROWS_PER_STATEMENT {
                            full_chunk_sql.clone()
                        } else {
                            insert_sql(snapshot_id, chunk.len())
                        };
                        insert_rows(t, sql, chunk).await?;
                    }
                    ImportTx::Postgres(t) => copy_rows(t, snapshot_id, chunk).await?,
                }
                inserted += chunk.len() as u64;
            }
            progress(inserted);
            if errors.len() > MAX_REPORTED_ROW_ERRORS {
                break;
            }
        }
        drop(receiver);
        let summary = parser.await.map_err(|e| {
            ImportError::Io(std::io::Error::other(format!(
                "the reader thread failed: {e}"
            )))
        })??;

        if self.backend() == crate::Backend::Postgres {
            // Fresh statistics for the lookups verification is about to make.
            on_tx!(&mut tx, t => sqlx::query(AssertSqlSafe(format!("ANALYZE {}", records_table(snapshot_id)))).execute(&mut **t).await.map(|_| ()))?;
        }
        if !errors.is_empty() || !build_indexes(&mut tx, snapshot_id).await? {
            errors.extend(find_duplicates(&mut tx, snapshot_id).await?);
        }
        if errors.is_empty() {
            errors = check_superseded(&mut tx, snapshot_id).await?;
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.line);
            let truncated = errors.len() > MAX_REPORTED_ROW_ERRORS;
            errors.truncate(MAX_REPORTED_ROW_ERRORS);
            on_tx!(tx, t => t.rollback().await)?;
            return Err(ImportError::Rows { errors, truncated });
        }
        if summary.rows == 0 {
            on_tx!(tx, t => t.rollback().await)?;
            return Err(ImportError::Empty);
        }

        let mut sections: Vec<(SectionKey, SectionTally)> = summary.sections.into_iter().collect();
        sections.sort_by_key(|(key, _)| *key);
        for chunk in sections.chunks(ROWS_PER_STATEMENT) {
            let mut sql = String::from(
                "INSERT INTO roll_section_counts (snapshot_id, state, section, municipality, lista_nominal, padron, baja, reemplazada) VALUES ",
            );
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let p = (1..=8)
                        .map(|k| format!("${}", i * 8 + k))
                        .collect::<Vec<_>>();
                    format!("({})", p.join(","))
                })
                .collect();
            sql.push_str(&rows.join(","));
            on_tx!(&mut tx, t => {
                let mut query = sqlx::query(AssertSqlSafe(sql));
                for ((state, section), tally) in chunk {
                    query = query
                        .bind(snapshot_id)
                        .bind(i64::from(*state))
                        .bind(i64::from(*section))
                        .bind(i64::from(tally.municipality));
                    for count in tally.counts {
                        query = query.bind(count);
                    }
                }
                query.execute(&mut **t).await.map(|_| ())
            })?;
        }

        on_tx!(&mut tx, t => sqlx::query("UPDATE roll_snapshots SET source_sha256 = $1, source_bytes = $2, row_count = $3 WHERE id = $4")
            .bind(&summary.sha256)
            .bind(summary.bytes as i64)
            .bind(summary.rows as i64)
            .bind(snapshot_id)
            .execute(&mut **t)
            .await.map(|_| ()))?;
        if options.activate {
            on_tx!(&mut tx, t => sqlx::query("UPDATE roll_snapshots SET active = 0 WHERE active = 1")
                .execute(&mut **t)
                .await.map(|_| ()))?;
            on_tx!(&mut tx, t => sqlx::query("UPDATE roll_snapshots SET active = 1 WHERE id = $1")
                .bind(snapshot_id)
                .execute(&mut **t)
                .await.map(|_| ()))?;
        }
        on_tx!(tx, t => t.commit().await)?;
        Ok(ImportReport {
            snapshot_id,
            name: options.name,
            rows: summary.rows,
            bytes: summary.bytes,
            sha256: summary.sha256,
            elapsed: started.elapsed(),
        })
    }
}
