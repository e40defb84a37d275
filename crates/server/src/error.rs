//! The API's error type: a status, a stable code and a Spanish message for people;
//! the English cause goes to the operators' log, never to the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use apoyo_store::{Conflict, RuleViolation, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("not authenticated")]
    Unauthenticated,
    #[error("forbidden")]
    Forbidden,
    #[error("CSRF token missing or wrong")]
    Csrf,
    #[error("the password must be changed first")]
    PasswordChangeRequired,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("rule: {0}")]
    Unprocessable(String),
    #[error("request body over the limit")]
    PayloadTooLarge,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("too many failed logins")]
    Throttled,
    #[error("internal error: {0}")]
    Internal(String),
}

/// Body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, for programs: `bad_request`, `unauthenticated`, `forbidden`, `csrf`, `password_change_required`,
    /// `not_found`, `method_not_allowed`, `conflict`, `unprocessable`, `payload_too_large`, `throttled`, `internal`.
    pub code: &'static str,
    /// Spanish, for people.
    pub message: String,
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, "bad_request", message.clone()),
            Self::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Inicie sesión para continuar.".into(),
            ),
            Self::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Su cuenta no tiene permiso para esta acción.".into(),
            ),
            Self::Csrf => (
                StatusCode::FORBIDDEN,
                "csrf",
                "La solicitud no trae el código de seguridad de su sesión (X-CSRF-Token). Recargue la página e intente de nuevo.".into(),
            ),
            Self::PasswordChangeRequired => (
                StatusCode::FORBIDDEN,
                "password_change_required",
                "Debe cambiar su contraseña de un solo uso antes de continuar (PUT /api/v1/session/password).".into(),
            ),
            Self::NotFound(what) => (StatusCode::NOT_FOUND, "not_found", format!("No se encontró {}.", label_es(what))),
            Self::Conflict(message) => (StatusCode::CONFLICT, "conflict", message.clone()),
            Self::Unprocessable(message) => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable", message.clone()),
            Self::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "El cuerpo de la solicitud es demasiado grande.".into(),
            ),
            Self::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Esta dirección no acepta ese método.".into(),
            ),
            Self::Throttled => (
                StatusCode::TOO_MANY_REQUESTS,
                "throttled",
                "Demasiados intentos fallidos de inicio de sesión. Espere unos minutos e intente de nuevo.".into(),
            ),
            Self::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Ocurrió un error interno; ya quedó registrado. Intente de nuevo más tarde.".into(),
            ),
        }
    }
}

fn label_es(what: &str) -> &'static str {
    match what {
        "process" => "el proceso",
        "office" => "el cargo",
        "aspirant" => "el aspirante",
        "collector" => "el auxiliar",
        "user" => "el usuario",
        "roll snapshot" => "el corte de la Lista Nominal",
        "roll import" => "la importación de la Lista Nominal",
        "support" => "el apoyo",
        "image" => "la imagen",
        "job" => "un trabajo de verificación fallido con ese número",
        "route" => "la dirección solicitada",
        "objection" => "la objeción",
        "inconsistency type" => "la inconsistencia en el catálogo",
        _ => "el recurso",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = self.parts();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::info!(error = %self, status = status.as_u16(), "request refused");
        }
        (
            status,
            Json(ErrorBody {
                error: ErrorDetail { code, message },
            }),
        )
            .into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => Self::NotFound(what),
            StoreError::SnapshotNotFound(name) => {
                Self::Unprocessable(format!("No existe un corte de la Lista Nominal llamado «{name}»."))
            }
            StoreError::Conflict(conflict) => Self::Conflict(match conflict {
                Conflict::EmailTaken(email) => format!("El correo {email} ya pertenece a otra cuenta."),
                Conflict::ProcessNameTaken(name) => format!("Ya existe un proceso llamado «{name}»."),
                Conflict::OfficeNameTaken(name) => format!("El proceso ya tiene un cargo llamado «{name}»."),
                Conflict::CollectorTaken { clave, .. } => format!(
                    "La persona con clave de elector {clave} ya está registrada como auxiliar en este proceso; un auxiliar sólo puede trabajar para un aspirante."
                ),
                Conflict::SupportClientIdReused(client_id) => format!(
                    "Ya se recibió un apoyo con el identificador {client_id} y otro contenido. Un reenvío debe ser idéntico; un apoyo nuevo necesita un identificador nuevo."
                ),
                Conflict::ReviewHeldByOther(id) => format!(
                    "Otra persona revisora tiene asignado el apoyo {id}. Pida el siguiente de la cola."
                ),
                Conflict::ObjectionOpen(id) => format!(
                    "El apoyo {id} ya tiene una objeción en trámite; espere su resolución."
                ),
                Conflict::ObjectionResolved(id) => format!(
                    "La objeción {id} ya fue resuelta; la resolución no se puede cambiar."
                ),
                Conflict::InconsistencyCodeTaken(code) => format!(
                    "Ya existe una inconsistencia con la clave «{code}»; elija otra."
                ),
            }),
            StoreError::Rule(rule) => Self::Unprocessable(match rule {
                RuleViolation::CollectorNotOnRoll(clave) => format!(
                    "La clave de elector {clave} no aparece en la Lista Nominal del proceso. El auxiliar debe ser una persona inscrita: revise la clave en su credencial."
                ),
                RuleViolation::CollectorNotCurrent { clave, status } => format!(
                    "La clave de elector {clave} está en el padrón pero no en la Lista Nominal ({status}); no puede registrarse como auxiliar."
                ),
                RuleViolation::EmptyTerritory => {
                    "El ámbito del cargo no tiene secciones en el corte de la Lista Nominal del proceso.".into()
                }
                RuleViolation::UnknownSection(section) => {
                    format!("La sección {section} no está en el corte de la Lista Nominal del proceso.")
                }
                RuleViolation::PeriodReversed => "El periodo de captación termina antes de empezar.".into(),
                RuleViolation::OfficeOfAnotherProcess => "El cargo pertenece a otro proceso.".into(),
                RuleViolation::CollectorInactive => {
                    "Su cuenta de auxiliar está desactivada: no puede enviar apoyos. Consulte al aspirante.".into()
                }
                RuleViolation::SupportImagesIncomplete => {
                    "Un apoyo lleva exactamente cuatro imágenes: front, back, live_photo y signature.".into()
                }
                RuleViolation::UnknownInconsistency(code) => format!(
                    "La inconsistencia «{code}» no está en el catálogo vigente. Elija una de la lista."
                ),
                RuleViolation::NotInReviewQueue(id) => format!(
                    "El apoyo {id} no está en la cola de la Mesa de Control. Tome el siguiente de la cola."
                ),
                RuleViolation::NotVerified(id) => format!(
                    "El apoyo {id} aún no se compulsa contra la Lista Nominal; espere a que termine."
                ),
                RuleViolation::HearingClosed => {
                    "El periodo de garantía de audiencia no está abierto. Consulte las fechas que fijó el OPL.".into()
                }
                RuleViolation::NotRejected(id) => format!(
                    "El apoyo {id} no está rechazado: sólo se pueden objetar apoyos rechazados."
                ),
                RuleViolation::RollRejectionNotGrantable(id) => format!(
                    "El apoyo {id} se rechazó por la compulsa con la Lista Nominal, no por la Mesa de Control; declarar procedente la objeción no cambia ese resultado. Responda como improcedente explicando la situación registral."
                ),
            }),
            other => Self::Internal(other.to_string()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
