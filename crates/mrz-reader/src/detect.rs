//! Finding the MRZ: dark character-sized blobs, straight lines of them, three
//! parallel lines at the TD1 spacing, and a cell grid fitted to the blobs.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::geometry::{Grid, LineMap};
use crate::gray::{Gray, Luma};
use crate::templates::{CAP_RATIO, LINE_RATIO};

/// Detection runs on an image about this wide (block-averaged down).
const WORK_WIDTH: usize = 640;
/// Candidate grids returned, best first.
const MAX_CANDIDATES: usize = 3;

#[derive(Clone, Copy, Debug)]
struct Blob {
    cx: f64,
    cy: f64,
    w: f64,
    h: f64,
}

#[derive(Clone, Debug)]
struct Line {
    /// Unit direction (left to right) and normal (pointing down).
    dir: (f64, f64),
    normal: (f64, f64),
    /// Offset along the normal of the line through the blob centres.
    offset: f64,
    /// Member blobs sorted along `dir`.
    members: Vec<usize>,
    /// Capital height estimate (upper quartile of member heights; the
    /// bounding boxes of rotated characters make it an over-estimate).
    cap: f64,
    /// Character pitch: median spacing of consecutive members (rotation-proof).
    pitch: f64,
    t_min: f64,
    t_max: f64,
}

/// What detection found: candidate cell grids (column, line) → full-resolution
/// pixels, best first; and the reduced photograph it worked on, which the
/// reader reuses when it samples the strips at the same reduction.
#[derive(Debug)]
pub(crate) struct Found {
    pub(crate) grids: Vec<Grid>,
    pub(crate) reduced: Option<(usize, Gray)>,
}

pub(crate) fn find_mrz(gray: &Luma<'_>) -> Found {
    let factor = (gray.w / WORK_WIDTH).max(1);
    let work = if factor == 1 {
        // Full-resolution noise would break strokes into specks.
        gray.box_mean3()
    } else {
        gray.downscale(factor)
    };
    let blobs = blobs(&work);
    let lines = lines(&blobs);
    let mut triples = triples(&lines);
    triples.truncate(MAX_CANDIDATES);
    let scale = factor as f64;
    let grids = triples
        .iter()
        .filter_map(|t| grid(&blobs, &lines, t, scale))
        .collect();
    Found {
        grids,
        reduced: (factor > 1).then_some((factor, work)),
    }
}

/// Dark blobs (locally adaptive threshold, 8-connected components) of plausible character size.
fn blobs(work: &Gray) -> Vec<Blob> {
    let (w, h) = (work.w, work.h);
    // Local statistics vary slowly: computed at half resolution (25-pixel window).
    let half = work.downscale(2);
    let (mean, std) = half.box_mean_std(6);
    let threshold: Vec<f32> = mean
        .iter()
        .zip(&std)
        .map(|(m, s)| m - (0.5 * s).max(6.0))
        .collect();
    let max_h = (h as f64 * 0.08).max(8.0);
    // Each half-resolution threshold row spread to full width once.
    let mut spread = vec![0.0f32; w];
    let mut spread_row = usize::MAX;
    components(w, h, |y, dark| {
        let hy = (y / 2).min(half.h - 1);
        if hy != spread_row {
            let row = &threshold[hy * half.w..(hy + 1) * half.w];
            for (x, t) in spread.iter_mut().enumerate() {
                *t = row[(x / 2).min(half.w - 1)];
            }
            spread_row = hy;
        }
        for ((d, p), t) in dark
            .iter_mut()
            .zip(&work.data[y * w..(y + 1) * w])
            .zip(&spread)
        {
            *d = p < t;
        }
    })
    .into_iter()
    .filter_map(|c| {
        let bw = (c.x1 - c.x0 + 1) as f64;
        let bh = (c.y1 - c.y0 + 1) as f64;
        let plausible = bh >= 3.0 && bh <= max_h && bw <= 4.0 * bh + 2.0 && c.area >= 4;
        plausible.then(|| Blob {
            cx: (c.x0 + c.x1 + 1) as f64 / 2.0,
            cy: (c.y0 + c.y1 + 1) as f64 / 2.0,
            w: bw,
            h: bh,
        })
    })
    .collect()
}

/// A connected component's bounding box (inclusive) and pixel count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Component {
    x0: usize,
    x1: usize,
    y0: usize,
    y1: usize,
    area: usize,
}

/// The 8-connected components of the dark pixels (`dark(y, row)` marks row
/// `y`'s), in the raster order of their first pixel. Runs of each row are joined to the runs
/// they touch in the row above (union–find over runs, the smaller index as
/// root): a pass over the image instead of a flood fill pixel by pixel.
fn components(w: usize, h: usize, mut dark: impl FnMut(usize, &mut [bool])) -> Vec<Component> {
    let mut row = vec![false; w];
    // (row, first column, last column)
    let mut runs: Vec<(usize, usize, usize)> = Vec::new();
    let mut parent: Vec<u32> = Vec::new();
    fn root(parent: &mut [u32], mut i: u32) -> u32 {
        while parent[i as usize] != i {
            let up = parent[parent[i as usize] as usize];
            parent[i as usize] = up;
            i = up;
        }
        i
    }
    let mut above = 0..0;
    for y in 0..h {
        let first = runs.len();
        dark(y, &mut row);
        let mut x = 0;
        while x < w {
            // Paper is most of a row: skip it eight pixels at a time.
            if x + 8 <= w && row[x..x + 8] == [false; 8] {
                x += 8;
                continue;
            }
            if !row[x] {
                x += 1;
                continue;
            }
            let start = x;
            while x < w && row[x] {
                x += 1;
            }
            runs.push((y, start, x - 1));
        }
        let mut j = above.start;
        for i in first..runs.len() {
            let (_, a0, a1) = runs[i];
            parent.push(i as u32);
            // Runs above that end left of this one's reach touch no later run either.
            while j < above.end && runs[j].2 + 1 < a0 {
                j += 1;
            }
            let mut k = j;
            while k < above.end && runs[k].1 <= a1 + 1 {
                let (ra, rb) = (root(&mut parent, i as u32), root(&mut parent, k as u32));
                if ra != rb {
                    let (low, high) = (ra.min(rb), ra.max(rb));
                    parent[high as usize] = low;
                }
                k += 1;
            }
        }
        above = first..runs.len();
    }
    let mut id = vec![u32::MAX; runs.len()];
    let mut out: Vec<Component> = Vec::new();
    for (i, &(y, x0, x1)) in runs.iter().enumerate() {
        let r = root(&mut parent, i as u32) as usize;
        if r == i {
            id[i] = out.len() as u32;
            out.push(Component {
                x0,
                x1,
                y0: y,
                y1: y,
                area: x1 - x0 + 1,
            });
        } else {
            let c = &mut out[id[r] as usize];
            c.x0 = c.x0.min(x0);
            c.x1 = c.x1.max(x1);
            c.y1 = y;
            c.area += x1 - x0 + 1;
        }
    }
    out
}

/// Straight lines of similar blobs, greedily, longest first.
fn lines(blobs: &[Blob]) -> Vec<Line> {
    let index = BlobIndex::new(blobs);
    let mut order: Vec<usize> = (0..blobs.len()).collect();
    order.sort_by(|&a, &b| blobs[a].cx.total_cmp(&blobs[b].cx));
    // Hypotheses: each blob with its nearest plausible right-hand neighbours.
    let max_slope = 40f64.to_radians().tan();
    let mut hypotheses = Vec::new();
    for (oi, &i) in order.iter().enumerate() {
        let a = blobs[i];
        let mut near: Vec<(f64, usize)> = Vec::new();
        for &j in &order[oi + 1..] {
            let b = blobs[j];
            let reach = 3.0 * a.h.max(b.h);
            if b.cx - a.cx > reach {
                break;
            }
            let (dx, dy) = (b.cx - a.cx, b.cy - a.cy);
            if dx <= 0.0 || dy.abs() > max_slope * dx {
                continue;
            }
            let ratio = a.h / b.h;
            if !(0.5..=2.0).contains(&ratio) {
                continue;
            }
            near.push((dx.hypot(dy), j));
        }
        near.sort_by(|x, y| x.0.total_cmp(&y.0));
        for &(_, j) in near.iter().take(2) {
            hypotheses.push((i, j));
        }
    }
    let mut scored: Vec<(f64, Line)> = hypotheses
        .iter()
        .filter_map(|&(i, j)| {
            let (a, b) = (blobs[i], blobs[j]);
            let line = line_through(
                blobs,
                &index,
                (a.cx, a.cy),
                (b.cx - a.cx, b.cy - a.cy),
                a.h.max(b.h),
                i,
            )?;
            // Two blobs give a rough angle; refitting on the members converges on the line.
            let mut line = line;
            for _ in 0..3 {
                let next = refit(blobs, &index, &line, i)?;
                let same = next.members == line.members;
                line = next;
                if same {
                    break;
                }
            }
            Some((fit_score(blobs, &line), line))
        })
        .filter(|(_, l)| l.members.len() >= 6)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut used = vec![false; blobs.len()];
    let mut out: Vec<Line> = Vec::new();
    for (_, line) in scored {
        let fresh: Vec<usize> = line.members.iter().copied().filter(|&m| !used[m]).collect();
        if fresh.len() * 10 < line.members.len() * 8 {
            continue;
        }
        for &m in &line.members {
            used[m] = true;
        }
        out.push(line);
        if out.len() >= 40 {
            break;
        }
    }
    out
}

/// Blob centres bucketed on a coarse square grid, so that the blobs near a
/// line are looked for in the cells it crosses rather than among all blobs
/// (a noisy photograph has hundreds, and every line hypothesis asks).
struct BlobIndex {
    cell: f64,
    cols: usize,
    rows: usize,
    /// Blob indices by cell (row-major), each cell's in ascending order.
    start: Vec<usize>,
    members: Vec<usize>,
    /// Blobs along lines already asked for (see `line_through`).
    seen: RefCell<HashMap<LineKey, Vec<(f64, usize)>>>,
}

/// A line asked for: the bits of its point, direction and character height.
type LineKey = [u64; 5];

impl BlobIndex {
    const CELL: f64 = 16.0;

    fn new(blobs: &[Blob]) -> Self {
        let cell = Self::CELL;
        let extent = |f: fn(&Blob) -> f64| blobs.iter().map(f).fold(0.0f64, f64::max);
        let cols = (extent(|b| b.cx) / cell) as usize + 1;
        let rows = (extent(|b| b.cy) / cell) as usize + 1;
        let at = |b: &Blob| {
            let (c, r) = ((b.cx / cell) as usize, (b.cy / cell) as usize);
            r.min(rows - 1) * cols + c.min(cols - 1)
        };
        let mut start = vec![0usize; cols * rows + 1];
        for b in blobs {
            start[at(b) + 1] += 1;
        }
        for i in 0..cols * rows {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut members = vec![0usize; blobs.len()];
        for (k, b) in blobs.iter().enumerate() {
            let cell = at(b);
            members[fill[cell]] = k;
            fill[cell] += 1;
        }
        BlobIndex {
            cell,
            cols,
            rows,
            start,
            members,
            seen: RefCell::new(HashMap::new()),
        }
    }

    /// Every blob whose centre may lie within `tol` of the line through `p`
    /// along the unit vector `dir` (and some farther), in no particular order.
    fn near_line(&self, p: (f64, f64), dir: (f64, f64), tol: f64) -> Vec<usize> {
        let mut out = Vec::new();
        // A pixel of slack: the caller applies the exact test.
        let tol = tol + 1.0;
        let flat = dir.0.abs() >= dir.1.abs();
        // Walk the cells along the major axis; in each, the band's extent across.
        let (along, across, p_along, p_across, d_along, d_across) = if flat {
            (self.cols, self.rows, p.0, p.1, dir.0, dir.1)
        } else {
            (self.rows, self.cols, p.1, p.0, dir.1, dir.0)
        };
        let slope = d_across / d_along;
        let per_cell = 1.0 / self.cell;
        let half = tol / d_along.abs();
        for a in 0..along {
            let (lo, hi) = (a as f64 * self.cell, (a + 1) as f64 * self.cell);
            let (y0, y1) = (
                p_across + (lo - p_along) * slope,
                p_across + (hi - p_along) * slope,
            );
            let (min, max) = (y0.min(y1) - half, y0.max(y1) + half);
            if max < 0.0 || min > (across as f64) * self.cell {
                continue;
            }
            // The cell is a power of two: multiplying by its inverse is exact.
            let first = (min.max(0.0) * per_cell) as usize;
            let last = ((max * per_cell) as usize).min(across - 1);
            for b in first..=last {
                let cell = if flat {
                    b * self.cols + a
                } else {
                    a * self.cols + b
                };
                out.extend_from_slice(&self.members[self.start[cell]..self.start[cell + 1]]);
            }
        }
        out
    }
}

/// Members weighted by how close their centres are to the line: a line that
/// slips from one MRZ line to the next across a gap has as many members as a
/// true one, but they sit off it.
fn fit_score(blobs: &[Blob], line: &Line) -> f64 {
    let tol = 0.3 * line.cap;
    line.members
        .iter()
        .map(|&k| {
            let b = &blobs[k];
            let r = (b.cx * line.normal.0 + b.cy * line.normal.1 - line.offset) / tol;
            (1.0 - r * r).max(0.0)
        })
        .sum()
}

/// Blobs near the line through `p` along `d`, of a height compatible with `h`,
/// in the contiguous run (no gap over 3 heights) that holds `seed`.
fn line_through(
    blobs: &[Blob],
    index: &BlobIndex,
    p: (f64, f64),
    d: (f64, f64),
    h: f64,
    seed: usize,
) -> Option<Line> {
    let len = d.0.hypot(d.1);
    if len < 1e-9 {
        return None;
    }
    let dir = (d.0 / len, d.1 / len);
    let normal = (-dir.1, dir.0);
    let close = |b: &Blob| {
        let off = (b.cx - p.0) * normal.0 + (b.cy - p.1) * normal.1;
        off.abs() < 0.3 * h && b.h > 0.3 * h && b.h < 1.5 * h
    };
    // The line is about the seed's run: without the seed there is nothing to find.
    if !close(&blobs[seed]) {
        return None;
    }
    // Lines refitted on the same members are the same line: asked again by
    // every seed in them, answered once.
    let key = [p.0, p.1, d.0, d.1, h].map(f64::to_bits);
    let mut cache = index.seen.borrow_mut();
    let near = cache.entry(key).or_insert_with(|| {
        let candidates = index.near_line(p, dir, 0.3 * h);
        let mut near: Vec<(f64, usize)> = Vec::with_capacity(candidates.len());
        near.extend(
            candidates
                .into_iter()
                .filter(|&k| close(&blobs[k]))
                .map(|k| {
                    let b = &blobs[k];
                    ((b.cx - p.0) * dir.0 + (b.cy - p.1) * dir.1, k)
                }),
        );
        // Along the line; blobs at the same place in the order of their index.
        near.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        near
    });
    let at = near.iter().position(|&(_, k)| k == seed)?;
    // Within the MRZ blobs follow each other at one pitch (two where one is lost).
    let gap = 2.4 * h;
    let mut lo = at;
    while lo > 0 && near[lo].0 - near[lo - 1].0 <= gap {
        lo -= 1;
    }
    let mut hi = at;
    while hi + 1 < near.len() && near[hi + 1].0 - near[hi].0 <= gap {
        hi += 1;
    }
    let members: Vec<usize> = near[lo..=hi].iter().map(|&(_, k)| k).collect();
    let mut heights: Vec<f64> = members.iter().map(|&k| blobs[k].h).collect();
    heights.sort_by(f64::total_cmp);
    let cap = heights[(heights.len() * 3) / 4];
    let mut steps: Vec<f64> = near[lo..=hi]
        .windows(2)
        .map(|w| w[1].0 - w[0].0)
        .filter(|&d| d > 0.4 * cap && d < 1.6 * cap / CAP_RATIO)
        .collect();
    steps.sort_by(f64::total_cmp);
    let pitch = steps
        .get(steps.len() / 2)
        .copied()
        .unwrap_or(cap / CAP_RATIO);
    Some(Line {
        dir,
        normal,
        offset: p.0 * normal.0 + p.1 * normal.1,
        t_min: near[lo].0,
        t_max: near[hi].0,
        members,
        cap,
        pitch,
    })
}

/// Least-squares line through the full-height members, then the members again.
fn refit(blobs: &[Blob], index: &BlobIndex, line: &Line, seed: usize) -> Option<Line> {
    let tall: Vec<&Blob> = line
        .members
        .iter()
        .map(|&k| &blobs[k])
        .filter(|b| b.h >= 0.75 * line.cap)
        .collect();
    if tall.len() < 3 {
        return Some(line.clone());
    }
    let n = tall.len() as f64;
    let mx = tall.iter().map(|b| b.cx).sum::<f64>() / n;
    let my = tall.iter().map(|b| b.cy).sum::<f64>() / n;
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for b in &tall {
        let (dx, dy) = (b.cx - mx, b.cy - my);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    let angle = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    let d = (angle.cos(), angle.sin());
    let d = if d.0 < 0.0 { (-d.0, -d.1) } else { d };
    line_through(blobs, index, (mx, my), d, line.cap, seed).or_else(|| Some(line.clone()))
}

/// Three lines at the TD1 spacing, best (most blobs) first.
fn triples(lines: &[Line]) -> Vec<[usize; 3]> {
    let mut sorted: Vec<usize> = (0..lines.len()).collect();
    let reference = lines.first().map_or((0.0, 1.0), |l| l.normal);
    let key = |l: &Line| l.offset * (l.normal.0 * reference.0 + l.normal.1 * reference.1);
    sorted.sort_by(|&a, &b| key(&lines[a]).total_cmp(&key(&lines[b])));
    let compatible = |a: &Line, b: &Line| {
        let cos = a.dir.0 * b.dir.0 + a.dir.1 * b.dir.1;
        if cos < 10f64.to_radians().cos() {
            return false;
        }
        let cap = a.cap.max(b.cap);
        if a.cap.min(b.cap) < 0.6 * cap {
            return false;
        }
        // Distance between the lines, measured from the middle of `a`.
        let tm = (a.t_min + a.t_max) / 2.0;
        let pa = (
            a.offset * a.normal.0 + tm * a.dir.0,
            a.offset * a.normal.1 + tm * a.dir.1,
        );
        let dist = (pa.0 * b.normal.0 + pa.1 * b.normal.1 - b.offset).abs();
        let expected = a.pitch.max(b.pitch) * LINE_RATIO;
        if dist < 0.75 * expected || dist > 1.35 * expected {
            return false;
        }
        // Overlapping along the lines.
        let (b0, b1) = project_range(b, a);
        b0.max(a.t_min) < b1.min(a.t_max)
    };
    let mut out: Vec<(f64, [usize; 3])> = Vec::new();
    for (ia, &a) in sorted.iter().enumerate() {
        for (ib, &b) in sorted.iter().enumerate().skip(ia + 1) {
            if !compatible(&lines[a], &lines[b]) {
                continue;
            }
            for &c in sorted.iter().skip(ib + 1) {
                if !compatible(&lines[b], &lines[c]) {
                    continue;
                }
                // The MRZ is the largest text on the back: members count by their pitch.
                let weight = |l: &Line| l.members.len().min(32) as f64 * l.pitch;
                let count =
                    lines[a].members.len() + lines[b].members.len() + lines[c].members.len();
                if count >= 40 {
                    out.push((
                        weight(&lines[a]) + weight(&lines[b]) + weight(&lines[c]),
                        [a, b, c],
                    ));
                }
            }
        }
    }
    out.sort_by(|a, b| b.0.total_cmp(&a.0));
    out.into_iter().map(|(_, t)| t).collect()
}

/// `b`'s extent in `a`'s coordinate along the line.
fn project_range(b: &Line, a: &Line) -> (f64, f64) {
    let point = |t: f64| {
        (
            b.offset * b.normal.0 + t * b.dir.0,
            b.offset * b.normal.1 + t * b.dir.1,
        )
    };
    let along = |p: (f64, f64)| p.0 * a.dir.0 + p.1 * a.dir.1;
    let (x, y) = (along(point(b.t_min)), along(point(b.t_max)));
    (x.min(y), x.max(y))
}

/// Column of every member of a line: walks along it at the local pitch, with
/// blobs wider than a character counted as several (merged by blur).
fn columns(blobs: &[Blob], line: &Line) -> Vec<(usize, f64, usize)> {
    let pitch0 = line.pitch;
    let t = |k: usize| {
        let b = &blobs[k];
        b.cx * line.dir.0 + b.cy * line.dir.1
    };
    let width = |k: usize| {
        let b = &blobs[k];
        // Extent along the line of the bounding box.
        b.w * line.dir.0.abs() + b.h * line.dir.1.abs()
    };
    let mut out = Vec::new();
    let mut pitch = pitch0;
    let mut previous: Option<(f64, f64)> = None; // (t, centre column)
    for &k in &line.members {
        let wk = width(k);
        let cells = if wk > 1.35 * pitch {
            ((wk / pitch) + 0.2).round().max(2.0)
        } else {
            1.0
        };
        let centre = match previous {
            None => (cells - 1.0) / 2.0,
            Some((pt, pc)) => {
                let step = (t(k) - pt) / pitch;
                let start = (pc + step - (cells - 1.0) / 2.0).round();
                let centre = start + (cells - 1.0) / 2.0;
                if cells == 1.0 && (centre - pc - 1.0).abs() < 1e-9 {
                    pitch = 0.7 * pitch + 0.3 * (t(k) - pt);
                }
                centre
            }
        };
        previous = Some((t(k), centre));
        out.push((k, centre, cells as usize));
    }
    out
}

/// Maps each line of a triple on its own: its blobs' columns from the walk
/// (first blob = column 1; the reader re-aligns lines whose ends were missed
/// or overrun), a 1-D projective fit of position against column, outliers out.
fn grid(blobs: &[Blob], lines: &[Line], triple: &[usize; 3], scale: f64) -> Option<Grid> {
    let mut maps = Vec::with_capacity(3);
    for &l in triple {
        let line = &lines[l];
        let origin = (
            line.offset * line.normal.0 * scale,
            line.offset * line.normal.1 * scale,
        );
        let mut points: Vec<(f64, f64)> = columns(blobs, line)
            .into_iter()
            .filter(|&(k, _, cells)| cells == 1 && blobs[k].h >= 0.75 * line.cap)
            .map(|(k, centre, _)| {
                let b = &blobs[k];
                let (x, y) = (b.cx * scale - origin.0, b.cy * scale - origin.1);
                (centre, x * line.dir.0 + y * line.dir.1)
            })
            .collect();
        let mut abc = None;
        for _ in 0..2 {
            let fit = LineMap::fit_abc(&points)?;
            let map = LineMap {
                origin,
                dir: line.dir,
                normal: line.normal,
                abc: fit,
            };
            abc = Some(fit);
            let pitch = line.pitch * scale;
            let t = |col: f64| (fit.0 + fit.1 * col) / (1.0 + fit.2 * col);
            let kept: Vec<(f64, f64)> = points
                .iter()
                .copied()
                .filter(|&(col, pos)| (t(col) - pos).abs() < 0.35 * pitch)
                .collect();
            let _ = map;
            if kept.len() == points.len() || kept.len() < 6 {
                break;
            }
            points = kept;
        }
        maps.push(LineMap {
            origin,
            dir: line.dir,
            normal: line.normal,
            abc: abc?,
        });
    }
    Some(Grid::Lines([maps[0], maps[1], maps[2]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Flood fill, pixel by pixel: the reference the run-based labelling must equal.
    fn flood_fill(w: usize, h: usize, dark: &[bool]) -> Vec<Component> {
        let mut seen = vec![false; w * h];
        let mut out = Vec::new();
        for start in 0..w * h {
            if !dark[start] || seen[start] {
                continue;
            }
            seen[start] = true;
            let mut stack = vec![start];
            let mut c = Component {
                x0: usize::MAX,
                x1: 0,
                y0: usize::MAX,
                y1: 0,
                area: 0,
            };
            while let Some(p) = stack.pop() {
                let (x, y) = (p % w, p / w);
                c.area += 1;
                c.x0 = c.x0.min(x);
                c.x1 = c.x1.max(x);
                c.y0 = c.y0.min(y);
                c.y1 = c.y1.max(y);
                for ny in y.saturating_sub(1)..(y + 2).min(h) {
                    for nx in x.saturating_sub(1)..(x + 2).min(w) {
                        let q = ny * w + nx;
                        if dark[q] && !seen[q] {
                            seen[q] = true;
                            stack.push(q);
                        }
                    }
                }
            }
            out.push(c);
        }
        out
    }

    #[test]
    fn run_labelling_equals_a_flood_fill() {
        // Masks from sparse to dense, with U shapes and diagonals that join
        // runs late (a component whose root changes after its first rows).
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for case in 0..300 {
            let (w, h) = (1 + (next() % 40) as usize, 1 + (next() % 30) as usize);
            let density = 5 + case % 60;
            let dark: Vec<bool> = (0..w * h).map(|_| next() % 100 < density).collect();
            let runs = components(w, h, |y, row| {
                row.copy_from_slice(&dark[y * w..(y + 1) * w])
            });
            assert_eq!(runs, flood_fill(w, h, &dark), "case {case}: {w}×{h}");
        }
        let u = [
            "#...#..#", //
            "#...#.#.", //
            "#####...", //
        ];
        let (w, h) = (8, 3);
        let dark: Vec<bool> = u.concat().bytes().map(|b| b == b'#').collect();
        let found = components(w, h, |y, row| {
            row.copy_from_slice(&dark[y * w..(y + 1) * w])
        });
        assert_eq!(found, flood_fill(w, h, &dark));
        assert_eq!(found.len(), 2);
    }
}
