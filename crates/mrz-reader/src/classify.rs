//! Rectified line strips and per-cell template matching.

use crate::geometry::{Grid, Homography};
use crate::gray::Sample;
use crate::layout::{CELLS, LINE_LENGTH, LINES, allowed};
use crate::templates::{BLURS, LINE_RATIO, PAD_X, PITCH, TEMPLATE_H, TEMPLATE_W, Templates, blur};

/// Pixels a character may sit off its grid position, either way, in each direction.
const SHIFT: usize = 3;
/// Columns sampled beyond each end of a line on the first pass: room to
/// re-align lines whose detected blobs missed characters at the ends or ran
/// on into a patterned table.
pub(crate) const WIDE_MARGIN: usize = 16;
/// On the second pass the grid is known to within a fraction of a column.
pub(crate) const NARROW_MARGIN: usize = 2;
const STRIP_H: usize = TEMPLATE_H + 2 * SHIFT;

/// The three lines sampled straight, as ink (0 = paper) at `PITCH` pixels per character.
#[derive(Debug)]
pub(crate) struct Strips {
    ink: Vec<Vec<f32>>,
    /// Columns sampled beyond each end of a line.
    margin: usize,
    width: usize,
    /// How far (pixels) each character is looked for around its grid position.
    reach: usize,
}

impl Strips {
    /// Samples the lines from `source`, which is the photograph reduced `factor` times.
    pub(crate) fn sample<S: Sample>(
        source: &S,
        factor: usize,
        grid: &Grid,
        margin: usize,
        reach: usize,
    ) -> Option<Strips> {
        let width = (LINE_LENGTH + 2 * margin) * PITCH;
        // Average several samples per strip pixel when the source is finer than the strip.
        let f = factor as f64;
        let scale = grid.pitch() / PITCH as f64 / f;
        let to_source = 1.0 / f;
        if !scale.is_finite() || scale <= 0.05 {
            return None;
        }
        // The wide first pass only places the lines: one sample per pixel is enough.
        let n = if margin >= WIDE_MARGIN {
            1
        } else {
            (scale.ceil() as usize).clamp(1, 3)
        };
        let line_px = PITCH as f64 * LINE_RATIO;
        let rows = STRIP_H * n;
        // Where each sub-row sits between the top and the bottom of a strip.
        let along: Vec<f64> = (0..rows)
            .map(|sv| (sv as f64 + 0.5) / rows as f64)
            .collect();
        let mut ink = Vec::with_capacity(LINES);
        let mut strip = vec![0.0f32; width * STRIP_H];
        for r in 0..LINES {
            strip.fill(0.0);
            // Across a strip (about one line pitch) the map is straight: map the
            // top and bottom of each sub-column and interpolate between them.
            let (y_top, y_bottom) = (
                -(STRIP_H as f64) / 2.0 / line_px,
                (STRIP_H as f64) / 2.0 / line_px,
            );
            for su in 0..width * n {
                let x = (su as f64 + 0.5) / (n * PITCH) as f64 - margin as f64 - 0.5;
                let top = grid.map(r, x, y_top);
                let bottom = grid.map(r, x, y_bottom);
                let top = (top.0 * to_source, top.1 * to_source);
                let bottom = (bottom.0 * to_source, bottom.1 * to_source);
                let (dx, dy) = (bottom.0 - top.0, bottom.1 - top.1);
                let u = su / n;
                for (v, sub_rows) in along.chunks_exact(n).enumerate() {
                    let mut sum = strip[v * width + u];
                    for &a in sub_rows {
                        let ix = top.0 + a * dx;
                        let iy = top.1 + a * dy;
                        sum += source.sample(ix, iy);
                    }
                    strip[v * width + u] = sum;
                }
            }
            let norm = 1.0 / (n * n) as f32;
            for p in strip.iter_mut() {
                *p *= norm;
            }
            ink.push(to_ink(&strip, width));
        }
        Some(Strips {
            ink,
            margin,
            width,
            reach: reach.min(SHIFT),
        })
    }
}

/// Ink relative to the local paper: `1 − gray / paper`, paper being the
/// brightest smoothed value around each column (shadows and glare vary slowly).
fn to_ink(strip: &[f32], width: usize) -> Vec<f32> {
    // Brightest 3 × 3 mean of each column (a single pixel's maximum is noise):
    // sums of three columns per row first, then of three rows.
    let mut across = vec![0.0f32; strip.len()];
    for (row, sums) in strip
        .chunks_exact(width)
        .zip(across.chunks_exact_mut(width))
    {
        for (u, s) in sums.iter_mut().enumerate() {
            let (u0, u1) = (u.saturating_sub(1), (u + 2).min(width));
            *s = row[u0..u1].iter().sum::<f32>();
        }
    }
    let column_max: Vec<f32> = (0..width)
        .map(|u| {
            let (u0, u1) = (u.saturating_sub(1), (u + 2).min(width));
            let cells = (3 * (u1 - u0)) as f32;
            (1..STRIP_H - 1)
                .map(|v| {
                    (across[(v - 1) * width + u]
                        + across[v * width + u]
                        + across[(v + 1) * width + u])
                        / cells
                })
                .fold(0.0f32, f32::max)
        })
        .collect();
    let r = PITCH;
    let mut paper: Vec<f32> = (0..width)
        .map(|u| {
            let (a, b) = (u.saturating_sub(r), (u + r + 1).min(width));
            column_max[a..b].iter().copied().fold(0.0f32, f32::max)
        })
        .collect();
    blur(&mut paper, width, 1, PITCH as f32 / 2.0);
    let mut ink = vec![0.0f32; strip.len()];
    for v in 0..STRIP_H {
        for u in 0..width {
            let p = paper[u].max(1.0);
            ink[v * width + u] = (1.0 - strip[v * width + u] / p).max(0.0);
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
            .fold(
                (0, f32::NEG_INFINITY),
                |acc, (c, &s)| if s > acc.1 { (c, s) } else { acc },
            )
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

/// Column shift of each line. Lines 1 and 2 go where their fixed characters
/// (`IDMEX`, `<<`, `MEX<`, …) match best; line 3, which has none, goes where
/// lines 1 and 2 put it (columns run straight down the MRZ), then to the
/// nearby shift with 30 inked cells between two blank ones (every MRZ cell
/// holds ink, and the card's margin beside the MRZ is blank).
pub(crate) fn align(strips: &Strips, templates: &Templates, grid: &Grid) -> [i32; 3] {
    let reach = strips.margin as i32 - 1;
    let fixed = fixed_cells();
    let mut offsets = [0i32; 3];
    for (line, offset) in offsets.iter_mut().enumerate().take(2) {
        let cells: Vec<(usize, usize)> = fixed
            .iter()
            .copied()
            .filter(|&(cell, _)| cell / LINE_LENGTH == line)
            .collect();
        let score_at = |s: i32| {
            let mut shifts = [0i32; 3];
            shifts[line] = s;
            cells
                .iter()
                .map(|&(cell, class)| {
                    match_cell(strips, templates, 1, cell, &[class], shifts, 1).0[0]
                })
                .sum::<f32>()
                / cells.len().max(1) as f32
        };
        // Where the fixed characters already match well, the line is in place.
        let here = score_at(0);
        let mut best = (0, here);
        if here < 0.75 {
            for s in (-reach..=reach).filter(|&s| s != 0) {
                let score = score_at(s) - 0.002 * s.abs() as f32;
                if score > best.1 {
                    best = (s, score);
                }
            }
        }
        *offset = best.0;
    }
    // Line 3 where lines 1 and 2 point, at both ends.
    let predicted: f64 = [0.0, 29.0]
        .iter()
        .map(|&col| {
            let p1 = grid.map(0, col + f64::from(offsets[0]), 0.0);
            let p2 = grid.map(1, col + f64::from(offsets[1]), 0.0);
            let want = (2.0 * p2.0 - p1.0, 2.0 * p2.1 - p1.1);
            // The column of line 3 nearest to `want`, to a tenth.
            let mut nearest = (0.0, f64::INFINITY);
            for tenth in (-10 * reach)..=(10 * (29 + reach)) {
                let x = f64::from(tenth) / 10.0;
                let q = grid.map(2, x, 0.0);
                let d = (q.0 - want.0).hypot(q.1 - want.1);
                if d < nearest.1 {
                    nearest = (x, d);
                }
            }
            nearest.0 - col
        })
        .sum::<f64>()
        / 2.0;
    let around = (predicted.round() as i32).clamp(-reach, reach);
    let ink = ink_per_cell(strips, 2);
    let typical = {
        let mut inside: Vec<f32> = (0..LINE_LENGTH)
            .map(|c| {
                ink[(c as i32 + strips.margin as i32 + around).clamp(0, ink.len() as i32 - 1)
                    as usize]
            })
            .collect();
        inside.sort_by(f32::total_cmp);
        inside[LINE_LENGTH / 2].max(1e-3)
    };
    let mut best = (around, f32::NEG_INFINITY);
    for s in (around - 1).max(-reach)..=(around + 1).min(reach) {
        let first = strips.margin as i32 + s;
        let inside: f32 = (first..first + LINE_LENGTH as i32)
            .map(|c| (ink[c as usize] / typical).min(1.0))
            .sum();
        let outside =
            (ink[(first - 1) as usize] + ink[(first + LINE_LENGTH as i32) as usize]) / typical;
        let score = inside - 3.0 * outside - 0.3 * (s - around).abs() as f32;
        if score > best.1 {
            best = (s, score);
        }
    }
    offsets[2] = best.0;
    offsets
}

/// Ink in the middle of each cell of a strip (central 60 % of its width and of the capitals).
fn ink_per_cell(strips: &Strips, line: usize) -> Vec<f32> {
    let ink = &strips.ink[line];
    let width = strips.width;
    (0..LINE_LENGTH + 2 * strips.margin)
        .map(|c| {
            let (u0, u1) = (c * PITCH + PITCH / 5, (c + 1) * PITCH - PITCH / 5);
            let (v0, v1) = (STRIP_H / 2 - PITCH / 3, STRIP_H / 2 + PITCH / 3);
            (v0..v1)
                .map(|v| ink[v * width + u0..v * width + u1].iter().sum::<f32>())
                .sum()
        })
        .collect()
}

/// The blur whose templates fit the fixed characters best.
pub(crate) fn pick_blur(strips: &Strips, templates: &Templates, offsets: [i32; 3]) -> usize {
    let fixed = fixed_cells();
    let mut best = (0, f32::NEG_INFINITY);
    for b in 0..BLURS.len() {
        let mean = fixed
            .iter()
            .map(|&(cell, class)| match_cell(strips, templates, b, cell, &[class], offsets, 1).0[0])
            .sum::<f32>()
            / fixed.len().max(1) as f32;
        if mean > best.1 {
            best = (b, mean);
        }
    }
    best.0
}

/// Scores every allowed class of every cell (`sparse`: only every other
/// column and the fixed cells, enough to refit the grid).
pub(crate) fn classify(
    strips: &Strips,
    templates: &Templates,
    offsets: [i32; 3],
    blur: usize,
    sparse: bool,
) -> Cells {
    let mut scores = Vec::with_capacity(CELLS);
    let mut shifts = Vec::with_capacity(CELLS);
    for cell in 0..CELLS {
        let classes = allowed(cell);
        let mut row = [f32::NEG_INFINITY; 37];
        if sparse && classes.len() > 1 && cell % 2 == 1 {
            scores.push(row);
            shifts.push((0, 0));
            continue;
        }
        let (s, shift) = match_cell(
            strips,
            templates,
            blur,
            cell,
            &classes,
            offsets,
            strips.reach,
        );
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
    offsets: [i32; 3],
    reach: usize,
) -> (Vec<f32>, (i32, i32)) {
    let line = cell / LINE_LENGTH;
    let col = (cell % LINE_LENGTH) as i32 + offsets[line];
    let first_u = (col + strips.margin as i32) * PITCH as i32 - (PAD_X + SHIFT) as i32;
    let last_u = first_u + (TEMPLATE_W + 2 * SHIFT) as i32;
    if first_u < 0 || last_u > strips.width as i32 {
        return (vec![-1.0; classes.len()], (0, 0));
    }
    let first_u = first_u as usize;
    let ink = &strips.ink[line];
    let width = strips.width;
    let mut best = vec![f32::NEG_INFINITY; classes.len()];
    let mut best_shift = (0, 0);
    let mut best_any = f32::NEG_INFINITY;
    let mut patch = vec![0.0f32; TEMPLATE_W * TEMPLATE_H];
    let n = patch.len() as f32;
    let reach = reach.min(SHIFT);
    let (lo, hi) = (SHIFT - reach, SHIFT + reach);
    for dy in lo..=hi {
        for dx in lo..=hi {
            let u0 = first_u + dx;
            for (y, out) in patch.chunks_exact_mut(TEMPLATE_W).enumerate() {
                out.copy_from_slice(&ink[(dy + y) * width + u0..][..TEMPLATE_W]);
            }
            // In eight lanes like the products (one running sum would make
            // every addition wait for the one before).
            let sum = lane_sum(&patch);
            let sq = dot(&patch, &patch);
            let var = sq - sum * sum / n;
            if var <= 1e-6 {
                continue;
            }
            let norm = var.sqrt();
            for (i, &class) in classes.iter().enumerate() {
                let t = &templates.by_blur[blur][class].pixels;
                let dot = dot(&patch, t);
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

/// Sum in eight independent lanes (see `dot`).
fn lane_sum(a: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let chunks = a.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().sum();
    for x in chunks {
        for i in 0..8 {
            lanes[i] += x[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// Dot product in eight independent lanes, which the compiler turns into SIMD
/// (a plain float sum must keep its order and stays scalar).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// Refits the grid on where well-matched characters were found.
pub(crate) fn refine(grid: &Grid, cells: &Cells, offsets: [i32; 3]) -> Option<Homography> {
    let line_px = PITCH as f64 * LINE_RATIO;
    let pairs: Vec<_> = (0..CELLS)
        .filter(|&cell| cells.best(cell).1 >= 0.6)
        .map(|cell| {
            let (col, line) = ((cell % LINE_LENGTH) as f64, (cell / LINE_LENGTH) as f64);
            let (dx, dy) = cells.shifts[cell];
            let shifted = col + f64::from(offsets[cell / LINE_LENGTH]);
            let seen = grid.map(
                cell / LINE_LENGTH,
                shifted + f64::from(dx) / PITCH as f64,
                f64::from(dy) / line_px,
            );
            ((col, line), seen)
        })
        .collect();
    if pairs.len() < 30 {
        return None;
    }
    let refined = Homography::fit(&pairs)?;
    Some(refined)
}
