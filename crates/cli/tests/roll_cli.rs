//! `apoyo roll …` end to end: generate, import, list, show, and an import killed midway;
//! on SQLite and, with `--database-url`, on a fresh PostgreSQL database (`#[backends]`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use std::cell::RefCell;

use apoyo_testkit::backends;
use serde_json::Value;

thread_local! {
    /// The PostgreSQL database of the running test (`None`: SQLite in `--data-dir`).
    static DATABASE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Gives the running test a fresh database on its backend.
async fn fresh_store() {
    let url = apoyo_testkit::fresh_database_url().await;
    DATABASE.with(|d| *d.borrow_mut() = url);
}

/// `args` with `--database-url` after `--data-dir DIR` when the test runs on PostgreSQL.
fn with_database(args: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    if let Some(url) = DATABASE.with(|d| d.borrow().clone()) {
        if let Some(i) = out.iter().position(|a| a == "--data-dir") {
            out.insert(i + 2, url);
            out.insert(i + 2, "--database-url".to_owned());
        }
    }
    out
}

fn apoyo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_apoyo"))
        .args(with_database(args))
        .output()
        .expect("run apoyo")
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "status {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn generate(dir: &Path, name: &str, voters: u32, seed: u32) -> String {
    let path = dir.join(name);
    let path_text = path.to_str().unwrap().to_owned();
    ok(&apoyo(&[
        "roll",
        "generate",
        "--voters",
        &voters.to_string(),
        "--seed",
        &seed.to_string(),
        "--out",
        &path_text,
    ]));
    path_text
}

fn list(data: &str) -> Vec<Value> {
    serde_json::from_str(&ok(&apoyo(&["roll", "--data-dir", data, "list", "--json"]))).unwrap()
}

#[backends]
async fn generated_rolls_are_deterministic_and_import_with_the_public_proportions() {
    fresh_store().await;
    let dir = tempfile::tempdir().unwrap();
    let a = generate(dir.path(), "a.csv", 30_000, 11);
    let b = generate(dir.path(), "b.csv", 30_000, 11);
    let c = generate(dir.path(), "c.csv", 30_000, 12);
    let bytes = |p: &str| std::fs::read(p).unwrap();
    assert_eq!(bytes(&a), bytes(&b), "same seed, same file");
    assert_ne!(bytes(&a), bytes(&c), "another seed, another file");

    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let out = ok(&apoyo(&[
        "roll",
        "--data-dir",
        data,
        "import",
        &a,
        "--cut-date",
        "2024-08-31",
        "--name",
        "corte",
    ]));
    assert!(out.contains("It is now the active snapshot"), "{out}");
    let detail: Value = serde_json::from_str(&ok(&apoyo(&[
        "roll",
        "--data-dir",
        data,
        "show",
        "corte",
        "--json",
    ])))
    .unwrap();
    let municipalities = detail["municipalities"].as_array().unwrap();
    assert_eq!(municipalities.len(), 39);
    let total: f64 = municipalities
        .iter()
        .map(|m| m["lista_nominal"].as_f64().unwrap())
        .sum();
    // Every municipio's share of the Lista Nominal follows the public table (2022 roll).
    let table = include_str!("../../synth/data/durango_municipios.csv");
    let public: Vec<(i64, f64)> = table
        .lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            (cells[2].parse().unwrap(), cells[4].parse().unwrap())
        })
        .collect();
    let public_total: f64 = public.iter().map(|(_, roll)| roll).sum();
    for (municipio, roll) in &public {
        let generated = municipalities
            .iter()
            .find(|m| m["municipality"] == *municipio)
            .unwrap()["lista_nominal"]
            .as_f64()
            .unwrap();
        let (expected, actual) = (roll / public_total, generated / total);
        // Four standard deviations of a sample of `total` voters.
        let tolerance = 4.0 * (expected * (1.0 - expected) / total).sqrt() + 0.001;
        assert!(
            (expected - actual).abs() < tolerance,
            "municipio {municipio}: public share {expected:.4}, generated {actual:.4}"
        );
    }
    let lista = detail["totals"]["lista_nominal"].as_f64().unwrap();
    let rows = detail["rows"].as_f64().unwrap();
    assert!(lista / rows > 0.85, "most rows are on the Lista Nominal");
    for key in ["padron", "baja", "reemplazada"] {
        assert!(detail["totals"][key].as_i64().unwrap() > 0, "{key}");
    }
    let human = ok(&apoyo(&["roll", "--data-dir", data, "show", "corte"]));
    assert!(
        human.contains("By situación") && human.contains("lista_nominal"),
        "{human}"
    );
}

#[backends]
async fn a_bad_file_is_refused_with_line_numbers_and_changes_nothing() {
    fresh_store().await;
    let dir = tempfile::tempdir().unwrap();
    let good = generate(dir.path(), "good.csv", 2_000, 3);
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    ok(&apoyo(&[
        "roll",
        "--data-dir",
        data,
        "import",
        &good,
        "--cut-date",
        "2024-08-31",
        "--name",
        "first",
    ]));

    let text = std::fs::read_to_string(&good).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[10] = lines[10]
        .replacen(",H,", ",X,", 1)
        .replacen(",M,", ",X,", 1);
    lines.push(lines[20].clone());
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let output = apoyo(&[
        "roll",
        "--data-dir",
        data,
        "import",
        bad.to_str().unwrap(),
        "--cut-date",
        "2024-09-30",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 11, column sexo"), "{stderr}");
    assert!(
        stderr.contains(&format!("line {}, column cic", lines.len())),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    let snapshots = list(data);
    assert_eq!(snapshots.len(), 1);
    assert_eq!(snapshots[0]["name"], "first");
    assert_eq!(snapshots[0]["active"], true);
}

#[backends]
async fn an_import_killed_midway_leaves_the_store_as_it_was() {
    fresh_store().await;
    let dir = tempfile::tempdir().unwrap();
    let small = generate(dir.path(), "small.csv", 1_000, 5);
    let big = generate(dir.path(), "big.csv", 250_000, 6);
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    ok(&apoyo(&[
        "roll",
        "--data-dir",
        data,
        "import",
        &small,
        "--cut-date",
        "2024-08-31",
        "--name",
        "before",
    ]));
    let before = list(data);

    let mut child = Command::new(env!("CARGO_BIN_EXE_apoyo"))
        .args(with_database(&[
            "roll",
            "--data-dir",
            data,
            "import",
            &big,
            "--cut-date",
            "2024-09-30",
            "--name",
            "killed",
        ]))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Let it get well into the rows, then kill it without warning.
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(1_200));
    let finished_already = child.try_wait().unwrap().is_some();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !finished_already,
        "the import finished in {:?}; use a bigger file",
        started.elapsed()
    );

    assert_eq!(
        list(data),
        before,
        "the killed import left nothing behind and the old snapshot is still active"
    );
    // The store still works: the same file imports afterwards.
    ok(&apoyo(&[
        "roll",
        "--data-dir",
        data,
        "import",
        &small,
        "--cut-date",
        "2024-09-30",
        "--name",
        "after",
    ]));
    assert_eq!(list(data).len(), 2);
}
