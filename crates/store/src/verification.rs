//! Verification of received supports against the process's roll snapshot, and the
//! queue of verification jobs the server's background worker takes from
//! (docs/supports.md, "Verification"; the rules are `apoyo_domain::verification`).
//!
//! Each support is verified in one write transaction: its roll check (the
//! preliminary outcome and the citizen's roll identity), then the duplicate
//! resolution of every support of the same citizen for the same office, so the
//! stored outcomes depend only on the set of supports verified, never on the order
//! the jobs ran in.

use apoyo_domain::Date;
use apoyo_domain::credential::CredentialInput;
use apoyo_domain::outcome::RollOutcome;
use apoyo_domain::roll::{RollRecord, parse_row};
use apoyo_domain::verification::{
    CapturedKey, Lookup, Resolved, RollMatch, SupportForDuplicates, citizen_lookups, match_record,
    preliminary_outcome, resolve_duplicates,
};
use sqlx::{AssertSqlSafe, Row};

use crate::Tx;

use crate::dialect::{LockScope, lock_key};
use crate::roll_table::records_table;
use crate::{Store, StoreError, clock};

/// A verification job taken by a worker (now `running`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerificationJob {
    pub id: i64,
    pub support_id: i64,
    /// Including this one.
    pub attempts: i64,
}

/// A support's outcome once verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupportOutcome {
    pub support_id: i64,
    pub sequence: i64,
    /// The citizen's clave de elector on the roll, when found.
    pub citizen_clave: Option<String>,
    pub preliminary: RollOutcome,
    pub outcome: RollOutcome,
    pub duplicate_of: Option<i64>,
}

/// One entry of a support's outcome history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutcomeChange {
    /// `RollOutcome::code`, e.g. `removed:defuncion`.
    pub outcome: String,
    pub duplicate_of: Option<i64>,
    pub snapshot_id: i64,
    /// RFC 3339 UTC.
    pub decided_at: String,
}

pub(crate) fn db(e: sqlx::Error) -> StoreError {
    StoreError::Database(e)
}

/// The rows of a snapshot table in `COLUMNS` order, as text for `parse_row`.
pub(crate) fn select_rows(snapshot_id: i64, filter: &str) -> String {
    format!(
        "SELECT clave_elector, COALESCE(curp, ''), given_names, paternal_surname, maternal_surname, \
         sex, birth_date, CAST(state AS TEXT), CAST(municipality AS TEXT), CAST(section AS TEXT), \
         model, COALESCE(cic, ''), COALESCE(ocr, ''), COALESCE(citizen_id, ''), \
         CASE WHEN issue_number < 10 THEN '0' || CAST(issue_number AS TEXT) ELSE CAST(issue_number AS TEXT) END, CAST(expiry_year AS TEXT), status, COALESCE(removal_cause, '') \
         FROM {} WHERE {filter}",
        records_table(snapshot_id)
    )
}

/// A row selected by [`select_rows`] as a roll record.
pub(crate) fn record_from_row(
    row: &sqlx::any::AnyRow,
    snapshot_id: i64,
) -> Result<RollRecord, StoreError> {
    let fields = (0..18)
        .map(|i| row.try_get::<String, _>(i))
        .collect::<Result<Vec<String>, _>>()
        .map_err(db)?;
    let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
    parse_row(&refs).map_err(|errors| {
        StoreError::Corrupt(format!(
            "roll snapshot {snapshot_id} row of {}: {errors:?}",
            fields[0]
        ))
    })
}

async fn fetch_rows(
    tx: &mut Tx<'_>,
    snapshot_id: i64,
    lookup: &Lookup,
    into: &mut Vec<RollRecord>,
) -> Result<(), StoreError> {
    let (filter, value) = match lookup {
        Lookup::ByCic(cic) => ("cic = $1", cic),
        Lookup::ByClave(clave) => ("clave_elector = $1", clave),
    };
    let rows = sqlx::query(AssertSqlSafe(select_rows(snapshot_id, filter)))
        .bind(value)
        .fetch_all(&mut **tx)
        .await
        .map_err(db)?;
    for row in rows {
        let record = record_from_row(&row, snapshot_id)?;
        if !into.contains(&record) {
            into.push(record);
        }
    }
    Ok(())
}

/// A verified support of a group: id, sequence, aspirant, preliminary outcome, and the
/// stored outcome and duplicate_of.
type GroupMember = (i64, i64, i64, String, Option<String>, Option<i64>);

pub(crate) fn outcome_code(code: &str) -> Result<RollOutcome, StoreError> {
    RollOutcome::from_code(code).ok_or_else(|| StoreError::Corrupt(format!("outcome {code:?}")))
}

/// The result of checking one support against the roll, before duplicates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RollCheck {
    /// The citizen's identity (clave de elector of the matched rows), when found.
    pub(crate) citizen_clave: Option<String>,
    /// The sección of the citizen's current row, when found.
    pub(crate) citizen_section: Option<i64>,
    pub(crate) preliminary: RollOutcome,
}

impl RollCheck {
    pub(crate) fn not_found() -> Self {
        Self {
            citizen_clave: None,
            citizen_section: None,
            preliminary: RollOutcome::NotFound,
        }
    }

    pub(crate) fn of(
        matched: &RollMatch<'_>,
        in_territory: impl Fn(u8, u16) -> bool,
        paper: bool,
        paper_allowed: impl Fn(u8, u16) -> bool,
    ) -> Self {
        Self {
            citizen_clave: matched.clave_elector().map(str::to_owned),
            citizen_section: matched.citizen().map(|c| i64::from(c.section)),
            preliminary: preliminary_outcome(matched, in_territory, paper, paper_allowed),
        }
    }
}

/// The captured credential's roll key; `None` when it lacks an identifier to look up.
pub(crate) fn captured_key(
    support_id: i64,
    credential_json: &str,
    received_at: &str,
) -> Result<Option<CapturedKey>, StoreError> {
    let input: CredentialInput = serde_json::from_str(credential_json)
        .map_err(|e| StoreError::Corrupt(format!("support {support_id} credential: {e}")))?;
    let reference = clock::parse(received_at)
        .and_then(|at| Date::new(at.year(), u8::from(at.month()), at.day()))
        .ok_or_else(|| StoreError::Corrupt(format!("support {support_id} received_at")))?;
    Ok(CapturedKey::from_input(&input, reference).ok())
}

/// The preliminary outcome duplicate resolution works with: the roll check's, except that a
/// support found on the roll whose latest Mesa de Control decision invalidates it takes no
/// part (it neither counts nor blocks a later support of the same citizen).
pub(crate) const REVIEWED_PRELIMINARY: &str = "CASE WHEN review_invalidated = 1 AND preliminary_outcome = 'valid' \
     THEN 'review_inconsistent' ELSE preliminary_outcome END";

/// Resolves the duplicates of one group — every verified support of `citizen` for
/// `office` in the process, or only `support_id` when no citizen was found — storing
/// each outcome that changed and its history entry. Returns (id, sequence, resolved).
pub(crate) async fn resolve_group(
    tx: &mut Tx<'_>,
    process_id: i64,
    office_id: i64,
    citizen: Option<&str>,
    support_id: i64,
    snapshot_id: i64,
    now: &str,
) -> Result<Vec<(i64, i64, Resolved)>, StoreError> {
    let members: Vec<GroupMember> = match citizen {
        Some(clave) => sqlx::query_as(AssertSqlSafe(format!(
            "SELECT id, sequence, aspirant_id, {REVIEWED_PRELIMINARY}, outcome, duplicate_of \
             FROM supports WHERE process_id = $1 AND office_id = $2 AND citizen_clave = $3 \
             AND preliminary_outcome IS NOT NULL",
        )))
        .bind(process_id)
        .bind(office_id)
        .bind(clave)
        .fetch_all(&mut **tx)
        .await
        .map_err(db)?,
        None => sqlx::query_as(AssertSqlSafe(format!(
            "SELECT id, sequence, aspirant_id, {REVIEWED_PRELIMINARY}, outcome, duplicate_of \
             FROM supports WHERE id = $1 AND preliminary_outcome IS NOT NULL",
        )))
        .bind(support_id)
        .fetch_all(&mut **tx)
        .await
        .map_err(db)?,
    };
    let input: Vec<SupportForDuplicates<i64, i64, &str>> = members
        .iter()
        .map(|(_, sequence, aspirant, preliminary, ..)| {
            Ok(SupportForDuplicates {
                sequence: u64::try_from(*sequence).unwrap_or(0),
                aspirant: *aspirant,
                office: office_id,
                citizen,
                preliminary: outcome_code(preliminary)?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    let resolved = resolve_duplicates(&input);
    let mut out = Vec::with_capacity(members.len());
    for ((id, sequence, _, _, old_outcome, old_duplicate_of), resolved) in
        members.iter().zip(resolved)
    {
        store_outcome(
            tx,
            *id,
            (old_outcome.as_deref(), *old_duplicate_of),
            &resolved,
            snapshot_id,
            now,
        )
        .await?;
        out.push((*id, *sequence, resolved));
    }
    Ok(out)
}

/// Stores a support's resolved outcome and its history entry, when it changed.
/// Returns whether it changed.
pub(crate) async fn store_outcome(
    tx: &mut Tx<'_>,
    support_id: i64,
    (old_outcome, old_duplicate_of): (Option<&str>, Option<i64>),
    resolved: &Resolved,
    snapshot_id: i64,
    now: &str,
) -> Result<bool, StoreError> {
    let code = resolved.outcome.code();
    let duplicate_of = resolved.duplicate_of.and_then(|d| i64::try_from(d).ok());
    if old_outcome == Some(code.as_str()) && old_duplicate_of == duplicate_of {
        return Ok(false);
    }
    sqlx::query("UPDATE supports SET outcome = $1, duplicate_of = $2 WHERE id = $3")
        .bind(&code)
        .bind(duplicate_of)
        .bind(support_id)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    sqlx::query(
        "INSERT INTO support_outcomes (support_id, outcome, duplicate_of, snapshot_id, decided_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(support_id)
    .bind(&code)
    .bind(duplicate_of)
    .bind(snapshot_id)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    Ok(true)
}

/// How long, by default, a claimed job belongs to the instance that claimed it before
/// another may take it back (PostgreSQL; see [`Store::reset_stale_jobs`]; the server's
/// `job_lease_seconds`).
pub const JOB_LEASE: std::time::Duration = std::time::Duration::from_secs(300);

impl Store {
    /// Takes the oldest pending verification job, marking it `running` (one more
    /// attempt); `None` when none is pending. Atomic: two workers never take the same job.
    pub async fn claim_verification_job(&self) -> Result<Option<VerificationJob>, StoreError> {
        let mut tx = self.begin().await?;
        let now = clock::now();
        // On PostgreSQL other instances claim at the same time: a job locked by one is
        // skipped by the others instead of being waited for (and then taken twice).
        let job: Option<(i64, i64, i64)> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE verification_jobs SET status = 'running', attempts = attempts + 1, \
             started_at = $1, updated_at = $2 \
             WHERE id = (SELECT id FROM verification_jobs WHERE status = 'pending' ORDER BY id LIMIT 1{}) \
             RETURNING id, support_id, attempts",
            self.skip_locked()
        )))
        .bind(&now)
        .bind(&now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(job.map(|(id, support_id, attempts)| VerificationJob {
            id,
            support_id,
            attempts,
        }))
    }

    /// Puts jobs left `running` (by a process that stopped or crashed mid-job) back to
    /// `pending`; called at start-up, before any worker runs, and from time to time.
    /// Returns how many. On SQLite one process owns the file, so every `running` job is
    /// stale at start-up; on PostgreSQL other instances may be running theirs, so only
    /// jobs claimed longer ago than the store's job lease ([`JOB_LEASE`] unless set with
    /// [`Store::with_job_lease`]) are (a job takes milliseconds).
    pub async fn reset_stale_jobs(&self) -> Result<u64, StoreError> {
        let now = clock::now();
        let stale_before = match self.backend() {
            crate::Backend::Sqlite => now.clone(),
            crate::Backend::Postgres => clock::before(self.job_lease),
        };
        let done = sqlx::query(
            "UPDATE verification_jobs SET status = 'pending', updated_at = $1 \
             WHERE status = 'running' AND updated_at <= $2",
        )
        .bind(&now)
        .bind(&stale_before)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected())
    }

    /// Marks a job done.
    pub async fn finish_verification_job(&self, job_id: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE verification_jobs SET status = 'done', last_error = NULL, updated_at = $1 WHERE id = $2",
        )
        .bind(clock::now())
        .bind(job_id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    /// Records a failed attempt: back to `pending` (retried) while `retry`, otherwise `failed`.
    pub async fn fail_verification_job(
        &self,
        job_id: i64,
        error: &str,
        retry: bool,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE verification_jobs SET status = $1, last_error = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(if retry { "pending" } else { "failed" })
        .bind(error)
        .bind(clock::now())
        .bind(job_id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    /// Verifies one support against its process's roll snapshot and resolves the
    /// duplicates of its citizen for its office, in one transaction. Idempotent: running
    /// it again with the same data changes nothing (the history gains no entry). When
    /// the support now names another citizen than before (a new roll snapshot), the
    /// group it leaves is resolved again too.
    ///
    /// A credential whose key lacks an identifier (never the case once the collector's
    /// checks passed) cannot be looked up: its outcome is `not_found`.
    pub async fn verify_support(&self, support_id: i64) -> Result<SupportOutcome, StoreError> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "SELECT s.process_id, s.office_id, s.paper, s.received_at, s.credential_json, \
             s.citizen_clave, p.roll_snapshot_id FROM supports s JOIN processes p ON p.id = s.process_id \
             WHERE s.id = $1",
        )
        .bind(support_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound("support"))?;
        let process_id: i64 = row.try_get("process_id").map_err(db)?;
        let office_id: i64 = row.try_get("office_id").map_err(db)?;
        let paper = row.try_get::<i64, _>("paper").map_err(db)? == 1;
        let received_at: String = row.try_get("received_at").map_err(db)?;
        let credential_json: String = row.try_get("credential_json").map_err(db)?;
        let previous_clave: Option<String> = row.try_get("citizen_clave").map_err(db)?;
        let snapshot_id: i64 = row.try_get("roll_snapshot_id").map_err(db)?;

        let key = captured_key(support_id, &credential_json, &received_at)?;
        // Kept for batch re-verification, which then needs no credential check.
        let roll_key = crate::reverification::encode_key(key.as_ref());
        let check = match key {
            None => RollCheck::not_found(),
            Some(key) => {
                let mut rows = Vec::new();
                for lookup in key.lookups() {
                    fetch_rows(&mut tx, snapshot_id, &lookup, &mut rows).await?;
                }
                for lookup in citizen_lookups(&key, &rows) {
                    fetch_rows(&mut tx, snapshot_id, &lookup, &mut rows).await?;
                }
                let matched = match_record(&key, &rows);
                let (in_territory, paper_allowed) = match matched.citizen() {
                    None => (false, false),
                    Some(current) => {
                        let in_territory: Option<i64> = sqlx::query_scalar(
                            "SELECT 1 FROM office_sections WHERE office_id = $1 AND state = $2 AND section = $3",
                        )
                        .bind(office_id)
                        .bind(i64::from(current.state))
                        .bind(i64::from(current.section))
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db)?;
                        let paper_allowed: Option<i64> = sqlx::query_scalar(
                            "SELECT 1 FROM process_paper_municipalities \
                             WHERE process_id = $1 AND state = $2 AND municipality = $3",
                        )
                        .bind(process_id)
                        .bind(i64::from(current.state))
                        .bind(i64::from(current.municipality))
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db)?;
                        (in_territory.is_some(), paper_allowed.is_some())
                    }
                };
                // The answers above are for the citizen's current row, the only one
                // preliminary_outcome asks about.
                RollCheck::of(&matched, |_, _| in_territory, paper, |_, _| paper_allowed)
            }
        };

        // The groups this support leaves and joins are rewritten below: on PostgreSQL
        // another instance may be verifying a member of either at this moment. Shared
        // lock on the process: a batch re-verification (exclusive) is not running.
        self.lock_process_shared(&mut tx, process_id).await?;
        let mut groups: Vec<i64> = [check.citizen_clave.as_deref(), previous_clave.as_deref()]
            .into_iter()
            .flatten()
            .map(|clave| lock_key(&format!("{office_id}|{clave}")))
            .collect();
        // Always in the same order, so two transactions never wait for each other.
        groups.sort_unstable();
        groups.dedup();
        for group in groups {
            self.lock_for_transaction(&mut tx, LockScope::DuplicateGroup, group)
                .await?;
        }

        let now = clock::now();
        sqlx::query(
            "UPDATE supports SET citizen_clave = $1, citizen_section = $2, preliminary_outcome = $3, \
             outcome_snapshot_id = $4, verified_at = $5, roll_key = $6 WHERE id = $7",
        )
        .bind(&check.citizen_clave)
        .bind(check.citizen_section)
        .bind(check.preliminary.code())
        .bind(snapshot_id)
        .bind(&now)
        .bind(&roll_key)
        .bind(support_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;

        let group = resolve_group(
            &mut tx,
            process_id,
            office_id,
            check.citizen_clave.as_deref(),
            support_id,
            snapshot_id,
            &now,
        )
        .await?;
        if previous_clave.is_some() && previous_clave != check.citizen_clave {
            resolve_group(
                &mut tx,
                process_id,
                office_id,
                previous_clave.as_deref(),
                support_id,
                snapshot_id,
                &now,
            )
            .await?;
        }
        let this =
            group
                .into_iter()
                .find(|(id, ..)| *id == support_id)
                .map(|(_, sequence, resolved)| SupportOutcome {
                    support_id,
                    sequence,
                    citizen_clave: check.citizen_clave.clone(),
                    preliminary: check.preliminary,
                    outcome: resolved.outcome,
                    duplicate_of: resolved.duplicate_of.and_then(|d| i64::try_from(d).ok()),
                });
        tx.commit().await.map_err(db)?;
        this.ok_or_else(|| StoreError::Corrupt(format!("support {support_id} left its group")))
    }

    /// A support's outcome history, oldest first.
    pub async fn support_outcome_history(
        &self,
        support_id: i64,
    ) -> Result<Vec<OutcomeChange>, StoreError> {
        let rows: Vec<(String, Option<i64>, i64, String)> = sqlx::query_as(
            "SELECT outcome, duplicate_of, snapshot_id, decided_at FROM support_outcomes \
             WHERE support_id = $1 ORDER BY id",
        )
        .bind(support_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows
            .into_iter()
            .map(
                |(outcome, duplicate_of, snapshot_id, decided_at)| OutcomeChange {
                    outcome,
                    duplicate_of,
                    snapshot_id,
                    decided_at,
                },
            )
            .collect())
    }
}

/// id, support_id, status, attempts, enqueued_at, updated_at, last_error.
type JobRow = (i64, i64, String, i64, String, String, Option<String>);

/// A verification job as operators see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobStatus {
    pub id: i64,
    pub support_id: i64,
    /// `pending`, `running`, `done` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub enqueued_at: String,
    pub updated_at: String,
    pub last_error: Option<String>,
}

impl Store {
    /// Verification jobs in one status, oldest first, after `after_id` (keyset paging).
    pub async fn verification_jobs(
        &self,
        status: &str,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<JobStatus>, StoreError> {
        let rows: Vec<JobRow> = sqlx::query_as(
            "SELECT id, support_id, status, attempts, enqueued_at, updated_at, last_error \
             FROM verification_jobs WHERE status = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(status)
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows
            .into_iter()
            .map(
                |(id, support_id, status, attempts, enqueued_at, updated_at, last_error)| {
                    JobStatus {
                        id,
                        support_id,
                        status,
                        attempts,
                        enqueued_at,
                        updated_at,
                        last_error,
                    }
                },
            )
            .collect())
    }

    /// Puts a `failed` job back to `pending` with its attempts reset (after an operator
    /// fixed the cause), recorded in the audit log. `NotFound` unless the job is failed.
    pub async fn retry_verification_job(
        &self,
        actor: &crate::Actor,
        job_id: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let found: Option<(i64, Option<String>)> = sqlx::query_as(
            "UPDATE verification_jobs SET status = 'pending', attempts = 0, updated_at = $1 \
             WHERE id = $2 AND status = 'failed' RETURNING support_id, last_error",
        )
        .bind(clock::now())
        .bind(job_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let (support_id, last_error) = found.ok_or(StoreError::NotFound("job"))?;
        crate::audit::append(
            &mut tx,
            actor,
            "verification_job.retry",
            "verification_job",
            job_id,
            Some(serde_json::json!({ "status": "failed", "last_error": last_error })),
            Some(serde_json::json!({ "status": "pending", "support_id": support_id })),
        )
        .await?;
        tx.commit().await.map_err(db)
    }
}

impl Store {
    /// The roll record a verified support's citizen has on the snapshot it was verified
    /// against (their latest issue), for the review desk; `None` when no citizen was found.
    pub async fn support_citizen(&self, support_id: i64) -> Result<Option<RollRecord>, StoreError> {
        let row: Option<(Option<String>, Option<i64>)> =
            sqlx::query_as("SELECT citizen_clave, outcome_snapshot_id FROM supports WHERE id = $1")
                .bind(support_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db)?;
        let Some((Some(clave), Some(snapshot_id))) = row else {
            return Ok(None);
        };
        let rows = sqlx::query(AssertSqlSafe(select_rows(
            snapshot_id,
            "clave_elector = $1",
        )))
        .bind(&clave)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        let mut best: Option<RollRecord> = None;
        for row in rows {
            let record = record_from_row(&row, snapshot_id)?;
            if best
                .as_ref()
                .is_none_or(|b| record.issue_number > b.issue_number)
            {
                best = Some(record);
            }
        }
        Ok(best)
    }
}
