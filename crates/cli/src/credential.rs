//! `apoyo credential …`: checking a credential's data from standard input.

use std::io::{self, Read, Write};
use std::process::ExitCode;

use anyhow::{Context, bail};
use apoyo_domain::{CredentialInput, CredentialReport, Date, check_credential, check_mrz_text};
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
    /// Write synthetic photographs of credential backs with ground truth (docs/card-images.md).
    SynthImages(crate::card_images::SynthImagesArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
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
        CredentialCommand::SynthImages(args) => crate::card_images::run(args),
    }
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
