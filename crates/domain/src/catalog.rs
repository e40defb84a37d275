//! Small closed catalogues used by the credential rules: states, sex, credential models.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Sex as INE writes it (sexo): `H` hombre, `M` mujer. Note that ICAO's `M` means male.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sex {
    H,
    M,
}

impl Sex {
    pub fn from_letter(letter: char) -> Option<Self> {
        match letter {
            'H' => Some(Sex::H),
            'M' => Some(Sex::M),
            _ => None,
        }
    }

    pub fn letter(self) -> char {
        match self {
            Sex::H => 'H',
            Sex::M => 'M',
        }
    }

    pub fn label_es(self) -> &'static str {
        match self {
            Sex::H => "hombre (H)",
            Sex::M => "mujer (M)",
        }
    }
}

/// A Mexican state (entidad federativa) with its INEGI number and its RENAPO code in CURP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// 1–32, INEGI order (Durango = 10).
    pub number: u8,
    /// Two letters used in CURP (Durango = `DG`).
    pub curp_code: &'static str,
    pub name: &'static str,
}

/// The 32 states in INEGI order.
pub const STATES: [State; 32] = [
    State {
        number: 1,
        curp_code: "AS",
        name: "Aguascalientes",
    },
    State {
        number: 2,
        curp_code: "BC",
        name: "Baja California",
    },
    State {
        number: 3,
        curp_code: "BS",
        name: "Baja California Sur",
    },
    State {
        number: 4,
        curp_code: "CC",
        name: "Campeche",
    },
    State {
        number: 5,
        curp_code: "CL",
        name: "Coahuila",
    },
    State {
        number: 6,
        curp_code: "CM",
        name: "Colima",
    },
    State {
        number: 7,
        curp_code: "CS",
        name: "Chiapas",
    },
    State {
        number: 8,
        curp_code: "CH",
        name: "Chihuahua",
    },
    State {
        number: 9,
        curp_code: "DF",
        name: "Ciudad de México",
    },
    State {
        number: 10,
        curp_code: "DG",
        name: "Durango",
    },
    State {
        number: 11,
        curp_code: "GT",
        name: "Guanajuato",
    },
    State {
        number: 12,
        curp_code: "GR",
        name: "Guerrero",
    },
    State {
        number: 13,
        curp_code: "HG",
        name: "Hidalgo",
    },
    State {
        number: 14,
        curp_code: "JC",
        name: "Jalisco",
    },
    State {
        number: 15,
        curp_code: "MC",
        name: "Estado de México",
    },
    State {
        number: 16,
        curp_code: "MN",
        name: "Michoacán",
    },
    State {
        number: 17,
        curp_code: "MS",
        name: "Morelos",
    },
    State {
        number: 18,
        curp_code: "NT",
        name: "Nayarit",
    },
    State {
        number: 19,
        curp_code: "NL",
        name: "Nuevo León",
    },
    State {
        number: 20,
        curp_code: "OC",
        name: "Oaxaca",
    },
    State {
        number: 21,
        curp_code: "PL",
        name: "Puebla",
    },
    State {
        number: 22,
        curp_code: "QT",
        name: "Querétaro",
    },
    State {
        number: 23,
        curp_code: "QR",
        name: "Quintana Roo",
    },
    State {
        number: 24,
        curp_code: "SP",
        name: "San Luis Potosí",
    },
    State {
        number: 25,
        curp_code: "SL",
        name: "Sinaloa",
    },
    State {
        number: 26,
        curp_code: "SR",
        name: "Sonora",
    },
    State {
        number: 27,
        curp_code: "TC",
        name: "Tabasco",
    },
    State {
        number: 28,
        curp_code: "TS",
        name: "Tamaulipas",
    },
    State {
        number: 29,
        curp_code: "TL",
        name: "Tlaxcala",
    },
    State {
        number: 30,
        curp_code: "VZ",
        name: "Veracruz",
    },
    State {
        number: 31,
        curp_code: "YN",
        name: "Yucatán",
    },
    State {
        number: 32,
        curp_code: "ZS",
        name: "Zacatecas",
    },
];

/// CURP's code for people born abroad (nacido en el extranjero).
pub const CURP_BORN_ABROAD: &str = "NE";

pub fn state_by_number(number: u8) -> Option<&'static State> {
    STATES.iter().find(|s| s.number == number)
}

pub fn state_by_curp_code(code: &str) -> Option<&'static State> {
    STATES.iter().find(|s| s.curp_code == code)
}

/// Model (modelo) of the credencial para votar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CredentialModel {
    A,
    B,
    C,
    D,
    E,
    F,
    G,
    H,
}

/// Which identifiers the roll check (compulsa) uses for a model (DOMAIN §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RollKey {
    /// Models A–C: clave de elector + número de emisión + OCR.
    ClaveIssueOcr,
    /// Model D: CIC + OCR.
    CicOcr,
    /// Models E–H: CIC + identificador del ciudadano.
    CicCitizenId,
}

impl CredentialModel {
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_uppercase().as_str() {
            "A" => Some(Self::A),
            "B" => Some(Self::B),
            "C" => Some(Self::C),
            "D" => Some(Self::D),
            "E" => Some(Self::E),
            "F" => Some(Self::F),
            "G" => Some(Self::G),
            "H" => Some(Self::H),
            _ => None,
        }
    }

    pub fn roll_key(self) -> RollKey {
        match self {
            Self::A | Self::B | Self::C => RollKey::ClaveIssueOcr,
            Self::D => RollKey::CicOcr,
            Self::E | Self::F | Self::G | Self::H => RollKey::CicCitizenId,
        }
    }

    /// Models D–H carry an MRZ on the back.
    pub fn has_mrz(self) -> bool {
        self >= Self::D
    }
}

impl fmt::Display for CredentialModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_numbered_in_order_with_unique_codes() {
        for (i, state) in STATES.iter().enumerate() {
            assert_eq!(usize::from(state.number), i + 1);
            assert_eq!(
                STATES
                    .iter()
                    .filter(|s| s.curp_code == state.curp_code)
                    .count(),
                1
            );
        }
        assert_eq!(state_by_number(10).map(|s| s.curp_code), Some("DG"));
        assert_eq!(state_by_curp_code("DG").map(|s| s.number), Some(10));
        assert!(state_by_number(33).is_none());
        assert!(state_by_curp_code(CURP_BORN_ABROAD).is_none());
    }

    #[test]
    fn models_map_to_their_roll_keys() {
        assert_eq!(CredentialModel::parse(" c "), Some(CredentialModel::C));
        assert_eq!(CredentialModel::parse("I"), None);
        assert_eq!(CredentialModel::A.roll_key(), RollKey::ClaveIssueOcr);
        assert_eq!(CredentialModel::D.roll_key(), RollKey::CicOcr);
        assert_eq!(CredentialModel::H.roll_key(), RollKey::CicCitizenId);
        assert!(!CredentialModel::C.has_mrz());
        assert!(CredentialModel::D.has_mrz());
    }
}
