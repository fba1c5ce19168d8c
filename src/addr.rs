//! Maps keyed by addresses (handles, easy pointers).
//!
//! Owns: one cheap hasher for such keys. The std default (SipHash) defends
//! against keys an attacker chooses; addresses come from the allocator, and
//! these maps are on the path of every transfer.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A map keyed by an address.
///
/// cbindgen:ignore
pub(crate) type AddrMap<V> = HashMap<usize, V, BuildHasherDefault<AddrHasher>>;

/// Fibonacci hashing: one multiply spreads the address's bits upwards; the
/// rotation brings the best-mixed high half down to the low bits hashbrown
/// indexes buckets with (an aligned address has its own low bits zero).
#[derive(Default)]
pub(crate) struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0.rotate_left(32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_addresses_spread_over_low_bits() {
        let buckets: std::collections::HashSet<usize> = (0..1024usize)
            .map(|i| {
                let mut h = AddrHasher::default();
                h.write_usize(0x5555_0000_0000 + i * 64);
                (h.finish() & 1023) as usize
            })
            .collect();
        // Random placement would use about 650; Fibonacci hashing spreads a stride evenly.
        assert!(buckets.len() > 800, "only {} of 1024 buckets used", buckets.len());
    }
}
