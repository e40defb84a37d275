//! Synthetic credential photographs: determinism, decodable JPEGs of the
//! promised sizes, valid MRZ ground truth, geometry inside the frame.

use apoyo_domain::catalog::Sex;
use apoyo_domain::mrz::{MrzData, check_mrz, format_mrz};
use apoyo_domain::{Checks, Date};
use apoyo_synth::{
    CardImage, Difficulty, FRAME_SIZES, Point, RollConfig, SynthError, card_set, render_card,
};
use image::{ImageFormat, RgbImage};

fn sample_lines() -> [String; 3] {
    let date = |y, m, d| Date::new(y, m, d).unwrap_or_else(|| panic!("date {y}-{m}-{d}"));
    format_mrz(&MrzData {
        cic: "123456789".to_owned(),
        ocr: "0405123456789".to_owned(),
        birth_date: date(1985, 1, 1),
        sex: Sex::M,
        expiry_date: date(2035, 12, 31),
        issue_number: 2,
        optional_digits: "12345".to_owned(),
        surnames: vec!["PEREZ".to_owned(), "LOPEZ".to_owned()],
        given_names: vec!["MARIA".to_owned(), "GUADALUPE".to_owned()],
    })
}

fn decode(image: &CardImage) -> RgbImage {
    assert_eq!(&image.jpeg[..2], &[0xFF, 0xD8], "not a JPEG");
    image::load_from_memory_with_format(&image.jpeg, ImageFormat::Jpeg)
        .unwrap_or_else(|e| panic!("{}: {e}", image.truth.file))
        .to_rgb8()
}

fn inside(p: Point, width: u32, height: u32) -> bool {
    (0.0..=f64::from(width)).contains(&p[0]) && (0.0..=f64::from(height)).contains(&p[1])
}

/// Luminance at points spread over a quadrilateral (bilinear in its corners).
fn luma_over(rgb: &RgbImage, quad: &[Point; 4]) -> Vec<f64> {
    let mut values = Vec::new();
    for i in 0..60 {
        for j in 0..5 {
            let (s, t) = ((i as f64 + 0.5) / 60.0, (j as f64 + 0.5) / 5.0);
            let top = [
                quad[0][0] + (quad[1][0] - quad[0][0]) * s,
                quad[0][1] + (quad[1][1] - quad[0][1]) * s,
            ];
            let bottom = [
                quad[3][0] + (quad[2][0] - quad[3][0]) * s,
                quad[3][1] + (quad[2][1] - quad[3][1]) * s,
            ];
            let x = top[0] + (bottom[0] - top[0]) * t;
            let y = top[1] + (bottom[1] - top[1]) * t;
            let p = rgb.get_pixel(x as u32, y as u32).0;
            values
                .push(0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]));
        }
    }
    values.sort_by(f64::total_cmp);
    values
}

#[test]
fn same_seed_gives_identical_bytes() {
    let lines = sample_lines();
    let first = render_card(&lines, Difficulty::Moderate, 7, 3).unwrap_or_else(|e| panic!("{e}"));
    let again = render_card(&lines, Difficulty::Moderate, 7, 3).unwrap_or_else(|e| panic!("{e}"));
    assert!(first.jpeg == again.jpeg, "same seed, different bytes");
    assert_eq!(first.truth, again.truth);
    let other = render_card(&lines, Difficulty::Moderate, 7, 4).unwrap_or_else(|e| panic!("{e}"));
    assert!(first.jpeg != other.jpeg);
    assert_eq!(first.truth.file, "moderate-3.jpg");
    assert_eq!(first.truth.mrz, lines);
    assert!(first.truth.credential.is_none());
    let debug = format!("{first:?}");
    assert!(debug.contains("jpeg_bytes") && debug.len() < 5_000);
}

#[test]
fn every_level_gives_readable_ground_truth() {
    let roll = RollConfig::durango(5_000, 3);
    let reference = roll.cut_date;
    for level in Difficulty::ALL {
        let params = level.params();
        let images: Vec<CardImage> = card_set(&roll, level, 2, 11)
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("{level}: {e}"));
        assert_eq!(images.len(), 2);
        assert_ne!(images[0].truth.citizen_index, images[1].truth.citizen_index);
        for image in &images {
            let truth = &image.truth;
            let name = &truth.file;
            assert_eq!(truth.level, level);
            assert!(name.starts_with(level.name()), "{name}");

            let rgb = decode(image);
            assert_eq!(rgb.dimensions(), (truth.width, truth.height), "{name}");
            assert!(
                FRAME_SIZES.contains(&rgb.dimensions()),
                "{name}: {:?}",
                rgb.dimensions()
            );

            let mut checks = Checks::new();
            let fields = check_mrz(&truth.mrz.join("\n"), reference, &mut checks)
                .unwrap_or_else(|| panic!("{name}: MRZ layout: {checks:?}"));
            assert!(
                fields.check_digits_hold,
                "{name}: {:?} {checks:?}",
                truth.mrz
            );
            let credential = truth
                .credential
                .as_ref()
                .unwrap_or_else(|| panic!("{name}"));
            assert_eq!(credential.mrz.as_deref(), Some(&truth.mrz[..]), "{name}");
            assert_eq!(fields.cic.as_deref(), credential.cic.as_deref(), "{name}");
            assert!(
                matches!(
                    credential.model.as_deref(),
                    Some("D" | "E" | "F" | "G" | "H")
                ),
                "{name}: {:?}",
                credential.model
            );

            let quads = [truth.card_corners, truth.mrz_band]
                .into_iter()
                .chain(truth.mrz_lines);
            for quad in quads {
                for p in quad {
                    assert!(
                        inside(p, truth.width, truth.height),
                        "{name}: {p:?} outside"
                    );
                }
            }
            let (min, max) = params.mrz_width_px;
            assert!(
                (300.0..=1500.0).contains(&truth.mrz_width_px)
                    && (min - 0.5..=max + 0.5).contains(&truth.mrz_width_px),
                "{name}: MRZ {} px wide",
                truth.mrz_width_px
            );
            let q = truth.photo.jpeg_quality;
            assert!((params.jpeg_quality.0..=params.jpeg_quality.1).contains(&q));

            // Ink and paper are both there along the first line.
            let luma = luma_over(&rgb, &truth.mrz_lines[0]);
            let spread = luma[luma.len() * 9 / 10] - luma[luma.len() / 10];
            assert!(spread > 25.0, "{name}: no text contrast ({spread:.0})");

            let json = serde_json::to_string(truth).unwrap_or_else(|e| panic!("{e}"));
            assert!(json.contains(&format!("\"level\":\"{level}\"")), "{json}");
        }
    }
}

#[test]
fn refuses_lines_that_are_not_an_mrz() {
    let mut lines = sample_lines();
    lines[1].pop();
    assert!(matches!(
        render_card(&lines, Difficulty::Easy, 1, 0),
        Err(SynthError::Config(_))
    ));
    let mut lines = sample_lines();
    lines[2] = lines[2].to_lowercase();
    assert!(render_card(&lines, Difficulty::Easy, 1, 0).is_err());
}

#[test]
fn invalid_roll_gives_one_error() {
    let mut roll = RollConfig::durango(10, 1);
    roll.entidad = 33;
    let mut set = card_set(&roll, Difficulty::Easy, 5, 1);
    assert!(matches!(set.next(), Some(Err(SynthError::Config(_)))));
    assert!(set.next().is_none());
    let empty = RollConfig::durango(0, 1);
    let mut set = card_set(&empty, Difficulty::Easy, 1, 1);
    assert!(matches!(
        set.next(),
        Some(Err(SynthError::NotEnoughCitizens(_)))
    ));
}

#[test]
fn difficulty_names() {
    for level in Difficulty::ALL {
        assert_eq!(level.name().parse::<Difficulty>().ok(), Some(level));
        assert_eq!(level.to_string(), level.name());
    }
    assert_eq!("Hard".parse::<Difficulty>().ok(), Some(Difficulty::Hard));
    assert!("extreme".parse::<Difficulty>().is_err());
    // The overall promise: MRZ widths within 300–1,500 px.
    assert!(Difficulty::ALL.iter().all(|l| {
        let (min, max) = l.params().mrz_width_px;
        300.0 <= min && max <= 1500.0
    }));
}
