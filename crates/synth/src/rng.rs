//! Small self-contained randomness: SplitMix64 as generator and hash, and a keyed
//! Feistel permutation for identifiers that must be unique without a table.
//!
//! Nothing here reads the operating system: the same seed gives the same output
//! on every machine, release after release (changing these functions changes every
//! generated file, so they are fixed by tests).

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's finaliser: a bijective 64-bit mixer.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash of a few words (seed, stream, index…), order-sensitive.
pub(crate) fn hash(words: &[u64]) -> u64 {
    let mut h: u64 = 0x243F_6A88_85A3_08D3;
    for word in words {
        h = mix64(h.wrapping_add(GOLDEN) ^ mix64(word.wrapping_add(GOLDEN)));
    }
    h
}

/// SplitMix64 (Steele, Lea, Flood 2014): fast, 64-bit state, good enough for
/// synthetic data. One generator per citizen, seeded by `hash(seed, stream, index)`.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix64(self.0)
    }

    /// Uniform in `0..n` (multiply-shift; the bias is below 2⁻⁴⁰ for the sizes used). `n > 0`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`; `lo` when the range is empty.
    pub(crate) fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo) as u64 + 1) as i64
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// A weighted choice over a fixed list (cumulative weights, binary search).
#[derive(Clone, Debug)]
pub(crate) struct Weighted {
    cumulative: Vec<u64>,
}

impl Weighted {
    /// `None` when there is nothing to choose (no positive weight).
    pub(crate) fn new(weights: impl IntoIterator<Item = u64>) -> Option<Self> {
        let mut total = 0u64;
        let cumulative: Vec<u64> = weights
            .into_iter()
            .map(|w| {
                total += w;
                total
            })
            .collect();
        (total > 0).then_some(Self { cumulative })
    }

    /// An index with probability proportional to its weight.
    pub(crate) fn pick(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1);
        let r = rng.below(total);
        self.cumulative.partition_point(|c| *c <= r)
    }
}

/// A keyed bijection of `0..n`: a balanced 4-round Feistel network on the
/// smallest even number of bits that covers `n`, with cycle walking. Used to give
/// every credential a CIC and an identificador that no other row has, and every
/// citizen a birth-date slot, without remembering what was handed out.
#[derive(Clone, Debug)]
pub(crate) struct Permutation {
    n: u64,
    half_bits: u32,
    mask: u64,
    keys: [u64; 4],
}

impl Permutation {
    pub(crate) fn new(n: u64, key: u64) -> Self {
        let mut half_bits = 1;
        while (1u128 << (2 * half_bits)) < u128::from(n) {
            half_bits += 1;
        }
        Self {
            n,
            half_bits,
            mask: (1u64 << half_bits) - 1,
            keys: [
                hash(&[key, 1]),
                hash(&[key, 2]),
                hash(&[key, 3]),
                hash(&[key, 4]),
            ],
        }
    }

    fn round_trip(&self, x: u64) -> u64 {
        let (mut left, mut right) = (x >> self.half_bits, x & self.mask);
        for key in self.keys {
            let f = mix64(right ^ key) & self.mask;
            (left, right) = (right, left ^ f);
        }
        (left << self.half_bits) | right
    }

    /// The image of `x` (`x < n`). Cycle walking stays inside `0..n` because the
    /// Feistel network permutes the covering power of four.
    pub(crate) fn apply(&self, x: u64) -> u64 {
        let mut y = self.round_trip(x);
        while y >= self.n {
            y = self.round_trip(y);
        }
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn permutation_is_a_bijection() {
        for n in [1u64, 2, 3, 7, 64, 1000, 4097] {
            let p = Permutation::new(n, 42);
            let images: HashSet<u64> = (0..n).map(|x| p.apply(x)).collect();
            assert_eq!(images.len() as u64, n);
            assert!(images.iter().all(|y| *y < n));
        }
    }

    #[test]
    fn generator_is_stable() {
        // Pinned: changing the generator changes every synthetic file.
        let mut rng = Rng::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(hash(&[1, 2]), hash(&[1, 2]));
        assert_ne!(hash(&[1, 2]), hash(&[2, 1]));
        let weighted = Weighted::new([0, 5, 0, 5]).unwrap_or_else(|| panic!("weights"));
        let mut counts = [0; 4];
        for _ in 0..1000 {
            counts[weighted.pick(&mut rng)] += 1;
        }
        assert_eq!(counts[0] + counts[2], 0);
        assert!(counts[1] > 400 && counts[3] > 400, "{counts:?}");
    }
}
