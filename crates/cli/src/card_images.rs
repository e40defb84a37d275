//! `apoyo credential synth-images`: synthetic photographs of the back of
//! credentials (MRZ) with ground truth, for testing an MRZ reader
//! (docs/card-images.md).

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use apoyo_synth::{Difficulty, RollConfig, card_set};
use clap::{Args, ValueEnum};

#[derive(Debug, Args)]
pub(crate) struct SynthImagesArgs {
    /// How degraded the photographs are (docs/card-images.md lists the parameters).
    #[arg(long, value_enum)]
    level: Level,
    /// Number of images.
    #[arg(long, default_value_t = 10)]
    count: u64,
    /// Seed of the images and of the synthetic roll the credentials come from.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output directory (created if missing): <level>-<index>.jpg and truth.jsonl.
    #[arg(long)]
    out: PathBuf,
    /// Citizens in the synthetic Durango roll the credentials are taken from.
    #[arg(long, default_value_t = 100_000)]
    voters: u64,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Level {
    Easy,
    Moderate,
    Hard,
}

impl From<Level> for Difficulty {
    fn from(level: Level) -> Self {
        match level {
            Level::Easy => Difficulty::Easy,
            Level::Moderate => Difficulty::Moderate,
            Level::Hard => Difficulty::Hard,
        }
    }
}

pub(crate) fn run(args: SynthImagesArgs) -> ExitCode {
    match write_images(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

const TRUTH_FILE: &str = "truth.jsonl";

fn write_images(args: &SynthImagesArgs) -> anyhow::Result<()> {
    let partial = args.out.join(format!("{TRUTH_FILE}.partial"));
    let result = write_all(args, &partial);
    if result.is_err() {
        let _ = fs::remove_file(&partial);
    }
    result
}

fn write_all(args: &SynthImagesArgs, partial: &Path) -> anyhow::Result<()> {
    let level = Difficulty::from(args.level);
    fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let truth_path = args.out.join(TRUTH_FILE);
    // Lines of other levels stay, so that one directory can hold all three.
    let kept = other_levels(&truth_path, level)?;
    let mut truth = BufWriter::new(
        File::create(partial).with_context(|| format!("cannot create {}", partial.display()))?,
    );
    for line in &kept {
        writeln!(truth, "{line}")?;
    }

    let started = Instant::now();
    let roll = RollConfig::durango(args.voters, args.seed);
    let mut bytes = 0u64;
    for image in card_set(&roll, level, args.count, args.seed) {
        let image = image.context("cannot generate an image")?;
        let path = args.out.join(&image.truth.file);
        fs::write(&path, &image.jpeg)
            .with_context(|| format!("cannot write {}", path.display()))?;
        bytes += image.jpeg.len() as u64;
        serde_json::to_writer(&mut truth, &image.truth)?;
        truth.write_all(b"\n")?;
    }
    truth
        .into_inner()
        .map_err(|e| e.into_error())
        .and_then(|file| file.sync_all())
        .with_context(|| format!("cannot write {}", partial.display()))?;
    fs::rename(partial, &truth_path)
        .with_context(|| format!("cannot write {}", truth_path.display()))?;

    let seconds = started.elapsed().as_secs_f64();
    writeln!(
        io::stdout().lock(),
        "Wrote {} {level} images ({:.1} MB) and {} to {} in {:.1} s. Synthetic data.",
        args.count,
        bytes as f64 / 1e6,
        TRUTH_FILE,
        args.out.display(),
        seconds
    )?;
    Ok(())
}

/// The lines of an existing truth file that belong to other levels.
fn other_levels(path: &Path, level: Difficulty) -> anyhow::Result<Vec<String>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut kept = Vec::new();
    for line in BufReader::new(file).lines() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        let value: serde_json::Value = match serde_json::from_str(&line) {
            Ok(value) => value,
            Err(_) => continue,
        };
        if value.get("level").and_then(|l| l.as_str()) != Some(level.name()) {
            kept.push(line);
        }
    }
    Ok(kept)
}
