//! One support as the OPL and the aspirant see it, and its images for OPL staff.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use apoyo_domain::access::Role;
use apoyo_store::{ImageKind, SupportDetail};

use crate::api::json::ApiPath;
use crate::api::supports::{SupportReceipt, mask_clave, outcome_label};
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// One change of outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeChangeView {
    pub outcome: String,
    pub label: String,
    pub duplicate_of: Option<i64>,
    /// The roll snapshot it was decided against.
    pub snapshot_id: i64,
    pub decided_at: String,
}

/// A support. `credential`, `precheck_failed`, `captured_at`, `location` and the image
/// URLs are present for OPL staff only; the aspirant and the collector see the outcome,
/// its history and the citizen's clave masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupportView {
    pub receipt: SupportReceipt,
    pub aspirant_id: i64,
    pub office_id: i64,
    pub paper: bool,
    pub outcome_label: Option<String>,
    /// The outcome before duplicates were resolved.
    pub preliminary_outcome: Option<String>,
    /// The citizen's clave de elector on the roll (masked for the aspirant and collector).
    pub citizen_clave: Option<String>,
    /// The citizen's sección on the roll.
    pub citizen_section: Option<i64>,
    pub history: Vec<OutcomeChangeView>,
    /// The captured credential fields (staff only).
    #[schema(value_type = Option<Object>)]
    pub credential: Option<Value>,
    /// Codes of the checks that failed on the device (staff only).
    #[schema(value_type = Option<Object>)]
    pub precheck_failed: Option<Value>,
    pub captured_at: Option<String>,
    /// `{latitude, longitude}` when the device gave one (staff only).
    #[schema(value_type = Option<Object>)]
    pub location: Option<Value>,
    /// `kind` → URL of the image (staff only).
    #[schema(value_type = Option<Object>)]
    pub image_urls: Option<Value>,
    /// The typed data against the MRZ read from the back image (staff only; null until
    /// checked): `status` (`agrees`, `differs`, `unreadable`, `no_mrz`), `label` (Spanish),
    /// `mrz` read, `confidence`, `differences` [{code, message}], `checked_at`.
    #[schema(value_type = Option<Object>)]
    pub image_check: Option<Value>,
}

async fn readable(state: &AppState, auth: &Auth, support_id: i64) -> ApiResult<SupportDetail> {
    let detail = state
        .store
        .support_detail(support_id)
        .await?
        .ok_or(ApiError::NotFound("support"))?;
    let is_sender = auth.principal.role == Role::Collector
        && state
            .store
            .collector_assignment(auth.user.id)
            .await?
            .is_some_and(|c| Some(c.collector_id) == detail.receipt.collector_id);
    if !auth
        .principal
        .can_read_collector_work(detail.receipt.aspirant_id, is_sender)
    {
        return Err(ApiError::NotFound("support"));
    }
    Ok(detail)
}

/// One support with its outcome history; for OPL staff also the captured data and the
/// image URLs (each staff view is recorded in the audit log).
#[utoipa::path(get, path = "/api/v1/supports/{id}", tag = "supports", params(("id" = i64, Path)),
    responses((status = 200, body = SupportView), (status = 404, body = ErrorBody)))]
pub async fn get_support(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(support_id): ApiPath<i64>,
) -> ApiResult<Json<SupportView>> {
    let detail = readable(&state, &auth, support_id).await?;
    let staff = auth.principal.can_see_support_images();
    if staff {
        state
            .store
            .record_access(
                &auth.actor(),
                "support.view",
                "support",
                support_id,
                json!({}),
            )
            .await?;
    }
    let image_urls = staff.then(|| {
        Value::Object(
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
        )
    });
    let image_check = match staff {
        true => state.store.image_check(support_id).await?.map(|c| {
            json!({
                "status": c.status,
                "label": crate::crosscheck::status_label(&c.status),
                "mrz": c.mrz,
                "confidence": c.confidence,
                "differences": c.differences,
                "read_ms": c.read_ms,
                "checked_at": c.checked_at,
            })
        }),
        false => None,
    };
    let location = match (detail.latitude, detail.longitude) {
        (Some(latitude), Some(longitude)) if staff => {
            Some(json!({ "latitude": latitude, "longitude": longitude }))
        }
        _ => None,
    };
    Ok(Json(SupportView {
        aspirant_id: detail.receipt.aspirant_id,
        office_id: detail.office_id,
        paper: detail.paper,
        outcome_label: detail.receipt.outcome.as_deref().map(outcome_label),
        preliminary_outcome: detail.preliminary_outcome,
        citizen_clave: if staff {
            detail.citizen_clave
        } else {
            detail.citizen_clave.as_deref().map(mask_clave)
        },
        citizen_section: detail.citizen_section,
        history: detail
            .history
            .into_iter()
            .map(|h| OutcomeChangeView {
                label: outcome_label(&h.outcome),
                outcome: h.outcome,
                duplicate_of: h.duplicate_of,
                snapshot_id: h.snapshot_id,
                decided_at: h.decided_at,
            })
            .collect(),
        credential: staff.then_some(detail.credential),
        precheck_failed: staff.then_some(detail.precheck),
        captured_at: staff.then_some(detail.captured_at),
        location,
        image_urls,
        image_check,
        receipt: detail.receipt.into(),
    }))
}

/// One image of a support (`front`, `back`, `live_photo`, `signature`), as stored (metadata
/// removed): OPL staff, and the aspirant for a rejected support of theirs while the hearing
/// is open; each view is recorded in the audit log. Otherwise the aspirant and the
/// collector get 403 for their own supports, 404 for others'.
#[utoipa::path(get, path = "/api/v1/supports/{id}/images/{kind}", tag = "supports",
    params(("id" = i64, Path), ("kind" = String, Path)),
    responses((status = 200, description = "The image bytes", content_type = "image/*"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_support_image(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((support_id, kind)): ApiPath<(i64, String)>,
) -> ApiResult<Response> {
    let detail = readable(&state, &auth, support_id).await?;
    let in_hearing = crate::api::review::hearing_allows_images(
        &state,
        &auth,
        detail.receipt.process_id,
        detail.receipt.aspirant_id,
        detail.receipt.outcome.as_deref(),
    )
    .await?;
    if !auth.principal.can_see_support_images() && !in_hearing {
        return Err(ApiError::Forbidden);
    }
    let kind = ImageKind::parse(&kind).ok_or(ApiError::NotFound("image"))?;
    let image = detail
        .receipt
        .images
        .into_iter()
        .find(|i| i.kind == kind)
        .ok_or(ApiError::NotFound("image"))?;
    let bytes = state
        .reception
        .blobs()
        .get(&image.object_key)
        .await
        .map_err(|e| {
            tracing::error!(support = support_id, key = %image.object_key, error = %e, "stored image unreadable");
            ApiError::Internal(format!("image {} of support {support_id}: {e}", kind.as_str()))
        })?;
    state
        .store
        .record_access(
            &auth.actor(),
            "support.image.view",
            "support",
            support_id,
            json!({ "kind": kind.as_str() }),
        )
        .await?;
    let mut response = Body::from(bytes).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&image.content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    // Personal data: never kept by a shared cache or the browser's disk cache.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}
