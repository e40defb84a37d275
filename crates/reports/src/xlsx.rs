//! XLSX written as a stream: the zip goes out with data descriptors (no seeking back), the
//! data sheet's rows as they come (continued in a new sheet, "Apoyos (2)", … every
//! 1,048,575 rows, Excel's limit), then a "Resumen" sheet; the workbook's list of sheets
//! is written last, when their number is known. Strings are inline (no shared string
//! table to hold in memory).

use std::io::Write;

use zip::ZipWriter;
use zip::write::{SimpleFileOptions, StreamWriter};

use crate::{Cell, ReportError};

/// Excel's last row is 1,048,576; one is the header. A data sheet holds this many rows;
/// the next ones go to a new sheet.
pub const MAX_XLSX_ROWS: u64 = 1_048_575;

pub struct XlsxWriter<W: Write> {
    zip: ZipWriter<StreamWriter<W>>,
    columns: usize,
    /// Header cells, repeated at the top of each continuation sheet.
    headers: Vec<String>,
    /// The data sheets' base name (already cleaned).
    sheet: String,
    /// Data sheets started so far (1 after `new`).
    sheets: usize,
    /// Rows in the current data sheet.
    rows: u64,
    /// Rows per data sheet (Excel's limit; smaller in tests).
    rows_per_sheet: u64,
    options: SimpleFileOptions,
}

impl<W: Write> std::fmt::Debug for XlsxWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XlsxWriter")
            .field("columns", &self.columns)
            .field("sheets", &self.sheets)
            .field("rows", &self.rows)
            .finish()
    }
}

/// `[Content_Types].xml` for `sheets` worksheets (data sheets and the summary).
fn content_types(sheets: usize) -> String {
    let mut out = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#,
    );
    for n in 1..=sheets {
        out.push_str(&format!(r#"<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#));
    }
    out.push_str(r#"<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>"#);
    out
}

const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/></Relationships>"#;

/// `xl/_rels/workbook.xml.rels`: sheet `n` is `rId{n}`, the styles come after them.
fn workbook_rels(sheets: usize) -> String {
    let mut out = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
    );
    for n in 1..=sheets {
        out.push_str(&format!(r#"<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{n}.xml"/>"#));
    }
    out.push_str(&format!(r#"<Relationship Id="rId{}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#, sheets + 1));
    out
}

/// `xl/workbook.xml` listing the sheets by name, in order.
fn workbook(names: &[String]) -> String {
    let mut out = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>"#,
    );
    for (i, name) in names.iter().enumerate() {
        out.push_str("<sheet name=\"");
        xml_text(&mut out, name);
        out.push_str(&format!("\" sheetId=\"{n}\" r:id=\"rId{n}\"/>", n = i + 1));
    }
    out.push_str("</sheets></workbook>");
    out
}

/// The name of data sheet `n` (1-based): the base name, then "NAME (2)", "NAME (3)", …
/// within Excel's 31 characters.
fn continuation_name(base: &str, n: usize) -> String {
    if n == 1 {
        return base.to_owned();
    }
    let suffix = format!(" ({n})");
    let keep = 31usize.saturating_sub(suffix.chars().count());
    let mut name: String = base.chars().take(keep).collect();
    name.push_str(&suffix);
    name
}

/// Style 0: normal; style 1: bold (headers and labels).
const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"#;

const CORE: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>apoyo</dc:creator></cp:coreProperties>"#;

const APP: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>apoyo</Application></Properties>"#;

const SHEET_START: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData>"#;

const SHEET_END: &str = "</sheetData></worksheet>";

/// What a sheet name may hold: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect();
    if cleaned.trim().is_empty() {
        "Datos".into()
    } else {
        cleaned
    }
}

/// XML text: escaped, without the control characters XML 1.0 forbids.
fn xml_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

/// Column letters of a 0-based index: 0 → A, 25 → Z, 26 → AA.
fn column(mut index: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

fn row_xml(number: u64, cells: &[Cell<'_>], bold: bool) -> String {
    let mut out = format!("<row r=\"{number}\">");
    let style = if bold { " s=\"1\"" } else { "" };
    for (i, cell) in cells.iter().enumerate() {
        let reference = format!("{}{number}", column(i));
        match cell {
            Cell::Empty => {}
            Cell::Int(n) => out.push_str(&format!("<c r=\"{reference}\"{style}><v>{n}</v></c>")),
            Cell::Text(text) => {
                out.push_str(&format!(
                    "<c r=\"{reference}\"{style} t=\"inlineStr\"><is><t xml:space=\"preserve\">"
                ));
                xml_text(&mut out, text);
                out.push_str("</t></is></c>");
            }
        }
    }
    out.push_str("</row>");
    out
}

impl<W: Write> XlsxWriter<W> {
    /// Writes the fixed parts and the header row of the data sheet.
    pub fn new(out: W, sheet: &str, headers: &[&str]) -> Result<Self, ReportError> {
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(false);
        let mut zip = ZipWriter::new_stream(out);
        for (name, body) in [
            ("_rels/.rels", ROOT_RELS),
            ("docProps/core.xml", CORE),
            ("docProps/app.xml", APP),
            ("xl/styles.xml", STYLES),
        ] {
            zip.start_file(name, options)?;
            zip.write_all(body.as_bytes())?;
        }
        let mut writer = Self {
            zip,
            columns: headers.len(),
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            sheet: sheet_name(sheet),
            sheets: 0,
            rows: 0,
            rows_per_sheet: MAX_XLSX_ROWS,
            options,
        };
        writer.start_data_sheet()?;
        Ok(writer)
    }

    /// Rows per data sheet before continuing in a new one (tests use a small number).
    pub fn with_rows_per_sheet(mut self, rows: u64) -> Self {
        self.rows_per_sheet = rows.clamp(1, MAX_XLSX_ROWS);
        self
    }

    /// Opens the next data sheet with its header row.
    fn start_data_sheet(&mut self) -> Result<(), ReportError> {
        self.sheets += 1;
        self.rows = 0;
        self.zip.start_file(
            format!("xl/worksheets/sheet{}.xml", self.sheets),
            self.options,
        )?;
        self.zip.write_all(SHEET_START.as_bytes())?;
        let header: Vec<Cell<'_>> = self.headers.iter().map(|h| Cell::Text(h)).collect();
        self.zip.write_all(row_xml(1, &header, true).as_bytes())?;
        Ok(())
    }

    pub fn row(&mut self, cells: &[Cell<'_>]) -> Result<(), ReportError> {
        if cells.len() != self.columns {
            return Err(ReportError::RowWidth {
                expected: self.columns,
                got: cells.len(),
            });
        }
        if self.rows >= self.rows_per_sheet {
            self.zip.write_all(SHEET_END.as_bytes())?;
            self.start_data_sheet()?;
        }
        self.rows += 1;
        self.zip
            .write_all(row_xml(self.rows + 1, cells, false).as_bytes())?;
        Ok(())
    }

    /// Closes the last data sheet, writes the "Resumen" sheet (label, value), the list of
    /// sheets and the zip's directory.
    pub fn finish(mut self, summary: &[(&str, Cell<'_>)]) -> Result<W, ReportError> {
        self.zip.write_all(SHEET_END.as_bytes())?;
        let summary_sheet = self.sheets + 1;
        self.zip.start_file(
            format!("xl/worksheets/sheet{summary_sheet}.xml"),
            self.options,
        )?;
        self.zip.write_all(SHEET_START.as_bytes())?;
        self.zip.write_all(
            row_xml(1, &[Cell::Text("Concepto"), Cell::Text("Valor")], true).as_bytes(),
        )?;
        for (i, (label, value)) in summary.iter().enumerate() {
            self.zip
                .write_all(row_xml(i as u64 + 2, &[Cell::Text(label), *value], false).as_bytes())?;
        }
        self.zip.write_all(SHEET_END.as_bytes())?;
        let mut names: Vec<String> = (1..=self.sheets)
            .map(|n| continuation_name(&self.sheet, n))
            .collect();
        names.push("Resumen".into());
        for (name, body) in [
            ("xl/workbook.xml", workbook(&names)),
            ("xl/_rels/workbook.xml.rels", workbook_rels(summary_sheet)),
            ("[Content_Types].xml", content_types(summary_sheet)),
        ] {
            self.zip.start_file(name, self.options)?;
            self.zip.write_all(body.as_bytes())?;
        }
        let mut inner = self.zip.finish()?.into_inner();
        inner.flush()?;
        Ok(inner)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Read;

    /// A writer that is not `Seek`, as an HTTP body is not.
    struct Sink(Vec<u8>);
    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn streams_a_readable_workbook() {
        let mut w = XlsxWriter::new(
            Sink(Vec::new()),
            "Apoyos: Durango/2025",
            &["Folio", "Situación"],
        )
        .unwrap();
        w.row(&[Cell::Text("1-00000001"), Cell::Text("Válido <&> \u{1}")])
            .unwrap();
        w.row(&[Cell::Int(7), Cell::Empty]).unwrap();
        let bytes = w.finish(&[("Total", Cell::Int(2))]).unwrap().0;
        let mut read = unzip(bytes);
        let sheet = read("xl/worksheets/sheet1.xml");
        assert!(sheet.contains("<c r=\"B2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">Válido &lt;&amp;&gt; </t></is></c>"), "{sheet}");
        assert!(sheet.contains("<c r=\"A3\"><v>7</v></c>"));
        assert!(sheet.ends_with("</sheetData></worksheet>"));
        assert!(read("xl/workbook.xml").contains("name=\"Apoyos Durango2025\""));
        assert!(read("xl/worksheets/sheet2.xml").contains("<v>2</v>"));
    }

    /// Reads the workbook's parts by name.
    fn unzip(bytes: Vec<u8>) -> impl FnMut(&str) -> String {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        move |name| {
            let mut text = String::new();
            archive
                .by_name(name)
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            text
        }
    }

    #[test]
    fn columns_and_limits() {
        assert_eq!(column(0), "A");
        assert_eq!(column(25), "Z");
        assert_eq!(column(26), "AA");
        assert_eq!(column(701), "ZZ");
        assert_eq!(sheet_name("a[b]:c*?/\\d"), "abcd");
        let mut w = XlsxWriter::new(Sink(Vec::new()), "x", &["a"]).unwrap();
        assert!(matches!(w.row(&[]), Err(ReportError::RowWidth { .. })));
        assert_eq!(continuation_name("Apoyos", 1), "Apoyos");
        assert_eq!(continuation_name("Apoyos", 12), "Apoyos (12)");
        let long = "A".repeat(31);
        assert_eq!(continuation_name(&long, 2).chars().count(), 31);
    }

    #[test]
    fn rows_beyond_a_sheet_continue_in_the_next() {
        let mut w = XlsxWriter::new(Sink(Vec::new()), "Apoyos", &["Folio"])
            .unwrap()
            .with_rows_per_sheet(2);
        for n in 1..=5 {
            w.row(&[Cell::Int(n)]).unwrap();
        }
        let bytes = w.finish(&[("Total", Cell::Int(5))]).unwrap().0;
        let mut read = unzip(bytes);
        let book = read("xl/workbook.xml");
        let names: Vec<&str> = book
            .split("<sheet name=\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap())
            .collect();
        assert_eq!(names, ["Apoyos", "Apoyos (2)", "Apoyos (3)", "Resumen"]);
        // Each data sheet starts with the header; rows 1–2, 3–4, 5.
        for (sheet, values) in [(1, vec![1, 2]), (2, vec![3, 4]), (3, vec![5])] {
            let xml = read(&format!("xl/worksheets/sheet{sheet}.xml"));
            assert!(
                xml.contains(
                    "<c r=\"A1\" s=\"1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">Folio</t>"
                ),
                "{xml}"
            );
            for (i, v) in values.iter().enumerate() {
                assert!(
                    xml.contains(&format!("<c r=\"A{}\"><v>{v}</v></c>", i + 2)),
                    "{xml}"
                );
            }
            assert!(xml.ends_with(SHEET_END));
        }
        assert!(read("xl/worksheets/sheet4.xml").contains("<v>5</v>"));
        let rels = read("xl/_rels/workbook.xml.rels");
        assert!(rels.contains("Target=\"worksheets/sheet4.xml\"") && rels.contains("Id=\"rId5\""));
        assert!(read("[Content_Types].xml").contains("/xl/worksheets/sheet4.xml"));
    }
}
