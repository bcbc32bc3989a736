//! Axes in "plot space": every chart maps its data through [`Scale::to_plot`] (identity or
//! log10) and draws on plain linear `plotters` coordinates with tick positions computed
//! here. Doing the log transform ourselves (rather than with `plotters`' log ranges) gives
//! one coordinate type for every chart, lets non-positive values be skipped instead of
//! reaching a logarithm, and puts log ticks on whole decades labelled in data units.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

use super::PlotError;

/// How data values map onto an axis.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Scale {
    #[default]
    Linear,
    /// Base-10 logarithmic; values ≤ 0 (and non-finite ones) are left out of the chart.
    Log,
}

impl Scale {
    /// The plot-space position of `v`, or `None` when it cannot be shown on this scale
    /// (NaN, ±inf, or ≤ 0 on a log axis).
    pub(crate) fn to_plot(self, v: f64) -> Option<f64> {
        match self {
            Scale::Linear if v.is_finite() => Some(v),
            Scale::Log if v.is_finite() && v > 0.0 => Some(v.log10()),
            _ => None,
        }
    }

    /// The data value at plot-space position `t`.
    pub(crate) fn to_data(self, t: f64) -> f64 {
        match self {
            Scale::Linear => t,
            Scale::Log => 10f64.powf(t),
        }
    }
}

/// Upper bound on tick count, whatever the range: keeps a pathological range (1e-300 ..
/// 1e300 on a linear axis) from producing a runaway label list.
const MAX_TICKS: usize = 40;

/// One resolved axis: its plot-space range and tick marks with their labels.
#[derive(Debug, Clone)]
pub(crate) struct Axis {
    pub scale: Scale,
    pub lo: f64,
    pub hi: f64,
    /// Labelled tick positions (plot space) with the text under each.
    pub ticks: Vec<(f64, String)>,
    /// Unlabelled minor grid positions (plot space).
    pub light: Vec<f64>,
}

/// How a numeric axis finds its range from data.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RangeRule {
    /// A caller-fixed range in data units; overrides the data.
    pub fixed: Option<(f64, f64)>,
    /// Extend the range to include 0 and do not pad below it (bars, histograms: the
    /// baseline is meaningful). Ignored on log axes.
    pub include_zero: bool,
}

impl Axis {
    /// A numeric axis covering `values` (already in plot space; non-finite ones ignored).
    /// `Ok(None)` when there is nothing to cover and no fixed range.
    pub fn numeric(
        scale: Scale,
        values: impl IntoIterator<Item = f64>,
        rule: RangeRule,
    ) -> Result<Option<Axis>, PlotError> {
        let (lo, hi) = match rule.fixed {
            Some(fixed) => fixed_range(scale, fixed)?,
            None => {
                let mut lo = f64::INFINITY;
                let mut hi = f64::NEG_INFINITY;
                for v in values.into_iter().filter(|v| v.is_finite()) {
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
                if lo > hi {
                    if rule.include_zero && scale == Scale::Linear {
                        (lo, hi) = (0.0, 0.0);
                    } else {
                        return Ok(None);
                    }
                }
                let zero_based = rule.include_zero && scale == Scale::Linear;
                if zero_based {
                    lo = lo.min(0.0);
                    hi = hi.max(0.0);
                }
                pad(scale, lo, hi, zero_based)
            }
        };
        Ok(Some(Axis::with_range(scale, lo, hi)))
    }

    /// A numeric axis over a known plot-space range (lo < hi, both finite).
    pub fn with_range(scale: Scale, lo: f64, hi: f64) -> Axis {
        let (lo, hi) = ensure_span(lo, hi);
        let (ticks, light) = match scale {
            Scale::Linear => (linear_ticks(lo, hi, 6), Vec::new()),
            Scale::Log => log_ticks(lo, hi),
        };
        Axis {
            scale,
            lo,
            hi,
            ticks,
            light,
        }
    }

    /// A category axis: category `i` sits at position `i`, labelled `labels[i]`.
    pub fn categories(labels: &[String]) -> Axis {
        let n = labels.len().max(1) as f64;
        Axis {
            scale: Scale::Linear,
            lo: -0.5,
            hi: n - 0.5,
            ticks: labels
                .iter()
                .enumerate()
                .map(|(i, l)| (i as f64, l.clone()))
                .collect(),
            light: Vec::new(),
        }
    }

    /// The `plotters` coordinate for this axis, with our ticks as its key points.
    pub fn coord(&self) -> AxisCoord {
        AxisCoord {
            lo: self.lo,
            hi: self.hi,
            bold: self.ticks.iter().map(|(t, _)| *t).collect(),
            light: self.light.clone(),
        }
    }

    /// The text at a tick (`plotters` asks by position); off-tick positions get a plain
    /// number so that nothing is ever blank by accident.
    pub fn label(&self, t: f64) -> String {
        let eps = (self.hi - self.lo).abs() * 1e-9;
        self.ticks
            .iter()
            .find(|(p, _)| (p - t).abs() <= eps)
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| format_number(self.scale.to_data(t), 0.0))
    }

    /// Whether plot-space `t` lies on the axis (with a hair of tolerance for rounding).
    pub fn contains(&self, t: f64) -> bool {
        let eps = (self.hi - self.lo).abs() * 1e-9;
        (self.lo - eps..=self.hi + eps).contains(&t)
    }

    pub fn clamp(&self, t: f64) -> f64 {
        t.clamp(self.lo, self.hi)
    }
}

/// A linear `plotters` coordinate over plot space whose tick positions are ours.
/// (`plotters`' own `WithKeyPoints` wrapper over `f64` ranges cannot be used with a mesh:
/// it inherits a formatting option that has no label formatter.)
#[derive(Debug, Clone)]
pub(crate) struct AxisCoord {
    lo: f64,
    hi: f64,
    bold: Vec<f64>,
    light: Vec<f64>,
}

impl Ranged for AxisCoord {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    /// Same mapping as `plotters`' `RangedCoordf64`, made total: NaN and infinities land
    /// on an edge instead of producing an arbitrary pixel.
    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let span = self.hi - self.lo;
        let pixels = limit.1 - limit.0;
        if span <= 0.0 || pixels == 0 {
            return limit.0 + pixels / 2;
        }
        let frac = (*v - self.lo) / span;
        if frac.is_nan() {
            return limit.0;
        }
        // Far outside the frame a pixel position is meaningless; clamping keeps the
        // i32 arithmetic below from saturating into a wrong side.
        let frac = frac.clamp(-10.0, 11.0);
        if pixels > 0 {
            limit.0 + (f64::from(pixels) * frac + 1e-3).floor() as i32
        } else {
            limit.0 + (f64::from(pixels) * frac - 1e-3).ceil() as i32
        }
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.bold.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// A caller's fixed range, checked and moved to plot space.
fn fixed_range(scale: Scale, (lo, hi): (f64, f64)) -> Result<(f64, f64), PlotError> {
    match (scale.to_plot(lo), scale.to_plot(hi)) {
        (Some(a), Some(b)) if a < b => Ok((a, b)),
        _ => Err(PlotError::InvalidData(format!(
            "axis range ({lo}, {hi}) is not increasing and finite{}",
            if scale == Scale::Log {
                " and positive (log axis)"
            } else {
                ""
            }
        ))),
    }
}

/// Pads a data range so points do not sit on the frame, and widens a degenerate one
/// (a single point, or all values equal) to something drawable.
fn pad(scale: Scale, lo: f64, hi: f64, zero_based: bool) -> (f64, f64) {
    let span = hi - lo;
    if span > 0.0 && span.is_finite() {
        let p = span * 0.05;
        let lo_padded = if zero_based && lo == 0.0 { 0.0 } else { lo - p };
        let hi_padded = if zero_based && hi == 0.0 { 0.0 } else { hi + p };
        return (lo_padded, hi_padded);
    }
    if !span.is_finite() {
        // Both ends finite but their difference overflows: use the extremes as they are.
        return (lo.max(-f64::MAX / 4.0), hi.min(f64::MAX / 4.0));
    }
    // Degenerate: one value (or all equal).
    let half = match scale {
        Scale::Log => 0.5, // half a decade each side
        Scale::Linear if lo == 0.0 => 1.0,
        Scale::Linear => lo.abs() * 0.1,
    };
    if zero_based && lo == 0.0 {
        (0.0, 2.0 * half)
    } else if zero_based && lo > 0.0 {
        (0.0, lo + half)
    } else if zero_based {
        (lo - half, 0.0)
    } else {
        (lo - half, hi + half)
    }
}

/// A finite range with hi > lo, whatever came in: near-equal ends (where padding
/// vanished in rounding, e.g. 1e308 ± 0.5) are widened by a tenth of their magnitude, and
/// non-finite ends fall back to [0, 1]. `plotters` divides by the span, so a zero span
/// must never reach it.
fn ensure_span(lo: f64, hi: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    if hi > lo {
        return (lo, hi);
    }
    let m = lo.abs().max(hi.abs()).max(1.0) * 0.1;
    let (a, b) = (lo.min(hi) - m, lo.max(hi) + m);
    if a.is_finite() && b.is_finite() && b > a {
        (a, b)
    } else {
        (0.0, 1.0)
    }
}

/// A 1-2-5 step near `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let e = raw.log10().floor();
    let base = 10f64.powf(e);
    let f = raw / base;
    let m = if f < 1.5 {
        1.0
    } else if f < 3.0 {
        2.0
    } else if f < 7.0 {
        5.0
    } else {
        10.0
    };
    m * base
}

/// About `target` ticks at round numbers in [lo, hi], labelled with as many decimals as
/// the step needs.
fn linear_ticks(lo: f64, hi: f64, target: usize) -> Vec<(f64, String)> {
    let step = nice_step((hi - lo) / target.max(1) as f64);
    // The 1e-9 slack keeps a tick that sits on an end of the range despite rounding
    // (0.6 / 0.2 = 2.9999999999999996).
    let first = (lo / step - 1e-9).ceil();
    let last = (hi / step + 1e-9).floor();
    if !(first.is_finite() && last.is_finite()) || last < first {
        return Vec::new();
    }
    let n = last - first + 1.0;
    if n > MAX_TICKS as f64 {
        // The step fell below the values' precision (a range like 1e17 .. 1e17 + 10):
        // label the two ends rather than pretend to a grid.
        return [lo, hi].map(|v| (v, format_number(v, 0.0))).to_vec();
    }
    // `n` is a small positive whole number here.
    let count = n as usize;
    (0..count)
        .map(|k| {
            let v = (first + k as f64) * step;
            // Snap -0.0 and rounding residue (0.30000000000000004) to the step's grid.
            let v = if v.abs() < step * 1e-9 { 0.0 } else { v };
            (v, format_number(v, step))
        })
        .collect()
}

/// Ticks for a log axis whose plot-space range is [lo, hi] (decades): 1, 2 and 5 of
/// each decade over a span of 0.7 to 2.5 decades; whole decades over wider spans
/// (thinned if there are many), with 2…9 as minor grid; round numbers in data units,
/// placed logarithmically, over narrower ones.
fn log_ticks(lo: f64, hi: f64) -> (Vec<(f64, String)>, Vec<f64>) {
    let first = lo.ceil();
    let last = hi.floor();
    let decades = if last >= first {
        (last - first) as usize + 1
    } else {
        0
    };
    if hi - lo <= 2.5 && hi - lo >= 0.7 {
        // A few decades (worker counts 1…64, say): label 1, 2 and 5 of each decade.
        let mut ticks = Vec::new();
        let mut light = Vec::new();
        let mut d = lo.floor();
        while d <= hi {
            for m in 1..=9 {
                let t = d + f64::from(m).log10();
                if (lo..=hi).contains(&t) {
                    if matches!(m, 1 | 2 | 5) {
                        ticks.push((t, format_number(10f64.powf(t), 0.0)));
                    } else {
                        light.push(t);
                    }
                }
            }
            d += 1.0;
        }
        if ticks.len() >= 3 {
            return (ticks, light);
        }
    }
    if decades >= 2 {
        // At most about eight labels, on decades that are multiples of a round stride
        // (1e-20, 1e0, 1e20 rather than 1e-17, 1e26 …).
        let wanted = decades.div_ceil(8).max(1) as i64;
        let stride = [1, 2, 5, 10, 20, 25, 50, 100, 200]
            .into_iter()
            .find(|&s| s >= wanted)
            .unwrap_or(wanted);
        // Both ends are whole numbers within about ±400 (the decades of f64).
        let ticks: Vec<(f64, String)> = (first as i64..=last as i64)
            .filter(|d| d.rem_euclid(stride) == 0)
            .take(MAX_TICKS)
            .map(|d| (d as f64, format_decade(d as f64)))
            .collect();
        let mut light = Vec::new();
        if hi - lo <= 8.0 {
            let mut d = lo.floor();
            while d <= hi {
                for m in 2..=9 {
                    let t = d + f64::from(m).log10();
                    if (lo..=hi).contains(&t) {
                        light.push(t);
                    }
                }
                d += 1.0;
            }
        }
        return (ticks, light);
    }
    let (a, b) = (10f64.powf(lo), 10f64.powf(hi));
    let ticks = linear_ticks(a, b, 5)
        .into_iter()
        .filter(|(v, _)| *v > 0.0)
        .map(|(v, s)| (v.log10(), s))
        .collect();
    (ticks, Vec::new())
}

/// "0.01", "1", "1000" for decades near unity, "1e-6" / "1e9" beyond.
fn format_decade(d: f64) -> String {
    let k = d.round() as i32;
    if (-4..=5).contains(&k) {
        let decimals = (-k).max(0) as usize;
        format!("{:.*}", decimals, 10f64.powi(k))
    } else {
        format!("1e{k}")
    }
}

/// A tick label for `v` on a grid of `step` (0: unknown step): as many decimals as the
/// step needs, scientific notation for very large or very small magnitudes.
pub(crate) fn format_number(v: f64, step: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v == 0.0 {
        return "0".to_string();
    }
    let mag = v.abs();
    if !(1e-4..1e6).contains(&mag) {
        return format!("{v:.1e}");
    }
    let decimals = if step > 0.0 {
        (-step.log10().floor()).max(0.0) as usize
    } else {
        // No grid: enough decimals for three significant digits.
        (2.0 - mag.log10().floor()).clamp(0.0, 6.0) as usize
    };
    let s = format!("{:.*}", decimals, v);
    if step > 0.0 || !s.contains('.') {
        s
    } else {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Clips a polyline (plot space) to the rectangle of `x` × `y`, returning the visible
/// pieces; segments leaving and re-entering the frame become separate pieces.
pub(crate) fn clip_polyline(points: &[(f64, f64)], x: &Axis, y: &Axis) -> Vec<Vec<(f64, f64)>> {
    let mut pieces: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    if points.len() == 1 {
        let p = points[0];
        if x.contains(p.0) && y.contains(p.1) {
            pieces.push(vec![p]);
        }
        return pieces;
    }
    for w in points.windows(2) {
        match clip_segment(w[0], w[1], x, y) {
            Some((a, b)) => {
                let continues = current
                    .last()
                    .is_some_and(|last| last.0 == a.0 && last.1 == a.1);
                if !continues {
                    if current.len() > 1 {
                        pieces.push(std::mem::take(&mut current));
                    }
                    current.clear();
                    current.push(a);
                }
                current.push(b);
            }
            None => {
                if current.len() > 1 {
                    pieces.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    if current.len() > 1 {
        pieces.push(current);
    }
    pieces
}

/// Liang–Barsky clipping of one segment to the axes' rectangle.
fn clip_segment(
    a: (f64, f64),
    b: (f64, f64),
    x: &Axis,
    y: &Axis,
) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let mut t0: f64 = 0.0;
    let mut t1: f64 = 1.0;
    for (p, q) in [
        (-dx, a.0 - x.lo),
        (dx, x.hi - a.0),
        (-dy, a.1 - y.lo),
        (dy, y.hi - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    if t0 > t1 {
        return None;
    }
    let at = |t: f64| {
        if t == 0.0 {
            a
        } else if t == 1.0 {
            b
        } else {
            (a.0 + t * dx, a.1 + t * dy)
        }
    };
    Some((at(t0), at(t1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_scale_skips_non_positive_and_non_finite() {
        assert_eq!(Scale::Log.to_plot(0.0), None);
        assert_eq!(Scale::Log.to_plot(-1.0), None);
        assert_eq!(Scale::Log.to_plot(f64::NAN), None);
        assert_eq!(Scale::Log.to_plot(100.0), Some(2.0));
        assert_eq!(Scale::Linear.to_plot(f64::INFINITY), None);
    }

    #[test]
    fn decade_ticks_are_labelled_in_data_units() {
        let axis = Axis::with_range(Scale::Log, -0.2, 3.1);
        let labels: Vec<&str> = axis.ticks.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(labels, ["1", "10", "100", "1000"]);
        assert!(!axis.light.is_empty());
    }

    #[test]
    fn few_decades_get_one_two_five_ticks() {
        let axis = Axis::with_range(Scale::Log, 0.9f64.log10(), 70f64.log10());
        let labels: Vec<&str> = axis.ticks.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(labels, ["1", "2", "5", "10", "20", "50"]);
    }

    #[test]
    fn narrow_log_range_falls_back_to_round_numbers() {
        let axis = Axis::with_range(Scale::Log, 0.1, 0.6);
        assert!(axis.ticks.len() >= 2, "{:?}", axis.ticks);
        assert!(axis.ticks.iter().all(|(t, _)| (0.1..=0.6).contains(t)));
    }

    #[test]
    fn linear_ticks_use_round_steps() {
        let t = linear_ticks(0.0, 1.0, 5);
        let labels: Vec<&str> = t.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(labels, ["0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
    }

    #[test]
    fn single_value_gets_a_drawable_range() {
        let axis = Axis::numeric(Scale::Linear, [3.0], RangeRule::default())
            .unwrap()
            .unwrap();
        assert!(axis.lo < 3.0 && axis.hi > 3.0);
        let axis = Axis::numeric(
            Scale::Linear,
            [0.0],
            RangeRule {
                include_zero: true,
                ..RangeRule::default()
            },
        )
        .unwrap()
        .unwrap();
        assert!(axis.lo == 0.0 && axis.hi > 0.0);
        assert!(Axis::numeric(Scale::Log, [], RangeRule::default())
            .unwrap()
            .is_none());
    }

    #[test]
    fn bad_fixed_range_is_an_error() {
        let rule = RangeRule {
            fixed: Some((0.0, 10.0)),
            ..RangeRule::default()
        };
        assert!(Axis::numeric(Scale::Log, [], rule).is_err());
        let rule = RangeRule {
            fixed: Some((5.0, 1.0)),
            ..RangeRule::default()
        };
        assert!(Axis::numeric(Scale::Linear, [], rule).is_err());
    }

    #[test]
    fn polyline_is_clipped_into_pieces() {
        let x = Axis::with_range(Scale::Linear, 0.0, 10.0);
        let y = Axis::with_range(Scale::Linear, 0.0, 10.0);
        let pieces = clip_polyline(&[(1.0, 1.0), (5.0, 20.0), (9.0, 1.0)], &x, &y);
        assert_eq!(pieces.len(), 2);
        for piece in &pieces {
            assert!(piece.iter().all(|p| x.contains(p.0) && y.contains(p.1)));
        }
    }
}
