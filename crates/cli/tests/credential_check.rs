//! `apoyo credential check` as a user runs it: standard input in, JSON and exit status out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const VECTORS: &str = include_str!("../../../testdata/credentials.json");

fn run(stdin: &[u8], args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_apoyo"))
        .args(["credential", "check"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start apoyo");
    // A refused argument ends the program before it reads its input: a broken pipe here
    // is that, not a failure (the exit status and stderr say what happened).
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().unwrap()
}

fn report(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn every_public_mrz_vector_gets_the_right_answer_and_exit_status() {
    let vectors: Value = serde_json::from_str(VECTORS).unwrap();
    let reference = vectors["reference_date"].as_str().unwrap();
    for case in vectors["mrz"].as_array().unwrap() {
        let lines: Vec<&str> = case["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        let output = run(
            format!("{}\n", lines.join("\n")).as_bytes(),
            &["--reference-date", reference],
        );
        let valid = case["valid"].as_bool().unwrap();
        assert_eq!(
            output.status.code(),
            Some(if valid { 0 } else { 1 }),
            "{}",
            case["name"]
        );
        let report = report(&output);
        assert_eq!(report["valid"], valid);
        for check in report["checks"].as_array().unwrap() {
            for key in ["code", "severity", "ok", "message"] {
                assert!(check.get(key).is_some());
            }
        }
        if let Some(fields) = case.get("fields").and_then(Value::as_object) {
            for (key, expected) in fields {
                assert_eq!(&report["fields"][key], expected, "{} {key}", case["name"]);
            }
        }
    }
}

#[test]
fn checks_a_json_capture() {
    let input = r#"{
        "model": "H",
        "mrz": ["IDMEX1234567897<<0405123456789", "8501019M3512311MEX<02<<12345<9", "PEREZ<LOPEZ<<MARIA<GUADALUPE<<"],
        "cic": "123456789", "citizen_id": "123456789", "section": 405,
        "clave_elector": "PRLPGD85010110M100", "curp": "PELM850101MDGRPR00",
        "birth_date": "01/01/1985", "sex": "M",
        "paternal_surname": "Pérez", "maternal_surname": "López", "given_names": "María Guadalupe"
    }"#;
    let output = run(input.as_bytes(), &["--reference-date", "2026-11-28"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let report = report(&output);
    assert!(
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["ok"] == true)
    );
    assert_eq!(report["fields"]["section"], "0405");
}

#[test]
fn a_capture_with_a_typo_exits_1_and_says_where() {
    let input = r#"{"model": "H", "cic": "123456789", "citizen_id": "123456789", "curp": "PELM850101MDGRPR01"}"#;
    let output = run(input.as_bytes(), &["--reference-date", "2026-11-28"]);
    assert_eq!(output.status.code(), Some(1));
    let report = report(&output);
    let failed: Vec<&Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["code"], "curp.check_digit");
    assert_eq!(failed[0]["severity"], "error");
    assert!(failed[0]["message"].as_str().unwrap().contains("«0»"));
}

#[test]
fn an_expired_credential_depends_on_the_reference_date() {
    let man = "IDMEX9876543213<<1234000000017\n7006159H2912316MEX<00<<00001<7\nHERNANDEZ<HERNANDEZ<<JUAN<<<<<\n";
    assert_eq!(
        run(man.as_bytes(), &["--reference-date", "2029-12-31"])
            .status
            .code(),
        Some(0)
    );
    let output = run(man.as_bytes(), &["--reference-date", "2030-01-01"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stdout).contains("credential.validity"));
    // Without the flag, today is used; this credential is valid until 2029.
    assert!(
        run(man.as_bytes(), &[])
            .status
            .code()
            .is_some_and(|c| c <= 1)
    );
}

#[test]
fn unusable_input_exits_2_with_a_message_and_no_report() {
    let cases: [(&[u8], &str); 6] = [
        (b"", "empty"),
        (b"  \n\n ", "empty"),
        (b"{\"cic\": ", "not a valid credential object"),
        (
            b"{\"cic\": \"123456789\", \"colour\": 1}",
            "unknown field `colour`",
        ),
        (b"[1, 2]", "not an object"),
        (b"IDMEX\xff\xfe", "not UTF-8"),
    ];
    for (input, expected) in cases {
        let output = run(input, &["--reference-date", "2026-11-28"]);
        assert_eq!(output.status.code(), Some(2), "{expected}");
        assert!(output.stdout.is_empty(), "{expected}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
}

#[test]
fn a_bad_reference_date_is_refused() {
    let output = run(b"x", &["--reference-date", "2026-02-30"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a real calendar date"));
}

#[test]
fn a_broken_mrz_is_a_report_not_a_crash() {
    let output = run(b"IDMEX123\nfoo\n", &["--reference-date", "2026-11-28"]);
    assert_eq!(output.status.code(), Some(1));
    let report = report(&output);
    assert_eq!(report["checks"][0]["code"], "mrz.lines");
    assert!(
        report["checks"][0]["message"]
            .as_str()
            .unwrap()
            .contains("se recibieron 2")
    );
}
