//! The INE TD1 layout: which characters each of the 90 positions may hold.

/// Characters per line.
pub const LINE_LENGTH: usize = 30;
/// Lines of a TD1 MRZ.
pub const LINES: usize = 3;
pub(crate) const CELLS: usize = LINE_LENGTH * LINES;

/// The alphabet, in class order: digits, letters, filler.
pub(crate) const ALPHABET: &[u8; 37] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<";
pub(crate) const FILLER: usize = 36;

/// ICAO 9303 value of a class: digits as themselves, `A`=10 … `Z`=35, `<`=0.
pub(crate) fn value(class: usize) -> u32 {
    if class == FILLER { 0 } else { class as u32 }
}

/// The classes position `cell` (line × 30 + column) may hold.
pub(crate) fn allowed(cell: usize) -> Vec<usize> {
    let digits = || (0..10).collect::<Vec<_>>();
    let fixed = |c: u8| vec![class_of(c)];
    let (line, col) = (cell / LINE_LENGTH, cell % LINE_LENGTH);
    match (line, col) {
        // IDMEX, CIC + check, <<, OCR.
        (0, 0..=4) => fixed(b"IDMEX"[col]),
        (0, 15 | 16) => fixed(b'<'),
        (0, _) => digits(),
        // Birth date YYMMDD: month 0–1x, day 0–3x.
        (1, 2 | 10) => vec![0, 1],
        (1, 4 | 12) => vec![0, 1, 2, 3],
        (1, 7) => vec![class_of(b'H'), class_of(b'M')],
        (1, 15..=17) => fixed(b"MEX"[col - 15]),
        (1, 18 | 21 | 22 | 28) => fixed(b'<'),
        (1, _) => digits(),
        // Names: letters and fillers.
        _ => (10..37).collect(),
    }
}

pub(crate) fn class_of(c: u8) -> usize {
    ALPHABET.iter().position(|&a| a == c).unwrap_or(FILLER)
}

/// A check digit: the cells it covers, in order, and the cell holding it.
#[derive(Debug)]
pub(crate) struct CheckGroup {
    pub(crate) data: Vec<usize>,
    pub(crate) check: usize,
}

const L2: usize = LINE_LENGTH;

/// CIC, birth date and expiry: data cells and check cell.
pub(crate) fn field_checks() -> [CheckGroup; 3] {
    [
        CheckGroup {
            data: (5..14).collect(),
            check: 14,
        },
        CheckGroup {
            data: (L2..L2 + 6).collect(),
            check: L2 + 6,
        },
        CheckGroup {
            data: (L2 + 8..L2 + 14).collect(),
            check: L2 + 14,
        },
    ]
}

/// The composite check digit (TD1): line 1 from column 6, and line 2's birth
/// date, expiry and optional field with their check digits.
pub(crate) fn composite_check() -> CheckGroup {
    let mut data: Vec<usize> = (5..30).collect();
    data.extend(L2..L2 + 7);
    data.extend(L2 + 8..L2 + 15);
    data.extend(L2 + 18..L2 + 29);
    CheckGroup {
        data,
        check: L2 + 29,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_groups_match_the_domain_check_digits() {
        let lines = [
            "IDMEX2557631931<<0498022451028",
            "6508173M2712310MEX<01<<00783<0",
        ];
        let text: Vec<u8> = lines.concat().into_bytes();
        let mut groups = field_checks().into_iter().collect::<Vec<_>>();
        groups.push(composite_check());
        for group in groups {
            let data: String = group.data.iter().map(|&i| text[i] as char).collect();
            let expected = apoyo_domain::mrz::check_digit(&data);
            assert_eq!(expected, Some(text[group.check] as char), "{data}");
        }
        for (cell, &c) in text.iter().enumerate() {
            assert!(allowed(cell).contains(&class_of(c)), "cell {cell}");
        }
    }
}
