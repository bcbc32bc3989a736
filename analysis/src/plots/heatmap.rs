//! Heatmaps: a matrix of values with a colour scale, e.g. the mean K-S statistic D
//! between pairs of simulators (the paper's Fig. 3A).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::{Axis, Scale};
use super::frame::{self, AxisTitles, Grid};
use super::style::{colormap, is_light, text, INK, LEGEND_SIZE, MISSING};
use super::{DrawResult, Plot, PlotError, Prepared};

/// Width of the colour-bar strip at the right, in pixels.
const COLORBAR_WIDTH: u32 = 130;
/// Cell values are written into the cells only up to this many cells; beyond, the text
/// would not fit.
const MAX_ANNOTATED_CELLS: usize = 400;
/// Colour-bar resolution (number of colour steps).
const COLORBAR_STEPS: usize = 64;

#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Rows of equal length; row 0 is drawn at the top, as a matrix is written.
    /// Non-finite cells are drawn grey.
    pub values: Vec<Vec<f64>>,
    /// One per row, or empty for row numbers.
    pub row_labels: Vec<String>,
    /// One per column, or empty for column numbers.
    pub col_labels: Vec<String>,
    /// Value range of the colour scale; `None` spans the finite cells.
    pub range: Option<(f64, f64)>,
    /// Caption under the colour bar (e.g. "D").
    pub scale_label: String,
    /// Write each cell's value into it (small matrices only).
    pub annotate: bool,
    /// Decimals for the written values.
    pub decimals: usize,
}

impl Default for Heatmap {
    fn default() -> Self {
        Heatmap {
            title: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            values: Vec::new(),
            row_labels: Vec::new(),
            col_labels: Vec::new(),
            range: None,
            scale_label: String::new(),
            annotate: true,
            decimals: 2,
        }
    }
}

impl Heatmap {
    pub fn new(title: impl Into<String>, values: Vec<Vec<f64>>) -> Self {
        Heatmap {
            title: title.into(),
            values,
            ..Heatmap::default()
        }
    }

    pub fn labels(mut self, rows: Vec<String>, cols: Vec<String>) -> Self {
        self.row_labels = rows;
        self.col_labels = cols;
        self
    }

    pub fn range(mut self, lo: f64, hi: f64) -> Self {
        self.range = Some((lo, hi));
        self
    }

    pub fn scale_label(mut self, label: impl Into<String>) -> Self {
        self.scale_label = label.into();
        self
    }
}

pub(crate) struct Ready {
    title: String,
    x_label: String,
    y_label: String,
    x: Axis,
    y: Axis,
    /// Colour-bar axis (value range).
    scale: Axis,
    scale_label: String,
    values: Vec<Vec<f64>>,
    annotate: bool,
    decimals: usize,
}

impl Plot for Heatmap {
    type Ready = Ready;

    fn prepare(&self) -> Result<Prepared<Ready>, PlotError> {
        let rows = self.values.len();
        let cols = self.values.first().map_or(0, Vec::len);
        if let Some((i, r)) = self
            .values
            .iter()
            .enumerate()
            .find(|(_, r)| r.len() != cols)
        {
            return Err(PlotError::InvalidData(format!(
                "heatmap row {i} has {} cells, row 0 has {cols}",
                r.len()
            )));
        }
        let labels = |given: &[String], n: usize, what: &str| {
            if given.is_empty() {
                Ok((0..n).map(|i| i.to_string()).collect::<Vec<_>>())
            } else if given.len() == n {
                Ok(given.to_vec())
            } else {
                Err(PlotError::InvalidData(format!(
                    "heatmap has {} {what} labels for {n} {what}s",
                    given.len()
                )))
            }
        };
        let row_labels = labels(&self.row_labels, rows, "row")?;
        let col_labels = labels(&self.col_labels, cols, "column")?;
        if let Some((lo, hi)) = self.range {
            if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                return Err(PlotError::InvalidData(format!(
                    "heatmap colour range ({lo}, {hi}) is not increasing and finite"
                )));
            }
        }
        if rows == 0 || cols == 0 {
            return Ok(Prepared::NoData {
                title: self.title.clone(),
                reason: "the matrix is empty".to_string(),
            });
        }
        let finite = self.values.iter().flatten().filter(|v| v.is_finite());
        let (lo, hi) = match self.range {
            Some(r) => r,
            None => {
                let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                    (lo.min(v), hi.max(v))
                });
                if lo > hi {
                    return Ok(Prepared::NoData {
                        title: self.title.clone(),
                        reason: "no cell has a finite value".to_string(),
                    });
                }
                if lo == hi {
                    (lo - 0.5, hi + 0.5)
                } else {
                    (lo, hi)
                }
            }
        };
        // Row 0 on top: the y axis counts upward, so row labels go in reverse.
        let y_labels: Vec<String> = row_labels.into_iter().rev().collect();
        Ok(Prepared::Chart(Ready {
            title: self.title.clone(),
            x_label: self.x_label.clone(),
            y_label: self.y_label.clone(),
            x: Axis::categories(&col_labels),
            y: Axis::categories(&y_labels),
            scale: Axis::with_range(Scale::Linear, lo, hi),
            scale_label: self.scale_label.clone(),
            values: self.values.clone(),
            annotate: self.annotate && rows * cols <= MAX_ANNOTATED_CELLS,
            decimals: self.decimals.min(10),
        }))
    }

    fn draw<DB: DrawingBackend>(r: &Ready, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let area = frame::titled(root, &r.title)?;
        let (w, _) = area.dim_in_pixel();
        let (main, bar) = area.split_horizontally(w.saturating_sub(COLORBAR_WIDTH));
        let titles = AxisTitles {
            x: &r.x_label,
            y: &r.y_label,
        };
        let no_grid = Grid { x: false, y: false };
        let mut chart = frame::build(&main, titles, &r.x, &r.y, no_grid)?;
        let rows = r.values.len();
        let (lo, hi) = (r.scale.lo, r.scale.hi);
        let shade = |v: f64| {
            if v.is_finite() {
                colormap((v - lo) / (hi - lo))
            } else {
                MISSING
            }
        };
        for (i, row) in r.values.iter().enumerate() {
            let yc = (rows - 1 - i) as f64;
            chart.draw_series(row.iter().enumerate().map(|(j, &v)| {
                let xc = j as f64;
                Rectangle::new(
                    [(xc - 0.5, yc - 0.5), (xc + 0.5, yc + 0.5)],
                    shade(v).filled(),
                )
            }))?;
            if r.annotate {
                for (j, &v) in row.iter().enumerate() {
                    let ink = if is_light(shade(v)) { INK } else { WHITE };
                    let style = text(LEGEND_SIZE, ink, HPos::Center, VPos::Center);
                    let label = if v.is_finite() {
                        format!("{:.*}", r.decimals, v)
                    } else {
                        "–".to_string()
                    };
                    chart.draw_series(std::iter::once(Text::new(label, (j as f64, yc), style)))?;
                }
            }
        }

        // The colour bar: a strip of colour steps against the value axis.
        let strip = Axis {
            scale: Scale::Linear,
            lo: 0.0,
            hi: 1.0,
            ticks: Vec::new(),
            light: Vec::new(),
        };
        let bar_titles = AxisTitles {
            x: &r.scale_label,
            y: "",
        };
        let mut colorbar = frame::build(&bar, bar_titles, &strip, &r.scale, no_grid)?;
        let step = (hi - lo) / COLORBAR_STEPS as f64;
        colorbar.draw_series((0..COLORBAR_STEPS).map(|k| {
            let a = lo + k as f64 * step;
            let b = if k + 1 == COLORBAR_STEPS {
                hi
            } else {
                a + step
            };
            Rectangle::new(
                [(0.0, a), (1.0, b)],
                colormap((k as f64 + 0.5) / COLORBAR_STEPS as f64).filled(),
            )
        }))?;
        Ok(())
    }
}
