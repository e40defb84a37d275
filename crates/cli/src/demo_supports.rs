//! Supports for the demo: a synthetic capture set (apoyo_synth) received as if each
//! aspirant's first collector had sent it, with four synthetic images each (the back a
//! rendered credential with its MRZ, so the image cross-check has something to read).
//! Everything goes through the store's durable acceptance; the server's worker verifies
//! the supports once it serves.

use std::io::Cursor;
use std::path::Path;

use anyhow::Context;
use apoyo_server::images;
use apoyo_store::{Actor, BlobStore, ImageKind, NewImage, NewSupport, Store};
use apoyo_synth::{CaptureConfig, RollConfig, render_flat_back, write_capture_set};
use image::{ImageBuffer, ImageFormat, Rgb};
use serde_json::{Value, json};

/// An aspirant of the demo: the capture set's id (`DGO-A`), and who sends for them.
pub(crate) struct DemoAspirant {
    pub(crate) capture_id: String,
    pub(crate) collector_user_id: i64,
}

/// A small JPEG that looks like a photo of something: a gradient with a card-like block,
/// different for every support and kind.
fn placeholder(index: u64, kind: u8, width: u32, height: u32) -> Vec<u8> {
    let tint = ((index * 37 + u64::from(kind) * 71) % 160) as u8;
    let picture = ImageBuffer::from_fn(width, height, |x, y| {
        let inside = x > width / 6 && x < width * 5 / 6 && y > height / 5 && y < height * 4 / 5;
        let base = ((x + y) % 256) as u8 / 3;
        if inside {
            Rgb([
                200u8.saturating_sub(tint / 4),
                190,
                170u8.saturating_add(base / 4),
            ])
        } else {
            Rgb([40 + base, 60 + tint / 2, 80 + base / 2])
        }
    });
    let mut out = Cursor::new(Vec::new());
    // Encoding an in-memory RGB buffer cannot fail but for memory.
    let _ = picture.write_to(&mut out, ImageFormat::Jpeg);
    out.into_inner()
}

fn new_image(kind: ImageKind, bytes: &[u8]) -> anyhow::Result<NewImage> {
    let clean = images::clean(bytes).map_err(|e| anyhow::anyhow!("demo image: {e}"))?;
    Ok(NewImage {
        kind,
        content_type: "image/jpeg",
        width: clean.width,
        height: clean.height,
        phash: Some(clean.phash_hex()),
        bytes: clean.bytes,
    })
}

/// Receives up to `count` supports; returns how many were stored.
pub(crate) async fn receive(
    store: &Store,
    data_dir: &Path,
    roll: &RollConfig,
    aspirants: &[DemoAspirant],
    count: u64,
    seed: u64,
) -> anyhow::Result<u64> {
    if count == 0 {
        return Ok(0);
    }
    let mut lines = Vec::new();
    write_capture_set(
        roll,
        &CaptureConfig::durango_example(count, seed),
        &mut lines,
    )
    .context("the demo capture set")?;
    let blobs = BlobStore::in_data_dir(data_dir).context("the demo's image directory")?;
    let now = time::OffsetDateTime::now_utc();
    let mut stored = 0;
    for (index, line) in lines
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let line: Value = serde_json::from_slice(line).context("a capture-set line")?;
        // Paper supports are typed by OPL staff; supports with typos never leave the phone.
        if line["paper"] == true || line["expected"].get("outcome").is_none() {
            continue;
        }
        let Some(sender) = aspirants
            .iter()
            .find(|a| Some(a.capture_id.as_str()) == line["aspirant"].as_str())
        else {
            continue;
        };
        let index = index as u64;
        let credential = line["credential"].clone();
        let back = match credential["mrz"].as_array() {
            Some(mrz) if mrz.len() == 3 => {
                let lines: Vec<String> = mrz
                    .iter()
                    .map(|l| l.as_str().unwrap_or_default().to_owned())
                    .collect();
                let lines: [String; 3] = [lines[0].clone(), lines[1].clone(), lines[2].clone()];
                // A flat scan-like back: a photographed one costs half a second each.
                tokio::task::block_in_place(|| render_flat_back(&lines, seed, index, 8.0))
                    .unwrap_or_else(|_| placeholder(index, 1, 640, 400))
            }
            _ => placeholder(index, 1, 640, 400),
        };
        // Spread over the last week, in reception order.
        let captured_at = (now
            - time::Duration::seconds(((count - index.min(count)) * 397) as i64))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
        let support = NewSupport {
            collector_user_id: sender.collector_user_id,
            client_id: line["client_id"].as_str().unwrap_or_default().to_owned(),
            captured_at,
            latitude: Some(24.02 + (index % 50) as f64 * 0.001),
            longitude: Some(-104.65 - (index % 40) as f64 * 0.001),
            credential,
            precheck: json!([]),
            images: vec![
                new_image(ImageKind::Front, &placeholder(index, 0, 640, 400))?,
                new_image(ImageKind::Back, &back)?,
                new_image(ImageKind::LivePhoto, &placeholder(index, 2, 360, 480))?,
                new_image(ImageKind::Signature, &placeholder(index, 3, 480, 160))?,
            ],
        };
        store
            .accept_support(
                &Actor::user(sender.collector_user_id, None),
                &blobs,
                support,
            )
            .await
            .context("a demo support")?;
        stored += 1;
        if stored % 200 == 0 {
            eprintln!("{stored} apoyos recibidos …");
        }
    }
    Ok(stored)
}
