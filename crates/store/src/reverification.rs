//! Batch re-verification: every support of a process checked again against the
//! process's (new) roll snapshot, and every duplicate group resolved again, when the
//! snapshot changes (docs/verification.md, "A new roll snapshot" and
//! "Re-verification performance").
//!
//! The supports are read and checked outside any write transaction (stored roll keys,
//! roll rows fetched in bulk by sorted keys, the roll check on every core), then every
//! change is written in one transaction: readers see the old outcomes or the new ones,
//! never a mixture, and a crash mid-run leaves the old ones and a run that starts
//! again. The background worker runs batches and single verifications one after the
//! other, so no support is verified meanwhile.

use std::collections::{HashMap, HashSet};

use apoyo_domain::outcome::RemovalCause;
use apoyo_domain::outcome::RollOutcome;
use apoyo_domain::roll::{RollRecord, RollStatus};
use apoyo_domain::verification::{
    CapturedKey, CredentialKey, Lookup, SupportForDuplicates, citizen_lookups, match_record,
    resolve_duplicates,
};
use apoyo_domain::{CredentialModel, Date, Sex};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, Row};

use crate::dialect::{self, LockScope};
use crate::{Backend, Tx};

use crate::roll_table::records_table;
use crate::verification::{RollCheck, captured_key, db};
use crate::{Store, StoreError, clock};

/// A batch re-verification taken by a worker (now `running`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReverificationRun {
    pub id: i64,
    pub process_id: i64,
    pub snapshot_id: i64,
    /// Including this one.
    pub attempts: i64,
}

/// What a finished run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReverificationReport {
    /// Supports of the process checked.
    pub supports: u64,
    /// Supports whose outcome (or `duplicate_of`) changed.
    pub changed: u64,
    /// True when the process moved to yet another snapshot meanwhile: nothing was
    /// written, the newer run does the work.
    pub superseded: bool,
}

/// A run as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReverificationStatus {
    pub id: i64,
    pub process_id: i64,
    pub snapshot_id: i64,
    /// `pending`, `running`, `done`, `failed` or `superseded`.
    pub status: String,
    pub requested_at: String,
    pub finished_at: Option<String>,
    pub supports: Option<i64>,
    pub changed: Option<i64>,
    pub last_error: Option<String>,
}

/// Version tag of the stored roll key (`supports.roll_key`, migration 0007). A stored
/// key with another tag is not trusted: the batch computes it again from the captured
/// credential. Bump it whenever `CapturedKey::from_input` would give other keys.
const KEY_VERSION: &str = "k1";

/// The stored form of a support's roll key (`CapturedKey::from_input` of its captured
/// credential, `None` when it has none): `k1|-`, or
/// `k1|<model>|cc|<cic>|<citizen_id>|<captured clave>`,
/// `k1|<model>|co|<cic>|<ocr>|<captured clave>`,
/// `k1|<model>|ko|<clave>|<emisión>|<ocr>|<captured clave>`; the model and the captured
/// clave are empty when not known. Identifiers are digits and capital letters.
pub(crate) fn encode_key(key: Option<&CapturedKey>) -> String {
    let Some(key) = key else {
        return format!("{KEY_VERSION}|-");
    };
    let model = key.model.map(|m| m.to_string()).unwrap_or_default();
    let captured = key.clave_elector.as_deref().unwrap_or("");
    match &key.credential {
        CredentialKey::CicCitizenId { cic, citizen_id } => {
            format!("{KEY_VERSION}|{model}|cc|{cic}|{citizen_id}|{captured}")
        }
        CredentialKey::CicOcr { cic, ocr } => {
            format!("{KEY_VERSION}|{model}|co|{cic}|{ocr}|{captured}")
        }
        CredentialKey::ClaveIssueOcr {
            clave_elector,
            issue_number,
            ocr,
        } => format!("{KEY_VERSION}|{model}|ko|{clave_elector}|{issue_number}|{ocr}|{captured}"),
    }
}

/// The key [`encode_key`] stored; `None` when the text is not a key of this version
/// (then the credential is read again).
pub(crate) fn decode_key(text: &str) -> Option<Option<CapturedKey>> {
    let mut parts = text.split('|');
    if parts.next() != Some(KEY_VERSION) {
        return None;
    }
    let model_text = parts.next()?;
    if model_text == "-" {
        return parts.next().is_none().then_some(None);
    }
    let model = match model_text {
        "" => None,
        letter => Some(CredentialModel::parse(letter)?),
    };
    let owned = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let credential = match parts.next()? {
        "cc" => CredentialKey::CicCitizenId {
            cic: owned(parts.next()?)?,
            citizen_id: owned(parts.next()?)?,
        },
        "co" => CredentialKey::CicOcr {
            cic: owned(parts.next()?)?,
            ocr: owned(parts.next()?)?,
        },
        "ko" => CredentialKey::ClaveIssueOcr {
            clave_elector: owned(parts.next()?)?,
            issue_number: parts.next()?.parse().ok()?,
            ocr: owned(parts.next()?)?,
        },
        _ => return None,
    };
    let clave_elector = owned(parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Some(Some(CapturedKey {
        model,
        credential,
        clave_elector,
    }))
}

/// One support as the batch reads it.
struct Member {
    id: i64,
    office_id: i64,
    aspirant_id: i64,
    sequence: i64,
    paper: bool,
    key: Option<CapturedKey>,
    /// The key had to be read from the credential: store it.
    store_key: bool,
    /// The latest Mesa de Control decision invalidates the support.
    review_invalidated: bool,
    previous: Previous,
}

/// What is stored for a support before the run.
struct Previous {
    citizen_clave: Option<String>,
    citizen_section: Option<i64>,
    preliminary: Option<String>,
    outcome: Option<String>,
    duplicate_of: Option<i64>,
    snapshot_id: Option<i64>,
}

/// A support as read, before its key is known.
struct RawMember {
    member: Member,
    /// `(credential_json, received_at)` when the stored key is missing or stale.
    credential: Option<(String, String)>,
}

/// Roll rows fetched for the batch: each row once, indexed by CIC and by clave.
#[derive(Default)]
struct RollRows {
    records: Vec<RollRecord>,
    by_cic: HashMap<String, usize>,
    by_clave: HashMap<String, Vec<usize>>,
    /// Claves whose rows were all fetched (a clave may have none).
    claves_fetched: HashSet<String>,
    cics_fetched: HashSet<String>,
}

impl RollRows {
    fn has(&self, lookup: &Lookup) -> bool {
        match lookup {
            Lookup::ByCic(cic) => self.cics_fetched.contains(cic),
            Lookup::ByClave(clave) => self.claves_fetched.contains(clave),
        }
    }

    /// Indexes of the rows answering `lookup`, added to `into` once each.
    fn rows_for(&self, lookup: &Lookup, into: &mut Vec<usize>) {
        let found: &[usize] = match lookup {
            Lookup::ByCic(cic) => self
                .by_cic
                .get(cic)
                .map(std::slice::from_ref)
                .unwrap_or(&[]),
            Lookup::ByClave(clave) => self.by_clave.get(clave).map(Vec::as_slice).unwrap_or(&[]),
        };
        for i in found {
            if !into.contains(i) {
                into.push(*i);
            }
        }
    }

    /// Adds a row unless it is already there (found by CIC, then again by clave).
    fn insert(&mut self, line: i64, record: RollRecord, lines: &mut HashMap<i64, usize>) {
        if lines.contains_key(&line) {
            return;
        }
        let i = self.records.len();
        lines.insert(line, i);
        if let Some(cic) = &record.cic {
            self.by_cic.insert(cic.clone(), i);
        }
        self.by_clave
            .entry(record.clave_elector.clone())
            .or_default()
            .push(i);
        self.records.push(record);
    }
}

/// One roll row as the batch reads it: a JSON array in `select_rows_json`'s order.
#[derive(Deserialize)]
struct RollRowJson {
    line: i64,
    clave_elector: String,
    curp: Option<String>,
    given_names: String,
    paternal_surname: String,
    maternal_surname: String,
    sex: String,
    birth_date: String,
    state: u8,
    municipality: u16,
    section: u16,
    model: String,
    cic: Option<String>,
    ocr: Option<String>,
    citizen_id: Option<String>,
    issue_number: u8,
    expiry_year: u16,
    status: String,
    removal_cause: Option<String>,
}

/// The rows of a snapshot table whose `line` is in the bound JSON array, as one JSON
/// array of rows.
fn select_rows_json(backend: Backend, snapshot_id: i64) -> String {
    format!(
        "SELECT {} FROM {} WHERE line IN ({})",
        dialect::json_rows_aggregate(
            backend,
            "line, clave_elector, curp, given_names, paternal_surname, \
             maternal_surname, sex, birth_date, state, municipality, section, model, cic, ocr, citizen_id, \
             issue_number, expiry_year, status, removal_cause"
        ),
        records_table(snapshot_id),
        dialect::json_list(backend, "$1", "BIGINT")
    )
}

impl RollRowJson {
    /// The import validated every row, so this only decodes (the single-support
    /// path's `record_from_row` validates again; a batch cannot afford it per row).
    fn into_record(self, snapshot_id: i64) -> Result<(i64, RollRecord), StoreError> {
        let corrupt =
            |what: &str| StoreError::Corrupt(format!("roll snapshot {snapshot_id}: {what}"));
        let record = RollRecord {
            sex: self
                .sex
                .chars()
                .next()
                .and_then(Sex::from_letter)
                .ok_or_else(|| corrupt("sex"))?,
            birth_date: Date::parse_iso(&self.birth_date).map_err(|_| corrupt("birth_date"))?,
            model: CredentialModel::parse(&self.model).ok_or_else(|| corrupt("model"))?,
            status: RollStatus::from_code(&self.status).ok_or_else(|| corrupt("status"))?,
            removal_cause: match &self.removal_cause {
                None => None,
                Some(code) => {
                    Some(RemovalCause::from_code(code).ok_or_else(|| corrupt("removal_cause"))?)
                }
            },
            clave_elector: self.clave_elector,
            curp: self.curp,
            given_names: self.given_names,
            paternal_surname: self.paternal_surname,
            maternal_surname: self.maternal_surname,
            state: self.state,
            municipality: self.municipality,
            section: self.section,
            cic: self.cic,
            ocr: self.ocr,
            citizen_id: self.citizen_id,
            issue_number: self.issue_number,
            expiry_year: self.expiry_year,
        };
        Ok((self.line, record))
    }
}

/// Keys per statement. Lookups and rows travel as one JSON array per statement: sqlx
/// hands rows over one at a time between its SQLite thread and the task, which at a
/// million rows costs more than SQLite's own work.
const LOOKUP_CHUNK: usize = 50_000;

fn json_array<T: Serialize>(values: &[T]) -> Result<String, StoreError> {
    serde_json::to_string(values).map_err(|e| StoreError::Corrupt(format!("batch keys: {e}")))
}

fn from_json<T: DeserializeOwned>(text: Option<String>) -> Result<Vec<T>, StoreError> {
    match text {
        None => Ok(Vec::new()),
        Some(text) => {
            serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("batch rows: {e}")))
        }
    }
}

/// Runs `sql` once per JSON text in `binds`, on two connections at once (the roll is
/// read-only, so the two need not share a snapshot), and decodes each answer (one
/// text column) with `decode`. Answers come back in `binds` order.
async fn run_on_two<T>(
    conns: &mut [PoolConnection<sqlx::Any>; 2],
    sql: &str,
    binds: Vec<String>,
    decode: impl Fn(Option<String>) -> Result<Vec<T>, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut lanes: [Vec<(usize, String)>; 2] = [Vec::new(), Vec::new()];
    for (i, bind) in binds.into_iter().enumerate() {
        lanes[i % 2].push((i, bind));
    }
    let [lane_a, lane_b] = lanes;
    let [conn_a, conn_b] = conns;
    let (a, b) = tokio::try_join!(
        run_lane(conn_a, sql, lane_a, &decode),
        run_lane(conn_b, sql, lane_b, &decode)
    )?;
    let mut all: Vec<(usize, Vec<T>)> = a.into_iter().chain(b).collect();
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().flat_map(|(_, rows)| rows).collect())
}

async fn run_lane<T>(
    conn: &mut PoolConnection<sqlx::Any>,
    sql: &str,
    lane: Vec<(usize, String)>,
    decode: &impl Fn(Option<String>) -> Result<Vec<T>, StoreError>,
) -> Result<Vec<(usize, Vec<T>)>, StoreError> {
    let mut out = Vec::with_capacity(lane.len());
    for (i, bind) in lane {
        let text: Option<String> = sqlx::query_scalar(AssertSqlSafe(sql.to_owned()))
            .bind(bind)
            .fetch_one(&mut **conn)
            .await
            .map_err(db)?;
        out.push((i, decode(text)?));
    }
    Ok(out)
}

/// Fetches every roll row answering `lookups` not fetched yet. The keys are walked in
/// sorted order on the indexes, which give the rows' `line`s alone (covering); the rows
/// are then read in `line` order, so the table is read front to back, never at random.
async fn fetch_lookups(
    backend: Backend,
    conns: &mut [PoolConnection<sqlx::Any>; 2],
    snapshot_id: i64,
    lookups: impl IntoIterator<Item = Lookup>,
    rows: &mut RollRows,
    lines: &mut HashMap<i64, usize>,
) -> Result<(), StoreError> {
    let mut cics: Vec<String> = Vec::new();
    let mut claves: Vec<String> = Vec::new();
    for lookup in lookups {
        if rows.has(&lookup) {
            continue;
        }
        match lookup {
            Lookup::ByCic(cic) => cics.push(cic),
            Lookup::ByClave(clave) => claves.push(clave),
        }
    }
    let table = records_table(snapshot_id);
    let mut wanted: Vec<i64> = Vec::new();
    for (column, mut values) in [("cic", cics), ("clave_elector", claves)] {
        values.sort_unstable();
        values.dedup();
        let sql = format!(
            "SELECT {} FROM {table} WHERE {column} IN ({})",
            dialect::json_aggregate(backend, "line"),
            dialect::json_list(backend, "$1", "TEXT")
        );
        let binds = values
            .chunks(LOOKUP_CHUNK)
            .map(json_array)
            .collect::<Result<Vec<_>, _>>()?;
        wanted.extend(run_on_two(conns, &sql, binds, from_json::<i64>).await?);
        let fetched = if column == "cic" {
            &mut rows.cics_fetched
        } else {
            &mut rows.claves_fetched
        };
        fetched.extend(values);
    }
    wanted.retain(|line| !lines.contains_key(line));
    wanted.sort_unstable();
    wanted.dedup();
    let binds = wanted
        .chunks(LOOKUP_CHUNK)
        .map(json_array)
        .collect::<Result<Vec<_>, _>>()?;
    let found = run_on_two(
        conns,
        &select_rows_json(backend, snapshot_id),
        binds,
        |text| {
            from_json::<RollRowJson>(text)?
                .into_iter()
                .map(|row| row.into_record(snapshot_id))
                .collect()
        },
    )
    .await?;
    for (line, record) in found {
        rows.insert(line, record, lines);
    }
    Ok(())
}

/// Runs `f` over `items` in contiguous chunks on up to `threads` threads; results in
/// input order, so the outcome never depends on how the work was split.
fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let chunk = items.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                let f = &f;
                scope.spawn(move || part.iter().map(f).collect::<Vec<R>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

/// What the run writes for one support.
struct Change {
    id: i64,
    check: RollCheck,
    /// The roll check differs from the stored one (or was made on another snapshot).
    check_changed: bool,
    outcome: String,
    duplicate_of: Option<i64>,
    outcome_changed: bool,
    key: Option<String>,
}

/// Supports read per statement.
const SUPPORTS_PAGE: usize = 100_000;

/// Writes the changes in `tx`, a chunk of supports per statement bound as one JSON
/// array: one UPDATE … FROM sets every changed support of the chunk (the progress
/// triggers fire per row whose outcome or sección changed, inside SQLite), one
/// INSERT … SELECT adds their history entries.
async fn write_changes(
    backend: Backend,
    tx: &mut Tx<'_>,
    changes: &[Change],
    snapshot_id: i64,
    now: &str,
) -> Result<(), StoreError> {
    type ChangeJson<'a> = (
        i64,
        Option<&'a str>,
        Option<i64>,
        String,
        i64,
        &'a str,
        Option<i64>,
        i64,
        Option<&'a str>,
    );
    for chunk in changes.chunks(LOOKUP_CHUNK) {
        let rows: Vec<ChangeJson<'_>> = chunk
            .iter()
            .map(|c| {
                (
                    c.id,
                    c.check.citizen_clave.as_deref(),
                    c.check.citizen_section,
                    c.check.preliminary.code(),
                    i64::from(c.check_changed),
                    c.outcome.as_str(),
                    c.duplicate_of,
                    i64::from(c.outcome_changed),
                    c.key.as_deref(),
                )
            })
            .collect();
        let rows = json_array(&rows)?;
        // `->>` gives SQL values on SQLite and text on PostgreSQL: the casts make both
        // the same; flags travel as 0/1.
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE supports SET citizen_clave = c.citizen_clave, citizen_section = c.citizen_section, \
             preliminary_outcome = c.preliminary, \
             outcome_snapshot_id = CASE WHEN c.check_changed = 1 THEN $1 ELSE supports.outcome_snapshot_id END, \
             verified_at = CASE WHEN c.check_changed = 1 THEN $2 ELSE supports.verified_at END, \
             outcome = c.outcome, duplicate_of = c.duplicate_of, \
             roll_key = COALESCE(c.roll_key, supports.roll_key) \
             FROM (SELECT CAST(value ->> 0 AS BIGINT) AS id, value ->> 1 AS citizen_clave, \
                   CAST(value ->> 2 AS BIGINT) AS citizen_section, \
                   value ->> 3 AS preliminary, CAST(value ->> 4 AS BIGINT) AS check_changed, value ->> 5 AS outcome, \
                   CAST(value ->> 6 AS BIGINT) AS duplicate_of, value ->> 8 AS roll_key FROM {}) AS c \
             WHERE supports.id = c.id",
            dialect::json_elements(backend, "$3")
        )))
        .bind(snapshot_id)
        .bind(now)
        .bind(&rows)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO support_outcomes (support_id, outcome, duplicate_of, snapshot_id, decided_at) \
             SELECT CAST(value ->> 0 AS BIGINT), value ->> 5, CAST(value ->> 6 AS BIGINT), $1, $2 FROM {} \
             WHERE CAST(value ->> 7 AS BIGINT) = 1",
            dialect::json_elements(backend, "$3")
        )))
        .bind(snapshot_id)
        .bind(now)
        .bind(&rows)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    }
    Ok(())
}

/// One support as the batch reads it: a JSON array in the order of step 1's query.
#[derive(Deserialize)]
struct SupportRowJson {
    id: i64,
    office_id: i64,
    aspirant_id: i64,
    sequence: i64,
    paper: i64,
    roll_key: Option<String>,
    /// Only when `roll_key` is missing or of another version.
    credential_json: Option<String>,
    received_at: Option<String>,
    citizen_clave: Option<String>,
    citizen_section: Option<i64>,
    preliminary_outcome: Option<String>,
    outcome: Option<String>,
    duplicate_of: Option<i64>,
    outcome_snapshot_id: Option<i64>,
    review_invalidated: i64,
}

impl SupportRowJson {
    fn into_raw(self) -> Result<RawMember, StoreError> {
        let id = self.id;
        // A stored key of this version was selected without its credential.
        let (key, credential) = match self.roll_key.as_deref().and_then(decode_key) {
            Some(key) => (key, None),
            None => match (self.credential_json, self.received_at) {
                (Some(json), Some(received_at)) => (None, Some((json, received_at))),
                _ => return Err(StoreError::Corrupt(format!("support {id} roll_key"))),
            },
        };
        Ok(RawMember {
            member: Member {
                id,
                office_id: self.office_id,
                aspirant_id: self.aspirant_id,
                sequence: self.sequence,
                paper: self.paper == 1,
                review_invalidated: self.review_invalidated == 1,
                key,
                store_key: false,
                previous: Previous {
                    citizen_clave: self.citizen_clave,
                    citizen_section: self.citizen_section,
                    preliminary: self.preliminary_outcome,
                    outcome: self.outcome,
                    duplicate_of: self.duplicate_of,
                    snapshot_id: self.outcome_snapshot_id,
                },
            },
            credential,
        })
    }
}

/// The lookup that finds a captured credential's own row: by CIC (models D–H), or
/// every row of its clave (models A–C).
fn primary_lookup(key: &CapturedKey) -> Lookup {
    match &key.credential {
        CredentialKey::CicCitizenId { cic, .. } | CredentialKey::CicOcr { cic, .. } => {
            Lookup::ByCic(cic.clone())
        }
        CredentialKey::ClaveIssueOcr { clave_elector, .. } => {
            Lookup::ByClave(clave_elector.clone())
        }
    }
}

/// The row that settles a support by itself: the captured credential, whole, not
/// `reemplazada` (see step 2 of `run_reverification`).
fn settled(key: &CapturedKey, roll: &RollRows) -> Option<usize> {
    let whole = |i: &usize| {
        let record = &roll.records[*i];
        key.credential.matches(record) && record.status != RollStatus::Reemplazada
    };
    match &key.credential {
        CredentialKey::CicCitizenId { cic, .. } | CredentialKey::CicOcr { cic, .. } => {
            roll.by_cic.get(cic.as_str()).filter(|i| whole(i)).copied()
        }
        CredentialKey::ClaveIssueOcr { clave_elector, .. } => roll
            .by_clave
            .get(clave_elector.as_str())
            .and_then(|rows| rows.iter().find(|i| whole(i)).copied()),
    }
}

/// The roll check of one support, from the rows fetched for the batch.
fn check_member(
    member: &Member,
    roll: &RollRows,
    territory: &HashSet<(i64, u8, u16)>,
    paper_municipalities: &HashSet<(u8, u16)>,
) -> RollCheck {
    let Some(key) = &member.key else {
        return RollCheck::not_found();
    };
    let in_territory = |state, section| territory.contains(&(member.office_id, state, section));
    let paper_allowed = |state, municipality| paper_municipalities.contains(&(state, municipality));
    if let Some(i) = settled(key, roll) {
        let rows = std::slice::from_ref(&roll.records[i]);
        return RollCheck::of(
            &match_record(key, rows),
            in_territory,
            member.paper,
            paper_allowed,
        );
    }
    // The single-support path's lookups, in its two rounds.
    let mut rows = Vec::new();
    for lookup in key.lookups() {
        roll.rows_for(&lookup, &mut rows);
    }
    let found: Vec<RollRecord> = rows.iter().map(|i| roll.records[*i].clone()).collect();
    for lookup in citizen_lookups(key, &found) {
        roll.rows_for(&lookup, &mut rows);
    }
    let records: Vec<RollRecord> = rows.iter().map(|i| roll.records[*i].clone()).collect();
    RollCheck::of(
        &match_record(key, &records),
        in_territory,
        member.paper,
        paper_allowed,
    )
}

/// Runs CPU-bound work off the async threads.
async fn on_cpu<R: Send + 'static>(
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, StoreError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => Ok(result),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(StoreError::Corrupt(format!(
            "batch re-verification interrupted: {e}"
        ))),
    }
}

fn run_from_row(row: (i64, i64, i64, i64)) -> ReverificationRun {
    let (id, process_id, snapshot_id, attempts) = row;
    ReverificationRun {
        id,
        process_id,
        snapshot_id,
        attempts,
    }
}

impl Store {
    /// Takes the oldest pending re-verification run, marking it `running`.
    pub async fn claim_reverification_run(&self) -> Result<Option<ReverificationRun>, StoreError> {
        let mut tx = self.begin().await?;
        let now = clock::now();
        let run: Option<(i64, i64, i64, i64)> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE reverification_runs SET status = 'running', attempts = attempts + 1, started_at = $1 \
             WHERE id = (SELECT id FROM reverification_runs WHERE status = 'pending' ORDER BY id LIMIT 1{}) \
             RETURNING id, process_id, snapshot_id, attempts",
            self.skip_locked()
        )))
        .bind(&now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(run.map(run_from_row))
    }

    /// Puts runs left `running` by a stopped process back to `pending`: every one at
    /// start-up on SQLite (one process owns the file); on PostgreSQL only those whose
    /// process lock is free, i.e. whose instance is gone (a live run holds it, see
    /// [`run_reverification`](Self::run_reverification)) — called from time to time.
    pub async fn reset_stale_reverification_runs(&self) -> Result<u64, StoreError> {
        let sql = match self.backend() {
            Backend::Sqlite => {
                "UPDATE reverification_runs SET status = 'pending' WHERE status = 'running'"
            }
            Backend::Postgres => {
                "UPDATE reverification_runs SET status = 'pending' WHERE status = 'running' \
                 AND pg_try_advisory_xact_lock(2, CAST(process_id % 2147483647 AS INTEGER))"
            }
        };
        let done = sqlx::query(sql).execute(&self.pool).await.map_err(db)?;
        Ok(done.rows_affected())
    }

    /// Records a failed attempt: back to `pending` while `retry`, otherwise `failed`.
    pub async fn fail_reverification_run(
        &self,
        run_id: i64,
        error: &str,
        retry: bool,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE reverification_runs SET status = $1, last_error = $2, finished_at = $3 WHERE id = $4")
            .bind(if retry { "pending" } else { "failed" })
            .bind(error)
            .bind(clock::now())
            .bind(run_id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    /// The re-verification runs of a process, newest first.
    pub async fn reverification_runs(
        &self,
        process_id: i64,
    ) -> Result<Vec<ReverificationStatus>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, process_id, snapshot_id, status, requested_at, finished_at, supports, changed, last_error \
             FROM reverification_runs WHERE process_id = $1 ORDER BY id DESC",
        )
        .bind(process_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|row| {
                Ok(ReverificationStatus {
                    id: row.try_get("id").map_err(db)?,
                    process_id: row.try_get("process_id").map_err(db)?,
                    snapshot_id: row.try_get("snapshot_id").map_err(db)?,
                    status: row.try_get("status").map_err(db)?,
                    requested_at: row.try_get("requested_at").map_err(db)?,
                    finished_at: row.try_get("finished_at").map_err(db)?,
                    supports: row.try_get("supports").map_err(db)?,
                    changed: row.try_get("changed").map_err(db)?,
                    last_error: row.try_get("last_error").map_err(db)?,
                })
            })
            .collect()
    }

    /// Checks every support of the run's process against the run's snapshot, resolves
    /// every duplicate group again, and writes what changed in one transaction, marking
    /// the run done (or superseded when the process has moved to another snapshot).
    ///
    /// Fast at scale (docs/verification.md, "Re-verification performance"): the roll
    /// key of each support is stored at its first verification (a credential is read
    /// with `check_credential` once); roll rows are fetched by sorted keys a chunk per
    /// statement; the roll check runs on every core; only supports whose check or
    /// outcome changed are written, by one UPDATE … FROM a temporary table.
    ///
    /// On PostgreSQL the run holds its process's lock exclusively from start to end, on
    /// a connection of its own: single verifications of the process (shared holders)
    /// wait, and other instances see that the run is alive.
    pub async fn run_reverification(
        &self,
        run: ReverificationRun,
    ) -> Result<ReverificationReport, StoreError> {
        if self.backend() == Backend::Sqlite {
            return self.run_reverification_unlocked(run).await;
        }
        let mut lock = self.pool.acquire().await.map_err(db)?;
        let key = i32::try_from(run.process_id.rem_euclid(i64::from(i32::MAX))).unwrap_or_default();
        sqlx::query("SELECT CAST(1 AS BIGINT) FROM (SELECT pg_advisory_lock($1, $2)) AS l")
            .bind(LockScope::Process as i32)
            .bind(key)
            .execute(&mut *lock)
            .await
            .map_err(db)?;
        let report = self.run_reverification_unlocked(run).await;
        let unlocked = sqlx::query_scalar::<_, bool>("SELECT pg_advisory_unlock($1, $2)")
            .bind(LockScope::Process as i32)
            .bind(key)
            .fetch_one(&mut *lock)
            .await;
        if !matches!(unlocked, Ok(true)) {
            // Closing the connection releases every lock it holds.
            let _ = lock.close().await;
        }
        report
    }

    async fn run_reverification_unlocked(
        &self,
        run: ReverificationRun,
    ) -> Result<ReverificationReport, StoreError> {
        let backend = self.backend();
        let ReverificationRun {
            id: run_id,
            process_id,
            snapshot_id,
            ..
        } = run;
        let current: Option<i64> =
            sqlx::query_scalar("SELECT roll_snapshot_id FROM processes WHERE id = $1")
                .bind(process_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db)?;
        if current != Some(snapshot_id) {
            self.finish_run(run_id, "superseded", 0, 0).await?;
            return Ok(ReverificationReport {
                superseded: true,
                ..ReverificationReport::default()
            });
        }

        // 1. The supports and their stored keys (the credential only where the key is
        //    missing or of another version).
        let mut conn = self.pool.acquire().await.map_err(db)?;
        let raw = {
            // A page of supports per statement, as one JSON array (see LOOKUP_CHUNK).
            let sql = format!(
                "SELECT {} \
                 FROM (SELECT id, office_id, aspirant_id, sequence, paper, roll_key, credential_json, received_at, \
                 citizen_clave, citizen_section, preliminary_outcome, outcome, duplicate_of, outcome_snapshot_id, review_invalidated \
                 FROM supports WHERE process_id = $1 AND id > $2 ORDER BY id LIMIT {SUPPORTS_PAGE}) AS page",
                dialect::json_rows_aggregate(
                    backend,
                    &format!(
                        "id, office_id, aspirant_id, sequence, paper, roll_key, \
                         CASE WHEN roll_key LIKE '{KEY_VERSION}|%' THEN NULL ELSE credential_json END, \
                         CASE WHEN roll_key LIKE '{KEY_VERSION}|%' THEN NULL ELSE received_at END, \
                         citizen_clave, citizen_section, preliminary_outcome, outcome, duplicate_of, outcome_snapshot_id, review_invalidated"
                    )
                )
            );
            let mut raw = Vec::new();
            let mut after = i64::MIN;
            loop {
                let page: Option<String> = sqlx::query_scalar(AssertSqlSafe(sql.clone()))
                    .bind(process_id)
                    .bind(after)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db)?;
                let page = from_json::<SupportRowJson>(page)?;
                let full = page.len() == SUPPORTS_PAGE;
                for row in page {
                    after = after.max(row.id);
                    raw.push(row.into_raw()?);
                }
                if !full {
                    break;
                }
            }
            raw
        };
        let threads = threads();
        let members: Vec<Member> = on_cpu(move || {
            let keys = parallel_map(&raw, threads, |r| match &r.credential {
                None => Ok(None),
                Some((json, received_at)) => captured_key(r.member.id, json, received_at).map(Some),
            });
            raw.into_iter()
                .zip(keys)
                .map(|(r, key)| {
                    let mut member = r.member;
                    if let Some(key) = key? {
                        member.key = key;
                        member.store_key = true;
                    }
                    Ok(member)
                })
                .collect::<Result<Vec<Member>, StoreError>>()
        })
        .await??;

        // 2. The roll rows. First each credential's own row (by CIC, or by clave for
        //    models A–C). A credential found whole on a row that is not `reemplazada`
        //    is settled by that row alone: CICs are unique in a snapshot and a clave
        //    lookup brings every row of that clave, so the other rows
        //    `CapturedKey::lookups` and `citizen_lookups` would add could neither be
        //    the credential nor change its citizen's current row (it is this one).
        //    Every other support gets exactly the single-support path's lookups.
        let mut roll = RollRows::default();
        let mut lines = HashMap::new();
        let mut conns = [conn, self.pool.acquire().await.map_err(db)?];
        fetch_lookups(
            backend,
            &mut conns,
            snapshot_id,
            members
                .iter()
                .filter_map(|m| m.key.as_ref())
                .map(primary_lookup),
            &mut roll,
            &mut lines,
        )
        .await?;
        let unsettled: Vec<usize> = members
            .iter()
            .enumerate()
            .filter(|(_, m)| m.key.as_ref().is_some_and(|k| settled(k, &roll).is_none()))
            .map(|(i, _)| i)
            .collect();
        let keys_of = |indexes: &[usize]| -> Vec<&CapturedKey> {
            indexes
                .iter()
                .filter_map(|i| members[*i].key.as_ref())
                .collect()
        };
        fetch_lookups(
            backend,
            &mut conns,
            snapshot_id,
            keys_of(&unsettled)
                .into_iter()
                .flat_map(CapturedKey::lookups),
            &mut roll,
            &mut lines,
        )
        .await?;
        let mut second = Vec::new();
        for key in keys_of(&unsettled) {
            let mut rows = Vec::new();
            for lookup in key.lookups() {
                roll.rows_for(&lookup, &mut rows);
            }
            let found: Vec<RollRecord> = rows.iter().map(|i| roll.records[*i].clone()).collect();
            second.extend(citizen_lookups(key, &found));
        }
        fetch_lookups(
            backend,
            &mut conns,
            snapshot_id,
            second,
            &mut roll,
            &mut lines,
        )
        .await?;
        drop(lines);

        // 3. The territory of each office and the municipios where paper is allowed.
        let territory: HashSet<(i64, u8, u16)> = sqlx::query_as::<_, (i64, i64, i64)>(
            "SELECT os.office_id, os.state, os.section FROM office_sections os \
             JOIN offices o ON o.id = os.office_id WHERE o.process_id = $1",
        )
        .bind(process_id)
        .fetch_all(&mut *conns[0])
        .await
        .map_err(db)?
        .into_iter()
        .map(|(office, state, section)| {
            (
                office,
                u8::try_from(state).unwrap_or(0),
                u16::try_from(section).unwrap_or(0),
            )
        })
        .collect();
        let paper_municipalities: HashSet<(u8, u16)> = sqlx::query_as::<_, (i64, i64)>(
            "SELECT state, municipality FROM process_paper_municipalities WHERE process_id = $1",
        )
        .bind(process_id)
        .fetch_all(&mut *conns[0])
        .await
        .map_err(db)?
        .into_iter()
        .map(|(state, municipality)| {
            (
                u8::try_from(state).unwrap_or(0),
                u16::try_from(municipality).unwrap_or(0),
            )
        })
        .collect();
        drop(conns);

        // 4. The roll check of each support (on every core), then the duplicates of the
        //    whole process.
        let (members, checks) = on_cpu(move || {
            let checks = parallel_map(&members, threads, |member| {
                check_member(member, &roll, &territory, &paper_municipalities)
            });
            (members, checks)
        })
        .await?;
        let input: Vec<SupportForDuplicates<i64, i64, &str>> = members
            .iter()
            .zip(&checks)
            .map(|(member, check)| SupportForDuplicates {
                sequence: u64::try_from(member.sequence).unwrap_or(0),
                aspirant: member.aspirant_id,
                office: member.office_id,
                citizen: check.citizen_clave.as_deref(),
                // As verification::REVIEWED_PRELIMINARY: invalidated by the review desk,
                // the support takes no part in its group.
                preliminary: if member.review_invalidated && check.preliminary == RollOutcome::Valid
                {
                    RollOutcome::ReviewInconsistent
                } else {
                    check.preliminary
                },
            })
            .collect();
        let resolved = resolve_duplicates(&input);
        drop(input);

        // 5. What changed: only those supports are written.
        let mut changed = 0u64;
        let mut changes = Vec::new();
        for ((member, check), resolved) in members.iter().zip(checks).zip(&resolved) {
            let preliminary = check.preliminary.code();
            let check_changed = member.previous.citizen_clave != check.citizen_clave
                || member.previous.citizen_section != check.citizen_section
                || member.previous.preliminary.as_deref() != Some(preliminary.as_str())
                || member.previous.snapshot_id != Some(snapshot_id);
            let outcome = resolved.outcome.code();
            let duplicate_of = resolved.duplicate_of.and_then(|d| i64::try_from(d).ok());
            let outcome_changed = member.previous.outcome.as_deref() != Some(outcome.as_str())
                || member.previous.duplicate_of != duplicate_of;
            changed += u64::from(outcome_changed);
            if check_changed || outcome_changed || member.store_key {
                changes.push(Change {
                    id: member.id,
                    check,
                    check_changed,
                    outcome,
                    duplicate_of,
                    outcome_changed,
                    key: member.store_key.then(|| encode_key(member.key.as_ref())),
                });
            }
        }

        // 6. One transaction writes every change.
        let mut tx = self.begin().await?;
        let still: Option<i64> =
            sqlx::query_scalar("SELECT roll_snapshot_id FROM processes WHERE id = $1")
                .bind(process_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
        if still != Some(snapshot_id) {
            drop(tx);
            self.finish_run(run_id, "superseded", 0, 0).await?;
            return Ok(ReverificationReport {
                superseded: true,
                ..ReverificationReport::default()
            });
        }
        let now = clock::now();
        write_changes(backend, &mut tx, &changes, snapshot_id, &now).await?;
        let supports = u64::try_from(members.len()).unwrap_or(u64::MAX);
        sqlx::query(
            "UPDATE reverification_runs SET status = 'done', finished_at = $1, supports = $2, changed = $3, \
             last_error = NULL WHERE id = $4",
        )
        .bind(&now)
        .bind(i64::try_from(supports).unwrap_or(i64::MAX))
        .bind(i64::try_from(changed).unwrap_or(i64::MAX))
        .bind(run_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(ReverificationReport {
            supports,
            changed,
            superseded: false,
        })
    }

    async fn finish_run(
        &self,
        run_id: i64,
        status: &str,
        supports: i64,
        changed: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE reverification_runs SET status = $1, finished_at = $2, supports = $3, changed = $4 WHERE id = $5",
        )
        .bind(status)
        .bind(clock::now())
        .bind(supports)
        .bind(changed)
        .bind(run_id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use apoyo_domain::CredentialModel;
    use apoyo_domain::verification::{CapturedKey, CredentialKey};

    use super::{decode_key, encode_key};

    #[test]
    fn stored_keys_read_back_as_written() {
        let keys = [
            CapturedKey {
                model: Some(CredentialModel::G),
                credential: CredentialKey::CicCitizenId {
                    cic: "123456789".into(),
                    citizen_id: "987654321".into(),
                },
                clave_elector: Some("GMVLMR80070501M100".into()),
            },
            CapturedKey {
                model: None,
                credential: CredentialKey::CicOcr {
                    cic: "123456789".into(),
                    ocr: "0405987654321".into(),
                },
                clave_elector: None,
            },
            CapturedKey {
                model: Some(CredentialModel::C),
                credential: CredentialKey::ClaveIssueOcr {
                    clave_elector: "GMVLMR80070501M100".into(),
                    issue_number: 3,
                    ocr: "0405987654321".into(),
                },
                clave_elector: Some("GMVLMR80070501M100".into()),
            },
        ];
        for key in keys {
            assert_eq!(decode_key(&encode_key(Some(&key))), Some(Some(key)));
        }
        assert_eq!(decode_key(&encode_key(None)), Some(None));
    }

    #[test]
    fn keys_of_another_version_or_shape_are_not_trusted() {
        for text in [
            "",
            "k0|G|cc|123456789|987654321|",
            "k1|G|cc|123456789||",
            "k1|G|xx|123456789|987654321|",
            "k1|Z|cc|123456789|987654321|",
            "k1|C|ko|GMVLMR80070501M100|tres|0405987654321|",
            "k1|G|cc|123456789|987654321||extra",
            "k1|-|more",
        ] {
            assert_eq!(decode_key(text), None, "{text}");
        }
    }
}
