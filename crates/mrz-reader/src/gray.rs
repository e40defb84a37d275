//! Decoded pixels in, one gray plane out.

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

/// A gray plane, 0–255 as `f32`.
#[derive(Clone, Debug)]
pub(crate) struct Gray {
    pub(crate) w: usize,
    pub(crate) h: usize,
    pub(crate) data: Vec<f32>,
}

impl Gray {
    pub(crate) fn from_image(image: &ImageRef<'_>) -> Result<Self, ReadError> {
        let (w, h) = (image.width as usize, image.height as usize);
        let channels = image.format.channels();
        let data = match image.format {
            PixelFormat::Gray => image.bytes.iter().map(|&b| f32::from(b)).collect(),
            PixelFormat::Rgb | PixelFormat::Rgba => image
                .bytes
                .chunks_exact(channels)
                .map(|p| {
                    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
                })
                .collect(),
        };
        Ok(Gray { w, h, data })
    }

    pub(crate) fn at(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.w + x]
    }

    /// Bilinear sample at continuous coordinates (pixel centres at `.5`), clamped at the borders.
    pub(crate) fn sample(&self, x: f64, y: f64) -> f32 {
        let fx = (x - 0.5).clamp(0.0, (self.w - 1) as f64);
        let fy = (y - 0.5).clamp(0.0, (self.h - 1) as f64);
        let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.w - 1), (y0 + 1).min(self.h - 1));
        let (tx, ty) = ((fx - x0 as f64) as f32, (fy - y0 as f64) as f32);
        let top = self.at(x0, y0) * (1.0 - tx) + self.at(x1, y0) * tx;
        let bottom = self.at(x0, y1) * (1.0 - tx) + self.at(x1, y1) * tx;
        top * (1.0 - ty) + bottom * ty
    }

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

    /// Mean over a `(2r+1)²` window (shrunk at the borders).
    pub(crate) fn box_mean(&self, r: usize) -> Vec<f32> {
        box_filter(&self.data, self.w, self.h, r)
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
        for (x, o) in out[y * w..(y + 1) * w].iter_mut().enumerate() {
            let (left, right) = (x.saturating_sub(r), (x + r + 1).min(w));
            *o = ((prefix[right] - prefix[left]) / (rows * (right - left) as f64)) as f32;
        }
    }
    out
}
