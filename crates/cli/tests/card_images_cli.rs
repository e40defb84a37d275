//! `apoyo credential synth-images`: files and truth lines as docs/card-images.md says.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use serde_json::Value;

fn synth(out: &std::path::Path, level: &str, count: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_apoyo"))
        .args([
            "credential",
            "synth-images",
            "--level",
            level,
            "--count",
            count,
        ])
        .args(["--seed", "3", "--voters", "2000", "--out"])
        .arg(out)
        .output()
        .expect("start apoyo")
}

fn truth_lines(out: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(out.join("truth.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn writes_images_and_one_truth_line_each_keeping_other_levels() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cards");
    let output = synth(&out, "hard", "1");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let jpeg = std::fs::read(out.join("hard-0.jpg")).unwrap();
    assert_eq!(&jpeg[..3], &[0xFF, 0xD8, 0xFF]);
    let lines = truth_lines(&out);
    assert_eq!(lines.len(), 1);
    let truth = &lines[0];
    assert_eq!(truth["file"], "hard-0.jpg");
    assert_eq!(truth["level"], "hard");
    assert_eq!(truth["mrz"].as_array().unwrap().len(), 3);
    assert_eq!(truth["credential"]["mrz"], truth["mrz"]);
    assert_eq!(truth["card_corners"].as_array().unwrap().len(), 4);

    // A second level joins the file; running a level again replaces its lines.
    assert!(synth(&out, "moderate", "1").status.success());
    let hard_again = synth(&out, "hard", "1");
    assert!(hard_again.status.success());
    let mut levels: Vec<String> = truth_lines(&out)
        .iter()
        .map(|t| t["level"].as_str().unwrap().to_owned())
        .collect();
    levels.sort();
    assert_eq!(levels, ["hard", "moderate"]);
    assert_eq!(
        std::fs::read(out.join("hard-0.jpg")).unwrap(),
        jpeg,
        "not deterministic"
    );
    assert!(!out.join("truth.jsonl.partial").exists());
}

#[test]
fn refuses_an_unknown_level() {
    let dir = tempfile::tempdir().unwrap();
    let output = synth(dir.path(), "extreme", "1");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("possible values"));
}
