//! Importing a roll snapshot (Lista Nominal) from the browser: the file streams to a
//! temporary file in the data directory, the answer (`202`) comes as soon as it is
//! stored, and the import ([`apoyo_store::Store::import_roll`], all or nothing) runs in the
//! background while the page polls its progress. One import runs at a time per instance.

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use utoipa::{IntoParams, ToSchema};

use apoyo_domain::Date;
use apoyo_domain::access::Role;
use apoyo_store::{
    Actor, Backend, ImportError, ImportOptions, NewRollImport, RollImport, RollImportStatus,
};

use crate::api::json::ApiPath;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

const ADMIN: &[Role] = &[Role::Admin];

/// The directory of uploads waiting for (or in) their import, inside `data_dir`.
pub const UPLOAD_DIR: &str = "roll-uploads";

/// How often the progress of a running import is written down (PostgreSQL: SQLite's
/// single writer is the import itself, so there it is kept in memory).
pub const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Row problems quoted in an import's error; the rest are counted.
const QUOTED_PROBLEMS: usize = 20;

/// What this instance knows of the imports it runs: their live row counts, and the turn
/// that makes them run one after the other.
#[derive(Clone, Debug, Default)]
pub struct RollImports {
    live: Arc<Mutex<HashMap<i64, Arc<AtomicU64>>>>,
    turn: Arc<tokio::sync::Mutex<()>>,
}

impl RollImports {
    fn live(&self, id: i64) -> Option<u64> {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .map(|rows| rows.load(Ordering::Relaxed))
    }

    fn track(&self, id: i64) -> Arc<AtomicU64> {
        let rows = Arc::new(AtomicU64::new(0));
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, rows.clone());
        rows
    }

    fn forget(&self, id: i64) {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    }
}

/// One import of a roll file.
#[derive(Debug, Serialize, ToSchema)]
pub struct RollImportView {
    pub id: i64,
    /// The new snapshot's name.
    pub name: String,
    /// Fecha de corte, YYYY-MM-DD.
    pub cut_date: String,
    /// Whether the snapshot becomes the active one when done.
    pub activate: bool,
    /// `queued` (receiving the file, or waiting for another import), `running`, `done` or `failed`.
    pub status: String,
    /// Rows imported so far (the snapshot's rows once done).
    pub rows_read: i64,
    /// Size of the uploaded file.
    pub bytes: i64,
    /// Why it failed, in Spanish, naming the lines of the file to fix.
    pub error: Option<String>,
    /// The snapshot made, once done.
    pub snapshot_name: Option<String>,
    pub created_by: i64,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub finished_at: Option<String>,
}

impl RollImportView {
    fn new(import: &RollImport, imports: &RollImports) -> Self {
        let live = if import.status.is_final() {
            None
        } else {
            imports.live(import.id)
        };
        Self {
            id: import.id,
            name: import.name.clone(),
            cut_date: import.cut_date.clone(),
            activate: import.activate,
            status: import.status.as_str().to_owned(),
            rows_read: live
                .map(|rows| i64::try_from(rows).unwrap_or(i64::MAX))
                .unwrap_or_default()
                .max(import.rows_read),
            bytes: import.bytes,
            error: import.error.clone(),
            snapshot_name: import.snapshot_name.clone(),
            created_by: import.created_by,
            created_at: import.created_at.clone(),
            finished_at: import.finished_at.clone(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Fecha de corte of the roll, YYYY-MM-DD.
    pub cut_date: Option<String>,
    /// Unique name of the new snapshot.
    pub name: Option<String>,
    /// `true` (default) to make the snapshot the active one when the import succeeds.
    pub activate: Option<String>,
}

fn validate(query: ImportQuery) -> ApiResult<NewRollImport> {
    let cut_date = match query.cut_date.as_deref().map(str::trim) {
        None | Some("") => {
            return Err(ApiError::Unprocessable(
                "Falta la fecha de corte de la Lista Nominal (cut_date, AAAA-MM-DD).".into(),
            ));
        }
        Some(text) => Date::parse_iso(text).map_err(|_| {
            ApiError::Unprocessable(format!(
                "La fecha de corte debe ser una fecha AAAA-MM-DD real; se recibió «{text}»."
            ))
        })?,
    };
    let name = query.name.as_deref().map(str::trim).unwrap_or_default();
    if name.is_empty() {
        return Err(ApiError::Unprocessable(
            "El corte necesita un nombre (name), por ejemplo «LN-2025-01-31».".into(),
        ));
    }
    if name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(ApiError::Unprocessable(
            "El nombre del corte debe tener a lo más 200 caracteres, sin saltos de línea.".into(),
        ));
    }
    let activate = match query.activate.as_deref().map(str::trim) {
        None | Some("") | Some("true") => true,
        Some("false") => false,
        Some(other) => {
            return Err(ApiError::Unprocessable(format!(
                "activate es true o false; se recibió «{other}»."
            )));
        }
    };
    Ok(NewRollImport {
        name: name.to_owned(),
        cut_date,
        activate,
    })
}

/// Uploads a roll file (docs/roll-format.md) as the raw request body and starts its
/// import as a new snapshot. Answers as soon as the file is stored; follow the import
/// with `GET /api/v1/roll/imports/{id}`.
#[utoipa::path(post, path = "/api/v1/roll/imports", tag = "roll", params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "The roll file, UTF-8 CSV with the header of docs/roll-format.md."),
    responses((status = 202, body = RollImportView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_import(
    State(state): State<AppState>,
    auth: Auth,
    query: Result<Query<ImportQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<RollImportView>)> {
    auth.require(ADMIN)?;
    let Query(query) = query.map_err(|rejection| {
        ApiError::Unprocessable(format!(
            "Los datos de la dirección no son válidos ({}).",
            rejection.body_text()
        ))
    })?;
    let new = validate(query)?;
    let limit = state.config.max_roll_upload_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(ApiError::PayloadTooLarge);
    }
    let taken = state
        .store
        .list_roll_snapshots()
        .await?
        .iter()
        .any(|s| s.name == new.name);
    if taken {
        return Err(ApiError::Conflict(format!(
            "Ya existe un corte de la Lista Nominal llamado «{}»; elija otro nombre.",
            new.name
        )));
    }
    if state.store.roll_import_pending_with_name(&new.name).await? {
        return Err(ApiError::Conflict(format!(
            "Ya se está importando un corte llamado «{}»; espere a que termine o elija otro nombre.",
            new.name
        )));
    }

    let actor = auth.actor();
    let import = state.store.create_roll_import(&actor, &new).await?;
    let dir = state.config.data_dir.join(UPLOAD_DIR);
    sweep_finished_uploads(&state, &dir).await;
    let path = dir.join(format!("import-{}.csv", import.id));
    // Tracked from now on, so that the first poll already sees the live count and no
    // instance takes a long upload for an abandoned import.
    let rows = state.roll_imports.track(import.id);
    let heartbeat = heartbeat(&state, import.id, rows.clone());
    let received = match receive(body, &path, limit).await {
        Ok(bytes) => state
            .store
            .roll_import_received(import.id, bytes)
            .await
            .map(|()| bytes)
            .map_err(ApiError::from),
        Err(error) => Err(error),
    };
    let bytes = match received {
        Ok(bytes) => bytes,
        Err(error) => {
            if let Some(heartbeat) = heartbeat {
                heartbeat.abort();
            }
            state.roll_imports.forget(import.id);
            remove(&path).await;
            let message = match &error {
                ApiError::PayloadTooLarge => format!(
                    "El archivo pasa del límite de {} bytes (max_roll_upload_bytes); no se importó nada.",
                    limit
                ),
                ApiError::Internal(_) => "Ocurrió un error interno al guardar el archivo; ya quedó registrado. No se importó nada: intente de nuevo más tarde.".into(),
                _ => {
                    "La carga del archivo no terminó; no se importó nada. Envíelo de nuevo.".into()
                }
            };
            if let Err(e) = state
                .store
                .finish_roll_import_failed(&actor, import.id, &message)
                .await
            {
                tracing::error!(import = import.id, error = %e, "cannot record a failed roll upload");
            }
            return Err(error);
        }
    };
    tracing::info!(import = import.id, name = %new.name, bytes, "roll file received; importing");
    let options = ImportOptions {
        name: new.name,
        cut_date: new.cut_date,
        activate: new.activate,
    };
    tokio::spawn(run_import(
        state.clone(),
        import.id,
        path,
        options,
        actor,
        rows,
        heartbeat,
    ));
    let import = state
        .store
        .roll_import(import.id)
        .await?
        .ok_or(ApiError::NotFound("roll import"))?;
    Ok((
        StatusCode::ACCEPTED,
        Json(RollImportView::new(&import, &state.roll_imports)),
    ))
}

/// Streams the body to `path` (a blocking thread writes it), refusing it past `limit`.
async fn receive(body: Body, path: &Path, limit: u64) -> ApiResult<u64> {
    let (sender, mut receiver) = mpsc::channel::<Bytes>(8);
    let target = path.to_owned();
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut file = BufWriter::with_capacity(1 << 20, std::fs::File::create(&target)?);
        while let Some(chunk) = receiver.blocking_recv() {
            file.write_all(&chunk)?;
        }
        file.flush()
    });
    let mut stream = body.into_data_stream();
    let mut total = 0u64;
    let mut refused = None;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => {
                total += chunk.len() as u64;
                if total > limit {
                    refused = Some(ApiError::PayloadTooLarge);
                    break;
                }
                if sender.send(chunk).await.is_err() {
                    // The writer stopped; its error is below.
                    break;
                }
            }
            Err(e) => {
                refused = Some(ApiError::BadRequest(format!(
                    "La carga del archivo se interrumpió ({e}); no se importó nada. Envíelo de nuevo."
                )));
                break;
            }
        }
    }
    drop(sender);
    let written = writer
        .await
        .map_err(|e| ApiError::Internal(format!("the roll upload writer failed: {e}")))?;
    if let Some(refused) = refused {
        return Err(refused);
    }
    written.map_err(|e| {
        ApiError::Internal(format!(
            "cannot write the roll upload {}: {e}",
            path.display()
        ))
    })?;
    Ok(total)
}

async fn remove(path: &Path) {
    let path = path.to_owned();
    let removed = tokio::task::spawn_blocking(move || match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err((path, e)),
        _ => Ok(()),
    })
    .await;
    if let Ok(Err((path, e))) = removed {
        tracing::warn!(path = %path.display(), error = %e, "cannot remove a roll upload");
    }
}

/// Removes uploads whose import has ended (left behind by a server that stopped midway).
async fn sweep_finished_uploads(state: &AppState, dir: &Path) {
    let listed = {
        let dir = dir.to_owned();
        tokio::task::spawn_blocking(move || -> Vec<(i64, PathBuf)> {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                return Vec::new();
            };
            entries
                .filter_map(Result::ok)
                .filter_map(|entry| {
                    let name = entry.file_name();
                    let id = name
                        .to_str()?
                        .strip_prefix("import-")?
                        .strip_suffix(".csv")?
                        .parse()
                        .ok()?;
                    Some((id, entry.path()))
                })
                .collect()
        })
        .await
        .unwrap_or_default()
    };
    for (id, path) in listed {
        let ended = match state.store.roll_import(id).await {
            Ok(Some(import)) => import.status.is_final(),
            Ok(None) => true,
            Err(_) => false,
        };
        if ended {
            remove(&path).await;
        }
    }
}

/// On PostgreSQL, the progress written down every second until aborted, so that every
/// instance shows it and none takes the import for abandoned. SQLite's single writer is
/// the import itself: there the progress stays in memory (and one instance recovers).
fn heartbeat(
    state: &AppState,
    id: i64,
    rows: Arc<AtomicU64>,
) -> Option<tokio::task::JoinHandle<()>> {
    (state.store.backend() == Backend::Postgres).then(|| {
        let store = state.store.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(PROGRESS_EVERY);
            loop {
                every.tick().await;
                if let Err(e) = store
                    .update_roll_import_progress(id, rows.load(Ordering::Relaxed))
                    .await
                {
                    tracing::warn!(import = id, error = %e, "cannot record roll import progress");
                }
            }
        })
    })
}

/// Runs one import to its end and records how it ended; the upload is removed after.
async fn run_import(
    state: AppState,
    id: i64,
    path: PathBuf,
    options: ImportOptions,
    actor: Actor,
    rows: Arc<AtomicU64>,
    heartbeat: Option<tokio::task::JoinHandle<()>>,
) {
    let store = state.store.clone();
    let outcome = {
        let _turn = state.roll_imports.turn.lock().await;
        if let Err(e) = store.start_roll_import(id).await {
            tracing::warn!(import = id, error = %e, "cannot mark the roll import running");
        }
        let file = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || std::fs::File::open(path))
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e)))
        };
        match file {
            Ok(file) => {
                let counter = rows.clone();
                store
                    .import_roll(file, options, move |n| counter.store(n, Ordering::Relaxed))
                    .await
            }
            Err(e) => Err(ImportError::Io(e)),
        }
    };
    if let Some(heartbeat) = heartbeat {
        heartbeat.abort();
    }
    let recorded = match &outcome {
        Ok(report) => {
            tracing::info!(
                import = id,
                snapshot = report.snapshot_id,
                rows = report.rows,
                elapsed_ms = report.elapsed.as_millis() as u64,
                "roll import done"
            );
            store
                .finish_roll_import_done(&actor, id, report.snapshot_id, report.rows)
                .await
        }
        Err(error) => {
            match error {
                ImportError::Io(_) | ImportError::Store(_) => {
                    tracing::error!(import = id, error = %error, "roll import failed");
                }
                _ => tracing::info!(import = id, error = %error, "roll import refused the file"),
            }
            store
                .finish_roll_import_failed(&actor, id, &message_es(error))
                .await
        }
    };
    if let Err(e) = recorded {
        tracing::error!(import = id, error = %e, "cannot record the end of a roll import");
    }
    state.roll_imports.forget(id);
    remove(&path).await;
}

/// Why an import stored nothing, for the person who sent the file.
pub fn message_es(error: &ImportError) -> String {
    match error {
        ImportError::NameTaken(name) => format!(
            "Ya existe un corte de la Lista Nominal llamado «{name}»; no se importó nada. Elija otro nombre."
        ),
        ImportError::Header(detail) => format!(
            "Línea 1: el encabezado no es el del formato de la Lista Nominal; no se importó nada. Detalle: {detail}"
        ),
        ImportError::Empty => {
            "El archivo no tiene registros después del encabezado; no se importó nada.".into()
        }
        ImportError::Rows { errors, truncated } => {
            let count = if *truncated {
                format!("más de {} problemas", errors.len())
            } else if errors.len() == 1 {
                "1 problema".to_owned()
            } else {
                format!("{} problemas", errors.len())
            };
            let mut message = format!(
                "El archivo tiene {count}; no se importó nada. Corrija el archivo y envíelo de nuevo."
            );
            for problem in errors.iter().take(QUOTED_PROBLEMS) {
                message.push_str(&format!(
                    "\nLínea {}, columna {}: {}",
                    problem.line, problem.column, problem.problem
                ));
            }
            if errors.len() > QUOTED_PROBLEMS {
                message.push_str(&format!(
                    "\n… y {} más (la línea de comandos `apoyo roll import` los lista todos).",
                    errors.len() - QUOTED_PROBLEMS
                ));
            }
            message
        }
        ImportError::Io(e) => format!(
            "No se pudo leer el archivo recibido ({e}); no se importó nada. Revise que sea un CSV en UTF-8 y envíelo de nuevo."
        ),
        ImportError::Store(_) => {
            "Ocurrió un error interno al guardar el corte; ya quedó registrado. No se importó nada: intente de nuevo más tarde.".into()
        }
    }
}

/// One import of a roll file, with its progress.
#[utoipa::path(get, path = "/api/v1/roll/imports/{id}", tag = "roll", params(("id" = i64, Path)),
    responses((status = 200, body = RollImportView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_import(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RollImportView>> {
    auth.require(ADMIN)?;
    let import = state
        .store
        .roll_import(id)
        .await?
        .ok_or(ApiError::NotFound("roll import"))?;
    Ok(Json(RollImportView::new(&import, &state.roll_imports)))
}

/// The latest imports of roll files (up to 50), newest first.
#[utoipa::path(get, path = "/api/v1/roll/imports", tag = "roll",
    responses((status = 200, body = [RollImportView]), (status = 403, body = ErrorBody)))]
pub async fn list_imports(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Vec<RollImportView>>> {
    auth.require(ADMIN)?;
    Ok(Json(
        recent(&state)
            .await?
            .iter()
            .map(|i| RollImportView::new(i, &state.roll_imports))
            .collect(),
    ))
}

/// The latest imports (the console's page shows them too).
pub(crate) async fn recent(state: &AppState) -> ApiResult<Vec<RollImport>> {
    Ok(state.store.recent_roll_imports(50).await?)
}

/// The live row count of an import this instance runs, if any (the console's page).
pub(crate) fn live_rows(state: &AppState, import: &RollImport) -> i64 {
    let live = if import.status == RollImportStatus::Running {
        state.roll_imports.live(import.id)
    } else {
        None
    };
    live.map(|rows| i64::try_from(rows).unwrap_or(i64::MAX))
        .unwrap_or_default()
        .max(import.rows_read)
}
