//! Scatter plots: per-neuron firing rates of one simulation against a reference run (the
//! paper's Figs. 3B, D, F), with the identity line and the correlation written in.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::axis::{clip_polyline, Axis, RangeRule, Scale};
use super::frame::{self, AxisTitles, Glyph, GlyphKind, Grid, PointGroup};
use super::style::{palette, Legend, MUTED};
use super::{DrawResult, Plot, PlotError, Prepared};

/// Samples along the identity line; enough for a smooth curve when the two axes have
/// different scales (then y = x is not straight).
const IDENTITY_SAMPLES: usize = 200;

#[derive(Debug, Clone, PartialEq)]
pub struct ScatterSet {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub color: Option<usize>,
}

impl ScatterSet {
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        ScatterSet {
            name: name.into(),
            points,
            color: None,
        }
    }

    pub fn color(mut self, palette_index: usize) -> Self {
        self.color = Some(palette_index);
        self
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scatter {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_scale: Scale,
    pub y_scale: Scale,
    pub sets: Vec<ScatterSet>,
    /// Draw y = x; with equal scales both axes then share one range, so the diagonal
    /// runs corner to corner and deviations read true.
    pub identity_line: bool,
    /// Text in the upper-left corner, e.g. "r = 0.98".
    pub annotation: Option<String>,
    pub legend: Legend,
}

impl Scatter {
    pub fn new(title: impl Into<String>) -> Self {
        Scatter {
            title: title.into(),
            ..Scatter::default()
        }
    }

    pub fn set(mut self, set: ScatterSet) -> Self {
        self.sets.push(set);
        self
    }

    pub fn identity_line(mut self) -> Self {
        self.identity_line = true;
        self
    }
}

pub(crate) struct Ready {
    title: String,
    x_label: String,
    y_label: String,
    x: Axis,
    y: Axis,
    sets: Vec<PointGroup>,
    identity: Vec<Vec<(f64, f64)>>,
    annotation: String,
    legend: Legend,
}

impl Plot for Scatter {
    type Ready = Ready;

    fn prepare(&self) -> Result<Prepared<Ready>, PlotError> {
        let (xs, ys) = (self.x_scale, self.y_scale);
        let sets: Vec<PointGroup> = self
            .sets
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let points = s
                    .points
                    .iter()
                    .filter_map(|&(x, y)| xs.to_plot(x).zip(ys.to_plot(y)))
                    .collect();
                PointGroup {
                    name: s.name.clone(),
                    color: palette(s.color.unwrap_or(i)),
                    points,
                }
            })
            .collect();
        let all = || sets.iter().flat_map(|s| s.points.iter().copied());
        if all().next().is_none() {
            let given: usize = self.sets.iter().map(|s| s.points.len()).sum();
            let reason = if given == 0 {
                "no points were given".to_string()
            } else {
                format!("none of {given} points can be shown on these axes")
            };
            return Ok(Prepared::NoData {
                title: self.title.clone(),
                reason,
            });
        }
        let shared = self.identity_line && xs == ys;
        let rule = RangeRule::default();
        let (x, y) = if shared {
            let both = || all().flat_map(|(a, b)| [a, b]);
            (
                Axis::numeric(xs, both(), rule)?,
                Axis::numeric(ys, both(), rule)?,
            )
        } else {
            (
                Axis::numeric(xs, all().map(|p| p.0), rule)?,
                Axis::numeric(ys, all().map(|p| p.1), rule)?,
            )
        };
        let (Some(x), Some(y)) = (x, y) else {
            return Ok(Prepared::NoData {
                title: self.title.clone(),
                reason: "no point can be shown on these axes".to_string(),
            });
        };
        let identity = if self.identity_line {
            let line: Vec<(f64, f64)> = (0..=IDENTITY_SAMPLES)
                .filter_map(|k| {
                    let t = x.lo + (x.hi - x.lo) * k as f64 / IDENTITY_SAMPLES as f64;
                    Some((t, ys.to_plot(xs.to_data(t))?))
                })
                .collect();
            clip_polyline(&line, &x, &y)
        } else {
            Vec::new()
        };
        Ok(Prepared::Chart(Ready {
            title: self.title.clone(),
            x_label: self.x_label.clone(),
            y_label: self.y_label.clone(),
            x,
            y,
            sets,
            identity,
            annotation: self.annotation.clone().unwrap_or_default(),
            legend: self.legend,
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
        for piece in r.identity.iter().filter(|p| p.len() >= 2) {
            chart.draw_series(std::iter::once(DashedPathElement::new(
                piece.clone(),
                8,
                5,
                MUTED.stroke_width(1),
            )))?;
        }
        for g in &r.sets {
            let style = g.color.mix(0.7).filled();
            chart.draw_series(g.points.iter().map(|&p| Circle::new(p, 3, style)))?;
            if !g.name.is_empty() {
                chart
                    .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
                    .label(g.name.as_str())
                    .legend(move |p| Glyph::new(p, GlyphKind::Marker, style, style));
            }
        }
        frame::annotate(&chart, &r.annotation)?;
        let named = r.sets.iter().any(|s| !s.name.is_empty());
        frame::legend(&mut chart, r.legend, named)?;
        Ok(())
    }
}

chart_setters!(Scatter: x_label, y_label, log_x, log_y, legend, annotation);
