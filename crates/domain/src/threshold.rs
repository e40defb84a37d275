//! Thresholds and dispersion (DOMAIN §7): parameters per process and office, never constants.

use serde::{Deserialize, Serialize};

/// How many valid supports an office requires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum ThresholdRule {
    /// A share of the territory's Lista Nominal at the cut date, in basis points
    /// (hundredths of a percent: 300 = 3.00 %), rounded up.
    Percent(u32),
    /// A fixed count.
    Fixed(u64),
}

impl ThresholdRule {
    /// Supports required for a territory whose Lista Nominal is `roll`.
    pub fn required(self, roll: u64) -> u64 {
        match self {
            // Integer arithmetic: rounding up must be exact, whatever the size.
            Self::Percent(bp) => (u128::from(roll) * u128::from(bp)).div_ceil(10_000) as u64,
            Self::Fixed(count) => count,
        }
    }
}

/// "At least `min_sections_bp` of the secciones, each with at least `min_support_bp`
/// of its roll" (both in basis points). Zero for both disables the rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispersionRule {
    pub min_sections_bp: u32,
    pub min_support_bp: u32,
}

impl DispersionRule {
    pub fn is_enabled(self) -> bool {
        self.min_sections_bp > 0
    }

    /// Valid supports a sección with `roll` voters needs to count toward dispersion
    /// (at least one when the rule is on).
    pub fn section_needs(self, roll: u64) -> u64 {
        ThresholdRule::Percent(self.min_support_bp)
            .required(roll)
            .max(1)
    }

    /// Secciones that must reach their share, out of `sections`.
    pub fn sections_needed(self, sections: u64) -> u64 {
        ThresholdRule::Percent(self.min_sections_bp).required(sections)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rounds_up() {
        assert_eq!(ThresholdRule::Percent(300).required(100), 3);
        assert_eq!(ThresholdRule::Percent(300).required(101), 4);
        assert_eq!(ThresholdRule::Percent(100).required(1_307_900), 13_079);
        assert_eq!(ThresholdRule::Percent(100).required(1_307_801), 13_079);
        assert_eq!(ThresholdRule::Percent(100).required(0), 0);
        assert_eq!(ThresholdRule::Fixed(4_821).required(999), 4_821);
    }

    #[test]
    fn dispersion() {
        let rule = DispersionRule {
            min_sections_bp: 5_000,
            min_support_bp: 100,
        };
        assert!(rule.is_enabled());
        assert_eq!(rule.sections_needed(39), 20);
        assert_eq!(rule.section_needs(1_250), 13);
        assert_eq!(rule.section_needs(10), 1);
        assert!(!DispersionRule::default().is_enabled());
    }

    proptest! {
        #[test]
        fn required_is_the_smallest_count_reaching_the_share(roll in 0u64..200_000_000, bp in 1u32..=10_000) {
            let required = ThresholdRule::Percent(bp).required(roll);
            prop_assert!(u128::from(required) * 10_000 >= u128::from(roll) * u128::from(bp));
            if required > 0 {
                prop_assert!(u128::from(required - 1) * 10_000 < u128::from(roll) * u128::from(bp));
            }
        }
    }
}
