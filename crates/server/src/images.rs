//! Support images: only JPEG, PNG or WebP, within size and pixel limits, with their
//! metadata (EXIF with GPS, XMP, comments, text chunks) removed by rewriting the container,
//! never by re-encoding the pixels; then proven to be images by decoding them completely,
//! and given a perceptual hash ([`phash`]) computed on the decoded pixels.
//!
//! What is stored is the rewritten container (the original compressed data, byte for
//! byte); the decoded pixels only prove it and feed the hash.

use std::io::Cursor;

use image::{DynamicImage, GrayImage, ImageReader, Limits};
use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;

/// Largest accepted image, in bytes.
pub const MAX_IMAGE_BYTES: usize = 2 * 1024 * 1024;
/// Largest accepted image, in pixels (40 megapixels).
pub const MAX_PIXELS: u64 = 40_000_000;
/// Smallest accepted side, in pixels.
pub const MIN_SIDE: u32 = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    Jpeg,
    Png,
    WebP,
}

impl ImageFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::WebP => "image/webp",
        }
    }

    fn image_crate(self) -> image::ImageFormat {
        match self {
            Self::Jpeg => image::ImageFormat::Jpeg,
            Self::Png => image::ImageFormat::Png,
            Self::WebP => image::ImageFormat::WebP,
        }
    }
}

/// An accepted image, metadata removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CleanImage {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    /// The 64-bit perceptual hash of the decoded pixels ([`phash`]).
    pub phash: u64,
    pub bytes: Vec<u8>,
}

impl CleanImage {
    /// The perceptual hash as stored: 16 lower-case hex digits.
    pub fn phash_hex(&self) -> String {
        format!("{:016x}", self.phash)
    }
}

/// Why an image is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("empty")]
    Empty,
    #[error("{0} bytes, over the limit")]
    TooLarge(usize),
    #[error("a {0} image, not accepted")]
    UnsupportedType(&'static str),
    #[error("not an image")]
    NotAnImage,
    #[error("damaged {0:?}: {1}")]
    Damaged(ImageFormat, &'static str),
    #[error("{0}×{1} pixels, outside the limits")]
    Dimensions(u32, u32),
    #[error("{0:?} that does not decode: {1}")]
    Undecodable(ImageFormat, String),
}

impl ImageError {
    /// For people, in Spanish.
    pub fn message_es(&self) -> String {
        match self {
            Self::Empty => "está vacía".into(),
            Self::TooLarge(bytes) => {
                format!("pesa {bytes} bytes; el máximo es {MAX_IMAGE_BYTES} bytes (2 MiB)")
            }
            Self::UnsupportedType(kind) => {
                format!("es {kind}; sólo se aceptan imágenes JPEG, PNG o WebP")
            }
            Self::NotAnImage => {
                "no es una imagen JPEG, PNG ni WebP (su contenido no lo es, sin importar su nombre)"
                    .into()
            }
            Self::Damaged(format, what) => {
                format!("no es una imagen {} válida ({what})", format_name(*format))
            }
            Self::Undecodable(format, _) => format!(
                "no es una imagen {} válida (sus datos no se pueden decodificar completos)",
                format_name(*format)
            ),
            Self::Dimensions(w, h) => format!(
                "mide {w}×{h} píxeles; cada lado debe medir al menos {MIN_SIDE} píxeles y el total no debe pasar de {MAX_PIXELS} píxeles"
            ),
        }
    }
}

fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Png => "PNG",
        ImageFormat::WebP => "WebP",
    }
}

/// Checks an image, removes its metadata, decodes it completely (within the pixel limits)
/// and hashes it. CPU-bound (a few milliseconds per megapixel): call it off the async
/// threads.
pub fn clean(bytes: &[u8]) -> Result<CleanImage, ImageError> {
    let stripped = strip(bytes)?;
    let decoded = decode(&stripped)?;
    Ok(CleanImage {
        format: stripped.format,
        width: stripped.width,
        height: stripped.height,
        phash: phash_grey(&decoded),
        bytes: stripped.bytes,
    })
}

/// Decodes the whole image to grey (what the hash needs): a file whose container is sound
/// but whose compressed data is not (truncated, corrupted, or not what the header
/// declares) is refused here.
fn decode(image: &Stripped) -> Result<GrayImage, ImageError> {
    let undecodable = |e: String| ImageError::Undecodable(image.format, e);
    let decoded = if image.format == ImageFormat::Jpeg {
        // Strict: `image` asks zune-jpeg to be lenient (it fills missing data with grey,
        // as browsers do); a support's image must be whole.
        let options = DecoderOptions::default()
            .set_strict_mode(true)
            .set_max_width(image.width as usize)
            .set_max_height(image.height as usize)
            .jpeg_set_out_colorspace(ColorSpace::Luma);
        // A sequential JPEG is decoded without its final EOI marker: zune-jpeg reads zeros
        // after a marker, so data cut short and followed by an EOI would decode as grey;
        // without it, running out of data before the last block is an error. A progressive
        // one needs its EOI (its last scan ends there); its scans are still decoded strictly.
        let data = if image.progressive {
            &image.bytes
        } else {
            image
                .bytes
                .strip_suffix(&[0xFF, 0xD9])
                .unwrap_or(&image.bytes)
        };
        let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(data), options);
        let pixels = decoder
            .decode()
            .map_err(|e| undecodable(format!("{e:?}")))?;
        let (width, height) = decoder
            .dimensions()
            .ok_or_else(|| undecodable("no dimensions".into()))?;
        let (width, height) = (
            u32::try_from(width).map_err(|e| undecodable(e.to_string()))?,
            u32::try_from(height).map_err(|e| undecodable(e.to_string()))?,
        );
        GrayImage::from_raw(width, height, pixels)
            .ok_or_else(|| undecodable("fewer pixels than its size".into()))?
    } else {
        let mut reader = ImageReader::with_format(
            Cursor::new(image.bytes.as_slice()),
            image.format.image_crate(),
        );
        let mut limits = Limits::default();
        // The header's size, already within the limits, is the most the decoder may produce.
        limits.max_image_width = Some(image.width);
        limits.max_image_height = Some(image.height);
        limits.max_alloc = Some(MAX_PIXELS * 8 + 64 * 1024 * 1024);
        reader.limits(limits);
        reader
            .decode()
            .map_err(|e| undecodable(e.to_string()))?
            .into_luma8()
    };
    if decoded.dimensions() != (image.width, image.height) {
        return Err(undecodable(format!(
            "decoded {}×{}, the header says {}×{}",
            decoded.width(),
            decoded.height(),
            image.width,
            image.height
        )));
    }
    Ok(decoded)
}

/// An image whose container was checked and rewritten without its metadata (not decoded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stripped {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    /// A progressive JPEG (SOF2, SOF6, SOF10, SOF14).
    pub progressive: bool,
    pub bytes: Vec<u8>,
}

/// Checks an image's container and limits and removes its metadata, without decoding it.
pub fn strip(bytes: &[u8]) -> Result<Stripped, ImageError> {
    if bytes.is_empty() {
        return Err(ImageError::Empty);
    }
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(ImageError::TooLarge(bytes.len()));
    }
    let (format, width, height, cleaned) = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        let (w, h, out) = jpeg(bytes)?;
        (ImageFormat::Jpeg, w, h, out)
    } else if bytes.starts_with(PNG_SIGNATURE) {
        let (w, h, out) = png(bytes)?;
        (ImageFormat::Png, w, h, out)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        let (w, h, out) = webp(bytes)?;
        (ImageFormat::WebP, w, h, out)
    } else {
        return Err(other_kind(bytes));
    };
    let pixels = u64::from(width) * u64::from(height);
    if width < MIN_SIDE || height < MIN_SIDE || pixels > MAX_PIXELS {
        return Err(ImageError::Dimensions(width, height));
    }
    let progressive = format == ImageFormat::Jpeg && jpeg_is_progressive(&cleaned);
    Ok(Stripped {
        format,
        width,
        height,
        progressive,
        bytes: cleaned,
    })
}

// --- Perceptual hash ---------------------------------------------------------------------

/// Side of the grey thumbnail the hash is computed on.
const PHASH_SIDE: usize = 32;

/// A 64-bit DCT perceptual hash (the pHash construction): the image is turned to grey
/// (Rec. 601 luma) and reduced to 32×32 by averaging the pixels of each cell (so every
/// pixel counts, whatever the size); the 2-D DCT-II of that thumbnail is taken and its
/// 8×8 lowest frequencies after the constant term (u, v = 1..=8: the coarse structure of
/// the picture) are compared with their median: bit `8·(v−1) + (u−1)` is 1 when the
/// coefficient is above it. Recompression, rescaling, mild blur or a change of
/// brightness or contrast move the hash by a few bits; a different picture differs in
/// about half of them. Compare hashes with [`phash_distance`].
pub fn phash(image: &DynamicImage) -> u64 {
    phash_grey(&image.to_luma8())
}

/// [`phash`] of an image already in grey.
pub fn phash_grey(grey: &GrayImage) -> u64 {
    let (width, height) = (grey.width() as usize, grey.height() as usize);
    if width == 0 || height == 0 {
        return 0;
    }
    // Area average into 32×32 cells (cell of a pixel: its position scaled down).
    // Cell cx covers the columns whose x · 32 / width is cx: bounds computed once, then
    // each row adds up contiguous runs of bytes (which the compiler vectorises).
    let bounds = |side: usize, cell: usize| (cell * side).div_ceil(PHASH_SIDE);
    let columns: Vec<(usize, usize)> = (0..PHASH_SIDE)
        .map(|c| (bounds(width, c), bounds(width, c + 1)))
        .collect();
    let rows: Vec<(usize, usize)> = (0..PHASH_SIDE)
        .map(|c| (bounds(height, c), bounds(height, c + 1)))
        .collect();
    let pixels = grey.as_raw();
    let mut thumb = [[0f64; PHASH_SIDE]; PHASH_SIDE];
    for (cy, &(y0, y1)) in rows.iter().enumerate() {
        let mut sums = [0u64; PHASH_SIDE];
        for y in y0..y1 {
            let row = &pixels[y * width..(y + 1) * width];
            for (sum, &(x0, x1)) in sums.iter_mut().zip(&columns) {
                // A run is at most 40 M / 64 / 32 pixels: its sum fits in u32.
                *sum += u64::from(row[x0..x1].iter().map(|v| u32::from(*v)).sum::<u32>());
            }
        }
        for (cx, &(x0, x1)) in columns.iter().enumerate() {
            let count = (x1 - x0) * (y1 - y0);
            thumb[cy][cx] = if count > 0 {
                sums[cx] as f64 / count as f64
            } else {
                // Under 32 px on a side some cells get no pixel: take the one they fall on.
                let (x, y) = (cx * width / PHASH_SIDE, cy * height / PHASH_SIDE);
                f64::from(pixels[y * width + x])
            };
        }
    }
    // cos((2n+1)·k·π / 64) for k = 0..=8, the only frequencies needed.
    let cosines: Vec<[f64; PHASH_SIDE]> = (0..=8)
        .map(|k| {
            let mut row = [0f64; PHASH_SIDE];
            for (n, c) in row.iter_mut().enumerate() {
                *c = ((2 * n + 1) as f64 * k as f64 * std::f64::consts::PI
                    / (2 * PHASH_SIDE) as f64)
                    .cos();
            }
            row
        })
        .collect();
    // Separable DCT: along the rows for u = 1..=8, then along the columns for v = 1..=8.
    let mut by_rows = [[0f64; 8]; PHASH_SIDE];
    for (y, row) in thumb.iter().enumerate() {
        for u in 0..8 {
            by_rows[y][u] = row.iter().zip(&cosines[u + 1]).map(|(a, b)| a * b).sum();
        }
    }
    let mut coefficients = [0f64; 64];
    for v in 0..8 {
        for u in 0..8 {
            coefficients[8 * v + u] = (0..PHASH_SIDE)
                .map(|y| by_rows[y][u] * cosines[v + 1][y])
                .sum();
        }
    }
    let mut sorted = coefficients;
    sorted.sort_by(f64::total_cmp);
    let median = (sorted[31] + sorted[32]) / 2.0;
    coefficients
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > median)
        .fold(0u64, |hash, (bit, _)| hash | (1 << bit))
}

/// How many bits two perceptual hashes differ in (0–64): near-identical images ≤ ~8.
pub fn phash_distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// Images of other formats are named, so the message says what was sent.
fn other_kind(bytes: &[u8]) -> ImageError {
    let kinds: [(&[u8], &'static str); 6] = [
        (b"GIF8", "GIF"),
        (b"BM", "BMP"),
        (b"II*\0", "TIFF"),
        (b"MM\0*", "TIFF"),
        (b"%PDF", "PDF"),
        (b"\0\0\x01\0", "ICO"),
    ];
    if let Some((_, name)) = kinds.iter().find(|(magic, _)| bytes.starts_with(magic)) {
        return ImageError::UnsupportedType(name);
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        let brand = &bytes[8..12];
        if [b"heic", b"heix", b"mif1", b"avif", b"hevc"]
            .iter()
            .any(|b| brand == *b)
        {
            return ImageError::UnsupportedType("HEIC/AVIF");
        }
    }
    ImageError::NotAnImage
}

fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]))
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    bytes
        .get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn le32(bytes: &[u8], at: usize) -> Option<u32> {
    bytes
        .get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn le24(bytes: &[u8], at: usize) -> Option<u32> {
    bytes
        .get(at..at + 3)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], 0]))
}

// --- JPEG ------------------------------------------------------------------------------

/// Whether a JPEG already walked by [`jpeg`] declares a progressive frame: its segments
/// before the first scan are walked again.
fn jpeg_is_progressive(bytes: &[u8]) -> bool {
    let mut pos = 2;
    while let (Some(0xFF), Some(marker)) = (bytes.get(pos), bytes.get(pos + 1)) {
        match marker {
            0xC2 | 0xC6 | 0xCA | 0xCE => return true,
            0xDA | 0xD9 => return false,
            0xFF => pos += 1,
            _ => match be16(bytes, pos + 2) {
                Some(length) => pos += 2 + usize::from(length),
                None => return false,
            },
        }
    }
    false
}

/// Copies the file up to its EOI, without APP1 (Exif, XMP), APP13 (Photoshop/IPTC) and COM
/// segments wherever they are; the entropy-coded scans are copied as they are, and what
/// follows the EOI (maker trailers, embedded videos) is dropped.
fn jpeg(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>), ImageError> {
    let damaged = |what| ImageError::Damaged(ImageFormat::Jpeg, what);
    let incomplete = damaged("está incompleta");
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..2]);
    let mut pos = 2;
    let mut size = None;
    let mut scans = 0;
    let mut in_scan = false;
    loop {
        if in_scan {
            // Entropy-coded data: 0xFF is followed by 0x00 (stuffing), a restart marker,
            // fill 0xFF, or the marker that ends the scan.
            let start = pos;
            loop {
                match bytes.get(pos) {
                    None => return Err(incomplete),
                    Some(0xFF) => match bytes.get(pos + 1) {
                        None => return Err(incomplete),
                        Some(0x00 | 0xD0..=0xD7) => pos += 2,
                        Some(0xFF) => pos += 1,
                        Some(_) => break,
                    },
                    Some(_) => pos += 1,
                }
            }
            out.extend_from_slice(&bytes[start..pos]);
            in_scan = false;
        }
        if bytes.get(pos) != Some(&0xFF) {
            return Err(damaged("segmento mal formado"));
        }
        // Fill bytes.
        while bytes.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        let marker = *bytes.get(pos + 1).ok_or(incomplete.clone())?;
        match marker {
            0xD9 => {
                let (width, height) = size.ok_or(damaged("no declara sus dimensiones"))?;
                if scans == 0 {
                    return Err(damaged("no contiene imagen"));
                }
                out.extend_from_slice(&[0xFF, 0xD9]);
                return Ok((width, height, out));
            }
            0x01 | 0xD0..=0xD8 => {
                out.extend_from_slice(&bytes[pos..pos + 2]);
                pos += 2;
                continue;
            }
            _ => {}
        }
        let length = usize::from(be16(bytes, pos + 2).ok_or(incomplete.clone())?);
        let end = pos + 2 + length;
        if length < 2 || end > bytes.len() {
            return Err(damaged("segmento mal formado"));
        }
        let is_sof = matches!(marker, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF);
        if is_sof {
            if length < 8 {
                return Err(damaged("segmento mal formado"));
            }
            let height = be16(bytes, pos + 5).ok_or(damaged("segmento mal formado"))?;
            let width = be16(bytes, pos + 7).ok_or(damaged("segmento mal formado"))?;
            size = Some((u32::from(width), u32::from(height)));
        }
        if marker == 0xDA {
            if size.is_none() {
                return Err(damaged("no declara sus dimensiones"));
            }
            scans += 1;
            in_scan = true;
        }
        if !matches!(marker, 0xE1 | 0xED | 0xFE) {
            out.extend_from_slice(&bytes[pos..end]);
        }
        pos = end;
    }
}

// --- PNG -------------------------------------------------------------------------------

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
const PNG_METADATA: [&[u8; 4]; 5] = [b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"];

/// CRC-32 (IEEE), as PNG chunks use it.
pub(crate) fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for part in parts {
        for byte in *part {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
    }
    !crc
}

fn png(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>), ImageError> {
    let damaged = |what| ImageError::Damaged(ImageFormat::Png, what);
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(PNG_SIGNATURE);
    let mut pos = PNG_SIGNATURE.len();
    let mut size = None;
    let mut has_data = false;
    loop {
        let length = be32(bytes, pos).ok_or(damaged("está incompleta"))? as usize;
        let kind = bytes
            .get(pos + 4..pos + 8)
            .ok_or(damaged("está incompleta"))?;
        let end = pos
            .checked_add(12)
            .and_then(|e| e.checked_add(length))
            .filter(|e| *e <= bytes.len())
            .ok_or(damaged("está incompleta"))?;
        let data = &bytes[pos + 8..pos + 8 + length];
        if size.is_none() {
            if kind != b"IHDR" || length != 13 {
                return Err(damaged("no empieza por su encabezado IHDR"));
            }
            if be32(bytes, end - 4) != Some(crc32(&[kind, data])) {
                return Err(damaged("encabezado dañado"));
            }
            let width = be32(data, 0).ok_or(damaged("encabezado dañado"))?;
            let height = be32(data, 4).ok_or(damaged("encabezado dañado"))?;
            size = Some((width, height));
        }
        has_data |= kind == b"IDAT";
        if !PNG_METADATA.iter().any(|m| m.as_slice() == kind) {
            out.extend_from_slice(&bytes[pos..end]);
        }
        pos = end;
        if kind == b"IEND" {
            break;
        }
    }
    let (width, height) = size.ok_or(damaged("no declara sus dimensiones"))?;
    if !has_data {
        return Err(damaged("no contiene imagen"));
    }
    Ok((width, height, out))
}

// --- WebP ------------------------------------------------------------------------------

fn webp(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>), ImageError> {
    let damaged = |what| ImageError::Damaged(ImageFormat::WebP, what);
    let riff_end = le32(bytes, 4)
        .map(|n| n as usize + 8)
        .filter(|n| *n <= bytes.len() && *n >= 12)
        .ok_or(damaged("está incompleta"))?;
    let mut chunks: Vec<u8> = Vec::with_capacity(riff_end);
    let mut pos = 12;
    let mut canvas = None;
    let mut bitstream = None;
    while pos < riff_end {
        let kind = bytes.get(pos..pos + 4).ok_or(damaged("está incompleta"))?;
        let length = le32(bytes, pos + 4).ok_or(damaged("está incompleta"))? as usize;
        let data_end = pos + 8 + length;
        let end = data_end + (length & 1);
        if end > riff_end {
            return Err(damaged("está incompleta"));
        }
        let data = &bytes[pos + 8..data_end];
        match kind {
            b"VP8X" => {
                if length < 10 || canvas.is_some() {
                    return Err(damaged("encabezado VP8X mal formado"));
                }
                let width = le24(data, 4).ok_or(damaged("encabezado VP8X mal formado"))? + 1;
                let height = le24(data, 7).ok_or(damaged("encabezado VP8X mal formado"))? + 1;
                canvas = Some((width, height));
                chunks.extend_from_slice(&bytes[pos..pos + 8]);
                // Flags: clear EXIF (0x08) and XMP (0x04), whose chunks are removed.
                chunks.push(data[0] & !0x0C);
                chunks.extend_from_slice(&bytes[pos + 9..end]);
            }
            b"EXIF" | b"XMP " => {}
            b"VP8 " => {
                if data.len() < 10 || data[3..6] != [0x9D, 0x01, 0x2A] {
                    return Err(damaged("imagen VP8 mal formada"));
                }
                let width = u32::from(u16::from_le_bytes([data[6], data[7]]) & 0x3FFF);
                let height = u32::from(u16::from_le_bytes([data[8], data[9]]) & 0x3FFF);
                bitstream.get_or_insert((width, height));
                chunks.extend_from_slice(&bytes[pos..end]);
            }
            b"VP8L" => {
                if data.len() < 5 || data[0] != 0x2F {
                    return Err(damaged("imagen VP8L mal formada"));
                }
                let bits = le32(data, 1).ok_or(damaged("imagen VP8L mal formada"))?;
                let width = (bits & 0x3FFF) + 1;
                let height = ((bits >> 14) & 0x3FFF) + 1;
                bitstream.get_or_insert((width, height));
                chunks.extend_from_slice(&bytes[pos..end]);
            }
            _ => chunks.extend_from_slice(&bytes[pos..end]),
        }
        pos = end;
    }
    let (width, height) = canvas.or(bitstream).ok_or(damaged("no contiene imagen"))?;
    if bitstream.is_none() {
        return Err(damaged("no contiene imagen"));
    }
    let riff_size = u32::try_from(chunks.len() + 4).map_err(|_| damaged("está incompleta"))?;
    let mut out = Vec::with_capacity(chunks.len() + 12);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&riff_size.to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend_from_slice(&chunks);
    Ok((width, height, out))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
        out
    }

    fn png_file(width: u32, height: u32, extra: &[Vec<u8>]) -> Vec<u8> {
        let mut ihdr = width.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
        let mut out = PNG_SIGNATURE.to_vec();
        out.extend(png_chunk(b"IHDR", &ihdr));
        for chunk in extra {
            out.extend_from_slice(chunk);
        }
        out.extend(png_chunk(
            b"IDAT",
            &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
        ));
        out.extend(png_chunk(b"IEND", &[]));
        out
    }

    fn segment(marker: u8, data: &[u8]) -> Vec<u8> {
        let mut out = vec![0xFF, marker];
        out.extend_from_slice(&((data.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(data);
        out
    }

    fn jpeg_file(width: u16, height: u16, metadata: bool) -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8];
        out.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        if metadata {
            out.extend(segment(0xE1, b"Exif\0\0MM\0*GPS 24.0277 -104.6532"));
            out.extend(segment(0xFE, b"comentario"));
            out.extend(segment(0xED, b"Photoshop 3.0\0"));
        }
        let mut sof = vec![8];
        sof.extend_from_slice(&height.to_be_bytes());
        sof.extend_from_slice(&width.to_be_bytes());
        sof.extend_from_slice(&[1, 1, 0x11, 0]);
        out.extend(segment(0xC0, &sof));
        out.extend(segment(0xDA, &[1, 1, 0, 0, 0x3F, 0]));
        out.extend_from_slice(&[0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD9]);
        out
    }

    fn riff_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = kind.to_vec();
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
        if data.len() % 2 == 1 {
            out.push(0);
        }
        out
    }

    fn webp_file(width: u32, height: u32, metadata: bool) -> Vec<u8> {
        let mut chunks = Vec::new();
        if metadata {
            let mut vp8x = vec![0x0C, 0, 0, 0];
            vp8x.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
            vp8x.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
            chunks.extend(riff_chunk(b"VP8X", &vp8x));
        }
        let bits = (width - 1) | ((height - 1) << 14);
        let mut vp8l = vec![0x2F];
        vp8l.extend_from_slice(&bits.to_le_bytes());
        vp8l.extend_from_slice(&[0, 0, 0]);
        chunks.extend(riff_chunk(b"VP8L", &vp8l));
        if metadata {
            chunks.extend(riff_chunk(b"EXIF", b"MM\0*GPS"));
            chunks.extend(riff_chunk(b"XMP ", b"<x:xmpmeta/>"));
        }
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&((chunks.len() + 4) as u32).to_le_bytes());
        out.extend_from_slice(b"WEBP");
        out.extend(chunks);
        out
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn jpeg_metadata_segments_are_removed_and_the_rest_kept() {
        let clean_file = jpeg_file(640, 480, false);
        let with_metadata = jpeg_file(640, 480, true);
        let image = strip(&with_metadata).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (image.format, image.width, image.height),
            (ImageFormat::Jpeg, 640, 480)
        );
        assert_eq!(
            image.bytes, clean_file,
            "exactly the metadata segments are gone"
        );
        assert!(!contains(&image.bytes, b"Exif") && !contains(&image.bytes, b"GPS"));
        assert_eq!(
            strip(&clean_file).map(|i| i.bytes),
            Ok(clean_file.clone()),
            "nothing to remove: unchanged"
        );
    }

    #[test]
    fn jpeg_scans_are_followed_to_the_end_and_trailers_dropped() {
        // Progressive: a second table and scan after the first, with metadata between.
        let mut progressive = jpeg_file(640, 480, false);
        progressive.truncate(progressive.len() - 2);
        progressive.extend(segment(0xC4, &[0x10, 1, 0]));
        progressive.extend(segment(0xFE, b"tarde"));
        progressive.extend(segment(0xDA, &[1, 1, 0, 0, 0x3F, 0]));
        progressive.extend_from_slice(&[0xAB, 0xFF, 0xD0, 0xCD, 0xFF, 0xFF, 0xD9]);
        let mut expected = jpeg_file(640, 480, false);
        expected.truncate(expected.len() - 2);
        expected.extend(segment(0xC4, &[0x10, 1, 0]));
        expected.extend(segment(0xDA, &[1, 1, 0, 0, 0x3F, 0]));
        expected.extend_from_slice(&[0xAB, 0xFF, 0xD0, 0xCD, 0xFF, 0xFF, 0xD9]);
        let mut with_trailer = progressive.clone();
        with_trailer.extend_from_slice(b"\0\0MotionPhoto_Data ftypmp42 Exif GPS");
        let image = strip(&with_trailer).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(image.bytes, expected);
        // No EOI: incomplete.
        let mut cut = jpeg_file(640, 480, false);
        cut.truncate(cut.len() - 2);
        assert!(matches!(
            strip(&cut),
            Err(ImageError::Damaged(ImageFormat::Jpeg, _))
        ));
        // EOI before any scan.
        let mut no_scan = vec![0xFF, 0xD8];
        no_scan.extend(segment(0xC0, &[8, 0, 64, 0, 64, 1, 1, 0x11, 0]));
        no_scan.extend_from_slice(&[0xFF, 0xD9]);
        assert!(matches!(
            strip(&no_scan),
            Err(ImageError::Damaged(ImageFormat::Jpeg, _))
        ));
    }

    #[test]
    fn png_text_and_exif_chunks_are_removed() {
        let metadata = vec![
            png_chunk(b"tEXt", b"Comment\0GPS 24.02"),
            png_chunk(b"eXIf", b"MM\0*"),
            png_chunk(b"tIME", &[7, 232, 1, 1, 0, 0, 0]),
            png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0x"),
            png_chunk(b"zTXt", b"k\0\0x"),
        ];
        let image = strip(&png_file(100, 80, &metadata)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (image.format, image.width, image.height),
            (ImageFormat::Png, 100, 80)
        );
        assert_eq!(image.bytes, png_file(100, 80, &[]));
        // A damaged header is refused.
        let mut broken = png_file(100, 80, &[]);
        broken[20] ^= 1;
        assert!(matches!(
            strip(&broken),
            Err(ImageError::Damaged(ImageFormat::Png, _))
        ));
    }

    #[test]
    fn webp_exif_and_xmp_chunks_and_flags_are_removed() {
        let image = strip(&webp_file(300, 200, true)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (image.format, image.width, image.height),
            (ImageFormat::WebP, 300, 200)
        );
        assert!(!contains(&image.bytes, b"EXIF") && !contains(&image.bytes, b"XMP "));
        let flags = image.bytes[20];
        assert_eq!(flags & 0x0C, 0, "EXIF and XMP flags cleared");
        assert_eq!(
            le32(&image.bytes, 4).map(|n| n as usize + 8),
            Some(image.bytes.len())
        );
        let plain = webp_file(300, 200, false);
        assert_eq!(strip(&plain).map(|i| i.bytes), Ok(plain.clone()));
    }

    /// A picture with structure at several scales, different for each `seed`.
    fn picture(width: u32, height: u32, seed: u32) -> image::RgbImage {
        image::RgbImage::from_fn(width, height, |x, y| {
            let (fx, fy) = (x as f64 / width as f64, y as f64 / height as f64);
            let s = f64::from(seed);
            let wave = ((fx * (3.0 + s) + fy * (2.0 + s * 0.7)) * 6.0).sin();
            let blob = if (fx - 0.3 - s * 0.05).powi(2) + (fy - 0.6).powi(2) < 0.04 {
                90.0
            } else {
                0.0
            };
            let band = if ((fy * (4.0 + s)) as u32 + seed) % 2 == 0 {
                40.0
            } else {
                0.0
            };
            let v = (110.0 + 60.0 * wave + blob + band).clamp(0.0, 255.0) as u8;
            image::Rgb([v, v.wrapping_add(20), 255 - v])
        })
    }

    fn encode(image: &image::RgbImage, format: image::ImageFormat, quality: u8) -> Vec<u8> {
        let mut out = Vec::new();
        match format {
            image::ImageFormat::Jpeg => {
                image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
                    .encode_image(image)
                    .unwrap();
            }
            other => image.write_to(&mut Cursor::new(&mut out), other).unwrap(),
        }
        out
    }

    #[test]
    fn real_images_are_decoded_and_hashed_and_stored_as_sent() {
        let original = picture(640, 480, 1);
        for (format, expected) in [
            (image::ImageFormat::Jpeg, ImageFormat::Jpeg),
            (image::ImageFormat::Png, ImageFormat::Png),
            (image::ImageFormat::WebP, ImageFormat::WebP),
        ] {
            let bytes = encode(&original, format, 90);
            let image = clean(&bytes).unwrap_or_else(|e| panic!("{format:?}: {e}"));
            assert_eq!(
                (image.format, image.width, image.height),
                (expected, 640, 480)
            );
            assert_eq!(
                image.bytes, bytes,
                "no metadata: stored byte for byte, not re-encoded"
            );
            assert_eq!(image.phash_hex().len(), 16);
        }
    }

    #[test]
    fn the_perceptual_hash_survives_recompression_and_rescaling_but_not_another_picture() {
        let original = picture(1024, 768, 1);
        let hash = |bytes: &[u8]| clean(bytes).unwrap_or_else(|e| panic!("{e}")).phash;
        let reference = hash(&encode(&original, image::ImageFormat::Jpeg, 92));
        let smaller =
            image::imageops::resize(&original, 600, 450, image::imageops::FilterType::Triangle);
        let copies = [
            (
                "JPEG quality 50",
                hash(&encode(&original, image::ImageFormat::Jpeg, 50)),
            ),
            (
                "rescaled to 600×450, JPEG 70",
                hash(&encode(&smaller, image::ImageFormat::Jpeg, 70)),
            ),
            ("PNG", hash(&encode(&original, image::ImageFormat::Png, 0))),
        ];
        for (what, copy) in copies {
            let distance = phash_distance(reference, copy);
            assert!(distance <= 6, "{what}: {distance} bits from the original");
        }
        for seed in [2, 3, 5] {
            let other = hash(&encode(
                &picture(1024, 768, seed),
                image::ImageFormat::Jpeg,
                92,
            ));
            let distance = phash_distance(reference, other);
            assert!(
                distance >= 16,
                "picture {seed}: only {distance} bits from picture 1"
            );
        }
    }

    #[test]
    fn progressive_jpegs_are_accepted() {
        // 96×64, progressive, made with ImageMagick (`-interlace JPEG`).
        let bytes = include_bytes!("../../../testdata/images/progressive.jpg");
        let image = clean(bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (image.format, image.width, image.height),
            (ImageFormat::Jpeg, 96, 64)
        );
        assert!(strip(bytes).unwrap().progressive);
        assert!(!strip(&jpeg_file(640, 480, false)).unwrap().progressive);
    }

    #[test]
    fn a_sound_container_with_data_that_does_not_decode_is_refused() {
        // Headers and chunks in order, but the image data is not there or is garbage.
        for bytes in [
            jpeg_file(640, 480, false),
            png_file(100, 80, &[]),
            webp_file(300, 200, false),
        ] {
            assert!(strip(&bytes).is_ok());
            let refused = clean(&bytes).unwrap_err();
            assert!(
                matches!(refused, ImageError::Undecodable(..)),
                "{refused:?}"
            );
            assert!(refused.message_es().contains("no se pueden decodificar"));
        }
        // A real JPEG whose entropy-coded data was cut short (but still ends with EOI).
        let whole = encode(&picture(640, 480, 1), image::ImageFormat::Jpeg, 90);
        let mut cut = whole[..whole.len() / 3].to_vec();
        cut.extend_from_slice(&[0xFF, 0xD9]);
        assert!(
            matches!(
                clean(&cut),
                Err(ImageError::Undecodable(ImageFormat::Jpeg, _))
            ),
            "{:?}",
            clean(&cut).map(|i| i.phash)
        );
        // A PNG whose pixel data was damaged (its CRC no longer matches).
        let mut png = encode(&picture(200, 100, 1), image::ImageFormat::Png, 0);
        let at = png.len() - 30;
        png[at] ^= 0x55;
        assert!(matches!(
            clean(&png),
            Err(ImageError::Undecodable(ImageFormat::Png, _))
        ));
    }

    #[test]
    fn refusals_say_why() {
        assert_eq!(strip(b""), Err(ImageError::Empty));
        assert_eq!(
            strip(b"GIF89a\x01\0\x01\0"),
            Err(ImageError::UnsupportedType("GIF"))
        );
        assert_eq!(
            strip(b"%PDF-1.7 ..."),
            Err(ImageError::UnsupportedType("PDF"))
        );
        assert_eq!(
            strip(b"hola, no soy una imagen"),
            Err(ImageError::NotAnImage)
        );
        assert_eq!(
            strip(&jpeg_file(32, 32, false)),
            Err(ImageError::Dimensions(32, 32))
        );
        assert_eq!(
            strip(&jpeg_file(10_000, 5_000, false)),
            Err(ImageError::Dimensions(10_000, 5_000))
        );
        let mut big = jpeg_file(640, 480, false);
        big.resize(MAX_IMAGE_BYTES + 1, 0);
        assert_eq!(strip(&big), Err(ImageError::TooLarge(MAX_IMAGE_BYTES + 1)));
        // Truncated: the header promises an image that is not there.
        let truncated = &jpeg_file(640, 480, false)[..30];
        assert!(matches!(
            strip(truncated),
            Err(ImageError::Damaged(ImageFormat::Jpeg, _))
        ));
        let truncated_png = &png_file(100, 100, &[])[..40];
        assert!(matches!(
            strip(truncated_png),
            Err(ImageError::Damaged(ImageFormat::Png, _))
        ));
        for error in [
            ImageError::NotAnImage,
            ImageError::TooLarge(9),
            ImageError::Dimensions(1, 1),
        ] {
            assert!(!error.message_es().is_empty());
        }
    }
}
