//! `apoyo credential read` as a user runs it: photographs in, one JSON line per image and exit status out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn apoyo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_apoyo"))
        .args(args)
        .output()
        .expect("start apoyo")
}

fn reports(output: &Output) -> Vec<Value> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| {
                panic!(
                    "not JSON ({e}): {l}\nstderr: {}",
                    String::from_utf8_lossy(&output.stderr)
                )
            })
        })
        .collect()
}

fn synth(dir: &Path, level: &str, count: u32) -> Vec<Value> {
    let out = dir.to_str().unwrap();
    let count = count.to_string();
    let args = [
        "credential",
        "synth-images",
        "--level",
        level,
        "--count",
        &count,
    ];
    let output = apoyo(
        &[
            &args[..],
            &["--seed", "11", "--voters", "2000", "--out", out],
        ]
        .concat(),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::read_to_string(dir.join("truth.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn generated_photographs_are_read_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let truth = synth(dir.path(), "easy", 3);
    let files: Vec<String> = truth
        .iter()
        .map(|t| {
            dir.path()
                .join(t["file"].as_str().unwrap())
                .display()
                .to_string()
        })
        .collect();
    let mut args = vec!["credential", "read", "--reference-date", "2026-06-01"];
    args.extend(files.iter().map(String::as_str));
    let output = apoyo(&args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reports = reports(&output);
    assert_eq!(reports.len(), 3);
    for ((report, truth), file) in reports.iter().zip(&truth).zip(&files) {
        assert_eq!(report["file"], file.as_str());
        assert_eq!(report["mrz"], truth["mrz"]);
        assert_eq!(report["valid"], true);
        assert_eq!(report["accepted"], true);
        let confidence = report["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&confidence));
        assert!(report["read_ms"].as_f64().unwrap() >= 0.0);
        // The same report as `credential check`: the fields it read, and every check.
        assert_eq!(report["fields"]["cic"], truth["credential"]["cic"]);
        assert_eq!(report["reference_date"], "2026-06-01");
        assert!(
            report["checks"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["ok"] == true || c["severity"] == "warning")
        );
    }
}

#[test]
fn a_photograph_without_an_mrz_gives_status_1_and_a_message_in_spanish() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blank.png");
    image::GrayImage::from_pixel(640, 480, image::Luma([200u8]))
        .save(&path)
        .unwrap();
    let output = apoyo(&["credential", "read", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let reports = reports(&output);
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["mrz"], Value::Null);
    assert_eq!(reports[0]["accepted"], false);
    assert!(
        reports[0]["message"]
            .as_str()
            .unwrap()
            .contains("No se encontró")
    );
}

#[test]
fn unusable_files_give_status_2_with_the_reason_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.jpg");
    std::fs::write(&text, "not a photograph").unwrap();
    let missing = dir.path().join("missing.jpg");
    for path in [&text, &missing] {
        let output = apoyo(&["credential", "read", path.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(2), "{}", path.display());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(path.file_name().unwrap().to_str().unwrap()),
            "{stderr}"
        );
        assert!(output.stdout.is_empty());
    }
    let output = apoyo(&["credential", "read"]);
    assert_eq!(output.status.code(), Some(2));
}
