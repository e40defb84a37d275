//! `apoyo credential …`: checking a credential's data from standard input, and
//! reading the MRZ from photographs of the back.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use apoyo_domain::{CredentialInput, CredentialReport, Date, check_credential, check_mrz_text};
use apoyo_mrz_reader::{ImageRef, PixelFormat, ReadError, Reader};
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub(crate) enum CredentialCommand {
    /// Check a credential's data the way a field collector must before sending it.
    ///
    /// Reads standard input: either the three MRZ lines from the back of the
    /// credential, or a JSON object with the captured fields (see
    /// docs/credential-input.md). Prints a JSON report. Exit status: 0 when no
    /// error-severity check fails, 1 when one does, 2 when the input is unusable.
    Check(CheckArgs),
    /// Read the MRZ from photographs of the back of credentials (JPEG or PNG).
    ///
    /// Prints one JSON line per image: the report of `credential check` for
    /// the lines read, plus `file`, `mrz` (the three lines), `confidence`
    /// (0–1, the least sure character), `accepted` (the check digits hold and
    /// every character is sure) and `read_ms`. Exit status: 0 when every image
    /// gave an accepted reading, 1 when one did not, 2 when an image cannot be
    /// used at all (missing, not an image).
    Read(ReadArgs),
    /// Write synthetic photographs of credential backs with ground truth (docs/card-images.md).
    SynthImages(crate::card_images::SynthImagesArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Date used for ages and expiry, YYYY-MM-DD (default: today, UTC).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_reference_date)]
    reference_date: Option<Date>,
}

#[derive(Debug, Args)]
pub(crate) struct ReadArgs {
    /// Photographs of the back of credentials.
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<PathBuf>,
    /// Date used for ages and expiry, YYYY-MM-DD (default: today, UTC).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_reference_date)]
    reference_date: Option<Date>,
}

fn parse_reference_date(text: &str) -> Result<Date, String> {
    Date::parse_iso(text).map_err(|e| e.to_string())
}

/// Exit status for input that cannot be checked at all.
const UNUSABLE_INPUT: u8 = 2;

pub(crate) fn run(command: CredentialCommand) -> ExitCode {
    match command {
        CredentialCommand::Check(args) => match check(&args) {
            Ok(report) => {
                let printed = serde_json::to_string_pretty(&report)
                    .map_err(anyhow::Error::from)
                    .and_then(|json| {
                        let mut out = io::stdout().lock();
                        writeln!(out, "{json}")?;
                        out.flush()?;
                        Ok(())
                    });
                match printed {
                    Ok(()) if report.valid => ExitCode::SUCCESS,
                    Ok(()) => ExitCode::from(1),
                    Err(error) => {
                        eprintln!("error: could not write the report: {error:#}");
                        ExitCode::from(UNUSABLE_INPUT)
                    }
                }
            }
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::from(UNUSABLE_INPUT)
            }
        },
        CredentialCommand::Read(args) => read_images(&args),
        CredentialCommand::SynthImages(args) => crate::card_images::run(args),
    }
}

/// Larger files are not phone photographs of a card.
const MAX_IMAGE_BYTES: u64 = 40 * 1024 * 1024;

fn read_images(args: &ReadArgs) -> ExitCode {
    let reference = args.reference_date.unwrap_or_else(today_utc);
    let reader = match Reader::new() {
        Ok(reader) => reader,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(UNUSABLE_INPUT);
        }
    };
    let mut all_accepted = true;
    let mut unusable = false;
    let mut out = io::stdout().lock();
    for path in &args.images {
        let report = match read_one(&reader, path, reference) {
            Ok(report) => report,
            Err(error) => {
                eprintln!("error: {}: {error:#}", path.display());
                unusable = true;
                continue;
            }
        };
        all_accepted &= report["accepted"] == serde_json::Value::Bool(true);
        if let Err(error) = writeln!(out, "{report}").and_then(|()| out.flush()) {
            eprintln!("error: could not write the report: {error}");
            return ExitCode::from(UNUSABLE_INPUT);
        }
    }
    if unusable {
        ExitCode::from(UNUSABLE_INPUT)
    } else if all_accepted {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// One image: the check report of what was read, with the reading's fields.
fn read_one(reader: &Reader, path: &Path, reference: Date) -> anyhow::Result<serde_json::Value> {
    let size = std::fs::metadata(path)
        .with_context(|| "cannot read the file")?
        .len();
    if size > MAX_IMAGE_BYTES {
        bail!(
            "the file is larger than {MAX_IMAGE_BYTES} bytes; a photograph of a card is far smaller"
        );
    }
    let bytes = std::fs::read(path).context("cannot read the file")?;
    let started = Instant::now();
    let decoded = decode_gray(&bytes)?;
    let image = ImageRef::new(
        decoded.width(),
        decoded.height(),
        PixelFormat::Gray,
        decoded.as_raw(),
    )
    .context("the image cannot hold a credential's MRZ")?;
    let result = reader.read(&image);
    let read_ms = (started.elapsed().as_secs_f64() * 1e4).round() / 10.0;
    let file = path.display().to_string();
    let mut report = match &result {
        Ok(reading) => {
            let report = check_mrz_text(&reading.lines.join("\n"), reference);
            let mut value = serde_json::to_value(&report)?;
            if let Some(object) = value.as_object_mut() {
                object.insert("mrz".into(), serde_json::json!(reading.lines));
                object.insert(
                    "confidence".into(),
                    serde_json::json!((f64::from(reading.confidence) * 1000.0).round() / 1000.0),
                );
                object.insert(
                    "accepted".into(),
                    serde_json::json!(reading.accepted && report.valid),
                );
                object.insert(
                    "corrected_characters".into(),
                    serde_json::json!(reading.corrected),
                );
            }
            value
        }
        Err(ReadError::NotFound) => serde_json::json!({
            "valid": false,
            "accepted": false,
            "mrz": null,
            "confidence": 0.0,
            "message": "No se encontró la zona de lectura mecánica (los 3 renglones del reverso). Tome otra fotografía del reverso completo, de frente, bien iluminado y enfocado, o capture los datos a mano.",
        }),
        Err(error) => bail!("{error}"),
    };
    if let Some(object) = report.as_object_mut() {
        object.insert("file".into(), serde_json::json!(file));
        object.insert("read_ms".into(), serde_json::json!(read_ms));
    }
    Ok(report)
}

fn check(args: &CheckArgs) -> anyhow::Result<CredentialReport> {
    let reference = args.reference_date.unwrap_or_else(today_utc);
    let mut bytes = Vec::new();
    io::stdin()
        .lock()
        .take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .context("could not read standard input")?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        bail!("standard input is larger than {MAX_INPUT_BYTES} bytes; a credential is far smaller");
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "standard input is not UTF-8 text (invalid byte at offset {}); send the MRZ lines or a JSON object",
            e.utf8_error().valid_up_to()
        )
    })?;
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        bail!(
            "standard input is empty; send the three MRZ lines or a JSON object with the captured fields"
        );
    }
    if trimmed.starts_with('{') {
        let input: CredentialInput = serde_json::from_str(trimmed).with_context(|| {
            "standard input looks like JSON but is not a valid credential object (fields are listed in docs/credential-input.md)"
        })?;
        Ok(check_credential(&input, reference))
    } else if trimmed.starts_with('[') || trimmed.starts_with('"') {
        bail!("standard input is JSON but not an object; wrap the fields in {{ … }}")
    } else {
        Ok(check_mrz_text(trimmed, reference))
    }
}

/// Far above any credential; stops a runaway pipe from filling memory.
const MAX_INPUT_BYTES: u64 = 64 * 1024;

fn today_utc() -> Date {
    let now = time::OffsetDateTime::now_utc().date();
    Date::new(now.year(), u8::from(now.month()), now.day())
        .unwrap_or_else(|| Date::from_days_since_epoch(0))
}

/// The photograph as grey pixels, all the reader needs: a JPEG straight to luma with
/// zune-jpeg (no colour conversion; 2–3× faster than through RGB), a PNG through `image`.
fn decode_gray(bytes: &[u8]) -> anyhow::Result<image::GrayImage> {
    let not_decodable = "not a JPEG or PNG image this program can decode";
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Ok(image::load_from_memory(bytes)
            .context(not_decodable)?
            .into_luma8());
    }
    let options = zune_core::options::DecoderOptions::default()
        .jpeg_set_out_colorspace(zune_core::colorspace::ColorSpace::Luma);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(
        zune_core::bytestream::ZCursor::new(bytes),
        options,
    );
    let pixels = decoder
        .decode()
        .map_err(|e| anyhow::anyhow!("{e:?}"))
        .context(not_decodable)?;
    let (width, height) = decoder.dimensions().context(not_decodable)?;
    image::GrayImage::from_raw(
        u32::try_from(width).context(not_decodable)?,
        u32::try_from(height).context(not_decodable)?,
        pixels,
    )
    .context(not_decodable)
}
