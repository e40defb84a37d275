//! Rectified line strips and per-cell template matching.

use crate::geometry::Homography;
use crate::gray::Gray;
use crate::layout::{CELLS, LINE_LENGTH, LINES, allowed};
use crate::templates::{
    BLURS, LINE_RATIO, PAD_X, PITCH, TEMPLATE_H, TEMPLATE_W, Templates, blur,
};

/// Pixels a character may sit off its grid position, either way, in each direction.
const SHIFT: usize = 3;
const MARGIN_CELLS: usize = 1;
const STRIP_W: usize = (LINE_LENGTH + 2 * MARGIN_CELLS) * PITCH;
const STRIP_H: usize = TEMPLATE_H + 2 * SHIFT;

/// The three lines sampled straight, as ink (0 = paper) at `PITCH` pixels per character.
#[derive(Debug)]
pub(crate) struct Strips {
    ink: Vec<Vec<f32>>,
}

impl Strips {
    pub(crate) fn sample(gray: &Gray, h: &Homography) -> Option<Strips> {
        // Average several samples per strip pixel when the photograph is finer than the strip.
        let scale = h.scale_x(14.5, 1.0) / PITCH as f64;
        if !scale.is_finite() || scale <= 0.05 {
            return None;
        }
        let n = (scale.ceil() as usize).clamp(1, 4);
        let line_px = PITCH as f64 * LINE_RATIO;
        let mut ink = Vec::with_capacity(LINES);
        for r in 0..LINES {
            let mut strip = vec![0.0f32; STRIP_W * STRIP_H];
            for v in 0..STRIP_H {
                for u in 0..STRIP_W {
                    let mut sum = 0.0;
                    for sy in 0..n {
                        let vv = v as f64 + (sy as f64 + 0.5) / n as f64;
                        let y = r as f64 + (vv - STRIP_H as f64 / 2.0) / line_px;
                        for sx in 0..n {
                            let uu = u as f64 + (sx as f64 + 0.5) / n as f64;
                            let x = uu / PITCH as f64 - MARGIN_CELLS as f64 - 0.5;
                            let (ix, iy) = h.apply(x, y);
                            sum += gray.sample(ix, iy);
                        }
                    }
                    strip[v * STRIP_W + u] = sum / (n * n) as f32;
                }
            }
            ink.push(to_ink(&strip));
        }
        Some(Strips { ink })
    }
}

/// Ink relative to the local paper: `1 − gray / paper`, paper being the
/// brightest smoothed value around each column (shadows and glare vary slowly).
fn to_ink(strip: &[f32]) -> Vec<f32> {
    let mut smooth = strip.to_vec();
    blur(&mut smooth, STRIP_W, STRIP_H, 0.8);
    let column_max: Vec<f32> = (0..STRIP_W)
        .map(|u| {
            (0..STRIP_H)
                .map(|v| smooth[v * STRIP_W + u])
                .fold(0.0f32, f32::max)
        })
        .collect();
    let r = PITCH;
    let mut paper: Vec<f32> = (0..STRIP_W)
        .map(|u| {
            let (a, b) = (u.saturating_sub(r), (u + r + 1).min(STRIP_W));
            column_max[a..b].iter().copied().fold(0.0f32, f32::max)
        })
        .collect();
    blur(&mut paper, STRIP_W, 1, PITCH as f32 / 2.0);
    let mut ink = vec![0.0f32; strip.len()];
    for v in 0..STRIP_H {
        for u in 0..STRIP_W {
            let p = paper[u].max(1.0);
            ink[v * STRIP_W + u] = (1.0 - strip[v * STRIP_W + u] / p).max(0.0);
        }
    }
    ink
}

/// Match scores of every cell.
#[derive(Debug)]
pub(crate) struct Cells {
    /// `scores[cell][class]`: best normalised correlation over the shifts;
    /// `NEG_INFINITY` for classes the layout does not allow there.
    pub(crate) scores: Vec<[f32; 37]>,
    /// Where the best class matched: pixels off the grid position.
    pub(crate) shifts: Vec<(i32, i32)>,
}

impl Cells {
    pub(crate) fn best(&self, cell: usize) -> (usize, f32) {
        self.scores[cell]
            .iter()
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |acc, (c, &s)| if s > acc.1 { (c, s) } else { acc })
    }

    pub(crate) fn mean_score(&self) -> f32 {
        (0..CELLS).map(|c| self.best(c).1).sum::<f32>() / CELLS as f32
    }
}

/// Cells whose character is fixed by the layout: they pick the blur.
fn fixed_cells() -> Vec<(usize, usize)> {
    (0..CELLS)
        .filter_map(|cell| match allowed(cell).as_slice() {
            [only] => Some((cell, *only)),
            _ => None,
        })
        .collect()
}

pub(crate) fn classify(strips: &Strips, templates: &Templates) -> Cells {
    // The blur whose templates fit the fixed characters best.
    let fixed = fixed_cells();
    let mut best_blur = 0;
    let mut best_mean = f32::NEG_INFINITY;
    for b in 0..BLURS.len() {
        let mean = fixed
            .iter()
            .map(|&(cell, class)| match_cell(strips, templates, b, cell, &[class]).0[0])
            .sum::<f32>()
            / fixed.len().max(1) as f32;
        if mean > best_mean {
            best_mean = mean;
            best_blur = b;
        }
    }
    let mut scores = Vec::with_capacity(CELLS);
    let mut shifts = Vec::with_capacity(CELLS);
    for cell in 0..CELLS {
        let classes = allowed(cell);
        let (s, shift) = match_cell(strips, templates, best_blur, cell, &classes);
        let mut row = [f32::NEG_INFINITY; 37];
        for (&c, &v) in classes.iter().zip(&s) {
            row[c] = v;
        }
        scores.push(row);
        shifts.push(shift);
    }
    Cells { scores, shifts }
}

/// Best correlation of each class over the shifts, and the shift of the best class.
fn match_cell(
    strips: &Strips,
    templates: &Templates,
    blur: usize,
    cell: usize,
    classes: &[usize],
) -> (Vec<f32>, (i32, i32)) {
    let (line, col) = (cell / LINE_LENGTH, cell % LINE_LENGTH);
    let ink = &strips.ink[line];
    let mut best = vec![f32::NEG_INFINITY; classes.len()];
    let mut best_shift = (0, 0);
    let mut best_any = f32::NEG_INFINITY;
    let mut patch = vec![0.0f32; TEMPLATE_W * TEMPLATE_H];
    let n = patch.len() as f32;
    for dy in 0..=2 * SHIFT {
        for dx in 0..=2 * SHIFT {
            let u0 = (col + MARGIN_CELLS) * PITCH - PAD_X + dx - SHIFT;
            let mut sum = 0.0;
            let mut sq = 0.0;
            for y in 0..TEMPLATE_H {
                let row = &ink[(dy + y) * STRIP_W + u0..][..TEMPLATE_W];
                for (x, &p) in row.iter().enumerate() {
                    patch[y * TEMPLATE_W + x] = p;
                    sum += p;
                    sq += p * p;
                }
            }
            let var = sq - sum * sum / n;
            if var <= 1e-6 {
                continue;
            }
            let norm = var.sqrt();
            for (i, &class) in classes.iter().enumerate() {
                let t = &templates.by_blur[blur][class].pixels;
                let dot: f32 = patch.iter().zip(t).map(|(p, q)| p * q).sum();
                let score = dot / norm;
                if score > best[i] {
                    best[i] = score;
                }
                if score > best_any {
                    best_any = score;
                    best_shift = (dx as i32 - SHIFT as i32, dy as i32 - SHIFT as i32);
                }
            }
        }
    }
    for b in best.iter_mut() {
        if !b.is_finite() {
            *b = -1.0;
        }
    }
    (best, best_shift)
}

/// Refits the grid on where well-matched characters were found.
pub(crate) fn refine(h: &Homography, cells: &Cells) -> Option<Homography> {
    let line_px = PITCH as f64 * LINE_RATIO;
    let pairs: Vec<_> = (0..CELLS)
        .filter(|&cell| cells.best(cell).1 >= 0.6)
        .map(|cell| {
            let (col, line) = ((cell % LINE_LENGTH) as f64, (cell / LINE_LENGTH) as f64);
            let (dx, dy) = cells.shifts[cell];
            let seen = h.apply(col + f64::from(dx) / PITCH as f64, line + f64::from(dy) / line_px);
            ((col, line), seen)
        })
        .collect();
    if pairs.len() < 30 {
        return None;
    }
    let refined = Homography::fit(&pairs)?;
    // A refit that moves the grid by more than half a character is not a refinement.
    let pitch = h.scale_x(14.5, 1.0);
    for &(x, y) in &[(0.0, 0.0), (29.0, 0.0), (0.0, 2.0), (29.0, 2.0)] {
        let (a, b) = (h.apply(x, y), refined.apply(x, y));
        if (a.0 - b.0).hypot(a.1 - b.1) > 0.5 * pitch {
            return None;
        }
    }
    Some(refined)
}
