//! Decoded pixels in, one gray plane out.

use std::borrow::Cow;

use crate::ReadError;

/// How the bytes of an [`ImageRef`] are laid out (8 bits per channel, rows top to bottom).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelFormat {
    Gray,
    Rgb,
    Rgba,
}

impl PixelFormat {
    fn channels(self) -> usize {
        match self {
            PixelFormat::Gray => 1,
            PixelFormat::Rgb => 3,
            PixelFormat::Rgba => 4,
        }
    }
}

/// A decoded image the reader borrows.
#[derive(Clone, Copy, Debug)]
pub struct ImageRef<'a> {
    width: u32,
    height: u32,
    format: PixelFormat,
    bytes: &'a [u8],
}

const MIN_WIDTH: u32 = 64;
const MIN_HEIGHT: u32 = 48;
const MAX_SIDE: u32 = 8192;

impl<'a> ImageRef<'a> {
    /// Checks that `bytes` holds exactly `width × height` pixels of `format`.
    pub fn new(
        width: u32,
        height: u32,
        format: PixelFormat,
        bytes: &'a [u8],
    ) -> Result<Self, ReadError> {
        if width < MIN_WIDTH || height < MIN_HEIGHT || width > MAX_SIDE || height > MAX_SIDE {
            return Err(ReadError::Size { width, height });
        }
        let expected = width as usize * height as usize * format.channels();
        if bytes.len() != expected {
            return Err(ReadError::BufferSize {
                width,
                height,
                format,
                expected,
                actual: bytes.len(),
            });
        }
        Ok(ImageRef {
            width,
            height,
            format,
            bytes,
        })
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }
}

/// The photograph's gray plane at full resolution, 8 bits a pixel: borrowed
/// when the image is gray already (no full-size float copy is ever made; the
/// stages that need floats work on reduced copies).
#[derive(Clone, Debug)]
pub(crate) struct Luma<'a> {
    pub(crate) w: usize,
    pub(crate) h: usize,
    data: Cow<'a, [u8]>,
}

impl<'a> Luma<'a> {
    pub(crate) fn from_image(image: &ImageRef<'a>) -> Self {
        let (w, h) = (image.width as usize, image.height as usize);
        let data = match image.format {
            PixelFormat::Gray => Cow::Borrowed(image.bytes),
            PixelFormat::Rgb | PixelFormat::Rgba => Cow::Owned(
                image
                    .bytes
                    .chunks_exact(image.format.channels())
                    .map(|p| {
                        let y = 0.299 * f32::from(p[0])
                            + 0.587 * f32::from(p[1])
                            + 0.114 * f32::from(p[2]);
                        y.round().clamp(0.0, 255.0) as u8
                    })
                    .collect(),
            ),
        };
        Luma { w, h, data }
    }

    /// Averages `factor × factor` blocks (`factor` 1 is a plain float copy).
    pub(crate) fn downscale(&self, factor: usize) -> Gray {
        match factor {
            0 | 1 => self.downscale_by::<1>(),
            2 => self.downscale_by::<2>(),
            3 => self.downscale_by::<3>(),
            4 => self.downscale_by::<4>(),
            5 => self.downscale_by::<5>(),
            6 => self.downscale_by::<6>(),
            7 => self.downscale_by::<7>(),
            _ => self.downscale_by::<8>(),
        }
    }

    /// The block size a constant, so that the inner sums unroll.
    fn downscale_by<const F: usize>(&self) -> Gray {
        let (w, h) = (self.w / F, self.h / F);
        let mut data = vec![0.0f32; w * h];
        let norm = 1.0 / (F * F) as f32;
        for y in 0..h {
            let out = &mut data[y * w..(y + 1) * w];
            for dy in 0..F {
                let row = &self.data[(y * F + dy) * self.w..][..w * F];
                // Row sums of bytes are exact in integers; one rounding per row,
                // as when the plane was summed in floats.
                for (o, block) in out.iter_mut().zip(row.chunks_exact(F)) {
                    let sum: u32 = block.iter().map(|&b| u32::from(b)).sum();
                    *o += sum as f32 * norm;
                }
            }
        }
        Gray { w, h, data }
    }
}

impl Luma<'_> {
    /// Mean over each pixel's 3 × 3 neighbourhood (shrunk at the borders):
    /// integer sums, one division.
    pub(crate) fn box_mean3(&self) -> Gray {
        let (w, h) = (self.w, self.h);
        // Vertical sums of three rows, then three columns of those.
        let mut column = vec![0u16; w];
        let mut data = vec![0.0f32; w * h];
        // Inside the image every window holds nine pixels: a table of the means.
        let nine: Vec<f32> = (0..=9 * 255u32)
            .map(|sum| (f64::from(sum) / 9.0) as f32)
            .collect();
        for y in 0..h {
            let (top, bottom) = (y.saturating_sub(1), (y + 1).min(h - 1));
            column.fill(0);
            for row in top..=bottom {
                for (c, &b) in column.iter_mut().zip(&self.data[row * w..(row + 1) * w]) {
                    *c += u16::from(b);
                }
            }
            let rows = (bottom - top + 1) as f64;
            // In f64 and then rounded once, as the general box filter does.
            let mean = |sum: u32, cols: usize| (f64::from(sum) / (rows * cols as f64)) as f32;
            let out = &mut data[y * w..(y + 1) * w];
            if rows == 3.0 && w >= 3 {
                for (o, c) in out[1..w - 1].iter_mut().zip(column.windows(3)) {
                    let sum = u32::from(c[0]) + u32::from(c[1]) + u32::from(c[2]);
                    *o = nine[sum as usize];
                }
                for x in [0, w - 1] {
                    let (left, right) = (x.saturating_sub(1), (x + 1).min(w - 1));
                    let sum: u32 = column[left..=right].iter().map(|&c| u32::from(c)).sum();
                    out[x] = mean(sum, right - left + 1);
                }
            } else {
                for (x, o) in out.iter_mut().enumerate() {
                    let (left, right) = (x.saturating_sub(1), (x + 1).min(w - 1));
                    let sum: u32 = column[left..=right].iter().map(|&c| u32::from(c)).sum();
                    *o = mean(sum, right - left + 1);
                }
            }
        }
        Gray { w, h, data }
    }
}

/// Bilinear sampling at continuous coordinates (pixel centres at `.5`),
/// clamped at the borders.
pub(crate) trait Sample {
    fn sample(&self, x: f64, y: f64) -> f32;
}

/// The four neighbours' offsets and weights for a bilinear sample.
#[inline(always)]
fn bilinear(w: usize, h: usize, x: f64, y: f64) -> (usize, usize, usize, f32, f32) {
    // Clamped to ≥ 0, so truncation is the floor (and needs no library call);
    // through `i32` (sides are at most 8192), whose conversions are single
    // instructions where `usize`'s are not.
    let fx = (x - 0.5).clamp(0.0, (w - 1) as f64);
    let fy = (y - 0.5).clamp(0.0, (h - 1) as f64);
    let (ix, iy) = (fx as i32, fy as i32);
    let (tx, ty) = ((fx - f64::from(ix)) as f32, (fy - f64::from(iy)) as f32);
    let (x0, y0) = (ix as usize, iy as usize);
    let dx = usize::from(x0 + 1 < w);
    let dy = if y0 + 1 < h { w } else { 0 };
    (y0 * w + x0, dx, dy, tx, ty)
}

#[inline(always)]
fn mix(a: f32, b: f32, c: f32, d: f32, tx: f32, ty: f32) -> f32 {
    let top = a * (1.0 - tx) + b * tx;
    let bottom = c * (1.0 - tx) + d * tx;
    top * (1.0 - ty) + bottom * ty
}

impl Sample for Luma<'_> {
    #[inline]
    fn sample(&self, x: f64, y: f64) -> f32 {
        let (i, dx, dy, tx, ty) = bilinear(self.w, self.h, x, y);
        let p = |k: usize| f32::from(self.data[k]);
        mix(p(i), p(i + dx), p(i + dy), p(i + dy + dx), tx, ty)
    }
}

impl Sample for Gray {
    #[inline]
    fn sample(&self, x: f64, y: f64) -> f32 {
        let (i, dx, dy, tx, ty) = bilinear(self.w, self.h, x, y);
        let p = |k: usize| self.data[k];
        mix(p(i), p(i + dx), p(i + dy), p(i + dy + dx), tx, ty)
    }
}

/// A gray plane, 0–255 as `f32`.
#[derive(Clone, Debug)]
pub(crate) struct Gray {
    pub(crate) w: usize,
    pub(crate) h: usize,
    pub(crate) data: Vec<f32>,
}

impl Gray {
    /// Averages `factor × factor` blocks.
    pub(crate) fn downscale(&self, factor: usize) -> Gray {
        if factor <= 1 {
            return self.clone();
        }
        let (w, h) = (self.w / factor, self.h / factor);
        let mut data = vec![0.0; w * h];
        let norm = 1.0 / (factor * factor) as f32;
        for y in 0..h {
            for dy in 0..factor {
                let row = &self.data[(y * factor + dy) * self.w..];
                for x in 0..w {
                    let mut sum = 0.0;
                    for dx in 0..factor {
                        sum += row[x * factor + dx];
                    }
                    data[y * w + x] += sum * norm;
                }
            }
        }
        Gray { w, h, data }
    }

    /// Mean and standard deviation over a `(2r+1)²` window.
    pub(crate) fn box_mean_std(&self, r: usize) -> (Vec<f32>, Vec<f32>) {
        let means = box_filter(&self.data, self.w, self.h, r);
        let squares: Vec<f32> = self.data.iter().map(|v| v * v).collect();
        let sq_means = box_filter(&squares, self.w, self.h, r);
        let std = means
            .iter()
            .zip(&sq_means)
            .map(|(m, s)| (s - m * m).max(0.0).sqrt())
            .collect();
        (means, std)
    }
}

/// Separable box mean with running sums (columns first, in `f64` so that long
/// runs do not drift), windows shrunk at the borders.
fn box_filter(data: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    // Vertical window sums.
    let mut vertical = vec![0.0f32; w * h];
    let mut sums = vec![0.0f64; w];
    let mut counts = vec![0u32; h];
    let (mut top, mut bottom) = (0usize, 0usize); // rows in the window: [top, bottom)
    for y in 0..h {
        let (want_top, want_bottom) = (y.saturating_sub(r), (y + r + 1).min(h));
        while bottom < want_bottom {
            for (s, v) in sums.iter_mut().zip(&data[bottom * w..(bottom + 1) * w]) {
                *s += f64::from(*v);
            }
            bottom += 1;
        }
        while top < want_top {
            for (s, v) in sums.iter_mut().zip(&data[top * w..(top + 1) * w]) {
                *s -= f64::from(*v);
            }
            top += 1;
        }
        counts[y] = (bottom - top) as u32;
        for (o, s) in vertical[y * w..(y + 1) * w].iter_mut().zip(&sums) {
            *o = *s as f32;
        }
    }
    // Horizontal window sums of the vertical ones, from each row's prefix sums.
    let mut out = vec![0.0f32; w * h];
    let mut prefix = vec![0.0f64; w + 1];
    for y in 0..h {
        let row = &vertical[y * w..(y + 1) * w];
        for x in 0..w {
            prefix[x + 1] = prefix[x] + f64::from(row[x]);
        }
        let rows = f64::from(counts[y]);
        // Inside the row every window is as wide: one reciprocal (the f64
        // result is rounded to f32, which hides the last bit of difference).
        let inside = 1.0 / (rows * (2 * r + 1) as f64);
        for (x, o) in out[y * w..(y + 1) * w].iter_mut().enumerate() {
            let (left, right) = (x.saturating_sub(r), (x + r + 1).min(w));
            *o = if right - left == 2 * r + 1 {
                ((prefix[right] - prefix[left]) * inside) as f32
            } else {
                ((prefix[right] - prefix[left]) / (rows * (right - left) as f64)) as f32
            };
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(w: usize, h: usize, seed: u64) -> Vec<u8> {
        let mut state = seed;
        (0..w * h)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                (state >> 56) as u8
            })
            .collect()
    }

    #[test]
    fn the_byte_box_mean_equals_the_float_box_filter() {
        for (w, h) in [(64, 48), (65, 49), (300, 7)] {
            let bytes = noise(w, h, (w * h) as u64);
            let luma = Luma {
                w,
                h,
                data: Cow::Borrowed(&bytes),
            };
            let floats: Vec<f32> = bytes.iter().map(|&b| f32::from(b)).collect();
            assert_eq!(
                luma.box_mean3().data,
                box_filter(&floats, w, h, 1),
                "{w}×{h}"
            );
        }
    }

    #[test]
    fn the_byte_downscale_equals_the_float_one() {
        let (w, h) = (97, 61);
        let bytes = noise(w, h, 7);
        let luma = Luma {
            w,
            h,
            data: Cow::Borrowed(&bytes),
        };
        let floats = Gray {
            w,
            h,
            data: bytes.iter().map(|&b| f32::from(b)).collect(),
        };
        for factor in 1..=5 {
            assert_eq!(luma.downscale(factor).data, floats.downscale(factor).data);
        }
    }
}
