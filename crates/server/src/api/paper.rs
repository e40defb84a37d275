//! Paper supports (régimen de excepción): OPL staff capture the cédulas an aspirant
//! hands in, with a copy of the credential and the signed cédula (docs/supports.md,
//! "Paper supports").

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use time::OffsetDateTime;

use apoyo_domain::access::Role;
use apoyo_store::{Acceptance, NewPaperSupport, PAPER_IMAGE_KINDS, clock};

use crate::api::json::ApiPath;
use crate::api::supports::{
    SupportReceipt, SupportUpload, collection_window, parse, refuse_malformed,
};
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// Captures one paper support for an aspirant (OPL staff only).
///
/// `multipart/form-data` like `POST /api/v1/supports`, with the images `front` and `back`
/// (the copy of the credential) and `signature` (the signed cédula); no `live_photo` and no
/// `location`. `captured_at` is when the citizen signed, within the collection period; the
/// OPL may type the cédulas in after the period closes. 201: received now; 200: a resend by
/// the same staff member with the same `client_id` and content.
#[utoipa::path(post, path = "/api/v1/aspirants/{id}/paper-supports", tag = "supports",
    params(("id" = i64, Path)),
    request_body(content = SupportUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = SupportReceipt), (status = 200, body = SupportReceipt),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_paper_support(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(aspirant_id): ApiPath<i64>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<SupportReceipt>)> {
    auth.require(&[Role::Admin, Role::Reviewer])?;
    let aspirant = state
        .store
        .aspirant(aspirant_id)
        .await?
        .ok_or(ApiError::NotFound("aspirant"))?;
    let process = state
        .store
        .process(aspirant.process_id)
        .await?
        .ok_or(ApiError::NotFound("process"))?;
    let multipart = multipart.map_err(|_| {
        ApiError::BadRequest(
            "Envíe el apoyo en papel como multipart/form-data: una parte «support» (JSON) y las imágenes front, back y signature.".into(),
        )
    })?;
    let parsed = parse(multipart, &PAPER_IMAGE_KINDS).await?;
    if parsed.fields.location.is_some() {
        return Err(ApiError::BadRequest(
            "Un apoyo en papel no lleva ubicación: quite «location».".into(),
        ));
    }
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let (opens, closes, _) = collection_window(&process);
    let signed = parsed.captured_at.unix_timestamp();
    if signed > now + 600 {
        return Err(ApiError::BadRequest(
            "captured_at (la fecha de firma de la cédula) está en el futuro.".into(),
        ));
    }
    if signed < opens || signed >= closes {
        return Err(ApiError::Unprocessable(format!(
            "La cédula se firmó fuera del periodo de captación (del {} al {}): no puede recibirse.",
            process.collection_starts_on.to_es(),
            process.collection_ends_on.to_es()
        )));
    }
    refuse_malformed(&parsed.fields.credential, now)?;
    let acceptance = state
        .store
        .accept_paper_support(
            &auth.actor(),
            state.reception.blobs(),
            NewPaperSupport {
                staff_user_id: auth.user.id,
                aspirant_id,
                client_id: parsed.fields.client_id,
                captured_at: clock::format(parsed.captured_at),
                credential: parsed.fields.credential,
                precheck: serde_json::json!(parsed.fields.precheck_failed),
                images: parsed.images,
            },
        )
        .await?;
    Ok(match acceptance {
        Acceptance::Accepted(receipt) => (StatusCode::CREATED, Json(receipt.into())),
        Acceptance::Repeated(receipt) => (StatusCode::OK, Json(receipt.into())),
    })
}
