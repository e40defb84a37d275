//! The back office (`/console/`): server-rendered Spanish pages for OPL staff and aspirants.
//!
//! Pages are read with GET and need no script; every change goes through the JSON API
//! (`/api/v1`) from `console.js`, which sends the session's CSRF token, so the console
//! adds no second way to change data. The review desk (`/console/review/{process}`) is
//! driven by `console.js` with the keyboard. Assets are embedded in the binary.

mod forms;
mod html;
mod pages;
mod reports;
mod roll;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use apoyo_domain::access::Role;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;

use html::Html;

/// No inline script or style; forms are sent by `console.js` to the API.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const CSS: &str = include_str!("../../console/console.css");
const JS: &str = include_str!("../../console/console.js");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .route("/console/", get(pages::home))
        .route("/console/login", get(pages::login))
        .route("/console/password", get(pages::password))
        .route(
            "/console/console.css",
            get(|| async { asset(CSS, "text/css; charset=utf-8") }),
        )
        .route(
            "/console/console.js",
            get(|| async { asset(JS, "text/javascript; charset=utf-8") }),
        )
        .route("/console/processes/{id}", get(pages::process))
        .route("/console/catalog", get(pages::catalog))
        .route("/console/roll", get(roll::roll))
        .route("/console/audit", get(pages::audit))
        .route("/console/reviewers", get(pages::reviewers))
        .route("/console/review/{process}", get(pages::review_desk))
        .route("/console/objections", get(pages::objections))
        .route("/console/objections/{id}", get(pages::objection))
        .route("/console/aspirants/{id}", get(pages::aspirant))
        .route("/console/aspirants/{id}/supports", get(pages::supports))
        .route("/console/supports/{id}", get(pages::support))
        .route(
            "/console/reports/aspirants/{id}/{file}",
            get(reports::aspirant_report),
        )
        .route(
            "/console/reports/processes/{id}/{file}",
            get(reports::process_report),
        )
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    (headers, body).into_response()
}

/// The signed-in user of a console page. Without a session the page answers with a
/// redirect to the login page (and back afterwards); with a one-time password, to the
/// password page.
#[derive(Debug)]
pub struct Viewer(pub Auth);

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/console/".into());
        match Auth::from_request_parts(parts, state).await {
            Ok(auth) => Ok(Self(auth)),
            Err(ApiError::Unauthenticated) => {
                Err(Redirect::to(&format!("/console/login?next={}", encode(&path))).into_response())
            }
            Err(ApiError::PasswordChangeRequired) => {
                Err(Redirect::to("/console/password").into_response())
            }
            Err(other) => Err(page_error(other)),
        }
    }
}

/// Percent-encoding for a query value.
pub(crate) fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An error as a Spanish page (the API's message), with the API's status.
pub(crate) fn page_error(error: ApiError) -> Response {
    let api = error.into_response();
    let status = api.status();
    let (title, message) = match status {
        StatusCode::NOT_FOUND => (
            "No encontrado",
            "No existe lo que busca, o su cuenta no puede verlo.",
        ),
        StatusCode::FORBIDDEN => (
            "Sin permiso",
            "Su cuenta no tiene permiso para ver esta página.",
        ),
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => (
            "Solicitud no válida",
            "Revise los datos de la dirección e intente de nuevo.",
        ),
        _ => (
            "Error",
            "Ocurrió un error interno; ya quedó registrado. Intente de nuevo más tarde.",
        ),
    };
    let body = html::layout(
        title,
        None,
        html::Html::new()
            .raw("<h1>")
            .text(title)
            .raw("</h1><p>")
            .text(message)
            .raw("</p><p><a href=\"/console/\">Ir al inicio</a></p>"),
    );
    (status, html_headers(), body.into_string()).into_response()
}

pub(crate) fn html_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    let mut set = |name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(header::CONTENT_TYPE, "text/html; charset=utf-8");
    set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    // Pages carry personal data: never stored by a shared cache or on disk.
    set(header::CACHE_CONTROL, "private, no-store");
    set(header::X_FRAME_OPTIONS, "DENY");
    headers
}

/// A page answer.
pub(crate) fn respond(page: Html) -> Response {
    (html_headers(), page.into_string()).into_response()
}

/// The console's sections a role may use, for the navigation bar: (href, label).
pub(crate) fn navigation(auth: &Auth) -> Vec<(String, &'static str)> {
    match auth.principal.role {
        Role::Admin => vec![
            ("/console/".into(), "Procesos"),
            ("/console/objections".into(), "Objeciones"),
            ("/console/catalog".into(), "Catálogo de inconsistencias"),
            ("/console/roll".into(), "Lista Nominal"),
            ("/console/reviewers".into(), "Personal y productividad"),
            ("/console/audit".into(), "Bitácora"),
        ],
        Role::Reviewer => vec![
            ("/console/".into(), "Mesa de Control"),
            ("/console/objections".into(), "Objeciones"),
        ],
        Role::Aspirant => {
            let id = auth.principal.aspirant_id.unwrap_or_default();
            vec![
                (format!("/console/aspirants/{id}"), "Mi avance"),
                (format!("/console/aspirants/{id}/supports"), "Mis apoyos"),
                ("/console/objections".into(), "Garantía de audiencia"),
            ]
        }
        Role::Collector => vec![("/app/".into(), "Aplicación de captura")],
    }
}
