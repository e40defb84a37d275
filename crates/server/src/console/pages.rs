//! The console's pages. Each one authorises with the same rules as the API and reads
//! through the store; nothing here changes data (forms go to the API from console.js).

// A page's error is the page to show (login redirect, Spanish error page): returning
// the Response itself keeps the handlers linear, and it is built once per request.
#![allow(clippy::result_large_err)]

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use apoyo_domain::access::Role;
use apoyo_domain::outcome::RollOutcome;
use apoyo_store::{AuditFilter, ObjectionFilter, ObjectionStatus, OutcomeFilter};

use super::forms;
use super::html::{Chrome, Html, date, date_time, escape, layout, number};
use super::{Viewer, navigation, page_error, respond};
use crate::api::json::ApiPath;
use crate::api::progress::ProgressView;
use crate::api::review::today;
use crate::api::supports::{mask_clave, outcome_label};
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub(crate) type PageResult = Result<Response, Response>;

fn fail(error: ApiError) -> Response {
    page_error(error)
}

/// A page in the console's chrome (navigation for the role, the session's CSRF token).
pub(crate) async fn page(
    state: &AppState,
    auth: &Auth,
    title: &str,
    current: &str,
    body: Html,
) -> PageResult {
    let session = state
        .store
        .session(&auth.token_hash)
        .await
        .map_err(|e| fail(e.into()))?
        .ok_or_else(|| fail(ApiError::Unauthenticated))?;
    let chrome = Chrome {
        user_name: &auth.user.name,
        role_label: auth.principal.role.label_es(),
        csrf_token: &session.csrf_token,
        nav: navigation(auth),
        current,
    };
    Ok(respond(layout(title, Some(chrome), body)))
}

fn staff(auth: &Auth) -> Result<(), Response> {
    auth.require(&[Role::Admin, Role::Reviewer]).map_err(fail)
}

fn admin(auth: &Auth) -> Result<(), Response> {
    auth.require(&[Role::Admin]).map_err(fail)
}

fn api<T>(result: ApiResult<T>) -> Result<T, Response> {
    result.map_err(fail)
}

fn store<T>(result: Result<T, apoyo_store::StoreError>) -> Result<T, Response> {
    result.map_err(|e| fail(e.into()))
}

/// A `<p role="alert">` the form's script fills with the API's message.
const FORM_ERROR: &str = "<p class=\"form-error\" role=\"alert\" hidden></p>";

// ---------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

/// Only paths inside the console (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/console/") && !n.starts_with("//") => n.to_owned(),
        _ => "/console/".into(),
    }
}

pub(crate) async fn login(Query(query): Query<NextQuery>) -> Response {
    let next = safe_next(query.next.as_deref());
    let body = Html::new()
        .raw("<h1>Iniciar sesión</h1><form class=\"card narrow\" id=\"login-form\" data-next=\"")
        .text(&next)
        .raw("\"><label for=\"email\">Correo</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required>")
        .raw("<label for=\"password\">Contraseña</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>")
        .raw(FORM_ERROR)
        .raw("<button type=\"submit\">Entrar</button></form>");
    respond(layout("Iniciar sesión", None, body))
}

pub(crate) async fn password() -> Response {
    let body = Html::new()
        .raw("<h1>Cambie su contraseña</h1><p>Su cuenta tiene una contraseña de un solo uso. Elija una nueva de al menos 10 caracteres.</p>")
        .raw("<form class=\"card narrow\" data-api=\"/api/v1/session/password\" data-method=\"PUT\" data-next=\"/console/\" data-csrf-from-session>")
        .raw("<label for=\"current_password\">Contraseña actual</label><input id=\"current_password\" name=\"current_password\" type=\"password\" autocomplete=\"current-password\" required>")
        .raw("<label for=\"new_password\">Contraseña nueva</label><input id=\"new_password\" name=\"new_password\" type=\"password\" autocomplete=\"new-password\" minlength=\"10\" required>")
        .raw(FORM_ERROR)
        .raw("<button type=\"submit\">Guardar</button></form>");
    respond(layout("Cambiar contraseña", None, body))
}

pub(crate) async fn home(State(state): State<AppState>, Viewer(auth): Viewer) -> PageResult {
    match auth.principal.role {
        Role::Aspirant => {
            let id = auth.principal.aspirant_id.unwrap_or_default();
            return Ok(Redirect::to(&format!("/console/aspirants/{id}")).into_response());
        }
        Role::Collector => {
            let body = Html::new().raw("<h1>Auxiliares</h1><p>Las personas auxiliares capturan apoyos en la <a href=\"/app/\">aplicación de captura</a>.</p>");
            return page(&state, &auth, "Inicio", "/console/", body).await;
        }
        Role::Admin | Role::Reviewer => {}
    }
    let processes = store(state.store.processes().await)?;
    let mut body = Html::new().raw(if auth.principal.role == Role::Admin {
        "<h1>Procesos</h1>"
    } else {
        "<h1>Mesa de Control</h1><p>Elija el proceso cuya cola quiere revisar.</p>"
    });
    body.push_raw("<table><caption>Procesos registrados</caption><thead><tr><th scope=\"col\">Proceso</th><th scope=\"col\">Captación</th><th scope=\"col\">Corte de la Lista Nominal</th><th scope=\"col\">Acciones</th></tr></thead><tbody>");
    for p in &processes {
        body.push_raw("<tr><td>");
        body.push_text(&p.name);
        body.push_raw("</td><td>");
        body.push_text(&format!(
            "{} a {}",
            date(p.collection_starts_on),
            date(p.collection_ends_on)
        ));
        body.push_raw("</td><td>");
        body.push_text(&date(p.cut_date));
        body.push_raw(&format!(
            "</td><td><a href=\"/console/review/{id}\">Revisar apoyos</a> · <a href=\"/console/processes/{id}\">Detalle y aspirantes</a></td></tr>",
            id = p.id
        ));
    }
    body.push_raw("</tbody></table>");
    if auth.principal.role == Role::Admin {
        let snapshots = store(state.store.list_roll_snapshots().await)?;
        body = body
            .append(forms::new_process(&snapshots))
            .append(forms::snapshots(&snapshots));
    }
    page(&state, &auth, "Procesos", "/console/", body).await
}

pub(crate) async fn process(
    State(state): State<AppState>,
    Viewer(auth): Viewer,
    ApiPath(process_id): ApiPath<i64>,
) -> PageResult {
    staff(&auth)?;
    let process = store(state.store.process(process_id).await)?
        .ok_or_else(|| fail(ApiError::NotFound("process")))?;
    let settings = store(state.store.review_settings(process_id).await)?;
    let status = store(state.store.review_status(process_id).await)?;
    let mut body = Html::new().raw("<h1>").text(&process.name).raw("</h1>");
    body.push_raw(&format!(
        "<p><a class=\"button\" href=\"/console/review/{process_id}\">Revisar apoyos en la Mesa de Control</a> \
         <a href=\"/console/reports/processes/{process_id}/apoyos.csv\">Apoyos del proceso (CSV)</a> · \
         <a href=\"/console/reports/processes/{process_id}/apoyos.xlsx\">(XLSX)</a></p>"
    ));

    // Policy and hearing: editable by administrators.
    let disabled = if auth.principal.role == Role::Admin {
        ""
    } else {
        " disabled"
    };
    body.push_raw(&format!(
        "<section aria-labelledby=\"politica\"><h2 id=\"politica\">Política de revisión y garantía de audiencia</h2>\
         <form class=\"card\" data-api=\"/api/v1/processes/{process_id}/review-settings\" data-method=\"PUT\">\
         <fieldset{disabled}><legend>Muestra de la Mesa de Control</legend>\
         <label for=\"sample_percent\">Porcentaje de los apoyos encontrados en la Lista Nominal que se revisa</label>\
         <input id=\"sample_percent\" name=\"sample_percent\" data-type=\"number\" type=\"number\" min=\"1\" max=\"100\" required value=\"{}\">\
         <label for=\"full_review_trigger_percent\">Porcentaje de inconsistencias en la muestra que activa la revisión total</label>\
         <input id=\"full_review_trigger_percent\" name=\"full_review_trigger_percent\" data-type=\"number\" type=\"number\" min=\"0\" max=\"100\" required value=\"{}\">\
         <label for=\"hearing_opens_on\">Inicio de la garantía de audiencia</label>\
         <input id=\"hearing_opens_on\" name=\"hearing_opens_on\" data-type=\"date\" type=\"date\" value=\"{}\">\
         <label for=\"hearing_closes_on\">Fin de la garantía de audiencia</label>\
         <input id=\"hearing_closes_on\" name=\"hearing_closes_on\" data-type=\"date\" type=\"date\" value=\"{}\">\
         {FORM_ERROR}<button type=\"submit\">Guardar</button></fieldset></form></section>",
        settings.policy.sample_percent,
        settings.policy.full_review_trigger_percent,
        settings.hearing.map(|h| h.opens.to_string()).unwrap_or_default(),
        settings.hearing.map(|h| h.closes.to_string()).unwrap_or_default(),
    ));

    let offices = store(state.store.offices(process_id).await)?;
    body = body.append(forms::offices(
        process_id,
        &offices,
        auth.principal.role == Role::Admin,
    ));

    body.push_raw("<section aria-labelledby=\"aspirantes\"><h2 id=\"aspirantes\">Aspirantes y revisión</h2><table><caption>Estado de la revisión por aspirante</caption><thead><tr>\
        <th scope=\"col\">Aspirante</th><th scope=\"col\" class=\"num\">En Lista Nominal</th><th scope=\"col\" class=\"num\">Muestra</th>\
        <th scope=\"col\" class=\"num\">Revisados</th><th scope=\"col\" class=\"num\">Con inconsistencias</th><th scope=\"col\" class=\"num\">En cola</th>\
        <th scope=\"col\">Revisión</th><th scope=\"col\">Reportes</th></tr></thead><tbody>");
    for a in &status {
        body.push_raw(&format!(
            "<tr><td><a href=\"/console/aspirants/{}\">",
            a.aspirant_id
        ));
        body.push_text(&a.aspirant_name);
        body.push_raw(&format!(
            "</a></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td>\
             <td><a href=\"/console/reports/aspirants/{id}/apoyos.csv\">CSV</a> · <a href=\"/console/reports/aspirants/{id}/apoyos.xlsx\">XLSX</a> · <a href=\"/console/reports/aspirants/{id}/dictamen.pdf\">Dictamen (PDF)</a></td></tr>",
            number(a.found),
            number(a.sample_target),
            number(a.reviewed),
            number(a.invalidated),
            number(a.queued),
            if a.full_review { "Total" } else { "Muestra" },
            id = a.aspirant_id,
        ));
    }
    body.push_raw("</tbody></table></section>");
    page(&state, &auth, &process.name, "/console/", body).await
}

pub(crate) async fn catalog(State(state): State<AppState>, Viewer(auth): Viewer) -> PageResult {
    admin(&auth)?;
    let entries = store(state.store.inconsistency_types(true).await)?;
    let mut body = Html::new().raw("<h1>Catálogo de inconsistencias</h1><p>Lo que la Mesa de Control puede registrar al revisar las imágenes de un apoyo. Las claves no cambian; una inconsistencia que ya no se usa se retira.</p>");
    body.push_raw("<table><caption>Inconsistencias</caption><thead><tr><th scope=\"col\">Clave</th><th scope=\"col\">Descripción</th><th scope=\"col\">Invalida el apoyo</th><th scope=\"col\">Estado</th><th scope=\"col\">Acción</th></tr></thead><tbody>");
    for e in &entries {
        body.push_raw("<tr><td><code>");
        body.push_text(&e.code);
        body.push_raw("</code></td><td>");
        body.push_text(&e.label);
        body.push_raw("</td><td>");
        body.push_raw(if e.invalidates { "Sí" } else { "No" });
        body.push_raw("</td><td>");
        body.push_raw(if e.active { "Vigente" } else { "Retirada" });
        body.push_raw("</td><td><form class=\"inline\" data-api=\"/api/v1/inconsistency-types/");
        body.push_text(&super::encode(&e.code));
        body.push_raw(&format!(
            "\" data-method=\"PUT\"><input type=\"hidden\" name=\"active\" data-type=\"bool\" value=\"{}\"><button type=\"submit\" class=\"secondary\">{}</button>{FORM_ERROR}</form></td></tr>",
            !e.active,
            if e.active { "Retirar" } else { "Restablecer" }
        ));
    }
    body.push_raw("</tbody></table>");
    body.push_raw("<section aria-labelledby=\"nueva\"><h2 id=\"nueva\">Agregar una inconsistencia</h2>\
        <form class=\"card\" data-api=\"/api/v1/inconsistency-types\" data-method=\"POST\">\
        <label for=\"code\">Clave (minúsculas, dígitos y guion bajo)</label><input id=\"code\" name=\"code\" required pattern=\"[a-z][a-z0-9_]{2,39}\">\
        <label for=\"label\">Descripción</label><input id=\"label\" name=\"label\" required maxlength=\"200\">\
        <div class=\"check\"><input id=\"invalidates\" name=\"invalidates\" type=\"checkbox\" data-type=\"bool\" checked><label for=\"invalidates\">Invalida el apoyo</label></div>");
    body.push_raw(FORM_ERROR);
    body.push_raw("<button type=\"submit\">Agregar</button></form></section>");
    page(
        &state,
        &auth,
        "Catálogo de inconsistencias",
        "/console/catalog",
        body,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AuditQuery {
    entity: Option<String>,
    entity_id: Option<String>,
    action: Option<String>,
    actor_user_id: Option<String>,
    before_id: Option<i64>,
}

fn non_empty(text: Option<&String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

pub(crate) async fn audit(
    State(state): State<AppState>,
    Viewer(auth): Viewer,
    Query(query): Query<AuditQuery>,
) -> PageResult {
    admin(&auth)?;
    let actor = match non_empty(query.actor_user_id.as_ref()) {
        None => None,
        Some(text) => Some(text.parse::<i64>().map_err(|_| {
            fail(ApiError::BadRequest(format!(
                "Usuario: «{text}» no es un número de usuario."
            )))
        })?),
    };
    let filter = AuditFilter {
        entity: non_empty(query.entity.as_ref()),
        entity_id: non_empty(query.entity_id.as_ref()),
        actor_user_id: actor,
        action: non_empty(query.action.as_ref()),
        before_id: query.before_id,
        limit: 100,
    };
    let entries = store(state.store.audit_entries(&filter).await)?;
    let value = |v: &Option<String>| escape(v.as_deref().unwrap_or_default());
    let mut body = Html::new().raw("<h1>Bitácora</h1>");
    body.push_raw(&format!(
        "<form class=\"card filters\" method=\"get\" action=\"/console/audit\">\
         <label for=\"f-entity\">Entidad</label><input id=\"f-entity\" name=\"entity\" value=\"{}\" placeholder=\"support, objection, process…\">\
         <label for=\"f-entity-id\">Número</label><input id=\"f-entity-id\" name=\"entity_id\" value=\"{}\">\
         <label for=\"f-action\">Acción</label><input id=\"f-action\" name=\"action\" value=\"{}\" placeholder=\"support.review…\">\
         <label for=\"f-actor\">Usuario (número)</label><input id=\"f-actor\" name=\"actor_user_id\" value=\"{}\" inputmode=\"numeric\">\
         <button type=\"submit\">Filtrar</button></form>",
        value(&query.entity),
        value(&query.entity_id),
        value(&query.action),
        value(&query.actor_user_id),
    ));
    body.push_raw("<table><caption>Movimientos, del más reciente al más antiguo</caption><thead><tr><th scope=\"col\">Fecha</th><th scope=\"col\">Usuario</th><th scope=\"col\">Acción</th><th scope=\"col\">Entidad</th><th scope=\"col\">Detalle</th></tr></thead><tbody>");
    for e in &entries {
        body.push_raw("<tr><td>");
        body.push_text(&date_time(&e.at));
        body.push_raw("</td><td>");
        body.push_text(
            &e.actor_user_id
                .map_or("sistema".into(), |id| id.to_string()),
        );
        body.push_raw("</td><td><code>");
        body.push_text(&e.action);
        body.push_raw("</code></td><td>");
        body.push_text(&format!(
            "{} {}",
            e.entity,
            e.entity_id.as_deref().unwrap_or("")
        ));
        body.push_raw("</td><td class=\"detail\">");
        let detail = e.after.as_ref().map(|v| v.to_string()).unwrap_or_default();
        body.push_text(&detail.chars().take(200).collect::<String>());
        body.push_raw("</td></tr>");
    }
    body.push_raw("</tbody></table>");
    if let Some(last) = entries.last().filter(|_| entries.len() == 100) {
        let mut next = format!("/console/audit?before_id={}", last.id);
        for (key, v) in [
            ("entity", &filter.entity),
            ("entity_id", &filter.entity_id),
            ("action", &filter.action),
        ] {
            if let Some(v) = v {
                next.push_str(&format!("&{key}={}", super::encode(v)));
            }
        }
        if let Some(actor) = filter.actor_user_id {
            next.push_str(&format!("&actor_user_id={actor}"));
        }
        body.push_raw("<p><a href=\"");
        body.push_text(&next);
        body.push_raw("\">Movimientos más antiguos</a></p>");
    }
    page(&state, &auth, "Bitácora", "/console/audit", body).await
}

pub(crate) async fn reviewers(State(state): State<AppState>, Viewer(auth): Viewer) -> PageResult {
    admin(&auth)?;
    let hours = store(state.store.reviewer_hours(500).await)?;
    let mut users = store(state.store.users(Some(Role::Admin)).await)?;
    users.extend(store(state.store.users(Some(Role::Reviewer)).await)?);
    let mut body = Html::new()
        .raw("<h1>Personal del OPL y productividad</h1>")
        .append(forms::staff(&users));
    body.push_raw("<h2>Productividad de la Mesa de Control</h2><p>Decisiones registradas por persona revisora en cada hora (tiempo del centro de México).</p>");
    body.push_raw("<table><caption>Decisiones por hora</caption><thead><tr><th scope=\"col\">Hora</th><th scope=\"col\">Persona revisora</th><th scope=\"col\" class=\"num\">Decisiones</th></tr></thead><tbody>");
    for h in &hours {
        body.push_raw("<tr><td>");
        body.push_text(&date_time(&format!("{}:00:00Z", h.hour)));
        body.push_raw("</td><td>");
        body.push_text(&h.reviewer_email);
        body.push_raw(&format!(
            "</td><td class=\"num\">{}</td></tr>",
            number(h.decisions)
        ));
    }
    body.push_raw("</tbody></table>");
    page(&state, &auth, "Productividad", "/console/reviewers", body).await
}

pub(crate) async fn review_desk(
    State(state): State<AppState>,
    Viewer(auth): Viewer,
    ApiPath(process_id): ApiPath<i64>,
) -> PageResult {
    staff(&auth)?;
    let process = store(state.store.process(process_id).await)?
        .ok_or_else(|| fail(ApiError::NotFound("process")))?;
    let catalog = store(state.store.inconsistency_types(false).await)?;
    let catalog_json = serde_json::to_string(&catalog).unwrap_or_else(|_| "[]".into());
    let mut body = Html::new()
        .raw("<h1>Mesa de Control: ")
        .text(&process.name)
        .raw("</h1>");
    body.push_raw(&format!(
        "<div id=\"review-desk\" data-process=\"{process_id}\">\
         <p class=\"keys\" id=\"keys\"><kbd>V</kbd> válido y siguiente · <kbd>1</kbd>–<kbd>9</kbd> marcar inconsistencia · \
         <kbd>Intro</kbd> registrar lo marcado · <kbd>N</kbd> nota · <kbd>←</kbd>/<kbd>→</kbd> imagen anterior/siguiente · \
         <kbd>+</kbd>/<kbd>-</kbd> acercar/alejar · <kbd>R</kbd> girar</p>\
         <p id=\"desk-status\" role=\"status\" aria-live=\"polite\">Cargando el primer apoyo…</p>\
         <div id=\"desk\" hidden></div></div>"
    ));
    body.push_raw("<script type=\"application/json\" id=\"catalog\">");
    // Inside a JSON data block only "</" could end it early.
    body.push_raw(&catalog_json.replace("</", "<\\/"));
    body.push_raw("</script>");
    page(&state, &auth, "Mesa de Control", "/console/", body).await
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ObjectionsQuery {
    status: Option<String>,
}

pub(crate) async fn objections(
    State(state): State<AppState>,
    Viewer(auth): Viewer,
    Query(query): Query<ObjectionsQuery>,
) -> PageResult {
    let aspirant_id = match auth.principal.role {
        Role::Admin | Role::Reviewer => None,
        Role::Aspirant => auth.principal.aspirant_id,
        Role::Collector => return Err(fail(ApiError::Forbidden)),
    };
    let status = query.status.as_deref().and_then(ObjectionStatus::parse);
    let list = store(
        state
            .store
            .objections(&ObjectionFilter {
                process_id: None,
                aspirant_id,
                status,
                limit: 2000,
            })
            .await,
    )?;
    let aspirant = auth.principal.role == Role::Aspirant;
    let mut body = Html::new().raw(if aspirant {
        "<h1>Garantía de audiencia</h1><p>Sus objeciones a apoyos rechazados y la respuesta de la Mesa de Control. Para presentar una, abra el apoyo rechazado desde <em>Mis apoyos</em>.</p>"
    } else {
        "<h1>Objeciones de la garantía de audiencia</h1>"
    });
    if aspirant {
        if let Some(id) = aspirant_id {
            let a = store(state.store.aspirant(id).await)?;
            if let Some(a) = a {
                let settings = store(state.store.review_settings(a.process_id).await)?;
                body.push_raw("<p class=\"notice\">");
                body.push_text(&match settings.hearing {
                    Some(h) if h.is_open(today()) => format!(
                        "El periodo de garantía de audiencia está abierto del {} al {}.",
                        date(h.opens),
                        date(h.closes)
                    ),
                    Some(h) => format!(
                        "El periodo de garantía de audiencia es del {} al {}; hoy no está abierto.",
                        date(h.opens),
                        date(h.closes)
                    ),
                    None => "El OPL aún no fija el periodo de garantía de audiencia.".into(),
                });
                body.push_raw("</p>");
            }
        }
    }
    body.push_raw("<p>Mostrar: <a href=\"/console/objections\">todas</a> · <a href=\"/console/objections?status=open\">en trámite</a> · <a href=\"/console/objections?status=granted\">procedentes</a> · <a href=\"/console/objections?status=denied\">improcedentes</a></p>");
    body.push_raw("<table><caption>Objeciones</caption><thead><tr><th scope=\"col\">Número</th><th scope=\"col\">Folio del apoyo</th><th scope=\"col\">Motivo del rechazo</th><th scope=\"col\">Presentada</th><th scope=\"col\">Estado</th></tr></thead><tbody>");
    for o in &list {
        body.push_raw(&format!(
            "<tr><td><a href=\"/console/objections/{id}\">Objeción {id}</a></td><td>",
            id = o.id
        ));
        body.push_text(&apoyo_store::folio(o.process_id, o.support_sequence));
        body.push_raw("</td><td>");
        body.push_text(&outcome_label(&o.outcome_at_filing));
        body.push_raw("</td><td>");
        body.push_text(&date_time(&o.filed_at));
        body.push_raw("</td><td>");
        body.push_text(o.status.label_es());
        body.push_raw("</td></tr>");
    }
    body.push_raw("</tbody></table>");
    page(&state, &auth, "Objeciones", "/console/objections", body).await
}

pub(crate) async fn objection(
    State(state): State<AppState>,
    Viewer(auth): Viewer,
    ApiPath(id): ApiPath<i64>,
) -> PageResult {
    let o = api(crate::api::review::readable_objection(&state, &auth, id).await)?;
    let mut body = Html::new().raw(&format!("<h1>Objeción {id}</h1>"));
    body.push_raw("<dl class=\"facts\"><dt>Apoyo</dt><dd>");
    body.push_raw(&format!("<a href=\"/console/supports/{}\">", o.support_id));
    body.push_text(&apoyo_store::folio(o.process_id, o.support_sequence));
    body.push_raw("</a></dd><dt>Motivo del rechazo al presentarla</dt><dd>");
    body.push_text(&outcome_label(&o.outcome_at_filing));
    body.push_raw("</dd><dt>Presentada</dt><dd>");
    body.push_text(&date_time(&o.filed_at));
    body.push_raw("</dd><dt>Argumento</dt><dd class=\"prose\">");
    body.push_text(&o.argument);
    body.push_raw("</dd><dt>Estado</dt><dd>");
    body.push_text(o.status.label_es());
    body.push_raw("</dd>");
    if let Some(note) = &o.resolution_note {
        body.push_raw("<dt>Resolución</dt><dd class=\"prose\">");
        body.push_text(note);
        body.push_raw("</dd><dt>Resuelta</dt><dd>");
        body.push_text(&o.resolved_at.as_deref().map(date_time).unwrap_or_default());
        body.push_raw("</dd>");
    }
    body.push_raw("</dl>");
    if o.status == ObjectionStatus::Open && auth.principal.role.is_staff() {
        body.push_raw(&format!(
            "<form class=\"card\" data-api=\"/api/v1/objections/{id}/resolution\" data-method=\"POST\">\
             <fieldset><legend>Resolver la objeción</legend>\
             <div class=\"check\"><input type=\"radio\" id=\"granted-yes\" name=\"granted\" value=\"true\" data-type=\"bool\" required><label for=\"granted-yes\">Procedente: se retiran las inconsistencias de la Mesa de Control</label></div>\
             <div class=\"check\"><input type=\"radio\" id=\"granted-no\" name=\"granted\" value=\"false\" data-type=\"bool\"><label for=\"granted-no\">Improcedente: se confirma el rechazo</label></div>\
             <label for=\"note\">Fundamento (lo verá la persona aspirante)</label><textarea id=\"note\" name=\"note\" required minlength=\"10\" rows=\"4\"></textarea>\
             {FORM_ERROR}<button type=\"submit\">Registrar resolución</button></fieldset></form>"
        ));
    }
    page(
        &state,
        &auth,
        &format!("Objeción {id}"),
        "/console/objections",
        body,
    )
    .await
}

/// The aspirant's progress: figures, chart over time, secciones, collectors, reports.
pub(crate) async fn aspirant(
    State(state): State<AppState>,
    Viewer(auth): Viewer,
    ApiPath(aspirant_id): ApiPath<i64>,
) -> PageResult {
    if !auth.principal.can_read_progress(aspirant_id) {
        return Err(fail(ApiError::NotFound("aspirant")));
    }
    let a = store(state.store.aspirant(aspirant_id).await)?
        .ok_or_else(|| fail(ApiError::NotFound("aspirant")))?;
    let progress: ProgressView = store(state.store.aspirant_progress(aspirant_id).await)?
        .ok_or_else(|| fail(ApiError::NotFound("aspirant")))?
        .into();
    let days = store(state.store.supports_by_day(aspirant_id).await)?;
    let collectors = store(state.store.collector_figures(aspirant_id).await)?;
    let mut body = Html::new().raw("<h1>").text(&a.name).raw("</h1>");
    body.push_raw("<ul class=\"figures\">");
    for (label, value) in [
        ("Apoyos recibidos", progress.received),
        ("Válidos", progress.valid),
        ("En verificación", progress.pending),
        ("Requeridos", progress.required_supports),
        ("Faltan", progress.missing),
    ] {
        body.push_raw("<li><span class=\"figure\">");
        body.push_text(&number(value));
        body.push_raw("</span> ");
        body.push_text(label);
        body.push_raw("</li>");
    }
    body.push_raw("</ul><p class=\"notice\">");
    body.push_text(if progress.threshold_reached {
        "Umbral alcanzado."
    } else {
        "Aún no alcanza el umbral."
    });
    if let Some(d) = &progress.dispersion {
        body.push_text(&format!(
            " Dispersión: {} de {} secciones requeridas cumplen ({}).",
            number(d.sections_reached),
            number(d.sections_needed),
            if d.reached { "cumple" } else { "no cumple" }
        ));
    }
    body.push_raw("</p>");
    body.push_raw(&format!(
        "<p>Reportes: <a href=\"/console/reports/aspirants/{aspirant_id}/apoyos.csv\">apoyos (CSV)</a> · \
         <a href=\"/console/reports/aspirants/{aspirant_id}/apoyos.xlsx\">apoyos (XLSX)</a> · \
         <a href=\"/console/reports/aspirants/{aspirant_id}/dictamen.pdf\">dictamen (PDF)</a> · \
         <a href=\"/console/aspirants/{aspirant_id}/supports\">ver los apoyos</a></p>"
    ));

    // Chart: valid supports accumulated by day of reception, with the threshold.
    body = body.append(chart(&days, progress.required_supports));

    body.push_raw("<section aria-labelledby=\"motivos\"><h2 id=\"motivos\">Apoyos no válidos por motivo</h2><table><caption>Motivos de rechazo</caption><thead><tr><th scope=\"col\">Motivo</th><th scope=\"col\" class=\"num\">Apoyos</th></tr></thead><tbody>");
    for r in &progress.rejected {
        body.push_raw("<tr><td>");
        body.push_text(&r.label);
        body.push_raw(&format!(
            "</td><td class=\"num\">{}</td></tr>",
            number(r.supports)
        ));
    }
    body.push_raw("</tbody></table></section>");

    body.push_raw("<section aria-labelledby=\"auxiliares\"><h2 id=\"auxiliares\">Auxiliares</h2><table><caption>Apoyos por auxiliar</caption><thead><tr><th scope=\"col\">Auxiliar</th><th scope=\"col\">Estado</th><th scope=\"col\" class=\"num\">Enviados</th><th scope=\"col\" class=\"num\">Válidos</th><th scope=\"col\" class=\"num\">No válidos</th><th scope=\"col\" class=\"num\">En verificación</th><th scope=\"col\">Último envío</th></tr></thead><tbody>");
    for c in &collectors {
        body.push_raw("<tr><td>");
        body.push_text(&c.name);
        body.push_raw("</td><td>");
        body.push_raw(if c.active { "Activo" } else { "Desactivado" });
        body.push_raw(&format!(
            "</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>",
            number(c.sent),
            number(c.valid),
            number(c.rejected),
            number(c.pending)
        ));
        body.push_text(
            &c.last_received_at
                .as_deref()
                .map(date_time)
                .unwrap_or_else(|| "—".into()),
        );
        body.push_raw("</td></tr>");
    }
    body.push_raw("</tbody></table>");
    if auth.principal.can_manage_collectors_of(aspirant_id) {
        let details = store(state.store.collectors(aspirant_id).await)?;
        body = body.append(forms::collectors(aspirant_id, &collectors, &details));
    }
    body.push_raw("</section>");

    if let Some(d) = &progress.dispersion {
        body.push_raw("<section aria-labelledby=\"secciones\"><h2 id=\"secciones\">Dispersión por sección</h2><table><caption>Apoyos válidos por sección</caption><thead><tr><th scope=\"col\">Sección</th><th scope=\"col\" class=\"num\">Lista Nominal</th><th scope=\"col\" class=\"num\">Requeridos</th><th scope=\"col\" class=\"num\">Válidos</th><th scope=\"col\">Cumple</th></tr></thead><tbody>");
        for s in &d.sections {
            body.push_raw(&format!(
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                s.section,
                number(s.lista_nominal),
                number(s.needs),
                number(s.valid),
                if s.reached { "Sí" } else { "No" }
            ));
        }
        body.push_raw("</tbody></table></section>");
    }
    let current = format!("/console/aspirants/{aspirant_id}");
    page(&state, &auth, &a.name, &current, body).await
}

/// An SVG line of valid supports accumulated per day, with the required count as a
/// dashed line; a table of the same figures follows for screen readers and keyboards.
fn chart(days: &[apoyo_store::DayFigures], required: i64) -> Html {
    let mut cumulative = Vec::with_capacity(days.len());
    let mut total = 0;
    for d in days {
        total += d.valid;
        cumulative.push((d.day.clone(), total));
    }
    let top = cumulative
        .last()
        .map_or(0, |(_, n)| *n)
        .max(required)
        .max(1) as f64;
    let (w, h, pad) = (640.0, 220.0, 30.0);
    let x = |i: usize| {
        if cumulative.len() <= 1 {
            pad + (w - 2.0 * pad) / 2.0
        } else {
            pad + (w - 2.0 * pad) * i as f64 / (cumulative.len() - 1) as f64
        }
    };
    let y = |n: i64| h - pad - (h - 2.0 * pad) * n as f64 / top;
    let points: Vec<String> = cumulative
        .iter()
        .enumerate()
        .map(|(i, (_, n))| format!("{:.1},{:.1}", x(i), y(*n)))
        .collect();
    let mut out = Html::new()
        .raw("<section aria-labelledby=\"avance\"><h2 id=\"avance\">Avance en el tiempo</h2>");
    out.push_raw(&format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"chart-title\"><title id=\"chart-title\">Apoyos válidos acumulados por día: {} de {} requeridos</title>\
         <line x1=\"{pad}\" y1=\"{ry:.1}\" x2=\"{rx:.1}\" y2=\"{ry:.1}\" stroke=\"#b3261e\" stroke-dasharray=\"6 4\" stroke-width=\"2\"/>\
         <text x=\"{pad}\" y=\"{ty:.1}\" fill=\"#b3261e\" font-size=\"12\">Requeridos: {}</text>\
         <polyline fill=\"none\" stroke=\"#1d4e89\" stroke-width=\"3\" points=\"{}\"/>\
         <line x1=\"{pad}\" y1=\"{base:.1}\" x2=\"{rx:.1}\" y2=\"{base:.1}\" stroke=\"#555\"/></svg>",
        number(total),
        number(required),
        number(required),
        points.join(" "),
        ry = y(required),
        ty = y(required) - 4.0,
        rx = w - pad,
        base = h - pad,
    ));
    out.push_raw("<details><summary>Ver las cifras por día</summary><table><caption>Apoyos por día de recepción</caption><thead><tr><th scope=\"col\">Día</th><th scope=\"col\" class=\"num\">Recibidos</th><th scope=\"col\" class=\"num\">Válidos</th><th scope=\"col\" class=\"num\">Válidos acumulados</th></tr></thead><tbody>");
    for (d, (_, acc)) in days.iter().zip(&cumulative) {
        let day = apoyo_domain::Date::parse_iso(&d.day)
            .map(date)
            .unwrap_or_else(|_| d.day.clone());
        out.push_raw("<tr><td>");
        out.push_text(&day);
        out.push_raw(&format!(
            "</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            number(d.received),
            number(d.valid),
            number(*acc)
        ));
    }
    out.raw("</tbody></table></details></section>")
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct SupportsQuery {
    filter: Option<String>,
    after: Option<i64>,
}

pub(crate) async fn supports(
    State(state): State<AppState>,
    Viewer(auth): Viewer,
    ApiPath(aspirant_id): ApiPath<i64>,
    Query(query): Query<SupportsQuery>,
) -> PageResult {
    if !auth.principal.can_read_progress(aspirant_id) {
        return Err(fail(ApiError::NotFound("aspirant")));
    }
    let a = store(state.store.aspirant(aspirant_id).await)?
        .ok_or_else(|| fail(ApiError::NotFound("aspirant")))?;
    let (filter, filter_key) = match query.filter.as_deref() {
        Some("pending") => (OutcomeFilter::Pending, "pending"),
        Some("valid") => (OutcomeFilter::Code("valid".into()), "valid"),
        Some("rejected") => (OutcomeFilter::Rejected, "rejected"),
        _ => (OutcomeFilter::Any, "all"),
    };
    const PAGE: i64 = 100;
    let list = store(
        state
            .store
            .aspirant_supports(aspirant_id, &filter, query.after.unwrap_or(0), PAGE)
            .await,
    )?;
    let staff = auth.principal.role.is_staff();
    let mut body = Html::new().raw("<h1>Apoyos de ").text(&a.name).raw("</h1>");
    body.push_raw("<p>Mostrar: ");
    for (key, label) in [
        ("all", "todos"),
        ("valid", "válidos"),
        ("rejected", "no válidos"),
        ("pending", "en verificación"),
    ] {
        let current = if key == filter_key {
            " aria-current=\"true\""
        } else {
            ""
        };
        body.push_raw(&format!(
            "<a href=\"/console/aspirants/{aspirant_id}/supports?filter={key}\"{current}>{label}</a> "
        ));
    }
    body.push_raw("</p><table><caption>Apoyos en orden de recepción</caption><thead><tr><th scope=\"col\">Folio</th><th scope=\"col\">Recibido</th><th scope=\"col\">Sección</th><th scope=\"col\">Clave de elector</th><th scope=\"col\">Situación</th></tr></thead><tbody>");
    for s in &list {
        body.push_raw(&format!(
            "<tr><td><a href=\"/console/supports/{}\">",
            s.support_id
        ));
        body.push_text(&s.folio);
        body.push_raw("</a></td><td>");
        body.push_text(&date_time(&s.received_at));
        body.push_raw("</td><td>");
        body.push_text(s.section.as_deref().unwrap_or("—"));
        body.push_raw("</td><td>");
        let clave = s
            .citizen_clave
            .as_deref()
            .map(|c| if staff { c.to_owned() } else { mask_clave(c) });
        body.push_text(clave.as_deref().unwrap_or("—"));
        body.push_raw("</td><td>");
        body.push_text(
            &s.outcome
                .as_deref()
                .map_or("En verificación".into(), outcome_label),
        );
        body.push_raw("</td></tr>");
    }
    body.push_raw("</tbody></table>");
    if list.len() as i64 == PAGE {
        if let Some(last) = list.last() {
            body.push_raw(&format!(
                "<p><a href=\"/console/aspirants/{aspirant_id}/supports?filter={filter_key}&after={}\">Siguientes {PAGE}</a></p>",
                last.sequence
            ));
        }
    }
    let current = format!("/console/aspirants/{aspirant_id}/supports");
    page(&state, &auth, "Apoyos", &current, body).await
}

/// One support: staff see the captured data, the roll's data, the images and every
/// decision (administrators may re-review); the aspirant sees the outcome, the decisions
/// without names and, during the hearing, the images of a rejected support and the form
/// to contest it.
pub(crate) async fn support(
    State(state): State<AppState>,
    Viewer(auth): Viewer,
    ApiPath(support_id): ApiPath<i64>,
) -> PageResult {
    let detail = store(state.store.support_detail(support_id).await)?
        .ok_or_else(|| fail(ApiError::NotFound("support")))?;
    let aspirant_id = detail.receipt.aspirant_id;
    if !auth.principal.can_read_progress(aspirant_id) {
        return Err(fail(ApiError::NotFound("support")));
    }
    let staff = auth.principal.role.is_staff();
    let in_hearing = api(crate::api::review::hearing_allows_images(
        &state,
        &auth,
        detail.receipt.process_id,
        aspirant_id,
        detail.receipt.outcome.as_deref(),
    )
    .await)?;
    if staff {
        store(
            state
                .store
                .record_access(
                    &auth.actor(),
                    "support.view",
                    "support",
                    support_id,
                    json!({ "via": "console" }),
                )
                .await,
        )?;
    }
    let reviews = store(state.store.support_reviews(support_id).await)?;
    let objections = store(
        state
            .store
            .objections(&ObjectionFilter {
                aspirant_id: Some(aspirant_id),
                limit: 10_000,
                ..ObjectionFilter::default()
            })
            .await,
    )?
    .into_iter()
    .filter(|o| o.support_id == support_id)
    .collect::<Vec<_>>();
    let catalog = store(state.store.inconsistency_types(true).await)?;
    let label_of = |code: &str| {
        catalog
            .iter()
            .find(|c| c.code == code)
            .map_or(code.to_owned(), |c| c.label.clone())
    };

    let mut body = Html::new()
        .raw("<h1>Apoyo ")
        .text(&detail.receipt.folio)
        .raw("</h1>");
    body.push_raw("<dl class=\"facts\"><dt>Recibido</dt><dd>");
    body.push_text(&date_time(&detail.receipt.received_at));
    body.push_raw("</dd><dt>Situación</dt><dd>");
    body.push_text(
        &detail
            .receipt
            .outcome
            .as_deref()
            .map_or("En verificación".into(), outcome_label),
    );
    body.push_raw("</dd><dt>Clave de elector en la Lista Nominal</dt><dd>");
    let clave = detail
        .citizen_clave
        .as_deref()
        .map(|c| if staff { c.to_owned() } else { mask_clave(c) });
    body.push_text(clave.as_deref().unwrap_or("—"));
    body.push_raw("</dd><dt>Sección</dt><dd>");
    body.push_text(&detail.citizen_section.map_or("—".into(), |s| s.to_string()));
    body.push_raw("</dd><dt>Captura</dt><dd>");
    body.push_text(if detail.paper {
        "En papel (régimen de excepción)"
    } else {
        "Aplicación de captura"
    });
    body.push_raw("</dd></dl>");

    if staff || in_hearing {
        body.push_raw("<section aria-labelledby=\"imagenes\"><h2 id=\"imagenes\">Imágenes</h2><div class=\"images\">");
        for image in &detail.receipt.images {
            let label = match image.kind.as_str() {
                "front" => "Anverso de la credencial",
                "back" => "Reverso de la credencial",
                "live_photo" => "Fotografía viva",
                "signature" => "Firma",
                other => other,
            };
            body.push_raw(&format!(
                "<figure><img src=\"/api/v1/supports/{support_id}/images/{kind}\" alt=\"{label} del apoyo {folio}\" loading=\"lazy\"><figcaption>{label}</figcaption></figure>",
                kind = image.kind.as_str(),
                folio = escape(&detail.receipt.folio),
            ));
        }
        body.push_raw("</div></section>");
    }
    if staff {
        body.push_raw("<section aria-labelledby=\"capturados\"><h2 id=\"capturados\">Datos capturados</h2><dl class=\"facts\">");
        if let Some(fields) = detail.credential.as_object() {
            for (key, value) in fields {
                body.push_raw("<dt>");
                body.push_text(key);
                body.push_raw("</dt><dd>");
                body.push_text(&value.as_str().map_or(value.to_string(), str::to_owned));
                body.push_raw("</dd>");
            }
        }
        body.push_raw("</dl></section>");
    }

    body.push_raw("<section aria-labelledby=\"decisiones\"><h2 id=\"decisiones\">Decisiones de la Mesa de Control</h2>");
    if reviews.is_empty() {
        body.push_raw("<p>Sin decisiones registradas.</p>");
    } else {
        body.push_raw("<table><caption>Decisiones, de la primera a la última</caption><thead><tr><th scope=\"col\">Fecha</th><th scope=\"col\">Tipo</th><th scope=\"col\">Resultado</th><th scope=\"col\">Nota</th>");
        if staff {
            body.push_raw("<th scope=\"col\">Persona revisora</th>");
        }
        body.push_raw("</tr></thead><tbody>");
        for r in &reviews {
            body.push_raw("<tr><td>");
            body.push_text(&date_time(&r.decided_at));
            body.push_raw("</td><td>");
            body.push_text(r.kind.label_es());
            body.push_raw("</td><td>");
            if r.inconsistencies.is_empty() {
                body.push_raw("Sin inconsistencias");
            } else {
                let labels: Vec<String> = r.inconsistencies.iter().map(|c| label_of(c)).collect();
                body.push_text(&labels.join("; "));
            }
            body.push_raw("</td><td>");
            body.push_text(r.note.as_deref().unwrap_or(""));
            body.push_raw("</td>");
            if staff {
                body.push_raw("<td>");
                body.push_text(&r.reviewer_email);
                body.push_raw("</td>");
            }
            body.push_raw("</tr>");
        }
        body.push_raw("</tbody></table>");
    }
    body.push_raw("</section>");

    if auth.principal.role == Role::Admin && detail.preliminary_outcome.is_some() {
        body.push_raw(&format!(
            "<form class=\"card\" data-api=\"/api/v1/supports/{support_id}/review\" data-method=\"POST\"><fieldset><legend>Nueva revisión (supervisión)</legend>"
        ));
        for (i, c) in catalog.iter().filter(|c| c.active).enumerate() {
            body.push_raw(&format!(
                "<div class=\"check\"><input type=\"checkbox\" id=\"rr-{i}\" name=\"inconsistencies\" data-type=\"list\" value=\"{}\"><label for=\"rr-{i}\">",
                escape(&c.code)
            ));
            body.push_text(&c.label);
            body.push_raw("</label></div>");
        }
        body.push_raw("<label for=\"rr-note\">Nota</label><textarea id=\"rr-note\" name=\"note\" rows=\"3\"></textarea>");
        body.push_raw(FORM_ERROR);
        body.push_raw(
            "<button type=\"submit\">Registrar nueva revisión</button></fieldset></form>",
        );
    }

    body.push_raw(
        "<section aria-labelledby=\"audiencia\"><h2 id=\"audiencia\">Garantía de audiencia</h2>",
    );
    for o in &objections {
        body.push_raw(&format!(
            "<p><a href=\"/console/objections/{}\">Objeción {}</a>: ",
            o.id, o.id
        ));
        body.push_text(o.status.label_es());
        if let Some(note) = &o.resolution_note {
            body.push_raw(". ");
            body.push_text(note);
        }
        body.push_raw("</p>");
    }
    let open_objection = objections.iter().any(|o| o.status == ObjectionStatus::Open);
    if in_hearing && !open_objection {
        let reason = detail
            .receipt
            .outcome
            .as_deref()
            .and_then(RollOutcome::from_code)
            .map(RollOutcome::label_es)
            .unwrap_or_default();
        body.push_raw(&format!(
            "<form class=\"card\" data-api=\"/api/v1/supports/{support_id}/objections\" data-method=\"POST\">\
             <fieldset><legend>Objetar el rechazo</legend><p>Motivo del rechazo: {}</p>\
             <label for=\"argument\">Su argumento (de 20 a 4,000 caracteres)</label>\
             <textarea id=\"argument\" name=\"argument\" required minlength=\"20\" maxlength=\"4000\" rows=\"5\"></textarea>\
             {FORM_ERROR}<button type=\"submit\">Presentar objeción</button></fieldset></form>",
            escape(&reason)
        ));
    } else if objections.is_empty() {
        body.push_raw("<p>Sin objeciones.</p>");
    }
    body.push_raw("</section>");
    page(
        &state,
        &auth,
        &format!("Apoyo {}", detail.receipt.folio),
        "",
        body,
    )
    .await
}
