//! Report writers: CSV that Excel opens with accents right, XLSX streamed row by row, and
//! the PDF determination (dictamen). Synchronous, writing to any `std::io::Write`; the
//! server runs them on a blocking thread and streams the chunks (see [`ChunkWriter`]),
//! so a million-row report never sits in memory.

mod csv;
mod pdf;
mod xlsx;

use std::io::{self, Write};

pub use csv::CsvWriter;
pub use pdf::{Dictamen, DispersionSummary, SectionRow, dictamen_pdf};
pub use xlsx::{MAX_XLSX_ROWS, XlsxWriter};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write the report: {0}")]
    Io(#[from] io::Error),
    #[error("cannot write the XLSX archive: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("a row has {got} cells, the report has {expected} columns")]
    RowWidth { expected: usize, got: usize },
}

/// One cell of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell<'a> {
    Text(&'a str),
    Int(i64),
    Empty,
}

/// Buffers up to 64 KiB and hands each full chunk to `send` (the server forwards the
/// chunks down an HTTP body). `flush` hands over what is buffered.
pub struct ChunkWriter<F: FnMut(Vec<u8>) -> io::Result<()>> {
    buffer: Vec<u8>,
    send: F,
}

const CHUNK: usize = 64 * 1024;

impl<F: FnMut(Vec<u8>) -> io::Result<()>> ChunkWriter<F> {
    pub fn new(send: F) -> Self {
        Self {
            buffer: Vec::with_capacity(CHUNK),
            send,
        }
    }
}

impl<F: FnMut(Vec<u8>) -> io::Result<()>> std::fmt::Debug for ChunkWriter<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkWriter")
            .field("buffered", &self.buffer.len())
            .finish()
    }
}

impl<F: FnMut(Vec<u8>) -> io::Result<()>> Write for ChunkWriter<F> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK {
            let full = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK));
            (self.send)(full)?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.buffer.is_empty() {
            let rest = std::mem::take(&mut self.buffer);
            (self.send)(rest)?;
        }
        Ok(())
    }
}

/// 1,234,567 (es-MX groups thousands with commas).
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_handed_over_whole_and_at_flush() {
        let mut chunks: Vec<usize> = Vec::new();
        {
            let mut w = ChunkWriter::new(|c: Vec<u8>| {
                chunks.push(c.len());
                Ok(())
            });
            for _ in 0..3 {
                w.write_all(&[7u8; 40_000]).unwrap();
            }
            w.flush().unwrap();
        }
        assert_eq!(chunks.iter().sum::<usize>(), 120_000);
        assert!(chunks.len() >= 2);
    }

    #[test]
    fn thousands_separator() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(13079), "13,079");
        assert_eq!(thousands(-1_000_000), "-1,000,000");
    }
}
