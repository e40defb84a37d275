//! A JSON body extractor whose refusals are the API's own errors (Spanish message,
//! serde's precise English detail appended for the developer of the client).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            // Over `max_json_bytes` (DefaultBodyLimit): 413, not a malformed request.
            Err(JsonRejection::BytesRejection(rejection))
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(ApiError::PayloadTooLarge)
            }
            Err(rejection) => Err(ApiError::BadRequest(match rejection {
                JsonRejection::MissingJsonContentType(_) => {
                    "Envíe el cuerpo como JSON (Content-Type: application/json).".into()
                }
                JsonRejection::BytesRejection(_) => {
                    "El cuerpo de la solicitud es demasiado grande o no se pudo leer.".into()
                }
                other => format!("Los datos enviados no son válidos ({}).", other.body_text()),
            })),
        }
    }
}

/// A path extractor whose refusals (an id that is not a number) are the API's own errors.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::BadRequest(format!(
                "La dirección no es válida: los identificadores son números enteros ({}).",
                rejection.body_text()
            ))),
        }
    }
}

/// Unknown routes answer like every other error.
pub async fn not_found() -> ApiError {
    ApiError::NotFound("route")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
