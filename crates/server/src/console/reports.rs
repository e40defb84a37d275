//! Reports per aspirant and per process: the supports as CSV (UTF-8 with BOM) or XLSX,
//! streamed from the database page by page on a blocking thread, and the PDF
//! determination (dictamen) of an aspirant.

use std::io::{self, Write};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use apoyo_reports::{
    Cell, ChunkWriter, CsvWriter, Dictamen, DispersionSummary, SectionRow, XlsxWriter, dictamen_pdf,
};
use apoyo_store::{OutcomeFilter, Store};

use super::html::{date, date_time};
use super::{Viewer, page_error};
use crate::api::json::ApiPath;
use crate::api::progress::ProgressView;
use crate::api::supports::{mask_clave, outcome_label};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;

const PAGE: i64 = 5_000;

const HEADERS: [&str; 8] = [
    "Folio",
    "Recibido",
    "Aspirante",
    "Captura",
    "Sección",
    "Clave de elector",
    "Situación",
    "Código de situación",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Xlsx,
}

fn format_of(file: &str) -> Option<Format> {
    match file {
        "apoyos.csv" => Some(Format::Csv),
        "apoyos.xlsx" => Some(Format::Xlsx),
        _ => None,
    }
}

/// Rows of one report, written by [`write_report`].
struct Source {
    store: Store,
    /// (aspirant id, aspirant name) in order.
    aspirants: Vec<(i64, String)>,
    /// Show the clave unmasked (OPL staff).
    unmasked: bool,
    sheet: String,
}

/// Writes every support of the source's aspirants; returns the count per outcome label.
fn write_report(source: &Source, format: Format, out: &mut dyn Write) -> Result<(), String> {
    let handle = tokio::runtime::Handle::current();
    let mut counts: Vec<(String, i64)> = Vec::new();
    let mut total = 0i64;
    enum Writer<'w> {
        Csv(CsvWriter<&'w mut dyn Write>),
        // Boxed: the XLSX writer carries its zip state, far larger than the CSV one.
        Xlsx(Box<XlsxWriter<&'w mut dyn Write>>),
    }
    let mut writer = match format {
        Format::Csv => Writer::Csv(CsvWriter::new(out, &HEADERS).map_err(|e| e.to_string())?),
        Format::Xlsx => Writer::Xlsx(Box::new(
            XlsxWriter::new(out, &source.sheet, &HEADERS).map_err(|e| e.to_string())?,
        )),
    };
    for (aspirant_id, name) in &source.aspirants {
        let mut after = 0;
        loop {
            let page = handle
                .block_on(source.store.aspirant_supports(
                    *aspirant_id,
                    &OutcomeFilter::Any,
                    after,
                    PAGE,
                ))
                .map_err(|e| e.to_string())?;
            for s in &page {
                let received = date_time(&s.received_at);
                let capture = if s.paper { "Papel" } else { "Aplicación" };
                let clave = s
                    .citizen_clave
                    .as_deref()
                    .map(|c| {
                        if source.unmasked {
                            c.to_owned()
                        } else {
                            mask_clave(c)
                        }
                    })
                    .unwrap_or_default();
                let (label, code) = match s.outcome.as_deref() {
                    Some(code) => (outcome_label(code), code.to_owned()),
                    None => ("En verificación".to_owned(), "pending".to_owned()),
                };
                let cells = [
                    Cell::Text(&s.folio),
                    Cell::Text(&received),
                    Cell::Text(name),
                    Cell::Text(capture),
                    s.section.as_deref().map_or(Cell::Empty, Cell::Text),
                    Cell::Text(&clave),
                    Cell::Text(&label),
                    Cell::Text(&code),
                ];
                match &mut writer {
                    Writer::Csv(w) => w.row(&cells),
                    Writer::Xlsx(w) => w.row(&cells),
                }
                .map_err(|e| e.to_string())?;
                match counts.iter_mut().find(|(l, _)| *l == label) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((label, 1)),
                }
                total += 1;
            }
            match page.last() {
                Some(last) if page.len() as i64 == PAGE => after = last.sequence,
                _ => break,
            }
        }
    }
    match writer {
        Writer::Csv(w) => {
            w.finish().map_err(|e| e.to_string())?;
        }
        Writer::Xlsx(w) => {
            let mut summary: Vec<(&str, Cell<'_>)> = counts
                .iter()
                .map(|(l, n)| (l.as_str(), Cell::Int(*n)))
                .collect();
            summary.push(("Total de apoyos", Cell::Int(total)));
            w.finish(&summary).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Streams what `source` writes: chunks go down the body as they are made; a failure
/// midway ends the body with an error (the client sees a broken download, never a
/// complete-looking partial file).
fn stream(source: Source, format: Format, filename: &str) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, io::Error>>(8);
    tokio::task::spawn_blocking(move || {
        let sender = tx.clone();
        let mut out = ChunkWriter::new(move |chunk| {
            sender
                .blocking_send(Ok(chunk))
                .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
        });
        let result = write_report(&source, format, &mut out)
            .and_then(|()| out.flush().map_err(|e| e.to_string()));
        if let Err(error) = result {
            tracing::warn!(%error, "report stopped");
            let _ = tx.blocking_send(Err(io::Error::other(error)));
        }
    });
    let body = Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }));
    let content_type = match format {
        Format::Csv => "text/csv; charset=utf-8",
        Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    };
    (download_headers(content_type, filename), body).into_response()
}

fn download_headers(content_type: &'static str, filename: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers
}

async fn audited(
    state: &AppState,
    auth: &Auth,
    entity: &str,
    id: i64,
    file: &str,
) -> Result<(), Response> {
    state
        .store
        .record_access(
            &auth.actor(),
            "report.download",
            entity,
            id,
            json!({ "file": file }),
        )
        .await
        .map_err(|e| page_error(e.into()))
}

pub(crate) async fn aspirant_report(
    State(state): State<AppState>,
    Viewer(auth): Viewer,
    ApiPath((aspirant_id, file)): ApiPath<(i64, String)>,
) -> Result<Response, Response> {
    if !auth.principal.can_read_progress(aspirant_id) {
        return Err(page_error(ApiError::NotFound("aspirant")));
    }
    let aspirant = state
        .store
        .aspirant(aspirant_id)
        .await
        .map_err(|e| page_error(e.into()))?
        .ok_or_else(|| page_error(ApiError::NotFound("aspirant")))?;
    audited(&state, &auth, "aspirant", aspirant_id, &file).await?;
    if file == "dictamen.pdf" {
        let pdf = dictamen(&state, &aspirant).await.map_err(page_error)?;
        return Ok((
            download_headers(
                "application/pdf",
                &format!("dictamen-aspirante-{aspirant_id}.pdf"),
            ),
            pdf,
        )
            .into_response());
    }
    let format = format_of(&file).ok_or_else(|| page_error(ApiError::NotFound("route")))?;
    let source = Source {
        store: state.store.clone(),
        aspirants: vec![(aspirant.id, aspirant.name.clone())],
        unmasked: auth.principal.role.is_staff(),
        sheet: "Apoyos".into(),
    };
    Ok(stream(
        source,
        format,
        &format!(
            "apoyos-aspirante-{aspirant_id}.{}",
            if format == Format::Csv { "csv" } else { "xlsx" }
        ),
    ))
}

pub(crate) async fn process_report(
    State(state): State<AppState>,
    Viewer(auth): Viewer,
    ApiPath((process_id, file)): ApiPath<(i64, String)>,
) -> Result<Response, Response> {
    auth.require(&[
        apoyo_domain::access::Role::Admin,
        apoyo_domain::access::Role::Reviewer,
    ])
    .map_err(page_error)?;
    let format = format_of(&file).ok_or_else(|| page_error(ApiError::NotFound("route")))?;
    state
        .store
        .process(process_id)
        .await
        .map_err(|e| page_error(e.into()))?
        .ok_or_else(|| page_error(ApiError::NotFound("process")))?;
    let aspirants = state
        .store
        .aspirants(Some(process_id))
        .await
        .map_err(|e| page_error(e.into()))?;
    audited(&state, &auth, "process", process_id, &file).await?;
    let source = Source {
        store: state.store.clone(),
        aspirants: aspirants.into_iter().map(|a| (a.id, a.name)).collect(),
        unmasked: true,
        sheet: "Apoyos del proceso".into(),
    };
    Ok(stream(
        source,
        format,
        &format!(
            "apoyos-proceso-{process_id}.{}",
            if format == Format::Csv { "csv" } else { "xlsx" }
        ),
    ))
}

async fn dictamen(state: &AppState, aspirant: &apoyo_store::Aspirant) -> Result<Vec<u8>, ApiError> {
    let progress: ProgressView = state
        .store
        .aspirant_progress(aspirant.id)
        .await?
        .ok_or(ApiError::NotFound("aspirant"))?
        .into();
    let process = state
        .store
        .process(aspirant.process_id)
        .await?
        .ok_or(ApiError::NotFound("process"))?;
    let office = state
        .store
        .office(aspirant.office_id)
        .await?
        .ok_or(ApiError::NotFound("office"))?;
    let mut counts = vec![("En Lista Nominal (válidos)".to_owned(), progress.valid)];
    counts.extend(
        progress
            .rejected
            .iter()
            .map(|r| (r.label.clone(), r.supports)),
    );
    if progress.pending > 0 {
        counts.push(("En verificación".into(), progress.pending));
    }
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let met = progress.requirements_met;
    let conclusion = format!(
        "Con base en la verificación de los {} apoyos recibidos contra la Lista Nominal con corte al {} y la revisión de la Mesa de Control, {} {} el porcentaje de apoyo de la ciudadanía requerido para el cargo de {}{}.",
        apoyo_reports::thousands(progress.received),
        date(process.cut_date),
        aspirant.name,
        if met { "REÚNE" } else { "NO REÚNE" },
        office.name,
        if progress.dispersion.is_some() {
            " y el criterio de dispersión"
        } else {
            ""
        },
    );
    let dictamen = Dictamen {
        authority: state.config.authority_name.clone(),
        title: "Dictamen sobre el porcentaje de apoyo de la ciudadanía".into(),
        process_name: process.name.clone(),
        office_name: office.name.clone(),
        aspirant_name: aspirant.name.clone(),
        cut_date: date(process.cut_date),
        generated_at: date_time(&now),
        counts,
        received: progress.received,
        valid: progress.valid,
        required: progress.required_supports,
        threshold_reached: progress.threshold_reached,
        dispersion: progress.dispersion.as_ref().map(|d| DispersionSummary {
            sections_required: d.sections_needed,
            sections_meeting: d.sections_reached,
            sections_total: d.sections_total,
            met: d.reached,
        }),
        sections: progress
            .dispersion
            .as_ref()
            .map(|d| {
                d.sections
                    .iter()
                    .map(|s| SectionRow {
                        section: s.section,
                        roll: s.lista_nominal,
                        needed: s.needs,
                        valid: s.valid,
                        meets: s.reached,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        conclusion,
        signatures: vec![
            ("Nombre y firma".into(), "Secretaría Ejecutiva".into()),
            (
                "Nombre y firma".into(),
                "Presidencia del Consejo General".into(),
            ),
        ],
    };
    // A few hundred secciones at most: built in memory.
    tokio::task::spawn_blocking(move || dictamen_pdf(&dictamen))
        .await
        .map_err(|e| ApiError::Internal(format!("dictamen task: {e}")))
}
