//! An aspirant's progress toward the threshold, and the roll snapshot a process verifies
//! against (changing it re-verifies every support in the background).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use apoyo_domain::access::Role;
use apoyo_store::{Progress, ReverificationStatus};

use crate::api::dto::ProcessView;
use crate::api::json::{ApiJson, ApiPath};
use crate::api::supports::outcome_label;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// Supports with one rejection reason.
#[derive(Debug, Serialize, ToSchema)]
pub struct RejectedCount {
    /// `RollOutcome` code.
    pub outcome: String,
    /// The reason in Spanish.
    pub label: String,
    pub supports: i64,
}

/// One sección of the office's territory.
#[derive(Debug, Serialize, ToSchema)]
pub struct SectionProgressView {
    pub state: i64,
    pub section: i64,
    /// The sección's Lista Nominal at the process's cut.
    pub lista_nominal: i64,
    /// Valid supports it needs to count toward dispersion.
    pub needs: i64,
    pub valid: i64,
    pub reached: bool,
}

/// The dispersion rule: at least `sections_needed` secciones each reaching its share.
#[derive(Debug, Serialize, ToSchema)]
pub struct DispersionView {
    /// Share of the secciones that must reach their share, basis points.
    pub min_sections_bp: u32,
    /// Share of each sección's roll, basis points.
    pub min_support_bp: u32,
    pub sections_total: i64,
    pub sections_needed: i64,
    pub sections_reached: i64,
    pub reached: bool,
    pub sections: Vec<SectionProgressView>,
}

/// An aspirant's figures, exact at the moment of reading.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressView {
    pub aspirant_id: i64,
    pub office_id: i64,
    /// Every support received.
    pub received: i64,
    /// Received and not verified yet.
    pub pending: i64,
    /// Found on the Lista Nominal and counting.
    pub valid: i64,
    /// The others, by reason.
    pub rejected: Vec<RejectedCount>,
    pub required_supports: i64,
    /// Valid supports still missing to reach the threshold (0 once reached).
    pub missing: i64,
    pub threshold_reached: bool,
    /// Null when the office has no dispersion rule.
    pub dispersion: Option<DispersionView>,
    /// Threshold and dispersion both reached.
    pub requirements_met: bool,
}

impl From<Progress> for ProgressView {
    fn from(p: Progress) -> Self {
        let threshold_reached = p.threshold_reached();
        let requirements_met = p.requirements_met();
        Self {
            aspirant_id: p.aspirant_id,
            office_id: p.office_id,
            received: p.received,
            pending: p.pending,
            valid: p.valid,
            rejected: p
                .rejected
                .into_iter()
                .map(|r| RejectedCount {
                    label: outcome_label(&r.outcome),
                    outcome: r.outcome,
                    supports: r.supports,
                })
                .collect(),
            required_supports: p.required,
            missing: (p.required - p.valid).max(0),
            threshold_reached,
            dispersion: p.dispersion.map(|d| DispersionView {
                min_sections_bp: d.rule.min_sections_bp,
                min_support_bp: d.rule.min_support_bp,
                sections_total: d.sections_total,
                sections_needed: d.sections_needed,
                sections_reached: d.sections_reached,
                reached: d.reached(),
                sections: d
                    .sections
                    .into_iter()
                    .map(|s| SectionProgressView {
                        reached: s.reached(),
                        state: s.state,
                        section: s.section,
                        lista_nominal: s.lista_nominal,
                        needs: s.needs,
                        valid: s.valid,
                    })
                    .collect(),
            }),
            requirements_met,
        }
    }
}

/// Progress toward the threshold and the dispersion rule: OPL staff and the aspirant;
/// collectors are refused (403), other aspirants' ids are 404.
#[utoipa::path(get, path = "/api/v1/aspirants/{id}/progress", tag = "supports",
    params(("id" = i64, Path)),
    responses((status = 200, body = ProgressView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_progress(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(aspirant_id): ApiPath<i64>,
) -> ApiResult<Json<ProgressView>> {
    if !auth.principal.can_read_progress(aspirant_id) {
        return Err(if auth.principal.can_read_aspirant(aspirant_id) {
            ApiError::Forbidden
        } else {
            ApiError::NotFound("aspirant")
        });
    }
    let progress = state
        .store
        .aspirant_progress(aspirant_id)
        .await?
        .ok_or(ApiError::NotFound("aspirant"))?;
    Ok(Json(progress.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollSnapshotChange {
    /// Name of an imported roll snapshot.
    pub roll_snapshot: String,
}

/// A batch re-verification of a process's supports.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReverificationView {
    pub id: i64,
    pub process_id: i64,
    pub snapshot_id: i64,
    /// `pending`, `running`, `done`, `failed` or `superseded` (a newer snapshot was chosen).
    pub status: String,
    pub requested_at: String,
    pub finished_at: Option<String>,
    /// Supports checked.
    pub supports: Option<i64>,
    /// Supports whose outcome changed.
    pub changed: Option<i64>,
    pub last_error: Option<String>,
}

impl From<ReverificationStatus> for ReverificationView {
    fn from(r: ReverificationStatus) -> Self {
        Self {
            id: r.id,
            process_id: r.process_id,
            snapshot_id: r.snapshot_id,
            status: r.status,
            requested_at: r.requested_at,
            finished_at: r.finished_at,
            supports: r.supports,
            changed: r.changed,
            last_error: r.last_error,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SnapshotChanged {
    pub process: ProcessView,
    /// The re-verification of every support, run in the background.
    pub reverification: ReverificationView,
}

/// Makes a process verify against another imported roll snapshot (OPL administrator) and
/// re-verifies all its supports in the background. Thresholds stay those of the cut the
/// offices were created with.
#[utoipa::path(put, path = "/api/v1/processes/{id}/roll-snapshot", tag = "processes",
    params(("id" = i64, Path)), request_body = RollSnapshotChange,
    responses((status = 202, body = SnapshotChanged), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_roll_snapshot(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(process_id): ApiPath<i64>,
    ApiJson(request): ApiJson<RollSnapshotChange>,
) -> ApiResult<(StatusCode, Json<SnapshotChanged>)> {
    auth.require(&[Role::Admin])?;
    let (process, run_id) = state
        .store
        .change_roll_snapshot(&auth.actor(), process_id, request.roll_snapshot.trim())
        .await?;
    let run = state
        .store
        .reverification_runs(process_id)
        .await?
        .into_iter()
        .find(|r| r.id == run_id)
        .ok_or(ApiError::NotFound("process"))?;
    Ok((
        StatusCode::ACCEPTED,
        Json(SnapshotChanged {
            process: ProcessView::from(&process),
            reverification: run.into(),
        }),
    ))
}

/// The batch re-verifications of a process, newest first (OPL staff).
#[utoipa::path(get, path = "/api/v1/processes/{id}/reverifications", tag = "processes",
    params(("id" = i64, Path)),
    responses((status = 200, body = [ReverificationView]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_reverifications(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(process_id): ApiPath<i64>,
) -> ApiResult<Json<Vec<ReverificationView>>> {
    auth.require(&[Role::Admin, Role::Reviewer])?;
    state
        .store
        .process(process_id)
        .await?
        .ok_or(ApiError::NotFound("process"))?;
    let runs = state.store.reverification_runs(process_id).await?;
    Ok(Json(runs.into_iter().map(Into::into).collect()))
}

/// Which jobs to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// `failed` (default), `pending`, `running` or `done`.
    pub status: Option<String>,
    /// Only jobs with a greater id (the last id of the previous page).
    pub after_id: Option<i64>,
    /// 1–500, default 100.
    pub limit: Option<i64>,
}

/// A verification job.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    pub id: i64,
    pub support_id: i64,
    pub status: String,
    pub attempts: i64,
    pub enqueued_at: String,
    pub updated_at: String,
    /// The error of the last failed attempt (English, for operators).
    pub last_error: Option<String>,
}

/// Verification jobs by status, oldest first (OPL administrator): the failed ones, with
/// their last error, are what an operator looks at.
#[utoipa::path(get, path = "/api/v1/verification/jobs", tag = "supports", params(JobQuery),
    responses((status = 200, body = [JobView]), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_jobs(
    State(state): State<AppState>,
    auth: Auth,
    axum::extract::Query(query): axum::extract::Query<JobQuery>,
) -> ApiResult<Json<Vec<JobView>>> {
    auth.require(&[Role::Admin])?;
    let status = query.status.as_deref().unwrap_or("failed");
    if !["pending", "running", "done", "failed"].contains(&status) {
        return Err(ApiError::BadRequest(format!(
            "El estado «{status}» no existe; use failed, pending, running o done."
        )));
    }
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit debe estar entre 1 y 500.".into(),
        ));
    }
    let jobs = state
        .store
        .verification_jobs(status, query.after_id.unwrap_or(0), limit)
        .await?;
    Ok(Json(
        jobs.into_iter()
            .map(|j| JobView {
                id: j.id,
                support_id: j.support_id,
                status: j.status,
                attempts: j.attempts,
                enqueued_at: j.enqueued_at,
                updated_at: j.updated_at,
                last_error: j.last_error,
            })
            .collect(),
    ))
}

/// Puts a failed verification job back in the queue (OPL administrator), once the cause
/// of its failures is fixed; recorded in the audit log.
#[utoipa::path(post, path = "/api/v1/verification/jobs/{id}/retry", tag = "supports",
    params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn retry_job(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(job_id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    auth.require(&[Role::Admin])?;
    state
        .store
        .retry_verification_job(&auth.actor(), job_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
