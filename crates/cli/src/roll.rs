//! `apoyo roll …`: roll snapshots in the embedded store.

use std::fs::File;
use std::io::{self, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use apoyo_domain::Date;
use apoyo_store::{ImportError, ImportOptions, Store};
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub(crate) struct RollArgs {
    /// Directory holding the embedded database and files.
    #[arg(
        long,
        env = "APOYO_DATA_DIR",
        default_value = "apoyo-data",
        global = true
    )]
    data_dir: PathBuf,
    /// PostgreSQL database (`postgres://…`) instead of the embedded SQLite file.
    #[arg(long, env = "APOYO_DATABASE_URL", global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: RollCommand,
}

#[derive(Debug, Subcommand)]
enum RollCommand {
    /// Write a synthetic roll of Durango (and optionally a capture set with ground truth).
    Generate(GenerateArgs),
    /// Import a roll file (docs/roll-format.md) as a new snapshot; all or nothing.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// Cut date (fecha de corte) of the snapshot, YYYY-MM-DD.
        #[arg(long, value_parser = parse_date)]
        cut_date: Date,
        /// Unique name of the snapshot (default: lista-nominal-<cut date>).
        #[arg(long)]
        name: Option<String>,
        /// Keep the currently active snapshot active.
        #[arg(long)]
        no_activate: bool,
    },
    /// List the snapshots, newest first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Counts of one snapshot by situación and by municipio.
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
struct GenerateArgs {
    /// Number of citizens (superseded credentials add rows).
    #[arg(long, default_value_t = 100_000)]
    voters: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The roll file to write (CSV, docs/roll-format.md).
    #[arg(long)]
    out: PathBuf,
    /// Cut date, YYYY-MM-DD (default 2024-08-31).
    #[arg(long, value_parser = parse_date)]
    cut_date: Option<Date>,
    /// Also write a capture set with ground truth (JSON Lines, docs/capture-set-format.md).
    #[arg(long)]
    capture_set: Option<PathBuf>,
    /// Supports in the capture set.
    #[arg(long, default_value_t = 1_000)]
    supports: u64,
}

fn generate(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    let mut config = apoyo_synth::RollConfig::durango(args.voters, args.seed);
    if let Some(cut) = args.cut_date {
        config.cut_date = cut;
    }
    let started = Instant::now();
    let file =
        File::create(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let summary = apoyo_synth::write_roll(&config, file)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "Wrote {}: {} citizens, {} rows ({} lista_nominal, {} padron, {} baja, {} reemplazada), {:.1} MB in {:.1} s ({:.0} rows/s). Synthetic data.",
        args.out.display(),
        summary.citizens,
        summary.rows,
        summary.lista_nominal,
        summary.register_only,
        summary.removed.values().sum::<u64>(),
        summary.superseded_rows,
        summary.bytes as f64 / 1e6,
        seconds,
        summary.rows as f64 / seconds.max(1e-9)
    )?;
    if let Some(path) = args.capture_set {
        let capture = apoyo_synth::CaptureConfig::durango_example(args.supports, args.seed);
        let file =
            File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        let summary = apoyo_synth::write_capture_set(&config, &capture, io::BufWriter::new(file))
            .with_context(|| format!("cannot write {}", path.display()))?;
        writeln!(
            out,
            "Wrote {}: {} supports with their expected outcomes.",
            path.display(),
            summary.supports
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_date(text: &str) -> Result<Date, String> {
    Date::parse_iso(text).map_err(|e| e.to_string())
}

pub(crate) fn run(args: RollArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run_async(args)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run_async(args: RollArgs) -> anyhow::Result<ExitCode> {
    if let RollCommand::Generate(generate_args) = args.command {
        return generate(generate_args);
    }
    let store = Store::open(args.database_url.as_deref(), &args.data_dir)
        .await
        .with_context(|| format!("cannot open the store in {}", args.data_dir.display()))?;
    let code = match args.command {
        RollCommand::Import {
            file,
            cut_date,
            name,
            no_activate,
        } => import(&store, file, cut_date, name, !no_activate).await?,
        RollCommand::List { json } => list(&store, json).await?,
        RollCommand::Show { name, json } => show(&store, &name, json).await?,
        RollCommand::Generate(_) => ExitCode::SUCCESS,
    };
    store.close().await;
    Ok(code)
}

async fn import(
    store: &Store,
    file: PathBuf,
    cut_date: Date,
    name: Option<String>,
    activate: bool,
) -> anyhow::Result<ExitCode> {
    let source = File::open(&file).with_context(|| format!("cannot open {}", file.display()))?;
    let name = name.unwrap_or_else(|| format!("lista-nominal-{cut_date}"));
    let started = Instant::now();
    let mut last_report = Instant::now();
    let progress = move |rows: u64| {
        if last_report.elapsed().as_secs() >= 2 {
            last_report = Instant::now();
            let rate = rows as f64 / started.elapsed().as_secs_f64().max(1e-9);
            eprintln!("… {rows} rows imported ({rate:.0} rows/s)");
        }
    };
    let options = ImportOptions {
        name,
        cut_date,
        activate,
    };
    match store
        .import_roll(BufReader::with_capacity(1 << 20, source), options, progress)
        .await
    {
        Ok(report) => {
            let seconds = report.elapsed.as_secs_f64();
            let mut out = io::stdout().lock();
            writeln!(
                out,
                "Imported roll snapshot {:?} from {}: {} rows, {:.1} MB, sha256 {}, in {:.1} s ({:.0} rows/s).{}",
                report.name,
                file.display(),
                report.rows,
                report.bytes as f64 / 1e6,
                report.sha256,
                seconds,
                report.rows as f64 / seconds.max(1e-9),
                if activate {
                    " It is now the active snapshot."
                } else {
                    ""
                }
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Err(ImportError::Rows { errors, truncated }) => {
            for error in &errors {
                eprintln!("{}: {error}", file.display());
            }
            eprintln!(
                "error: {} problem(s) in {}{}; nothing was imported and the store is unchanged. Fix the file and import it again.",
                errors.len(),
                file.display(),
                if truncated {
                    " (stopped after the first ones)"
                } else {
                    ""
                }
            );
            Ok(ExitCode::FAILURE)
        }
        Err(error) => {
            eprintln!("{}: {error}", file.display());
            eprintln!("error: nothing was imported and the store is unchanged.");
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn list(store: &Store, json: bool) -> anyhow::Result<ExitCode> {
    let snapshots = store.list_roll_snapshots().await?;
    let mut out = io::stdout().lock();
    if json {
        let items: Vec<serde_json::Value> = snapshots
            .iter()
            .map(|s| {
                serde_json::json!({
                    "name": s.name, "cut_date": s.cut_date, "rows": s.row_count,
                    "bytes": s.source_bytes, "sha256": s.source_sha256,
                    "imported_at": s.imported_at, "active": s.active,
                })
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&items)?)?;
    } else if snapshots.is_empty() {
        writeln!(
            out,
            "No roll snapshots yet. Import one with: apoyo roll import FILE --cut-date YYYY-MM-DD"
        )?;
    } else {
        writeln!(
            out,
            "{:<30} {:<10} {:>12} {:<20} active",
            "name", "cut date", "rows", "imported at"
        )?;
        for s in &snapshots {
            writeln!(
                out,
                "{:<30} {:<10} {:>12} {:<20} {}",
                s.name,
                s.cut_date,
                s.row_count,
                s.imported_at,
                if s.active { "yes" } else { "" }
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn show(store: &Store, name: &str, json: bool) -> anyhow::Result<ExitCode> {
    let detail = store.roll_snapshot_detail(name).await?;
    let s = &detail.summary;
    let t = &detail.totals;
    let mut out = io::stdout().lock();
    if json {
        let municipalities: Vec<serde_json::Value> = detail
            .municipalities
            .iter()
            .map(|m| {
                serde_json::json!({
                    "state": m.state, "municipality": m.municipality, "sections": m.sections,
                    "lista_nominal": m.counts.lista_nominal, "padron": m.counts.padron,
                    "baja": m.counts.baja, "reemplazada": m.counts.reemplazada,
                })
            })
            .collect();
        let value = serde_json::json!({
            "name": s.name, "cut_date": s.cut_date, "rows": s.row_count, "active": s.active,
            "sha256": s.source_sha256, "imported_at": s.imported_at,
            "totals": {"lista_nominal": t.lista_nominal, "padron": t.padron, "baja": t.baja, "reemplazada": t.reemplazada},
            "municipalities": municipalities,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "Roll snapshot {:?}{}",
        s.name,
        if s.active { " (active)" } else { "" }
    )?;
    writeln!(out, "  cut date     {}", s.cut_date)?;
    writeln!(out, "  imported at  {}", s.imported_at)?;
    writeln!(
        out,
        "  source       {} bytes, sha256 {}",
        s.source_bytes, s.source_sha256
    )?;
    writeln!(out, "  rows         {}", s.row_count)?;
    writeln!(out)?;
    writeln!(out, "By situación:")?;
    for (label, count) in [
        ("lista_nominal", t.lista_nominal),
        ("padron", t.padron),
        ("baja", t.baja),
        ("reemplazada", t.reemplazada),
    ] {
        let share = 100.0 * count as f64 / (t.total().max(1)) as f64;
        writeln!(out, "  {label:<14} {count:>12} {share:>6.2} %")?;
    }
    writeln!(out)?;
    writeln!(out, "By municipio (INE numbering):")?;
    writeln!(
        out,
        "  {:>7} {:>9} {:>9} {:>13} {:>9} {:>9} {:>12}",
        "entidad", "municipio", "secciones", "lista_nominal", "padron", "baja", "reemplazada"
    )?;
    for m in &detail.municipalities {
        writeln!(
            out,
            "  {:>7} {:>9} {:>9} {:>13} {:>9} {:>9} {:>12}",
            m.state,
            m.municipality,
            m.sections,
            m.counts.lista_nominal,
            m.counts.padron,
            m.counts.baja,
            m.counts.reemplazada
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
