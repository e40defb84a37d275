//! CSV as Excel reads it: UTF-8 with a byte-order mark, CRLF, RFC 4180 quoting.

use std::io::Write;

use crate::{Cell, ReportError};

pub struct CsvWriter<W: Write> {
    out: W,
    columns: usize,
}

impl<W: Write> std::fmt::Debug for CsvWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvWriter")
            .field("columns", &self.columns)
            .finish()
    }
}

impl<W: Write> CsvWriter<W> {
    /// Writes the BOM and the header row.
    pub fn new(mut out: W, headers: &[&str]) -> Result<Self, ReportError> {
        out.write_all("\u{feff}".as_bytes())?;
        let mut writer = Self {
            out,
            columns: headers.len(),
        };
        let cells: Vec<Cell<'_>> = headers.iter().map(|h| Cell::Text(h)).collect();
        writer.row(&cells)?;
        Ok(writer)
    }

    pub fn row(&mut self, cells: &[Cell<'_>]) -> Result<(), ReportError> {
        if cells.len() != self.columns {
            return Err(ReportError::RowWidth {
                expected: self.columns,
                got: cells.len(),
            });
        }
        let mut line = String::with_capacity(16 * cells.len());
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            match cell {
                Cell::Empty => {}
                Cell::Int(n) => line.push_str(&n.to_string()),
                Cell::Text(text) => push_text(&mut line, text),
            }
        }
        line.push_str("\r\n");
        self.out.write_all(line.as_bytes())?;
        Ok(())
    }

    pub fn finish(mut self) -> Result<W, ReportError> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// A text field, quoted when needed. A text starting like a formula gets an apostrophe
/// first, so a spreadsheet shows it instead of evaluating it (CSV injection).
fn push_text(line: &mut String, text: &str) {
    let guarded = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let needs_quotes = guarded || text.contains([',', '"', '\r', '\n']);
    if needs_quotes {
        line.push('"');
    }
    if guarded {
        line.push('\'');
    }
    for c in text.chars() {
        if c == '"' {
            line.push('"');
        }
        line.push(c);
    }
    if needs_quotes {
        line.push('"');
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn write(rows: &[Vec<Cell<'_>>]) -> String {
        let mut w = CsvWriter::new(Vec::new(), &["Folio", "Situación"]).unwrap();
        for row in rows {
            w.row(row).unwrap();
        }
        String::from_utf8(w.finish().unwrap()).unwrap()
    }

    #[test]
    fn bom_header_quoting_and_injection_guard() {
        let text = write(&[
            vec![Cell::Text("1-00000001"), Cell::Text("Válido, \"sin\" duda")],
            vec![Cell::Int(42), Cell::Text("=HYPERLINK(\"x\")")],
            vec![Cell::Empty, Cell::Text("dos\nlíneas")],
        ]);
        assert!(text.starts_with("\u{feff}Folio,Situación\r\n"));
        assert!(text.contains("\"'1-00000001\"") || text.contains("1-00000001"));
        assert!(text.contains("\"Válido, \"\"sin\"\" duda\"\r\n"));
        assert!(text.contains("42,\"'=HYPERLINK(\"\"x\"\")\"\r\n"));
        assert!(text.contains(",\"dos\nlíneas\"\r\n"));
    }

    #[test]
    fn wrong_width_is_refused() {
        let mut w = CsvWriter::new(Vec::new(), &["a", "b"]).unwrap();
        assert!(matches!(
            w.row(&[Cell::Int(1)]),
            Err(ReportError::RowWidth {
                expected: 2,
                got: 1
            })
        ));
    }

    proptest! {
        #[test]
        fn any_text_reads_back(fields in proptest::collection::vec(".{0,20}", 3)) {
            let cells: Vec<Cell<'_>> = fields.iter().map(|f| Cell::Text(f)).collect();
            let mut w = CsvWriter::new(Vec::new(), &["a", "b", "c"]).unwrap();
            w.row(&cells).unwrap();
            let bytes = w.finish().unwrap();
            let body = &bytes[3..];
            let mut reader = ::csv::ReaderBuilder::new().has_headers(true).from_reader(body);
            let record = reader.records().next().unwrap().unwrap();
            for (read, written) in record.iter().zip(&fields) {
                let unguarded = if written.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                    read.strip_prefix('\'').unwrap_or(read)
                } else {
                    read
                };
                prop_assert_eq!(unguarded, written.as_str());
            }
        }
    }
}
