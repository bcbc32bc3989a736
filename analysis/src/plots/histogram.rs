//! Histograms: overlaid distributions (rates, ISI, CV ISI, weights) from two simulators
//! or time steps, as in the paper's Figs. 2B, 3 and 9E, with arrowheads at the means.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::axis::{Axis, RangeRule, Scale};
use super::frame::{self, AxisTitles, Ctx, Glyph, GlyphKind, Grid};
use super::style::{palette, Legend};
use super::{DrawResult, Plot, PlotError, Prepared};

/// Most bins accepted: more cannot be told apart at any sensible image width.
const MAX_BINS: usize = 10_000;

/// One distribution's data.
#[derive(Debug, Clone, PartialEq)]
pub enum HistData {
    /// Raw samples, binned by the chart's `bins` and `range` (shared by all raw series
    /// so that overlays are comparable). Non-finite samples (and ≤ 0 ones on a log x
    /// axis) are left out.
    Raw(Vec<f64>),
    /// Already binned: `counts[i]` samples in `[edges[i], edges[i + 1])`; edges strictly
    /// increasing, counts finite and ≥ 0.
    Binned { edges: Vec<f64>, counts: Vec<f64> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSeries {
    pub name: String,
    pub data: HistData,
    pub color: Option<usize>,
}

impl HistogramSeries {
    pub fn raw(name: impl Into<String>, values: impl IntoIterator<Item = f64>) -> Self {
        HistogramSeries {
            name: name.into(),
            data: HistData::Raw(values.into_iter().collect()),
            color: None,
        }
    }

    pub fn binned(name: impl Into<String>, edges: Vec<f64>, counts: Vec<f64>) -> Self {
        HistogramSeries {
            name: name.into(),
            data: HistData::Binned { edges, counts },
            color: None,
        }
    }

    pub fn color(mut self, palette_index: usize) -> Self {
        self.color = Some(palette_index);
        self
    }
}

/// A vertical marker with an arrowhead at the top, e.g. a distribution's mean.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub x: f64,
    /// Legend text; empty keeps the marker out of the legend.
    pub label: String,
    /// Palette index; `None` takes the marker's position in the list, so markers given
    /// in series order match their series' colours.
    pub color: Option<usize>,
}

impl Marker {
    pub fn new(x: f64, label: impl Into<String>) -> Self {
        Marker {
            x,
            label: label.into(),
            color: None,
        }
    }

    pub fn color(mut self, palette_index: usize) -> Self {
        self.color = Some(palette_index);
        self
    }
}

/// What the bar heights mean. All three divide by the series' samples that can be
/// shown on the x scale, including those outside a fixed range, so that clipping the
/// axis does not inflate what remains.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Normalisation {
    Counts,
    /// Fraction of samples per bin (heights sum to 1 over all bins).
    Fraction,
    /// Probability density in x's data units (areas sum to 1).
    #[default]
    Density,
}

impl Normalisation {
    fn axis_title(self) -> &'static str {
        match self {
            Normalisation::Counts => "count",
            Normalisation::Fraction => "fraction",
            Normalisation::Density => "density",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    pub title: String,
    pub x_label: String,
    /// Empty: named after the normalisation ("density", "fraction", "count").
    pub y_label: String,
    /// On `Log`, raw samples get logarithmically spaced bins.
    pub x_scale: Scale,
    /// Bin count for raw series (1 to 10 000).
    pub bins: usize,
    /// Range in data units binned for raw series and shown on the x axis; `None` spans
    /// the data.
    pub range: Option<(f64, f64)>,
    pub series: Vec<HistogramSeries>,
    pub normalisation: Normalisation,
    pub markers: Vec<Marker>,
    pub legend: Legend,
    pub annotation: Option<String>,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            title: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            x_scale: Scale::Linear,
            bins: 40,
            range: None,
            series: Vec::new(),
            normalisation: Normalisation::default(),
            markers: Vec::new(),
            legend: Legend::default(),
            annotation: None,
        }
    }
}

impl Histogram {
    pub fn new(title: impl Into<String>) -> Self {
        Histogram {
            title: title.into(),
            ..Histogram::default()
        }
    }

    pub fn bins(mut self, bins: usize) -> Self {
        self.bins = bins;
        self
    }

    pub fn range(mut self, lo: f64, hi: f64) -> Self {
        self.range = Some((lo, hi));
        self
    }

    pub fn normalisation(mut self, n: Normalisation) -> Self {
        self.normalisation = n;
        self
    }

    pub fn series(mut self, series: HistogramSeries) -> Self {
        self.series.push(series);
        self
    }

    pub fn marker(mut self, marker: Marker) -> Self {
        self.markers.push(marker);
        self
    }
}

/// A bin in plot space: [x0, x1) with its normalised height.
#[derive(Debug, Clone, Copy)]
struct Bar {
    x0: f64,
    x1: f64,
    h: f64,
}

pub(crate) struct PlotHist {
    name: String,
    color: RGBColor,
    bars: Vec<Bar>,
}

pub(crate) struct Ready {
    title: String,
    x_label: String,
    y_label: String,
    x: Axis,
    y: Axis,
    series: Vec<PlotHist>,
    markers: Vec<(f64, String, RGBColor)>,
    legend: Legend,
    annotation: String,
}

impl Plot for Histogram {
    type Ready = Ready;

    fn prepare(&self) -> Result<Prepared<Ready>, PlotError> {
        if self.bins == 0 || self.bins > MAX_BINS {
            return Err(PlotError::InvalidData(format!(
                "histogram bin count {} is outside 1..={MAX_BINS}",
                self.bins
            )));
        }
        let scale = self.x_scale;
        let fixed = match self.range {
            Some((lo, hi)) => match (scale.to_plot(lo), scale.to_plot(hi)) {
                (Some(a), Some(b)) if a < b => Some((a, b)),
                _ => {
                    return Err(PlotError::InvalidData(format!(
                        "histogram range ({lo}, {hi}) is not increasing, finite{}",
                        if scale == Scale::Log {
                            " and positive (log axis)"
                        } else {
                            ""
                        }
                    )))
                }
            },
            None => None,
        };
        for (i, s) in self.series.iter().enumerate() {
            if let HistData::Binned { edges, counts } = &s.data {
                check_binned(edges, counts)
                    .map_err(|m| PlotError::InvalidData(format!("histogram series {i}: {m}")))?;
            }
        }

        // The shared bin grid for raw series, in plot space.
        let raw: Vec<Vec<f64>> = self
            .series
            .iter()
            .map(|s| match &s.data {
                HistData::Raw(v) => v.iter().filter_map(|&v| scale.to_plot(v)).collect(),
                HistData::Binned { .. } => Vec::new(),
            })
            .collect();
        let grid = fixed.or_else(|| {
            let (lo, hi) = raw
                .iter()
                .flatten()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                    (lo.min(v), hi.max(v))
                });
            if lo > hi {
                None
            } else if lo == hi {
                let half = if scale == Scale::Log || lo == 0.0 {
                    0.5
                } else {
                    lo.abs() * 0.05
                };
                Some((lo - half, hi + half))
            } else {
                Some((lo, hi))
            }
        });

        let series: Vec<PlotHist> = self
            .series
            .iter()
            .zip(&raw)
            .enumerate()
            .map(|(i, (s, values))| {
                let bins = match (&s.data, grid) {
                    (HistData::Raw(_), Some(g)) => bin_raw(values, g, self.bins),
                    (HistData::Raw(_), None) => Vec::new(),
                    (HistData::Binned { edges, counts }, _) => edges
                        .windows(2)
                        .zip(counts)
                        .filter_map(|(e, &c)| Some((scale.to_plot(e[0])?, scale.to_plot(e[1])?, c)))
                        .collect(),
                };
                let total = match &s.data {
                    HistData::Raw(_) => values.len() as f64,
                    HistData::Binned { .. } => bins.iter().map(|b| b.2).sum(),
                };
                let bars = if total > 0.0 {
                    bins.into_iter()
                        .map(|(x0, x1, c)| {
                            let width = scale.to_data(x1) - scale.to_data(x0);
                            let h = match self.normalisation {
                                Normalisation::Counts => c,
                                Normalisation::Fraction => c / total,
                                Normalisation::Density => c / (total * width),
                            };
                            Bar { x0, x1, h }
                        })
                        .filter(|b| b.h.is_finite())
                        .collect()
                } else {
                    Vec::new()
                };
                PlotHist {
                    name: s.name.clone(),
                    color: palette(s.color.unwrap_or(i)),
                    bars,
                }
            })
            .collect();
        let markers: Vec<(f64, String, RGBColor)> = self
            .markers
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                Some((
                    scale.to_plot(m.x)?,
                    m.label.clone(),
                    palette(m.color.unwrap_or(i)),
                ))
            })
            .collect();

        let has_bars = series.iter().any(|s| s.bars.iter().any(|b| b.h > 0.0));
        if !has_bars {
            let samples = self.series.iter().any(|s| match &s.data {
                HistData::Raw(v) => !v.is_empty(),
                HistData::Binned { counts, .. } => !counts.is_empty(),
            });
            let reason = if samples {
                "no sample can be shown on this axis"
            } else {
                "no samples were given"
            };
            return Ok(Prepared::NoData {
                title: self.title.clone(),
                reason: reason.to_string(),
            });
        }

        let x_values = series
            .iter()
            .flat_map(|s| s.bars.iter().flat_map(|b| [b.x0, b.x1]))
            .chain(markers.iter().map(|m| m.0));
        let x_rule = RangeRule {
            fixed: self.range,
            include_zero: false,
        };
        let y_rule = RangeRule {
            fixed: None,
            include_zero: true,
        };
        let x = Axis::numeric(scale, x_values, x_rule)?;
        let y = Axis::numeric(
            Scale::Linear,
            series.iter().flat_map(|s| s.bars.iter().map(|b| b.h)),
            y_rule,
        )?;
        let (Some(x), Some(y)) = (x, y) else {
            return Ok(Prepared::NoData {
                title: self.title.clone(),
                reason: "no sample can be shown on this axis".to_string(),
            });
        };
        let y_label = if self.y_label.is_empty() {
            self.normalisation.axis_title().to_string()
        } else {
            self.y_label.clone()
        };
        Ok(Prepared::Chart(Ready {
            title: self.title.clone(),
            x_label: self.x_label.clone(),
            y_label,
            x,
            y,
            series,
            markers,
            legend: self.legend,
            annotation: self.annotation.clone().unwrap_or_default(),
        }))
    }

    fn draw<DB: DrawingBackend>(r: &Ready, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let area = frame::titled(root, &r.title)?;
        let titles = AxisTitles {
            x: &r.x_label,
            y: &r.y_label,
        };
        let grid = Grid { x: true, y: true };
        let mut chart = frame::build(&area, titles, &r.x, &r.y, grid)?;
        // Overlays need to show through each other; a lone histogram can be bolder.
        let alpha = if r.series.len() > 1 { 0.3 } else { 0.5 };
        for s in &r.series {
            draw_hist(&mut chart, s, &r.x, &r.y, alpha)?;
        }
        for (mx, label, color) in &r.markers {
            draw_marker(&mut chart, *mx, label, *color, &r.x, &r.y)?;
        }
        frame::annotate(&chart, &r.annotation)?;
        let named = r.series.iter().any(|s| !s.name.is_empty())
            || r.markers.iter().any(|m| !m.1.is_empty());
        frame::legend(&mut chart, r.legend, named)?;
        Ok(())
    }
}

/// Edges strictly increasing and finite, one more edge than counts, counts finite ≥ 0.
fn check_binned(edges: &[f64], counts: &[f64]) -> Result<(), String> {
    if edges.len() != counts.len() + 1 && !(edges.is_empty() && counts.is_empty()) {
        return Err(format!(
            "{} edges for {} counts (need one more edge than counts)",
            edges.len(),
            counts.len()
        ));
    }
    if edges.iter().any(|e| !e.is_finite()) || edges.windows(2).any(|w| w[0] >= w[1]) {
        return Err("bin edges must be finite and strictly increasing".to_string());
    }
    if counts.iter().any(|c| !c.is_finite() || *c < 0.0) {
        return Err("bin counts must be finite and non-negative".to_string());
    }
    Ok(())
}

/// Counts plot-space `values` into `bins` equal bins over `(lo, hi)`; the last bin
/// includes `hi`. Returns (x0, x1, count) per bin.
fn bin_raw(values: &[f64], (lo, hi): (f64, f64), bins: usize) -> Vec<(f64, f64, f64)> {
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0.0; bins];
    for &v in values {
        if !(lo..=hi).contains(&v) {
            continue;
        }
        // In [0, bins] after the range check; the cast floors, and `hi` itself joins
        // the last bin.
        let i = (((v - lo) / width) as usize).min(bins - 1);
        counts[i] += 1.0;
    }
    counts
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            // Both edges from the same formula, so neighbours share them exactly.
            let x0 = lo + i as f64 * width;
            let x1 = if i + 1 == bins {
                hi
            } else {
                lo + (i + 1) as f64 * width
            };
            (x0, x1, c)
        })
        .collect()
}

fn draw_hist<'a, DB: DrawingBackend + 'a>(
    chart: &mut Ctx<'a, DB>,
    s: &PlotHist,
    x: &Axis,
    y: &Axis,
    alpha: f64,
) -> DrawResult {
    let fill = s.color.mix(alpha);
    let visible: Vec<Bar> = s
        .bars
        .iter()
        .filter(|b| b.x1 > x.lo && b.x0 < x.hi)
        .map(|b| Bar {
            x0: x.clamp(b.x0),
            x1: x.clamp(b.x1),
            h: y.clamp(b.h),
        })
        .collect();
    chart.draw_series(
        visible
            .iter()
            .filter(|b| b.h > 0.0)
            .map(|b| Rectangle::new([(b.x0, 0.0), (b.x1, b.h)], fill.filled())),
    )?;
    // The outline as a step line over each run of adjacent bins, so overlaid
    // distributions stay distinguishable where their fills mix.
    let mut path: Vec<(f64, f64)> = Vec::new();
    let mut flush = |path: &mut Vec<(f64, f64)>| -> DrawResult {
        if let Some(&(last_x, _)) = path.last() {
            path.push((last_x, 0.0));
            chart.draw_series(std::iter::once(PathElement::new(
                std::mem::take(path),
                s.color.stroke_width(1),
            )))?;
        }
        Ok(())
    };
    for b in &visible {
        let eps = (x.hi - x.lo) * 1e-9;
        let adjacent = path.last().is_some_and(|&(px, _)| (px - b.x0).abs() <= eps);
        if !adjacent {
            flush(&mut path)?;
            path.push((b.x0, 0.0));
        }
        path.push((b.x0, b.h));
        path.push((b.x1, b.h));
    }
    flush(&mut path)?;
    if !s.name.is_empty() {
        let style = fill.filled();
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            .label(s.name.as_str())
            .legend(move |p| Glyph::new(p, GlyphKind::Box, style, style));
    }
    Ok(())
}

/// A dashed vertical line with a downward arrowhead at the top of the plot.
fn draw_marker<'a, DB: DrawingBackend + 'a>(
    chart: &mut Ctx<'a, DB>,
    mx: f64,
    label: &str,
    color: RGBColor,
    x: &Axis,
    y: &Axis,
) -> DrawResult {
    if !x.contains(mx) {
        return Ok(());
    }
    chart.draw_series(std::iter::once(DashedPathElement::new(
        vec![(mx, y.lo), (mx, y.hi)],
        6,
        4,
        color.mix(0.8).stroke_width(1),
    )))?;
    chart.draw_series(std::iter::once(
        EmptyElement::at((mx, y.hi)) + Polygon::new(vec![(-7, 0), (7, 0), (0, 12)], color.filled()),
    ))?;
    if !label.is_empty() {
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            .label(label)
            .legend(move |p| Glyph::new(p, GlyphKind::Arrow, color.into(), color.filled()));
    }
    Ok(())
}

chart_setters!(Histogram: x_label, y_label, log_x, legend, annotation);
