//! OCR-B character templates, rendered from the font the repository embeds for
//! the synthetic cards (public domain; `crates/synth/data/fonts/README.md`).

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};

use crate::ReadError;
use crate::layout::ALPHABET;

const OCR_B: &[u8] = include_bytes!("../../synth/data/fonts/OCRB.otf");

/// Pixels per character pitch (2.54 mm) in the rectified strips.
pub(crate) const PITCH: usize = 16;
/// Line pitch over character pitch: 4.23 mm / 2.54 mm.
pub(crate) const LINE_RATIO: f64 = 4.23 / 2.54;
/// Capital height over character pitch: 2.42 mm / 2.54 mm (OCR-B size I).
pub(crate) const CAP_RATIO: f64 = 2.42 / 2.54;
/// Extra columns either side of a cell in a template.
pub(crate) const PAD_X: usize = 2;
pub(crate) const TEMPLATE_W: usize = PITCH + 2 * PAD_X;
pub(crate) const TEMPLATE_H: usize = 20;
/// Gaussian blurs (pixels at `PITCH`) the templates are rendered with: the
/// photograph's blur is unknown, so the reader picks the closest per image.
pub(crate) const BLURS: [f32; 4] = [0.45, 0.9, 1.4, 2.0];

/// One class at one blur: ink, zero mean, unit norm.
#[derive(Clone, Debug)]
pub(crate) struct Template {
    pub(crate) pixels: Vec<f32>,
}

#[derive(Debug)]
pub(crate) struct Templates {
    /// `by_blur[b][class]`.
    pub(crate) by_blur: Vec<Vec<Template>>,
}

impl Templates {
    pub(crate) fn render() -> Result<Self, ReadError> {
        let font = FontRef::try_from_slice(OCR_B).map_err(|e| ReadError::Font(e.to_string()))?;
        let cap_units = font
            .outline(font.glyph_id('H'))
            .map(|o| (o.bounds.max.y - o.bounds.min.y).abs())
            .filter(|&c| c > 0.0)
            .ok_or_else(|| ReadError::Font("no capital H".to_owned()))?;
        let cap_px = (CAP_RATIO * PITCH as f64) as f32;
        let scale = PxScale::from(cap_px * font.height_unscaled() / cap_units);
        let scaled = font.as_scaled(scale);
        let mut sharp = Vec::with_capacity(ALPHABET.len());
        for &c in ALPHABET {
            let id = font.glyph_id(char::from(c));
            if id.0 == 0 {
                return Err(ReadError::Font(format!("no glyph for {}", char::from(c))));
            }
            // As printed: centred in its cell by advance, capitals centred on the line.
            let advance = scaled.h_advance(id);
            let x = PAD_X as f32 + (PITCH as f32 - advance) / 2.0;
            let baseline = TEMPLATE_H as f32 / 2.0 + cap_px / 2.0;
            let glyph = id.with_scale_and_position(scale, point(x, baseline));
            let mut ink = vec![0.0f32; TEMPLATE_W * TEMPLATE_H];
            if let Some(outlined) = font.outline_glyph(glyph) {
                let bounds = outlined.px_bounds();
                let (bx, by) = (bounds.min.x as i64, bounds.min.y as i64);
                outlined.draw(|px, py, coverage| {
                    let (x, y) = (bx + i64::from(px), by + i64::from(py));
                    if (0..TEMPLATE_W as i64).contains(&x) && (0..TEMPLATE_H as i64).contains(&y) {
                        ink[y as usize * TEMPLATE_W + x as usize] += coverage;
                    }
                });
            }
            sharp.push(ink);
        }
        let by_blur = BLURS
            .iter()
            .map(|&sigma| {
                sharp
                    .iter()
                    .map(|ink| {
                        let mut pixels = ink.clone();
                        blur(&mut pixels, TEMPLATE_W, TEMPLATE_H, sigma);
                        normalize(&mut pixels);
                        Template { pixels }
                    })
                    .collect()
            })
            .collect();
        Ok(Templates { by_blur })
    }
}

/// Zero mean, unit norm (a flat template stays zero).
pub(crate) fn normalize(pixels: &mut [f32]) {
    let mean = pixels.iter().sum::<f32>() / pixels.len() as f32;
    for p in pixels.iter_mut() {
        *p -= mean;
    }
    let norm = pixels.iter().map(|p| p * p).sum::<f32>().sqrt();
    if norm > 1e-6 {
        for p in pixels.iter_mut() {
            *p /= norm;
        }
    }
}

/// Separable Gaussian blur, edges clamped.
pub(crate) fn blur(plane: &mut [f32], w: usize, h: usize, sigma: f32) {
    if sigma <= 0.05 {
        return;
    }
    let radius = (3.0 * sigma).ceil() as i64;
    let kernel: Vec<f32> = (-radius..=radius)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f32 = kernel.iter().sum();
    let kernel: Vec<f32> = kernel.iter().map(|k| k / total).collect();
    let r = radius as usize;
    let mut tmp = vec![0.0f32; plane.len()];
    for y in 0..h {
        let row = &plane[y * w..(y + 1) * w];
        for (x, t) in tmp[y * w..(y + 1) * w].iter_mut().enumerate() {
            *t = if x >= r && x + r < w {
                // Inside: no clamping, the same sum in the same order.
                kernel
                    .iter()
                    .zip(&row[x - r..])
                    .fold(0.0, |s, (k, p)| s + k * p)
            } else {
                kernel.iter().enumerate().fold(0.0, |s, (i, k)| {
                    let xx = (x as i64 + i as i64 - radius).clamp(0, w as i64 - 1) as usize;
                    s + k * row[xx]
                })
            };
        }
    }
    if h == 1 {
        // One row: blurring across it changes nothing.
        plane.copy_from_slice(&tmp);
        return;
    }
    for y in 0..h {
        for x in 0..w {
            let mut s = 0.0;
            for (i, k) in kernel.iter().enumerate() {
                let yy = (y as i64 + i as i64 - radius).clamp(0, h as i64 - 1) as usize;
                s += k * tmp[yy * w + x];
            }
            plane[y * w + x] = s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_character_has_a_distinct_template() {
        let templates = Templates::render().map_err(|e| e.to_string());
        let templates = match templates {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        let sharp = &templates.by_blur[0];
        for (i, a) in sharp.iter().enumerate() {
            let self_score: f32 = a.pixels.iter().map(|p| p * p).sum();
            assert!((self_score - 1.0).abs() < 1e-3, "{}", ALPHABET[i] as char);
            for (j, b) in sharp.iter().enumerate().skip(i + 1) {
                let ncc: f32 = a.pixels.iter().zip(&b.pixels).map(|(p, q)| p * q).sum();
                assert!(
                    ncc < 0.97,
                    "{} ~ {}: {ncc}",
                    ALPHABET[i] as char,
                    ALPHABET[j] as char
                );
            }
        }
    }
}
