//! What the unit tests share: the generators of their random inputs.

/// xorshift64, deterministic from `seed` (not 0): `next(n)` is in `0..n`.
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut(usize) -> usize {
    move |n| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    }
}

/// A 64-bit linear congruential generator (Knuth's MMIX constants), deterministic from
/// `seed`: `next()` is its top 31 bits.
pub(crate) fn lcg(mut seed: u64) -> impl FnMut() -> usize {
    move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    }
}
