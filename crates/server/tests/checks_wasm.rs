//! The capture app's on-device checks are the domain's: the embedded WebAssembly module
//! (`crates/domain-wasm`), run by node, answers exactly what `check_credential` answers
//! natively for every public test vector (`testdata/credentials.json`) and a few typed
//! credentials. Skipped without node unless `APOYO_BROWSER_TESTS=required`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use apoyo_domain::{CredentialInput, Date, check_credential};
use serde_json::{Value, json};

const RUNNER: &str = r#"
import fs from 'node:fs';
const [wasmPath, inputsPath, reference] = process.argv.slice(2);
const { instance } = await WebAssembly.instantiate(fs.readFileSync(wasmPath), {});
const w = instance.exports;
const out = [];
for (const input of JSON.parse(fs.readFileSync(inputsPath, 'utf8'))) {
  const bytes = new TextEncoder().encode(JSON.stringify(input));
  const ptr = w.input_buffer(bytes.length); // may grow (and detach) the memory
  new Uint8Array(w.memory.buffer, ptr, bytes.length).set(bytes);
  const status = w.check(bytes.length, Number(reference));
  out.push({ status, json: new TextDecoder().decode(new Uint8Array(w.memory.buffer, w.output_ptr(), w.output_len())) });
}
const code = new TextEncoder().encode('duplicate_other_aspirant');
const at = w.input_buffer(code.length);
new Uint8Array(w.memory.buffer, at, code.length).set(code);
w.outcome_label(code.length);
out.push({ label: new TextDecoder().decode(new Uint8Array(w.memory.buffer, w.output_ptr(), w.output_len())) });
process.stdout.write(JSON.stringify(out));
"#;

fn inputs() -> (Vec<Value>, Date) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/credentials.json");
    let vectors: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let reference = Date::parse_iso(vectors["reference_date"].as_str().unwrap()).unwrap();
    let mut inputs = Vec::new();
    for v in vectors["mrz"].as_array().unwrap() {
        inputs.push(json!({"mrz": v["lines"]}));
    }
    for v in vectors["clave"].as_array().unwrap() {
        let mut input = json!({"clave_elector": v["value"]});
        if let Some(names) = v["names"].as_object() {
            for (k, value) in names {
                input[k] = value.clone();
            }
        }
        inputs.push(input);
    }
    for v in vectors["curp"].as_array().unwrap() {
        inputs.push(json!({"curp": v["value"]}));
    }
    // Typed credentials as the app sends them: consistent, with typos, mixed.
    inputs.push(
        json!({"model": "H", "cic": "200000011", "citizen_id": "100000011",
        "ocr": "0301100000011", "section": "301", "birth_date": "01/01/1950", "sex": "H",
        "expiry_date": "2031", "paternal_surname": "Pérez", "maternal_surname": "Ñúñez",
        "given_names": "José María", "clave_elector": "PRNXJS50010110H000"}),
    );
    inputs.push(
        json!({"model": "G", "cic": "12345678", "ocr": "0301100000012", "citizen_id": "100000011"}),
    );
    inputs.push(json!({"model": "Z", "birth_date": "31/02/1990", "expiry_date": "1999"}));
    (inputs, reference)
}

#[test]
fn the_wasm_module_answers_like_the_domain() {
    if !Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        assert_ne!(
            std::env::var("APOYO_BROWSER_TESTS").as_deref(),
            Ok("required"),
            "node is required"
        );
        eprintln!("SKIPPED: node not found; the WebAssembly checks were not compared");
        return;
    }
    let wasm = apoyo_server::pwa::SHELL
        .iter()
        .find(|f| f.name == "checks.wasm")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let wasm_path = dir.path().join("checks.wasm");
    std::fs::write(&wasm_path, &wasm.body).unwrap();
    let (inputs, reference) = inputs();
    let inputs_path = dir.path().join("inputs.json");
    std::fs::write(&inputs_path, serde_json::to_string(&inputs).unwrap()).unwrap();
    let yyyymmdd = format!(
        "{}{:02}{:02}",
        reference.year(),
        reference.month(),
        reference.day()
    );
    let mut child = Command::new("node")
        .args(["--input-type=module", "-"])
        .arg(&wasm_path)
        .arg(&inputs_path)
        .arg(&yyyymmdd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(RUNNER.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "node failed");
    let answers: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answers.len(), inputs.len() + 1);
    for (input, answer) in inputs.iter().zip(&answers) {
        let native: CredentialInput = serde_json::from_value(input.clone()).unwrap();
        let expected = serde_json::to_string(&check_credential(&native, reference)).unwrap();
        assert_eq!(answer["status"], 0, "{input}");
        assert_eq!(answer["json"].as_str().unwrap(), expected, "{input}");
    }
    assert_eq!(
        answers.last().unwrap()["label"],
        "Duplicado (apoyo previo a otro aspirante)"
    );
}
