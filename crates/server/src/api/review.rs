//! The Mesa de Control (review queue and decisions), its catalogue and policy, and the
//! hearing (objections). Handlers parse, authorise and call the store; the rules are in
//! `apoyo_domain::review` and `apoyo_store::review`.

use std::time::Duration;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use apoyo_domain::Date;
use apoyo_domain::access::Role;
use apoyo_domain::review::{
    HearingWindow, NOTE_MAX_CHARS, ReviewPolicy, argument_problem, inconsistency_problem,
};
use apoyo_store::{
    AspirantReviewStatus, DecisionResult, InconsistencyType, Objection, ObjectionFilter,
    ObjectionStatus, ReviewKind, ReviewRecord, ReviewSettings, ReviewerHour,
};

use crate::api::json::{ApiJson, ApiPath};
use crate::api::supports::{outcome_label, today_local};
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// How long a reviewer holds a support taken from the queue.
pub const REVIEW_LEASE: Duration = Duration::from_secs(15 * 60);

/// Today in the OPL's calendar.
pub fn today() -> Date {
    today_local(time::OffsetDateTime::now_utc().unix_timestamp())
}

fn staff(auth: &Auth) -> ApiResult<()> {
    auth.require(&[Role::Admin, Role::Reviewer])
}

// ---------- catalogue ----------

#[derive(Debug, Deserialize, ToSchema)]
pub struct CatalogQuery {
    /// Include retired entries (administrators).
    #[serde(default)]
    pub all: bool,
}

/// The inconsistency catalogue (DOMAIN §5.B): staff.
#[utoipa::path(get, path = "/api/v1/inconsistency-types", tag = "review",
    responses((status = 200, body = [Object]), (status = 403, body = ErrorBody)))]
pub async fn list_inconsistency_types(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<CatalogQuery>,
) -> ApiResult<Json<Vec<InconsistencyType>>> {
    staff(&auth)?;
    Ok(Json(state.store.inconsistency_types(query.all).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInconsistencyType {
    pub code: String,
    pub label: String,
    pub invalidates: bool,
}

/// Adds an inconsistency to the catalogue: administrators.
#[utoipa::path(post, path = "/api/v1/inconsistency-types", tag = "review", request_body = NewInconsistencyType,
    responses((status = 201), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_inconsistency_type(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<NewInconsistencyType>,
) -> ApiResult<StatusCode> {
    auth.require(&[Role::Admin])?;
    add_inconsistency(&state, &auth, &body).await?;
    Ok(StatusCode::CREATED)
}

pub(crate) async fn add_inconsistency(
    state: &AppState,
    auth: &Auth,
    body: &NewInconsistencyType,
) -> ApiResult<()> {
    if let Some(problem) = inconsistency_problem(body.code.trim(), &body.label) {
        return Err(ApiError::Unprocessable(problem));
    }
    state
        .store
        .add_inconsistency_type(
            &auth.actor(),
            body.code.trim(),
            &body.label,
            body.invalidates,
        )
        .await?;
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InconsistencyActive {
    pub active: bool,
}

/// Retires an inconsistency or brings it back: administrators.
#[utoipa::path(put, path = "/api/v1/inconsistency-types/{code}", tag = "review",
    params(("code" = String, Path)), request_body = InconsistencyActive,
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn set_inconsistency_active(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<InconsistencyActive>,
) -> ApiResult<StatusCode> {
    auth.require(&[Role::Admin])?;
    state
        .store
        .set_inconsistency_active(&auth.actor(), &code, body.active)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------- policy and hearing window ----------

/// A process's review policy and hearing window.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewSettingsBody {
    /// Share of each aspirant's supports found on the roll that is reviewed, 1–100.
    pub sample_percent: u8,
    /// Invalidating inconsistencies above this share of the sample send the aspirant to full review, 0–100.
    pub full_review_trigger_percent: u8,
    /// First day of the hearing (YYYY-MM-DD), or null.
    pub hearing_opens_on: Option<String>,
    /// Last day of the hearing, or null.
    pub hearing_closes_on: Option<String>,
}

impl From<ReviewSettings> for ReviewSettingsBody {
    fn from(s: ReviewSettings) -> Self {
        Self {
            sample_percent: s.policy.sample_percent,
            full_review_trigger_percent: s.policy.full_review_trigger_percent,
            hearing_opens_on: s.hearing.map(|h| h.opens.to_string()),
            hearing_closes_on: s.hearing.map(|h| h.closes.to_string()),
        }
    }
}

fn parse_day(text: &str, field: &str) -> ApiResult<Date> {
    Date::parse_iso(text.trim()).map_err(|_| {
        ApiError::BadRequest(format!(
            "{field}: «{text}» no es una fecha válida; use AAAA-MM-DD (por ejemplo 2025-03-01)."
        ))
    })
}

pub(crate) fn settings_from_body(body: &ReviewSettingsBody) -> ApiResult<ReviewSettings> {
    let policy = ReviewPolicy {
        sample_percent: body.sample_percent,
        full_review_trigger_percent: body.full_review_trigger_percent,
    };
    if let Some(problem) = policy.problem() {
        return Err(ApiError::Unprocessable(problem));
    }
    let hearing = match (
        body.hearing_opens_on
            .as_deref()
            .filter(|t| !t.trim().is_empty()),
        body.hearing_closes_on
            .as_deref()
            .filter(|t| !t.trim().is_empty()),
    ) {
        (None, None) => None,
        (Some(opens), Some(closes)) => Some(
            HearingWindow::new(
                parse_day(opens, "hearing_opens_on")?,
                parse_day(closes, "hearing_closes_on")?,
            )
            .map_err(ApiError::Unprocessable)?,
        ),
        _ => {
            return Err(ApiError::Unprocessable(
                "Indique las dos fechas de la garantía de audiencia (apertura y cierre), o ninguna.".into(),
            ));
        }
    };
    Ok(ReviewSettings { policy, hearing })
}

/// The review policy and hearing window: staff and the process's aspirants.
#[utoipa::path(get, path = "/api/v1/processes/{id}/review-settings", tag = "review",
    params(("id" = i64, Path)), responses((status = 200, body = ReviewSettingsBody), (status = 404, body = ErrorBody)))]
pub async fn get_review_settings(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(process_id): ApiPath<i64>,
) -> ApiResult<Json<ReviewSettingsBody>> {
    if !auth.principal.role.is_staff() {
        let aspirant = match auth.principal.aspirant_id {
            Some(id) if auth.principal.role == Role::Aspirant => state
                .store
                .aspirant(id)
                .await?
                .ok_or(ApiError::NotFound("aspirant"))?,
            _ => return Err(ApiError::Forbidden),
        };
        if aspirant.process_id != process_id {
            return Err(ApiError::NotFound("process"));
        }
    }
    Ok(Json(state.store.review_settings(process_id).await?.into()))
}

/// Sets the review policy and the hearing window: administrators.
#[utoipa::path(put, path = "/api/v1/processes/{id}/review-settings", tag = "review",
    params(("id" = i64, Path)), request_body = ReviewSettingsBody,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn put_review_settings(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(process_id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReviewSettingsBody>,
) -> ApiResult<StatusCode> {
    auth.require(&[Role::Admin])?;
    let settings = settings_from_body(&body)?;
    state
        .store
        .set_review_settings(&auth.actor(), process_id, &settings)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Where each aspirant stands in the review: staff.
#[utoipa::path(get, path = "/api/v1/processes/{id}/review-status", tag = "review",
    params(("id" = i64, Path)), responses((status = 200, body = [Object])))]
pub async fn get_review_status(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(process_id): ApiPath<i64>,
) -> ApiResult<Json<Vec<AspirantReviewStatus>>> {
    staff(&auth)?;
    Ok(Json(state.store.review_status(process_id).await?))
}

/// Decisions per reviewer per hour (UTC): administrators.
#[utoipa::path(get, path = "/api/v1/reviewers/hours", tag = "review",
    responses((status = 200, body = [Object])))]
pub async fn get_reviewer_hours(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Vec<ReviewerHour>>> {
    auth.require(&[Role::Admin])?;
    Ok(Json(state.store.reviewer_hours(2000).await?))
}

// ---------- the queue ----------

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NextRequest {
    /// Supports already on the reviewer's screen (not to be given again).
    #[serde(default)]
    pub exclude: Vec<i64>,
}

/// What a reviewer needs to decide on one support: the captured data beside the roll's
/// data for that citizen (only what the review needs), the images, the device checks and
/// the image cross-check, and the support's earlier decisions.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewTask {
    pub support_id: i64,
    pub folio: String,
    pub aspirant_id: i64,
    pub aspirant_name: String,
    pub received_at: String,
    pub paper: bool,
    pub outcome: Option<String>,
    pub outcome_label: Option<String>,
    #[schema(value_type = Object)]
    pub captured: Value,
    /// Name, sex, birth date, sección, CIC and issue of the citizen on the roll, or null.
    #[schema(value_type = Option<Object>)]
    pub roll: Option<Value>,
    #[schema(value_type = Object)]
    pub image_urls: Value,
    #[schema(value_type = Option<Object>)]
    pub image_check: Option<Value>,
    #[schema(value_type = Object)]
    pub precheck_failed: Value,
    #[schema(value_type = Vec<Object>)]
    pub reviews: Vec<ReviewRecord>,
    /// Seconds the reviewer holds it.
    pub held_for_seconds: u64,
}

pub(crate) async fn review_task(state: &AppState, support_id: i64) -> ApiResult<ReviewTask> {
    let detail = state
        .store
        .support_detail(support_id)
        .await?
        .ok_or(ApiError::NotFound("support"))?;
    let aspirant = state
        .store
        .aspirant(detail.receipt.aspirant_id)
        .await?
        .ok_or(ApiError::NotFound("aspirant"))?;
    let roll = state.store.support_citizen(support_id).await?.map(|r| {
        json!({
            "name": format!("{} {} {}", r.given_names, r.paternal_surname, r.maternal_surname).trim().to_owned(),
            "sex": r.sex.letter().to_string(),
            "birth_date": r.birth_date.to_string(),
            "state": r.state,
            "section": r.section,
            "model": format!("{:?}", r.model),
            "cic": r.cic,
            "issue_number": r.issue_number,
            "expiry_year": r.expiry_year,
        })
    });
    let image_urls = Value::Object(
        detail
            .receipt
            .images
            .iter()
            .map(|i| {
                (
                    i.kind.as_str().to_owned(),
                    Value::String(format!(
                        "/api/v1/supports/{support_id}/images/{}",
                        i.kind.as_str()
                    )),
                )
            })
            .collect(),
    );
    let image_check = state.store.image_check(support_id).await?.map(|c| {
        json!({
            "status": c.status,
            "label": crate::crosscheck::status_label(&c.status),
            "differences": c.differences,
        })
    });
    Ok(ReviewTask {
        support_id,
        folio: detail.receipt.folio.clone(),
        aspirant_id: aspirant.id,
        aspirant_name: aspirant.name,
        received_at: detail.receipt.received_at.clone(),
        paper: detail.paper,
        outcome_label: detail.receipt.outcome.as_deref().map(outcome_label),
        outcome: detail.receipt.outcome.clone(),
        captured: detail.credential,
        roll,
        image_urls,
        image_check,
        precheck_failed: detail.precheck,
        reviews: state.store.support_reviews(support_id).await?,
        held_for_seconds: REVIEW_LEASE.as_secs(),
    })
}

/// Takes the next support of the process's review queue for the calling reviewer (held
/// for 15 minutes; no other reviewer gets it meanwhile): 204 when the queue is empty.
#[utoipa::path(post, path = "/api/v1/processes/{id}/review/next", tag = "review",
    params(("id" = i64, Path)), request_body = NextRequest,
    responses((status = 200, body = ReviewTask), (status = 204), (status = 403, body = ErrorBody)))]
pub async fn next_review(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(process_id): ApiPath<i64>,
    ApiJson(body): ApiJson<NextRequest>,
) -> ApiResult<Response> {
    staff(&auth)?;
    state
        .store
        .process(process_id)
        .await?
        .ok_or(ApiError::NotFound("process"))?;
    let Some(support_id) = state
        .store
        .claim_review(process_id, auth.user.id, REVIEW_LEASE, &body.exclude)
        .await?
    else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    state
        .store
        .record_access(
            &auth.actor(),
            "support.view",
            "support",
            support_id,
            json!({ "via": "review" }),
        )
        .await?;
    Ok(Json(review_task(&state, support_id).await?).into_response())
}

/// Gives back a support the reviewer holds.
#[utoipa::path(delete, path = "/api/v1/supports/{id}/review/claim", tag = "review",
    params(("id" = i64, Path)), responses((status = 204)))]
pub async fn release_review(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(support_id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    staff(&auth)?;
    state.store.release_review(support_id, auth.user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// Codes from the catalogue; empty: the support is valid.
    #[serde(default)]
    pub inconsistencies: Vec<String>,
    pub note: Option<String>,
}

/// Records a decision. Reviewers decide supports they took from the queue; an
/// administrator (supervisor) may decide any verified support again (a re-review).
#[utoipa::path(post, path = "/api/v1/supports/{id}/review", tag = "review",
    params(("id" = i64, Path)), request_body = DecisionBody,
    responses((status = 200, body = Object), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(support_id): ApiPath<i64>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> ApiResult<Json<DecisionResult>> {
    staff(&auth)?;
    Ok(Json(
        record_decision(&state, &auth, support_id, &body).await?,
    ))
}

pub(crate) async fn record_decision(
    state: &AppState,
    auth: &Auth,
    support_id: i64,
    body: &DecisionBody,
) -> ApiResult<DecisionResult> {
    if body
        .note
        .as_deref()
        .is_some_and(|n| n.chars().count() > NOTE_MAX_CHARS)
    {
        return Err(ApiError::Unprocessable(format!(
            "La nota no puede pasar de {NOTE_MAX_CHARS} caracteres."
        )));
    }
    // A supervisor re-reviews what is no longer open in the queue.
    let kind = if auth.principal.role == Role::Admin
        && !state.store.holds_review(support_id, auth.user.id).await?
        && !state.store.support_reviews(support_id).await?.is_empty()
    {
        ReviewKind::Rereview
    } else {
        ReviewKind::Review
    };
    Ok(state
        .store
        .record_review(
            &auth.actor(),
            auth.user.id,
            support_id,
            kind,
            &body.inconsistencies,
            body.note.as_deref(),
        )
        .await?)
}

/// The decisions on a support: staff, and its aspirant (reviewers are not named to them).
#[utoipa::path(get, path = "/api/v1/supports/{id}/reviews", tag = "review",
    params(("id" = i64, Path)), responses((status = 200, body = [Object]), (status = 404, body = ErrorBody)))]
pub async fn list_reviews(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(support_id): ApiPath<i64>,
) -> ApiResult<Json<Vec<ReviewRecord>>> {
    let receipt = state
        .store
        .support_receipt(support_id)
        .await?
        .ok_or(ApiError::NotFound("support"))?;
    if !auth.principal.can_read_progress(receipt.aspirant_id) {
        return Err(ApiError::NotFound("support"));
    }
    let mut reviews = state.store.support_reviews(support_id).await?;
    if !auth.principal.role.is_staff() {
        for r in &mut reviews {
            r.reviewer_email = "Mesa de Control".into();
            r.reviewer_id = 0;
        }
    }
    Ok(Json(reviews))
}

// ---------- the hearing ----------

/// An objection as both sides see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectionView {
    pub id: i64,
    pub support_id: i64,
    pub folio: String,
    pub aspirant_id: i64,
    pub outcome_at_filing: String,
    pub outcome_at_filing_label: String,
    pub argument: String,
    pub filed_at: String,
    /// `open`, `granted`, `denied`.
    pub status: String,
    pub status_label: String,
    pub resolution_note: Option<String>,
    pub resolved_at: Option<String>,
}

impl From<Objection> for ObjectionView {
    fn from(o: Objection) -> Self {
        Self {
            folio: apoyo_store::folio(o.process_id, o.support_sequence),
            id: o.id,
            support_id: o.support_id,
            aspirant_id: o.aspirant_id,
            outcome_at_filing_label: outcome_label(&o.outcome_at_filing),
            outcome_at_filing: o.outcome_at_filing,
            argument: o.argument,
            filed_at: o.filed_at,
            status: o.status.as_str().into(),
            status_label: o.status.label_es().into(),
            resolution_note: o.resolution_note,
            resolved_at: o.resolved_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectionBody {
    pub argument: String,
}

/// Files an objection to a rejected support (the aspirant, while the hearing is open).
#[utoipa::path(post, path = "/api/v1/supports/{id}/objections", tag = "review",
    params(("id" = i64, Path)), request_body = ObjectionBody,
    responses((status = 201, body = ObjectionView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn file_objection(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(support_id): ApiPath<i64>,
    ApiJson(body): ApiJson<ObjectionBody>,
) -> ApiResult<(StatusCode, Json<ObjectionView>)> {
    let objection = file(&state, &auth, support_id, &body.argument).await?;
    Ok((StatusCode::CREATED, Json(objection.into())))
}

pub(crate) async fn file(
    state: &AppState,
    auth: &Auth,
    support_id: i64,
    argument: &str,
) -> ApiResult<Objection> {
    auth.require(&[Role::Aspirant])?;
    let receipt = state
        .store
        .support_receipt(support_id)
        .await?
        .ok_or(ApiError::NotFound("support"))?;
    if auth.principal.aspirant_id != Some(receipt.aspirant_id) {
        return Err(ApiError::NotFound("support"));
    }
    if let Some(problem) = argument_problem(argument) {
        return Err(ApiError::Unprocessable(problem));
    }
    Ok(state
        .store
        .file_objection(&auth.actor(), support_id, auth.user.id, argument, today())
        .await?)
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ObjectionQuery {
    pub status: Option<String>,
    pub process_id: Option<i64>,
    pub aspirant_id: Option<i64>,
}

/// Objections, oldest first: staff see all (filtered); an aspirant only theirs.
#[utoipa::path(get, path = "/api/v1/objections", tag = "review",
    responses((status = 200, body = [ObjectionView])))]
pub async fn list_objections(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<ObjectionQuery>,
) -> ApiResult<Json<Vec<ObjectionView>>> {
    let status = match query.status.as_deref() {
        None | Some("") => None,
        Some(text) => Some(ObjectionStatus::parse(text).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "status: «{text}» no es un estado; use open, granted o denied."
            ))
        })?),
    };
    let aspirant_id = match auth.principal.role {
        Role::Admin | Role::Reviewer => query.aspirant_id,
        Role::Aspirant => auth.principal.aspirant_id,
        Role::Collector => return Err(ApiError::Forbidden),
    };
    let objections = state
        .store
        .objections(&ObjectionFilter {
            process_id: query.process_id,
            aspirant_id,
            status,
            limit: 10_000,
        })
        .await?;
    Ok(Json(objections.into_iter().map(Into::into).collect()))
}

pub(crate) async fn readable_objection(
    state: &AppState,
    auth: &Auth,
    id: i64,
) -> ApiResult<Objection> {
    let objection = state.store.objection(id).await?;
    if !auth.principal.can_read_progress(objection.aspirant_id) {
        return Err(ApiError::NotFound("objection"));
    }
    Ok(objection)
}

/// One objection: staff, and its aspirant.
#[utoipa::path(get, path = "/api/v1/objections/{id}", tag = "review",
    params(("id" = i64, Path)), responses((status = 200, body = ObjectionView), (status = 404, body = ErrorBody)))]
pub async fn get_objection(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ObjectionView>> {
    Ok(Json(readable_objection(&state, &auth, id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolutionBody {
    /// True: the objection is right (the review's inconsistencies are withdrawn).
    pub granted: bool,
    /// The reasons, shown to the aspirant (at least 10 characters).
    pub note: String,
}

/// Resolves an objection: reviewers and administrators.
#[utoipa::path(post, path = "/api/v1/objections/{id}/resolution", tag = "review",
    params(("id" = i64, Path)), request_body = ResolutionBody,
    responses((status = 200, body = ObjectionView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn resolve_objection(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ResolutionBody>,
) -> ApiResult<Json<ObjectionView>> {
    Ok(Json(resolve(&state, &auth, id, &body).await?.into()))
}

pub(crate) async fn resolve(
    state: &AppState,
    auth: &Auth,
    id: i64,
    body: &ResolutionBody,
) -> ApiResult<Objection> {
    staff(auth)?;
    let chars = body.note.trim().chars().count();
    if !(10..=NOTE_MAX_CHARS).contains(&chars) {
        return Err(ApiError::Unprocessable(format!(
            "Explique la resolución a la persona aspirante (de 10 a {NOTE_MAX_CHARS} caracteres)."
        )));
    }
    Ok(state
        .store
        .resolve_objection(&auth.actor(), id, auth.user.id, body.granted, &body.note)
        .await?)
}

/// Whether an aspirant may see the images of one of their supports: while the hearing is
/// open, for a rejected support.
pub(crate) async fn hearing_allows_images(
    state: &AppState,
    auth: &Auth,
    process_id: i64,
    aspirant_id: i64,
    outcome: Option<&str>,
) -> ApiResult<bool> {
    if auth.principal.role != Role::Aspirant || auth.principal.aspirant_id != Some(aspirant_id) {
        return Ok(false);
    }
    if outcome.is_none_or(|o| o == "valid") {
        return Ok(false);
    }
    let settings = state.store.review_settings(process_id).await?;
    Ok(settings.hearing.is_some_and(|h| h.is_open(today())))
}
