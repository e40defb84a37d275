//! The Lista Nominal page (`/console/roll`): the snapshots, the latest imports, and the
//! form that uploads a roll file. The upload is sent by `console.js` (with its progress)
//! to `POST /api/v1/roll/imports`, which then imports it in the background; the page
//! follows the import until it ends.

// A page's error is the page to show (see pages.rs).
#![allow(clippy::result_large_err)]

use axum::extract::State;

use apoyo_domain::access::Role;
use apoyo_store::{RollImport, RollImportStatus};

use super::forms;
use super::html::{Html, date, date_time, number};
use super::pages::{PageResult, page};
use super::{Viewer, page_error};
use crate::api::roll_imports::{live_rows, recent};
use crate::state::AppState;

fn status_label(status: RollImportStatus) -> &'static str {
    match status {
        RollImportStatus::Queued => "En espera",
        RollImportStatus::Running => "En curso",
        RollImportStatus::Done => "Terminada",
        RollImportStatus::Failed => "Fallida",
    }
}

/// 1.5 MB: sizes as people read them (decimal units, like the browser's).
pub(crate) fn size(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

fn iso_to_date(iso: &str) -> String {
    apoyo_domain::Date::parse_iso(iso)
        .map(date)
        .unwrap_or_else(|_| iso.to_owned())
}

fn imports_table(state: &AppState, imports: &[RollImport]) -> Html {
    let mut html = Html::new().raw("<section aria-labelledby=\"importaciones\"><h2 id=\"importaciones\">Importaciones recientes</h2>");
    if imports.is_empty() {
        return html.raw("<p>Aún no se ha importado ningún corte desde la consola.</p></section>");
    }
    html.push_raw("<table><caption>Importaciones desde la consola, la más reciente primero</caption><thead><tr><th scope=\"col\">Nombre</th><th scope=\"col\">Corte</th><th scope=\"col\">Estado</th><th scope=\"col\" class=\"num\">Registros</th><th scope=\"col\" class=\"num\">Tamaño</th><th scope=\"col\">Iniciada</th><th scope=\"col\">Resultado</th></tr></thead><tbody>");
    for i in imports {
        html.push_raw("<tr><td>");
        html.push_text(&i.name);
        html.push_raw("</td><td>");
        html.push_text(&iso_to_date(&i.cut_date));
        html.push_raw("</td><td>");
        html.push_text(status_label(i.status));
        html.push_raw(&format!(
            "</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>",
            number(live_rows(state, i)),
            size(i.bytes)
        ));
        html.push_text(&date_time(&i.created_at));
        html.push_raw("</td><td class=\"prose\">");
        match (i.status, &i.error) {
            (RollImportStatus::Done, _) => {
                html.push_text(&format!(
                    "Corte «{}» creado{}",
                    i.snapshot_name.as_deref().unwrap_or(&i.name),
                    if i.activate { " y vigente" } else { "" }
                ));
                if let Some(finished) = &i.finished_at {
                    html.push_text(&format!(" el {}", date_time(finished)));
                }
                html.push_text(".");
            }
            (RollImportStatus::Failed, Some(error)) => html.push_text(error),
            _ => html.push_text("—"),
        }
        html.push_raw("</td></tr>");
    }
    html.push_raw("</tbody></table></section>");
    html
}

/// The form whose upload `console.js` sends (`#roll-import-form`), and the panel where it
/// shows the upload's and then the import's progress.
fn import_form() -> Html {
    Html::new().raw(
        "<section aria-labelledby=\"importar\"><h2 id=\"importar\">Importar un corte</h2>\
         <p>El archivo es el CSV de la Lista Nominal en el formato documentado (encabezado y columnas de <code>docs/roll-format.md</code>). \
         La importación es todo o nada: si una línea tiene un problema, no se guarda nada y se indica la línea. \
         Puede dejar esta página: la importación sigue en el servidor y su resultado aparece en la tabla.</p>\
         <form class=\"card\" id=\"roll-import-form\">\
         <label for=\"roll-file\">Archivo de la Lista Nominal (CSV)</label>\
         <input id=\"roll-file\" name=\"file\" type=\"file\" accept=\".csv,text/csv\" required>\
         <label for=\"roll-name\">Nombre del corte</label>\
         <input id=\"roll-name\" name=\"name\" required maxlength=\"200\" placeholder=\"LN-2025-01-31\">\
         <label for=\"roll-cut-date\">Fecha de corte</label>\
         <input id=\"roll-cut-date\" name=\"cut_date\" type=\"date\" required>\
         <div class=\"check\"><input id=\"roll-activate\" name=\"activate\" type=\"checkbox\" checked>\
         <label for=\"roll-activate\">Usarlo como corte vigente al terminar</label></div>\
         <p class=\"form-error prose\" role=\"alert\" hidden></p>\
         <button type=\"submit\">Enviar e importar</button></form>\
         <div class=\"card\" id=\"roll-import-progress\" hidden>\
         <p id=\"roll-progress-label\">Enviando el archivo</p>\
         <progress id=\"roll-progress\" aria-labelledby=\"roll-progress-label\" max=\"100\" value=\"0\"></progress>\
         <p id=\"roll-progress-text\"></p>\
         <p id=\"roll-import-status\" role=\"status\" aria-live=\"polite\"></p>\
         <p id=\"roll-import-done\" hidden><a href=\"/console/roll\">Actualizar la lista de cortes</a></p>\
         </div></section>",
    )
}

pub(crate) async fn roll(State(state): State<AppState>, Viewer(auth): Viewer) -> PageResult {
    auth.require(&[Role::Admin]).map_err(page_error)?;
    let snapshots = state
        .store
        .list_roll_snapshots()
        .await
        .map_err(|e| page_error(e.into()))?;
    let imports = recent(&state).await.map_err(page_error)?;
    let body = Html::new()
        .raw("<h1>Lista Nominal</h1><p>Los cortes de la Lista Nominal contra los que se compulsan los apoyos. \
              Cada proceso usa el corte que se le asignó; el corte vigente es el que se propone a los procesos nuevos.</p>")
        .append(forms::snapshots(&snapshots))
        .append(import_form())
        .append(imports_table(&state, &imports));
    page(&state, &auth, "Lista Nominal", "/console/roll", body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_the_browser() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(999), "999 B");
        assert_eq!(size(1_500), "1.5 KB");
        assert_eq!(size(2_600_000_000), "2.6 GB");
    }
}
