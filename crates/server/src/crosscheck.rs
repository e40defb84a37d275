//! The image cross-check (issue 9): a background task that reads the MRZ on each
//! support's back image and records whether the typed credential agrees with it
//! (`image_checks`, migration 0008). A disagreement is a flag for the Mesa de Control
//! («los datos capturados no coinciden con la imagen»); an image that cannot be read
//! asks a person to look. It never delays reception: it runs after, one support at a
//! time, its pixel work on a blocking thread.

use std::sync::Arc;
use std::time::{Duration, Instant};

use apoyo_domain::Date;
use apoyo_domain::credential::{CredentialInput, compare_with_read_mrz};
use apoyo_mrz_reader::{ImageRef, PixelFormat, Reader};
use apoyo_store::{BlobStore, ImageCheck, PendingImageCheck, Store, clock};
use serde_json::{Value, json};
use tokio::sync::watch;

/// How long the task waits before looking again when nothing waits for a check.
pub const IDLE_POLL: Duration = Duration::from_millis(500);

/// Models whose credential carries an MRZ on the back.
const MRZ_MODELS: [&str; 4] = ["E", "F", "G", "H"];

/// The Spanish label of a cross-check status, for the views.
pub fn status_label(status: &str) -> &'static str {
    match status {
        "agrees" => "Los datos capturados coinciden con la imagen",
        "differs" => "Los datos capturados no coinciden con la imagen",
        "unreadable" => "No se pudo leer la zona de lectura mecánica de la imagen: revísela a ojo",
        "no_mrz" => "La credencial no tiene zona de lectura mecánica",
        _ => "Estado desconocido",
    }
}

/// Reads and compares one support; pure except for the pixels it is given.
fn check_one(reader: &Reader, pending: &PendingImageCheck, image: Option<&[u8]>) -> ImageCheck {
    let started = Instant::now();
    let finish =
        |status: &str, mrz: Option<String>, confidence: Option<f64>, differences: Value| {
            ImageCheck {
                status: status.to_owned(),
                mrz,
                confidence,
                differences,
                read_ms: i64::try_from(started.elapsed().as_millis()).ok(),
                checked_at: String::new(),
            }
        };
    let input: Option<CredentialInput> = serde_json::from_str(&pending.credential_json).ok();
    let has_mrz = input
        .as_ref()
        .and_then(|i| i.model.as_deref())
        .is_none_or(|m| MRZ_MODELS.contains(&m.trim().to_uppercase().as_str()));
    let (Some(input), Some(bytes), true) = (input, image, has_mrz) else {
        return finish("no_mrz", None, None, json!([]));
    };
    let Ok(decoded) = image::load_from_memory(bytes) else {
        return finish("unreadable", None, None, json!([]));
    };
    let gray = decoded.to_luma8();
    let Ok(image) = ImageRef::new(
        gray.width(),
        gray.height(),
        PixelFormat::Gray,
        gray.as_raw(),
    ) else {
        return finish("unreadable", None, None, json!([]));
    };
    let reading = match reader.read(&image) {
        Ok(reading) if reading.checks_hold => reading,
        _ => return finish("unreadable", None, None, json!([])),
    };
    let lines = reading.lines.join("\n");
    let reference = clock::parse(&pending.received_at)
        .and_then(|at| Date::new(at.year(), u8::from(at.month()), at.day()))
        .unwrap_or_else(|| Date::from_days_since_epoch(0));
    let agreement = compare_with_read_mrz(&input, &lines, reference);
    let differences: Vec<Value> = agreement
        .differences
        .iter()
        .map(|c| json!({"code": c.code.as_str(), "message": c.message}))
        .collect();
    finish(
        if agreement.agrees {
            "agrees"
        } else {
            "differs"
        },
        Some(lines),
        Some(f64::from(reading.confidence)),
        Value::Array(differences),
    )
}

async fn get_blob(blobs: &BlobStore, key: &str) -> std::io::Result<Vec<u8>> {
    blobs.get(key).await
}

/// Runs until `stop` turns true (or its sender is dropped).
pub async fn run(store: Store, blobs: BlobStore, mut stop: watch::Receiver<bool>) {
    let reader = match tokio::task::spawn_blocking(Reader::new).await {
        Ok(Ok(reader)) => Arc::new(reader),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "the MRZ reader cannot start; image cross-checks are off");
            return;
        }
        Err(e) => {
            tracing::error!(error = %e, "the MRZ reader cannot start; image cross-checks are off");
            return;
        }
    };
    // Supports are checked in id order; the cursor only avoids rescanning checked ones.
    let mut after = 0;
    let mut last_rescan = Instant::now();
    loop {
        if *stop.borrow() {
            break;
        }
        let mut worked = false;
        match store.supports_awaiting_image_check(after, 16).await {
            Ok(pending) => {
                for support in pending {
                    if *stop.borrow() {
                        break;
                    }
                    let image = match &support.back {
                        Some((key, _)) => match get_blob(&blobs, key).await {
                            Ok(bytes) => Some(bytes),
                            Err(e) => {
                                tracing::error!(support = support.support_id, error = %e,
                                    "back image unreadable from the object store; will retry");
                                break;
                            }
                        },
                        None => None,
                    };
                    let reader = reader.clone();
                    let support_id = support.support_id;
                    let checked = tokio::task::spawn_blocking(move || {
                        check_one(&reader, &support, image.as_deref())
                    })
                    .await;
                    let check = match checked {
                        Ok(check) => check,
                        Err(e) => {
                            tracing::error!(support = support_id, error = %e, "image cross-check panicked");
                            ImageCheck {
                                status: "unreadable".into(),
                                mrz: None,
                                confidence: None,
                                differences: json!([]),
                                read_ms: None,
                                checked_at: String::new(),
                            }
                        }
                    };
                    if let Err(e) = store.record_image_check(support_id, &check).await {
                        tracing::error!(support = support_id, error = %e, "cannot record an image cross-check");
                        break;
                    }
                    tracing::debug!(support = support_id, status = %check.status, read_ms = ?check.read_ms, "image cross-checked");
                    after = support_id;
                    worked = true;
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot look for supports to cross-check"),
        }
        if !worked {
            // Now and then look again from the start, for a support a failed read left behind.
            if last_rescan.elapsed() > Duration::from_secs(60) {
                after = 0;
                last_rescan = Instant::now();
            }
            tokio::select! {
                () = tokio::time::sleep(IDLE_POLL) => {}
                changed = stop.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
    }
    tracing::debug!("image cross-check stopped");
}
