//! Reads every image of a `synth-images` directory against its ground truth
//! and prints, per level, the exact-read share, the wrong-but-accepted share
//! and the time per image; optionally the same for Tesseract on the same images.
//!
//! ```sh
//! cargo run --release -p apoyo-mrz-reader --example mrz_bench -- DIR [PREFIX] [--tesseract] [--verbose] [--dump FILE]
//! ```
//!
//! Tesseract is given the axis-aligned bounding box of the ground-truth MRZ
//! band, padded by half a line pitch, as an 8-bit gray PGM, and run as
//! `tesseract CROP stdout --psm 6 -l eng -c tessedit_char_whitelist=0-9A-Z<`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use apoyo_mrz_reader::{ImageRef, PixelFormat, Reader, Reading};
use serde_json::Value;

#[derive(Default)]
struct Tally {
    images: usize,
    exact: usize,
    wrong_accepted: usize,
    wrong_checks_hold: usize,
    accepted: usize,
    not_found: usize,
    ms: f64,
    decode_ms: f64,
    tess_exact: usize,
    tess_wrong_checks_hold: usize,
    tess_ms: f64,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(
        args.first()
            .expect("usage: mrz_bench DIR [--tesseract] [--verbose]"),
    );
    let tesseract = args.iter().any(|a| a == "--tesseract");
    let verbose = args.iter().any(|a| a == "--verbose");
    // `--dump FILE`: one line per image (file, accepted, confidence, lines), to
    // compare two versions of the reader image by image.
    let dump_path = args
        .iter()
        .position(|a| a == "--dump")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let mut dump = String::new();
    let only: Option<&String> = args
        .iter()
        .enumerate()
        .skip(1)
        .find(|(i, a)| !a.starts_with("--") && args[i - 1] != "--dump")
        .map(|(_, a)| a);
    let truth = std::fs::read_to_string(dir.join("truth.jsonl")).expect("truth.jsonl");
    let reader = Reader::new().expect("templates");
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for line in truth.lines().filter(|l| !l.trim().is_empty()) {
        let truth: Value = serde_json::from_str(line).expect("truth line");
        let file = truth["file"].as_str().unwrap().to_owned();
        if only.is_some_and(|o| !file.starts_with(o.as_str())) {
            continue;
        }
        let level = truth["level"].as_str().unwrap().to_owned();
        let expected: Vec<String> = truth["mrz"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap().to_owned())
            .collect();
        let tally = tallies.entry(level).or_default();
        tally.images += 1;

        let started = Instant::now();
        let bytes = std::fs::read(dir.join(&file)).expect("image");
        let decoded = decode_gray(&bytes);
        let decoded_at = Instant::now();
        let image = ImageRef::new(
            decoded.width(),
            decoded.height(),
            PixelFormat::Gray,
            decoded.as_raw(),
        )
        .expect("image");
        let result = reader.read(&image);
        let done = Instant::now();
        tally.decode_ms += (decoded_at - started).as_secs_f64() * 1e3;
        tally.ms += (done - decoded_at).as_secs_f64() * 1e3;
        if dump_path.is_some() {
            match &result {
                Ok(r) => dump.push_str(&format!(
                    "{file}\t{}\t{:.6}\t{}\n",
                    r.accepted,
                    r.confidence,
                    r.lines.join("|")
                )),
                Err(e) => dump.push_str(&format!("{file}\terror\t{e}\n")),
            }
        }
        match &result {
            Ok(reading) => {
                let exact = reading.lines.iter().zip(&expected).all(|(a, b)| a == b);
                tally.exact += usize::from(exact);
                tally.accepted += usize::from(reading.accepted);
                tally.wrong_accepted += usize::from(!exact && reading.accepted);
                tally.wrong_checks_hold += usize::from(!exact && reading.checks_hold);
                if verbose && !exact {
                    report_miss(&file, reading, &expected);
                    print_grids(&reader, &image, &truth);
                }
                if verbose && exact && !reading.accepted {
                    println!(
                        "{file}: exact but not accepted (confidence {:.2})",
                        reading.confidence
                    );
                }
            }
            Err(error) => {
                tally.not_found += 1;
                if verbose {
                    println!("{file}: {error}");
                    print_grids(&reader, &image, &truth);
                }
            }
        }
        if tesseract {
            let (lines, ms) = run_tesseract(&dir, &file, &decoded, &truth);
            tally.tess_ms += ms;
            let exact = lines.len() == 3 && lines.iter().zip(&expected).all(|(a, b)| a == b);
            tally.tess_exact += usize::from(exact);
            if !exact && lines.len() == 3 {
                let three: [String; 3] = [lines[0].clone(), lines[1].clone(), lines[2].clone()];
                if three.iter().all(|l| l.len() == 30) && checks_hold(&three) {
                    tally.tess_wrong_checks_hold += 1;
                }
            }
        }
    }
    if let Some(path) = &dump_path {
        std::fs::write(path, &dump).expect("dump file");
    }
    println!(
        "{:<9} {:>6} {:>9} {:>11} {:>10} {:>9} {:>9} {:>10}",
        "level", "images", "exact", "wrong+valid", "accepted", "not found", "ms/image", "decode ms"
    );
    for (level, t) in &tallies {
        let n = t.images.max(1) as f64;
        println!(
            "{:<9} {:>6} {:>8.1}% {:>10.1}% {:>9.1}% {:>9} {:>9.1} {:>10.1}",
            level,
            t.images,
            100.0 * t.exact as f64 / n,
            100.0 * t.wrong_accepted as f64 / n,
            100.0 * t.accepted as f64 / n,
            t.not_found,
            t.ms / n,
            t.decode_ms / n,
        );
    }
    for (level, t) in &tallies {
        let n = t.images.max(1) as f64;
        println!(
            "{level}: wrong with check digits holding (accepted or not): {}",
            t.wrong_checks_hold
        );
        if tesseract {
            println!(
                "tesseract {:<9} exact {:>5.1}%  wrong with check digits holding {:>4.1}%  {:>7.1} ms/image",
                level,
                100.0 * t.tess_exact as f64 / n,
                100.0 * t.tess_wrong_checks_hold as f64 / n,
                t.tess_ms / n
            );
        }
    }
}

fn report_miss(file: &str, reading: &Reading, expected: &[String]) {
    println!(
        "{file}: accepted={} checks={} conf={:.2} corrected={}",
        reading.accepted, reading.checks_hold, reading.confidence, reading.corrected
    );
    for (i, (got, want)) in reading.lines.iter().zip(expected).enumerate() {
        if got != want {
            let marks: String = got
                .chars()
                .zip(want.chars())
                .map(|(a, b)| if a == b { ' ' } else { '^' })
                .collect();
            let confs: Vec<String> = reading.char_confidence[i]
                .iter()
                .zip(got.chars().zip(want.chars()))
                .filter(|(_, (a, b))| a != b)
                .map(|(c, _)| format!("{c:.2}"))
                .collect();
            println!(
                "  got  {got}\n  want {want}\n       {marks} conf {}",
                confs.join(" ")
            );
        }
    }
}

/// Candidate grids against the ground truth's cell centres.
fn print_grids(reader: &Reader, image: &ImageRef<'_>, truth: &Value) {
    let centre = |line: usize, first: bool| {
        let q = &truth["mrz_lines"][line];
        let (a, b) = if first { (0, 3) } else { (1, 2) };
        let (x0, y0) = (q[a][0].as_f64().unwrap(), q[a][1].as_f64().unwrap());
        let (x1, y1) = (q[b][0].as_f64().unwrap(), q[b][1].as_f64().unwrap());
        let pitch = truth["mrz_width_px"].as_f64().unwrap() / 30.0;
        let s = if first { 0.5 } else { -0.5 };
        let (mx, my) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        let (dx, dy) = (
            truth["mrz_band"][1][0].as_f64().unwrap() - truth["mrz_band"][0][0].as_f64().unwrap(),
            truth["mrz_band"][1][1].as_f64().unwrap() - truth["mrz_band"][0][1].as_f64().unwrap(),
        );
        let len = dx.hypot(dy);
        (mx + s * pitch * dx / len, my + s * pitch * dy / len)
    };
    let want = [centre(0, true), centre(0, false), centre(2, true)];
    println!(
        "  truth grid {:?}",
        want.map(|p| (p.0.round(), p.1.round()))
    );
    for g in reader.debug_grids(image).unwrap_or_default() {
        println!("  found grid {:?}", g.map(|p| (p.0.round(), p.1.round())));
    }
}

fn checks_hold(lines: &[String; 3]) -> bool {
    let mut checks = apoyo_domain::Checks::default();
    let reference = apoyo_domain::Date::new(2026, 1, 1).unwrap();
    apoyo_domain::mrz::check_mrz(&lines.join("\n"), reference, &mut checks)
        .is_some_and(|f| f.check_digits_hold)
}

/// Tesseract on the ground-truth MRZ band's bounding box; its lines and wall time.
fn run_tesseract(
    dir: &Path,
    file: &str,
    image: &image::GrayImage,
    truth: &Value,
) -> (Vec<String>, f64) {
    let band: Vec<(f64, f64)> = truth["mrz_band"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
        .collect();
    let pad = truth["mrz_width_px"].as_f64().unwrap() / 30.0 * (4.23 / 2.54) / 2.0;
    let x0 = (band.iter().map(|p| p.0).fold(f64::INFINITY, f64::min) - pad).max(0.0) as u32;
    let y0 = (band.iter().map(|p| p.1).fold(f64::INFINITY, f64::min) - pad).max(0.0) as u32;
    let x1 = ((band.iter().map(|p| p.0).fold(0.0, f64::max) + pad) as u32).min(image.width());
    let y1 = ((band.iter().map(|p| p.1).fold(0.0, f64::max) + pad) as u32).min(image.height());
    let (w, h) = (x1 - x0, y1 - y0);
    let mut pgm = format!("P5\n{w} {h}\n255\n").into_bytes();
    for y in y0..y1 {
        for x in x0..x1 {
            pgm.push(image.get_pixel(x, y).0[0]);
        }
    }
    let crop = std::env::temp_dir().join(format!(
        "mrz-bench-{}-{}.pgm",
        std::process::id(),
        file.replace('/', "_")
    ));
    std::fs::write(&crop, &pgm).expect("crop");
    let _ = dir;
    let started = Instant::now();
    let output = Command::new("tesseract")
        .arg(&crop)
        .arg("stdout")
        .args(["--psm", "6", "-l", "eng"])
        .args([
            "-c",
            "tessedit_char_whitelist=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<",
        ])
        .env("OMP_THREAD_LIMIT", "1")
        .output()
        .expect("run tesseract (apt-get install -y tesseract-ocr tesseract-ocr-eng)");
    let ms = started.elapsed().as_secs_f64() * 1e3;
    let _ = std::fs::remove_file(&crop);
    let text = String::from_utf8_lossy(&output.stdout);
    let lines = text
        .lines()
        .map(|l| l.chars().filter(|c| !c.is_whitespace()).collect::<String>())
        .filter(|l| l.len() >= 10)
        .collect();
    (lines, ms)
}

/// The photograph as grey pixels: JPEG decoded straight to luma with zune-jpeg (as the
/// server's cross-check does; no colour conversion), anything else through `image`.
fn decode_gray(bytes: &[u8]) -> image::GrayImage {
    if bytes.starts_with(&[0xFF, 0xD8]) {
        let options = zune_core::options::DecoderOptions::default()
            .jpeg_set_out_colorspace(zune_core::colorspace::ColorSpace::Luma);
        let mut decoder = zune_jpeg::JpegDecoder::new_with_options(
            zune_core::bytestream::ZCursor::new(bytes),
            options,
        );
        let pixels = decoder.decode().expect("decode");
        let (width, height) = decoder.dimensions().expect("dimensions");
        image::GrayImage::from_raw(width as u32, height as u32, pixels).expect("luma buffer")
    } else {
        image::load_from_memory(bytes).expect("decode").into_luma8()
    }
}
