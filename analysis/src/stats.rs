//! Statistics for comparing simulation outputs: the two-sample Kolmogorov–Smirnov test
//! on rate, ISI and CV-ISI distributions (the paper uses SciPy's `ks_2samp`), the mean
//! K-S statistic over pairs of independent samples (its Fig. 3A), Pearson's r of
//! per-neuron rates (Fig. 3B), and order statistics for summarising repetitions.
//!
//! The K-S test is hand-written: statrs has no Kolmogorov or Smirnov distribution; the
//! small `kolmogorov_smirnov` crate has only an asymptotic p-value, and `rv`, which has
//! an exact one, is a whole probability-distribution library with its own random-number
//! stack. The test itself is short, and is checked below against brute-force
//! enumeration and SciPy's values.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why a statistic could not be computed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum StatsError {
    #[error("sample {which} is empty")]
    Empty { which: &'static str },
    #[error("sample {which}, value {index}: {value} is not finite")]
    NonFinite {
        which: &'static str,
        index: usize,
        value: f64,
    },
    #[error("samples differ in length: {x} and {y} values")]
    LengthMismatch { x: usize, y: usize },
    #[error("need at least {needed} values, got {got}")]
    TooFew { got: usize, needed: usize },
    #[error("sample {which} has zero variance: correlation is undefined")]
    ZeroVariance { which: &'static str },
    #[error("no sample pairs given")]
    NoPairs,
    #[error("pair {index}: {source}")]
    Pair {
        index: usize,
        source: Box<StatsError>,
    },
}

/// How the p-value of a K-S test is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KsMethod {
    /// Exact when `n·m ≤` [`EXACT_MAX_CELLS`], asymptotic above.
    Auto,
    /// The exact null distribution (O(n·m) time, O(min(n, m)) memory).
    Exact,
    /// The limiting Kolmogorov distribution.
    Asymptotic,
}

/// How a reported p-value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PMethod {
    Exact,
    Asymptotic,
}

/// [`KsMethod::Auto`] computes exact p-values up to this many lattice cells (`n·m`).
///
/// SciPy goes exact up to 10 000 values per sample; here the exact computation costs a
/// few nanoseconds per cell, so ten million cells (e.g. 3 000 against 3 000 neurons)
/// take tens of milliseconds, and the asymptotic formula, off by up to ~10 % at
/// n = m = 100, is kept for samples large enough for it to be accurate.
pub const EXACT_MAX_CELLS: u64 = 10_000_000;

/// Result of a two-sample Kolmogorov–Smirnov test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ks {
    /// `sup |F_a − F_b|` over the two empirical distribution functions.
    pub d: f64,
    /// Two-sided p-value, `P(D ≥ d)` under the null hypothesis of one continuous
    /// distribution. Values below ~1e-308 read 0.
    pub p: f64,
    /// Size of sample a.
    pub n: usize,
    /// Size of sample b.
    pub m: usize,
    pub method: PMethod,
}

/// Two-sample Kolmogorov–Smirnov test with [`KsMethod::Auto`].
pub fn ks_two_sample(a: &[f64], b: &[f64]) -> Result<Ks, StatsError> {
    ks_two_sample_with(a, b, KsMethod::Auto)
}

/// Two-sample Kolmogorov–Smirnov test.
///
/// D steps both empirical distribution functions over every distinct value of the
/// merged samples, so tied values (common in rates: spike counts over a fixed window)
/// move both functions at once, as in SciPy's `ks_2samp`. Identical samples give D = 0
/// and p = 1 at once.
///
/// The exact p-value counts monotone lattice paths from (0, 0) to (n, m) — the orders
/// in which a random split of the pooled values hands them to a and b — that touch
/// `|i/n − j/m| ≥ D`: the method of SciPy's `ks_2samp(method='exact')` (Hodges 1958).
/// It assumes no ties; with ties it is conservative (too large), like SciPy's and R's.
/// The asymptotic p-value is the limiting Kolmogorov distribution
/// `Q(λ) = 2 Σ (−1)^(k−1) exp(−2k²λ²)` at `λ = D·√(n·m/(n+m))`, as R's `ks.test`.
///
/// Errors: an empty sample or a non-finite value (named by sample and index).
pub fn ks_two_sample_with(a: &[f64], b: &[f64], method: KsMethod) -> Result<Ks, StatsError> {
    let a = sorted_finite(a, "a")?;
    let b = sorted_finite(b, "b")?;
    let (n, m) = (a.len(), b.len());
    let d_num = ks_numerator(&a, &b);
    let d = d_num as f64 / (n as f64 * m as f64);
    let cells = (n as u64).saturating_mul(m as u64);
    let exact = match method {
        KsMethod::Auto => cells <= EXACT_MAX_CELLS,
        KsMethod::Exact => true,
        KsMethod::Asymptotic => false,
    };
    let p = if d_num == 0 {
        1.0
    } else if exact {
        p_exact(n as u64, m as u64, d_num)
    } else {
        let en = n as f64 * m as f64 / (n as f64 + m as f64);
        kolmogorov_sf(d * en.sqrt())
    };
    Ok(Ks {
        d,
        p,
        n,
        m,
        method: if exact {
            PMethod::Exact
        } else {
            PMethod::Asymptotic
        },
    })
}

/// Mean and spread of the K-S statistic D over several sample pairs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanD {
    pub mean: f64,
    /// Sample standard deviation (n − 1 denominator); 0 for a single pair. The paper's
    /// Fig. 3A error bars.
    pub sd: f64,
    pub pairs: usize,
}

/// The mean K-S statistic D over pairs of samples (the paper's Fig. 3A: 10 pairs of
/// independent ISI samples), with its standard deviation. Only D is computed, not p.
pub fn mean_ks_d(pairs: &[(Vec<f64>, Vec<f64>)]) -> Result<MeanD, StatsError> {
    if pairs.is_empty() {
        return Err(StatsError::NoPairs);
    }
    let mut ds = Vec::with_capacity(pairs.len());
    for (index, (a, b)) in pairs.iter().enumerate() {
        let d = ks_d(a, b).map_err(|e| StatsError::Pair {
            index,
            source: Box::new(e),
        })?;
        ds.push(d);
    }
    let k = ds.len() as f64;
    let mean = ds.iter().sum::<f64>() / k;
    let sd = if ds.len() > 1 {
        (ds.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (k - 1.0)).sqrt()
    } else {
        0.0
    };
    Ok(MeanD {
        mean,
        sd,
        pairs: ds.len(),
    })
}

/// Pearson's correlation coefficient of paired values.
///
/// Errors rather than NaN when it is undefined: different lengths, fewer than two
/// pairs, a non-finite value, or a sample with zero variance (e.g. every neuron of a
/// silent run at rate 0). Two-pass (means first) for accuracy; clamped to [−1, 1]
/// against rounding.
pub fn pearson_r(x: &[f64], y: &[f64]) -> Result<f64, StatsError> {
    if x.len() != y.len() {
        return Err(StatsError::LengthMismatch {
            x: x.len(),
            y: y.len(),
        });
    }
    if x.len() < 2 {
        return Err(StatsError::TooFew {
            got: x.len(),
            needed: 2,
        });
    }
    check_finite(x, "x")?;
    check_finite(y, "y")?;
    let k = x.len() as f64;
    let mx = x.iter().sum::<f64>() / k;
    let my = y.iter().sum::<f64>() / k;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx == 0.0 {
        return Err(StatsError::ZeroVariance { which: "x" });
    }
    if syy == 0.0 {
        return Err(StatsError::ZeroVariance { which: "y" });
    }
    Ok((sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0))
}

/// Five-number summary of repetitions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub min: f64,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub max: f64,
}

/// The median; `None` for no values or a NaN among them.
pub fn median(xs: &[f64]) -> Option<f64> {
    spread(xs).map(|s| s.median)
}

/// Minimum, quartiles, median and maximum (quartiles interpolated as [`quantile`]);
/// `None` for no values or a NaN among them.
pub fn spread(xs: &[f64]) -> Option<Spread> {
    if xs.iter().any(|x| x.is_nan()) {
        return None;
    }
    let mut s = xs.to_vec();
    s.sort_by(f64::total_cmp);
    Some(Spread {
        min: *s.first()?,
        q1: quantile(&s, 0.25)?,
        median: quantile(&s, 0.5)?,
        q3: quantile(&s, 0.75)?,
        max: *s.last()?,
    })
}

/// The `q`-quantile of ascending `sorted` values, linearly interpolated between order
/// statistics (Hyndman & Fan type 7, the default of NumPy and R).
///
/// `None` when there are no values, `q` is outside [0, 1], or the values are not sorted
/// ascending (NaN included): checked, because a wrong answer from unsorted input would
/// pass silently.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() || !(0.0..=1.0).contains(&q) {
        return None;
    }
    if !sorted.windows(2).all(|w| w[0] <= w[1]) || sorted[0].is_nan() {
        return None;
    }
    let h = q * (sorted.len() - 1) as f64;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let frac = h - lo as f64;
    Some(sorted[lo] + frac * (sorted[hi] - sorted[lo]))
}

/// D alone, without a p-value.
fn ks_d(a: &[f64], b: &[f64]) -> Result<f64, StatsError> {
    let a = sorted_finite(a, "a")?;
    let b = sorted_finite(b, "b")?;
    Ok(ks_numerator(&a, &b) as f64 / (a.len() as f64 * b.len() as f64))
}

fn check_finite(xs: &[f64], which: &'static str) -> Result<(), StatsError> {
    match xs.iter().position(|x| !x.is_finite()) {
        Some(index) => Err(StatsError::NonFinite {
            which,
            index,
            value: xs[index],
        }),
        None => Ok(()),
    }
}

fn sorted_finite(xs: &[f64], which: &'static str) -> Result<Vec<f64>, StatsError> {
    if xs.is_empty() {
        return Err(StatsError::Empty { which });
    }
    check_finite(xs, which)?;
    let mut s = xs.to_vec();
    s.sort_by(f64::total_cmp);
    Ok(s)
}

/// `D·n·m` as an integer: `max |i·m − j·n|` over the merged distinct values, where i
/// and j count the values ≤ the current one in a and b. Integer, so the exact p-value
/// compares lattice points with D without rounding.
fn ks_numerator(a: &[f64], b: &[f64]) -> u128 {
    let (n, m) = (a.len() as i128, b.len() as i128);
    let (mut i, mut j) = (0usize, 0usize);
    let mut best = 0u128;
    while i < a.len() && j < b.len() {
        // Step both functions past every copy of the next value before comparing: a
        // one-value-at-a-time walk would count a tie as a difference.
        let v = if a[i] <= b[j] { a[i] } else { b[j] };
        while i < a.len() && a[i] <= v {
            i += 1;
        }
        while j < b.len() && b[j] <= v {
            j += 1;
        }
        best = best.max((i as i128 * m - j as i128 * n).unsigned_abs());
    }
    // Past the end of one sample the difference only shrinks towards 0.
    best
}

/// `P(D ≥ d_num/(n·m))` for samples of sizes n and m from one continuous distribution.
///
/// A random split of the pooled values is a uniformly random monotone lattice path from
/// (0, 0) to (n, m); from (i, j) it steps to (i+1, j) with probability
/// `(n−i)/(n−i+m−j)`. The probability mass of paths that have stayed strictly inside
/// `|i·m − j·n| < d_num` is carried forward row by row, and the mass stepping onto the
/// boundary is summed: a sum of positive terms, so a p-value of 1e-60 is as accurate as
/// one of 0.5 (SciPy's complement `1 − P(inside)` bottoms out near 1e-16), and no
/// binomial coefficient is formed, so nothing overflows.
fn p_exact(n: u64, m: u64, d_num: u128) -> f64 {
    // D is symmetric in the two samples: keep the row short.
    let (n, m) = if n >= m { (n, m) } else { (m, n) };
    let inside =
        |i: u64, j: u64| ((i as i128 * m as i128) - (j as i128 * n as i128)).unsigned_abs() < d_num;
    let width = m as usize + 1;
    let mut row = vec![0.0f64; width];
    let mut next = vec![0.0f64; width];
    row[0] = 1.0;
    let mut outside = 0.0;
    for i in 0..=n {
        for j in 0..=m {
            let mass = row[j as usize];
            if mass == 0.0 {
                continue;
            }
            let (left_a, left_b) = (n - i, m - j);
            let total = (left_a + left_b) as f64;
            if left_a > 0 {
                let p = mass * left_a as f64 / total;
                if inside(i + 1, j) {
                    next[j as usize] += p;
                } else {
                    outside += p;
                }
            }
            if left_b > 0 {
                let p = mass * left_b as f64 / total;
                if inside(i, j + 1) {
                    row[j as usize + 1] += p;
                } else {
                    outside += p;
                }
            }
        }
        std::mem::swap(&mut row, &mut next);
        next.fill(0.0);
    }
    outside.min(1.0)
}

/// Survival function of the Kolmogorov distribution, `Q(λ) = P(K > λ)`.
///
/// For λ ≥ 1 the alternating series `2 Σ (−1)^(k−1) e^(−2k²λ²)` converges in a few
/// terms and keeps full relative accuracy in the far tail (p-values like 1e-80); below,
/// it converges slowly, and the Jacobi-theta form
/// `1 − (√(2π)/λ) Σ e^(−(2k−1)²π²/(8λ²))` converges fast instead.
fn kolmogorov_sf(lambda: f64) -> f64 {
    if lambda <= 0.0 {
        return 1.0;
    }
    if lambda < 1.0 {
        let c = -std::f64::consts::PI.powi(2) / (8.0 * lambda * lambda);
        let mut sum = 0.0;
        for k in 1..=20u32 {
            let odd = f64::from(2 * k - 1);
            let term = (c * odd * odd).exp();
            sum += term;
            if term < 1e-17 * sum {
                break;
            }
        }
        let cdf = (2.0 * std::f64::consts::PI).sqrt() / lambda * sum;
        return (1.0 - cdf).clamp(0.0, 1.0);
    }
    let mut sum = 0.0;
    let mut sign = 1.0;
    for k in 1..=100u32 {
        let kf = f64::from(k);
        let term = (-2.0 * kf * kf * lambda * lambda).exp();
        sum += sign * term;
        if term <= 1e-17 * sum.abs() || term == 0.0 {
            break;
        }
        sign = -sign;
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(f64::MIN_POSITIVE)
    }

    #[test]
    fn disjoint_samples_give_d_one_and_the_exact_p_by_hand() {
        // Every split of six values into two threes is equally likely: C(6,3) = 20.
        // D = 1 only for {1,2,3}|{4,5,6} and its mirror, so p = 2/20 = 0.1.
        let ks = ks_two_sample(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]).unwrap();
        assert_eq!(ks.d, 1.0);
        assert!(close(ks.p, 0.1, 1e-12), "p = {}", ks.p);
        assert_eq!((ks.n, ks.m, ks.method), (3, 3, PMethod::Exact));
        // Order of the input does not matter.
        let ks2 = ks_two_sample(&[6.0, 4.0, 5.0], &[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((ks2.d, ks2.p), (ks.d, ks.p));
    }

    #[test]
    fn ties_step_both_distribution_functions_together() {
        // a = [1,2,2,3], b = [2,2,2,4]. At 1: F_a = 1/4, F_b = 0 → 1/4. At 2: F_a = 3/4,
        // F_b = 3/4 → 0. At 3: 1 vs 3/4 → 1/4. At 4: 1 vs 1. D = 1/4 (SciPy: 0.25).
        // A walk taking one value at a time would see F_a = 3/4, F_b = 0 inside the tie.
        let ks = ks_two_sample(&[2.0, 1.0, 3.0, 2.0], &[2.0, 4.0, 2.0, 2.0]).unwrap();
        assert_eq!(ks.d, 0.25);
        // With n = m = 4 every split of distinct values has D ≥ 1/4: p = 1 (SciPy: 1.0).
        assert!(close(ks.p, 1.0, 1e-12));
        // Tie between -0.0 and 0.0 is a tie.
        let ks = ks_two_sample(&[-0.0, 1.0], &[0.0, 1.0]).unwrap();
        assert_eq!(ks.d, 0.0);
    }

    #[test]
    fn identical_samples_give_d_zero_and_p_one() {
        let a = [1.0, 1.0, 2.0, 5.0, 3.0];
        let b = [5.0, 3.0, 1.0, 2.0, 1.0];
        for method in [KsMethod::Auto, KsMethod::Exact, KsMethod::Asymptotic] {
            let ks = ks_two_sample_with(&a, &b, method).unwrap();
            assert_eq!((ks.d, ks.p), (0.0, 1.0));
        }
    }

    /// D of one split by definition, independently of `ks_numerator`: for every pooled
    /// value t, count the values ≤ t in each sample.
    fn naive_d(a: &[f64], b: &[f64]) -> f64 {
        a.iter()
            .chain(b)
            .map(|&t| {
                let fa = a.iter().filter(|&&x| x <= t).count() as f64 / a.len() as f64;
                let fb = b.iter().filter(|&&x| x <= t).count() as f64 / b.len() as f64;
                (fa - fb).abs()
            })
            .fold(0.0, f64::max)
    }

    /// All splits of the values 0..n+m into a sample of n and one of m.
    fn all_splits(n: usize, m: usize) -> Vec<(Vec<f64>, Vec<f64>)> {
        (0u32..1 << (n + m))
            .filter(|mask| mask.count_ones() as usize == n)
            .map(|mask| {
                let (mut a, mut b) = (Vec::new(), Vec::new());
                for v in 0..n + m {
                    if mask >> v & 1 == 1 {
                        a.push(v as f64);
                    } else {
                        b.push(v as f64);
                    }
                }
                (a, b)
            })
            .collect()
    }

    #[test]
    fn exact_p_equals_brute_force_enumeration_of_all_splits() {
        // Under the null every split of the pooled (distinct) values is equally likely,
        // so p = #{splits with D ≥ d} / #splits. Checked for every possible observation.
        for (n, m) in [(1, 1), (2, 3), (4, 4), (5, 6), (3, 9), (6, 7)] {
            let splits = all_splits(n, m);
            let ds: Vec<f64> = splits.iter().map(|(a, b)| naive_d(a, b)).collect();
            for ((a, b), &d) in splits.iter().zip(&ds) {
                let ks = ks_two_sample_with(a, b, KsMethod::Exact).unwrap();
                assert!((ks.d - d).abs() < 1e-12, "n={n} m={m}: D {} vs {d}", ks.d);
                let count = ds.iter().filter(|&&x| x >= d - 1e-12).count();
                let p = count as f64 / splits.len() as f64;
                assert!(close(ks.p, p, 1e-10), "n={n} m={m} d={d}: {} vs {p}", ks.p);
            }
        }
    }

    #[test]
    fn exact_p_matches_scipy_including_the_far_tail() {
        // scipy 1.17.1: stats._stats_py._attempt_exact_2kssamp(n, m, gcd, d, 'two-sided').
        let cases = [
            (100, 100, 2000, 0.03638428787491733),
            (50, 200, 2000, 0.07485828029796848),
            (7, 13, 50, 0.09411764705882353),
            (30, 45, 400, 0.06751499951646034),
            (100, 100, 5000, 1.0024645454361508e-11),
            (1000, 1000, 300_000, 4.231712281869183e-40),
        ];
        for (n, m, d_num, want) in cases {
            let p = p_exact(n, m, d_num);
            assert!(close(p, want, 1e-9), "{n}×{m} d={d_num}: {p} vs {want}");
            assert_eq!(p, p_exact(m, n, d_num), "symmetric in the samples");
        }
    }

    #[test]
    fn kolmogorov_survival_matches_scipy_kstwobign() {
        // scipy 1.17.1: stats.kstwobign.sf(λ); both branches and the switch at λ = 1.
        let cases = [
            (0.05, 1.0),
            (0.3, 0.9999906941986655),
            (0.5, 0.9639452436648751),
            (0.99, 0.2808738392255489),
            (1.0, 0.26999967167735456),
            (1.5, 0.022217962616525127),
            (3.0, 3.045995948942526e-08),
            (6.0, 1.0760372320042276e-31),
            (10.0, 2.767793053473475e-87),
        ];
        for (lambda, want) in cases {
            let q = kolmogorov_sf(lambda);
            assert!(close(q, want, 1e-10), "λ={lambda}: {q} vs {want}");
        }
        assert_eq!(kolmogorov_sf(0.0), 1.0);
        assert_eq!(kolmogorov_sf(-1.0), 1.0);
    }

    /// Uniform deviates in [0, 1) from a fixed Philox stream, for reproducible samples.
    fn uniforms(seed: u64, count: usize) -> Vec<f64> {
        let mut rng = rand_philox::Philox::from_u64_seed(seed);
        (0..count)
            .map(|_| rand_philox::u32_to_unit_f64(rng.next_u32()))
            .collect()
    }

    #[test]
    fn auto_switches_to_asymptotic_above_the_limit_and_both_agree_there() {
        // 1000 × 10000 = EXACT_MAX_CELLS: exact; one more value: asymptotic.
        let a: Vec<f64> = uniforms(1, 1000).iter().map(|u| u * 1.06).collect();
        let b = uniforms(2, 10_001);
        let at = ks_two_sample(&a, &b[..10_000]).unwrap();
        let above = ks_two_sample(&a, &b).unwrap();
        assert_eq!(at.method, PMethod::Exact);
        assert_eq!(above.method, PMethod::Asymptotic);
        // On the same data the two methods differ by a few per cent at most here
        // (n·m/(n+m) ≈ 900); checked over a range of shifts that move p from ~0.5 to ~1e-4.
        for shift in [1.0, 1.02, 1.04, 1.06, 1.08] {
            let a: Vec<f64> = uniforms(1, 1000).iter().map(|u| u * shift).collect();
            let b = &b[..10_000];
            let ex = ks_two_sample_with(&a, b, KsMethod::Exact).unwrap();
            let asy = ks_two_sample_with(&a, b, KsMethod::Asymptotic).unwrap();
            assert_eq!(ex.d, asy.d);
            assert!(
                close(asy.p, ex.p, 0.05),
                "shift {shift}: D={} exact {} asymptotic {}",
                ex.d,
                ex.p,
                asy.p
            );
        }
    }

    #[test]
    fn bad_samples_are_errors() {
        assert_eq!(
            ks_two_sample(&[], &[1.0]),
            Err(StatsError::Empty { which: "a" })
        );
        assert_eq!(
            ks_two_sample(&[1.0], &[]),
            Err(StatsError::Empty { which: "b" })
        );
        assert!(matches!(
            ks_two_sample(&[1.0], &[2.0, f64::NAN]),
            Err(StatsError::NonFinite {
                which: "b",
                index: 1,
                ..
            })
        ));
        assert!(matches!(
            ks_two_sample(&[f64::INFINITY], &[2.0]),
            Err(StatsError::NonFinite { which: "a", .. })
        ));
    }

    #[test]
    fn mean_d_over_pairs_with_standard_deviation() {
        // D = 1 and D = 0: mean 0.5, sd = √((0.25 + 0.25)/1) = √0.5.
        let pairs = vec![
            (vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]),
            (vec![1.0, 2.0, 3.0], vec![3.0, 2.0, 1.0]),
        ];
        let m = mean_ks_d(&pairs).unwrap();
        assert_eq!(m.pairs, 2);
        assert!(close(m.mean, 0.5, 1e-15));
        assert!(close(m.sd, 0.5f64.sqrt(), 1e-15));
        let one = mean_ks_d(&pairs[..1]).unwrap();
        assert_eq!((one.mean, one.sd), (1.0, 0.0));
        assert_eq!(mean_ks_d(&[]), Err(StatsError::NoPairs));
        let bad = vec![pairs[0].clone(), (vec![1.0], vec![])];
        assert_eq!(
            mean_ks_d(&bad),
            Err(StatsError::Pair {
                index: 1,
                source: Box::new(StatsError::Empty { which: "b" })
            })
        );
    }

    #[test]
    fn pearson_r_of_known_data() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let up: Vec<f64> = x.iter().map(|v| 3.0 * v - 7.0).collect();
        let down: Vec<f64> = x.iter().map(|v| -0.5 * v + 2.0).collect();
        assert!(close(pearson_r(&x, &up).unwrap(), 1.0, 1e-15));
        assert!(close(pearson_r(&x, &down).unwrap(), -1.0, 1e-15));
        // y = [2,4,5,4,5]: deviations (−2,−1,0,1,2) and (−2,0,1,0,1); Sxy = 6, Sxx = 10,
        // Syy = 6, r = 6/√60 = 0.7745966692414834 (SciPy's pearsonr agrees).
        let r = pearson_r(&x, &[2.0, 4.0, 5.0, 4.0, 5.0]).unwrap();
        assert!(close(r, 6.0 / 60f64.sqrt(), 1e-14));
        assert!(close(r, 0.7745966692414834, 1e-14));
    }

    #[test]
    fn pearson_r_rejects_undefined_cases() {
        assert_eq!(
            pearson_r(&[1.0, 2.0], &[1.0]),
            Err(StatsError::LengthMismatch { x: 2, y: 1 })
        );
        assert_eq!(
            pearson_r(&[1.0], &[1.0]),
            Err(StatsError::TooFew { got: 1, needed: 2 })
        );
        assert_eq!(
            pearson_r(&[1.0, 2.0, 3.0], &[4.0, 4.0, 4.0]),
            Err(StatsError::ZeroVariance { which: "y" })
        );
        assert_eq!(
            pearson_r(&[0.0, 0.0], &[4.0, 5.0]),
            Err(StatsError::ZeroVariance { which: "x" })
        );
        assert!(matches!(
            pearson_r(&[1.0, f64::NAN], &[1.0, 2.0]),
            Err(StatsError::NonFinite {
                which: "x",
                index: 1,
                ..
            })
        ));
    }

    #[test]
    fn quantiles_median_and_spread() {
        // Type 7: h = q·(n−1). For [1,2,3,4]: q1 at h = 0.75 → 1.75, median 2.5, q3 3.25.
        let s = spread(&[3.0, 1.0, 4.0, 2.0]).unwrap();
        assert_eq!(
            s,
            Spread {
                min: 1.0,
                q1: 1.75,
                median: 2.5,
                q3: 3.25,
                max: 4.0
            }
        );
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[7.0]), Some(7.0));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[1.0, f64::NAN]), None);
        assert_eq!(quantile(&[1.0, 2.0], 0.0), Some(1.0));
        assert_eq!(quantile(&[1.0, 2.0], 1.0), Some(2.0));
        assert_eq!(quantile(&[1.0, 2.0, 4.0], 0.75), Some(3.0));
        assert_eq!(quantile(&[2.0, 1.0], 0.5), None, "unsorted");
        assert_eq!(quantile(&[1.0, 2.0], 1.5), None);
        assert_eq!(quantile(&[1.0, 2.0], f64::NAN), None);
        assert_eq!(quantile(&[f64::NAN], 0.5), None);
    }
}
