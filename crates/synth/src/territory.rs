//! The territory a synthetic roll covers: municipios (INE numbering), their share
//! of the roll, and their secciones.

use serde::Serialize;

/// Durango's entidad number (INEGI order).
pub const DURANGO_ENTIDAD: u8 = 10;

/// The highest sección number in Durango (2017 redistricting).
pub const DURANGO_MAX_SECTION: u16 = 1447;

/// The public table, embedded (see `data/README.md`).
const DURANGO_CSV: &str = include_str!("../data/durango_municipios.csv");

/// One municipio of the territory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Municipio {
    /// INE (electoral) number: the `municipio` column of roll files.
    pub ine_number: u16,
    /// INEGI (census) number.
    pub inegi_number: u16,
    pub name: String,
    /// Lista Nominal of the 2022 election; voters are spread in proportion to it.
    pub roll_2022: u32,
    /// Sección numbers, ascending. **Synthetic** mapping (see [`durango_territory`]).
    pub sections: Vec<u16>,
}

/// The 39 municipios of Durango in INE order, from the embedded public table.
///
/// The table gives only the *number* of secciones of each municipio (sum 1,419);
/// the numbers themselves are assigned here, deterministically and synthetically:
/// contiguous blocks in INE municipio order, with the 28 unused numbers of
/// 1…1447 spread as single gaps between blocks, so that the first municipio
/// starts at 1 and the last ends at 1447. Real cartography differs.
pub fn durango_territory() -> Vec<Municipio> {
    let mut rows: Vec<(u16, u16, String, u32, u16)> = DURANGO_CSV
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.trim().split(',').collect();
            match fields.as_slice() {
                [_, inegi, ine, name, roll, sections] => Some((
                    ine.parse().ok()?,
                    inegi.parse().ok()?,
                    (*name).to_owned(),
                    roll.parse().ok()?,
                    sections.parse().ok()?,
                )),
                _ => None,
            }
        })
        .collect();
    rows.sort_by_key(|row| row.0);
    let counts: Vec<u16> = rows.iter().map(|row| row.4).collect();
    let blocks = section_blocks(&counts, DURANGO_MAX_SECTION);
    rows.into_iter()
        .zip(blocks)
        .map(
            |((ine_number, inegi_number, name, roll_2022, _), sections)| Municipio {
                ine_number,
                inegi_number,
                name,
                roll_2022,
                sections,
            },
        )
        .collect()
}

/// Contiguous blocks of `counts[i]` numbers each, in order, spreading the
/// `max - sum(counts)` unused numbers as gaps between blocks so that the numbers
/// run from 1 to `max` (or to `sum(counts)` when `max` is smaller).
fn section_blocks(counts: &[u16], max: u16) -> Vec<Vec<u16>> {
    let total: u32 = counts.iter().map(|c| u32::from(*c)).sum();
    let gaps = u32::from(max).saturating_sub(total);
    let boundaries = (counts.len() as u32).saturating_sub(1).max(1);
    let mut next = 1u32;
    let mut gaps_used = 0u32;
    counts
        .iter()
        .enumerate()
        .map(|(i, count)| {
            let gaps_before = (i as u32) * gaps / boundaries;
            next += gaps_before - gaps_used;
            gaps_used = gaps_before;
            let block = (next..next + u32::from(*count))
                .filter_map(|s| u16::try_from(s).ok())
                .collect();
            next += u32::from(*count);
            block
        })
        .collect()
}

/// The municipio a sección belongs to.
pub fn municipio_of_section(territory: &[Municipio], section: u16) -> Option<&Municipio> {
    territory
        .iter()
        .find(|m| m.sections.binary_search(&section).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_public_table_is_embedded_whole() {
        let territory = durango_territory();
        assert_eq!(territory.len(), 39);
        assert_eq!(
            territory
                .iter()
                .map(|m| u64::from(m.roll_2022))
                .sum::<u64>(),
            1_338_589
        );
        let numbers: Vec<u16> = territory.iter().map(|m| m.ine_number).collect();
        assert_eq!(numbers, (1..=39).collect::<Vec<u16>>());
        let nuevo_ideal = &territory[16];
        assert_eq!(
            (nuevo_ideal.name.as_str(), nuevo_ideal.inegi_number),
            ("Nuevo Ideal", 39)
        );
        assert_eq!(territory[4].name, "Durango");
        assert_eq!(territory[4].sections.len(), 333);
    }

    #[test]
    fn sections_run_from_1_to_1447_without_overlap() {
        let territory = durango_territory();
        let all: Vec<u16> = territory.iter().flat_map(|m| m.sections.clone()).collect();
        assert_eq!(all.len(), 1419);
        assert_eq!(all.iter().copied().collect::<HashSet<u16>>().len(), 1419);
        assert_eq!(all.first(), Some(&1));
        assert_eq!(all.last(), Some(&DURANGO_MAX_SECTION));
        assert!(all.windows(2).all(|w| w[0] < w[1]));
        for m in &territory {
            assert!(
                m.sections.windows(2).all(|w| w[1] == w[0] + 1),
                "{}",
                m.name
            );
        }
        assert_eq!(
            municipio_of_section(&territory, 1).map(|m| m.ine_number),
            Some(1)
        );
        assert_eq!(
            municipio_of_section(&territory, 1447).map(|m| m.ine_number),
            Some(39)
        );
        let gap = (1..=1447u16)
            .find(|s| !all.contains(s))
            .unwrap_or_else(|| panic!("gaps"));
        assert!(municipio_of_section(&territory, gap).is_none());
    }
}
