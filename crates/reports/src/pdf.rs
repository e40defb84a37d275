//! The determination (dictamen) as a PDF 1.4 written by hand: the two standard Helvetica
//! fonts with WinAnsiEncoding (every Spanish letter is in it), Letter pages, text wrapped
//! with Helvetica's glyph widths, a footer "Página X de N" on every page.

use crate::thousands;

/// What the determination says about one aspirant.
#[derive(Clone, Debug, Default)]
pub struct Dictamen {
    pub authority: String,
    pub title: String,
    pub process_name: String,
    pub office_name: String,
    pub aspirant_name: String,
    /// dd/mm/aaaa.
    pub cut_date: String,
    /// dd/mm/aaaa hh:mm.
    pub generated_at: String,
    /// Outcome label → supports, in order.
    pub counts: Vec<(String, i64)>,
    pub received: i64,
    pub valid: i64,
    pub required: i64,
    pub threshold_reached: bool,
    pub dispersion: Option<DispersionSummary>,
    pub sections: Vec<SectionRow>,
    pub conclusion: String,
    /// (name, position) of each signature block.
    pub signatures: Vec<(String, String)>,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct DispersionSummary {
    pub sections_required: i64,
    pub sections_meeting: i64,
    pub sections_total: i64,
    pub met: bool,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct SectionRow {
    pub section: i64,
    pub roll: i64,
    pub needed: i64,
    pub valid: i64,
    pub meets: bool,
}

const PAGE_W: f32 = 612.0;
const PAGE_H: f32 = 792.0;
const MARGIN: f32 = 56.0;
const BOTTOM: f32 = MARGIN + 24.0;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Font {
    Regular,
    Bold,
}

/// Helvetica advance widths (1/1000 em) of ASCII 32..=126.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];

/// The WinAnsi byte of a character; `?` when the encoding lacks it.
fn win_ansi(c: char) -> u8 {
    match c {
        ' '..='~' => c as u8,
        '\u{a0}'..='\u{ff}' => c as u32 as u8,
        '€' => 0x80,
        '…' => 0x85,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        _ => b'?',
    }
}

/// The width in points of `text` (accented letters as their base letter; bold a little wider).
fn width(text: &str, font: Font, size: f32) -> f32 {
    let units: u32 = text
        .chars()
        .map(|c| {
            let base = match c {
                'á' | 'à' | 'ä' | 'â' => 'a',
                'é' | 'è' | 'ë' | 'ê' => 'e',
                'í' | 'ì' | 'ï' | 'î' => 'i',
                'ó' | 'ò' | 'ö' | 'ô' => 'o',
                'ú' | 'ù' | 'ü' | 'û' => 'u',
                'ñ' => 'n',
                'Á' | 'À' | 'Ä' => 'A',
                'É' | 'È' | 'Ë' => 'E',
                'Í' | 'Ì' | 'Ï' => 'I',
                'Ó' | 'Ò' | 'Ö' => 'O',
                'Ú' | 'Ù' | 'Ü' => 'U',
                'Ñ' => 'N',
                c => c,
            };
            match base {
                ' '..='~' => u32::from(HELVETICA[base as usize - 32]),
                _ => 1000,
            }
        })
        .sum();
    let bold = if font == Font::Bold { 1.08 } else { 1.0 };
    units as f32 * size / 1000.0 * bold
}

/// Lines of `text` no wider than `max` points.
fn wrap(text: &str, font: Font, size: f32, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if width(&candidate, font, size) <= max || line.is_empty() {
            line = candidate;
        } else {
            lines.push(std::mem::take(&mut line));
            line = word.to_owned();
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Cuts `text` to fit `max` points, with an ellipsis.
fn fit(text: &str, font: Font, size: f32, max: f32) -> String {
    if width(text, font, size) <= max {
        return text.to_owned();
    }
    let mut out = String::new();
    for c in text.chars() {
        if width(&format!("{out}{c}…"), font, size) > max {
            break;
        }
        out.push(c);
    }
    format!("{out}…")
}

struct Pages {
    pages: Vec<Vec<u8>>,
    y: f32,
}

impl Pages {
    fn new() -> Self {
        Self {
            pages: vec![Vec::new()],
            y: PAGE_H - MARGIN,
        }
    }

    fn current(&mut self) -> &mut Vec<u8> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = PAGE_H - MARGIN;
    }

    /// Room for `height` points, or a new page.
    fn need(&mut self, height: f32) {
        if self.y - height < BOTTOM {
            self.new_page();
        }
    }

    fn text_at(&mut self, x: f32, y: f32, text: &str, font: Font, size: f32) {
        let mut op = format!(
            "BT /{} {size} Tf {x:.2} {y:.2} Td (",
            if font == Font::Bold { "F2" } else { "F1" }
        )
        .into_bytes();
        for c in text.chars() {
            let b = win_ansi(c);
            if matches!(b, b'(' | b')' | b'\\') {
                op.push(b'\\');
            }
            op.push(b);
        }
        op.extend_from_slice(b") Tj ET\n");
        self.current().extend_from_slice(&op);
    }

    /// A line of text at the cursor, then the cursor moves down.
    fn line(&mut self, text: &str, font: Font, size: f32) {
        let leading = size * 1.35;
        self.need(leading);
        self.y -= leading;
        let y = self.y;
        self.text_at(MARGIN, y, text, font, size);
    }

    fn paragraph(&mut self, text: &str, font: Font, size: f32) {
        for line in wrap(text, font, size, PAGE_W - 2.0 * MARGIN) {
            self.line(&line, font, size);
        }
    }

    fn gap(&mut self, points: f32) {
        self.y -= points;
    }

    /// One table row: cells left-aligned at `columns` x positions (right-aligned when the
    /// column's flag says so, ending at the next column's start).
    fn row(&mut self, cells: &[(&str, f32, bool)], font: Font, size: f32) {
        let leading = size * 1.45;
        self.need(leading);
        self.y -= leading;
        let y = self.y;
        for (i, (text, x, right)) in cells.iter().enumerate() {
            let end = cells.get(i + 1).map_or(PAGE_W - MARGIN, |c| c.1 - 6.0);
            let text = fit(text, font, size, end - x);
            let at = if *right {
                end - width(&text, font, size)
            } else {
                *x
            };
            self.text_at(at, y, &text, font, size);
        }
    }

    fn rule(&mut self) {
        let y = self.y - 4.0;
        self.current().extend_from_slice(
            format!(
                "0.5 w {MARGIN:.2} {y:.2} m {:.2} {y:.2} l S\n",
                PAGE_W - MARGIN
            )
            .as_bytes(),
        );
        self.y -= 6.0;
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "Sí" } else { "No" }
}

/// The PDF bytes of a determination.
pub fn dictamen_pdf(d: &Dictamen) -> Vec<u8> {
    let mut p = Pages::new();
    p.paragraph(&d.authority, Font::Bold, 13.0);
    p.paragraph(&d.title, Font::Bold, 15.0);
    p.gap(6.0);
    for (label, value) in [
        ("Proceso", &d.process_name),
        ("Cargo", &d.office_name),
        ("Aspirante", &d.aspirant_name),
        ("Fecha de corte de la Lista Nominal", &d.cut_date),
        ("Fecha de emisión", &d.generated_at),
    ] {
        p.paragraph(&format!("{label}: {value}"), Font::Regular, 10.5);
    }

    p.gap(10.0);
    p.line("Resultados de la verificación", Font::Bold, 12.0);
    let (label_x, count_x) = (MARGIN, PAGE_W - MARGIN - 110.0);
    p.row(
        &[("Situación", label_x, false), ("Apoyos", count_x, true)],
        Font::Bold,
        10.0,
    );
    p.rule();
    for (label, n) in &d.counts {
        p.row(
            &[(label, label_x, false), (&thousands(*n), count_x, true)],
            Font::Regular,
            10.0,
        );
    }
    p.rule();
    p.row(
        &[
            ("Total recibidos", label_x, false),
            (&thousands(d.received), count_x, true),
        ],
        Font::Bold,
        10.0,
    );

    p.gap(10.0);
    p.line("Umbral", Font::Bold, 12.0);
    p.paragraph(
        &format!("Apoyos válidos: {}", thousands(d.valid)),
        Font::Regular,
        10.5,
    );
    p.paragraph(
        &format!("Apoyos requeridos: {}", thousands(d.required)),
        Font::Regular,
        10.5,
    );
    p.paragraph(
        &format!("Cumple el umbral: {}", yes_no(d.threshold_reached)),
        Font::Bold,
        10.5,
    );

    if let Some(disp) = &d.dispersion {
        p.gap(10.0);
        p.line("Dispersión", Font::Bold, 12.0);
        p.paragraph(
            &format!(
                "Secciones que cumplen: {} de {} requeridas ({} secciones en el ámbito). Cumple la dispersión: {}",
                thousands(disp.sections_meeting),
                thousands(disp.sections_required),
                thousands(disp.sections_total),
                yes_no(disp.met)
            ),
            Font::Regular,
            10.5,
        );
        let xs = [
            MARGIN,
            MARGIN + 90.0,
            MARGIN + 200.0,
            MARGIN + 300.0,
            MARGIN + 400.0,
        ];
        let header = |p: &mut Pages| {
            p.row(
                &[
                    ("Sección", xs[0], false),
                    ("Lista Nominal", xs[1], true),
                    ("Requeridos", xs[2], true),
                    ("Válidos", xs[3], true),
                    ("Cumple", xs[4], false),
                ],
                Font::Bold,
                9.5,
            );
            p.rule();
        };
        header(&mut p);
        for s in &d.sections {
            let pages_before = p.pages.len();
            p.need(9.5 * 1.45);
            if p.pages.len() != pages_before {
                header(&mut p);
            }
            p.row(
                &[
                    (&s.section.to_string(), xs[0], false),
                    (&thousands(s.roll), xs[1], true),
                    (&thousands(s.needed), xs[2], true),
                    (&thousands(s.valid), xs[3], true),
                    (yes_no(s.meets), xs[4], false),
                ],
                Font::Regular,
                9.5,
            );
        }
    }

    p.gap(12.0);
    p.line("Conclusión", Font::Bold, 12.0);
    p.paragraph(&d.conclusion, Font::Regular, 10.5);

    // Signature blocks, two per row, kept together.
    for pair in d.signatures.chunks(2) {
        p.need(90.0);
        p.gap(60.0);
        let y = p.y;
        for (i, (name, position)) in pair.iter().enumerate() {
            let x = MARGIN + i as f32 * 260.0;
            p.current().extend_from_slice(
                format!("0.5 w {x:.2} {y:.2} m {:.2} {y:.2} l S\n", x + 220.0).as_bytes(),
            );
            p.text_at(
                x,
                y - 14.0,
                &fit(name, Font::Bold, 10.0, 220.0),
                Font::Bold,
                10.0,
            );
            p.text_at(
                x,
                y - 27.0,
                &fit(position, Font::Regular, 9.5, 220.0),
                Font::Regular,
                9.5,
            );
        }
        p.y -= 32.0;
    }

    let total = p.pages.len();
    for (i, page) in p.pages.iter_mut().enumerate() {
        let footer = format!("Página {} de {total}", i + 1);
        let x = PAGE_W - MARGIN - width(&footer, Font::Regular, 9.0);
        let mut op = format!("BT /F1 9 Tf {x:.2} {:.2} Td (", MARGIN - 20.0).into_bytes();
        op.extend(footer.chars().map(win_ansi));
        op.extend_from_slice(b") Tj ET\n");
        page.extend_from_slice(&op);
    }
    assemble(&p.pages)
}

/// Objects: 1 catalog, 2 pages, 3 and 4 fonts, then a page and its content per page.
fn assemble(pages: &[Vec<u8>]) -> Vec<u8> {
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets: Vec<usize> = Vec::new();
    let object = |out: &mut Vec<u8>, offsets: &mut Vec<usize>, body: &[u8]| {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", 5 + 2 * i))
        .collect();
    object(
        &mut out,
        &mut offsets,
        b"<< /Type /Catalog /Pages 2 0 R /Lang (es-MX) >>",
    );
    object(
        &mut out,
        &mut offsets,
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        )
        .as_bytes(),
    );
    object(
        &mut out,
        &mut offsets,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    );
    object(
        &mut out,
        &mut offsets,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
    );
    for (i, content) in pages.iter().enumerate() {
        object(
            &mut out,
            &mut offsets,
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
                6 + 2 * i
            )
            .as_bytes(),
        );
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend_from_slice(content);
        stream.extend_from_slice(b"\nendstream");
        object(&mut out, &mut offsets, &stream);
    }
    let xref_at = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes(),
    );
    for offset in &offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n",
            offsets.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sample(sections: usize) -> Dictamen {
        Dictamen {
            authority: "Instituto Electoral y de Participación Ciudadana de Durango".into(),
            title: "Dictamen sobre el porcentaje de apoyo de la ciudadanía".into(),
            process_name: "Ayuntamientos Durango 2024-2025".into(),
            office_name: "Ayuntamiento de Gómez Palacio".into(),
            aspirant_name: "Ñandú Peña (prueba)".into(),
            cut_date: "31/08/2024".into(),
            generated_at: "05/12/2026 10:00".into(),
            counts: vec![
                ("En Lista Nominal".into(), 1200),
                ("No encontrado".into(), 30),
            ],
            received: 1230,
            valid: 1200,
            required: 2574,
            threshold_reached: false,
            dispersion: Some(DispersionSummary {
                sections_required: 10,
                sections_meeting: 3,
                sections_total: 300,
                met: false,
            }),
            sections: (0..sections)
                .map(|i| SectionRow {
                    section: 300 + i as i64,
                    roll: 1000,
                    needed: 10,
                    valid: 3,
                    meets: false,
                })
                .collect(),
            conclusion:
                "¿Cumple? No: la persona aspirante no reúne el porcentaje de apoyo requerido."
                    .into(),
            signatures: vec![("Nombre de prueba".into(), "Secretaría Ejecutiva".into())],
        }
    }

    #[test]
    fn xref_offsets_point_at_their_objects() {
        let pdf = dictamen_pdf(&sample(300));
        assert!(pdf.starts_with(b"%PDF-1.4"));
        // One byte, one character: offsets stay the same.
        let text: String = pdf
            .iter()
            .map(|&b| if b.is_ascii() { b as char } else { '?' })
            .collect();
        let start: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(text[start..].starts_with("xref"));
        let entries: Vec<usize> = text[start..]
            .lines()
            .skip(3)
            .take_while(|l| l.ends_with(" n "))
            .map(|l| l[..10].parse().unwrap())
            .collect();
        assert!(entries.len() > 8);
        for (i, offset) in entries.iter().enumerate() {
            assert!(
                pdf[*offset..].starts_with(format!("{} 0 obj", i + 1).as_bytes()),
                "object {}",
                i + 1
            );
        }
        assert!(text.contains("/Count "));
        assert!(text.contains("P?gina 1 de "));
        assert!(
            !text.contains("P?gina 1 de 1)"),
            "300 secciones take several pages"
        );
    }

    #[test]
    fn spanish_letters_are_win_ansi() {
        let pdf = dictamen_pdf(&sample(1));
        // "Ñandú Peña" in WinAnsi.
        let needle = [0xD1, b'a', b'n', b'd', 0xFA, b' ', b'P', b'e', 0xF1, b'a'];
        assert!(pdf.windows(needle.len()).any(|w| w == needle));
        assert!(pdf.windows(1).any(|w| w == [0xBF]), "¿");
        assert_eq!(win_ansi('—'), 0x97);
        assert_eq!(win_ansi('漢'), b'?');
    }

    #[test]
    fn wrapping_respects_the_width() {
        let text = "Instituto Electoral y de Participación Ciudadana de Durango ".repeat(5);
        for line in wrap(&text, Font::Regular, 11.0, 300.0) {
            assert!(width(&line, Font::Regular, 11.0) <= 300.0, "{line}");
        }
        assert!(
            fit(
                "Ayuntamiento de Gómez Palacio, Durango",
                Font::Bold,
                10.0,
                60.0
            )
            .ends_with('…')
        );
    }
}
