//! The Mesa de Control: the inconsistency catalogue, the review queue built from each
//! process's policy, reviewers' decisions, and the hearing (objections and their
//! resolution). See docs/review.md.

use std::time::Duration;

use apoyo_domain::Date;
use apoyo_domain::review::{HearingWindow, ReviewPolicy, pick_sample};
use serde::Serialize;
use serde_json::json;
use sqlx::AssertSqlSafe;

use crate::audit::{self, Actor};
use crate::dialect::{LockScope, lock_key};
use crate::verification::{db, resolve_group};
use crate::{Conflict, RuleViolation, Store, StoreError, Tx, clock};

/// One entry of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InconsistencyType {
    pub code: String,
    pub label: String,
    pub invalidates: bool,
    pub active: bool,
}

/// A process's review policy and hearing window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ReviewSettings {
    pub policy: ReviewPolicy,
    pub hearing: Option<HearingWindow>,
}

/// What kind of decision a review record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewKind {
    /// The first decision, taken from the queue.
    Review,
    /// A supervisor's new decision on a support already reviewed.
    Rereview,
    /// The resolution of an objection that withdrew the inconsistencies.
    Objection,
}

impl ReviewKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Review => "review",
            Self::Rereview => "rereview",
            Self::Objection => "objection",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "review" => Ok(Self::Review),
            "rereview" => Ok(Self::Rereview),
            "objection" => Ok(Self::Objection),
            other => Err(StoreError::Corrupt(format!("review kind {other:?}"))),
        }
    }

    pub fn label_es(self) -> &'static str {
        match self {
            Self::Review => "Revisión",
            Self::Rereview => "Nueva revisión (supervisión)",
            Self::Objection => "Resolución de objeción",
        }
    }
}

/// One decision recorded on a support.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReviewRecord {
    pub id: i64,
    pub support_id: i64,
    pub reviewer_id: i64,
    pub reviewer_email: String,
    pub kind: ReviewKind,
    pub inconsistencies: Vec<String>,
    pub invalidates: bool,
    pub note: Option<String>,
    pub decided_at: String,
}

/// What a decision changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DecisionResult {
    pub review_id: i64,
    pub invalidates: bool,
    /// The support's outcome code after the decision.
    pub outcome: Option<String>,
    /// The decision sent the aspirant to full review.
    pub full_review_started: bool,
}

/// Where one aspirant stands in the review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AspirantReviewStatus {
    pub aspirant_id: i64,
    pub aspirant_name: String,
    /// Supports found on the roll (the sample's basis).
    pub found: i64,
    pub sample_target: i64,
    pub queued: i64,
    pub reviewed: i64,
    pub invalidated: i64,
    pub full_review: bool,
}

/// Decisions of one reviewer in one hour (UTC, `YYYY-MM-DDTHH`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReviewerHour {
    pub reviewer_id: i64,
    pub reviewer_email: String,
    pub hour: String,
    pub decisions: i64,
}

/// The state of an objection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectionStatus {
    Open,
    Granted,
    Denied,
}

impl ObjectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Granted => "granted",
            Self::Denied => "denied",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "open" => Some(Self::Open),
            "granted" => Some(Self::Granted),
            "denied" => Some(Self::Denied),
            _ => None,
        }
    }

    pub fn label_es(self) -> &'static str {
        match self {
            Self::Open => "En trámite",
            Self::Granted => "Procedente",
            Self::Denied => "Improcedente",
        }
    }
}

/// An aspirant's objection to a rejected support.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Objection {
    pub id: i64,
    pub support_id: i64,
    pub support_sequence: i64,
    pub process_id: i64,
    pub aspirant_id: i64,
    pub filed_by: i64,
    /// The support's outcome code when the objection was filed.
    pub outcome_at_filing: String,
    pub argument: String,
    pub filed_at: String,
    pub status: ObjectionStatus,
    pub resolved_by: Option<i64>,
    pub resolution_note: Option<String>,
    pub resolved_at: Option<String>,
}

/// Filters for listing objections; all optional.
#[derive(Clone, Debug, Default)]
pub struct ObjectionFilter {
    pub process_id: Option<i64>,
    pub aspirant_id: Option<i64>,
    pub status: Option<ObjectionStatus>,
    pub limit: i64,
}

type ObjectionRow = (
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    String,
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
);

const OBJECTION_COLUMNS: &str = "o.id, o.support_id, s.sequence, s.process_id, o.aspirant_id, o.filed_by, \
     o.outcome_at_filing, o.argument, o.filed_at, o.status, o.resolved_by, o.resolution_note, o.resolved_at";

fn objection_from_row(row: ObjectionRow) -> Result<Objection, StoreError> {
    let (
        id,
        support_id,
        support_sequence,
        process_id,
        aspirant_id,
        filed_by,
        outcome_at_filing,
        argument,
        filed_at,
        status,
        resolved_by,
        resolution_note,
        resolved_at,
    ) = row;
    Ok(Objection {
        id,
        support_id,
        support_sequence,
        process_id,
        aspirant_id,
        filed_by,
        outcome_at_filing,
        argument,
        filed_at,
        status: ObjectionStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("objection status {status:?}")))?,
        resolved_by,
        resolution_note,
        resolved_at,
    })
}

/// (process, aspirant, preliminary outcome, citizen, review_invalidated)
type SupportReviewRow = (i64, i64, Option<String>, Option<String>, i64);
/// (id, status, claimed_by, claimed_until, reason)
type ReviewItemRow = (i64, String, Option<i64>, Option<String>, String);
type ReviewRow = (
    i64,
    i64,
    i64,
    String,
    String,
    String,
    i64,
    Option<String>,
    String,
);

fn percent(value: i64) -> u8 {
    u8::try_from(value.clamp(0, 100)).unwrap_or(0)
}

fn parse_date(text: Option<String>) -> Option<Date> {
    text.and_then(|t| Date::parse_iso(&t).ok())
}

/// Like every stored timestamp, at second precision, so text order is time order.
fn future(lease: Duration) -> String {
    clock::format(time::OffsetDateTime::now_utc() + lease)
}

/// A per-process seed for the sample, so the sampled supports cannot be told from the
/// support ids alone.
fn process_seed(process_id: i64, created_at: &str) -> u64 {
    u64::from_le_bytes(
        crate::sha256_hex(format!("{process_id}|{created_at}").as_bytes()).as_bytes()[..8]
            .try_into()
            .unwrap_or([0; 8]),
    )
}

impl Store {
    /// The catalogue, in its order; retired entries only when asked.
    pub async fn inconsistency_types(
        &self,
        include_retired: bool,
    ) -> Result<Vec<InconsistencyType>, StoreError> {
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT code, label, invalidates, active FROM inconsistency_types \
             WHERE active = 1 OR $1 = 1 ORDER BY position, code",
        )
        .bind(i64::from(include_retired))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows
            .into_iter()
            .map(|(code, label, invalidates, active)| InconsistencyType {
                code,
                label,
                invalidates: invalidates == 1,
                active: active == 1,
            })
            .collect())
    }

    /// Adds an entry at the end of the catalogue (the code and label are checked by the
    /// caller with `apoyo_domain::review::inconsistency_problem`).
    pub async fn add_inconsistency_type(
        &self,
        actor: &Actor,
        code: &str,
        label: &str,
        invalidates: bool,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let result = sqlx::query(
            "INSERT INTO inconsistency_types (code, label, invalidates, position, active, created_at) \
             VALUES ($1, $2, $3, (SELECT COALESCE(MAX(position), 0) + 1 FROM inconsistency_types), 1, $4)",
        )
        .bind(code)
        .bind(label.trim())
        .bind(i64::from(invalidates))
        .bind(clock::now())
        .execute(&mut *tx)
        .await
        .map_err(StoreError::Database);
        if let Err(e) = result {
            return Err(if e.is_unique_violation() {
                StoreError::Conflict(Conflict::InconsistencyCodeTaken(code.into()))
            } else {
                e
            });
        }
        audit::append(
            &mut tx,
            actor,
            "inconsistency_type.create",
            "inconsistency_type",
            code,
            None,
            Some(json!({ "label": label.trim(), "invalidates": invalidates })),
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    /// Retires an entry (reviewers no longer see it) or brings it back. Decisions already
    /// taken with it keep it.
    pub async fn set_inconsistency_active(
        &self,
        actor: &Actor,
        code: &str,
        active: bool,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let changed = sqlx::query("UPDATE inconsistency_types SET active = $1 WHERE code = $2")
            .bind(i64::from(active))
            .bind(code)
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound("inconsistency type"));
        }
        audit::append(
            &mut tx,
            actor,
            if active {
                "inconsistency_type.activate"
            } else {
                "inconsistency_type.retire"
            },
            "inconsistency_type",
            code,
            None,
            None,
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    pub async fn review_settings(&self, process_id: i64) -> Result<ReviewSettings, StoreError> {
        let row: Option<(i64, i64, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT review_sample_percent, review_trigger_percent, hearing_opens_on, hearing_closes_on \
             FROM processes WHERE id = $1",
        )
        .bind(process_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        let (sample, trigger, opens, closes) = row.ok_or(StoreError::NotFound("process"))?;
        let hearing = match (parse_date(opens), parse_date(closes)) {
            (Some(opens), Some(closes)) => HearingWindow::new(opens, closes).ok(),
            _ => None,
        };
        Ok(ReviewSettings {
            policy: ReviewPolicy {
                sample_percent: percent(sample),
                full_review_trigger_percent: percent(trigger),
            },
            hearing,
        })
    }

    /// Sets the policy (checked by the caller) and the hearing window (`None` closes it).
    pub async fn set_review_settings(
        &self,
        actor: &Actor,
        process_id: i64,
        settings: &ReviewSettings,
    ) -> Result<(), StoreError> {
        let before = self.review_settings(process_id).await?;
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE processes SET review_sample_percent = $1, review_trigger_percent = $2, \
             hearing_opens_on = $3, hearing_closes_on = $4 WHERE id = $5",
        )
        .bind(i64::from(settings.policy.sample_percent))
        .bind(i64::from(settings.policy.full_review_trigger_percent))
        .bind(settings.hearing.map(|h| h.opens.to_string()))
        .bind(settings.hearing.map(|h| h.closes.to_string()))
        .bind(process_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        audit::append(
            &mut tx,
            actor,
            "process.review_settings",
            "process",
            process_id,
            serde_json::to_value(before).ok(),
            serde_json::to_value(settings).ok(),
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    /// Tops up the queue of a process from its policy: for each aspirant, the sample of
    /// supports found on the roll grows to its target (new supports keep arriving), and an
    /// aspirant in full review gets every support found on the roll. Returns how many
    /// supports were queued.
    pub async fn refill_review_queue(&self, process_id: i64) -> Result<u64, StoreError> {
        let settings = self.review_settings(process_id).await?;
        let created_at: String =
            sqlx::query_scalar("SELECT created_at FROM processes WHERE id = $1")
                .bind(process_id)
                .fetch_one(&self.pool)
                .await
                .map_err(db)?;
        let seed = process_seed(process_id, &created_at);
        let aspirants: Vec<(i64, Option<String>)> = sqlx::query_as(
            "SELECT a.id, r.full_review_since FROM aspirants a \
             LEFT JOIN aspirant_reviews r ON r.aspirant_id = a.id WHERE a.process_id = $1 ORDER BY a.id",
        )
        .bind(process_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        let mut queued = 0u64;
        for (aspirant_id, full_review) in aspirants {
            let mut tx = self.begin().await?;
            // One refill of an aspirant at a time across instances.
            self.lock_for_transaction(&mut tx, LockScope::ReviewQueue, aspirant_id)
                .await?;
            let found: i64 = sqlx::query_scalar(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM supports \
                 WHERE aspirant_id = $1 AND preliminary_outcome = 'valid'",
            )
            .bind(aspirant_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            let sampled: i64 = sqlx::query_scalar(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM review_items WHERE aspirant_id = $1",
            )
            .bind(aspirant_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            let target = if full_review.is_some() {
                found
            } else {
                i64::try_from(
                    settings
                        .policy
                        .sample_target(u64::try_from(found).unwrap_or(0)),
                )
                .unwrap_or(i64::MAX)
            };
            let wanted = usize::try_from(target - sampled).unwrap_or(0);
            if wanted == 0 {
                tx.commit().await.map_err(db)?;
                continue;
            }
            let candidates: Vec<i64> = sqlx::query_scalar(
                "SELECT s.id FROM supports s WHERE s.aspirant_id = $1 AND s.preliminary_outcome = 'valid' \
                 AND NOT EXISTS (SELECT 1 FROM review_items i WHERE i.support_id = s.id)",
            )
            .bind(aspirant_id)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
            let mut picked = pick_sample(&candidates, wanted, seed);
            // Reviewers see a sample in reception order.
            picked.sort_unstable();
            let reason = if full_review.is_some() {
                "full"
            } else {
                "sample"
            };
            let now = clock::now();
            for support_id in &picked {
                sqlx::query(
                    "INSERT INTO review_items (support_id, process_id, aspirant_id, reason, status, queued_at) \
                     VALUES ($1, $2, $3, $4, 'open', $5)",
                )
                .bind(support_id)
                .bind(process_id)
                .bind(aspirant_id)
                .bind(reason)
                .bind(&now)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            }
            tx.commit().await.map_err(db)?;
            queued += picked.len() as u64;
        }
        Ok(queued)
    }

    /// Gives `reviewer_id` the next support of the process's queue and holds it for them
    /// for `lease`. A support the reviewer already holds (and did not list in `exclude`,
    /// the ones already on their screen) comes first; no two reviewers ever hold the same
    /// support at once. Refills the queue when it runs dry. `None`: nothing to review.
    pub async fn claim_review(
        &self,
        process_id: i64,
        reviewer_id: i64,
        lease: Duration,
        exclude: &[i64],
    ) -> Result<Option<i64>, StoreError> {
        for attempt in 0..2 {
            if let Some(id) = self
                .try_claim_review(process_id, reviewer_id, lease, exclude)
                .await?
            {
                return Ok(Some(id));
            }
            if attempt == 0 && self.refill_review_queue(process_id).await? == 0 {
                break;
            }
        }
        Ok(None)
    }

    async fn try_claim_review(
        &self,
        process_id: i64,
        reviewer_id: i64,
        lease: Duration,
        exclude: &[i64],
    ) -> Result<Option<i64>, StoreError> {
        let now = clock::now();
        let until = future(lease);
        let exclude_json = serde_json::to_string(exclude).unwrap_or_else(|_| "[]".into());
        let backend = self.backend();
        let mut tx = self.begin().await?;
        let candidate: Option<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT id FROM review_items WHERE process_id = $1 AND status = 'open' \
             AND (claimed_by IS NULL OR claimed_until < $2 OR claimed_by = $3) \
             AND support_id NOT IN ({}) \
             ORDER BY CASE WHEN claimed_by = $3 THEN 0 ELSE 1 END, id LIMIT 1{}",
            crate::dialect::json_list(backend, "$4", "BIGINT"),
            self.skip_locked()
        )))
        .bind(process_id)
        .bind(&now)
        .bind(reviewer_id)
        .bind(&exclude_json)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let Some(item_id) = candidate else {
            tx.commit().await.map_err(db)?;
            return Ok(None);
        };
        let support_id: i64 = sqlx::query_scalar(
            "UPDATE review_items SET claimed_by = $1, claimed_until = $2 WHERE id = $3 RETURNING support_id",
        )
        .bind(reviewer_id)
        .bind(&until)
        .bind(item_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(Some(support_id))
    }

    /// Gives back a support the reviewer holds (leaving the desk).
    pub async fn release_review(
        &self,
        support_id: i64,
        reviewer_id: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE review_items SET claimed_by = NULL, claimed_until = NULL \
             WHERE support_id = $1 AND claimed_by = $2 AND status = 'open'",
        )
        .bind(support_id)
        .bind(reviewer_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    /// Whether `reviewer_id` holds `support_id` right now.
    pub async fn holds_review(
        &self,
        support_id: i64,
        reviewer_id: i64,
    ) -> Result<bool, StoreError> {
        let held: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM review_items WHERE support_id = $1 AND claimed_by = $2 \
             AND status = 'open' AND claimed_until >= $3",
        )
        .bind(support_id)
        .bind(reviewer_id)
        .bind(clock::now())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        Ok(held.is_some())
    }

    /// Records a decision: `codes` are inconsistency codes of the active catalogue (empty:
    /// valid). A `Review` needs the support to be in the queue and not held by someone else;
    /// a `Rereview` (supervisors) may be taken on any verified support. The support's group
    /// is resolved again, so an invalidated support stops counting and a later support of
    /// the same citizen may count instead. May send the aspirant to full review.
    pub async fn record_review(
        &self,
        actor: &Actor,
        reviewer_id: i64,
        support_id: i64,
        kind: ReviewKind,
        codes: &[String],
        note: Option<&str>,
    ) -> Result<DecisionResult, StoreError> {
        let catalogue = self.inconsistency_types(false).await?;
        let mut codes: Vec<String> = codes.to_vec();
        codes.sort();
        codes.dedup();
        let mut invalidates = false;
        for code in &codes {
            match catalogue.iter().find(|t| &t.code == code) {
                Some(t) => invalidates |= t.invalidates,
                None => {
                    return Err(StoreError::Rule(RuleViolation::UnknownInconsistency(
                        code.clone(),
                    )));
                }
            }
        }
        let now = clock::now();
        let mut tx = self.begin().await?;
        let support: Option<SupportReviewRow> = sqlx::query_as(
            "SELECT process_id, aspirant_id, preliminary_outcome, citizen_clave, review_invalidated \
             FROM supports WHERE id = $1",
        )
        .bind(support_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let (process_id, aspirant_id, preliminary, _, was_invalidated) =
            support.ok_or(StoreError::NotFound("support"))?;
        if preliminary.is_none() {
            return Err(StoreError::Rule(RuleViolation::NotVerified(support_id)));
        }
        let item: Option<ReviewItemRow> = sqlx::query_as(
            "SELECT id, status, claimed_by, claimed_until, reason FROM review_items WHERE support_id = $1",
        )
        .bind(support_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let mut sample_decision = false;
        match kind {
            ReviewKind::Review => {
                let Some((item_id, status, claimed_by, claimed_until, reason)) = item else {
                    return Err(StoreError::Rule(RuleViolation::NotInReviewQueue(
                        support_id,
                    )));
                };
                if status != "open" {
                    return Err(StoreError::Rule(RuleViolation::NotInReviewQueue(
                        support_id,
                    )));
                }
                let held_by_other = claimed_by.is_some_and(|by| by != reviewer_id)
                    && claimed_until
                        .as_deref()
                        .is_some_and(|until| until >= now.as_str());
                if held_by_other {
                    return Err(StoreError::Conflict(Conflict::ReviewHeldByOther(
                        support_id,
                    )));
                }
                sqlx::query(
                    "UPDATE review_items SET status = 'done', claimed_by = $1, claimed_until = NULL, done_at = $2 \
                     WHERE id = $3",
                )
                .bind(reviewer_id)
                .bind(&now)
                .bind(item_id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                sample_decision = reason == "sample";
            }
            ReviewKind::Rereview | ReviewKind::Objection => {
                // Whatever was queued for this support is settled by this decision.
                if let Some((item_id, ..)) = item {
                    sqlx::query(
                        "UPDATE review_items SET status = 'done', claimed_until = NULL, \
                         done_at = COALESCE(done_at, $1) WHERE id = $2",
                    )
                    .bind(&now)
                    .bind(item_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                }
            }
        }
        let codes_json = serde_json::to_string(&codes).unwrap_or_else(|_| "[]".into());
        let review_id: i64 = sqlx::query_scalar(
            "INSERT INTO reviews (support_id, reviewer_id, kind, inconsistencies_json, invalidates, note, decided_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(support_id)
        .bind(reviewer_id)
        .bind(kind.as_str())
        .bind(&codes_json)
        .bind(i64::from(invalidates))
        .bind(note.map(str::trim).filter(|n| !n.is_empty()))
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        let outcome = if (was_invalidated == 1) != invalidates {
            sqlx::query("UPDATE supports SET review_invalidated = $1 WHERE id = $2")
                .bind(i64::from(invalidates))
                .bind(support_id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            self.resolve_support_group(&mut tx, process_id, support_id, &now)
                .await?
        } else {
            sqlx::query_scalar("SELECT outcome FROM supports WHERE id = $1")
                .bind(support_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?
        };
        audit::append(
            &mut tx,
            actor,
            &format!("support.{}", kind.as_str()),
            "support",
            support_id,
            None,
            Some(json!({
                "review_id": review_id,
                "inconsistencies": codes,
                "invalidates": invalidates,
                "outcome": outcome,
            })),
        )
        .await?;
        let full_review_started = if sample_decision && invalidates {
            self.maybe_start_full_review(&mut tx, actor, process_id, aspirant_id, &now)
                .await?
        } else {
            false
        };
        tx.commit().await.map_err(db)?;
        Ok(DecisionResult {
            review_id,
            invalidates,
            outcome,
            full_review_started,
        })
    }

    /// Resolves the duplicate group of a support again (its review status changed).
    /// Returns its outcome code afterwards.
    async fn resolve_support_group(
        &self,
        tx: &mut Tx<'_>,
        process_id: i64,
        support_id: i64,
        now: &str,
    ) -> Result<Option<String>, StoreError> {
        let (office_id, citizen, snapshot_id): (i64, Option<String>, i64) = sqlx::query_as(
            "SELECT s.office_id, s.citizen_clave, p.roll_snapshot_id FROM supports s \
             JOIN processes p ON p.id = s.process_id WHERE s.id = $1",
        )
        .bind(support_id)
        .fetch_one(&mut **tx)
        .await
        .map_err(db)?;
        self.lock_process_shared(tx, process_id).await?;
        if let Some(clave) = &citizen {
            self.lock_for_transaction(
                tx,
                LockScope::DuplicateGroup,
                lock_key(&format!("{office_id}|{clave}")),
            )
            .await?;
        }
        let group = resolve_group(
            tx,
            process_id,
            office_id,
            citizen.as_deref(),
            support_id,
            snapshot_id,
            now,
        )
        .await?;
        Ok(group
            .into_iter()
            .find(|(id, ..)| *id == support_id)
            .map(|(_, _, resolved)| resolved.outcome.code()))
    }

    async fn maybe_start_full_review(
        &self,
        tx: &mut Tx<'_>,
        actor: &Actor,
        process_id: i64,
        aspirant_id: i64,
        now: &str,
    ) -> Result<bool, StoreError> {
        let already: Option<String> = sqlx::query_scalar(
            "SELECT full_review_since FROM aspirant_reviews WHERE aspirant_id = $1",
        )
        .bind(aspirant_id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db)?;
        if already.is_some() {
            return Ok(false);
        }
        let (sample, trigger): (i64, i64) = sqlx::query_as(
            "SELECT review_sample_percent, review_trigger_percent FROM processes WHERE id = $1",
        )
        .bind(process_id)
        .fetch_one(&mut **tx)
        .await
        .map_err(db)?;
        let policy = ReviewPolicy {
            sample_percent: percent(sample),
            full_review_trigger_percent: percent(trigger),
        };
        let (found, reviewed, invalidated) = sample_counts(tx, aspirant_id).await?;
        let target = policy.sample_target(u64::try_from(found).unwrap_or(0));
        if !policy.needs_full_review(
            target,
            u64::try_from(reviewed).unwrap_or(0),
            u64::try_from(invalidated).unwrap_or(0),
        ) {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO aspirant_reviews (aspirant_id, full_review_since) VALUES ($1, $2)",
        )
        .bind(aspirant_id)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
        audit::append(
            tx,
            actor,
            "aspirant.full_review",
            "aspirant",
            aspirant_id,
            None,
            Some(json!({
                "sample_target": target, "reviewed": reviewed, "invalidated": invalidated,
                "trigger_percent": policy.full_review_trigger_percent,
            })),
        )
        .await?;
        Ok(true)
    }

    /// Every decision on a support, oldest first.
    pub async fn support_reviews(&self, support_id: i64) -> Result<Vec<ReviewRecord>, StoreError> {
        let rows: Vec<ReviewRow> =
            sqlx::query_as(
                "SELECT r.id, r.support_id, r.reviewer_id, u.email, r.kind, r.inconsistencies_json, \
                 r.invalidates, r.note, r.decided_at FROM reviews r JOIN users u ON u.id = r.reviewer_id \
                 WHERE r.support_id = $1 ORDER BY r.id",
            )
            .bind(support_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.into_iter()
            .map(
                |(
                    id,
                    support_id,
                    reviewer_id,
                    email,
                    kind,
                    codes,
                    invalidates,
                    note,
                    decided_at,
                )| {
                    Ok(ReviewRecord {
                        id,
                        support_id,
                        reviewer_id,
                        reviewer_email: email,
                        kind: ReviewKind::parse(&kind)?,
                        inconsistencies: serde_json::from_str(&codes).map_err(|e| {
                            StoreError::Corrupt(format!("review {id} inconsistencies: {e}"))
                        })?,
                        invalidates: invalidates == 1,
                        note,
                        decided_at,
                    })
                },
            )
            .collect()
    }

    /// Where each aspirant of a process stands in the review.
    pub async fn review_status(
        &self,
        process_id: i64,
    ) -> Result<Vec<AspirantReviewStatus>, StoreError> {
        let settings = self.review_settings(process_id).await?;
        let aspirants: Vec<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT a.id, a.name, r.full_review_since FROM aspirants a \
             LEFT JOIN aspirant_reviews r ON r.aspirant_id = a.id WHERE a.process_id = $1 ORDER BY a.id",
        )
        .bind(process_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        let mut out = Vec::with_capacity(aspirants.len());
        let mut tx = self.pool.begin().await.map_err(db)?;
        for (aspirant_id, name, full) in aspirants {
            let (found, reviewed, invalidated) = sample_counts(&mut tx, aspirant_id).await?;
            let queued: i64 = sqlx::query_scalar(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM review_items WHERE aspirant_id = $1 AND status = 'open'",
            )
            .bind(aspirant_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            out.push(AspirantReviewStatus {
                aspirant_id,
                aspirant_name: name,
                found,
                sample_target: i64::try_from(
                    settings
                        .policy
                        .sample_target(u64::try_from(found).unwrap_or(0)),
                )
                .unwrap_or(i64::MAX),
                queued,
                reviewed,
                invalidated,
                full_review: full.is_some(),
            });
        }
        tx.commit().await.map_err(db)?;
        Ok(out)
    }

    /// Decisions per reviewer per hour, newest hour first.
    pub async fn reviewer_hours(&self, limit: i64) -> Result<Vec<ReviewerHour>, StoreError> {
        let rows: Vec<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT r.reviewer_id, u.email, SUBSTR(r.decided_at, 1, 13) AS hour, CAST(COUNT(*) AS BIGINT) \
             FROM reviews r JOIN users u ON u.id = r.reviewer_id \
             GROUP BY r.reviewer_id, u.email, SUBSTR(r.decided_at, 1, 13) \
             ORDER BY hour DESC, u.email LIMIT $1",
        )
        .bind(limit.clamp(1, 10_000))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows
            .into_iter()
            .map(
                |(reviewer_id, reviewer_email, hour, decisions)| ReviewerHour {
                    reviewer_id,
                    reviewer_email,
                    hour,
                    decisions,
                },
            )
            .collect())
    }

    /// Files an objection. The caller checked the argument and that the user is the
    /// support's aspirant; this checks that the hearing is open `today`, that the support
    /// is rejected, and that it has no objection in progress.
    pub async fn file_objection(
        &self,
        actor: &Actor,
        support_id: i64,
        filed_by: i64,
        argument: &str,
        today: Date,
    ) -> Result<Objection, StoreError> {
        let (process_id, aspirant_id, outcome): (i64, i64, Option<String>) =
            sqlx::query_as("SELECT process_id, aspirant_id, outcome FROM supports WHERE id = $1")
                .bind(support_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db)?
                .ok_or(StoreError::NotFound("support"))?;
        let settings = self.review_settings(process_id).await?;
        if !settings.hearing.is_some_and(|h| h.is_open(today)) {
            return Err(StoreError::Rule(RuleViolation::HearingClosed));
        }
        let outcome = match outcome {
            Some(o) if o != "valid" => o,
            _ => return Err(StoreError::Rule(RuleViolation::NotRejected(support_id))),
        };
        let mut tx = self.begin().await?;
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO objections (support_id, aspirant_id, filed_by, outcome_at_filing, argument, filed_at, status) \
             VALUES ($1, $2, $3, $4, $5, $6, 'open') RETURNING id",
        )
        .bind(support_id)
        .bind(aspirant_id)
        .bind(filed_by)
        .bind(&outcome)
        .bind(argument.trim())
        .bind(clock::now())
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::Database);
        let id = match inserted {
            Ok(id) => id,
            Err(e) if e.is_unique_violation() => {
                return Err(StoreError::Conflict(Conflict::ObjectionOpen(support_id)));
            }
            Err(e) => return Err(e),
        };
        audit::append(
            &mut tx,
            actor,
            "objection.file",
            "objection",
            id,
            None,
            Some(json!({ "support_id": support_id, "outcome": outcome, "argument": argument.trim() })),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        self.objection(id).await
    }

    pub async fn objection(&self, id: i64) -> Result<Objection, StoreError> {
        let row: Option<ObjectionRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {OBJECTION_COLUMNS} FROM objections o JOIN supports s ON s.id = o.support_id WHERE o.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        objection_from_row(row.ok_or(StoreError::NotFound("objection"))?)
    }

    /// Objections, oldest first (the order they are answered in).
    pub async fn objections(&self, filter: &ObjectionFilter) -> Result<Vec<Objection>, StoreError> {
        let rows: Vec<ObjectionRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {OBJECTION_COLUMNS} FROM objections o JOIN supports s ON s.id = o.support_id \
             WHERE ($1 IS NULL OR s.process_id = $1) AND ($2 IS NULL OR o.aspirant_id = $2) \
             AND ($3 IS NULL OR o.status = $3) ORDER BY o.id LIMIT $4"
        )))
        .bind(filter.process_id)
        .bind(filter.aspirant_id)
        .bind(filter.status.map(ObjectionStatus::as_str))
        .bind(filter.limit.clamp(1, 10_000))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.into_iter().map(objection_from_row).collect()
    }

    /// Resolves an objection. Granting withdraws the review desk's inconsistencies (a new
    /// decision of kind `objection`, with none); it is refused when the rejection came
    /// from the roll check, which a reviewer's answer cannot change.
    pub async fn resolve_objection(
        &self,
        actor: &Actor,
        objection_id: i64,
        reviewer_id: i64,
        granted: bool,
        note: &str,
    ) -> Result<Objection, StoreError> {
        let objection = self.objection(objection_id).await?;
        if objection.status != ObjectionStatus::Open {
            return Err(StoreError::Conflict(Conflict::ObjectionResolved(
                objection_id,
            )));
        }
        if granted {
            let invalidated: i64 =
                sqlx::query_scalar("SELECT review_invalidated FROM supports WHERE id = $1")
                    .bind(objection.support_id)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(db)?;
            if invalidated != 1 {
                return Err(StoreError::Rule(RuleViolation::RollRejectionNotGrantable(
                    objection.support_id,
                )));
            }
            self.record_review(
                actor,
                reviewer_id,
                objection.support_id,
                ReviewKind::Objection,
                &[],
                Some(note),
            )
            .await?;
        }
        let status = if granted {
            ObjectionStatus::Granted
        } else {
            ObjectionStatus::Denied
        };
        let mut tx = self.begin().await?;
        let changed = sqlx::query(
            "UPDATE objections SET status = $1, resolved_by = $2, resolution_note = $3, resolved_at = $4 \
             WHERE id = $5 AND status = 'open'",
        )
        .bind(status.as_str())
        .bind(reviewer_id)
        .bind(note.trim())
        .bind(clock::now())
        .bind(objection_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::Conflict(Conflict::ObjectionResolved(
                objection_id,
            )));
        }
        audit::append(
            &mut tx,
            actor,
            "objection.resolve",
            "objection",
            objection_id,
            None,
            Some(json!({ "status": status.as_str(), "note": note.trim(), "support_id": objection.support_id })),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        self.objection(objection_id).await
    }
}

/// (found on the roll, sample items reviewed, sample items whose latest decision invalidates)
/// for an aspirant. Only the sample counts toward the full-review trigger.
async fn sample_counts(
    executor: &mut sqlx::AnyConnection,
    aspirant_id: i64,
) -> Result<(i64, i64, i64), StoreError> {
    let found: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM supports WHERE aspirant_id = $1 AND preliminary_outcome = 'valid'",
    )
    .bind(aspirant_id)
    .fetch_one(&mut *executor)
    .await
    .map_err(db)?;
    let (reviewed, invalidated): (i64, Option<i64>) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT), CAST(SUM(s.review_invalidated) AS BIGINT) FROM review_items i \
         JOIN supports s ON s.id = i.support_id \
         WHERE i.aspirant_id = $1 AND i.reason = 'sample' AND i.status = 'done'",
    )
    .bind(aspirant_id)
    .fetch_one(&mut *executor)
    .await
    .map_err(db)?;
    Ok((found, reviewed, invalidated.unwrap_or(0)))
}
