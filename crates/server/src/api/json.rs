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
