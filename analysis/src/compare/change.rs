//! Whether one configuration's run time changed between two results directories: the
//! ratio of median RTFs, with a bootstrap interval where both sides have repetitions
//! enough to say how far it can be trusted.

use rand_philox::Philox;

use crate::stats::{median, quantile};

/// Repetitions a side needs for an interval: with fewer, the median of a resample is
/// one of two values and the interval means nothing.
pub const MIN_REPETITIONS: usize = 3;

/// Resamples of the bootstrap: the 2.5th and 97.5th percentiles of 2 000 ratios move by
/// well under 1 % between seeds for 3–20 repetitions.
pub const RESAMPLES: usize = 2000;

/// Confidence of the interval.
pub const LEVEL: f64 = 0.95;

/// What the interval says of a ratio (other / base, of run time: above 1 is slower).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The whole interval is above 1.
    Slower,
    /// The whole interval is below 1.
    Faster,
    /// The interval holds 1.
    NoChange,
    /// A side has fewer than [`MIN_REPETITIONS`]: the ratio of medians only.
    TooFew,
}

impl Verdict {
    pub fn text(self) -> &'static str {
        match self {
            Verdict::Slower => "slower",
            Verdict::Faster => "faster",
            Verdict::NoChange => "no change",
            Verdict::TooFew => "too few runs to tell",
        }
    }
}

/// One configuration's change from a base side to another.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    /// Median of the other side over median of the base.
    pub ratio: f64,
    /// The bootstrap interval of the ratio at [`LEVEL`], if both sides have
    /// [`MIN_REPETITIONS`].
    pub interval: Option<(f64, f64)>,
    pub verdict: Verdict,
}

impl Change {
    /// Whether this is a slowdown worth failing a check for: the interval excludes "no
    /// change" *and* the ratio is above 1 + `threshold` (a 0.3 % slowdown can be real and
    /// still not matter).
    pub fn is_regression(&self, threshold: f64) -> bool {
        self.verdict == Verdict::Slower && self.ratio > 1.0 + threshold
    }

    /// "1.043 [1.021, 1.066]" or "1.043".
    pub fn text(&self) -> String {
        match self.interval {
            Some((lo, hi)) => format!("{:.3} [{lo:.3}, {hi:.3}]", self.ratio),
            None => format!("{:.3}", self.ratio),
        }
    }
}

/// The change from `base` to `other` (run times or RTFs of repetitions); None if either
/// is empty or holds a value that is not finite and positive. `seed` makes the interval
/// reproducible: resample `b` draws from Philox stream `b` of the seed.
///
/// The percentile bootstrap of the ratio of medians, resampling each side on its own
/// (the two sides' runs are independent; their spreads differ: a loaded machine's more).
/// Written here rather than taken from a crate: statrs has no bootstrap, and the one
/// crate that has (`bootstrap`) is unmaintained; it is twenty lines over
/// [`crate::stats::quantile`].
pub fn change(base: &[f64], other: &[f64], seed: u64) -> Option<Change> {
    let valid = |xs: &[f64]| !xs.is_empty() && xs.iter().all(|x| x.is_finite() && *x > 0.0);
    if !valid(base) || !valid(other) {
        return None;
    }
    let ratio = median(other)? / median(base)?;
    if base.len() < MIN_REPETITIONS || other.len() < MIN_REPETITIONS {
        return Some(Change {
            ratio,
            interval: None,
            verdict: Verdict::TooFew,
        });
    }
    let mut ratios = Vec::with_capacity(RESAMPLES);
    let (mut a, mut b) = (vec![0.0; base.len()], vec![0.0; other.len()]);
    for r in 0..RESAMPLES {
        let mut rng = Philox::from_u64_seed_stream(seed, r as u64);
        let mut draw = |from: &[f64], into: &mut [f64]| {
            for x in into.iter_mut() {
                // Uniform index in 0..len (len ≤ a few thousand: the modulo bias of a
                // 32-bit draw is below 1e-6).
                *x = from[rng.next_u32() as usize % from.len()];
            }
        };
        draw(base, &mut a);
        draw(other, &mut b);
        ratios.push(median(&b)? / median(&a)?);
    }
    ratios.sort_by(f64::total_cmp);
    let lo = quantile(&ratios, (1.0 - LEVEL) / 2.0)?;
    let hi = quantile(&ratios, (1.0 + LEVEL) / 2.0)?;
    let verdict = if lo > 1.0 {
        Verdict::Slower
    } else if hi < 1.0 {
        Verdict::Faster
    } else {
        Verdict::NoChange
    };
    Some(Change {
        ratio,
        interval: Some((lo, hi)),
        verdict,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` run times around `centre` with a relative noise of about ±`rel` (the sum of
    /// two uniforms: a triangular distribution, as run-to-run noise looks), from Philox
    /// seed `seed`.
    fn runs(n: usize, centre: f64, rel: f64, seed: u64) -> Vec<f64> {
        let mut rng = Philox::from_u64_seed(seed);
        let mut u = || rand_philox::u32_to_unit_f64(rng.next_u32());
        (0..n)
            .map(|_| centre * (1.0 + rel * (u() + u() - 1.0)))
            .collect()
    }

    #[test]
    fn a_20_percent_slowdown_is_flagged_and_the_same_distribution_is_not() {
        for seed in 0..20 {
            let base = runs(5, 0.30, 0.02, 1000 + seed);
            let slower = runs(5, 0.36, 0.02, 2000 + seed);
            let same = runs(5, 0.30, 0.02, 3000 + seed);
            let c = change(&base, &slower, seed).unwrap();
            assert_eq!(c.verdict, Verdict::Slower, "seed {seed}: {c:?}");
            assert!(c.is_regression(0.05), "seed {seed}: {c:?}");
            assert!((c.ratio - 1.2).abs() < 0.05, "{c:?}");
            let (lo, hi) = c.interval.unwrap();
            assert!(lo <= c.ratio && c.ratio <= hi);
            let c = change(&base, &same, seed).unwrap();
            assert!(!c.is_regression(0.05), "seed {seed}: {c:?}");
            // And back: the base against the slower side is faster, never a regression.
            let c = change(&slower, &base, seed).unwrap();
            assert_eq!(c.verdict, Verdict::Faster, "seed {seed}: {c:?}");
            assert!(!c.is_regression(0.0));
        }
    }

    #[test]
    fn the_interval_holds_one_for_most_draws_of_one_distribution() {
        // Not a coverage proof (the percentile bootstrap of a median from 7 runs is
        // known to be a little narrow), but an interval that excluded 1 for a fifth of
        // equal pairs would make "slower" meaningless.
        let flagged = (0..100)
            .filter(|&s| {
                let a = runs(7, 1.0, 0.03, 10 * s);
                let b = runs(7, 1.0, 0.03, 10 * s + 5);
                change(&a, &b, s).unwrap().verdict != Verdict::NoChange
            })
            .count();
        assert!(flagged <= 20, "{flagged} of 100 equal pairs flagged");
    }

    #[test]
    fn too_few_runs_give_the_ratio_alone_and_bad_values_none() {
        let c = change(&[1.0, 1.1], &[2.0, 2.2, 2.4], 1).unwrap();
        assert_eq!(c.verdict, Verdict::TooFew);
        assert_eq!(c.interval, None);
        assert!((c.ratio - 2.2 / 1.05).abs() < 1e-12);
        assert!(!c.is_regression(0.0), "no interval, no regression");
        assert_eq!(change(&[], &[1.0], 1), None);
        assert_eq!(change(&[1.0, f64::NAN, 1.0], &[1.0; 3], 1), None);
        assert_eq!(change(&[1.0; 3], &[0.0, 1.0, 1.0], 1), None);
    }

    #[test]
    fn the_interval_is_the_same_for_a_seed_and_differs_between_seeds() {
        let a = runs(6, 1.0, 0.05, 1);
        let b = runs(6, 1.1, 0.05, 2);
        assert_eq!(change(&a, &b, 9), change(&a, &b, 9));
        assert_ne!(
            change(&a, &b, 9).unwrap().interval,
            change(&a, &b, 10).unwrap().interval
        );
    }
}
