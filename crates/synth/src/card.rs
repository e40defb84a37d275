//! Synthetic photographs of the back of a credential (models D–H), for testing
//! an MRZ reader: see `docs/card-images.md`.
//!
//! A card of ID-1 size (85.60 × 53.98 mm) with a plainly synthetic back design
//! and the three 30-character MRZ lines in OCR-B at the ICAO TD1 pitch is drawn
//! as a flat texture, then "photographed": a homography (tilt of the card plane,
//! camera distance, rotation in the image plane) with 2 × 2 supersampling of a
//! bilinear texture lookup, a textured table around the card with the card's
//! drop shadow, an illumination gradient with vignetting, a glare blob on the
//! laminate, a partial shadow with a soft curved edge, Gaussian blur, sensor
//! noise and JPEG compression. How much of each depends on the [`Difficulty`].
//!
//! Every image is a pure function of `(MRZ lines, level, seed, index)`: the
//! randomness is the crate's SplitMix64 ([`crate::rng`]) seeded by a hash of
//! those values, never the operating system; there is no threading, and the
//! pixel arithmetic is plain IEEE `f32`/`f64` (the trigonometric and
//! exponential functions are the platform's). The font is embedded
//! (`data/fonts/OCRB.otf`, public domain).

use std::fmt;
use std::str::FromStr;

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont, point};
use apoyo_domain::CredentialInput;
use apoyo_domain::mrz::{LINE_LENGTH, char_value};
use image::RgbImage;
use image::codecs::jpeg::JpegEncoder;
use serde::Serialize;

use crate::rng::{Permutation, Rng, hash, mix64};
use crate::{CredentialFields, RollConfig, RollGenerator, SynthError};

/// OCR-B by Matthew Skala (public domain), as packaged by Debian (`fonts-ocr-b`).
const OCR_B: &[u8] = include_bytes!("../data/fonts/OCRB.otf");

/// ID-1 card (ISO/IEC 7810), millimetres.
pub const CARD_WIDTH_MM: f64 = 85.60;
pub const CARD_HEIGHT_MM: f64 = 53.98;
const CORNER_RADIUS_MM: f64 = 3.18;
/// ICAO 9303 OCR-B: 10 characters per inch.
pub const MRZ_PITCH_MM: f64 = 2.54;
/// 6 lines per inch.
pub const MRZ_LINE_PITCH_MM: f64 = 4.23;
/// Height of the capitals (OCR-B size I, about 2.4 mm).
pub const MRZ_CAP_HEIGHT_MM: f64 = 2.42;
/// Width of the 30 character cells of a line.
pub const MRZ_WIDTH_MM: f64 = LINE_LENGTH as f64 * MRZ_PITCH_MM;
/// Nominal left edge of the first character cell (the 76.2 mm of the lines
/// centred on the card).
const MRZ_LEFT_MM: f64 = (CARD_WIDTH_MM - MRZ_WIDTH_MM) / 2.0;
/// Nominal centre lines of the three MRZ lines, measured from the bottom edge.
const MRZ_CENTRES_FROM_BOTTOM_MM: [f64; 3] = [14.85, 10.62, 6.39];
/// Print-position jitter of the whole MRZ block, ± mm in each direction.
const MRZ_JITTER_MM: f64 = 0.4;

/// The frame sizes a "photograph" can have (4:3 landscape, as phone cameras
/// and apps downscale): the smallest that holds the card with a margin is used,
/// sometimes the next one.
pub const FRAME_SIZES: [(u32, u32); 6] = [
    (640, 480),
    (800, 600),
    (1024, 768),
    (1280, 960),
    (1600, 1200),
    (2048, 1536),
];
/// Free margin around the card's bounding box, as a share of the frame width.
const FRAME_MARGIN: f64 = 0.035;

/// How hard an image is to read. Every parameter range is in [`LevelParams`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Difficulty {
    Easy,
    Moderate,
    Hard,
}

impl Difficulty {
    pub const ALL: [Difficulty; 3] = [Difficulty::Easy, Difficulty::Moderate, Difficulty::Hard];

    pub fn name(self) -> &'static str {
        match self {
            Difficulty::Easy => "easy",
            Difficulty::Moderate => "moderate",
            Difficulty::Hard => "hard",
        }
    }

    /// The ranges each image's parameters are drawn from, uniformly.
    pub fn params(self) -> LevelParams {
        match self {
            Difficulty::Easy => LevelParams {
                mrz_width_px: (600.0, 1500.0),
                rotation_deg: 3.0,
                tilt_deg: 5.0,
                camera_distance_card_widths: (3.0, 4.0),
                larger_frame_chance: 0.0,
                blur_sigma_px: (0.3, 0.7),
                blur_sigma_max_pitch: 0.08,
                noise_sigma: (1.5, 3.0),
                light_min_gain: (0.88, 0.95),
                vignette: (0.0, 0.08),
                glare_strength: (0.25, 0.45),
                glare_over_mrz: false,
                shadow_chance: 0.0,
                shadow_darkness: (0.0, 0.0),
                jpeg_quality: (88, 92),
            },
            Difficulty::Moderate => LevelParams {
                mrz_width_px: (400.0, 1200.0),
                rotation_deg: 10.0,
                tilt_deg: 15.0,
                camera_distance_card_widths: (1.8, 2.6),
                larger_frame_chance: 0.3,
                blur_sigma_px: (0.7, 1.4),
                blur_sigma_max_pitch: 0.11,
                noise_sigma: (3.0, 6.0),
                light_min_gain: (0.70, 0.85),
                vignette: (0.05, 0.15),
                glare_strength: (0.40, 0.65),
                glare_over_mrz: true,
                shadow_chance: 0.6,
                shadow_darkness: (0.25, 0.45),
                jpeg_quality: (72, 78),
            },
            Difficulty::Hard => LevelParams {
                mrz_width_px: (300.0, 1000.0),
                rotation_deg: 25.0,
                tilt_deg: 30.0,
                camera_distance_card_widths: (1.1, 1.6),
                larger_frame_chance: 0.5,
                blur_sigma_px: (1.1, 2.0),
                blur_sigma_max_pitch: 0.13,
                noise_sigma: (6.0, 11.0),
                light_min_gain: (0.50, 0.70),
                vignette: (0.10, 0.25),
                glare_strength: (0.60, 0.85),
                glare_over_mrz: true,
                shadow_chance: 1.0,
                shadow_darkness: (0.40, 0.60),
                jpeg_quality: (45, 55),
            },
        }
    }

    fn code(self) -> u64 {
        match self {
            Difficulty::Easy => 1,
            Difficulty::Moderate => 2,
            Difficulty::Hard => 3,
        }
    }
}

impl fmt::Display for Difficulty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Difficulty {
    type Err = SynthError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Difficulty::ALL
            .into_iter()
            .find(|d| d.name().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| {
                SynthError::Config(format!(
                    "unknown difficulty {text:?}: use easy, moderate or hard"
                ))
            })
    }
}

/// The ranges of one [`Difficulty`]; pairs are `(min, max)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LevelParams {
    /// Width of the MRZ in the image: the mean length of the top and bottom
    /// edges of the MRZ band (its 30 character cells), pixels.
    pub mrz_width_px: (f64, f64),
    /// Largest rotation in the image plane, ± degrees.
    pub rotation_deg: f64,
    /// Largest tilt of the card plane away from facing the camera, degrees
    /// (in a uniformly random direction).
    pub tilt_deg: f64,
    /// Camera distance to the card's centre in card widths (85.6 mm): the
    /// smaller, the stronger the perspective for a given tilt.
    pub camera_distance_card_widths: (f64, f64),
    /// Chance of the next larger frame than the smallest that fits (more background).
    pub larger_frame_chance: f64,
    /// Gaussian blur, pixels…
    pub blur_sigma_px: (f64, f64),
    /// …but at most this share of the mean character pitch in pixels.
    pub blur_sigma_max_pitch: f64,
    /// Sensor noise standard deviation in 8-bit levels (luminance; chroma noise
    /// is 0.4 of it), scaled by `0.6 + 0.4·√intensity`.
    pub noise_sigma: (f64, f64),
    /// Illumination gain at the dark end of a linear gradient across the frame
    /// (1 at the bright end).
    pub light_min_gain: (f64, f64),
    /// Darkening at the frame corners (radial, quadratic).
    pub vignette: (f64, f64),
    /// Peak of the glare blob (screen blend on the card only).
    pub glare_strength: (f64, f64),
    /// Whether the glare may be centred over the MRZ (otherwise it is centred
    /// on the upper 55 % of the card).
    pub glare_over_mrz: bool,
    /// Chance of a partial shadow across the card.
    pub shadow_chance: f64,
    /// Share of the light the shadow removes.
    pub shadow_darkness: (f64, f64),
    /// JPEG quality, inclusive.
    pub jpeg_quality: (u8, u8),
}

/// A point in image pixels: `x` right, `y` down, origin at the top-left corner
/// of the top-left pixel (pixel centres at `.5`).
pub type Point = [f64; 2];

/// One synthetic photograph and what it shows.
#[derive(Clone, PartialEq)]
pub struct CardImage {
    /// The JPEG file.
    pub jpeg: Vec<u8>,
    pub truth: CardTruth,
}

impl fmt::Debug for CardImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CardImage")
            .field("jpeg_bytes", &self.jpeg.len())
            .field("truth", &self.truth)
            .finish()
    }
}

/// Ground truth of one image (one line of `truth.jsonl`). Quadrilaterals are
/// `[top-left, top-right, bottom-right, bottom-left]` as printed on the card
/// (upright card), wherever they fall in the image.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CardTruth {
    /// Suggested file name: `<level>-<index>.jpg`.
    pub file: String,
    pub level: Difficulty,
    pub seed: u64,
    pub index: u64,
    /// Image size, pixels.
    pub width: u32,
    pub height: u32,
    /// The three MRZ lines as printed.
    pub mrz: [String; 3],
    /// Index of the citizen in the synthetic roll ([`card_set`] only).
    pub citizen_index: Option<u64>,
    /// The credential's fields ([`card_set`] only).
    pub credential: Option<CredentialFields>,
    /// Corners of the card's rectangle (the rounded corners cut them by 3.18 mm).
    pub card_corners: [Point; 4],
    /// The MRZ band: the 30 character cells of the three lines (76.2 mm wide,
    /// from half a line pitch above line 1's centre line to half below line 3's).
    pub mrz_band: [Point; 4],
    /// Per line, the cells' width by the capitals' height (where the ink is).
    pub mrz_lines: [[Point; 4]; 3],
    /// Mean length of the band's top and bottom edges, pixels.
    pub mrz_width_px: f64,
    /// What was drawn for this image.
    pub photo: PhotoParams,
}

/// The values drawn for one image.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PhotoParams {
    /// Rotation in the image plane, degrees (positive: clockwise on screen).
    pub rotation_deg: f64,
    /// Tilt of the card plane about the card's horizontal and vertical axes, degrees.
    pub tilt_x_deg: f64,
    pub tilt_y_deg: f64,
    pub camera_distance_mm: f64,
    /// Resolution the flat card was drawn at before the warp.
    pub texture_px_per_mm: f64,
    /// What the card lies on: `wood`, `laminate`, `fabric`, `paper` or `cloth`.
    pub background: &'static str,
    pub light_min_gain: f64,
    pub vignette: f64,
    pub glare: Glare,
    pub shadow: Option<Shadow>,
    pub blur_sigma_px: f64,
    pub noise_sigma: f64,
    pub jpeg_quality: u8,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Glare {
    pub center: Point,
    pub radius_px: f64,
    pub strength: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Shadow {
    pub darkness: f64,
    /// Width of the soft edge, pixels.
    pub softness_px: f64,
    /// A point on the (slightly curved) edge, on the card, and the unit normal
    /// pointing into the shade.
    pub edge_point: Point,
    pub normal: Point,
}

// Streams of the per-image generators (changing them changes every image).
const STREAM_GEOMETRY: u64 = 0xCA_0001;
const STREAM_DESIGN: u64 = 0xCA_0002;
const STREAM_SCENE: u64 = 0xCA_0003;
const STREAM_NOISE: u64 = 0xCA_0004;
const STREAM_CITIZENS: u64 = 0xCA_0005;

/// Renders and photographs one credential back with these MRZ lines (30
/// characters each, `A`–`Z`, `0`–`9`, `<`; they are drawn as given, check
/// digits are not verified).
pub fn render_card(
    mrz_lines: &[String; 3],
    level: Difficulty,
    seed: u64,
    index: u64,
) -> Result<CardImage, SynthError> {
    for (i, line) in mrz_lines.iter().enumerate() {
        if line.len() != LINE_LENGTH || line.chars().any(|c| char_value(c).is_none()) {
            return Err(SynthError::Config(format!(
                "MRZ line {} must be {LINE_LENGTH} characters of A-Z, 0-9 and <: {line:?}",
                i + 1
            )));
        }
    }
    let font = FontRef::try_from_slice(OCR_B)
        .map_err(|e| SynthError::Internal(format!("embedded OCR-B font: {e}")))?;
    let key = |stream: u64| hash(&[seed, stream, level.code(), index]);
    let params = level.params();

    let design = Design::draw(&mut Rng::new(key(STREAM_DESIGN)), seed, index);
    let shot = Shot::draw(&params, &design, &mut Rng::new(key(STREAM_GEOMETRY)))?;
    let texture = render_back(&font, mrz_lines, &design, shot.texture_px_per_mm)?;
    let scene = Scene::draw(&params, &shot, &mut Rng::new(key(STREAM_SCENE)));
    let mut planes = photograph(&texture, &shot, &scene);
    for plane in &mut planes {
        gaussian_blur(plane, shot.width, shot.height, scene.blur_sigma);
    }
    let rgb = add_noise_and_quantize(&planes, scene.noise_sigma, &mut Rng::new(key(STREAM_NOISE)));
    let image = RgbImage::from_raw(shot.width as u32, shot.height as u32, rgb)
        .ok_or_else(|| SynthError::Internal("image buffer size".to_owned()))?;
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, scene.jpeg_quality)
        .encode_image(&image)
        .map_err(|e| SynthError::Internal(format!("JPEG encoding: {e}")))?;

    let map = |p: [f64; 2]| shot.h.apply(p).map(round_point).unwrap_or([f64::NAN; 2]);
    let quad = |left: f64, top: f64, right: f64, bottom: f64| {
        [
            map([left, top]),
            map([right, top]),
            map([right, bottom]),
            map([left, bottom]),
        ]
    };
    let (left, right) = (design.mrz_left, design.mrz_left + MRZ_WIDTH_MM);
    let mrz_band = quad(
        left,
        design.mrz_centres[0] - MRZ_LINE_PITCH_MM / 2.0,
        right,
        design.mrz_centres[2] + MRZ_LINE_PITCH_MM / 2.0,
    );
    let half_cap = MRZ_CAP_HEIGHT_MM / 2.0;
    let mrz_line_quads = design
        .mrz_centres
        .map(|c| quad(left, c - half_cap, right, c + half_cap));
    let mrz_width_px =
        round3((distance(mrz_band[0], mrz_band[1]) + distance(mrz_band[3], mrz_band[2])) / 2.0);

    let truth = CardTruth {
        file: format!("{}-{index}.jpg", level.name()),
        level,
        seed,
        index,
        width: shot.width as u32,
        height: shot.height as u32,
        mrz: mrz_lines.clone(),
        citizen_index: None,
        credential: None,
        card_corners: quad(0.0, 0.0, CARD_WIDTH_MM, CARD_HEIGHT_MM),
        mrz_band,
        mrz_lines: mrz_line_quads,
        mrz_width_px,
        photo: PhotoParams {
            rotation_deg: round3(shot.rotation_deg),
            tilt_x_deg: round3(shot.tilt_x_deg),
            tilt_y_deg: round3(shot.tilt_y_deg),
            camera_distance_mm: round3(shot.camera_distance_mm),
            texture_px_per_mm: round3(shot.texture_px_per_mm),
            background: scene.background.name(),
            light_min_gain: round3(scene.light_min_gain),
            vignette: round3(scene.vignette),
            glare: Glare {
                center: round_point(scene.glare_center),
                radius_px: round3(scene.glare_radius),
                strength: round3(scene.glare_strength),
            },
            shadow: scene.shadow.as_ref().map(|s| Shadow {
                darkness: round3(s.darkness),
                softness_px: round3(s.softness),
                edge_point: round_point(s.origin),
                normal: round_point(s.normal),
            }),
            blur_sigma_px: round3(scene.blur_sigma),
            noise_sigma: round3(scene.noise_sigma),
            jpeg_quality: scene.jpeg_quality,
        },
    };
    Ok(CardImage { jpeg, truth })
}

/// A credential back with these MRZ lines, flat and clean (as scanned, no photograph):
/// `px_per_mm` sets the size (8 gives 685 × 432 px). Far cheaper than [`render_card`],
/// for demos and tests that need many backs a person can read, not a reader's test.
pub fn render_flat_back(
    mrz_lines: &[String; 3],
    seed: u64,
    index: u64,
    px_per_mm: f64,
) -> Result<Vec<u8>, SynthError> {
    for (i, line) in mrz_lines.iter().enumerate() {
        if line.len() != LINE_LENGTH || line.chars().any(|c| char_value(c).is_none()) {
            return Err(SynthError::Config(format!(
                "MRZ line {} must be {LINE_LENGTH} characters of A-Z, 0-9 and <: {line:?}",
                i + 1
            )));
        }
    }
    if !(2.0..=40.0).contains(&px_per_mm) {
        return Err(SynthError::Config(format!(
            "px_per_mm must be 2 to 40: {px_per_mm}"
        )));
    }
    let font = FontRef::try_from_slice(OCR_B)
        .map_err(|e| SynthError::Internal(format!("embedded OCR-B font: {e}")))?;
    let design = Design::draw(
        &mut Rng::new(hash(&[seed, STREAM_DESIGN, u64::MAX, index])),
        seed,
        index,
    );
    let texture = render_back(&font, mrz_lines, &design, px_per_mm)?;
    let rgb: Vec<u8> = texture
        .data
        .iter()
        .flat_map(|c| c.map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8))
        .collect();
    let image = RgbImage::from_raw(texture.width as u32, texture.height as u32, rgb)
        .ok_or_else(|| SynthError::Internal("image buffer size".to_owned()))?;
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&image)
        .map_err(|e| SynthError::Internal(format!("JPEG encoding: {e}")))?;
    Ok(jpeg)
}

/// Photographs of the current credentials of citizens with a D–H credential
/// (which carry an MRZ) of the synthetic roll `roll`: image `index` shows a
/// citizen chosen by `(seed, index)` through a keyed permutation of the roll
/// (distinct citizens while `16 · count ≤ voters`), rendered with
/// [`render_card`]`(lines, level, seed, index)`. The truth carries the
/// credential's fields and the citizen's index.
pub fn card_set(roll: &RollConfig, level: Difficulty, count: u64, seed: u64) -> CardSet {
    let (generator, error) = match RollGenerator::new(roll) {
        Ok(generator) => (Some(generator), None),
        Err(error) => (None, Some(error)),
    };
    CardSet {
        generator,
        error,
        level,
        count,
        seed,
        next: 0,
    }
}

/// The iterator [`card_set`] returns: `count` images, or one error first if
/// the roll configuration is invalid.
#[derive(Debug)]
pub struct CardSet {
    generator: Option<RollGenerator>,
    error: Option<SynthError>,
    level: Difficulty,
    count: u64,
    seed: u64,
    next: u64,
}

/// Citizens tried per image before giving up (models A–C have no MRZ).
const DRAWS_PER_IMAGE: u64 = 16;

impl CardSet {
    fn card(&self, generator: &RollGenerator, index: u64) -> Result<CardImage, SynthError> {
        let voters = generator.voters();
        if voters == 0 {
            return Err(SynthError::NotEnoughCitizens(
                "the roll has no citizens".to_owned(),
            ));
        }
        let order = Permutation::new(voters, hash(&[self.seed, STREAM_CITIZENS]));
        for draw in 0..DRAWS_PER_IMAGE {
            let position = index.wrapping_mul(DRAWS_PER_IMAGE).wrapping_add(draw) % voters;
            let citizen = order.apply(position);
            let credential = generator.current_credential(citizen);
            let Some(lines) = credential.mrz.as_deref().and_then(three_lines) else {
                continue;
            };
            let mut image = render_card(&lines, self.level, self.seed, index)?;
            image.truth.citizen_index = Some(citizen);
            image.truth.credential = Some(fields_of(&credential, &lines));
            return Ok(image);
        }
        Err(SynthError::NotEnoughCitizens(format!(
            "no citizen with a D–H credential in {DRAWS_PER_IMAGE} draws for image {index}"
        )))
    }
}

impl Iterator for CardSet {
    type Item = Result<CardImage, SynthError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(error) = self.error.take() {
            self.next = self.count;
            return Some(Err(error));
        }
        if self.next >= self.count {
            return None;
        }
        let index = self.next;
        self.next += 1;
        let generator = self.generator.as_ref()?;
        Some(self.card(generator, index))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = if self.error.is_some() {
            1
        } else {
            usize::try_from(self.count.saturating_sub(self.next)).unwrap_or(usize::MAX)
        };
        (left, Some(left))
    }
}

fn three_lines(text: &str) -> Option<[String; 3]> {
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.try_into().ok()
}

fn fields_of(input: &CredentialInput, lines: &[String; 3]) -> CredentialFields {
    CredentialFields {
        model: input.model.clone(),
        mrz: Some(lines.to_vec()),
        cic: input.cic.clone(),
        ocr: input.ocr.clone(),
        citizen_id: input.citizen_id.clone(),
        section: input.section.clone(),
        issue_number: input.issue_number.clone(),
        clave_elector: input.clave_elector.clone(),
        curp: input.curp.clone(),
        birth_date: input.birth_date.clone(),
        sex: input.sex.clone(),
        expiry_date: input.expiry_date.clone(),
        paternal_surname: input.paternal_surname.clone(),
        maternal_surname: input.maternal_surname.clone(),
        given_names: input.given_names.clone(),
    }
}

// ---------------------------------------------------------------------------
// Small helpers

fn uniform(rng: &mut Rng, (lo, hi): (f64, f64)) -> f64 {
    lo + (hi - lo) * rng.unit()
}

fn symmetric(rng: &mut Rng, max: f64) -> f64 {
    (2.0 * rng.unit() - 1.0) * max
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn round_point(p: Point) -> Point {
    [round3(p[0]), round3(p[1])]
}

fn distance(a: Point, b: Point) -> f64 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

fn clamp01(x: f32) -> f32 {
    x.clamp(0.0, 1.0)
}

fn smoothstep(edge0: f32, edge1: f32, x: f32) -> f32 {
    let t = clamp01((x - edge0) / (edge1 - edge0));
    t * t * (3.0 - 2.0 * t)
}

fn lerp3(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// A 3 × 3 projective map of points (card millimetres → image pixels, or back).
#[derive(Clone, Copy, Debug)]
struct Homography([[f64; 3]; 3]);

impl Homography {
    fn mul(&self, other: &Homography) -> Homography {
        let (a, b) = (&self.0, &other.0);
        let mut m = [[0.0; 3]; 3];
        for (i, row) in m.iter_mut().enumerate() {
            for (j, cell) in row.iter_mut().enumerate() {
                *cell = a[i][0] * b[0][j] + a[i][1] * b[1][j] + a[i][2] * b[2][j];
            }
        }
        Homography(m)
    }

    /// The homogeneous image of `p`: `(x·w, y·w, w)`.
    fn project(&self, p: [f64; 2]) -> [f64; 3] {
        let m = &self.0;
        [
            m[0][0] * p[0] + m[0][1] * p[1] + m[0][2],
            m[1][0] * p[0] + m[1][1] * p[1] + m[1][2],
            m[2][0] * p[0] + m[2][1] * p[1] + m[2][2],
        ]
    }

    /// The image of `p`, if it is in front of the camera (positive `w`).
    fn apply(&self, p: [f64; 2]) -> Option<[f64; 2]> {
        let [x, y, w] = self.project(p);
        (w > 1e-12).then(|| [x / w, y / w])
    }

    fn inverse(&self) -> Option<Homography> {
        let m = &self.0;
        let cof = |r0: usize, r1: usize, c0: usize, c1: usize| {
            m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0]
        };
        let adj = [
            [cof(1, 2, 1, 2), -cof(0, 2, 1, 2), cof(0, 1, 1, 2)],
            [-cof(1, 2, 0, 2), cof(0, 2, 0, 2), -cof(0, 1, 0, 2)],
            [cof(1, 2, 0, 1), -cof(0, 2, 0, 1), cof(0, 1, 0, 1)],
        ];
        let det = m[0][0] * adj[0][0] + m[0][1] * adj[1][0] + m[0][2] * adj[2][0];
        if det.abs() < 1e-18 {
            return None;
        }
        Some(Homography(adj.map(|row| row.map(|x| x / det))))
    }
}

// ---------------------------------------------------------------------------
// The card's design (everything drawn on the flat card)

/// Randomised details of the flat card.
#[derive(Clone, Debug)]
struct Design {
    /// Left edge of the first MRZ cell and the three centre lines, mm from the
    /// card's top-left corner.
    mrz_left: f64,
    mrz_centres: [f64; 3],
    paper_top: [f32; 3],
    paper_bottom: [f32; 3],
    wave_color: [f32; 3],
    rosette_color: [f32; 3],
    wave: [f64; 6],
    rosette: [f64; 4],
    ink: [f32; 3],
    code_bits: u64,
    code_seed: u64,
    serial: String,
}

impl Design {
    fn draw(rng: &mut Rng, seed: u64, index: u64) -> Self {
        let jx = symmetric(rng, MRZ_JITTER_MM);
        let jy = symmetric(rng, MRZ_JITTER_MM);
        let mrz_centres = MRZ_CENTRES_FROM_BOTTOM_MM.map(|c| CARD_HEIGHT_MM - c + jy);
        let tint = |rng: &mut Rng, base: [f32; 3], spread: f64| {
            base.map(|c| clamp01(c + symmetric(rng, spread) as f32))
        };
        let ink_level = uniform(rng, (0.04, 0.12)) as f32;
        Design {
            mrz_left: MRZ_LEFT_MM + jx,
            mrz_centres,
            paper_top: tint(rng, [0.93, 0.93, 0.96], 0.02),
            paper_bottom: tint(rng, [0.97, 0.94, 0.93], 0.02),
            wave_color: tint(rng, [0.80, 0.62, 0.78], 0.06),
            rosette_color: tint(rng, [0.58, 0.78, 0.76], 0.06),
            wave: [
                uniform(rng, (1.0, 1.6)),
                uniform(rng, (1.0, 2.5)),
                uniform(rng, (0.15, 0.3)),
                uniform(rng, (0.3, 0.9)),
                uniform(rng, (0.5, 0.9)),
                uniform(rng, (0.0, std::f64::consts::TAU)),
            ],
            rosette: [
                uniform(rng, (60.0, 72.0)),
                uniform(rng, (22.0, 30.0)),
                uniform(rng, (0.9, 1.4)),
                uniform(rng, (0.0, std::f64::consts::TAU)),
            ],
            ink: [ink_level, ink_level, ink_level + 0.02],
            code_bits: rng.next_u64(),
            code_seed: rng.next_u64(),
            serial: format!("SERIE {:08X}-{index:04}", seed & 0xFFFF_FFFF),
        }
    }
}

/// The flat card, RGB in `[0, 1]`, `px_per_mm` texels per millimetre.
struct Texture {
    width: usize,
    height: usize,
    px_per_mm: f64,
    data: Vec<[f32; 3]>,
}

impl Texture {
    fn blend(&mut self, x: i64, y: i64, color: [f32; 3], alpha: f32) {
        if x < 0 || y < 0 || x as usize >= self.width || y as usize >= self.height {
            return;
        }
        let a = clamp01(alpha);
        let texel = &mut self.data[y as usize * self.width + x as usize];
        *texel = lerp3(*texel, color, a);
    }

    /// Fills the rectangle `[left, right) × [top, bottom)` (mm), antialiased at
    /// its edges by texel coverage.
    fn fill_rect(
        &mut self,
        left: f64,
        top: f64,
        right: f64,
        bottom: f64,
        color: [f32; 3],
        alpha: f32,
    ) {
        let s = self.px_per_mm;
        let (x0, x1, y0, y1) = (left * s, right * s, top * s, bottom * s);
        for y in (y0.floor() as i64)..(y1.ceil() as i64) {
            let cy = ((y + 1) as f64).min(y1) - (y as f64).max(y0);
            for x in (x0.floor() as i64)..(x1.ceil() as i64) {
                let cx = ((x + 1) as f64).min(x1) - (x as f64).max(x0);
                self.blend(x, y, color, alpha * (cx * cy) as f32);
            }
        }
    }

    /// Bilinear lookup at `(u, v)` mm (texel centres at `.5`), clamped at the edges.
    fn sample(&self, u: f64, v: f64) -> [f32; 3] {
        let x = (u * self.px_per_mm - 0.5).clamp(0.0, (self.width - 1) as f64);
        let y = (v * self.px_per_mm - 0.5).clamp(0.0, (self.height - 1) as f64);
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
        let (fx, fy) = ((x - x0 as f64) as f32, (y - y0 as f64) as f32);
        let at = |x: usize, y: usize| self.data[y * self.width + x];
        let top = lerp3(at(x0, y0), at(x1, y0), fx);
        let bottom = lerp3(at(x0, y1), at(x1, y1), fx);
        lerp3(top, bottom, fy)
    }
}

/// Coverage of a family of thin lines where `phase` counts lines (`period` mm
/// apart), `half_width` mm, antialiased over one texel of `texel` mm.
fn line_coverage(phase: f64, period: f64, half_width: f64, texel: f64) -> f32 {
    let f = phase - phase.floor();
    let d = f.min(1.0 - f) * period;
    (0.5 + (half_width - d) / texel).clamp(0.0, 1.0) as f32
}

fn render_back(
    font: &FontRef<'_>,
    lines: &[String; 3],
    design: &Design,
    px_per_mm: f64,
) -> Result<Texture, SynthError> {
    let width = (CARD_WIDTH_MM * px_per_mm).ceil() as usize;
    let height = (CARD_HEIGHT_MM * px_per_mm).ceil() as usize;
    let texel = 1.0 / px_per_mm;
    let mrz_top = design.mrz_centres[0] - MRZ_LINE_PITCH_MM;
    let [w_period, w_a1, w_k1, w_a2, w_k2, w_phase] = design.wave;
    let [r_cx, r_cy, r_period, r_phase] = design.rosette;
    let mut data = Vec::with_capacity(width * height);
    for y in 0..height {
        let v = (y as f64 + 0.5) * texel;
        let t = (v / CARD_HEIGHT_MM) as f32;
        let paper = lerp3(design.paper_top, design.paper_bottom, t);
        // The security print is fainter behind the MRZ, as on real documents.
        let strength = if v > mrz_top { 0.35 } else { 1.0 };
        for x in 0..width {
            let u = (x as f64 + 0.5) * texel;
            let wave = (v + w_a1 * (u * w_k1 + w_phase).sin() + w_a2 * (u * w_k2 - w_phase).sin())
                / w_period;
            let a = line_coverage(wave, w_period, 0.06, texel) * 0.45 * strength;
            let (du, dv) = (u - r_cx, v - r_cy);
            let radius = du.hypot(dv) + 0.8 * (7.0 * dv.atan2(du) + r_phase).sin();
            let b = line_coverage(radius / r_period, r_period, 0.05, texel) * 0.35 * strength;
            let mut c = lerp3(paper, design.wave_color, a);
            c = lerp3(c, design.rosette_color, b);
            data.push(c);
        }
    }
    let mut tex = Texture {
        width,
        height,
        px_per_mm,
        data,
    };

    // A block of random cells (not a code of any kind) where real backs carry QR codes.
    let (code_left, code_top, code_size, cells) = (65.0, 4.5, 15.0, 21u64);
    let cell = code_size / cells as f64;
    let dark = [0.16, 0.16, 0.2];
    tex.fill_rect(
        code_left - 0.8,
        code_top - 0.8,
        code_left + code_size + 0.8,
        code_top + code_size + 0.8,
        [0.97, 0.97, 0.97],
        1.0,
    );
    for row in 0..cells {
        for col in 0..cells {
            let bit = mix64(design.code_seed ^ (row * cells + col).wrapping_mul(0x9E37_79B9))
                ^ design.code_bits;
            if bit & 1 == 1 {
                let (l, t) = (code_left + col as f64 * cell, code_top + row as f64 * cell);
                tex.fill_rect(l, t, l + cell, t + cell, dark, 1.0);
            }
        }
    }

    let text_ink = [0.20, 0.22, 0.32];
    let grey = [0.38, 0.38, 0.42];
    let pen = Pen::new(font)?;
    pen.write(
        &mut tex,
        "MUESTRA",
        5.0,
        31.5,
        7.0,
        None,
        [0.80, 0.35, 0.45],
        0.13,
    );
    pen.write(
        &mut tex,
        "INSTITUTO NACIONAL ELECTORAL",
        4.5,
        6.0,
        1.6,
        None,
        text_ink,
        1.0,
    );
    pen.write(
        &mut tex,
        "MUESTRA SINTÉTICA — SIN VALOR OFICIAL",
        4.5,
        8.8,
        1.15,
        None,
        text_ink,
        1.0,
    );
    pen.write(
        &mut tex,
        "DOCUMENTO GENERADO PARA PRUEBAS DE SOFTWARE",
        4.5,
        12.0,
        0.9,
        None,
        grey,
        1.0,
    );
    pen.write(
        &mut tex,
        "NO CORRESPONDE A NINGUNA PERSONA REAL",
        4.5,
        13.8,
        0.9,
        None,
        grey,
        1.0,
    );
    pen.write(&mut tex, &design.serial, 4.5, 15.6, 0.9, None, grey, 1.0);
    tex.fill_rect(58.0, 30.2, 82.0, 30.45, grey, 0.8);
    pen.write(&mut tex, "FIRMA", 66.5, 32.3, 0.9, None, grey, 1.0);

    for (line, centre) in lines.iter().zip(design.mrz_centres) {
        pen.write(
            &mut tex,
            line,
            design.mrz_left,
            centre + MRZ_CAP_HEIGHT_MM / 2.0,
            MRZ_CAP_HEIGHT_MM,
            Some(MRZ_PITCH_MM),
            design.ink,
            1.0,
        );
    }
    Ok(tex)
}

/// Writes text in OCR-B on a texture.
struct Pen<'f> {
    font: &'f FontRef<'f>,
    /// Height of a capital H in font units.
    cap_units: f32,
}

impl<'f> Pen<'f> {
    fn new(font: &'f FontRef<'f>) -> Result<Self, SynthError> {
        let outline = font
            .outline(font.glyph_id('H'))
            .ok_or_else(|| SynthError::Internal("OCR-B has no H".to_owned()))?;
        let cap_units = (outline.bounds.max.y - outline.bounds.min.y).abs();
        if cap_units <= 0.0 {
            return Err(SynthError::Internal("OCR-B: empty H".to_owned()));
        }
        Ok(Pen { font, cap_units })
    }

    fn glyph(&self, c: char) -> GlyphId {
        let id = self.font.glyph_id(c);
        if id.0 != 0 {
            return id;
        }
        let plain = match c {
            'Á' => 'A',
            'É' => 'E',
            'Í' => 'I',
            'Ó' => 'O',
            'Ú' | 'Ü' => 'U',
            'Ñ' => 'N',
            '—' | '–' | '·' => '-',
            _ => ' ',
        };
        self.font.glyph_id(plain)
    }

    /// `text` from `left` mm with its baseline at `baseline` mm and capitals
    /// `cap` mm high; in cells of `pitch` mm (glyph centred) if given.
    #[allow(clippy::too_many_arguments)]
    fn write(
        &self,
        tex: &mut Texture,
        text: &str,
        left: f64,
        baseline: f64,
        cap: f64,
        pitch: Option<f64>,
        color: [f32; 3],
        alpha: f32,
    ) {
        let s = tex.px_per_mm;
        let px_scale = (cap * s) as f32 * self.font.height_unscaled() / self.cap_units;
        let scale = PxScale::from(px_scale);
        let scaled = self.font.as_scaled(scale);
        let mut x = left * s;
        let y = (baseline * s) as f32;
        for c in text.chars() {
            let id = self.glyph(c);
            let advance = f64::from(scaled.h_advance(id));
            let cell = pitch.map_or(advance, |p| p * s);
            let gx = (x + (cell - advance) / 2.0) as f32;
            let glyph = id.with_scale_and_position(scale, point(gx, y));
            if let Some(outlined) = self.font.outline_glyph(glyph) {
                let bounds = outlined.px_bounds();
                let (bx, by) = (bounds.min.x as i64, bounds.min.y as i64);
                outlined.draw(|px, py, coverage| {
                    tex.blend(
                        bx + i64::from(px),
                        by + i64::from(py),
                        color,
                        coverage * alpha,
                    );
                });
            }
            x += cell;
        }
    }
}

// ---------------------------------------------------------------------------
// The camera

/// Where the card is in the image.
#[derive(Clone, Debug)]
struct Shot {
    /// Card mm → image pixels, and back.
    h: Homography,
    h_inv: Homography,
    width: usize,
    height: usize,
    rotation_deg: f64,
    tilt_x_deg: f64,
    tilt_y_deg: f64,
    camera_distance_mm: f64,
    texture_px_per_mm: f64,
    /// The card's bounding box in the image, pixels.
    card_box: [f64; 4],
    /// Mean character pitch of the MRZ, pixels.
    mrz_pitch_px: f64,
}

impl Shot {
    fn draw(params: &LevelParams, design: &Design, rng: &mut Rng) -> Result<Self, SynthError> {
        let rotation_deg = symmetric(rng, params.rotation_deg);
        let tilt = params.tilt_deg * rng.unit();
        let azimuth = std::f64::consts::TAU * rng.unit();
        let tilt_x_deg = tilt * azimuth.cos();
        let tilt_y_deg = tilt * azimuth.sin();
        let camera_distance_mm = uniform(rng, params.camera_distance_card_widths) * CARD_WIDTH_MM;
        let mrz_width_px = uniform(rng, params.mrz_width_px);

        // R = Rz(rotation) · Ry(tilt y) · Rx(tilt x); the card's centre at the origin,
        // the camera `distance` in front of it; normalised image coordinates x/z, y/z.
        let (a, b, g) = (
            tilt_x_deg.to_radians(),
            tilt_y_deg.to_radians(),
            rotation_deg.to_radians(),
        );
        let rx = [
            [1.0, 0.0, 0.0],
            [0.0, a.cos(), -a.sin()],
            [0.0, a.sin(), a.cos()],
        ];
        let ry = [
            [b.cos(), 0.0, b.sin()],
            [0.0, 1.0, 0.0],
            [-b.sin(), 0.0, b.cos()],
        ];
        let rz = [
            [g.cos(), -g.sin(), 0.0],
            [g.sin(), g.cos(), 0.0],
            [0.0, 0.0, 1.0],
        ];
        let r = Homography(rz).mul(&Homography(ry)).mul(&Homography(rx)).0;
        let camera = Homography([
            [r[0][0], r[0][1], 0.0],
            [r[1][0], r[1][1], 0.0],
            [r[2][0], r[2][1], camera_distance_mm],
        ]);
        let centre = Homography([
            [1.0, 0.0, -CARD_WIDTH_MM / 2.0],
            [0.0, 1.0, -CARD_HEIGHT_MM / 2.0],
            [0.0, 0.0, 1.0],
        ]);
        let normalised = camera.mul(&centre);
        let bad = || SynthError::Internal("degenerate card projection".to_owned());

        // Scale so that the MRZ has the drawn width.
        let mrz_top = design.mrz_centres[0] - MRZ_LINE_PITCH_MM / 2.0;
        let mrz_bottom = design.mrz_centres[2] + MRZ_LINE_PITCH_MM / 2.0;
        let (left, right) = (design.mrz_left, design.mrz_left + MRZ_WIDTH_MM);
        let edge = |h: &Homography, v: f64| -> Result<f64, SynthError> {
            Ok(distance(
                h.apply([left, v]).ok_or_else(bad)?,
                h.apply([right, v]).ok_or_else(bad)?,
            ))
        };
        let unit_width = (edge(&normalised, mrz_top)? + edge(&normalised, mrz_bottom)?) / 2.0;
        let mut scale = mrz_width_px / unit_width;

        let corners = [
            [0.0, 0.0],
            [CARD_WIDTH_MM, 0.0],
            [CARD_WIDTH_MM, CARD_HEIGHT_MM],
            [0.0, CARD_HEIGHT_MM],
        ];
        let mut bbox = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
        for c in corners {
            let [x, y] = normalised.apply(c).ok_or_else(bad)?;
            bbox = [
                bbox[0].min(x),
                bbox[1].min(y),
                bbox[2].max(x),
                bbox[3].max(y),
            ];
        }
        let (box_w, box_h) = (bbox[2] - bbox[0], bbox[3] - bbox[1]);
        let fits = |(w, h): (u32, u32), scale: f64| {
            let margin = FRAME_MARGIN * f64::from(w);
            box_w * scale + 2.0 * margin <= f64::from(w)
                && box_h * scale + 2.0 * margin <= f64::from(h)
        };
        let frame_index = match FRAME_SIZES.iter().position(|f| fits(*f, scale)) {
            Some(i) if i + 1 < FRAME_SIZES.len() && rng.chance(params.larger_frame_chance) => i + 1,
            Some(i) => i,
            None => {
                // Larger than the largest frame: shrink to fit (the ranges make this rare).
                let (w, h) = FRAME_SIZES[FRAME_SIZES.len() - 1];
                let margin = FRAME_MARGIN * f64::from(w);
                scale = scale
                    .min((f64::from(w) - 2.0 * margin) / box_w)
                    .min((f64::from(h) - 2.0 * margin) / box_h);
                FRAME_SIZES.len() - 1
            }
        };
        let (width, height) = FRAME_SIZES[frame_index];
        let margin = FRAME_MARGIN * f64::from(width);
        let free_x = f64::from(width) - 2.0 * margin - box_w * scale;
        let free_y = f64::from(height) - 2.0 * margin - box_h * scale;
        let tx = margin + free_x * rng.unit() - bbox[0] * scale;
        let ty = margin + free_y * rng.unit() - bbox[1] * scale;
        let h = Homography([[scale, 0.0, tx], [0.0, scale, ty], [0.0, 0.0, 1.0]]).mul(&normalised);
        let h_inv = h.inverse().ok_or_else(bad)?;

        // Texture resolution: 1.25 × the largest local scale (px per mm) on the card.
        let mut max_scale: f64 = 0.0;
        for c in corners {
            let p = h.apply(c).ok_or_else(bad)?;
            let du = h.apply([c[0] + 1.0, c[1]]).ok_or_else(bad)?;
            let dv = h.apply([c[0], c[1] + 1.0]).ok_or_else(bad)?;
            max_scale = max_scale.max(distance(p, du)).max(distance(p, dv));
        }
        let texture_px_per_mm = (max_scale * 1.25).clamp(4.0, 40.0);
        let mrz_pitch_px = (edge(&h, mrz_top)? + edge(&h, mrz_bottom)?) / 2.0 / LINE_LENGTH as f64;
        let card_box = [
            bbox[0] * scale + tx,
            bbox[1] * scale + ty,
            bbox[2] * scale + tx,
            bbox[3] * scale + ty,
        ];
        Ok(Shot {
            h,
            h_inv,
            width: width as usize,
            height: height as usize,
            rotation_deg,
            tilt_x_deg,
            tilt_y_deg,
            camera_distance_mm,
            texture_px_per_mm,
            card_box,
            mrz_pitch_px,
        })
    }
}

// ---------------------------------------------------------------------------
// The scene: table, light, glare, shadow, optics, sensor

#[derive(Clone, Copy, Debug)]
enum Background {
    Wood,
    Laminate,
    Fabric,
    Paper,
    Cloth,
}

impl Background {
    const ALL: [Background; 5] = [
        Background::Wood,
        Background::Laminate,
        Background::Fabric,
        Background::Paper,
        Background::Cloth,
    ];

    fn name(self) -> &'static str {
        match self {
            Background::Wood => "wood",
            Background::Laminate => "laminate",
            Background::Fabric => "fabric",
            Background::Paper => "paper",
            Background::Cloth => "cloth",
        }
    }
}

#[derive(Clone, Debug)]
struct ShadowEdge {
    darkness: f64,
    softness: f64,
    /// A point on the edge, the unit normal towards the shadow, and the bend.
    origin: Point,
    normal: Point,
    bend: f64,
}

#[derive(Clone, Debug)]
struct Scene {
    background: Background,
    /// Table colours and pattern: base, second colour, angle, period (mm), key.
    table: [f32; 3],
    table_alt: [f32; 3],
    table_angle: f64,
    table_period: f64,
    table_key: u64,
    /// Light: gain at the dark end, gradient start and direction·length⁻¹ (px).
    light_min_gain: f64,
    light_origin: Point,
    light_axis: Point,
    vignette: f64,
    white_balance: [f32; 3],
    glare_center: Point,
    glare_radius: f64,
    glare_strength: f64,
    glare_aspect: f64,
    glare_angle: f64,
    shadow: Option<ShadowEdge>,
    blur_sigma: f64,
    noise_sigma: f64,
    jpeg_quality: u8,
}

impl Scene {
    fn draw(params: &LevelParams, shot: &Shot, rng: &mut Rng) -> Self {
        let background = Background::ALL[rng.below(Background::ALL.len() as u64) as usize];
        let jitter =
            |rng: &mut Rng, c: [f32; 3]| c.map(|x| clamp01(x + symmetric(rng, 0.05) as f32));
        let (table, table_alt) = match background {
            Background::Wood => (
                jitter(rng, [0.55, 0.37, 0.22]),
                jitter(rng, [0.40, 0.25, 0.14]),
            ),
            Background::Laminate => (
                jitter(rng, [0.62, 0.62, 0.60]),
                jitter(rng, [0.50, 0.50, 0.49]),
            ),
            Background::Fabric => (
                jitter(rng, [0.16, 0.20, 0.32]),
                jitter(rng, [0.10, 0.13, 0.22]),
            ),
            Background::Paper => (
                jitter(rng, [0.90, 0.90, 0.86]),
                jitter(rng, [0.45, 0.60, 0.85]),
            ),
            Background::Cloth => (
                jitter(rng, [0.85, 0.82, 0.80]),
                jitter(rng, [0.72, 0.18, 0.20]),
            ),
        };
        let table_angle = std::f64::consts::TAU * rng.unit();
        let table_period = match background {
            Background::Wood => uniform(rng, (2.5, 5.0)),
            Background::Laminate => uniform(rng, (0.6, 1.2)),
            Background::Fabric => uniform(rng, (0.7, 1.1)),
            Background::Paper => uniform(rng, (6.0, 8.0)),
            Background::Cloth => uniform(rng, (8.0, 14.0)),
        };
        let table_key = rng.next_u64();

        let (w, h) = (shot.width as f64, shot.height as f64);
        let light_angle = std::f64::consts::TAU * rng.unit();
        let (dx, dy) = (light_angle.cos(), light_angle.sin());
        // The gradient runs across the whole frame along (dx, dy).
        let extent = (w * dx.abs() + h * dy.abs()).max(1.0);
        let light_origin = [w / 2.0 - dx * extent / 2.0, h / 2.0 - dy * extent / 2.0];
        let light_axis = [dx / extent, dy / extent];
        let light_min_gain = uniform(rng, params.light_min_gain);
        let vignette = uniform(rng, params.vignette);
        let warm = symmetric(rng, 0.05) as f32;
        let white_balance = [1.0 + warm, 1.0, 1.0 - warm];

        // Glare: centred on the card (upper part unless the level allows the MRZ).
        let v_max = if params.glare_over_mrz {
            CARD_HEIGHT_MM
        } else {
            0.55 * CARD_HEIGHT_MM
        };
        let gu = uniform(rng, (0.1 * CARD_WIDTH_MM, 0.9 * CARD_WIDTH_MM));
        let gv = uniform(rng, (0.1 * CARD_HEIGHT_MM, v_max));
        let glare_center = shot.h.apply([gu, gv]).unwrap_or([w / 2.0, h / 2.0]);
        let card_px = (shot.card_box[2] - shot.card_box[0]).max(1.0);
        let glare_radius = card_px * uniform(rng, (0.06, 0.16));
        let glare_strength = uniform(rng, params.glare_strength);
        let glare_aspect = uniform(rng, (1.0, 2.2));
        let glare_angle = std::f64::consts::PI * rng.unit();

        let shadow = rng.chance(params.shadow_chance).then(|| {
            // An edge through a point on the card, at any angle, slightly curved.
            let pu = uniform(rng, (0.25 * CARD_WIDTH_MM, 0.75 * CARD_WIDTH_MM));
            let pv = uniform(rng, (0.3 * CARD_HEIGHT_MM, 0.8 * CARD_HEIGHT_MM));
            let origin = shot.h.apply([pu, pv]).unwrap_or([w / 2.0, h / 2.0]);
            let angle = std::f64::consts::TAU * rng.unit();
            ShadowEdge {
                darkness: uniform(rng, params.shadow_darkness),
                softness: card_px * uniform(rng, (0.01, 0.06)),
                origin,
                normal: [angle.cos(), angle.sin()],
                bend: symmetric(rng, 1.5) / card_px,
            }
        });

        let blur_cap = params.blur_sigma_max_pitch * shot.mrz_pitch_px;
        let blur_sigma = uniform(rng, params.blur_sigma_px).min(blur_cap);
        let noise_sigma = uniform(rng, params.noise_sigma);
        let (q0, q1) = params.jpeg_quality;
        let jpeg_quality = rng.between(i64::from(q0), i64::from(q1)).clamp(1, 100) as u8;
        Scene {
            background,
            table,
            table_alt,
            table_angle,
            table_period,
            table_key,
            light_min_gain,
            light_origin,
            light_axis,
            vignette,
            white_balance,
            glare_center,
            glare_radius,
            glare_strength,
            glare_aspect,
            glare_angle,
            shadow,
            blur_sigma,
            noise_sigma,
            jpeg_quality,
        }
    }

    /// The table at plane position `(u, v)` mm (card coordinates).
    fn table_at(&self, u: f64, v: f64) -> [f32; 3] {
        let (s, c) = self.table_angle.sin_cos();
        // Table coordinates: rotated against the card, offset so that patterns
        // do not line up with the card's corner.
        let p = c * u - s * v + 1000.0;
        let q = s * u + c * v + 1000.0;
        let period = self.table_period;
        let key = self.table_key;
        match self.background {
            Background::Wood => {
                let warp = value_noise(p / 40.0, q / 8.0, key) * 6.0
                    + value_noise(p / 9.0, q / 3.0, key ^ 1) * 1.5;
                let ring = ((q + warp) / period * std::f64::consts::TAU).sin() * 0.5 + 0.5;
                let t =
                    (ring.powf(3.0) * 0.55 + value_noise(p / 2.0, q / 0.7, key ^ 2) * 0.3) as f32;
                lerp3(self.table, self.table_alt, t)
            }
            Background::Laminate => {
                let speck = value_noise(p / period, q / period, key) as f32;
                let cloud = value_noise(p / 25.0, q / 25.0, key ^ 3) as f32;
                lerp3(
                    self.table,
                    self.table_alt,
                    0.55 * speck * speck + 0.25 * cloud,
                )
            }
            Background::Fabric => {
                let weave = ((p / period * std::f64::consts::TAU).sin()
                    * (q / period * std::f64::consts::TAU).sin())
                    as f32;
                let slub = value_noise(p / 6.0, q / 1.5, key) as f32;
                lerp3(
                    self.table,
                    self.table_alt,
                    clamp01(0.5 + 0.35 * weave + 0.3 * (slub - 0.5)),
                )
            }
            Background::Paper => {
                let line = line_coverage(q / period, period, 0.15, 0.25);
                let margin = line_coverage((p - 25.0) / 400.0, 400.0, 0.2, 0.25);
                let fibre = value_noise(p / 0.8, q / 0.8, key) as f32 * 0.04;
                let mut c = self.table.map(|x| x - fibre);
                c = lerp3(c, self.table_alt, 0.6 * line);
                lerp3(c, [0.85, 0.35, 0.35], 0.6 * margin)
            }
            Background::Cloth => {
                // Gingham: stripes each way, darker where they cross.
                let a = line_coverage(p / period + 0.25, period, period / 4.0, 0.5);
                let b = line_coverage(q / period + 0.25, period, period / 4.0, 0.5);
                let thread = value_noise(p / 0.5, q / 0.5, key) as f32 * 0.06;
                let t = clamp01(0.45 * (a + b) + 0.1 * a * b - thread);
                lerp3(self.table, self.table_alt, t)
            }
        }
    }

    /// Light reaching image point `(x, y)`: gradient, vignetting and shadow (per channel).
    fn light_at(&self, x: f64, y: f64, w: f64, h: f64) -> [f32; 3] {
        let t = ((x - self.light_origin[0]) * self.light_axis[0]
            + (y - self.light_origin[1]) * self.light_axis[1])
            .clamp(0.0, 1.0);
        let gain = self.light_min_gain + (1.0 - self.light_min_gain) * t;
        let (rx, ry) = ((x - w / 2.0) / (w / 2.0), (y - h / 2.0) / (h / 2.0));
        let vignette = 1.0 - self.vignette * (rx * rx + ry * ry) / 2.0;
        let mut light = self.white_balance.map(|c| c * (gain * vignette) as f32);
        if let Some(shadow) = &self.shadow {
            let (dx, dy) = (x - shadow.origin[0], y - shadow.origin[1]);
            let along = -dx * shadow.normal[1] + dy * shadow.normal[0];
            let across =
                dx * shadow.normal[0] + dy * shadow.normal[1] + shadow.bend * along * along;
            let s = smoothstep(
                -shadow.softness as f32,
                shadow.softness as f32,
                across as f32,
            ) * shadow.darkness as f32;
            // Shade is lit by the sky: slightly bluer.
            light = [
                light[0] * (1.0 - s),
                light[1] * (1.0 - 0.96 * s),
                light[2] * (1.0 - 0.9 * s),
            ];
        }
        light
    }

    fn glare_at(&self, x: f64, y: f64) -> f32 {
        let (dx, dy) = (x - self.glare_center[0], y - self.glare_center[1]);
        let (s, c) = self.glare_angle.sin_cos();
        let a = (c * dx + s * dy) / (self.glare_radius * self.glare_aspect);
        let b = (-s * dx + c * dy) / self.glare_radius;
        let r2 = a * a + b * b;
        if r2 > 30.0 {
            return 0.0;
        }
        let g = (-r2 / 2.0).exp() * 0.6 + (-r2 * 3.0).exp() * 0.4;
        (g * self.glare_strength) as f32
    }
}

/// Smooth value noise in `[0, 1)` on a unit lattice.
fn value_noise(x: f64, y: f64, key: u64) -> f64 {
    let (fx, fy) = (x.floor(), y.floor());
    let (ix, iy) = (fx as i64 as u64, fy as i64 as u64);
    let corner = |i: u64, j: u64| {
        let h = mix64(
            key ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ j.wrapping_mul(0xC2B2_AE3D_27D4_EB4F),
        );
        (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    };
    let (tx, ty) = (x - fx, y - fy);
    let (sx, sy) = (tx * tx * (3.0 - 2.0 * tx), ty * ty * (3.0 - 2.0 * ty));
    let top = corner(ix, iy) + (corner(ix.wrapping_add(1), iy) - corner(ix, iy)) * sx;
    let bottom = corner(ix, iy.wrapping_add(1))
        + (corner(ix.wrapping_add(1), iy.wrapping_add(1)) - corner(ix, iy.wrapping_add(1))) * sx;
    top + (bottom - top) * sy
}

/// Whether `(u, v)` mm is on the card (rounded corners).
fn on_card(u: f64, v: f64) -> bool {
    if !(0.0..=CARD_WIDTH_MM).contains(&u) || !(0.0..=CARD_HEIGHT_MM).contains(&v) {
        return false;
    }
    let r = CORNER_RADIUS_MM;
    let cx = u.clamp(r, CARD_WIDTH_MM - r);
    let cy = v.clamp(r, CARD_HEIGHT_MM - r);
    (u - cx).powi(2) + (v - cy).powi(2) <= r * r
}

/// Distance (mm) from `(u, v)` to the card's rectangle, 0 inside.
fn card_distance(u: f64, v: f64) -> f64 {
    let dx = (-u).max(u - CARD_WIDTH_MM).max(0.0);
    let dy = (-v).max(v - CARD_HEIGHT_MM).max(0.0);
    dx.hypot(dy)
}

/// The scene through the lens, before blur and noise: three planes (R, G, B).
fn photograph(tex: &Texture, shot: &Shot, scene: &Scene) -> [Vec<f32>; 3] {
    let (w, h) = (shot.width, shot.height);
    let mut planes = [
        vec![0.0f32; w * h],
        vec![0.0f32; w * h],
        vec![0.0f32; w * h],
    ];
    let inv = &shot.h_inv;
    // Depth (w) of the card's centre: farther table points fade to the table's
    // mean colour instead of aliasing.
    let centre_depth = shot.h.project([CARD_WIDTH_MM / 2.0, CARD_HEIGHT_MM / 2.0])[2];
    let table_mean = lerp3(scene.table, scene.table_alt, 0.4);
    let [bx0, by0, bx1, by1] = shot.card_box;
    const SUB: [(f64, f64); 4] = [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)];
    // The card's drop shadow on the table: offset and softness, mm.
    let (drop_u, drop_v, drop_soft, drop_dark) = (0.6, 0.9, 1.6, 0.35f32);
    for y in 0..h {
        let py = y as f64 + 0.5;
        for x in 0..w {
            let px = x as f64 + 0.5;
            let [hu, hv, hw] = inv.project([px, py]);
            let table = if hw > 0.0 {
                let (u, v) = (hu / hw, hv / hw);
                let depth = 1.0 / (hw * centre_depth);
                let far = smoothstep(1.6, 2.4, depth as f32);
                let mut c = lerp3(scene.table_at(u, v), table_mean, far);
                let d = card_distance(u - drop_u, v - drop_v);
                let shade = drop_dark * (1.0 - smoothstep(0.0, drop_soft as f32, d as f32));
                c = c.map(|x| x * (1.0 - shade));
                c
            } else {
                table_mean
            };
            let near_card =
                px >= bx0 - 1.0 && px <= bx1 + 1.0 && py >= by0 - 1.0 && py <= by1 + 1.0;
            let mut coverage = 0.0f32;
            let mut card = [0.0f32; 3];
            if near_card {
                for (sx, sy) in SUB {
                    if let Some([u, v]) = inv.apply([x as f64 + sx, y as f64 + sy]) {
                        if on_card(u, v) {
                            let t = tex.sample(u, v);
                            card = [card[0] + t[0], card[1] + t[1], card[2] + t[2]];
                            coverage += 0.25;
                        }
                    }
                }
            }
            let scene_color = [
                card[0] * 0.25 + table[0] * (1.0 - coverage),
                card[1] * 0.25 + table[1] * (1.0 - coverage),
                card[2] * 0.25 + table[2] * (1.0 - coverage),
            ];
            let light = scene.light_at(px, py, w as f64, h as f64);
            let mut c = [
                scene_color[0] * light[0],
                scene_color[1] * light[1],
                scene_color[2] * light[2],
            ];
            if coverage > 0.0 {
                // Glare on the laminate, weaker where the card is in shade.
                let shade = (light[1] / scene.white_balance[1]).min(1.0);
                let g = scene.glare_at(px, py) * coverage * shade;
                c = c.map(|x| 1.0 - (1.0 - x) * (1.0 - g));
            }
            let i = y * w + x;
            planes[0][i] = c[0];
            planes[1][i] = c[1];
            planes[2][i] = c[2];
        }
    }
    planes
}

/// Separable Gaussian blur of one plane (edges clamped).
fn gaussian_blur(plane: &mut [f32], w: usize, h: usize, sigma: f64) {
    if sigma < 0.05 || w == 0 || h == 0 {
        return;
    }
    let radius = (3.0 * sigma).ceil() as usize;
    let mut kernel: Vec<f32> = (0..=2 * radius)
        .map(|i| {
            let d = i as f64 - radius as f64;
            (-d * d / (2.0 * sigma * sigma)).exp() as f32
        })
        .collect();
    let total: f32 = kernel.iter().sum();
    for k in &mut kernel {
        *k /= total;
    }
    let mut tmp = vec![0.0f32; w * h];
    // Horizontal.
    for y in 0..h {
        let row = &plane[y * w..(y + 1) * w];
        let out = &mut tmp[y * w..(y + 1) * w];
        for (x, o) in out.iter_mut().enumerate() {
            let mut acc = 0.0f32;
            for (k, weight) in kernel.iter().enumerate() {
                let xi = (x + k).saturating_sub(radius).min(w - 1);
                acc += row[xi] * weight;
            }
            *o = acc;
        }
    }
    // Vertical, row by row (cache friendly).
    for y in 0..h {
        let out = &mut plane[y * w..(y + 1) * w];
        out.fill(0.0);
        for (k, weight) in kernel.iter().enumerate() {
            let yi = (y + k).saturating_sub(radius).min(h - 1);
            let src = &tmp[yi * w..(yi + 1) * w];
            for (o, s) in out.iter_mut().zip(src) {
                *o += s * weight;
            }
        }
    }
}

/// Sensor noise (luminance, Gaussian by Irwin–Hall; chroma, uniform) and 8-bit RGB.
fn add_noise_and_quantize(planes: &[Vec<f32>; 3], sigma: f64, rng: &mut Rng) -> Vec<u8> {
    let sigma = (sigma / 255.0) as f32;
    let [red, green, blue] = planes;
    let mut out = Vec::with_capacity(red.len() * 3);
    let unit16 = |bits: u64, shift: u32| ((bits >> shift) & 0xFFFF) as f32 * (1.0 / 65536.0);
    for ((&r, &g), &b) in red.iter().zip(green).zip(blue) {
        let c = [r, g, b];
        let luma = clamp01(0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]);
        let s = sigma * (0.6 + 0.4 * luma.sqrt());
        let a = rng.next_u64();
        let normal =
            (unit16(a, 0) + unit16(a, 16) + unit16(a, 32) + unit16(a, 48) - 2.0) * 1.732_050_8;
        let bits = rng.next_u64();
        for (k, value) in c.iter().enumerate() {
            let chroma = (unit16(bits, 16 * k as u32) - 0.5) * 3.464_101_6 * 0.4;
            let v = value + s * (normal + chroma);
            out.push((clamp01(v) * 255.0).round() as u8);
        }
    }
    out
}
