//! Release-mode timing of the roll and capture-set generators (no harness).
//!
//! ```sh
//! cargo bench -p apoyo-synth --bench generate                        # 1,423,335 voters to a sink
//! cargo bench -p apoyo-synth --bench generate -- --voters 10000000
//! cargo bench -p apoyo-synth --bench generate -- --out /tmp/roll.csv  # to a file
//! cargo bench -p apoyo-synth --bench generate -- --supports 50000     # also a capture set
//! cargo bench -p apoyo-synth --bench generate -- --voters 20000 --supports 1500 --capture-out /tmp/c.jsonl
//! # peak memory: run the binary cargo prints under /usr/bin/time -v
//! ```

use std::fs::File;
use std::io::{self, Write};
use std::time::Instant;

use apoyo_synth::{CaptureConfig, DURANGO_ROLL_2025, RollConfig, write_capture_set, write_roll};

/// Counts bytes and discards them.
struct Sink(u64);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: keep that run small.
    let default_voters = if args.iter().any(|a| a == "--bench") {
        DURANGO_ROLL_2025
    } else {
        10_000
    };
    let voters = value("--voters").map_or(Ok(default_voters), |v| v.parse())?;
    let seed = value("--seed").map_or(Ok(1), |v| v.parse())?;
    let config = RollConfig::durango(voters, seed);

    let started = Instant::now();
    let summary = match value("--out") {
        Some(path) => write_roll(&config, File::create(path)?)?,
        None => write_roll(&config, Sink(0))?,
    };
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "roll: {voters} voters, {} rows, {:.1} MB in {seconds:.2} s: {:.0} rows/s, {:.1} MB/s (fullest birth day {} of 1000 slots)",
        summary.rows,
        summary.bytes as f64 / 1e6,
        summary.rows as f64 / seconds,
        summary.bytes as f64 / 1e6 / seconds,
        summary.fullest_birth_day,
    );

    if let Some(supports) = value("--supports") {
        let capture = CaptureConfig::durango_example(supports.parse()?, seed);
        let started = Instant::now();
        let (summary, bytes) = match value("--capture-out") {
            Some(path) => {
                let mut file = io::BufWriter::new(File::create(path)?);
                (write_capture_set(&config, &capture, &mut file)?, 0)
            }
            None => {
                let mut sink = Sink(0);
                (write_capture_set(&config, &capture, &mut sink)?, sink.0)
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "capture set: {} supports, {:.1} MB in {seconds:.2} s ({:.0} supports/s, {} citizens scanned)",
            summary.supports,
            bytes as f64 / 1e6,
            summary.supports as f64 / seconds,
            summary.citizens_scanned,
        );
    }
    Ok(())
}
