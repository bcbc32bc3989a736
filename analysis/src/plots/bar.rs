//! Bar charts over categories: run times side by side (grouped), or the run time split
//! into phases — evolve, propagate, plasticity, barrier, sync — per worker count
//! (stacked, the paper's Fig. 8).

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::axis::{Axis, RangeRule, Scale};
use super::frame::{self, AxisTitles, Glyph, GlyphKind, Grid};
use super::line::ErrorBar;
use super::style::{palette, Legend, INK};
use super::{DrawResult, Plot, PlotError, Prepared};

/// Share of a category's width taken by its bars; the rest separates categories.
const GROUP_WIDTH: f64 = 0.8;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BarMode {
    /// One bar per series side by side within each category.
    #[default]
    Grouped,
    /// Series stacked on top of each other (needs a linear y axis and values ≥ 0).
    Stacked,
}

/// One value per category (NaN for a missing one), optionally with error bars.
#[derive(Debug, Clone, PartialEq)]
pub struct BarSeries {
    pub name: String,
    pub values: Vec<f64>,
    /// Empty, or one entry per category (grouped mode only).
    pub errors: Vec<Option<ErrorBar>>,
    pub color: Option<usize>,
}

impl BarSeries {
    pub fn new(name: impl Into<String>, values: Vec<f64>) -> Self {
        BarSeries {
            name: name.into(),
            values,
            errors: Vec::new(),
            color: None,
        }
    }

    pub fn errors(mut self, errors: Vec<Option<ErrorBar>>) -> Self {
        self.errors = errors;
        self
    }

    pub fn color(mut self, palette_index: usize) -> Self {
        self.color = Some(palette_index);
        self
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct BarChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub categories: Vec<String>,
    pub series: Vec<BarSeries>,
    pub mode: BarMode,
    /// `Log` is accepted for grouped bars only; bars then rise from the axis bottom.
    pub y_scale: Scale,
    pub legend: Legend,
    pub annotation: Option<String>,
    /// A horizontal dashed line across the chart at this value, with its legend text
    /// (the real-time line of a run-time chart); always inside the y range.
    pub reference: Option<(f64, String)>,
}

impl BarChart {
    pub fn new(title: impl Into<String>, categories: Vec<String>) -> Self {
        BarChart {
            title: title.into(),
            categories,
            ..BarChart::default()
        }
    }

    pub fn stacked(mut self) -> Self {
        self.mode = BarMode::Stacked;
        self
    }

    pub fn series(mut self, series: BarSeries) -> Self {
        self.series.push(series);
        self
    }

    /// Draw a dashed horizontal line at `y` (in data units) labelled `label`.
    pub fn reference(mut self, y: f64, label: impl Into<String>) -> Self {
        self.reference = Some((y, label.into()));
        self
    }
}

/// A bar in plot space: x from `x0` to `x1`, y from `y0` to `y1`; `y0` is `None` when the
/// bar rises from the bottom of the axis (log scale).
#[derive(Debug, Clone, Copy)]
struct Bar {
    x0: f64,
    x1: f64,
    y0: Option<f64>,
    y1: f64,
}

pub(crate) struct PlotBars {
    name: String,
    color: RGBColor,
    bars: Vec<Bar>,
    /// (x, lower, upper) in plot space; `None` for an end the axis cannot show.
    errors: Vec<(f64, Option<f64>, Option<f64>)>,
}

pub(crate) struct Ready {
    title: String,
    x_label: String,
    y_label: String,
    x: Axis,
    y: Axis,
    series: Vec<PlotBars>,
    legend: Legend,
    annotation: String,
    /// The reference line in plot space, with its label.
    reference: Option<(f64, String)>,
}

impl Plot for BarChart {
    type Ready = Ready;

    fn prepare(&self) -> Result<Prepared<Ready>, PlotError> {
        let n = self.categories.len();
        for (i, s) in self.series.iter().enumerate() {
            if s.values.len() != n {
                return Err(PlotError::InvalidData(format!(
                    "bar series {i} ({:?}) has {} values for {n} categories",
                    s.name,
                    s.values.len()
                )));
            }
            if !s.errors.is_empty() && s.errors.len() != n {
                return Err(PlotError::InvalidData(format!(
                    "bar series {i} ({:?}) has {} error bars for {n} categories",
                    s.name,
                    s.errors.len()
                )));
            }
        }
        let stacked = self.mode == BarMode::Stacked;
        if stacked {
            if self.y_scale == Scale::Log {
                return Err(PlotError::InvalidData(
                    "stacked bars need a linear y axis".to_string(),
                ));
            }
            if self
                .series
                .iter()
                .any(|s| s.values.iter().any(|v| *v < 0.0))
            {
                return Err(PlotError::InvalidData(
                    "stacked bars need values ≥ 0".to_string(),
                ));
            }
            if self
                .series
                .iter()
                .any(|s| s.errors.iter().any(Option::is_some))
            {
                return Err(PlotError::InvalidData(
                    "error bars are drawn on grouped bars only".to_string(),
                ));
            }
        }
        let scale = self.y_scale;
        let reference = match &self.reference {
            None => None,
            Some((v, label)) => Some((
                scale.to_plot(*v).ok_or_else(|| {
                    PlotError::InvalidData(format!(
                        "reference line {label:?} at {v} cannot be shown on this axis"
                    ))
                })?,
                label.clone(),
            )),
        };
        let k = self.series.len().max(1) as f64;
        let mut tops = vec![0.0f64; n];
        let series: Vec<PlotBars> = self
            .series
            .iter()
            .enumerate()
            .map(|(si, s)| {
                let mut bars = Vec::new();
                let mut errors = Vec::new();
                for (c, &v) in s.values.iter().enumerate() {
                    let center = c as f64;
                    if stacked {
                        if !v.is_finite() || v == 0.0 {
                            continue;
                        }
                        let (x0, x1) = (center - GROUP_WIDTH / 2.0, center + GROUP_WIDTH / 2.0);
                        bars.push(Bar {
                            x0,
                            x1,
                            y0: Some(tops[c]),
                            y1: tops[c] + v,
                        });
                        tops[c] += v;
                    } else {
                        let Some(top) = scale.to_plot(v) else {
                            continue;
                        };
                        let w = GROUP_WIDTH / k;
                        let x0 = center - GROUP_WIDTH / 2.0 + si as f64 * w;
                        let y0 = match scale {
                            Scale::Linear => Some(0.0),
                            Scale::Log => None,
                        };
                        bars.push(Bar {
                            x0,
                            x1: x0 + w,
                            y0,
                            y1: top,
                        });
                        if let Some(Some(err)) = s.errors.get(c) {
                            let (lo, hi) = err.bounds(v);
                            if lo.is_finite() && hi.is_finite() {
                                errors.push((x0 + w / 2.0, scale.to_plot(lo), scale.to_plot(hi)));
                            }
                        }
                    }
                }
                PlotBars {
                    name: s.name.clone(),
                    color: palette(s.color.unwrap_or(si)),
                    bars,
                    errors,
                }
            })
            .collect();

        if n == 0 || series.iter().all(|s| s.bars.is_empty()) {
            let reason = if n == 0 || self.series.is_empty() {
                "no categories or series were given"
            } else {
                "no value can be shown on this axis"
            };
            return Ok(Prepared::NoData {
                title: self.title.clone(),
                reason: reason.to_string(),
            });
        }
        let y_values = series
            .iter()
            .flat_map(|s| {
                s.bars.iter().map(|b| b.y1).chain(
                    s.errors
                        .iter()
                        .flat_map(|e| [e.1, e.2].into_iter().flatten()),
                )
            })
            .chain(reference.iter().map(|r| r.0));
        let rule = RangeRule {
            fixed: None,
            include_zero: true,
        };
        let Some(y) = Axis::numeric(scale, y_values, rule)? else {
            return Ok(Prepared::NoData {
                title: self.title.clone(),
                reason: "no value can be shown on this axis".to_string(),
            });
        };
        Ok(Prepared::Chart(Ready {
            title: self.title.clone(),
            x_label: self.x_label.clone(),
            y_label: self.y_label.clone(),
            x: Axis::categories(&self.categories),
            y,
            series,
            legend: self.legend,
            annotation: self.annotation.clone().unwrap_or_default(),
            reference,
        }))
    }

    fn draw<DB: DrawingBackend>(r: &Ready, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let area = frame::titled(root, &r.title)?;
        let titles = AxisTitles {
            x: &r.x_label,
            y: &r.y_label,
        };
        let grid = Grid { x: false, y: true };
        let mut chart = frame::build(&area, titles, &r.x, &r.y, grid)?;
        let y = &r.y;
        let ink = INK.stroke_width(1);
        for s in &r.series {
            let fill = s.color.mix(0.85).filled();
            chart.draw_series(s.bars.iter().map(|b| {
                let y0 = b.y0.map_or(y.lo, |v| y.clamp(v));
                Rectangle::new([(b.x0, y0), (b.x1, y.clamp(b.y1))], fill)
            }))?;
            for &(ex, lo, hi) in &s.errors {
                let lo_t = lo.map_or(y.lo, |v| y.clamp(v));
                let hi_t = hi.map_or(y.lo, |v| y.clamp(v));
                if lo_t >= hi_t {
                    continue;
                }
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(ex, lo_t), (ex, hi_t)],
                    ink,
                )))?;
                for end in [lo, hi].into_iter().flatten().filter(|v| y.contains(*v)) {
                    chart.draw_series(std::iter::once(
                        EmptyElement::at((ex, end)) + PathElement::new(vec![(-4, 0), (4, 0)], ink),
                    ))?;
                }
            }
            if !s.name.is_empty() {
                chart
                    .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
                    .label(s.name.as_str())
                    .legend(move |p| Glyph::new(p, GlyphKind::Box, fill, fill));
            }
        }
        if let Some((ry, label)) = &r.reference {
            let style = INK.mix(0.8).stroke_width(1);
            chart
                .draw_series(std::iter::once(DashedPathElement::new(
                    vec![(r.x.lo, *ry), (r.x.hi, *ry)],
                    6,
                    4,
                    style,
                )))?
                .label(label.as_str())
                .legend(move |p| PathElement::new(vec![(p.0 - 8, p.1), (p.0 + 8, p.1)], style));
        }
        frame::annotate(&chart, &r.annotation)?;
        let named = r.series.iter().any(|s| !s.name.is_empty()) || r.reference.is_some();
        frame::legend(&mut chart, r.legend, named)?;
        Ok(())
    }
}

chart_setters!(BarChart: x_label, y_label, log_y, legend, annotation);
