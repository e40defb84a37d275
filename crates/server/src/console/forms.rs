//! The administrator's forms (processes, offices, aspirants, collectors, staff accounts)
//! and the lists beside them. Like every console form they are sent by `console.js` to
//! the JSON API, which validates, authorises and audits; an answer that creates an
//! account shows its one-time password once (`data-shows-account`).

use apoyo_domain::threshold::ThresholdRule;
use apoyo_store::{Collector, CollectorFigures, Office, OfficeKind, SnapshotSummary, User};

use super::html::{Html, date, date_time, number};

/// A `<p role="alert">` the form's script fills with the API's message.
const FORM_ERROR: &str = "<p class=\"form-error\" role=\"alert\" hidden></p>";

/// `<label>` + `<input>` with an id unique on the page.
fn field(html: &mut Html, id: &str, label: &str, input: &str) {
    html.push_raw(&format!("<label for=\"{id}\">"));
    html.push_text(label);
    html.push_raw(&format!("</label><input id=\"{id}\" {input}>"));
}

fn select(html: &mut Html, id: &str, name: &str, label: &str, options: &[(String, String)]) {
    select_typed(html, id, name, label, options, "");
}

/// A select whose value `console.js` types (`number`).
fn select_typed(
    html: &mut Html,
    id: &str,
    name: &str,
    label: &str,
    options: &[(String, String)],
    data_type: &str,
) {
    html.push_raw(&format!("<label for=\"{id}\">"));
    html.push_text(label);
    let typed = if data_type.is_empty() {
        String::new()
    } else {
        format!(" data-type=\"{data_type}\"")
    };
    html.push_raw(&format!(
        "</label><select id=\"{id}\" name=\"{name}\"{typed} required>"
    ));
    for (value, text) in options {
        html.push_raw("<option value=\"");
        html.push_text(value);
        html.push_raw("\">");
        html.push_text(text);
        html.push_raw("</option>");
    }
    html.push_raw("</select>");
}

/// The form that creates a process (home page, administrators).
pub(crate) fn new_process(snapshots: &[SnapshotSummary]) -> Html {
    let mut html = Html::new().raw(
        "<section aria-labelledby=\"nuevo-proceso\"><h2 id=\"nuevo-proceso\">Nuevo proceso</h2>",
    );
    if snapshots.is_empty() {
        html.push_raw("<p>Primero importe un corte de la Lista Nominal (<code>apoyo roll import</code>); el proceso se verifica contra él.</p></section>");
        return html;
    }
    html.push_raw("<form class=\"card\" data-api=\"/api/v1/processes\" data-method=\"POST\">");
    field(
        &mut html,
        "process-name",
        "Nombre",
        "name=\"name\" required maxlength=\"200\"",
    );
    select(
        &mut html,
        "process-kind",
        "kind",
        "Tipo",
        &[
            ("independent_candidacy", "Candidatura independiente"),
            ("popular_consultation", "Consulta popular"),
            ("recall_referendum", "Revocación de mandato"),
            ("party_affiliation", "Afiliación a un nuevo partido"),
        ]
        .map(|(v, t)| (v.to_owned(), t.to_owned())),
    );
    field(
        &mut html,
        "process-starts",
        "Inicio de la captación",
        "name=\"collection_starts_on\" type=\"date\" required",
    );
    field(
        &mut html,
        "process-ends",
        "Fin de la captación",
        "name=\"collection_ends_on\" type=\"date\" required",
    );
    field(
        &mut html,
        "process-grace",
        "Horas de gracia para recibir lo capturado a tiempo",
        "name=\"grace_hours\" data-type=\"number\" type=\"number\" min=\"0\" max=\"168\" value=\"24\" required",
    );
    let options: Vec<(String, String)> = snapshots
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                format!(
                    "{} (corte al {}, {} registros){}",
                    s.name,
                    iso_to_date(&s.cut_date),
                    number(s.row_count),
                    if s.active { ", vigente" } else { "" }
                ),
            )
        })
        .collect();
    select(
        &mut html,
        "process-roll",
        "roll_snapshot",
        "Corte de la Lista Nominal",
        &options,
    );
    field(
        &mut html,
        "process-paper",
        "Municipios en régimen de excepción (papel), como entidad-municipio separados por comas, p. ej. 10-12, 10-30",
        "name=\"paper_municipalities\" data-type=\"pairs\" pattern=\"\\s*(\\d{1,2}-\\d{1,3}\\s*(,\\s*\\d{1,2}-\\d{1,3}\\s*)*)?\"",
    );
    html.push_raw(FORM_ERROR);
    html.push_raw("<button type=\"submit\">Crear proceso</button></form></section>");
    html
}

fn iso_to_date(iso: &str) -> String {
    apoyo_domain::Date::parse_iso(iso)
        .map(date)
        .unwrap_or_else(|_| iso.to_owned())
}

fn office_kind_label(kind: OfficeKind) -> &'static str {
    match kind {
        OfficeKind::Ayuntamiento => "Ayuntamiento",
        OfficeKind::LocalDistrict => "Diputación local",
        OfficeKind::State => "Gubernatura",
    }
}

/// The offices of a process with their thresholds, and (administrators) the forms that
/// add an office and register an aspirant.
pub(crate) fn offices(process_id: i64, offices: &[Office], admin: bool) -> Html {
    let mut html = Html::new().raw("<section aria-labelledby=\"cargos\"><h2 id=\"cargos\">Cargos, umbrales y dispersión</h2><table><caption>Cargos del proceso</caption><thead><tr><th scope=\"col\">Cargo</th><th scope=\"col\">Tipo</th><th scope=\"col\" class=\"num\">Lista Nominal</th><th scope=\"col\" class=\"num\">Secciones</th><th scope=\"col\">Umbral</th><th scope=\"col\" class=\"num\">Apoyos requeridos</th><th scope=\"col\">Dispersión</th></tr></thead><tbody>");
    for o in offices {
        html.push_raw("<tr><td>");
        html.push_text(&o.name);
        html.push_raw("</td><td>");
        html.push_text(office_kind_label(o.kind));
        html.push_raw(&format!(
            "</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>",
            number(o.territory_roll),
            number(o.territory_sections)
        ));
        html.push_text(&match o.threshold {
            ThresholdRule::Percent(bp) => format!("{} % de la Lista Nominal", percent(bp)),
            ThresholdRule::Fixed(n) => format!("{} apoyos", number(n as i64)),
        });
        html.push_raw(&format!(
            "</td><td class=\"num\">{}</td><td>",
            number(o.required_supports)
        ));
        html.push_text(&if o.dispersion.is_enabled() {
            format!(
                "{} % de las secciones con al menos {} % de su Lista Nominal",
                percent(o.dispersion.min_sections_bp),
                percent(o.dispersion.min_support_bp)
            )
        } else {
            "Sin criterio".to_owned()
        });
        html.push_raw("</td></tr>");
    }
    html.push_raw("</tbody></table>");
    if !admin {
        html.push_raw("</section>");
        return html;
    }
    html.push_raw(&format!(
        "<details><summary>Agregar un cargo</summary><form class=\"card\" data-api=\"/api/v1/processes/{process_id}/offices\" data-method=\"POST\">"
    ));
    select(
        &mut html,
        "office-kind",
        "kind",
        "Tipo de cargo",
        &[
            ("ayuntamiento", "Ayuntamiento (territorio: el municipio)"),
            (
                "local_district",
                "Diputación local (territorio: las secciones)",
            ),
            ("state", "Gubernatura (territorio: la entidad)"),
        ]
        .map(|(v, t)| (v.to_owned(), t.to_owned())),
    );
    field(
        &mut html,
        "office-name",
        "Nombre",
        "name=\"name\" required maxlength=\"200\"",
    );
    field(
        &mut html,
        "office-state",
        "Entidad (1 a 32)",
        "name=\"state\" data-type=\"number\" type=\"number\" min=\"1\" max=\"32\" required",
    );
    field(
        &mut html,
        "office-municipality",
        "Municipio (numeración del INE; para un ayuntamiento)",
        "name=\"municipality\" data-type=\"optional-number\" type=\"number\" min=\"1\" max=\"999\"",
    );
    field(
        &mut html,
        "office-district",
        "Distrito local (para una diputación)",
        "name=\"district\" data-type=\"optional-number\" type=\"number\" min=\"1\" max=\"99\"",
    );
    field(
        &mut html,
        "office-sections",
        "Secciones del distrito, separadas por comas",
        "name=\"sections\" data-type=\"numbers\" pattern=\"\\s*(\\d{1,4}\\s*(,\\s*\\d{1,4}\\s*)*)?\"",
    );
    select(
        &mut html,
        "office-threshold-kind",
        "threshold_kind",
        "Umbral",
        &[
            ("percent", "Porcentaje de la Lista Nominal"),
            ("fixed", "Número fijo de apoyos"),
        ]
        .map(|(v, t)| (v.to_owned(), t.to_owned())),
    );
    field(
        &mut html,
        "office-threshold",
        "Valor del umbral (porcentaje en centésimas: 300 = 3 %; o número de apoyos)",
        "name=\"threshold_value\" data-type=\"number\" type=\"number\" min=\"1\" required",
    );
    field(
        &mut html,
        "office-dispersion-sections",
        "Dispersión: porcentaje de secciones que deben cumplir, en centésimas (0 = sin criterio)",
        "name=\"dispersion_min_sections_bp\" data-type=\"number\" type=\"number\" min=\"0\" max=\"10000\" value=\"0\"",
    );
    field(
        &mut html,
        "office-dispersion-support",
        "Dispersión: porcentaje de la Lista Nominal de cada sección, en centésimas",
        "name=\"dispersion_min_support_bp\" data-type=\"number\" type=\"number\" min=\"0\" max=\"10000\" value=\"0\"",
    );
    html.push_raw(FORM_ERROR);
    html.push_raw("<button type=\"submit\">Agregar cargo</button></form></details>");

    if !offices.is_empty() {
        html.push_raw(&format!(
            "<details><summary>Registrar aspirante</summary><form class=\"card\" data-api=\"/api/v1/processes/{process_id}/aspirants\" data-method=\"POST\" data-shows-account>"
        ));
        let options: Vec<(String, String)> = offices
            .iter()
            .map(|o| (o.id.to_string(), o.name.clone()))
            .collect();
        select_typed(
            &mut html,
            "aspirant-office",
            "office_id",
            "Cargo",
            &options,
            "number",
        );
        field(
            &mut html,
            "aspirant-name",
            "Nombre de la o el aspirante",
            "name=\"name\" required maxlength=\"200\"",
        );
        field(
            &mut html,
            "aspirant-email",
            "Correo electrónico (su cuenta)",
            "name=\"email\" type=\"email\" required",
        );
        html.push_raw(FORM_ERROR);
        html.push_raw("<button type=\"submit\">Registrar aspirante</button></form></details>");
    }
    html.push_raw("</section>");
    html
}

fn percent(bp: u32) -> String {
    if bp % 100 == 0 {
        (bp / 100).to_string()
    } else {
        format!("{}.{:02}", bp / 100, bp % 100)
            .trim_end_matches('0')
            .to_owned()
    }
}

/// Activation buttons for each collector and the form that registers one (the
/// aspirant or an administrator).
pub(crate) fn collectors(
    aspirant_id: i64,
    figures: &[CollectorFigures],
    details: &[Collector],
) -> Html {
    let mut html =
        Html::new().raw("<h3>Registrar y desactivar auxiliares</h3><ul class=\"plain\">");
    for c in figures {
        let Some(detail) = details.iter().find(|d| d.id == c.collector_id) else {
            continue;
        };
        let (action, label) = if c.active {
            ("deactivate", "Desactivar")
        } else {
            ("activate", "Reactivar")
        };
        html.push_raw("<li>");
        html.push_text(&format!("{} ({})", c.name, detail.email));
        html.push_raw(&format!(
            " <form class=\"inline\" data-api=\"/api/v1/collectors/{}/{action}\" data-method=\"POST\"><button type=\"submit\" class=\"secondary\" aria-label=\"",
            c.collector_id
        ));
        html.push_text(&format!("{label} a {}", c.name));
        html.push_raw(&format!("\">{label}</button>{FORM_ERROR}</form></li>"));
    }
    html.push_raw("</ul>");
    html.push_raw(&format!(
        "<details><summary>Registrar auxiliar</summary><form class=\"card\" data-api=\"/api/v1/aspirants/{aspirant_id}/collectors\" data-method=\"POST\" data-shows-account>"
    ));
    field(
        &mut html,
        "collector-name",
        "Nombre completo",
        "name=\"name\" required maxlength=\"200\"",
    );
    field(
        &mut html,
        "collector-email",
        "Correo electrónico (su cuenta en la aplicación)",
        "name=\"email\" type=\"email\" required",
    );
    field(
        &mut html,
        "collector-clave",
        "Clave de elector (18 caracteres; debe estar en la Lista Nominal)",
        "name=\"clave_elector\" required minlength=\"18\" maxlength=\"18\" autocapitalize=\"characters\" spellcheck=\"false\"",
    );
    html.push_raw(FORM_ERROR);
    html.push_raw("<button type=\"submit\">Registrar auxiliar</button></form></details>");
    html
}

/// The OPL's staff accounts and the form that creates one.
pub(crate) fn staff(users: &[User]) -> Html {
    let mut html = Html::new().raw("<section aria-labelledby=\"cuentas\"><h2 id=\"cuentas\">Cuentas del OPL</h2><table><caption>Administración y Mesa de Control</caption><thead><tr><th scope=\"col\">Nombre</th><th scope=\"col\">Correo</th><th scope=\"col\">Rol</th><th scope=\"col\">Estado</th></tr></thead><tbody>");
    for u in users {
        html.push_raw("<tr><td>");
        html.push_text(&u.name);
        html.push_raw("</td><td>");
        html.push_text(&u.email);
        html.push_raw("</td><td>");
        html.push_text(u.role.label_es());
        html.push_raw("</td><td>");
        html.push_text(match (u.active, u.must_change_password) {
            (false, _) => "Desactivada",
            (true, true) => "Pendiente de primer acceso",
            (true, false) => "Activa",
        });
        html.push_raw("</td></tr>");
    }
    html.push_raw("</tbody></table><details><summary>Nueva cuenta</summary><form class=\"card\" data-api=\"/api/v1/users\" data-method=\"POST\" data-shows-account>");
    field(
        &mut html,
        "staff-name",
        "Nombre",
        "name=\"name\" required maxlength=\"200\"",
    );
    field(
        &mut html,
        "staff-email",
        "Correo electrónico",
        "name=\"email\" type=\"email\" required",
    );
    select(
        &mut html,
        "staff-role",
        "role",
        "Rol",
        &[
            ("reviewer", "Mesa de Control"),
            ("admin", "Administración del OPL"),
        ]
        .map(|(v, t)| (v.to_owned(), t.to_owned())),
    );
    html.push_raw(FORM_ERROR);
    html.push_raw("<button type=\"submit\">Crear cuenta</button></form></details></section>");
    html
}

/// Recent roll snapshots (home page).
pub(crate) fn snapshots(snapshots: &[SnapshotSummary]) -> Html {
    let mut html = Html::new().raw("<section aria-labelledby=\"cortes\"><h2 id=\"cortes\">Cortes de la Lista Nominal</h2><table><caption>Cortes importados</caption><thead><tr><th scope=\"col\">Nombre</th><th scope=\"col\">Corte</th><th scope=\"col\" class=\"num\">Registros</th><th scope=\"col\">Importado</th><th scope=\"col\">Vigente</th></tr></thead><tbody>");
    for s in snapshots {
        html.push_raw("<tr><td>");
        html.push_text(&s.name);
        html.push_raw("</td><td>");
        html.push_text(&iso_to_date(&s.cut_date));
        html.push_raw(&format!(
            "</td><td class=\"num\">{}</td><td>",
            number(s.row_count)
        ));
        html.push_text(&date_time(&s.imported_at));
        html.push_raw("</td><td>");
        html.push_raw(if s.active { "Sí" } else { "No" });
        html.push_raw("</td></tr>");
    }
    html.push_raw("</tbody></table></section>");
    html
}
