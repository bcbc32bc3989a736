//! Spike rasters (the paper's Figs. 2A and 5C): a dot per spike at (time, neuron) over a
//! time window and a subset of neurons, coloured by population (E/I).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{format_number, Axis, Scale};
use super::frame::{self, AxisTitles, Glyph, GlyphKind, Grid, PointGroup};
use super::style::{palette, Legend, INK};
use super::{DrawResult, Plot, PlotError, Prepared};

/// Most spikes drawn: each is an SVG element of ~80 bytes, so beyond this the SVG grows
/// past a few megabytes while the dots merge anyway; the title then says how many were
/// left out. (A raster of a few hundred neurons over a second stays well below it.)
pub const MAX_RASTER_SPIKES: usize = 50_000;

/// A named range of neuron ids `[first, end)` drawn in one colour.
#[derive(Debug, Clone, PartialEq)]
pub struct Population {
    pub name: String,
    pub first: u32,
    pub end: u32,
    pub color: Option<usize>,
}

impl Population {
    pub fn new(name: impl Into<String>, first: u32, end: u32) -> Self {
        Population {
            name: name.into(),
            first,
            end,
            color: None,
        }
    }

    pub fn color(mut self, palette_index: usize) -> Self {
        self.color = Some(palette_index);
        self
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Raster {
    pub title: String,
    /// Empty: "time (s)".
    pub x_label: String,
    /// Empty: "neuron".
    pub y_label: String,
    /// (time in seconds, neuron id) per spike, in any order.
    pub spikes: Vec<(f64, u32)>,
    /// Time window `[start, end)` in seconds; `None` spans the spikes.
    pub window: Option<(f64, f64)>,
    /// Neuron id ranges `[first, end)` to show, stacked in the given order without the
    /// gaps between them (e.g. the first 200 E and the first 50 I cells); empty shows
    /// every id from the lowest to the highest.
    pub neurons: Vec<(u32, u32)>,
    /// Colours by id range; spikes of ids in no population are drawn in ink.
    pub populations: Vec<Population>,
    pub legend: Legend,
}

impl Raster {
    pub fn new(title: impl Into<String>, spikes: Vec<(f64, u32)>) -> Self {
        Raster {
            title: title.into(),
            spikes,
            ..Raster::default()
        }
    }

    pub fn window(mut self, start: f64, end: f64) -> Self {
        self.window = Some((start, end));
        self
    }

    pub fn neurons(mut self, first: u32, end: u32) -> Self {
        self.neurons.push((first, end));
        self
    }

    pub fn population(mut self, population: Population) -> Self {
        self.populations.push(population);
        self
    }

    pub fn legend(mut self, legend: Legend) -> Self {
        self.legend = legend;
        self
    }
}

pub(crate) struct Ready {
    title: String,
    x_label: String,
    y_label: String,
    x: Axis,
    y: Axis,
    /// Per colour group, (time, row) dots.
    groups: Vec<PointGroup>,
    legend: Legend,
}

impl Plot for Raster {
    type Ready = Ready;

    fn prepare(&self) -> Result<Prepared<Ready>, PlotError> {
        if let Some((a, b)) = self.window {
            if !(a.is_finite() && b.is_finite() && a < b) {
                return Err(PlotError::InvalidData(format!(
                    "raster window ({a}, {b}) is not an increasing finite range"
                )));
            }
        }
        for &(first, end) in &self.neurons {
            if first >= end {
                return Err(PlotError::InvalidData(format!(
                    "raster neuron range [{first}, {end}) is empty"
                )));
            }
        }
        for p in &self.populations {
            if p.first >= p.end {
                return Err(PlotError::InvalidData(format!(
                    "population {:?} has an empty id range [{}, {})",
                    p.name, p.first, p.end
                )));
            }
        }
        let x_label = or_default(&self.x_label, "time (s)");
        let y_label = or_default(&self.y_label, "neuron");

        // Row of an id: its id when no subset is given; otherwise its offset in the
        // stacked subset ranges.
        let row_of = |id: u32| -> Option<f64> {
            if self.neurons.is_empty() {
                return Some(f64::from(id));
            }
            let mut offset = 0u64;
            for &(first, end) in &self.neurons {
                if (first..end).contains(&id) {
                    return Some((offset + u64::from(id - first)) as f64);
                }
                offset += u64::from(end - first);
            }
            None
        };
        let in_window =
            |t: f64| t.is_finite() && self.window.is_none_or(|(a, b)| (a..b).contains(&t));
        let selected: Vec<(f64, u32, f64)> = self
            .spikes
            .iter()
            .filter(|(t, _)| in_window(*t))
            .filter_map(|&(t, id)| Some((t, id, row_of(id)?)))
            .collect();
        if selected.is_empty() {
            let reason = if self.spikes.is_empty() {
                "no spikes were given"
            } else {
                "no spikes in the chosen window and neurons"
            };
            return Ok(Prepared::NoData {
                title: self.title.clone(),
                reason: reason.to_string(),
            });
        }
        let shown = selected.len().min(MAX_RASTER_SPIKES);
        let title = if shown < selected.len() {
            format!(
                "{} (first {shown} of {} spikes)",
                self.title,
                selected.len()
            )
        } else {
            self.title.clone()
        };

        let (t0, t1) = match self.window {
            Some(w) => w,
            None => {
                let (lo, hi) = selected
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| {
                        (lo.min(s.0), hi.max(s.0))
                    });
                if lo < hi {
                    (lo, hi)
                } else {
                    (lo - 0.5, hi + 0.5)
                }
            }
        };
        let x = Axis::with_range(Scale::Linear, t0, t1);
        let y = if self.neurons.is_empty() {
            let (lo, hi) = selected
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| {
                    (lo.min(s.2), hi.max(s.2))
                });
            Axis::with_range(Scale::Linear, lo - 0.5, hi + 0.5)
        } else {
            subset_axis(&self.neurons)
        };

        // Group by population (in the populations' order, then the rest) so each group
        // is one draw call and one legend entry.
        let mut groups: Vec<PointGroup> = self
            .populations
            .iter()
            .enumerate()
            .map(|(i, p)| PointGroup {
                name: p.name.clone(),
                color: palette(p.color.unwrap_or(i)),
                points: Vec::new(),
            })
            .collect();
        let mut rest = Vec::new();
        for &(t, id, row) in selected.iter().take(shown) {
            match self
                .populations
                .iter()
                .position(|p| (p.first..p.end).contains(&id))
            {
                Some(g) => groups[g].points.push((t, row)),
                None => rest.push((t, row)),
            }
        }
        groups.push(PointGroup {
            name: String::new(),
            color: INK,
            points: rest,
        });
        Ok(Prepared::Chart(Ready {
            title,
            x_label,
            y_label,
            x,
            y,
            groups,
            legend: self.legend,
        }))
    }

    fn draw<DB: DrawingBackend>(r: &Ready, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let area = frame::titled(root, &r.title)?;
        let titles = AxisTitles {
            x: &r.x_label,
            y: &r.y_label,
        };
        let grid = Grid { x: true, y: false };
        let mut chart = frame::build(&area, titles, &r.x, &r.y, grid)?;
        for g in &r.groups {
            let style = g.color.filled();
            chart.draw_series(g.points.iter().map(|&p| Circle::new(p, 1, style)))?;
            if !g.name.is_empty() {
                chart
                    .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
                    .label(g.name.as_str())
                    .legend(move |p| Glyph::new(p, GlyphKind::Marker, style, style));
            }
        }
        let named = r.groups.iter().any(|g| !g.name.is_empty());
        frame::legend(&mut chart, r.legend, named)?;
        Ok(())
    }
}

fn or_default(s: &str, default: &str) -> String {
    if s.is_empty() {
        default.to_string()
    } else {
        s.to_string()
    }
}

/// The y axis for stacked id ranges: a tick at the start of each block labelled with its
/// first id, so the reader can tell where E ends and I begins.
fn subset_axis(ranges: &[(u32, u32)]) -> Axis {
    let mut ticks = Vec::with_capacity(ranges.len());
    let mut offset = 0u64;
    for &(first, end) in ranges {
        ticks.push((offset as f64, format_number(f64::from(first), 1.0)));
        offset += u64::from(end - first);
    }
    let mut axis = Axis::with_range(Scale::Linear, -0.5, offset as f64 - 0.5);
    // Thin the block-start ticks if there are so many that labels would collide.
    let stride = ticks.len().div_ceil(12).max(1);
    axis.ticks = ticks.into_iter().step_by(stride).collect();
    axis
}
