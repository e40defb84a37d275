//! Batch re-verification: every support of a process checked again against the
//! process's (new) roll snapshot, and every duplicate group resolved again, when the
//! snapshot changes (docs/verification.md, "Re-verification").
//!
//! The supports are read and checked outside any write transaction (the roll lookups
//! are joins against temporary tables of keys, so SQLite walks its indexes without a
//! round trip per support), then every change is written in one transaction: readers
//! see the old outcomes or the new ones, never a mixture, and a crash mid-run leaves
//! the old ones and a run that starts again. The background worker runs batches and
//! single verifications one after the other, so no support is verified meanwhile.

use std::collections::{HashMap, HashSet};

use apoyo_domain::roll::RollRecord;
use apoyo_domain::verification::{
    CapturedKey, Lookup, SupportForDuplicates, citizen_lookups, match_record, resolve_duplicates,
};
use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, Row, Sqlite};

use crate::verification::{
    RollCheck, captured_key, db, record_from_row, select_rows, store_outcome,
};
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

/// One support as the batch reads it.
struct Member {
    id: i64,
    office_id: i64,
    aspirant_id: i64,
    sequence: i64,
    paper: bool,
    key: Option<CapturedKey>,
    previous: Previous,
}

/// What is stored for a support before the run.
#[derive(PartialEq, Eq)]
struct Previous {
    citizen_clave: Option<String>,
    citizen_section: Option<i64>,
    preliminary: Option<String>,
    outcome: Option<String>,
    duplicate_of: Option<i64>,
    snapshot_id: Option<i64>,
}

/// Roll rows fetched for the batch, by CIC and by clave de elector.
#[derive(Default)]
struct RollRows {
    by_cic: HashMap<String, RollRecord>,
    by_clave: HashMap<String, Vec<RollRecord>>,
    claves_fetched: HashSet<String>,
}

impl RollRows {
    fn has(&self, lookup: &Lookup) -> bool {
        match lookup {
            Lookup::ByCic(cic) => self.by_cic.contains_key(cic),
            Lookup::ByClave(clave) => self.claves_fetched.contains(clave),
        }
    }

    fn rows_for(&self, lookup: &Lookup, into: &mut Vec<RollRecord>) {
        let found: &[RollRecord] = match lookup {
            Lookup::ByCic(cic) => self
                .by_cic
                .get(cic)
                .map(std::slice::from_ref)
                .unwrap_or(&[]),
            Lookup::ByClave(clave) => self.by_clave.get(clave).map(Vec::as_slice).unwrap_or(&[]),
        };
        for record in found {
            if !into.contains(record) {
                into.push(record.clone());
            }
        }
    }

    fn insert(&mut self, record: RollRecord) {
        if let Some(cic) = &record.cic {
            self.by_cic
                .entry(cic.clone())
                .or_insert_with(|| record.clone());
        }
        let rows = self
            .by_clave
            .entry(record.clave_elector.clone())
            .or_default();
        if !rows.contains(&record) {
            rows.push(record);
        }
    }
}

/// Fetches, in one join per kind, every roll row answering `lookups` not fetched yet.
async fn fetch_lookups(
    conn: &mut PoolConnection<Sqlite>,
    snapshot_id: i64,
    lookups: &[Lookup],
    rows: &mut RollRows,
) -> Result<(), StoreError> {
    let mut cics: Vec<&str> = Vec::new();
    let mut claves: Vec<&str> = Vec::new();
    for lookup in lookups {
        if rows.has(lookup) {
            continue;
        }
        match lookup {
            Lookup::ByCic(cic) => cics.push(cic),
            Lookup::ByClave(clave) => claves.push(clave),
        }
    }
    cics.sort_unstable();
    cics.dedup();
    claves.sort_unstable();
    claves.dedup();
    for (column, values) in [("cic", &cics), ("clave_elector", &claves)] {
        if values.is_empty() {
            continue;
        }
        sqlx::query("CREATE TEMP TABLE IF NOT EXISTS batch_lookup (value TEXT PRIMARY KEY)")
            .execute(&mut **conn)
            .await
            .map_err(db)?;
        sqlx::query("DELETE FROM temp.batch_lookup")
            .execute(&mut **conn)
            .await
            .map_err(db)?;
        for chunk in values.chunks(500) {
            let placeholders = vec!["(?)"; chunk.len()].join(", ");
            let sql =
                format!("INSERT OR IGNORE INTO temp.batch_lookup (value) VALUES {placeholders}");
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for value in chunk {
                query = query.bind(*value);
            }
            query.execute(&mut **conn).await.map_err(db)?;
        }
        // The roll table is named by snapshot; the join walks its index per key.
        let sql = select_rows(
            snapshot_id,
            &format!("{column} IN (SELECT value FROM temp.batch_lookup)"),
        );
        let found = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&mut **conn)
            .await
            .map_err(db)?;
        for row in &found {
            rows.insert(record_from_row(row, snapshot_id)?);
        }
        if column == "clave_elector" {
            rows.claves_fetched
                .extend(values.iter().map(|c| (*c).to_owned()));
        }
    }
    sqlx::query("DROP TABLE IF EXISTS temp.batch_lookup")
        .execute(&mut **conn)
        .await
        .map_err(db)?;
    Ok(())
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
        let run: Option<(i64, i64, i64, i64)> = sqlx::query_as(
            "UPDATE reverification_runs SET status = 'running', attempts = attempts + 1, started_at = ? \
             WHERE id = (SELECT id FROM reverification_runs WHERE status = 'pending' ORDER BY id LIMIT 1) \
             RETURNING id, process_id, snapshot_id, attempts",
        )
        .bind(&now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(run.map(run_from_row))
    }

    /// Puts runs left `running` by a stopped process back to `pending` (start-up).
    pub async fn reset_stale_reverification_runs(&self) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE reverification_runs SET status = 'pending' WHERE status = 'running'",
        )
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected())
    }

    /// Records a failed attempt: back to `pending` while `retry`, otherwise `failed`.
    pub async fn fail_reverification_run(
        &self,
        run_id: i64,
        error: &str,
        retry: bool,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE reverification_runs SET status = ?, last_error = ?, finished_at = ? WHERE id = ?")
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
             FROM reverification_runs WHERE process_id = ? ORDER BY id DESC",
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
    pub async fn run_reverification(
        &self,
        run: ReverificationRun,
    ) -> Result<ReverificationReport, StoreError> {
        let ReverificationRun {
            id: run_id,
            process_id,
            snapshot_id,
            ..
        } = run;
        let current: Option<i64> =
            sqlx::query_scalar("SELECT roll_snapshot_id FROM processes WHERE id = ?")
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

        // 1. The supports and their keys.
        let mut conn = self.pool.acquire().await.map_err(db)?;
        let rows = sqlx::query(
            "SELECT id, office_id, aspirant_id, sequence, paper, received_at, credential_json, \
             citizen_clave, citizen_section, preliminary_outcome, outcome, duplicate_of, outcome_snapshot_id \
             FROM supports WHERE process_id = ? ORDER BY id",
        )
        .bind(process_id)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
        let mut members = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = row.try_get("id").map_err(db)?;
            let credential_json: &str = row.try_get("credential_json").map_err(db)?;
            let received_at: &str = row.try_get("received_at").map_err(db)?;
            members.push(Member {
                id,
                office_id: row.try_get("office_id").map_err(db)?,
                aspirant_id: row.try_get("aspirant_id").map_err(db)?,
                sequence: row.try_get("sequence").map_err(db)?,
                paper: row.try_get::<i64, _>("paper").map_err(db)? == 1,
                key: captured_key(id, credential_json, received_at)?,
                previous: Previous {
                    citizen_clave: row.try_get("citizen_clave").map_err(db)?,
                    citizen_section: row.try_get("citizen_section").map_err(db)?,
                    preliminary: row.try_get("preliminary_outcome").map_err(db)?,
                    outcome: row.try_get("outcome").map_err(db)?,
                    duplicate_of: row.try_get("duplicate_of").map_err(db)?,
                    snapshot_id: row.try_get("outcome_snapshot_id").map_err(db)?,
                },
            });
        }
        drop(rows);

        // 2. The roll rows they need: their own lookups, then their citizens' rows.
        let mut roll = RollRows::default();
        let first: Vec<Lookup> = members
            .iter()
            .filter_map(|m| m.key.as_ref())
            .flat_map(CapturedKey::lookups)
            .collect();
        fetch_lookups(&mut conn, snapshot_id, &first, &mut roll).await?;
        let mut second = Vec::new();
        let mut candidates: Vec<Vec<RollRecord>> = Vec::with_capacity(members.len());
        for member in &members {
            let mut rows = Vec::new();
            if let Some(key) = &member.key {
                for lookup in key.lookups() {
                    roll.rows_for(&lookup, &mut rows);
                }
                second.extend(citizen_lookups(key, &rows));
            }
            candidates.push(rows);
        }
        fetch_lookups(&mut conn, snapshot_id, &second, &mut roll).await?;

        // 3. The territory of each office and the municipios where paper is allowed.
        let territory: HashSet<(i64, u8, u16)> = sqlx::query_as::<_, (i64, i64, i64)>(
            "SELECT os.office_id, os.state, os.section FROM office_sections os \
             JOIN offices o ON o.id = os.office_id WHERE o.process_id = ?",
        )
        .bind(process_id)
        .fetch_all(&mut *conn)
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
            "SELECT state, municipality FROM process_paper_municipalities WHERE process_id = ?",
        )
        .bind(process_id)
        .fetch_all(&mut *conn)
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
        drop(conn);

        // 4. The roll check of each support, then the duplicates of the whole process.
        let mut checks = Vec::with_capacity(members.len());
        for (member, mut rows) in members.iter().zip(candidates) {
            let check = match &member.key {
                None => RollCheck::not_found(),
                Some(key) => {
                    for lookup in citizen_lookups(key, &rows) {
                        roll.rows_for(&lookup, &mut rows);
                    }
                    let matched = match_record(key, &rows);
                    RollCheck::of(
                        &matched,
                        |state, section| territory.contains(&(member.office_id, state, section)),
                        member.paper,
                        |state, municipality| paper_municipalities.contains(&(state, municipality)),
                    )
                }
            };
            checks.push(check);
        }
        let input: Vec<SupportForDuplicates<i64, i64, &str>> = members
            .iter()
            .zip(&checks)
            .map(|(member, check)| SupportForDuplicates {
                sequence: u64::try_from(member.sequence).unwrap_or(0),
                aspirant: member.aspirant_id,
                office: member.office_id,
                citizen: check.citizen_clave.as_deref(),
                preliminary: check.preliminary,
            })
            .collect();
        let resolved = resolve_duplicates(&input);

        // 5. One transaction writes every change.
        let mut tx = self.begin().await?;
        let still: Option<i64> =
            sqlx::query_scalar("SELECT roll_snapshot_id FROM processes WHERE id = ?")
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
        let mut changed = 0u64;
        for ((member, check), resolved) in members.iter().zip(&checks).zip(&resolved) {
            let preliminary = check.preliminary.code();
            let unchanged_check = member.previous.citizen_clave == check.citizen_clave
                && member.previous.citizen_section == check.citizen_section
                && member.previous.preliminary.as_deref() == Some(preliminary.as_str())
                && member.previous.snapshot_id == Some(snapshot_id);
            if !unchanged_check {
                sqlx::query(
                    "UPDATE supports SET citizen_clave = ?, citizen_section = ?, preliminary_outcome = ?, \
                     outcome_snapshot_id = ?, verified_at = ? WHERE id = ?",
                )
                .bind(&check.citizen_clave)
                .bind(check.citizen_section)
                .bind(&preliminary)
                .bind(snapshot_id)
                .bind(&now)
                .bind(member.id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            }
            let was = (
                member.previous.outcome.as_deref(),
                member.previous.duplicate_of,
            );
            if store_outcome(&mut tx, member.id, was, resolved, snapshot_id, &now).await? {
                changed += 1;
            }
        }
        let supports = u64::try_from(members.len()).unwrap_or(u64::MAX);
        sqlx::query(
            "UPDATE reverification_runs SET status = 'done', finished_at = ?, supports = ?, changed = ?, \
             last_error = NULL WHERE id = ?",
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
            "UPDATE reverification_runs SET status = ?, finished_at = ?, supports = ?, changed = ? WHERE id = ?",
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
