//! `apoyo demo`: a working system with synthetic data in one command.
//!
//! In a data directory it generates a synthetic Durango roll, imports it, creates the
//! process "Ayuntamientos Durango 2024-2025" with its 39 ayuntamientos, a reviewer, a
//! few aspirants and collectors, prints the accounts, and serves. Run again, it
//! reuses everything it finds.

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::demo_supports::DemoAspirant;
use anyhow::{Context, bail};
use apoyo_domain::Date;
use apoyo_domain::access::Role;
use apoyo_domain::review::{HearingWindow, ReviewPolicy};
use apoyo_domain::roll::RollStatus;
use apoyo_domain::threshold::{DispersionRule, ThresholdRule};
use apoyo_server::{App, Config, auth, shutdown_signal, telemetry};
use apoyo_store::{
    Actor, ImportOptions, NewAspirant, NewCollector, NewOffice, NewProcess, NewUser, OfficeKind,
    ProcessKind, ReviewSettings, Store,
};
use apoyo_synth::{RollConfig, RollGenerator, durango_territory};
use clap::Args;

pub(crate) const PROCESS_NAME: &str = "Ayuntamientos Durango 2024-2025";
const SNAPSHOT_NAME: &str = "lista-nominal-demo";
const ACCOUNTS_FILE: &str = "demo-accounts.txt";
const SEED: u64 = 2025;

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Directory for the demo's database, roll file and accounts.
    #[arg(long, env = "APOYO_DATA_DIR", default_value = "apoyo-data")]
    data_dir: PathBuf,
    /// PostgreSQL database (`postgres://…`) instead of the embedded SQLite file.
    #[arg(long, env = "APOYO_DATABASE_URL")]
    database_url: Option<String>,
    /// Citizens in the synthetic roll (first run only).
    #[arg(long, default_value_t = 60_000)]
    voters: u64,
    /// Address to serve on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// Prepare the data and print the accounts, but do not serve.
    #[arg(long)]
    no_serve: bool,
    /// Synthetic supports received on the first run (each with four images), for the
    /// Mesa de Control and the aspirants' portal to have something to show.
    #[arg(long, default_value_t = 1_500)]
    supports: u64,
}

pub(crate) fn run(args: DemoArgs) -> ExitCode {
    let result = (|| -> anyhow::Result<()> {
        let mut config = crate::serve::load_config(None)?;
        config.data_dir = args.data_dir.clone();
        config.database_url = args.database_url.clone();
        config.listen = args.listen;
        config.public_url = format!("http://{}", args.listen);
        telemetry::init(&config);
        crate::serve::runtime()?.block_on(async {
            // The roll file and the accounts go here even when the database is elsewhere.
            std::fs::create_dir_all(&args.data_dir)
                .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
            let store = Store::open(args.database_url.as_deref(), &args.data_dir).await?;
            prepare(&store, &args).await?;
            print_accounts(&args.data_dir, &config)?;
            if args.no_serve {
                store.close().await;
                return anyhow::Ok(());
            }
            serve(config, store).await
        })
    })();
    crate::exit_code(result)
}

async fn serve(config: Config, store: Store) -> anyhow::Result<()> {
    let app = App::with_store(config, store).await?;
    println!(
        "\napoyo demo escuchando en http://{}  (consola: /console/, captura: /app/, API: /api/docs)  — Ctrl-C para terminar.",
        app.address
    );
    app.serve(shutdown_signal()).await?;
    Ok(())
}

fn today() -> Date {
    let now = time::OffsetDateTime::now_utc().date();
    Date::new(now.year(), u8::from(now.month()), now.day())
        .unwrap_or_else(|| Date::from_days_since_epoch(0))
}

async fn prepare(store: &Store, args: &DemoArgs) -> anyhow::Result<()> {
    let roll_config = RollConfig::durango(args.voters, SEED);
    if store.roll_snapshot_detail(SNAPSHOT_NAME).await.is_err() {
        let path = args.data_dir.join("demo-roll.csv");
        eprintln!(
            "Generando una Lista Nominal sintética de {} ciudadanos en {} …",
            args.voters,
            path.display()
        );
        let file =
            File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        apoyo_synth::write_roll(&roll_config, file)?;
        eprintln!("Importándola …");
        let source = BufReader::new(File::open(&path)?);
        let options = ImportOptions {
            name: SNAPSHOT_NAME.into(),
            cut_date: roll_config.cut_date,
            activate: true,
        };
        match store.import_roll(source, options, |_| {}).await {
            Ok(report) => eprintln!("{} registros importados.", report.rows),
            Err(error) => bail!("the demo roll did not import: {error}"),
        }
    }
    if store
        .processes()
        .await?
        .iter()
        .any(|p| p.name == PROCESS_NAME)
    {
        return Ok(());
    }
    let (process_id, senders) = create_world(store, &args.data_dir, &roll_config).await?;
    if args.supports > 0 {
        eprintln!(
            "Recibiendo {} apoyos sintéticos con sus imágenes …",
            args.supports
        );
        let stored = crate::demo_supports::receive(
            store,
            &args.data_dir,
            &roll_config,
            &senders,
            args.supports,
            SEED,
        )
        .await?;
        eprintln!("{stored} apoyos recibidos; se verifican al iniciar el servidor.");
    }
    // The demo reviews every support found on the roll, and its hearing is open.
    let today = today();
    store
        .set_review_settings(
            &Actor::system(),
            process_id,
            &ReviewSettings {
                policy: ReviewPolicy {
                    sample_percent: 100,
                    full_review_trigger_percent: 10,
                },
                hearing: HearingWindow::new(
                    Date::from_days_since_epoch(today.days_since_epoch() - 1),
                    Date::from_days_since_epoch(today.days_since_epoch() + 30),
                )
                .ok(),
            },
        )
        .await?;
    Ok(())
}

/// One demo account, written to the accounts file on creation.
struct Account {
    role: Role,
    email: String,
    name: String,
    password: String,
    note: String,
}

/// Creates the process, its offices and accounts; returns the process and, per aspirant,
/// who sends the demo's supports (its first collector).
async fn create_world(
    store: &Store,
    data_dir: &Path,
    roll_config: &RollConfig,
) -> anyhow::Result<(i64, Vec<DemoAspirant>)> {
    let actor = Actor::system();
    let today = today();
    let process = store
        .create_process(
            &actor,
            NewProcess {
                name: PROCESS_NAME.into(),
                kind: ProcessKind::IndependentCandidacy,
                collection_starts_on: Date::from_days_since_epoch(today.days_since_epoch() - 7),
                collection_ends_on: Date::from_days_since_epoch(today.days_since_epoch() + 90),
                grace_hours: 24,
                roll_snapshot: SNAPSHOT_NAME.into(),
                // Sierra municipios, for illustration: not an official list.
                paper_municipalities: [2u16, 14, 20, 24, 35, 38]
                    .iter()
                    .map(|m| (10u8, *m))
                    .collect(),
            },
        )
        .await?;
    let mut offices = std::collections::HashMap::new();
    for municipio in durango_territory() {
        let office = store
            .create_office(
                &actor,
                process.id,
                NewOffice {
                    kind: OfficeKind::Ayuntamiento,
                    name: format!("Ayuntamiento de {}", municipio.name),
                    state: 10,
                    municipality: Some(municipio.ine_number),
                    district: None,
                    sections: None,
                    // 1 % of the territory's Lista Nominal, as the IEPC's 2022 figures suggest;
                    // half of the secciones with at least 0.5 % of their roll.
                    threshold: ThresholdRule::Percent(100),
                    dispersion: DispersionRule {
                        min_sections_bp: 5_000,
                        min_support_bp: 50,
                    },
                },
            )
            .await?;
        offices.insert(municipio.ine_number, office.id);
    }

    let mut accounts = Vec::new();
    for (role, email, name) in [
        (
            Role::Admin,
            "admin@demo.apoyo.test",
            "Administración del OPL (demo)",
        ),
        (
            Role::Reviewer,
            "revision@demo.apoyo.test",
            "Mesa de Control (demo)",
        ),
    ] {
        let (password, password_hash) = auth::one_time_password().await?;
        store
            .create_user(
                &actor,
                NewUser {
                    email: email.into(),
                    name: name.into(),
                    role,
                    password_hash: password_hash.clone(),
                    must_change_password: false,
                },
            )
            .await?;
        accounts.push(Account {
            role,
            email: email.into(),
            name: name.into(),
            password,
            note: String::new(),
        });
    }

    // Collectors must be real people of the roll: take lista_nominal citizens of each municipio.
    let generator = RollGenerator::new(roll_config)?;
    let mut next_citizen = 0u64;
    let mut collector_for = |municipio: u16| -> Option<(String, String)> {
        while next_citizen < generator.voters() {
            let index = next_citizen;
            next_citizen += 1;
            let records = generator.records(index);
            if let Some(current) = records.last() {
                if current.status == RollStatus::ListaNominal && current.municipality == municipio {
                    let name = format!(
                        "{} {} {}",
                        current.given_names, current.paternal_surname, current.maternal_surname
                    );
                    return Some((current.clave_elector.clone(), name.trim().to_owned()));
                }
            }
        }
        None
    };
    let mut senders = Vec::new();
    for (key, name, municipio) in [
        ("dgo-a", "Aspirante A — Durango (demo)", 5u16),
        ("dgo-b", "Aspirante B — Durango (demo)", 5),
        ("gpa-a", "Aspirante — Gómez Palacio (demo)", 7),
        ("mez-a", "Aspirante — Mezquital (demo)", 14),
    ] {
        let office_id = *offices.get(&municipio).context("demo office missing")?;
        let (password, password_hash) = auth::one_time_password().await?;
        let email = format!("{key}@demo.apoyo.test");
        let aspirant = store
            .create_aspirant(
                &actor,
                NewAspirant {
                    process_id: process.id,
                    office_id,
                    name: name.into(),
                    email: email.clone(),
                    password_hash: password_hash.clone(),
                },
            )
            .await?;
        // Demo accounts are ready to use; real ones must change their one-time password.
        store
            .set_password(&actor, aspirant.user_id, &password_hash, None)
            .await?;
        accounts.push(Account {
            role: Role::Aspirant,
            email,
            name: name.into(),
            password,
            note: format!("aspirant_id {}", aspirant.id),
        });
        for n in 1..=2 {
            let Some((clave, person)) = collector_for(municipio) else {
                break;
            };
            let (password, password_hash) = auth::one_time_password().await?;
            let email = format!("{key}-aux{n}@demo.apoyo.test");
            let collector = store
                .create_collector(
                    &actor,
                    NewCollector {
                        aspirant_id: aspirant.id,
                        name: person.clone(),
                        email: email.clone(),
                        clave_elector: clave.clone(),
                        password_hash: password_hash.clone(),
                    },
                )
                .await?;
            store
                .set_password(&actor, collector.user_id, &password_hash, None)
                .await?;
            if n == 1 {
                senders.push(DemoAspirant {
                    capture_id: key.to_uppercase(),
                    collector_user_id: collector.user_id,
                });
            }
            accounts.push(Account {
                role: Role::Collector,
                email,
                name: person,
                password,
                note: format!("auxiliar de {name}, clave {clave}"),
            });
        }
    }
    write_accounts(data_dir, &accounts)?;
    Ok((process.id, senders))
}

fn write_accounts(data_dir: &Path, accounts: &[Account]) -> anyhow::Result<()> {
    let path = data_dir.join(ACCOUNTS_FILE);
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    writeln!(
        file,
        "# Cuentas de la demostración de apoyo (datos sintéticos). No use estas cuentas en producción."
    )?;
    writeln!(file, "# rol\tcorreo\tcontraseña\tnombre\tnota")?;
    for a in accounts {
        writeln!(
            file,
            "{}\t{}\t{}\t{}\t{}",
            a.role.label_es(),
            a.email,
            a.password,
            a.name,
            a.note
        )?;
    }
    Ok(())
}

fn print_accounts(data_dir: &Path, config: &Config) -> anyhow::Result<()> {
    let path = data_dir.join(ACCOUNTS_FILE);
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    println!(
        "\nDemostración lista en {} (proceso «{PROCESS_NAME}»).",
        data_dir.display()
    );
    println!(
        "Consola (OPL, Mesa de Control, aspirantes): {0}/console/   Captura (auxiliares): {0}/app/   API navegable: {0}/api/docs",
        config.public_url
    );
    println!("Cuentas (también en {}):", path.display());
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split('\t').collect();
        if let [role, email, password, name, note] = fields.as_slice() {
            println!(
                "  {role:<24} {email:<34} {password:<18} {name}{}",
                if note.is_empty() {
                    String::new()
                } else {
                    format!(" ({note})")
                }
            );
        }
    }
    Ok(())
}
