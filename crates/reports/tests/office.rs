//! LibreOffice Calc opens an XLSX whose rows continue over several sheets (as a report of
//! more than 1,048,575 supports does; here two rows per sheet). Skipped with a message
//! when `soffice` is missing, unless `APOYO_OFFICE_TESTS=required` (CI), when it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Stdio};

use apoyo_reports::{Cell, XlsxWriter};

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn read_csv(path: &std::path::Path) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes.as_slice())
        .records()
        .map(|record| record.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[test]
fn calc_reads_every_continuation_sheet() {
    let Some(office) = find_program("soffice").or_else(|| find_program("libreoffice")) else {
        let why = "soffice not on PATH (apt-get install libreoffice-calc-nogui)";
        if std::env::var("APOYO_OFFICE_TESTS").as_deref() == Ok("required") {
            panic!("office tests required (APOYO_OFFICE_TESTS=required) but {why}");
        }
        eprintln!("SKIPPED: office check of continuation sheets: {why}");
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let file = std::fs::File::create(work.path().join("apoyos.xlsx")).unwrap();
    let mut xlsx = XlsxWriter::new(file, "Apoyos", &["Folio", "Situación"])
        .unwrap()
        .with_rows_per_sheet(2);
    for n in 1..=5 {
        xlsx.row(&[Cell::Int(n), Cell::Text("Válido")]).unwrap();
    }
    xlsx.finish(&[("Total de apoyos", Cell::Int(5))]).unwrap();

    let out = work.path().join("csv");
    let status = Command::new(office)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            work.path().join("profile").display()
        ))
        .args([
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
            "--outdir",
        ])
        .arg(&out)
        .arg(work.path().join("apoyos.xlsx"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let mut folios = Vec::new();
    for sheet in ["Apoyos", "Apoyos (2)", "Apoyos (3)"] {
        let rows = read_csv(&out.join(format!("apoyos-{sheet}.csv")));
        assert_eq!(rows[0], ["Folio", "Situación"], "{sheet}");
        folios.extend(rows[1..].iter().map(|r| r[0].parse::<i64>().unwrap()));
    }
    assert_eq!(folios, [1, 2, 3, 4, 5]);
    let summary = read_csv(&out.join("apoyos-Resumen.csv"));
    assert_eq!(summary[1], ["Total de apoyos", "5"]);
}
