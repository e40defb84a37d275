//! Aspirants (registered by the OPL) and their collectors (registered by the aspirant).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use apoyo_domain::access::Role;
use apoyo_domain::check::Checks;
use apoyo_domain::clave::check_clave;
use apoyo_store::{NewAspirant, NewCollector};

use crate::api::admin::validate_person;
use crate::api::dto::{
    AspirantCreated, AspirantView, CollectorCreated, CollectorView, CreatedAccount,
};
use crate::api::json::{ApiJson, ApiPath};
use crate::auth::{self, Auth};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAspirantRequest {
    pub office_id: i64,
    pub name: String,
    pub email: String,
}

/// Registers an aspirant for one office of the process (OPL administrator).
#[utoipa::path(post, path = "/api/v1/processes/{id}/aspirants", tag = "aspirants", params(("id" = i64, Path)),
    request_body = NewAspirantRequest,
    responses((status = 201, body = AspirantCreated), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_aspirant(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(process_id): ApiPath<i64>,
    ApiJson(request): ApiJson<NewAspirantRequest>,
) -> ApiResult<(StatusCode, Json<AspirantCreated>)> {
    auth.require(&[Role::Admin])?;
    validate_person(&request.name, &request.email)?;
    state
        .store
        .process(process_id)
        .await?
        .ok_or(ApiError::NotFound("process"))?;
    let (password, password_hash) = auth::one_time_password().await?;
    let aspirant = state
        .store
        .create_aspirant(
            &auth.actor(),
            NewAspirant {
                process_id,
                office_id: request.office_id,
                name: request.name,
                email: request.email,
                password_hash,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(AspirantCreated {
            account: CreatedAccount {
                email: aspirant.email.clone(),
                initial_password: password,
            },
            aspirant: AspirantView::from(&aspirant),
        }),
    ))
}

/// Aspirants of a process (OPL staff).
#[utoipa::path(get, path = "/api/v1/processes/{id}/aspirants", tag = "aspirants", params(("id" = i64, Path)),
    responses((status = 200, body = [AspirantView]), (status = 403, body = ErrorBody)))]
pub async fn list_aspirants(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(process_id): ApiPath<i64>,
) -> ApiResult<Json<Vec<AspirantView>>> {
    auth.require(&[Role::Admin, Role::Reviewer])?;
    state
        .store
        .process(process_id)
        .await?
        .ok_or(ApiError::NotFound("process"))?;
    Ok(Json(
        state
            .store
            .aspirants(Some(process_id))
            .await?
            .iter()
            .map(AspirantView::from)
            .collect(),
    ))
}

/// One aspirant: OPL staff, the aspirant, and their collectors.
#[utoipa::path(get, path = "/api/v1/aspirants/{id}", tag = "aspirants", params(("id" = i64, Path)),
    responses((status = 200, body = AspirantView), (status = 404, body = ErrorBody)))]
pub async fn get_aspirant(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AspirantView>> {
    // Another aspirant's data answers as if it did not exist.
    if !auth.principal.can_read_aspirant(id) {
        return Err(ApiError::NotFound("aspirant"));
    }
    let aspirant = state
        .store
        .aspirant(id)
        .await?
        .ok_or(ApiError::NotFound("aspirant"))?;
    Ok(Json(AspirantView::from(&aspirant)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCollectorRequest {
    pub name: String,
    pub email: String,
    /// Must be on the Lista Nominal of the process's roll snapshot.
    pub clave_elector: String,
}

/// Registers a collector (auxiliar) for the aspirant (the aspirant or an OPL administrator).
#[utoipa::path(post, path = "/api/v1/aspirants/{id}/collectors", tag = "collectors", params(("id" = i64, Path)),
    request_body = NewCollectorRequest,
    responses((status = 201, body = CollectorCreated), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
               (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_collector(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(aspirant_id): ApiPath<i64>,
    ApiJson(request): ApiJson<NewCollectorRequest>,
) -> ApiResult<(StatusCode, Json<CollectorCreated>)> {
    if !auth.principal.can_manage_collectors_of(aspirant_id) {
        return Err(if auth.principal.can_read_aspirant(aspirant_id) {
            ApiError::Forbidden
        } else {
            ApiError::NotFound("aspirant")
        });
    }
    validate_person(&request.name, &request.email)?;
    let mut checks = Checks::new();
    check_clave(&request.clave_elector, &mut checks);
    if let Some(failed) = checks.as_slice().iter().find(|c| c.is_blocking()) {
        return Err(ApiError::BadRequest(failed.message.clone()));
    }
    let (password, password_hash) = auth::one_time_password().await?;
    let collector = state
        .store
        .create_collector(
            &auth.actor(),
            NewCollector {
                aspirant_id,
                name: request.name,
                email: request.email,
                clave_elector: request.clave_elector,
                password_hash,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CollectorCreated {
            account: CreatedAccount {
                email: collector.email.clone(),
                initial_password: password,
            },
            collector: CollectorView::from(&collector),
        }),
    ))
}

/// The aspirant's collectors (OPL staff and the aspirant).
#[utoipa::path(get, path = "/api/v1/aspirants/{id}/collectors", tag = "collectors", params(("id" = i64, Path)),
    responses((status = 200, body = [CollectorView]), (status = 404, body = ErrorBody)))]
pub async fn list_collectors(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(aspirant_id): ApiPath<i64>,
) -> ApiResult<Json<Vec<CollectorView>>> {
    let allowed = auth.principal.role.is_staff()
        || (auth.principal.role == Role::Aspirant
            && auth.principal.aspirant_id == Some(aspirant_id));
    if !allowed {
        return Err(if auth.principal.can_read_aspirant(aspirant_id) {
            ApiError::Forbidden
        } else {
            ApiError::NotFound("aspirant")
        });
    }
    state
        .store
        .aspirant(aspirant_id)
        .await?
        .ok_or(ApiError::NotFound("aspirant"))?;
    Ok(Json(
        state
            .store
            .collectors(aspirant_id)
            .await?
            .iter()
            .map(CollectorView::from)
            .collect(),
    ))
}

/// One collector: OPL staff, the owning aspirant, or the collector.
#[utoipa::path(get, path = "/api/v1/collectors/{id}", tag = "collectors", params(("id" = i64, Path)),
    responses((status = 200, body = CollectorView), (status = 404, body = ErrorBody)))]
pub async fn get_collector(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CollectorView>> {
    let collector = state
        .store
        .collector(id)
        .await?
        .ok_or(ApiError::NotFound("collector"))?;
    let allowed = auth
        .principal
        .can_read_collector_work(collector.aspirant_id, auth.user.id == collector.user_id);
    if !allowed {
        return Err(ApiError::NotFound("collector"));
    }
    Ok(Json(CollectorView::from(&collector)))
}

async fn set_active(
    state: &AppState,
    auth: &Auth,
    id: i64,
    active: bool,
) -> ApiResult<Json<CollectorView>> {
    let collector = state
        .store
        .collector(id)
        .await?
        .ok_or(ApiError::NotFound("collector"))?;
    if !auth
        .principal
        .can_manage_collectors_of(collector.aspirant_id)
    {
        return Err(if auth.principal.can_read_aspirant(collector.aspirant_id) {
            ApiError::Forbidden
        } else {
            ApiError::NotFound("collector")
        });
    }
    let updated = state
        .store
        .set_collector_active(&auth.actor(), id, active)
        .await?;
    Ok(Json(CollectorView::from(&updated)))
}

/// Deactivates a collector: their account stops working at once (the aspirant or an administrator).
#[utoipa::path(post, path = "/api/v1/collectors/{id}/deactivate", tag = "collectors", params(("id" = i64, Path)),
    responses((status = 200, body = CollectorView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn deactivate_collector(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CollectorView>> {
    set_active(&state, &auth, id, false).await
}

/// Reactivates a collector.
#[utoipa::path(post, path = "/api/v1/collectors/{id}/activate", tag = "collectors", params(("id" = i64, Path)),
    responses((status = 200, body = CollectorView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn activate_collector(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CollectorView>> {
    set_active(&state, &auth, id, true).await
}
