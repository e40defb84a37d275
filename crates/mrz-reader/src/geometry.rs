//! Plane homographies: the MRZ's cell grid (column, line) to image pixels.

/// A grid point and where it is in the image.
pub(crate) type PointPair = ((f64, f64), (f64, f64));

/// A 3×3 projective map, row-major, normalised so that `m[8] == 1`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Homography {
    pub(crate) m: [f64; 9],
}

impl Homography {
    pub(crate) fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let m = &self.m;
        let w = m[6] * x + m[7] * y + m[8];
        let w = if w.abs() < 1e-12 { 1e-12 } else { w };
        (
            (m[0] * x + m[1] * y + m[2]) / w,
            (m[3] * x + m[4] * y + m[5]) / w,
        )
    }

    /// Least-squares fit of `to ≈ H(from)` on four or more pairs (normalised DLT with `h33 = 1`).
    pub(crate) fn fit(pairs: &[PointPair]) -> Option<Homography> {
        if pairs.len() < 4 {
            return None;
        }
        let from: Vec<(f64, f64)> = pairs.iter().map(|p| p.0).collect();
        let to: Vec<(f64, f64)> = pairs.iter().map(|p| p.1).collect();
        let (tf, nf) = normalizer(&from)?;
        let (tt, nt) = normalizer(&to)?;
        let mut ata = [[0.0f64; 8]; 8];
        let mut atb = [0.0f64; 8];
        for (a, b) in from.iter().zip(&to) {
            let (x, y) = (nf.0 * (a.0 - tf.0), nf.0 * (a.1 - tf.1));
            let (u, v) = (nt.0 * (b.0 - tt.0), nt.0 * (b.1 - tt.1));
            let rows = [
                ([x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y], u),
                ([0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y], v),
            ];
            for (row, rhs) in rows {
                for i in 0..8 {
                    atb[i] += row[i] * rhs;
                    for j in 0..8 {
                        ata[i][j] += row[i] * row[j];
                    }
                }
            }
        }
        let h = solve8(ata, atb)?;
        let n = Homography {
            m: [h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0],
        };
        // Undo the normalisations: H = T_to⁻¹ · N · T_from.
        let t_from = Homography {
            m: [
                nf.0,
                0.0,
                -nf.0 * tf.0,
                0.0,
                nf.0,
                -nf.0 * tf.1,
                0.0,
                0.0,
                1.0,
            ],
        };
        let t_to_inv = Homography {
            m: [1.0 / nt.0, 0.0, tt.0, 0.0, 1.0 / nt.0, tt.1, 0.0, 0.0, 1.0],
        };
        t_to_inv.mul(&n).mul(&t_from).normalized()
    }

    fn mul(&self, o: &Homography) -> Homography {
        let (a, b) = (&self.m, &o.m);
        let mut m = [0.0; 9];
        for r in 0..3 {
            for c in 0..3 {
                m[r * 3 + c] = (0..3).map(|k| a[r * 3 + k] * b[k * 3 + c]).sum();
            }
        }
        Homography { m }
    }

    fn normalized(&self) -> Option<Homography> {
        let s = self.m[8];
        if s.abs() < 1e-12 || self.m.iter().any(|v| !v.is_finite()) {
            return None;
        }
        Some(Homography {
            m: self.m.map(|v| v / s),
        })
    }

    /// Pixels per grid unit along x near the grid point (x, y).
    pub(crate) fn scale_x(&self, x: f64, y: f64) -> f64 {
        let (a, b) = (self.apply(x - 0.5, y), self.apply(x + 0.5, y));
        (a.0 - b.0).hypot(a.1 - b.1)
    }
}

/// One MRZ line seen on its own: a straight line in the image and a 1-D
/// projective map from column to position along it (perspective makes the
/// pitch vary along the line).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct LineMap {
    pub(crate) origin: (f64, f64),
    pub(crate) dir: (f64, f64),
    pub(crate) normal: (f64, f64),
    /// `t(col) = (a + b·col) / (1 + c·col)`.
    pub(crate) abc: (f64, f64, f64),
}

impl LineMap {
    fn t(&self, col: f64) -> f64 {
        let (a, b, c) = self.abc;
        (a + b * col) / (1.0 + c * col)
    }

    fn pitch(&self, col: f64) -> f64 {
        let (a, b, c) = self.abc;
        let d = 1.0 + c * col;
        ((b - c * a) / (d * d)).abs()
    }

    /// Least squares on `t·(1 + c·col) = a + b·col`; affine when perspective is not measurable.
    pub(crate) fn fit_abc(points: &[(f64, f64)]) -> Option<(f64, f64, f64)> {
        if points.len() < 3 {
            return None;
        }
        let mut ata = [[0.0f64; 3]; 3];
        let mut atb = [0.0f64; 3];
        for &(col, t) in points {
            let row = [1.0, col, -col * t];
            for i in 0..3 {
                atb[i] += row[i] * t;
                for j in 0..3 {
                    ata[i][j] += row[i] * row[j];
                }
            }
        }
        solve3(ata, atb).map(|x| (x[0], x[1], x[2]))
    }
}

/// Where the cells are: one plane map for the whole MRZ, or (before the first
/// refinement) one map per line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Grid {
    Plane(Homography),
    Lines([LineMap; 3]),
}

impl Grid {
    /// Image point of column `x` of `line`, `y` line pitches below its centre line.
    pub(crate) fn map(&self, line: usize, x: f64, y: f64) -> (f64, f64) {
        match self {
            Grid::Plane(h) => h.apply(x, line as f64 + y),
            Grid::Lines(lines) => {
                let l = &lines[line];
                let t = l.t(x);
                let across = y * l.pitch(x) * 4.23 / 2.54;
                (
                    l.origin.0 + t * l.dir.0 + across * l.normal.0,
                    l.origin.1 + t * l.dir.1 + across * l.normal.1,
                )
            }
        }
    }

    /// Pixels per column in the middle of the MRZ.
    pub(crate) fn pitch(&self) -> f64 {
        match self {
            Grid::Plane(h) => h.scale_x(14.5, 1.0),
            Grid::Lines(lines) => lines[1].pitch(14.5),
        }
    }
}

fn solve3(mut a: [[f64; 3]; 3], mut b: [f64; 3]) -> Option<[f64; 3]> {
    for col in 0..3 {
        let pivot = (col..3).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..3 {
            let f = a[row][col] / a[col][col];
            let pivot_row = a[col];
            for (x, p) in a[row].iter_mut().zip(pivot_row).skip(col) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; 3];
    for row in (0..3).rev() {
        let s: f64 = (row + 1..3).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    if x.iter().all(|v| v.is_finite()) {
        Some(x)
    } else {
        None
    }
}

/// Centroid and scale that bring points to mean distance √2 from the origin.
fn normalizer(points: &[(f64, f64)]) -> Option<((f64, f64), (f64, f64))> {
    let n = points.len() as f64;
    let cx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let cy = points.iter().map(|p| p.1).sum::<f64>() / n;
    let mean = points
        .iter()
        .map(|p| (p.0 - cx).hypot(p.1 - cy))
        .sum::<f64>()
        / n;
    if mean < 1e-9 {
        return None;
    }
    let s = std::f64::consts::SQRT_2 / mean;
    Some(((cx, cy), (s, s)))
}

/// Gaussian elimination with partial pivoting.
fn solve8(mut a: [[f64; 8]; 8], mut b: [f64; 8]) -> Option<[f64; 8]> {
    for col in 0..8 {
        let pivot = (col..8).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..8 {
            let f = a[row][col] / a[col][col];
            let pivot_row = a[col];
            for (x, p) in a[row].iter_mut().zip(pivot_row).skip(col) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; 8];
    for row in (0..8).rev() {
        let s: f64 = (row + 1..8).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fit_recovers_a_projective_map() {
        let truth = Homography {
            m: [12.0, 1.5, 100.0, -2.0, 20.0, 300.0, 0.001, -0.002, 1.0],
        };
        let pairs: Vec<_> = (0..30)
            .flat_map(|c| (0..3).map(move |r| (c as f64, r as f64)))
            .map(|p| (p, truth.apply(p.0, p.1)))
            .collect();
        let fit = Homography::fit(&pairs).unwrap_or(Homography { m: [0.0; 9] });
        for (p, q) in pairs {
            let r = fit.apply(p.0, p.1);
            assert!((r.0 - q.0).abs() < 1e-6 && (r.1 - q.1).abs() < 1e-6);
        }
    }
}
