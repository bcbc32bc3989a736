//! The paper's run-time model (Zenke & Gerstner 2014, Eq. 2 and 3), fitted to measured
//! run times over core counts, with its lower bound and a bootstrap band for
//! extrapolating to core counts this machine does not have.
//!
//! The model splits the run time on `n` cores into perfectly parallel work (`α/n`),
//! the latency of the spike all-gather (`β·log2 n` for recursive doubling / Bruck,
//! `β·(n−1)` for the ring algorithm) and its bandwidth term (`γ·(n−1)/n`):
//!
//! - [`Topology::Tree`]: `T(n) = α/n + β·log2(n) + γ·(n−1)/n` (Eq. 2),
//! - [`Topology::Ring`]: `T(n) = α/n + β·(n−1) + γ·(n−1)/n` (Eq. 3),
//!
//! "with only positive parameters α, β, and γ". A plain least-squares fit can return a
//! negative β when communication is cheap, which would make the extrapolated run time
//! fall without bound; so the fit is non-negative least squares (NNLS). With three
//! terms NNLS is solved exactly by enumeration: the optimum's support is some subset of
//! {α, β, γ} on which it is the unconstrained least-squares solution, so solving all
//! 2³ subsets and keeping the best feasible one is the exact answer (the KKT conditions
//! hold for it), with no iteration and no tolerance to tune.

use rand_philox::Philox;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::stats::quantile;

/// Which all-gather algorithm the communication term models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Topology {
    /// Recursive doubling or Bruck: `T(n) = α/n + β·log2(n) + γ·(n−1)/n`.
    Tree,
    /// Ring: `T(n) = α/n + β·(n−1) + γ·(n−1)/n`.
    Ring,
}

impl Topology {
    /// The three basis functions at `n`, multiplying α, β and γ in that order.
    pub fn basis(self, n: f64) -> [f64; 3] {
        let latency = match self {
            Topology::Tree => n.log2(),
            Topology::Ring => n - 1.0,
        };
        [1.0 / n, latency, (n - 1.0) / n]
    }

    /// The model as a formula, for reports and plot legends.
    pub fn formula(self) -> &'static str {
        match self {
            Topology::Tree => "T(n) = α/n + β·log2(n) + γ·(n−1)/n",
            Topology::Ring => "T(n) = α/n + β·(n−1) + γ·(n−1)/n",
        }
    }
}

/// Why a fit or a band could not be computed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum FitError {
    #[error("need at least {needed} point(s) to fit, got {got}")]
    TooFewPoints { got: usize, needed: usize },
    #[error("point {index}: n = {n}, T = {t} is not finite")]
    NonFinite { index: usize, n: f64, t: f64 },
    #[error("point {index}: core count n = {n} is below 1")]
    CoreCountBelowOne { index: usize, n: f64 },
    #[error("point {index}: run time T = {t} is negative")]
    NegativeTime { index: usize, t: f64 },
    #[error("band core count {n} is not a finite number ≥ 1")]
    BadBandCoreCount { n: f64 },
    #[error("band level {level} is not strictly between 0 and 1")]
    BadLevel { level: f64 },
    #[error("the bootstrap needs at least one resample")]
    NoResamples,
    #[error(
        "{resamples} resamples at {core_counts} core counts exceed the {} predictions \
         a band may hold",
        MAX_BAND_PREDICTIONS
    )]
    BandTooLarge {
        resamples: usize,
        core_counts: usize,
    },
}

/// A fitted run-time model.
///
/// Under-determined data are fitted rather than rejected, because a small machine is
/// exactly where one wants the best available guess: the three basis functions are
/// linearly independent on any three distinct core counts (for the tree model
/// `a + b/n + c·ln n` has at most two zeros, for the ring `a + b/n + c·n` likewise), so
/// all of α, β, γ are determined only when [`distinct_n`](Self::distinct_n) ≥ 3. With
/// fewer distinct core counts the fit uses the fewest terms that reach the minimal
/// residual (all points at n = 1 give α alone: `T(1) = α` in both models) and
/// [`is_identified`](Self::is_identified) says false: the split between the terms, and
/// with it any extrapolation, is then a guess that the data cannot check.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    pub topology: Topology,
    /// Parallel work: the one-core run time net of communication (seconds).
    pub alpha: f64,
    /// Per-step latency of the all-gather (seconds per log2 n or per extra core).
    pub beta: f64,
    /// Bandwidth cost of the all-gather at large n (seconds).
    pub gamma: f64,
    /// Coefficient of determination, `1 − SS_res/SS_tot`; 1 when the run times have
    /// no spread (then the model, which can be constant with α = γ, fits them exactly).
    pub r2: f64,
    /// Root mean square residual (seconds).
    pub rmse: f64,
    /// Number of points fitted (repetitions included).
    pub points: usize,
    /// Number of distinct core counts among them.
    pub distinct_n: usize,
}

impl Fit {
    /// The model's run time at `n` cores. The formula as is: meaningful for n ≥ 1.
    pub fn predict(&self, n: f64) -> f64 {
        coef_predict(self.topology, [self.alpha, self.beta, self.gamma], n)
    }

    /// Whether the data determine all three coefficients (≥ 3 distinct core counts).
    pub fn is_identified(&self) -> bool {
        self.distinct_n >= 3
    }

    /// The minimum of `T(n)` over real `n ≥ 1`: `(n*, T(n*))`.
    ///
    /// This is the paper's `T_LB`: no core count runs faster. Write `a = α − γ`, so
    /// `T(n) = a/n + β·g(n) + γ`. Then `T'(n)` has the sign of `β·n/ln 2 − a` (tree) or
    /// `β·n² − a` (ring): at most one sign change, so T is unimodal and its minimum is
    /// `n* = a·ln 2/β` (tree) or `n* = √(a/β)` (ring), clamped to n ≥ 1. When β = 0 and
    /// a > 0 the run time falls forever towards γ, the cost of communication alone: the
    /// infimum is not attained and this returns `(f64::INFINITY, γ)`.
    pub fn lower_bound(&self) -> (f64, f64) {
        let a = self.alpha - self.gamma;
        if a <= 0.0 {
            // T is non-decreasing on n ≥ 1 (or constant): the single core is fastest.
            return (1.0, self.predict(1.0));
        }
        if self.beta <= 0.0 {
            return (f64::INFINITY, self.gamma);
        }
        let n_star = match self.topology {
            Topology::Tree => a * std::f64::consts::LN_2 / self.beta,
            Topology::Ring => (a / self.beta).sqrt(),
        };
        if !n_star.is_finite() {
            // β so small against a that n* overflows: as good as no latency term.
            return (f64::INFINITY, self.gamma);
        }
        let n_star = n_star.max(1.0);
        (n_star, self.predict(n_star))
    }

    /// The fastest whole core count in `1..=max_n` and its predicted run time; the
    /// smaller count on a tie (the same speed for fewer cores). `None` if `max_n` is 0.
    ///
    /// T is unimodal (see [`lower_bound`](Self::lower_bound)), so the integer optimum is
    /// the floor or the ceiling of the real one, clamped to the range: O(1) for any
    /// `max_n`.
    pub fn best_core_count(&self, max_n: u32) -> Option<(u32, f64)> {
        if max_n == 0 {
            return None;
        }
        let (n_star, _) = self.lower_bound();
        let lo = (n_star.floor().min(f64::from(max_n)) as u32).max(1);
        let hi = (n_star.ceil().min(f64::from(max_n)) as u32).max(1);
        let (t_lo, t_hi) = (self.predict(f64::from(lo)), self.predict(f64::from(hi)));
        Some(if t_hi < t_lo { (hi, t_hi) } else { (lo, t_lo) })
    }
}

/// The most predictions (resamples × core counts) [`bootstrap_band`] holds at once:
/// 800 MB of `f64`, far beyond any useful band (10 000 resamples at 1 000 core counts
/// is 10⁷), so a larger request is a mistake to report, not memory to exhaust.
pub const MAX_BAND_PREDICTIONS: usize = 100_000_000;

/// One core count of a bootstrap band.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Band {
    pub n: f64,
    /// Lower percentile of the resampled predictions.
    pub lo: f64,
    /// The prediction of the fit to the data as measured (the curve one draws), not
    /// the bootstrap median.
    pub mid: f64,
    /// Upper percentile of the resampled predictions.
    pub hi: f64,
}

/// Fits the model to `(n cores, T seconds)` points by exact non-negative least squares.
///
/// Several points per core count (repetitions) are fine and weigh in as separate
/// observations. Errors: no points, a non-finite value, n < 1, or a negative run time.
/// Fewer than three distinct core counts still give a fit, marked as not identified
/// (see [`Fit`]).
pub fn fit(points: &[(f64, f64)], topology: Topology) -> Result<Fit, FitError> {
    validate(points)?;
    let (rows, y) = design(points, topology);
    let coef = nnls3(&rows, &y);
    Ok(summarise(points, topology, &rows, &y, coef))
}

/// A percentile band of the fitted run time at each core count in `ns` (extrapolation
/// included), from `resamples` refits of bootstrapped data, at confidence `level`
/// (e.g. 0.95 gives the 2.5th and 97.5th percentiles, linearly interpolated).
///
/// The resampling is the wild bootstrap with Rademacher signs (Wu 1986; Mammen 1993):
/// each resample keeps every core count and flips the sign of each point's residual at
/// random, `T*_i = T̂_i ± s·r_i`. Resampling the points themselves would drop whole core
/// counts from some resamples — with a sweep of a few core counts that makes the
/// extrapolation swing between different under-determined fits — and resampling
/// pooled residuals would give the one-core runs (long, with large absolute noise) the
/// noise of the many-core runs (short, small noise). The sweep's core counts are
/// chosen, not random, so keeping the design fixed is the right model of the
/// experiment. `s = √(m/(m−k))` (m points, k non-zero coefficients) undoes the shrinkage
/// of least-squares residuals (the HC1 correction).
///
/// Deterministic for a `seed`: resample `b` draws its signs from Philox stream `b` of
/// the seed, so the band does not depend on anything else.
pub fn bootstrap_band(
    points: &[(f64, f64)],
    topology: Topology,
    ns: &[f64],
    resamples: usize,
    seed: u64,
    level: f64,
) -> Result<Vec<Band>, FitError> {
    validate(points)?;
    if let Some(&n) = ns.iter().find(|n| !(n.is_finite() && **n >= 1.0)) {
        return Err(FitError::BadBandCoreCount { n });
    }
    if !(level > 0.0 && level < 1.0) {
        return Err(FitError::BadLevel { level });
    }
    if resamples == 0 {
        return Err(FitError::NoResamples);
    }
    let cells = ns
        .len()
        .checked_mul(resamples)
        .filter(|c| *c <= MAX_BAND_PREDICTIONS)
        .ok_or(FitError::BandTooLarge {
            resamples,
            core_counts: ns.len(),
        })?;
    let (rows, y) = design(points, topology);
    let coef = nnls3(&rows, &y);
    let m = rows.len();
    let fitted: Vec<f64> = rows.iter().map(|r| dot(r, &coef)).collect();
    let residuals: Vec<f64> = y.iter().zip(&fitted).map(|(y, f)| y - f).collect();
    let k = coef.iter().filter(|c| **c > 0.0).count();
    let scale = if m > k {
        (m as f64 / (m - k) as f64).sqrt()
    } else {
        1.0
    };

    // predictions[i * resamples + b]: resample b at ns[i].
    let mut predictions = vec![0.0; cells];
    let mut y_star = vec![0.0; m];
    let mut words = vec![0u32; m.div_ceil(32)];
    for b in 0..resamples {
        let mut rng = Philox::from_u64_seed_stream(seed, b as u64);
        rng.fill_u32(&mut words);
        for (i, ys) in y_star.iter_mut().enumerate() {
            let sign = if words[i / 32] >> (i % 32) & 1 == 1 {
                1.0
            } else {
                -1.0
            };
            *ys = fitted[i] + sign * scale * residuals[i];
        }
        let c = nnls3(&rows, &y_star);
        for (i, &n) in ns.iter().enumerate() {
            predictions[i * resamples + b] = coef_predict(topology, c, n);
        }
    }

    let (q_lo, q_hi) = ((1.0 - level) / 2.0, (1.0 + level) / 2.0);
    let mut bands = Vec::with_capacity(ns.len());
    for (i, &n) in ns.iter().enumerate() {
        let sample = &mut predictions[i * resamples..(i + 1) * resamples];
        sample.sort_by(f64::total_cmp);
        // Predictions are finite (finite data, n ≥ 1), so the sorted slice is valid and
        // the quantiles exist; the fallback only guards the unreachable.
        let mid = coef_predict(topology, coef, n);
        bands.push(Band {
            n,
            lo: quantile(sample, q_lo).unwrap_or(mid),
            mid,
            hi: quantile(sample, q_hi).unwrap_or(mid),
        });
    }
    Ok(bands)
}

fn validate(points: &[(f64, f64)]) -> Result<(), FitError> {
    if points.is_empty() {
        return Err(FitError::TooFewPoints { got: 0, needed: 1 });
    }
    for (index, &(n, t)) in points.iter().enumerate() {
        if !(n.is_finite() && t.is_finite()) {
            return Err(FitError::NonFinite { index, n, t });
        }
        if n < 1.0 {
            return Err(FitError::CoreCountBelowOne { index, n });
        }
        if t < 0.0 {
            return Err(FitError::NegativeTime { index, t });
        }
    }
    Ok(())
}

fn design(points: &[(f64, f64)], topology: Topology) -> (Vec<[f64; 3]>, Vec<f64>) {
    points.iter().map(|&(n, t)| (topology.basis(n), t)).unzip()
}

fn dot(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn coef_predict(topology: Topology, coef: [f64; 3], n: f64) -> f64 {
    // Zero coefficients are skipped, not multiplied: 0 · log2(∞) would be NaN.
    topology
        .basis(n)
        .iter()
        .zip(&coef)
        .filter(|(_, c)| **c != 0.0)
        .map(|(b, c)| b * c)
        .sum()
}

fn summarise(
    points: &[(f64, f64)],
    topology: Topology,
    rows: &[[f64; 3]],
    y: &[f64],
    coef: [f64; 3],
) -> Fit {
    let m = y.len();
    let mean = y.iter().sum::<f64>() / m as f64;
    let ss_tot: f64 = y.iter().map(|v| (v - mean).powi(2)).sum();
    let ss_res = residual_ss(rows, y, &coef);
    let r2 = if ss_tot > 0.0 {
        1.0 - ss_res / ss_tot
    } else {
        1.0
    };
    let mut ns: Vec<f64> = points.iter().map(|p| p.0).collect();
    ns.sort_by(f64::total_cmp);
    ns.dedup();
    Fit {
        topology,
        alpha: coef[0],
        beta: coef[1],
        gamma: coef[2],
        r2,
        rmse: (ss_res / m as f64).sqrt(),
        points: m,
        distinct_n: ns.len(),
    }
}

fn residual_ss(rows: &[[f64; 3]], y: &[f64], coef: &[f64; 3]) -> f64 {
    rows.iter()
        .zip(y)
        .map(|(r, v)| (v - dot(r, coef)).powi(2))
        .sum()
}

/// Exact NNLS for three columns by enumerating the supports (see the module docs).
///
/// Hand-written rather than taken from a linear-algebra crate: the systems have at most
/// three columns, the rank test has to be ours anyway (a rank-deficient support is
/// skipped, because some optimal solution always has linearly independent support
/// columns), and nalgebra or ndarray-linalg would add a large dependency tree to the
/// crate for sixty lines of Householder QR.
///
/// Among supports within rounding of the smallest residual the one with fewer terms
/// wins, so under-determined data get the simplest model that fits them as well.
fn nnls3(rows: &[[f64; 3]], y: &[f64]) -> [f64; 3] {
    let y_ss: f64 = y.iter().map(|v| v * v).sum();
    // Far above rounding in the residual (≈ m·ε²·Σy²), far below any difference a
    // measurement could show.
    let tie = 1e-12 * y_ss;
    // The empty support (all zero) is always feasible.
    let mut best = ([0.0; 3], y_ss, 0usize);
    for mask in 1u8..8 {
        let cols: Vec<usize> = (0..3).filter(|c| mask >> c & 1 == 1).collect();
        let Some(sub) = lstsq(rows, y, &cols) else {
            continue;
        };
        if sub.iter().any(|c| *c < 0.0) {
            continue;
        }
        let mut coef = [0.0; 3];
        for (&c, &v) in cols.iter().zip(&sub) {
            coef[c] = v;
        }
        let ss = residual_ss(rows, y, &coef);
        let terms = cols.len();
        if ss < best.1 - tie || (ss <= best.1 + tie && terms < best.2) {
            best = (coef, ss, terms);
        }
    }
    best.0
}

/// Unconstrained least squares on the columns `cols` of `rows` by Householder QR on
/// unit-norm-scaled columns; `None` when those columns are (numerically) dependent.
fn lstsq(rows: &[[f64; 3]], y: &[f64], cols: &[usize]) -> Option<Vec<f64>> {
    let m = rows.len();
    let k = cols.len();
    if m < k {
        return None;
    }
    // Column-major copy, each column scaled to unit norm so the rank test below is
    // relative and the ring's (n−1) column cannot swamp 1/n.
    let mut a: Vec<Vec<f64>> = Vec::with_capacity(k);
    let mut norms = Vec::with_capacity(k);
    for &c in cols {
        let col: Vec<f64> = rows.iter().map(|r| r[c]).collect();
        let norm = col.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm == 0.0 || !norm.is_finite() {
            return None;
        }
        norms.push(norm);
        a.push(col.into_iter().map(|v| v / norm).collect());
    }
    let mut b = y.to_vec();
    let mut r_diag = vec![0.0; k];
    for j in 0..k {
        let x_norm = a[j][j..].iter().map(|v| v * v).sum::<f64>().sqrt();
        // |R_jj| is the sine of the angle between column j and the span of the earlier
        // columns (all unit norm): below 1e-9 they are dependent for any practical data.
        if x_norm <= 1e-9 {
            return None;
        }
        let alpha = if a[j][j] > 0.0 { -x_norm } else { x_norm };
        // Householder vector v = x − alpha·e1, stored in place of column j.
        let mut v: Vec<f64> = a[j][j..].to_vec();
        v[0] -= alpha;
        let v_ss: f64 = v.iter().map(|t| t * t).sum();
        if v_ss > 0.0 {
            for col in a.iter_mut().skip(j + 1) {
                reflect(&v, v_ss, &mut col[j..]);
            }
            reflect(&v, v_ss, &mut b[j..]);
        }
        r_diag[j] = alpha;
        a[j][j] = alpha;
    }
    // Back substitution R x = Qᵀb (R's off-diagonal entries are a[col][row], row < col).
    let mut x = vec![0.0; k];
    for j in (0..k).rev() {
        let mut s = b[j];
        for (l, xl) in x.iter().enumerate().skip(j + 1) {
            s -= a[l][j] * xl;
        }
        x[j] = s / r_diag[j];
    }
    Some(x.iter().zip(&norms).map(|(x, n)| x / n).collect())
}

/// Applies the reflection `I − 2vvᵀ/(vᵀv)` to `x`.
fn reflect(v: &[f64], v_ss: f64, x: &mut [f64]) {
    let s = 2.0 * v.iter().zip(x.iter()).map(|(a, b)| a * b).sum::<f64>() / v_ss;
    for (xi, vi) in x.iter_mut().zip(v) {
        *xi -= s * vi;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CORES: [f64; 7] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];

    fn model(topology: Topology, coef: [f64; 3], n: f64) -> f64 {
        dot(&topology.basis(n), &coef)
    }

    /// `reps` noisy measurements per core count: multiplicative noise, uniform in
    /// ±`rel`, from a fixed Philox stream (run-time noise scales with the run time).
    fn synthetic(topology: Topology, coef: [f64; 3], reps: usize, rel: f64) -> Vec<(f64, f64)> {
        let mut rng = Philox::from_u64_seed(42);
        let mut points = Vec::new();
        for &n in &CORES {
            for _ in 0..reps {
                let u = rand_philox::u32_to_unit_f64(rng.next_u32());
                points.push((n, model(topology, coef, n) * (1.0 + rel * (2.0 * u - 1.0))));
            }
        }
        points
    }

    fn rel_err(got: f64, want: f64) -> f64 {
        (got - want).abs() / want.abs()
    }

    #[test]
    fn recovers_known_coefficients_from_noisy_tree_data() {
        let truth = [100.0, 0.5, 2.0];
        let points = synthetic(Topology::Tree, truth, 5, 0.002);
        let f = fit(&points, Topology::Tree).unwrap();
        assert!(rel_err(f.alpha, truth[0]) < 0.01, "{f:?}");
        assert!(rel_err(f.beta, truth[1]) < 0.1, "{f:?}");
        assert!(rel_err(f.gamma, truth[2]) < 0.1, "{f:?}");
        assert!(f.r2 > 0.999 && f.rmse < 0.2, "{f:?}");
        assert_eq!((f.points, f.distinct_n, f.is_identified()), (35, 7, true));
    }

    #[test]
    fn recovers_known_coefficients_from_noisy_ring_data() {
        let truth = [100.0, 0.05, 2.0];
        let points = synthetic(Topology::Ring, truth, 5, 0.002);
        let f = fit(&points, Topology::Ring).unwrap();
        assert!(rel_err(f.alpha, truth[0]) < 0.01, "{f:?}");
        assert!(rel_err(f.beta, truth[1]) < 0.1, "{f:?}");
        assert!(rel_err(f.gamma, truth[2]) < 0.1, "{f:?}");
        assert!(f.r2 > 0.999, "{f:?}");
    }

    #[test]
    fn three_exact_points_are_interpolated() {
        let truth = [8.0, 0.25, 1.5];
        for topology in [Topology::Tree, Topology::Ring] {
            let points: Vec<(f64, f64)> = [1.0, 3.0, 10.0]
                .iter()
                .map(|&n| (n, model(topology, truth, n)))
                .collect();
            let f = fit(&points, topology).unwrap();
            for (got, want) in [f.alpha, f.beta, f.gamma].iter().zip(truth) {
                assert!(rel_err(*got, want) < 1e-10, "{topology:?}: {f:?}");
            }
            assert!((f.r2 - 1.0).abs() < 1e-12 && f.rmse < 1e-12);
        }
    }

    /// Gradient of ½‖Ax − y‖² at `coef`.
    fn gradient(points: &[(f64, f64)], topology: Topology, coef: [f64; 3]) -> [f64; 3] {
        let mut g = [0.0; 3];
        for &(n, t) in points {
            let b = topology.basis(n);
            let r = dot(&b, &coef) - t;
            for (g, b) in g.iter_mut().zip(b) {
                *g += b * r;
            }
        }
        g
    }

    fn sse(points: &[(f64, f64)], topology: Topology, coef: [f64; 3]) -> f64 {
        points
            .iter()
            .map(|&(n, t)| (model(topology, coef, n) - t).powi(2))
            .sum()
    }

    #[test]
    fn negative_coefficient_in_the_data_is_clamped_to_the_best_non_negative_fit() {
        // β < 0: run time falls faster than 1/n would allow. The unconstrained fit
        // follows it; the paper's model may not.
        // Ring: a smaller β, or T(64) = 50/64 − 0.3·63 + … would be negative.
        for (topology, truth) in [
            (Topology::Tree, [50.0, -0.3, 5.0]),
            (Topology::Ring, [50.0, -0.03, 5.0]),
        ] {
            let points = synthetic(topology, truth, 3, 0.001);
            let (rows, y) = design(&points, topology);
            let free = lstsq(&rows, &y, &[0, 1, 2]).unwrap();
            assert!(
                free[1] < 0.0,
                "the test must exercise the constraint: {free:?}"
            );

            let f = fit(&points, topology).unwrap();
            let coef = [f.alpha, f.beta, f.gamma];
            assert_eq!(f.beta, 0.0, "{f:?}");
            assert!(f.alpha > 0.0 && f.gamma >= 0.0, "{f:?}");

            // KKT: zero gradient on the free coefficients, non-negative on the clamped
            // ones (moving them up from 0 cannot help).
            let g = gradient(&points, topology, coef);
            let scale: f64 = points.iter().map(|p| p.1 * p.1).sum::<f64>().sqrt();
            for (c, g_c) in coef.iter().zip(g) {
                if *c > 0.0 {
                    assert!(g_c.abs() < 1e-8 * scale, "{topology:?} g={g:?}");
                } else {
                    assert!(g_c > -1e-8 * scale, "{topology:?} g={g:?}");
                }
            }
            // And by brute force: no non-negative point on a grid around the fit does
            // better.
            let best = sse(&points, topology, coef);
            for i in -10..=10 {
                for j in 0..=10 {
                    for k in -10..=10 {
                        let trial = [
                            (f.alpha * (1.0 + 0.01 * f64::from(i))).max(0.0),
                            0.02 * f64::from(j),
                            (f.gamma + 0.1 * f64::from(k)).max(0.0),
                        ];
                        assert!(sse(&points, topology, trial) >= best * (1.0 - 1e-12));
                    }
                }
            }
        }
    }

    #[test]
    fn data_at_one_core_only_give_alpha_alone() {
        let points = [(1.0, 10.0), (1.0, 12.0), (1.0, 11.0)];
        let f = fit(&points, Topology::Tree).unwrap();
        assert!((f.alpha - 11.0).abs() < 1e-12);
        assert_eq!((f.beta, f.gamma), (0.0, 0.0));
        assert_eq!((f.distinct_n, f.is_identified()), (1, false));
        // Two core counts: fitted exactly with two terms, still not identified.
        let points = [(1.0, 10.0), (2.0, 6.0), (2.0, 6.0)];
        let f = fit(&points, Topology::Ring).unwrap();
        assert!(f.rmse < 1e-12, "{f:?}");
        assert_eq!((f.distinct_n, f.is_identified()), (2, false));
        assert!([f.beta, f.gamma].contains(&0.0), "two terms at most: {f:?}");
    }

    #[test]
    fn constant_run_time_fits_exactly() {
        let points = [(1.0, 3.0), (2.0, 3.0), (4.0, 3.0), (8.0, 3.0)];
        let f = fit(&points, Topology::Tree).unwrap();
        assert_eq!(f.r2, 1.0);
        assert!(f.rmse < 1e-12, "{f:?}");
        assert!((f.predict(1000.0) - 3.0).abs() < 1e-9);
    }

    #[test]
    fn bad_points_are_errors() {
        assert_eq!(
            fit(&[], Topology::Tree),
            Err(FitError::TooFewPoints { got: 0, needed: 1 })
        );
        assert!(matches!(
            fit(&[(1.0, 2.0), (2.0, f64::NAN)], Topology::Tree),
            Err(FitError::NonFinite { index: 1, .. })
        ));
        assert!(matches!(
            fit(&[(f64::INFINITY, 2.0)], Topology::Ring),
            Err(FitError::NonFinite { index: 0, .. })
        ));
        assert_eq!(
            fit(&[(0.5, 2.0)], Topology::Tree),
            Err(FitError::CoreCountBelowOne { index: 0, n: 0.5 })
        );
        assert_eq!(
            fit(&[(1.0, 2.0), (2.0, -1.0)], Topology::Tree),
            Err(FitError::NegativeTime { index: 1, t: -1.0 })
        );
    }

    fn model_fit(topology: Topology, alpha: f64, beta: f64, gamma: f64) -> Fit {
        Fit {
            topology,
            alpha,
            beta,
            gamma,
            r2: 1.0,
            rmse: 0.0,
            points: 3,
            distinct_n: 3,
        }
    }

    #[test]
    fn lower_bound_of_tree_model_is_at_alpha_ln2_over_beta() {
        // T = α/n + β·log2 n: T' = −α/n² + β/(n ln 2) = 0 at n* = α·ln 2/β.
        let f = model_fit(Topology::Tree, 100.0, 2.0, 0.0);
        let (n_star, t_min) = f.lower_bound();
        let want = 100.0 * std::f64::consts::LN_2 / 2.0; // 34.657…
        assert!((n_star - want).abs() < 1e-12);
        assert!((t_min - (100.0 / want + 2.0 * want.log2())).abs() < 1e-12);
        // With γ > 0 the optimum moves to (α − γ)·ln 2/β.
        let f = model_fit(Topology::Tree, 100.0, 2.0, 10.0);
        assert!((f.lower_bound().0 - 90.0 * std::f64::consts::LN_2 / 2.0).abs() < 1e-12);
    }

    #[test]
    fn lower_bound_of_ring_model_is_at_root_of_alpha_over_beta() {
        // T = 100/n + (n − 1): n* = 10, T = 10 + 9 = 19.
        let f = model_fit(Topology::Ring, 100.0, 1.0, 0.0);
        let (n_star, t_min) = f.lower_bound();
        assert!((n_star - 10.0).abs() < 1e-12 && (t_min - 19.0).abs() < 1e-12);
    }

    #[test]
    fn lower_bound_edge_cases() {
        // No latency term: T = α/n + γ(n−1)/n falls for ever towards γ, never reaching it.
        let f = model_fit(Topology::Tree, 10.0, 0.0, 1.0);
        assert_eq!(f.lower_bound(), (f64::INFINITY, 1.0));
        // α ≤ γ: more cores never help; one core is fastest.
        let f = model_fit(Topology::Ring, 1.0, 0.0, 3.0);
        assert_eq!(f.lower_bound(), (1.0, 1.0));
        // n* below one core is clamped to one.
        let f = model_fit(Topology::Tree, 1.0, 5.0, 0.0);
        assert_eq!(f.lower_bound(), (1.0, 1.0));
        // The bound is a minimum: nothing on a dense scan lies below it.
        for f in [
            model_fit(Topology::Tree, 100.0, 2.0, 5.0),
            model_fit(Topology::Ring, 77.0, 0.3, 1.0),
        ] {
            let (_, t_min) = f.lower_bound();
            for i in 0..100_000 {
                let n = 1.0 + f64::from(i) * 0.01;
                assert!(f.predict(n) >= t_min - 1e-12, "{f:?} at {n}");
            }
        }
    }

    #[test]
    fn best_core_count_equals_brute_force_argmin() {
        let mut rng = Philox::from_u64_seed(7);
        let mut u = || rand_philox::u32_to_unit_f64(rng.next_u32());
        for case in 0..500 {
            let topology = if case % 2 == 0 {
                Topology::Tree
            } else {
                Topology::Ring
            };
            let beta = if case % 5 == 0 { 0.0 } else { 10.0 * u() };
            let f = model_fit(topology, 1000.0 * u(), beta, 10.0 * u());
            let max_n = 1 + (300.0 * u()) as u32;
            let mut want = (1, f.predict(1.0));
            for n in 2..=max_n {
                let t = f.predict(f64::from(n));
                if t < want.1 {
                    want = (n, t);
                }
            }
            assert_eq!(f.best_core_count(max_n), Some(want), "{f:?} max {max_n}");
        }
        assert_eq!(
            model_fit(Topology::Tree, 1.0, 1.0, 1.0).best_core_count(0),
            None
        );
    }

    #[test]
    fn bootstrap_band_contains_the_true_curve_and_extrapolates() {
        let truth = [100.0, 0.5, 2.0];
        let points = synthetic(Topology::Tree, truth, 5, 0.002);
        let ns = [1.0, 8.0, 64.0, 256.0, 1024.0];
        let band = bootstrap_band(&points, Topology::Tree, &ns, 1000, 1, 0.99).unwrap();
        assert_eq!(band.len(), ns.len());
        let f = fit(&points, Topology::Tree).unwrap();
        for b in &band {
            let t = model(Topology::Tree, truth, b.n);
            assert!(b.lo <= t && t <= b.hi, "{b:?} misses {t}");
            assert!(b.lo <= b.mid && b.mid <= b.hi, "{b:?}");
            assert_eq!(b.mid, f.predict(b.n));
        }
        // Extrapolation is less certain than interpolation.
        assert!(band[4].hi - band[4].lo > band[1].hi - band[1].lo);
    }

    #[test]
    fn bootstrap_band_is_deterministic_for_a_seed() {
        let points = synthetic(Topology::Ring, [100.0, 0.05, 2.0], 3, 0.01);
        let ns = [2.0, 128.0];
        let a = bootstrap_band(&points, Topology::Ring, &ns, 200, 9, 0.9).unwrap();
        let b = bootstrap_band(&points, Topology::Ring, &ns, 200, 9, 0.9).unwrap();
        let c = bootstrap_band(&points, Topology::Ring, &ns, 200, 10, 0.9).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn noise_free_data_give_a_band_of_zero_width() {
        let truth = [100.0, 0.5, 2.0];
        let points: Vec<(f64, f64)> = CORES
            .iter()
            .map(|&n| (n, model(Topology::Tree, truth, n)))
            .collect();
        let band = bootstrap_band(&points, Topology::Tree, &[512.0], 50, 3, 0.95).unwrap();
        let t = model(Topology::Tree, truth, 512.0);
        assert!((band[0].hi - band[0].lo).abs() < 1e-9 * t, "{band:?}");
        assert!((band[0].mid - t).abs() < 1e-9 * t);
    }

    #[test]
    fn bad_band_arguments_are_errors() {
        let points = [(1.0, 10.0), (2.0, 6.0), (4.0, 4.0)];
        let band = |ns: &[f64], resamples, level| {
            bootstrap_band(&points, Topology::Tree, ns, resamples, 0, level)
        };
        assert_eq!(
            band(&[0.0], 10, 0.9),
            Err(FitError::BadBandCoreCount { n: 0.0 })
        );
        assert!(matches!(
            band(&[f64::NAN], 10, 0.9),
            Err(FitError::BadBandCoreCount { .. })
        ));
        assert_eq!(
            band(&[2.0], 10, 1.0),
            Err(FitError::BadLevel { level: 1.0 })
        );
        assert!(matches!(
            band(&[2.0], 10, f64::NAN),
            Err(FitError::BadLevel { .. })
        ));
        assert_eq!(band(&[2.0], 0, 0.9), Err(FitError::NoResamples));
        assert_eq!(
            band(&[2.0, 3.0], usize::MAX, 0.9),
            Err(FitError::BandTooLarge {
                resamples: usize::MAX,
                core_counts: 2
            })
        );
        assert_eq!(band(&[], 10, 0.9), Ok(vec![]));
        assert_eq!(
            bootstrap_band(&[], Topology::Tree, &[2.0], 10, 0, 0.9),
            Err(FitError::TooFewPoints { got: 0, needed: 1 })
        );
    }
}
