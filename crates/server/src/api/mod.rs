//! The JSON API under `/api/v1`, and its OpenAPI document.

pub mod admin;
pub mod dto;
pub mod health;
pub mod json;
pub mod paper;
pub mod people;
pub mod progress;
pub mod review;
pub mod roll_imports;
pub mod session;
pub mod support_view;
pub mod supports;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use utoipa::OpenApi;

use crate::state::AppState;

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "apoyo API", description = "Collect and verify citizen support (apoyo de la ciudadanía). Messages for people are Spanish; fields are English."),
    paths(
        health::healthz, health::readyz,
        session::login, session::current, session::logout, session::change_password,
        admin::create_process, admin::list_processes, admin::get_process,
        admin::create_office, admin::list_offices, admin::get_office,
        admin::create_staff, admin::list_users, admin::list_snapshots, admin::audit_log,
        roll_imports::create_import, roll_imports::list_imports, roll_imports::get_import,
        people::create_aspirant, people::list_aspirants, people::get_aspirant,
        people::create_collector, people::list_collectors, people::get_collector,
        people::deactivate_collector, people::activate_collector,
        supports::create_support, supports::get_receipt, supports::list_supports,
        support_view::get_support, support_view::get_support_image, paper::create_paper_support,
        progress::get_progress, progress::change_roll_snapshot, progress::list_reverifications,
        progress::list_jobs, progress::retry_job,
        review::list_inconsistency_types, review::create_inconsistency_type, review::set_inconsistency_active,
        review::get_review_settings, review::put_review_settings, review::get_review_status, review::get_reviewer_hours,
        review::next_review, review::release_review, review::decide, review::list_reviews,
        review::file_objection, review::list_objections, review::get_objection, review::resolve_objection,
    ),
    tags(
        (name = "session", description = "Login, logout, password"),
        (name = "processes", description = "Processes (convocatorias) and offices (cargos)"),
        (name = "aspirants", description = "Aspirantes"),
        (name = "collectors", description = "Auxiliares"),
        (name = "supports", description = "Supports (apoyos) received from collectors"),
        (name = "users", description = "OPL staff accounts"),
        (name = "roll", description = "Lista Nominal snapshots"),
        (name = "audit", description = "Audit log"),
        (name = "health", description = "Liveness and readiness"),
        (name = "review", description = "Mesa de Control and the hearing (garantía de audiencia)"),
    )
)]
pub struct ApiDoc;

/// `max_support_bytes`: the body limit of `POST /api/v1/supports` (the others keep the JSON limit).
pub fn routes(max_support_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(
            "/api/v1/session",
            post(session::login)
                .get(session::current)
                .delete(session::logout),
        )
        .route("/api/v1/session/password", put(session::change_password))
        .route(
            "/api/v1/processes",
            post(admin::create_process).get(admin::list_processes),
        )
        .route("/api/v1/processes/{id}", get(admin::get_process))
        .route(
            "/api/v1/processes/{id}/offices",
            post(admin::create_office).get(admin::list_offices),
        )
        .route("/api/v1/offices/{id}", get(admin::get_office))
        .route(
            "/api/v1/processes/{id}/aspirants",
            post(people::create_aspirant).get(people::list_aspirants),
        )
        .route("/api/v1/aspirants/{id}", get(people::get_aspirant))
        .route(
            "/api/v1/aspirants/{id}/collectors",
            post(people::create_collector).get(people::list_collectors),
        )
        .route(
            "/api/v1/aspirants/{id}/supports",
            get(supports::list_supports),
        )
        .route("/api/v1/collectors/{id}", get(people::get_collector))
        .route(
            "/api/v1/collectors/{id}/deactivate",
            post(people::deactivate_collector),
        )
        .route(
            "/api/v1/collectors/{id}/activate",
            post(people::activate_collector),
        )
        .route(
            "/api/v1/users",
            post(admin::create_staff).get(admin::list_users),
        )
        .route("/api/v1/roll/snapshots", get(admin::list_snapshots))
        .route(
            "/api/v1/roll/imports",
            // The roll streams to a file: no body limit here, `max_roll_upload_bytes` instead.
            post(roll_imports::create_import)
                .layer(DefaultBodyLimit::disable())
                .get(roll_imports::list_imports),
        )
        .route("/api/v1/roll/imports/{id}", get(roll_imports::get_import))
        .route("/api/v1/audit", get(admin::audit_log))
        .route(
            "/api/v1/supports",
            post(supports::create_support).layer(DefaultBodyLimit::max(max_support_bytes)),
        )
        .route("/api/v1/supports/{id}/receipt", get(supports::get_receipt))
        .route("/api/v1/supports/{id}", get(support_view::get_support))
        .route(
            "/api/v1/supports/{id}/images/{kind}",
            get(support_view::get_support_image),
        )
        .route(
            "/api/v1/aspirants/{id}/progress",
            get(progress::get_progress),
        )
        .route(
            "/api/v1/aspirants/{id}/paper-supports",
            post(paper::create_paper_support).layer(DefaultBodyLimit::max(max_support_bytes)),
        )
        .route(
            "/api/v1/processes/{id}/roll-snapshot",
            put(progress::change_roll_snapshot),
        )
        .route(
            "/api/v1/processes/{id}/reverifications",
            get(progress::list_reverifications),
        )
        .route("/api/v1/verification/jobs", get(progress::list_jobs))
        .route(
            "/api/v1/verification/jobs/{id}/retry",
            post(progress::retry_job),
        )
        .route(
            "/api/v1/inconsistency-types",
            get(review::list_inconsistency_types).post(review::create_inconsistency_type),
        )
        .route(
            "/api/v1/inconsistency-types/{code}",
            put(review::set_inconsistency_active),
        )
        .route(
            "/api/v1/processes/{id}/review-settings",
            get(review::get_review_settings).put(review::put_review_settings),
        )
        .route(
            "/api/v1/processes/{id}/review-status",
            get(review::get_review_status),
        )
        .route("/api/v1/reviewers/hours", get(review::get_reviewer_hours))
        .route(
            "/api/v1/processes/{id}/review/next",
            post(review::next_review),
        )
        .route(
            "/api/v1/supports/{id}/review/claim",
            delete(review::release_review),
        )
        .route("/api/v1/supports/{id}/review", post(review::decide))
        .route("/api/v1/supports/{id}/reviews", get(review::list_reviews))
        .route(
            "/api/v1/supports/{id}/objections",
            post(review::file_objection),
        )
        .route("/api/v1/objections", get(review::list_objections))
        .route("/api/v1/objections/{id}", get(review::get_objection))
        .route(
            "/api/v1/objections/{id}/resolution",
            post(review::resolve_objection),
        )
}
