//! Line charts: the run-time scaling plots (log–log, several simulators or configurations
//! as series, spread over repetitions as error bars, the fitted run-time model as dashed
//! curves, bootstrap extrapolation bands shaded underneath).

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::axis::{clip_polyline, Axis, RangeRule, Scale};
use super::frame::{self, AxisTitles, Ctx, Glyph, GlyphKind, Grid};
use super::style::{palette, Legend};
use super::{DrawResult, Plot, PlotError, Prepared};

/// The spread drawn around one point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ErrorBar {
    /// Explicit bounds, e.g. min and max over repetitions.
    Range { lo: f64, hi: f64 },
    /// Symmetric ± one value, e.g. a standard deviation.
    Sd(f64),
}

impl ErrorBar {
    /// (lower, upper) in data units around `y`.
    pub(crate) fn bounds(self, y: f64) -> (f64, f64) {
        match self {
            // Not min/max: those would hide a NaN end, which must reach the caller.
            ErrorBar::Range { lo, hi } if hi < lo => (hi, lo),
            ErrorBar::Range { lo, hi } => (lo, hi),
            ErrorBar::Sd(sd) => (y - sd.abs(), y + sd.abs()),
        }
    }
}

/// One data point with an optional error bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub err: Option<ErrorBar>,
}

impl Point {
    pub fn new(x: f64, y: f64) -> Self {
        Point { x, y, err: None }
    }

    /// A point with its spread given as bounds (min/max over repetitions).
    pub fn with_range(x: f64, y: f64, lo: f64, hi: f64) -> Self {
        Point {
            x,
            y,
            err: Some(ErrorBar::Range { lo, hi }),
        }
    }

    /// A point with its spread given as ± `sd`.
    pub fn with_sd(x: f64, y: f64, sd: f64) -> Self {
        Point {
            x,
            y,
            err: Some(ErrorBar::Sd(sd)),
        }
    }
}

/// How a series is drawn. Measurements default to lines with markers; fitted model
/// curves are best `Dashed` (or `Line`) so they read as model, not data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SeriesStyle {
    #[default]
    LinePoints,
    Points,
    Line,
    Dashed,
}

/// A named sequence of points, joined in the given order. Points that cannot be shown
/// (NaN, or ≤ 0 on a log axis) are skipped and break the line there.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text; empty keeps the series out of the legend.
    pub name: String,
    pub points: Vec<Point>,
    pub style: SeriesStyle,
    /// Palette index ([`super::PALETTE`]); `None` takes the series' position in the chart.
    pub color: Option<usize>,
}

impl Series {
    /// Measured points without error bars, drawn as a line with markers.
    pub fn new(name: impl Into<String>, points: impl IntoIterator<Item = (f64, f64)>) -> Self {
        Series::with_points(name, points.into_iter().map(|(x, y)| Point::new(x, y)))
    }

    /// Points that may carry error bars.
    pub fn with_points(name: impl Into<String>, points: impl IntoIterator<Item = Point>) -> Self {
        Series {
            name: name.into(),
            points: points.into_iter().collect(),
            style: SeriesStyle::default(),
            color: None,
        }
    }

    /// A fitted curve: a dashed line without markers.
    pub fn fit(name: impl Into<String>, points: impl IntoIterator<Item = (f64, f64)>) -> Self {
        Series::new(name, points).style(SeriesStyle::Dashed)
    }

    pub fn style(mut self, style: SeriesStyle) -> Self {
        self.style = style;
        self
    }

    pub fn color(mut self, palette_index: usize) -> Self {
        self.color = Some(palette_index);
        self
    }
}

/// The band's extent at one x.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandPoint {
    pub x: f64,
    pub lo: f64,
    pub hi: f64,
}

/// A shaded region between `lo` and `hi` (e.g. a bootstrap extrapolation band), drawn
/// beneath the series. Points are sorted by x; unusable ones break the band.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub name: String,
    pub points: Vec<BandPoint>,
    pub color: Option<usize>,
}

impl Band {
    pub fn new(name: impl Into<String>, points: impl IntoIterator<Item = (f64, f64, f64)>) -> Self {
        Band {
            name: name.into(),
            points: points
                .into_iter()
                .map(|(x, lo, hi)| BandPoint { x, lo, hi })
                .collect(),
            color: None,
        }
    }

    pub fn color(mut self, palette_index: usize) -> Self {
        self.color = Some(palette_index);
        self
    }
}

/// A chart of (x, y) series with optional log axes, error bars, fitted curves and bands.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LineChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_scale: Scale,
    pub y_scale: Scale,
    /// Fixed axis ranges in data units; `None` fits the data (error bars and bands
    /// included). Anything outside a fixed range is clipped.
    pub x_range: Option<(f64, f64)>,
    pub y_range: Option<(f64, f64)>,
    pub series: Vec<Series>,
    pub bands: Vec<Band>,
    pub legend: Legend,
    /// Text in the upper-left corner (fit parameters, a verdict …).
    pub annotation: Option<String>,
}

impl LineChart {
    pub fn new(title: impl Into<String>) -> Self {
        LineChart {
            title: title.into(),
            ..LineChart::default()
        }
    }

    pub fn x_range(mut self, lo: f64, hi: f64) -> Self {
        self.x_range = Some((lo, hi));
        self
    }

    pub fn y_range(mut self, lo: f64, hi: f64) -> Self {
        self.y_range = Some((lo, hi));
        self
    }

    pub fn series(mut self, series: Series) -> Self {
        self.series.push(series);
        self
    }

    pub fn band(mut self, band: Band) -> Self {
        self.bands.push(band);
        self
    }
}

/// A series in plot space. `points` keeps `None` where a point was skipped, so the line
/// breaks there instead of bridging the gap.
pub(crate) struct PlotSeries {
    name: String,
    color: RGBColor,
    style: SeriesStyle,
    points: Vec<Option<(f64, f64)>>,
    /// (x, lower, upper) with `None` for an end that cannot be shown (≤ 0 on a log axis):
    /// such a bar runs to the frame and gets no cap.
    errors: Vec<(f64, Option<f64>, Option<f64>)>,
}

pub(crate) struct PlotBand {
    name: String,
    color: RGBColor,
    /// Runs of consecutive usable points (x, lo, hi), sorted by x.
    runs: Vec<Vec<(f64, f64, f64)>>,
}

pub(crate) struct Ready {
    title: String,
    x_label: String,
    y_label: String,
    x: Axis,
    y: Axis,
    series: Vec<PlotSeries>,
    bands: Vec<PlotBand>,
    legend: Legend,
    annotation: String,
}

impl Plot for LineChart {
    type Ready = Ready;

    fn prepare(&self) -> Result<Prepared<Ready>, PlotError> {
        let (xs, ys) = (self.x_scale, self.y_scale);
        let series: Vec<PlotSeries> = self
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut points = Vec::with_capacity(s.points.len());
                let mut errors = Vec::new();
                for p in &s.points {
                    let xy = xs.to_plot(p.x).zip(ys.to_plot(p.y));
                    points.push(xy);
                    if let (Some((x, _)), Some(err)) = (xy, p.err) {
                        let (lo, hi) = err.bounds(p.y);
                        // A non-finite end means the spread is unknown: no bar. A finite
                        // end ≤ 0 on a log axis is real and runs to the frame.
                        if lo.is_finite() && hi.is_finite() {
                            errors.push((x, ys.to_plot(lo), ys.to_plot(hi)));
                        }
                    }
                }
                PlotSeries {
                    name: s.name.clone(),
                    color: palette(s.color.unwrap_or(i)),
                    style: s.style,
                    points,
                    errors,
                }
            })
            .collect();
        let bands: Vec<PlotBand> = self
            .bands
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let mut pts: Vec<(f64, Option<(f64, f64)>)> = b
                    .points
                    .iter()
                    .filter_map(|p| {
                        let x = xs.to_plot(p.x)?;
                        let (lo, hi) = if p.hi < p.lo {
                            (p.hi, p.lo)
                        } else {
                            (p.lo, p.hi)
                        };
                        Some((x, ys.to_plot(lo).zip(ys.to_plot(hi))))
                    })
                    .collect();
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                let mut runs = Vec::new();
                let mut run = Vec::new();
                for (x, lohi) in pts {
                    match lohi {
                        Some((lo, hi)) => run.push((x, lo, hi)),
                        None if run.is_empty() => {}
                        None => runs.push(std::mem::take(&mut run)),
                    }
                }
                if !run.is_empty() {
                    runs.push(run);
                }
                PlotBand {
                    name: b.name.clone(),
                    color: palette(b.color.unwrap_or(i)),
                    runs,
                }
            })
            .collect();

        let x_values = series
            .iter()
            .flat_map(|s| s.points.iter().flatten().map(|p| p.0))
            .chain(
                bands
                    .iter()
                    .flat_map(|b| b.runs.iter().flatten().map(|p| p.0)),
            );
        let y_values = series
            .iter()
            .flat_map(|s| {
                s.points.iter().flatten().map(|p| p.1).chain(
                    s.errors
                        .iter()
                        .flat_map(|e| [e.1, e.2].into_iter().flatten()),
                )
            })
            .chain(
                bands
                    .iter()
                    .flat_map(|b| b.runs.iter().flatten().flat_map(|p| [p.1, p.2])),
            );
        let x_rule = RangeRule {
            fixed: self.x_range,
            include_zero: false,
        };
        let y_rule = RangeRule {
            fixed: self.y_range,
            include_zero: false,
        };
        let x = Axis::numeric(xs, x_values, x_rule)?;
        let y = Axis::numeric(ys, y_values, y_rule)?;
        let any_point = series.iter().any(|s| s.points.iter().any(Option::is_some))
            || bands.iter().any(|b| !b.runs.is_empty());
        let (Some(x), Some(y), true) = (x, y, any_point) else {
            return Ok(Prepared::NoData {
                title: self.title.clone(),
                reason: no_data_reason(self),
            });
        };
        Ok(Prepared::Chart(Ready {
            title: self.title.clone(),
            x_label: self.x_label.clone(),
            y_label: self.y_label.clone(),
            x,
            y,
            series,
            bands,
            legend: self.legend,
            annotation: self.annotation.clone().unwrap_or_default(),
        }))
    }

    fn draw<DB: DrawingBackend>(r: &Ready, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let Ready {
            title,
            x_label,
            y_label,
            x,
            y,
            series,
            bands,
            legend,
            annotation,
        } = r;
        let area = frame::titled(root, title)?;
        let titles = AxisTitles {
            x: x_label,
            y: y_label,
        };
        let grid = Grid { x: true, y: true };
        let mut chart = frame::build(&area, titles, x, y, grid)?;
        for band in bands {
            draw_band(&mut chart, band, x, y)?;
        }
        for s in series {
            draw_series(&mut chart, s, x, y)?;
        }
        frame::annotate(&chart, annotation)?;
        let named =
            series.iter().any(|s| !s.name.is_empty()) || bands.iter().any(|b| !b.name.is_empty());
        frame::legend(&mut chart, *legend, named)?;
        Ok(())
    }
}

/// Why a line chart has nothing to show, in the words a report reader needs.
fn no_data_reason(chart: &LineChart) -> String {
    let total: usize = chart.series.iter().map(|s| s.points.len()).sum::<usize>()
        + chart.bands.iter().map(|b| b.points.len()).sum::<usize>();
    if total == 0 {
        "no points were given".to_string()
    } else if chart.x_scale == Scale::Log || chart.y_scale == Scale::Log {
        format!("none of {total} points is finite and positive on the log axes")
    } else {
        format!("none of {total} points is finite")
    }
}

fn draw_band<'a, DB: DrawingBackend + 'a>(
    chart: &mut Ctx<'a, DB>,
    band: &PlotBand,
    x: &Axis,
    y: &Axis,
) -> DrawResult {
    let fill = band.color.mix(0.18);
    for run in &band.runs {
        // Clamp rather than clip: a band edge beyond a fixed range hugs the frame.
        let upper = run.iter().map(|&(px, _, hi)| (x.clamp(px), y.clamp(hi)));
        let lower = run
            .iter()
            .rev()
            .map(|&(px, lo, _)| (x.clamp(px), y.clamp(lo)));
        let outline: Vec<(f64, f64)> = upper.chain(lower).collect();
        chart.draw_series(std::iter::once(Polygon::new(outline, fill.filled())))?;
    }
    if !band.name.is_empty() {
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            .label(band.name.as_str())
            .legend(move |p| Glyph::new(p, GlyphKind::Box, fill.into(), fill.filled()));
    }
    Ok(())
}

/// Splits a (clipped) polyline into paths that each turn by at most 90° at every
/// vertex, in pixels.
///
/// `plotters` draws a stroke wider than 1 px as one polygon around the whole path, with a
/// mitred corner at each vertex; the miter on the inner side of a corner is not limited
/// and lies `width / 2 / sin(angle / 2)` from the vertex. A dense, noisy series (a spike
/// between two neighbouring pixels columns) has corners of a fraction of a degree, whose
/// miters land hundreds of pixels away — over the title and below the x axis, however
/// well the path was clipped. Turning at most 90° keeps every miter within
/// `width / √2` of the line; the sharp corners become the meeting of two paths' ends.
/// Pieces shorter than two points are dropped.
fn split_at_sharp_turns<DB: DrawingBackend>(
    chart: &Ctx<'_, DB>,
    piece: Vec<(f64, f64)>,
) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    // The pixel of the last point kept and the direction (in pixels) that reached it.
    let mut last: Option<(i32, i32)> = None;
    let mut heading: Option<(i64, i64)> = None;
    for p in piece {
        let px = chart.backend_coord(&p);
        let Some(prev) = last else {
            current.push(p);
            last = Some(px);
            continue;
        };
        if px == prev {
            // Same pixel: `plotters` skips it too; keep the later position.
            *current.last_mut().expect("a point was kept") = p;
            continue;
        }
        let dir = (
            i64::from(px.0) - i64::from(prev.0),
            i64::from(px.1) - i64::from(prev.1),
        );
        if heading.is_some_and(|h| h.0 * dir.0 + h.1 * dir.1 < 0) {
            let start = *current.last().expect("a point was kept");
            out.push(std::mem::replace(&mut current, vec![start]));
        }
        current.push(p);
        last = Some(px);
        heading = Some(dir);
    }
    if current.len() >= 2 {
        out.push(current);
    }
    out
}

fn draw_series<'a, DB: DrawingBackend + 'a>(
    chart: &mut Ctx<'a, DB>,
    s: &PlotSeries,
    x: &Axis,
    y: &Axis,
) -> DrawResult {
    let color = s.color;
    let line_style = color.stroke_width(2);
    if s.style != SeriesStyle::Points {
        for run in s.points.split(Option::is_none) {
            let run: Vec<(f64, f64)> = run.iter().flatten().copied().collect();
            let pieces = clip_polyline(&run, x, y)
                .into_iter()
                .flat_map(|piece| split_at_sharp_turns(chart, piece))
                .collect::<Vec<_>>();
            for piece in pieces {
                if s.style == SeriesStyle::Dashed {
                    chart.draw_series(std::iter::once(DashedPathElement::new(
                        piece, 8, 5, line_style,
                    )))?;
                } else {
                    chart.draw_series(std::iter::once(PathElement::new(piece, line_style)))?;
                }
            }
        }
    }
    let bar_style = color.stroke_width(1);
    for &(px, lo, hi) in &s.errors {
        if !x.contains(px) {
            continue;
        }
        let lo_t = lo.map_or(y.lo, |v| y.clamp(v));
        let hi_t = hi.map_or(y.lo, |v| y.clamp(v));
        if lo_t >= hi_t {
            continue;
        }
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(px, lo_t), (px, hi_t)],
            bar_style,
        )))?;
        for end in [lo, hi].into_iter().flatten() {
            if y.contains(end) {
                chart.draw_series(std::iter::once(
                    EmptyElement::at((px, end))
                        + PathElement::new(vec![(-4, 0), (4, 0)], bar_style),
                ))?;
            }
        }
    }
    if matches!(s.style, SeriesStyle::LinePoints | SeriesStyle::Points) {
        let visible = s
            .points
            .iter()
            .flatten()
            .filter(|p| x.contains(p.0) && y.contains(p.1));
        chart.draw_series(visible.map(|&p| Circle::new(p, 3, color.filled())))?;
    } else if s.points.iter().flatten().count() == 1 {
        // A lone point of a line-only series would otherwise be invisible.
        let p = s.points.iter().flatten().next().copied();
        if let Some(p) = p.filter(|p| x.contains(p.0) && y.contains(p.1)) {
            chart.draw_series(std::iter::once(Circle::new(p, 3, color.filled())))?;
        }
    }
    if !s.name.is_empty() {
        let style = s.style;
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            .label(s.name.as_str())
            .legend(move |p| {
                let kind = match style {
                    SeriesStyle::LinePoints => GlyphKind::LineMarker,
                    SeriesStyle::Points => GlyphKind::Marker,
                    SeriesStyle::Line => GlyphKind::Line,
                    SeriesStyle::Dashed => GlyphKind::Dashed,
                };
                Glyph::new(p, kind, line_style, color.filled())
            });
    }
    Ok(())
}

chart_setters!(LineChart: x_label, y_label, log_x, log_y, legend, annotation);
