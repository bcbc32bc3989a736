//! Counter-based random numbers keyed by (seed, global id, stream, index).
//!
//! A draw is a pure function of its key: Philox4x32-10 (Salmon et al. 2011, the
//! Random123 generator) of the counter `[gid, stream, index_lo, index_hi]` under the key
//! `seed`. No generator state is shared between neurons, so whichever worker owns a
//! neuron draws exactly the same numbers for it — the basis of partition-independent,
//! bit-identical output. `index` is the time step for per-step draws and the draw number
//! for sequences (e.g. the presynaptic partners of one neuron).

use rand_philox::philox4x32_10;

/// What a random number is used for; each purpose draws from its own stream.
pub mod stream {
    /// Initial membrane potential.
    pub const INITIAL_V: u32 = 1;
    /// Connectivity: the stream of connection `c` is `CONNECTIVITY + c`.
    pub const CONNECTIVITY: u32 = 1 << 16;
    /// Poisson sources: the lattice walk of a population (keyed by its first gid) and
    /// the per-step draws (keyed by each neuron's gid, indexed by step).
    pub const POISSON_LATTICE: u32 = 2;
    pub const POISSON_STEP: u32 = 3;
    /// External Poisson drive of current-based neurons (keyed by gid / 4, per step).
    pub const EXTERNAL_DRIVE: u32 = 4;
    /// A Poisson lattice walk restarted by a rate change at step s (keyed by the
    /// population's first gid, indexed from s · 2³²; see `Poisson::set_rate`).
    pub const POISSON_RATE: u32 = 5;
}

/// The keyed generator of one simulation.
#[derive(Debug, Clone, Copy)]
pub struct CounterRng {
    key: [u32; 2],
}

impl CounterRng {
    pub fn new(seed: u64) -> Self {
        CounterRng {
            key: [seed as u32, (seed >> 32) as u32],
        }
    }

    /// Four independent 32-bit words for one counter value.
    #[inline]
    pub fn block(&self, gid: u32, stream: u32, index: u64) -> [u32; 4] {
        philox4x32_10([gid, stream, index as u32, (index >> 32) as u32], self.key)
    }

    /// The blocks of the gids `gids` (one stream, one index), appended to `out`: each
    /// equal to [`CounterRng::block`] of its gid, bit for bit.
    ///
    /// Written out here, 16 blocks at a time in struct-of-arrays form so that LLVM
    /// vectorises the rounds, because `rand_philox` keeps its own lane version private
    /// and its scalar function is not inlined into a loop over neurons: called once per
    /// block it took a fifth of brunel's run time (README, performance notes).
    pub fn blocks(
        &self,
        gids: std::ops::Range<u32>,
        stream: u32,
        index: u64,
        out: &mut Vec<[u32; 4]>,
    ) {
        const LANES: usize = 16;
        // Random123's Philox4x32 round multipliers and Weyl key increments.
        const M0: u32 = 0xD251_1F53;
        const M1: u32 = 0xCD9E_8D57;
        const W0: u32 = 0x9E37_79B9;
        const W1: u32 = 0xBB67_AE85;
        let mut first = gids.start;
        while first < gids.end {
            let take = ((gids.end - first) as usize).min(LANES);
            let mut x0: [u32; LANES] = std::array::from_fn(|l| first.wrapping_add(l as u32));
            let mut x1 = [stream; LANES];
            let mut x2 = [index as u32; LANES];
            let mut x3 = [(index >> 32) as u32; LANES];
            let mut key = self.key;
            for round in 0..10 {
                if round > 0 {
                    key[0] = key[0].wrapping_add(W0);
                    key[1] = key[1].wrapping_add(W1);
                }
                let mut n = [[0u32; LANES]; 4];
                for l in 0..LANES {
                    let p0 = u64::from(x0[l]) * u64::from(M0);
                    let p1 = u64::from(x2[l]) * u64::from(M1);
                    n[0][l] = (p1 >> 32) as u32 ^ x1[l] ^ key[0];
                    n[1][l] = x2[l].wrapping_mul(M1);
                    n[2][l] = (p0 >> 32) as u32 ^ x3[l] ^ key[1];
                    n[3][l] = x0[l].wrapping_mul(M0);
                }
                [x0, x1, x2, x3] = n;
            }
            out.extend((0..take).map(|l| [x0[l], x1[l], x2[l], x3[l]]));
            first += take as u32;
        }
    }

    /// A sequence of draws for one (gid, stream), starting at index 0.
    pub fn sequence(&self, gid: u32, stream: u32) -> Draws {
        self.sequence_from(gid, stream, 0)
    }

    /// A sequence of draws for one (gid, stream), starting at block `index`.
    pub fn sequence_from(&self, gid: u32, stream: u32, index: u64) -> Draws {
        Draws {
            rng: *self,
            gid,
            stream,
            index,
            words: [0; 4],
            used: 4,
        }
    }
}

/// Consecutive draws of one key; each Philox block yields two uniforms.
#[derive(Debug, Clone)]
pub struct Draws {
    rng: CounterRng,
    gid: u32,
    stream: u32,
    index: u64,
    words: [u32; 4],
    used: usize,
}

impl Draws {
    #[inline]
    fn next_u64(&mut self) -> u64 {
        if self.used == 4 {
            self.words = self.rng.block(self.gid, self.stream, self.index);
            self.index += 1;
            self.used = 0;
        }
        let w = (self.words[self.used] as u64) << 32 | self.words[self.used + 1] as u64;
        self.used += 2;
        w
    }

    /// Where the sequence stands, for a checkpoint: `[stream, next block, words of the
    /// last block used]` (the key and gid come from the network).
    pub fn position(&self) -> [u64; 3] {
        [self.stream as u64, self.index, self.used as u64]
    }

    /// Continues at a [`Draws::position`] of the same key and gid: the draws that follow
    /// are those the saved sequence would have given (the last block is drawn again).
    pub fn resume(&mut self, position: [u64; 3]) -> Result<(), String> {
        let [stream, index, used] = position;
        let stream = u32::try_from(stream).map_err(|_| format!("stream {stream}"))?;
        // Draws take two words at a time from a fresh block: 2 or 4 used, and 2 only
        // after a block was drawn.
        if !(used == 4 || used == 2 && index > 0) {
            return Err(format!("{used} words used of block {index}"));
        }
        self.stream = stream;
        self.index = index;
        self.used = used as usize;
        self.words = if used < 4 {
            self.rng.block(self.gid, stream, index - 1)
        } else {
            [0; 4]
        };
        Ok(())
    }

    /// Uniform in the open interval (0, 1): never 0, so `ln` is always finite.
    #[inline]
    pub fn uniform_open(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    pub fn uniform_in(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform_open()
    }

    /// Standard normal (Box–Muller, one value per call; simplicity over speed, used at setup).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform_open();
        let u2 = self.uniform_open();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The batched blocks are the scalar ones, for runs that start and end anywhere
    /// within a batch of 16, an index above 2³², and gids that wrap around u32.
    #[test]
    fn batched_blocks_equal_single_blocks() {
        let rng = CounterRng::new(0x1234_5678_9abc_def0);
        for (gids, index) in [
            (0..1, 0u64),
            (3..40, 17),
            (100..116, (7 << 32) + 5),
            (u32::MAX - 20..u32::MAX, 2),
        ] {
            let mut out = vec![[9; 4]];
            rng.blocks(gids.clone(), stream::EXTERNAL_DRIVE, index, &mut out);
            let expected: Vec<[u32; 4]> = std::iter::once([9; 4])
                .chain(gids.map(|g| rng.block(g, stream::EXTERNAL_DRIVE, index)))
                .collect();
            assert_eq!(out, expected);
        }
    }

    #[test]
    fn draws_depend_only_on_their_key() {
        let rng = CounterRng::new(42);
        let a: Vec<f64> = {
            let mut d = rng.sequence(7, 3);
            (0..10).map(|_| d.uniform_open()).collect()
        };
        // A different gid's sequence interleaved in between must not change gid 7's draws.
        let mut other = rng.sequence(8, 3);
        let _ = other.uniform_open();
        let mut d = rng.sequence(7, 3);
        let b: Vec<f64> = (0..10).map(|_| d.uniform_open()).collect();
        assert_eq!(a, b);
        let mut c = CounterRng::new(43).sequence(7, 3);
        assert_ne!(a[0], c.uniform_open(), "the seed must change the draws");
        let mut s = rng.sequence(7, 4);
        assert_ne!(a[0], s.uniform_open(), "the stream must change the draws");
    }

    /// A resumed sequence continues exactly, whether it stopped mid-block or not.
    #[test]
    fn a_resumed_sequence_continues_exactly() {
        let rng = CounterRng::new(4);
        for stop in 0..6 {
            let mut d = rng.sequence_from(9, 2, 17);
            (0..stop).for_each(|_| {
                d.uniform_open();
            });
            let mut r = rng.sequence(9, 3);
            r.resume(d.position()).unwrap();
            for _ in 0..5 {
                assert_eq!(d.uniform_open().to_bits(), r.uniform_open().to_bits());
            }
        }
        let mut r = rng.sequence(9, 3);
        assert!(r.resume([2, 0, 2]).is_err() && r.resume([2, 5, 3]).is_err());
        assert!(r.resume([1 << 40, 5, 4]).is_err());
    }

    #[test]
    fn uniform_moments_match() {
        let mut d = CounterRng::new(1).sequence(0, 0);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| d.uniform_open()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.005, "mean {mean}");
        assert!((var - 1.0 / 12.0).abs() < 0.002, "var {var}");
        assert!(xs.iter().all(|&x| x > 0.0 && x < 1.0));
    }

    #[test]
    fn normal_moments_match() {
        let mut d = CounterRng::new(9).sequence(3, 1);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| d.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "var {var}");
    }
}
