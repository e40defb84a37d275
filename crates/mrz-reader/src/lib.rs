//! Reads the machine-readable zone (ICAO 9303 TD1, INE layout) on the back of
//! a credencial para votar from a photograph.
//!
//! The core does no I/O: it takes decoded pixels ([`ImageRef`]) and returns a
//! [`Reading`]. Character templates are rendered at start-up from the OCR-B
//! font embedded in the repository, so nothing is downloaded and the crate
//! builds for `wasm32-unknown-unknown`. The method and its limits are in
//! `docs/mrz-reader.md`.
//!
//! ```no_run
//! use apoyo_mrz_reader::{ImageRef, PixelFormat, Reader};
//! # fn pixels() -> (u32, u32, Vec<u8>) { (1, 1, vec![0]) }
//! let (width, height, bytes) = pixels();
//! let reader = Reader::new()?;
//! let image = ImageRef::new(width, height, PixelFormat::Gray, &bytes)?;
//! let reading = reader.read(&image)?;
//! if reading.accepted {
//!     println!("{}", reading.lines.join("\n"));
//! }
//! # Ok::<(), apoyo_mrz_reader::ReadError>(())
//! ```

mod classify;
mod decode;
mod detect;
mod geometry;
mod gray;
mod layout;
mod templates;

use classify::Strips;
use geometry::Grid;
pub use gray::{ImageRef, PixelFormat};
pub use layout::{LINE_LENGTH, LINES};

/// Why an image could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The pixel buffer does not match the stated size and format.
    #[error(
        "the pixel buffer holds {actual} bytes; {width}×{height} in {format:?} needs {expected}"
    )]
    BufferSize {
        width: u32,
        height: u32,
        format: PixelFormat,
        expected: usize,
        actual: usize,
    },
    /// Too small (or too large) to hold a readable MRZ.
    #[error("the image is {width}×{height}; an MRZ can be read from 64×48 up to 8192×8192 pixels")]
    Size { width: u32, height: u32 },
    /// No three parallel lines of MRZ-sized characters were found.
    #[error("no machine-readable zone was found in the image")]
    NotFound,
    /// The embedded font could not be used (a build defect, not an input problem).
    #[error("the embedded OCR-B font is unusable: {0}")]
    Font(String),
}

/// What the reader read.
#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    /// The three lines, 30 characters each, from the alphabet `0-9A-Z<`.
    pub lines: [String; 3],
    /// Per line, per character: how sure the reader is of that character (0–1).
    pub char_confidence: [Vec<f32>; 3],
    /// The least sure character's confidence (0–1).
    pub confidence: f32,
    /// The four check digits (CIC, birth date, expiry, composite) hold on `lines`.
    pub checks_hold: bool,
    /// `checks_hold`, and every character is sure enough to be used without a
    /// person looking at it (line 3, the names, has no check digit).
    pub accepted: bool,
    /// Characters the check digits made the reader change from its first choice.
    pub corrected: usize,
}

/// The reader: OCR-B templates rendered once, reused for every image.
#[derive(Debug)]
pub struct Reader {
    templates: templates::Templates,
}

impl Reader {
    /// Renders the character templates from the embedded OCR-B font (a few milliseconds).
    pub fn new() -> Result<Self, ReadError> {
        Ok(Reader {
            templates: templates::Templates::render()?,
        })
    }

    /// Finds the MRZ in `image`, reads it, and checks the reading.
    pub fn read(&self, image: &ImageRef<'_>) -> Result<Reading, ReadError> {
        let luma = gray::Luma::from_image(image);
        let found = detect::find_mrz(&luma);
        if found.grids.is_empty() {
            return Err(ReadError::NotFound);
        }
        let mut best: Option<(f32, Reading)> = None;
        let mut reduced: Vec<(usize, gray::Gray)> = found.reduced.into_iter().collect();
        for candidate in found.grids {
            // Strips are sampled at 16 pixels a character: from a reduced copy
            // when the photograph is much finer (fewer samples, same average).
            let factor =
                ((candidate.pitch() / templates::PITCH as f64).floor() as usize).clamp(1, 8);
            let read = if factor == 1 {
                self.read_at(&luma, factor, &candidate)
            } else {
                if !reduced.iter().any(|(f, _)| *f == factor) {
                    reduced.push((factor, luma.downscale(factor)));
                }
                let source = reduced.iter().find(|(f, _)| *f == factor).map(|(_, g)| g);
                source.and_then(|source| self.read_at(source, factor, &candidate))
            };
            let Some((score, reading)) = read else {
                continue;
            };
            let better = best.as_ref().is_none_or(|(s, r)| {
                (reading.accepted, reading.checks_hold, score) > (r.accepted, r.checks_hold, *s)
            });
            if better {
                best = Some((score, reading));
            }
            if best.as_ref().is_some_and(|(_, r)| r.accepted) {
                break;
            }
        }
        best.map(|(_, r)| r).ok_or(ReadError::NotFound)
    }

    /// Where each candidate grid puts the centres of cells (line 1, column 1),
    /// (line 1, column 30) and (line 3, column 1): for debugging detection.
    #[doc(hidden)]
    pub fn debug_grids(&self, image: &ImageRef<'_>) -> Result<Vec<[(f64, f64); 3]>, ReadError> {
        let luma = gray::Luma::from_image(image);
        Ok(detect::find_mrz(&luma)
            .grids
            .iter()
            .map(|g| [g.map(0, 0.0, 0.0), g.map(0, 29.0, 0.0), g.map(2, 0.0, 0.0)])
            .collect())
    }

    /// Reads the MRZ where `grid` puts it (in `source`, the photograph reduced
    /// `factor` times); with the mean match score.
    fn read_at<S: gray::Sample>(
        &self,
        source: &S,
        factor: usize,
        grid: &Grid,
    ) -> Option<(f32, Reading)> {
        let templates = &self.templates;
        // First pass: wide strips, lines re-aligned, every other cell matched
        // to refit the grid as one plane map.
        let strips = Strips::sample(source, factor, grid, classify::WIDE_MARGIN, 2)?;
        let offsets = classify::align(&strips, templates, grid);
        let blur = classify::pick_blur(&strips, templates, offsets);
        let sparse = classify::classify(&strips, templates, offsets, blur, true);
        let cells = match classify::refine(grid, &sparse, offsets) {
            // Second pass, on the refined grid: close strips, every cell.
            Some(refined) => {
                let grid = Grid::Plane(refined);
                let strips = Strips::sample(source, factor, &grid, classify::NARROW_MARGIN, 1)?;
                let offsets = classify::align(&strips, templates, &grid);
                classify::classify(&strips, templates, offsets, blur, false)
            }
            None => classify::classify(&strips, templates, offsets, blur, false),
        };
        Some((cells.mean_score(), decode::decode(&cells)))
    }
}
