//! OPL administration: processes, offices, staff accounts, roll snapshots, audit log.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use apoyo_domain::Date;
use apoyo_domain::access::Role;
use apoyo_domain::threshold::{DispersionRule, ThresholdRule};
use apoyo_store::{AuditFilter, NewOffice, NewProcess, NewUser, OfficeKind, ProcessKind};

use crate::api::dto::{
    AuditView, CreatedAccount, OfficeView, ProcessView, SnapshotView, UserCreated, UserView,
};
use crate::api::json::{ApiJson, ApiPath};
use crate::auth::{self, Auth};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

const STAFF: &[Role] = &[Role::Admin, Role::Reviewer];
const ADMIN: &[Role] = &[Role::Admin];

fn date(field: &str, text: &str) -> ApiResult<Date> {
    Date::parse_iso(text).map_err(|_| {
        ApiError::BadRequest(format!(
            "El campo {field} debe ser una fecha AAAA-MM-DD real; se recibió «{text}»."
        ))
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProcessRequest {
    pub name: String,
    /// `independent_candidacy`, `popular_consultation`, `recall_referendum` or `party_affiliation`.
    pub kind: String,
    /// YYYY-MM-DD.
    pub collection_starts_on: String,
    pub collection_ends_on: String,
    pub grace_hours: u32,
    /// Name of an imported roll snapshot.
    pub roll_snapshot: String,
    /// [entidad, municipio] pairs (INE numbering) where paper supports are allowed.
    #[serde(default)]
    pub paper_municipalities: Vec<[u16; 2]>,
}

/// Creates a process (convocatoria).
#[utoipa::path(post, path = "/api/v1/processes", tag = "processes", request_body = NewProcessRequest,
    responses((status = 201, body = ProcessView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_process(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(request): ApiJson<NewProcessRequest>,
) -> ApiResult<(StatusCode, Json<ProcessView>)> {
    auth.require(ADMIN)?;
    if request.name.trim().is_empty() {
        return Err(ApiError::BadRequest(
            "El proceso necesita un nombre.".into(),
        ));
    }
    let kind = ProcessKind::parse(&request.kind).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "Tipo de proceso desconocido «{}»: use independent_candidacy, popular_consultation, recall_referendum o party_affiliation.",
            request.kind
        ))
    })?;
    let mut paper = Vec::with_capacity(request.paper_municipalities.len());
    for [state_number, municipality] in request.paper_municipalities {
        let state_number = u8::try_from(state_number)
            .ok()
            .filter(|s| (1..=32).contains(s))
            .ok_or_else(|| {
                ApiError::BadRequest(format!("Entidad {state_number} no válida (01 a 32)."))
            })?;
        paper.push((state_number, municipality));
    }
    let process = state
        .store
        .create_process(
            &auth.actor(),
            NewProcess {
                name: request.name,
                kind,
                collection_starts_on: date("collection_starts_on", &request.collection_starts_on)?,
                collection_ends_on: date("collection_ends_on", &request.collection_ends_on)?,
                grace_hours: request.grace_hours,
                roll_snapshot: request.roll_snapshot,
                paper_municipalities: paper,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(ProcessView::from(&process))))
}

/// Lists processes (staff see all; aspirants and collectors see their own).
#[utoipa::path(get, path = "/api/v1/processes", tag = "processes",
    responses((status = 200, body = [ProcessView]), (status = 401, body = ErrorBody)))]
pub async fn list_processes(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Vec<ProcessView>>> {
    let own_process = match auth.principal.aspirant_id {
        Some(aspirant_id) if !auth.principal.role.is_staff() => state
            .store
            .aspirant(aspirant_id)
            .await?
            .map(|a| a.process_id),
        _ => None,
    };
    let processes = state.store.processes().await?;
    Ok(Json(
        processes
            .iter()
            .filter(|p| auth.principal.role.is_staff() || own_process == Some(p.id))
            .map(ProcessView::from)
            .collect(),
    ))
}

async fn readable_process(
    state: &AppState,
    auth: &Auth,
    id: i64,
) -> ApiResult<apoyo_store::Process> {
    let process = state
        .store
        .process(id)
        .await?
        .ok_or(ApiError::NotFound("process"))?;
    if auth.principal.role.is_staff() {
        return Ok(process);
    }
    let own = match auth.principal.aspirant_id {
        Some(aspirant_id) => state
            .store
            .aspirant(aspirant_id)
            .await?
            .map(|a| a.process_id),
        None => None,
    };
    if own == Some(id) {
        Ok(process)
    } else {
        Err(ApiError::NotFound("process"))
    }
}

#[utoipa::path(get, path = "/api/v1/processes/{id}", tag = "processes", params(("id" = i64, Path)),
    responses((status = 200, body = ProcessView), (status = 404, body = ErrorBody)))]
pub async fn get_process(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ProcessView>> {
    Ok(Json(ProcessView::from(
        &readable_process(&state, &auth, id).await?,
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOfficeRequest {
    /// `ayuntamiento`, `local_district` or `state`.
    pub kind: String,
    pub name: String,
    /// Entidad, 1–32.
    pub state: u8,
    /// Required for an ayuntamiento (INE numbering); its territory is every sección of it.
    pub municipality: Option<u16>,
    pub district: Option<u16>,
    /// Explicit territory; required for a local district.
    pub sections: Option<Vec<u16>>,
    /// `percent` (value in basis points: 300 = 3 %) or `fixed` (a count).
    pub threshold_kind: String,
    pub threshold_value: u64,
    #[serde(default)]
    pub dispersion_min_sections_bp: u32,
    #[serde(default)]
    pub dispersion_min_support_bp: u32,
}

/// Adds an office with its territory and threshold to a process.
#[utoipa::path(post, path = "/api/v1/processes/{id}/offices", tag = "processes", params(("id" = i64, Path)),
    request_body = NewOfficeRequest,
    responses((status = 201, body = OfficeView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_office(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(process_id): ApiPath<i64>,
    ApiJson(request): ApiJson<NewOfficeRequest>,
) -> ApiResult<(StatusCode, Json<OfficeView>)> {
    auth.require(ADMIN)?;
    let kind = OfficeKind::parse(&request.kind).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "Tipo de cargo desconocido «{}»: use ayuntamiento, local_district o state.",
            request.kind
        ))
    })?;
    if !(1..=32).contains(&request.state) {
        return Err(ApiError::BadRequest(format!(
            "Entidad {} no válida (01 a 32).",
            request.state
        )));
    }
    if kind == OfficeKind::Ayuntamiento
        && request.municipality.is_none()
        && request.sections.is_none()
    {
        return Err(ApiError::BadRequest(
            "Un ayuntamiento necesita el municipio (municipality).".into(),
        ));
    }
    if kind == OfficeKind::LocalDistrict && request.sections.is_none() {
        return Err(ApiError::BadRequest(
            "Un distrito local necesita la lista de sus secciones (sections).".into(),
        ));
    }
    let threshold = match request.threshold_kind.as_str() {
        "percent" if (1..=10_000).contains(&request.threshold_value) => {
            ThresholdRule::Percent(u32::try_from(request.threshold_value).unwrap_or(10_000))
        }
        "fixed" if request.threshold_value > 0 => ThresholdRule::Fixed(request.threshold_value),
        _ => {
            return Err(ApiError::BadRequest(
                "El umbral es percent (en centésimas de punto: 300 = 3 %, de 1 a 10000) o fixed (un número mayor que 0).".into(),
            ));
        }
    };
    if request.dispersion_min_sections_bp > 10_000 || request.dispersion_min_support_bp > 10_000 {
        return Err(ApiError::BadRequest(
            "Los porcentajes de dispersión van de 0 a 10000 (centésimas de punto).".into(),
        ));
    }
    let office = state
        .store
        .create_office(
            &auth.actor(),
            process_id,
            NewOffice {
                kind,
                name: request.name,
                state: request.state,
                municipality: request.municipality,
                district: request.district,
                sections: request.sections,
                threshold,
                dispersion: DispersionRule {
                    min_sections_bp: request.dispersion_min_sections_bp,
                    min_support_bp: request.dispersion_min_support_bp,
                },
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(OfficeView::from(&office))))
}

#[utoipa::path(get, path = "/api/v1/processes/{id}/offices", tag = "processes", params(("id" = i64, Path)),
    responses((status = 200, body = [OfficeView]), (status = 404, body = ErrorBody)))]
pub async fn list_offices(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(process_id): ApiPath<i64>,
) -> ApiResult<Json<Vec<OfficeView>>> {
    readable_process(&state, &auth, process_id).await?;
    let offices = state.store.offices(process_id).await?;
    Ok(Json(offices.iter().map(OfficeView::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/offices/{id}", tag = "processes", params(("id" = i64, Path)),
    responses((status = 200, body = OfficeView), (status = 404, body = ErrorBody)))]
pub async fn get_office(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<OfficeView>> {
    let office = state
        .store
        .office(id)
        .await?
        .ok_or(ApiError::NotFound("office"))?;
    readable_process(&state, &auth, office.process_id)
        .await
        .map_err(|_| ApiError::NotFound("office"))?;
    Ok(Json(OfficeView::from(&office)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaffRequest {
    pub email: String,
    pub name: String,
    /// `admin` or `reviewer`.
    pub role: String,
}

/// Creates an OPL staff account (administrator or Mesa de Control reviewer).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewStaffRequest,
    responses((status = 201, body = UserCreated), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_staff(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(request): ApiJson<NewStaffRequest>,
) -> ApiResult<(StatusCode, Json<UserCreated>)> {
    auth.require(ADMIN)?;
    let role = match Role::parse(&request.role) {
        Some(role @ (Role::Admin | Role::Reviewer)) => role,
        _ => {
            return Err(ApiError::BadRequest(
                "El rol de una cuenta del OPL es admin o reviewer; aspirantes y auxiliares se registran aparte.".into(),
            ));
        }
    };
    validate_person(&request.name, &request.email)?;
    let (password, password_hash) = auth::one_time_password().await?;
    let user = state
        .store
        .create_user(
            &auth.actor(),
            NewUser {
                email: request.email,
                name: request.name,
                role,
                password_hash,
                must_change_password: true,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(UserCreated {
            account: CreatedAccount {
                email: user.email.clone(),
                initial_password: password,
            },
            user: UserView::from(&user),
        }),
    ))
}

pub fn validate_person(name: &str, email: &str) -> ApiResult<()> {
    if name.trim().is_empty() {
        return Err(ApiError::BadRequest("Falta el nombre.".into()));
    }
    let email = email.trim();
    let plausible = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    }) && !email.contains(char::is_whitespace);
    if !plausible {
        return Err(ApiError::BadRequest(format!(
            "«{email}» no parece un correo electrónico válido."
        )));
    }
    Ok(())
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = [UserView]), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Vec<UserView>>> {
    auth.require(ADMIN)?;
    Ok(Json(
        state
            .store
            .users(None)
            .await?
            .iter()
            .map(UserView::from)
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/roll/snapshots", tag = "roll",
    responses((status = 200, body = [SnapshotView]), (status = 403, body = ErrorBody)))]
pub async fn list_snapshots(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Vec<SnapshotView>>> {
    auth.require(STAFF)?;
    Ok(Json(
        state
            .store
            .list_roll_snapshots()
            .await?
            .iter()
            .map(SnapshotView::from)
            .collect(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor_user_id: Option<i64>,
    pub action: Option<String>,
    /// Only entries older than this id (next page).
    pub before_id: Option<i64>,
    /// 1–1000, default 100.
    pub limit: Option<i64>,
}

/// The audit log, newest first, with filters.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = [AuditView]), (status = 403, body = ErrorBody)))]
pub async fn audit_log(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Json<Vec<AuditView>>> {
    auth.require(ADMIN)?;
    let entries = state
        .store
        .audit_entries(&AuditFilter {
            entity: query.entity,
            entity_id: query.entity_id,
            actor_user_id: query.actor_user_id,
            action: query.action,
            before_id: query.before_id,
            limit: query.limit.unwrap_or(100),
        })
        .await?;
    Ok(Json(entries.into_iter().map(AuditView::from).collect()))
}
