//! The parts every chart shares: title, axes with ticks and labels, legend, a text
//! annotation, and the "no data" placeholder, so all figures look alike.

use plotters::coord::Shift;
use plotters::element::{Drawable, PointCollection};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use plotters_backend::DrawingErrorKind;

use super::axis::{Axis, AxisCoord};
use super::style::{
    text, Legend, GRID_BOLD, GRID_LIGHT, INK, LABEL_SIZE, LEGEND_SIZE, MUTED, TICK_SIZE, TITLE_SIZE,
};
use super::{DrawError, DrawResult};

/// The coordinate system of every cartesian chart here: linear plot-space axes with our
/// own ticks (log axes are transformed before they reach `plotters`, see `axis`).
pub(crate) type Coords = Cartesian2d<AxisCoord, AxisCoord>;
pub(crate) type Ctx<'a, DB> = ChartContext<'a, DB, Coords>;

/// Points drawn in one colour under one legend name (a raster population, a scatter set).
pub(crate) struct PointGroup {
    pub name: String,
    pub color: RGBColor,
    pub points: Vec<(f64, f64)>,
}

/// Outer margin around the plot, in pixels.
const MARGIN: i32 = 12;

#[cfg(test)]
thread_local! {
    /// The pixel bounds (x range, y range) of the plotting area most recently built on
    /// this thread, so tests can check that nothing is drawn outside the frame.
    pub(crate) static LAST_FRAME: std::cell::RefCell<Option<(std::ops::Range<i32>, std::ops::Range<i32>)>> =
        const { std::cell::RefCell::new(None) };
}

/// Fills the background and draws `title` centred on top; returns the area below it.
pub(crate) fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<DrawingArea<DB, Shift>, DrawError> {
    root.fill(&WHITE)?;
    if title.trim().is_empty() {
        return Ok(root.clone());
    }
    let style = text(TITLE_SIZE, INK, HPos::Center, VPos::Top);
    let (w, _) = root.dim_in_pixel();
    let (_, th) = root.estimate_text_size(title, &style)?;
    root.draw_text(title, &style, ((w / 2) as i32, MARGIN))?;
    Ok(root.split_vertically(th as i32 + 2 * MARGIN).1)
}

/// Which grid lines a chart wants: category axes (bars, heatmap) have none along the
/// categories.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Grid {
    pub x: bool,
    pub y: bool,
}

/// Axis titles for [`build`].
pub(crate) struct AxisTitles<'s> {
    pub x: &'s str,
    pub y: &'s str,
}

/// Builds the chart context on `area` (already below the title) with both axes drawn:
/// the left label area is sized to the widest y tick label so long labels never overlap
/// the axis title.
pub(crate) fn build<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    titles: AxisTitles<'_>,
    x: &Axis,
    y: &Axis,
    grid: Grid,
) -> Result<Ctx<'a, DB>, DrawError> {
    let tick_style = text(TICK_SIZE, INK, HPos::Center, VPos::Center);
    let mut widest = 0u32;
    for (_, label) in &y.ticks {
        widest = widest.max(area.estimate_text_size(label, &tick_style)?.0);
    }
    let desc_room = if titles.y.trim().is_empty() {
        0
    } else {
        LABEL_SIZE as u32 + 12
    };
    let y_area = widest + 14 + desc_room;
    let x_area = TICK_SIZE as u32
        + 16
        + if titles.x.trim().is_empty() {
            0
        } else {
            LABEL_SIZE as u32 + 10
        };

    let mut chart = ChartBuilder::on(area)
        .margin(MARGIN)
        .margin_right(2 * MARGIN)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area)
        .build_cartesian_2d(x.coord(), y.coord())?;
    #[cfg(test)]
    LAST_FRAME.with(|f| *f.borrow_mut() = Some(chart.plotting_area().get_pixel_range()));

    let x_fmt = |t: &f64| x.label(*t);
    let y_fmt = |t: &f64| y.label(*t);
    {
        let mut mesh = chart.configure_mesh();
        mesh.x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .label_style(tick_style.clone())
            .axis_desc_style(text(LABEL_SIZE, INK, HPos::Center, VPos::Center))
            .axis_style(INK)
            .bold_line_style(GRID_BOLD)
            .light_line_style(GRID_LIGHT)
            .x_desc(titles.x)
            .y_desc(titles.y);
        if !grid.x {
            mesh.disable_x_mesh();
        }
        if !grid.y {
            mesh.disable_y_mesh();
        }
        mesh.draw()?;
    }
    Ok(chart)
}

/// Draws the legend box when at least one series was given a name and the caller did
/// not hide it (`plotters` draws an empty box otherwise).
pub(crate) fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut Ctx<'a, DB>,
    legend: Legend,
    any_named: bool,
) -> DrawResult {
    let Some(position) = legend.position() else {
        return Ok(());
    };
    if !any_named {
        return Ok(());
    }
    chart
        .configure_series_labels()
        .position(position)
        .label_font(text(LEGEND_SIZE, INK, HPos::Left, VPos::Top))
        .background_style(WHITE.mix(0.85))
        .border_style(GRID_BOLD)
        .legend_area_size(26)
        .margin(8)
        .draw()?;
    Ok(())
}

/// Writes `note` (one or more lines) in the upper-left corner of the plotting area, e.g.
/// "r = 0.98" or a K-S p-value.
pub(crate) fn annotate<'a, DB: DrawingBackend + 'a>(chart: &Ctx<'a, DB>, note: &str) -> DrawResult {
    if note.trim().is_empty() {
        return Ok(());
    }
    let area = chart.plotting_area().strip_coord_spec();
    let style = text(LABEL_SIZE, INK, HPos::Left, VPos::Top);
    let line_height = (LABEL_SIZE * 1.3) as i32;
    let lines: Vec<&str> = note.lines().collect();
    let mut width = 0;
    for line in &lines {
        width = width.max(area.estimate_text_size(line, &style)?.0 as i32);
    }
    // A translucent backing keeps the note legible where it overlaps data.
    let (x0, y0) = (8, 6);
    area.draw(&Rectangle::new(
        [
            (x0, y0),
            (x0 + width + 10, y0 + lines.len() as i32 * line_height + 6),
        ],
        WHITE.mix(0.8).filled(),
    ))?;
    for (i, line) in lines.iter().enumerate() {
        area.draw_text(line, &style, (x0 + 5, y0 + 4 + i as i32 * line_height))?;
    }
    Ok(())
}

/// The whole figure when there is nothing to draw: the title, a frame, and `reason`
/// in the middle, so a report shows which figure is missing and why.
pub(crate) fn no_data<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    reason: &str,
) -> DrawResult {
    let area = titled(root, title)?;
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    area.draw(&Rectangle::new(
        [(MARGIN, MARGIN), (w - MARGIN, h - MARGIN)],
        GRID_BOLD.stroke_width(1),
    ))?;
    area.draw_text(
        "no data",
        &text(TITLE_SIZE, MUTED, HPos::Center, VPos::Center),
        (w / 2, h / 2 - 12),
    )?;
    if !reason.trim().is_empty() {
        area.draw_text(
            reason,
            &text(LABEL_SIZE, MUTED, HPos::Center, VPos::Center),
            (w / 2, h / 2 + 16),
        )?;
    }
    Ok(())
}

/// What a legend entry shows, drawn in pixel space by [`Glyph`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GlyphKind {
    /// A short line (line-only series).
    Line,
    /// A short dashed line (fitted curves).
    Dashed,
    /// A line with a marker in its middle (measured series).
    LineMarker,
    /// A marker alone (scatter sets, raster populations).
    Marker,
    /// A filled square (bars, bands, histograms).
    Box,
    /// A downward arrowhead (histogram mean markers).
    Arrow,
}

/// A legend glyph as a `plotters` element of its own. The stock way — composing
/// elements and boxing them with `into_dyn` — forces the backend type to be `'static`
/// (through a higher-ranked bound on `DynElement`), which the bitmap backend, borrowing
/// its output path, is not; a plain element with no backend in its type avoids that.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Glyph {
    at: [(i32, i32); 1],
    kind: GlyphKind,
    line: ShapeStyle,
    fill: ShapeStyle,
}

impl Glyph {
    /// `at` is the left middle of the legend's glyph area (as `plotters` passes it);
    /// `line` strokes lines, `fill` fills markers, boxes and arrows.
    pub(crate) fn new(at: (i32, i32), kind: GlyphKind, line: ShapeStyle, fill: ShapeStyle) -> Self {
        Glyph {
            at: [at],
            kind,
            line,
            fill,
        }
    }
}

impl<'a> PointCollection<'a, (i32, i32)> for &'a Glyph {
    type Point = &'a (i32, i32);
    type IntoIter = &'a [(i32, i32)];

    fn point_iter(self) -> Self::IntoIter {
        &self.at
    }
}

impl<DB: DrawingBackend> Drawable<DB> for Glyph {
    fn draw<I: Iterator<Item = (i32, i32)>>(
        &self,
        mut pos: I,
        backend: &mut DB,
        _parent_dim: (u32, u32),
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let Some((x, y)) = pos.next() else {
            return Ok(());
        };
        match self.kind {
            GlyphKind::Line => backend.draw_line((x, y), (x + 20, y), &self.line),
            GlyphKind::Dashed => {
                for start in [0, 8, 16] {
                    backend.draw_line((x + start, y), (x + start + 5, y), &self.line)?;
                }
                Ok(())
            }
            GlyphKind::LineMarker => {
                backend.draw_line((x, y), (x + 20, y), &self.line)?;
                backend.draw_circle((x + 10, y), 3, &self.fill, true)
            }
            GlyphKind::Marker => backend.draw_circle((x + 10, y), 4, &self.fill, true),
            GlyphKind::Box => backend.draw_rect((x + 2, y - 6), (x + 18, y + 6), &self.fill, true),
            GlyphKind::Arrow => backend.fill_polygon(
                [(x + 3, y - 5), (x + 17, y - 5), (x + 10, y + 6)],
                &self.fill,
            ),
        }
    }
}
