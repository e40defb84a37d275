//! Streams a million synthetic rows of 8 columns through XlsxWriter and CsvWriter into a
//! ChunkWriter whose callback only counts bytes (as the server would send chunks down an HTTP
//! body), and prints bytes, seconds and peak resident memory (VmHWM), so that the claim "memory
//! stays flat" can be measured.
//!
//!     bench/reports.sh [ROWS]   (or: cargo run --release -p apoyo-reports --example million_rows [ROWS])

use std::fmt::Write as _;
use std::time::Instant;

use apoyo_reports::{Cell, ChunkWriter, CsvWriter, ReportError, XlsxWriter};

const HEADERS: [&str; 8] = [
    "Folio",
    "Clave de elector",
    "Nombre",
    "Sección",
    "Municipio",
    "Fecha de captura",
    "Situación",
    "Auxiliar",
];
const MUNICIPALITIES: [&str; 5] = [
    "Durango",
    "Gómez Palacio",
    "Lerdo",
    "Pueblo Nuevo",
    "Santiago Papasquiaro",
];
const OUTCOMES: [&str; 4] = [
    "Válido",
    "Duplicado",
    "Fuera de la Lista Nominal",
    "Credencial no vigente",
];
const NAMES: [&str; 6] = [
    "María José",
    "Juan Carlos",
    "Ana Sofía",
    "Luis Ángel",
    "Guadalupe",
    "José Ñúñez",
];
const SURNAMES: [&str; 6] = ["Gómez", "Pérez", "Hernández", "Núñez", "Ríos", "Ortiz"];

/// Synthetic row `n`, written into reusable buffers; `cells` borrows them.
struct RowMaker {
    key: String,
    name: String,
    date: String,
}

impl RowMaker {
    fn fill(&mut self, n: i64) -> [Cell<'_>; 8] {
        self.key.clear();
        let _ = write!(
            self.key,
            "GMPRJS{:08}H{:03}",
            (n * 7919) % 100_000_000,
            n % 1000
        );
        self.name.clear();
        let _ = write!(
            self.name,
            "{} {} {}",
            NAMES[(n % 6) as usize],
            SURNAMES[(n / 6 % 6) as usize],
            SURNAMES[(n / 36 % 6) as usize]
        );
        self.date.clear();
        let _ = write!(
            self.date,
            "{:02}/{:02}/2027 {:02}:{:02}",
            1 + n % 28,
            1 + n / 28 % 12,
            n % 24,
            n % 60
        );
        [
            Cell::Int(n + 1),
            Cell::Text(&self.key),
            Cell::Text(&self.name),
            Cell::Int(100 + n % 1500),
            Cell::Text(MUNICIPALITIES[(n % 5) as usize]),
            Cell::Text(&self.date),
            Cell::Text(OUTCOMES[(n % 4) as usize]),
            Cell::Int(n % 97),
        ]
    }
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn describe_peak() -> String {
    peak_rss_kib().map_or_else(
        || "n/a".to_owned(),
        |kib| format!("{:.1} MiB", kib as f64 / 1024.0),
    )
}

fn main() -> Result<(), ReportError> {
    let rows: i64 = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(1_000_000);
    println!(
        "rows: {rows}, columns: {}; peak RSS at start: {}",
        HEADERS.len(),
        describe_peak()
    );
    let mut maker = RowMaker {
        key: String::new(),
        name: String::new(),
        date: String::new(),
    };

    let mut bytes = 0usize;
    let mut chunks = 0usize;
    let started = Instant::now();
    {
        let sink = ChunkWriter::new(|chunk: Vec<u8>| {
            bytes += chunk.len();
            chunks += 1;
            Ok(())
        });
        let mut xlsx = XlsxWriter::new(sink, "Apoyos", &HEADERS)?;
        for n in 0..rows {
            xlsx.row(&maker.fill(n))?;
        }
        xlsx.finish(&[("Apoyos", Cell::Int(rows))])?;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "xlsx: {bytes} bytes in {chunks} chunks, {seconds:.2} s ({:.0} rows/s), peak RSS so far: {}",
        rows as f64 / seconds,
        describe_peak()
    );

    let mut bytes = 0usize;
    let mut chunks = 0usize;
    let started = Instant::now();
    {
        let sink = ChunkWriter::new(|chunk: Vec<u8>| {
            bytes += chunk.len();
            chunks += 1;
            Ok(())
        });
        let mut csv = CsvWriter::new(sink, &HEADERS)?;
        for n in 0..rows {
            csv.row(&maker.fill(n))?;
        }
        csv.finish()?;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "csv:  {bytes} bytes in {chunks} chunks, {seconds:.2} s ({:.0} rows/s), peak RSS so far: {}",
        rows as f64 / seconds,
        describe_peak()
    );
    Ok(())
}
