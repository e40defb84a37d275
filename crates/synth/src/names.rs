//! Weighted name tables and the letters each name gives to the clave de elector
//! and the CURP.
//!
//! The tables are common Mexican surnames and given names with invented but
//! plausible relative frequencies (a steep, Zipf-like head: HERNÁNDEZ is about
//! 4 % of surnames, JUAN about 2 % of men's names), so that homonyms are
//! frequent, as on a real roll. They include particles (DE LA CRUZ, DEL RÍO), Ñ
//! (MUÑOZ, PEÑA, IBÁÑEZ, NÚÑEZ), compound given names (JOSÉ LUIS, MARÍA
//! GUADALUPE) and abbreviations (MA. DEL CARMEN, J. JESÚS). Names are kept as
//! people write them (accents, dots); the roll gets them through
//! `apoyo_domain::names::normalize`.

use apoyo_domain::names::{
    PARTICLES, SKIPPED_GIVEN_NAMES, expected_clave_letters, mrz_form, normalize,
};

use crate::SynthError;
use crate::rng::{Rng, Weighted};

/// Surnames (paternal and maternal are drawn from the same table), with weights.
const SURNAMES: &[(&str, u32)] = &[
    ("Hernández", 440),
    ("García", 330),
    ("Martínez", 310),
    ("López", 290),
    ("González", 270),
    ("Rodríguez", 230),
    ("Pérez", 220),
    ("Sánchez", 200),
    ("Ramírez", 190),
    ("Flores", 150),
    ("Cruz", 130),
    ("Gómez", 130),
    ("Morales", 110),
    ("Vázquez", 110),
    ("Reyes", 110),
    ("Jiménez", 105),
    ("Torres", 100),
    ("Díaz", 100),
    ("Gutiérrez", 95),
    ("Ruiz", 90),
    ("Mendoza", 88),
    ("Aguilar", 85),
    ("Ortiz", 80),
    ("Moreno", 78),
    ("Castillo", 76),
    ("Romero", 74),
    ("Álvarez", 72),
    ("Méndez", 70),
    ("Chávez", 68),
    ("Rivera", 66),
    ("Juárez", 64),
    ("Ramos", 62),
    ("Domínguez", 60),
    ("Herrera", 58),
    ("Medina", 56),
    ("Castro", 54),
    ("Vargas", 52),
    ("Guzmán", 50),
    ("Velázquez", 48),
    ("Muñoz", 47),
    ("Rojas", 46),
    ("Contreras", 45),
    ("Salazar", 44),
    ("Luna", 43),
    ("Ortega", 42),
    ("Soto", 42),
    ("Guerrero", 40),
    ("Estrada", 38),
    ("Alvarado", 36),
    ("Santiago", 30),
    ("Espinoza", 34),
    ("Lara", 33),
    ("Ávila", 32),
    ("Ríos", 32),
    ("Cervantes", 31),
    ("Silva", 30),
    ("Delgado", 30),
    ("Vega", 29),
    ("Márquez", 29),
    ("Sandoval", 28),
    ("Fernández", 28),
    ("León", 27),
    ("Carrillo", 27),
    ("Mejía", 26),
    ("Solís", 26),
    ("Núñez", 25),
    ("Rosas", 25),
    ("Valdez", 25),
    ("Ibarra", 24),
    ("Campos", 24),
    ("Santos", 23),
    ("Camacho", 23),
    ("Navarro", 22),
    ("Peña", 22),
    ("Maldonado", 22),
    ("Rosales", 21),
    ("Acosta", 21),
    ("Miranda", 20),
    ("Trejo", 20),
    ("Cabrera", 20),
    ("Valencia", 19),
    ("Nava", 19),
    ("Castañeda", 19),
    ("Pacheco", 18),
    ("Robles", 18),
    ("Molina", 18),
    ("Rangel", 18),
    ("Fuentes", 17),
    ("Huerta", 17),
    ("Meza", 17),
    ("Aguirre", 17),
    ("Cárdenas", 16),
    ("Orozco", 16),
    ("Padilla", 16),
    ("Espinosa", 15),
    ("Ayala", 15),
    ("Salas", 15),
    ("Valenzuela", 15),
    ("Zúñiga", 14),
    ("Ochoa", 14),
    ("Salinas", 14),
    ("Serrano", 13),
    ("Macías", 13),
    ("Zamora", 13),
    ("Calderón", 13),
    ("Quiñones", 13),
    ("Soria", 12),
    ("Sierra", 12),
    ("Favela", 12),
    ("Gallegos", 12),
    ("Galindo", 12),
    ("Arreola", 12),
    ("Ruelas", 11),
    ("Alanís", 11),
    ("Rocha", 11),
    ("Montoya", 11),
    ("Gamboa", 10),
    ("Barraza", 10),
    ("Nevárez", 10),
    ("Quiroz", 10),
    ("Villarreal", 10),
    ("Esparza", 10),
    ("Bustamante", 9),
    ("Carrasco", 9),
    ("Reyna", 9),
    ("Rentería", 9),
    ("Avitia", 9),
    ("Corral", 9),
    ("Saucedo", 9),
    ("Olvera", 8),
    ("Cisneros", 8),
    ("Ibáñez", 8),
    ("Pineda", 8),
    ("Ponce", 8),
    ("Vela", 8),
    ("Bañuelos", 7),
    ("Muñiz", 7),
    ("Simental", 7),
    ("Ontiveros", 7),
    ("Meraz", 7),
    ("Vizcarra", 6),
    ("Caldera", 6),
    ("Valles", 6),
    ("Uribe", 6),
    ("Escobedo", 6),
    ("De la Cruz", 12),
    ("Del Río", 6),
    ("De los Santos", 6),
    ("De León", 8),
    ("De la Rosa", 6),
    ("Del Toro", 3),
    ("Ordóñez", 5),
    ("Aguayo", 12),
    ("Alcántara", 19),
    ("Almaraz", 26),
    ("Amaya", 33),
    ("Andrade", 16),
    ("Arellano", 23),
    ("Arias", 30),
    ("Arroyo", 13),
    ("Ayón", 20),
    ("Barajas", 27),
    ("Barrera", 34),
    ("Becerra", 17),
    ("Beltrán", 24),
    ("Benítez", 31),
    ("Bermúdez", 14),
    ("Blanco", 21),
    ("Bonilla", 28),
    ("Bravo", 35),
    ("Briones", 18),
    ("Burciaga", 25),
    ("Cabral", 32),
    ("Calvillo", 15),
    ("Canales", 22),
    ("Cano", 29),
    ("Carmona", 12),
    ("Carranza", 19),
    ("Casas", 26),
    ("Castellanos", 33),
    ("Cázares", 16),
    ("Chacón", 23),
    ("Ceniceros", 30),
    ("Cepeda", 13),
    ("Córdova", 20),
    ("Coronado", 27),
    ("Correa", 34),
    ("Cuevas", 17),
    ("Dávila", 24),
    ("Duarte", 31),
    ("Durán", 14),
    ("Elizondo", 21),
    ("Enríquez", 28),
    ("Escobar", 35),
    ("Esquivel", 18),
    ("Farías", 25),
    ("Félix", 32),
    ("Figueroa", 15),
    ("Franco", 22),
    ("Frías", 29),
    ("Gallardo", 12),
    ("Galván", 19),
    ("Garza", 26),
    ("Gil", 33),
    ("Godínez", 16),
    ("Granados", 23),
    ("Guevara", 30),
    ("Hinojosa", 13),
    ("Hurtado", 20),
    ("Jaramillo", 27),
    ("Lozano", 34),
    ("Lucero", 17),
    ("Luján", 24),
    ("Magallanes", 31),
    ("Manríquez", 14),
    ("Mata", 21),
    ("Mercado", 28),
    ("Montes", 35),
    ("Montiel", 18),
    ("Mora", 25),
    ("Murillo", 32),
    ("Nájera", 15),
    ("Nieto", 22),
    ("Olivas", 29),
    ("Olivares", 12),
    ("Ornelas", 19),
    ("Parra", 26),
    ("Pizarro", 33),
    ("Porras", 16),
    ("Prieto", 23),
    ("Quintero", 30),
    ("Rascón", 13),
    ("Rico", 20),
    ("Rivas", 27),
    ("Roldán", 34),
    ("Rubio", 17),
    ("Salcido", 24),
    ("Saldaña", 31),
    ("Sáenz", 14),
    ("Segovia", 21),
    ("Sosa", 28),
    ("Suárez", 35),
    ("Tapia", 18),
    ("Tovar", 25),
    ("Ureña", 32),
    ("Urquidi", 15),
    ("Valadez", 22),
    ("Valdés", 29),
    ("Varela", 12),
    ("Venegas", 19),
    ("Villa", 26),
    ("Villegas", 33),
    ("Yáñez", 16),
    ("Zapata", 23),
    ("Zavala", 30),
    ("Zepeda", 13),
    ("Arámbula", 20),
    ("Bretado", 27),
    ("Cháirez", 34),
    ("Gurrola", 17),
    ("Medrano", 24),
    ("Soriano", 31),
    ("Vaquera", 14),
    ("Velarde", 21),
    ("Zamarripa", 28),
];

const MALE_NAMES: &[(&str, u32)] = &[
    ("Juan", 220),
    ("José Luis", 200),
    ("José", 180),
    ("Francisco", 170),
    ("Jesús", 160),
    ("Antonio", 150),
    ("Miguel Ángel", 140),
    ("Alejandro", 130),
    ("Manuel", 125),
    ("Pedro", 110),
    ("Juan Carlos", 110),
    ("Jorge", 105),
    ("Carlos", 100),
    ("Ricardo", 90),
    ("Roberto", 85),
    ("Fernando", 85),
    ("Luis", 80),
    ("Javier", 80),
    ("Daniel", 80),
    ("Eduardo", 75),
    ("José Antonio", 75),
    ("Sergio", 70),
    ("Raúl", 70),
    ("Martín", 68),
    ("Rafael", 66),
    ("Arturo", 64),
    ("David", 62),
    ("J. Jesús", 60),
    ("Salvador", 55),
    ("Gerardo", 55),
    ("Enrique", 55),
    ("Mario", 52),
    ("Óscar", 50),
    ("Víctor Manuel", 50),
    ("Alberto", 48),
    ("Juan Manuel", 45),
    ("José Manuel", 45),
    ("Héctor", 44),
    ("Ramón", 42),
    ("Guillermo", 40),
    ("Rubén", 40),
    ("Ignacio", 38),
    ("Alfredo", 36),
    ("Andrés", 35),
    ("Gabriel", 35),
    ("Armando", 34),
    ("Ernesto", 32),
    ("José de Jesús", 32),
    ("Juan de Dios", 20),
    ("Rogelio", 28),
    ("Felipe", 28),
    ("Hugo", 26),
    ("Agustín", 25),
    ("Marco Antonio", 25),
    ("Luis Alberto", 24),
    ("Jaime", 24),
    ("Jesús Manuel", 22),
    ("Julio César", 22),
    ("Ángel", 40),
    ("Diego", 35),
    ("Santiago", 20),
    ("Emiliano", 15),
    ("Sebastián", 15),
    ("Kevin", 14),
    ("Brayan", 12),
    ("Luis Fernando", 18),
    ("Cristian", 18),
    ("Iván", 18),
    ("Omar", 18),
    ("Erick", 16),
    ("Adrián", 18),
    ("Abraham", 14),
    ("Israel", 14),
    ("Joel", 14),
    ("Efraín", 12),
    ("Mauricio", 14),
    ("Rodolfo", 16),
    ("Gilberto", 14),
    ("Margarito", 8),
    ("Gregorio", 10),
    ("Nicolás", 10),
    ("Tomás", 12),
    ("Eusebio", 6),
    ("Cruz", 8),
    ("Benito", 8),
    ("Íñigo", 1),
    ("Abel", 30),
    ("Adolfo", 41),
    ("Alan", 52),
    ("Alfonso", 63),
    ("Álvaro", 38),
    ("Aurelio", 49),
    ("Bernardo", 60),
    ("Bruno", 35),
    ("César", 46),
    ("Cristóbal", 57),
    ("Damián", 32),
    ("Darío", 43),
    ("Edgar", 54),
    ("Elías", 65),
    ("Emilio", 40),
    ("Esteban", 51),
    ("Ezequiel", 62),
    ("Fabián", 37),
    ("Faustino", 48),
    ("Federico", 59),
    ("Fidel", 34),
    ("Gustavo", 45),
    ("Horacio", 56),
    ("Humberto", 31),
    ("Isaac", 42),
    ("Isidro", 53),
    ("Jacinto", 64),
    ("Jonathan", 39),
    ("Jorge Luis", 50),
    ("José Alfredo", 61),
    ("José Guadalupe", 36),
    ("Juan Antonio", 47),
    ("Juan José", 58),
    ("Julián", 33),
    ("Leonardo", 44),
    ("Lorenzo", 55),
    ("Marcos", 30),
    ("Mateo", 41),
    ("Matías", 52),
    ("Maximiliano", 63),
    ("Moisés", 38),
    ("Noé", 49),
    ("Octavio", 60),
    ("Pablo", 35),
    ("Patricio", 46),
    ("Rigoberto", 57),
    ("Rodrigo", 32),
    ("Samuel", 43),
    ("Saúl", 54),
    ("Simón", 65),
    ("Teodoro", 40),
    ("Ulises", 51),
    ("Valentín", 62),
    ("Vicente", 37),
    ("Alonso", 48),
    ("Francisco Javier", 59),
    ("Luis Ángel", 34),
    ("Jesús Alberto", 45),
];

const FEMALE_NAMES: &[(&str, u32)] = &[
    ("María Guadalupe", 260),
    ("Guadalupe", 150),
    ("María", 140),
    ("Juana", 110),
    ("Margarita", 100),
    ("María del Carmen", 100),
    ("Verónica", 95),
    ("Elizabeth", 90),
    ("Rosa María", 85),
    ("Leticia", 85),
    ("María Elena", 80),
    ("Alejandra", 80),
    ("Yolanda", 78),
    ("Martha", 76),
    ("Patricia", 76),
    ("Adriana", 72),
    ("Gabriela", 70),
    ("Laura", 68),
    ("Silvia", 66),
    ("Ana María", 64),
    ("Ma. Guadalupe", 60),
    ("Ma. del Carmen", 40),
    ("Ma. de Lourdes", 30),
    ("María de Jesús", 50),
    ("María de los Ángeles", 30),
    ("Claudia", 60),
    ("Rosa", 60),
    ("Teresa", 55),
    ("Lucía", 50),
    ("Sandra", 50),
    ("Araceli", 45),
    ("Josefina", 45),
    ("Francisca", 40),
    ("Alicia", 40),
    ("Irma", 38),
    ("Blanca Estela", 30),
    ("Norma Alicia", 25),
    ("Sonia", 30),
    ("Luz María", 35),
    ("María Isabel", 35),
    ("María Teresa", 35),
    ("Ana", 30),
    ("Carmen", 30),
    ("Esperanza", 30),
    ("Angélica", 30),
    ("Diana", 30),
    ("Mónica", 30),
    ("Karla", 35),
    ("Daniela", 45),
    ("Fernanda", 35),
    ("Andrea", 40),
    ("Valeria", 35),
    ("Ximena", 25),
    ("Itzel", 20),
    ("Monserrat", 18),
    ("Brenda", 28),
    ("Karen", 25),
    ("Jessica", 22),
    ("Paola", 25),
    ("Cecilia", 25),
    ("Beatriz", 25),
    ("Dolores", 22),
    ("Rocío", 24),
    ("Maribel", 22),
    ("Lorena", 24),
    ("Erika", 22),
    ("Nancy", 20),
    ("Liliana", 20),
    ("Susana", 20),
    ("Esmeralda", 18),
    ("Noemí", 14),
    ("Miriam", 16),
    ("Begoña", 1),
    ("Abigail", 20),
    ("Adela", 33),
    ("Alma Delia", 24),
    ("Amparo", 37),
    ("Aurora", 28),
    ("Azucena", 41),
    ("Bertha", 32),
    ("Carolina", 23),
    ("Catalina", 36),
    ("Concepción", 27),
    ("Consuelo", 40),
    ("Cristina", 31),
    ("Edith", 22),
    ("Elena", 35),
    ("Elvira", 26),
    ("Estela", 39),
    ("Eva", 30),
    ("Gloria", 21),
    ("Graciela", 34),
    ("Hilda", 25),
    ("Isabel", 38),
    ("Jazmín", 29),
    ("Julia", 20),
    ("Juana María", 33),
    ("Leonor", 24),
    ("Lidia", 37),
    ("Lilia", 28),
    ("Luisa", 41),
    ("Lourdes", 32),
    ("Marisol", 23),
    ("Marina", 36),
    ("Mariana", 27),
    ("Natalia", 40),
    ("Olga", 31),
    ("Perla", 22),
    ("Raquel", 35),
    ("Regina", 26),
    ("Reyna", 39),
    ("Rosario", 30),
    ("Ruth", 21),
    ("Sara", 34),
    ("Sofía", 25),
    ("Socorro", 38),
    ("Tania", 29),
    ("Viridiana", 20),
    ("Yesenia", 33),
];

/// Words RENAPO does not let the first four letters of a CURP spell; the second
/// letter becomes `X` (public list of "palabras inconvenientes").
const INCONVENIENT_WORDS: &[&str] = &[
    "BACA", "BAKA", "BUEI", "BUEY", "CACA", "CACO", "CAGA", "CAGO", "CAKA", "CAKO", "COGE", "COGI",
    "COJA", "COJE", "COJI", "COJO", "COLA", "CULO", "FALO", "FETO", "GETA", "GUEI", "GUEY", "JETA",
    "JOTO", "KACA", "KACO", "KAGA", "KAGO", "KAKA", "KAKO", "KOGE", "KOGI", "KOJA", "KOJE", "KOJI",
    "KOJO", "KOLA", "KULO", "LILO", "LOCA", "LOCO", "LOKA", "LOKO", "MAME", "MAMO", "MEAR", "MEAS",
    "MEON", "MIAR", "MION", "MOCO", "MOKO", "MULA", "MULO", "NACA", "NACO", "PEDA", "PEDO", "PENE",
    "PIPI", "PITO", "POPO", "PUTA", "PUTO", "QULO", "RATA", "ROBA", "ROBE", "ROBO", "RUIN", "SENO",
    "TETA", "VACA", "VAGA", "VAGO", "VAKA", "VUEI", "VUEY", "WUEI", "WUEY",
];

/// One name (a surname, or a person's given names) with everything derived from it.
#[derive(Clone, Debug)]
pub(crate) struct NameInfo {
    /// As people write it (accents, dots).
    pub display: &'static str,
    /// As the roll writes it (`apoyo_domain::names::normalize`).
    pub normalized: String,
    /// The MRZ form (Ñ as N, words joined with `<`).
    pub mrz: String,
    /// The two letters it gives the clave de elector (primary reading).
    pub clave: [u8; 2],
    /// CURP letters: first letter, first internal vowel, first internal consonant.
    pub curp: [u8; 3],
}

#[derive(Clone, Debug)]
pub(crate) struct NameTable {
    pub entries: Vec<NameInfo>,
    weights: Weighted,
}

impl NameTable {
    fn new(list: &[(&'static str, u32)], given: bool) -> Result<Self, SynthError> {
        let entries = list
            .iter()
            .map(|(display, _)| NameInfo::new(display, given))
            .collect::<Result<Vec<_>, _>>()?;
        let weights = Weighted::new(list.iter().map(|(_, w)| u64::from(*w)))
            .ok_or_else(|| SynthError::Internal("empty name table".into()))?;
        Ok(Self { entries, weights })
    }

    pub(crate) fn pick(&self, rng: &mut Rng) -> &NameInfo {
        &self.entries[self.weights.pick(rng)]
    }
}

/// The three name tables.
#[derive(Clone, Debug)]
pub(crate) struct Names {
    pub surnames: NameTable,
    pub male: NameTable,
    pub female: NameTable,
}

impl Names {
    pub(crate) fn new() -> Result<Self, SynthError> {
        Ok(Self {
            surnames: NameTable::new(SURNAMES, false)?,
            male: NameTable::new(MALE_NAMES, true)?,
            female: NameTable::new(FEMALE_NAMES, true)?,
        })
    }
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'A' | 'E' | 'I' | 'O' | 'U')
}

/// ASCII letter for an identifier: Ñ (and anything else outside A–Z) becomes X.
fn ascii_letter(c: char) -> u8 {
    if c.is_ascii_uppercase() {
        c as u8
    } else {
        b'X'
    }
}

/// The word that gives a name its CURP letters: a leading JOSE/MARIA (and their
/// abbreviations) is skipped in compound given names, then particles.
fn significant_word(normalized: &str, given: bool) -> Option<&str> {
    let words: Vec<&str> = normalized.split(' ').filter(|w| !w.is_empty()).collect();
    let mut rest = words.as_slice();
    if given && rest.len() > 1 && SKIPPED_GIVEN_NAMES.contains(&rest[0]) {
        rest = &rest[1..];
    }
    rest.iter()
        .copied()
        .find(|w| !PARTICLES.contains(w))
        .or_else(|| rest.first().copied())
}

impl NameInfo {
    fn new(display: &'static str, given: bool) -> Result<Self, SynthError> {
        let normalized = normalize(display)
            .map_err(|c| SynthError::Internal(format!("name table: {c:?} in {display:?}")))?;
        let expected = if given {
            expected_clave_letters("X", "", &normalized).primary
        } else {
            expected_clave_letters(&normalized, "", "X").primary
        };
        let bytes = expected.as_bytes();
        let clave = if given {
            [bytes[4], bytes[5]]
        } else {
            [bytes[0], bytes[1]]
        };
        let word = significant_word(&normalized, given).unwrap_or("X");
        let mut chars = word.chars();
        let first = chars.next().map_or(b'X', ascii_letter);
        let rest: Vec<char> = chars.collect();
        let vowel = rest
            .iter()
            .copied()
            .find(|c| is_vowel(*c))
            .map_or(b'X', ascii_letter);
        let consonant = rest
            .iter()
            .copied()
            .find(|c| !is_vowel(*c))
            .map_or(b'X', ascii_letter);
        Ok(Self {
            display,
            mrz: mrz_form(&normalized),
            normalized,
            clave,
            curp: [first, vowel, consonant],
        })
    }
}

/// The first four letters of a CURP, with RENAPO's replacement of the second
/// letter by `X` when they spell an inconvenient word.
pub(crate) fn curp_initials(
    paternal: &NameInfo,
    maternal: Option<&NameInfo>,
    given: &NameInfo,
) -> [u8; 4] {
    let mut initials = [
        paternal.curp[0],
        paternal.curp[1],
        maternal.map_or(b'X', |m| m.curp[0]),
        given.curp[0],
    ];
    if INCONVENIENT_WORDS.iter().any(|w| w.as_bytes() == initials) {
        initials[1] = b'X';
    }
    initials
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &'static str, given: bool) -> NameInfo {
        NameInfo::new(name, given).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn every_table_entry_normalizes() {
        let names = Names::new().unwrap_or_else(|e| panic!("{e}"));
        assert!(names.surnames.entries.len() > 150);
        assert!(
            names
                .surnames
                .entries
                .iter()
                .any(|n| n.normalized == "DE LA CRUZ")
        );
        assert!(
            names
                .female
                .entries
                .iter()
                .any(|n| n.normalized == "MA DEL CARMEN")
        );
    }

    #[test]
    fn curp_letters_follow_renapo() {
        assert_eq!(&info("Hernández", false).curp, b"HER");
        assert_eq!(&info("Muñoz", false).curp, b"MUX");
        assert_eq!(&info("Peña", false).curp, b"PEX");
        assert_eq!(&info("Ibáñez", false).curp, b"IAB");
        assert_eq!(&info("De la Cruz", false).curp, b"CUR");
        assert_eq!(&info("José Luis", true).curp, b"LUS");
        assert_eq!(&info("José", true).curp, b"JOS");
        assert_eq!(&info("Ma. del Carmen", true).curp, b"CAR");
        assert_eq!(&info("María de los Ángeles", true).curp, b"AEN");
        assert_eq!(&info("Íñigo", true).curp, b"IIX");
        assert_eq!(info("Muñoz", false).clave, *b"MX");
        assert_eq!(info("De la Cruz", false).clave, *b"CR");
        assert_eq!(info("José Luis", true).clave, *b"LS");
    }

    #[test]
    fn inconvenient_words_get_an_x() {
        let (vaca_p, vaca_g) = (info("Vázquez", false), info("Carlos", true));
        // V-A from VAZQUEZ, C from the maternal CASTRO, A from ANTONIO: VACA.
        let castro = info("Castro", false);
        let antonio = info("Antonio", true);
        assert_eq!(&curp_initials(&vaca_p, Some(&castro), &antonio), b"VXCA");
        assert_eq!(&curp_initials(&vaca_p, Some(&castro), &vaca_g), b"VACC");
        assert_eq!(&curp_initials(&vaca_p, None, &vaca_g), b"VAXC");
    }
}
