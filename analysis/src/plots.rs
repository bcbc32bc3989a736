//! Charts for the paper's figures, each written as both PNG (to look at) and SVG (to
//! scale and to grep), drawn with `plotters` over plain data.
//!
//! Why a layer of our own: the figures need the same few shapes again and again (log–log
//! run-time curves with fits and bootstrap bands, overlaid distributions with mean
//! markers, rasters, stacked phase bars, a K-S matrix, rate scatters), and every one of
//! them must survive the data the harness really produces — empty groups, zeros on a log
//! axis, NaN from a failed run — without panicking. The chart types here take plain
//! numbers (no dependency on the other `analysis` modules), validate them once, and
//! either draw them or return a [`PlotError`] the caller can report as a missing figure.
//!
//! Text is drawn with the DejaVu Sans font compiled into the crate (`assets/`), registered
//! with `plotters`' `ab_glyph` backend, so rendering depends on neither system fonts nor
//! fontconfig and gives the same pixels on every machine.
//!
//! - [`LineChart`]: series of (x, y) with error bars, fitted curves, shaded bands; log axes.
//! - [`Histogram`]: overlaid distributions (raw or pre-binned) with mean markers.
//! - [`Raster`]: spike raster over a time window and a neuron subset, coloured by population.
//! - [`BarChart`]: grouped or stacked bars over categories.
//! - [`Heatmap`]: a matrix with a colour scale and row/column labels.
//! - [`Scatter`]: x against y with an identity line and an annotation.

/// The builder setters several chart types share, written once: `x_label`, `y_label`,
/// `log_x`, `log_y`, `legend`, `annotation`, each setting the field of the same name (or
/// the axis scale). Defined before the chart modules so that they can use it.
macro_rules! chart_setters {
    ($ty:ident: $($name:ident),* $(,)?) => {
        impl $ty { $(chart_setters!(@ $name);)* }
    };
    (@ x_label) => {
        pub fn x_label(mut self, label: impl Into<String>) -> Self {
            self.x_label = label.into();
            self
        }
    };
    (@ y_label) => {
        pub fn y_label(mut self, label: impl Into<String>) -> Self {
            self.y_label = label.into();
            self
        }
    };
    (@ log_x) => {
        /// A logarithmic x axis (values ≤ 0 are left out).
        pub fn log_x(mut self) -> Self {
            self.x_scale = Scale::Log;
            self
        }
    };
    (@ log_y) => {
        /// A logarithmic y axis (values ≤ 0 are left out).
        pub fn log_y(mut self) -> Self {
            self.y_scale = Scale::Log;
            self
        }
    };
    (@ legend) => {
        pub fn legend(mut self, legend: Legend) -> Self {
            self.legend = legend;
            self
        }
    };
    (@ annotation) => {
        /// Text in a corner of the plot (fit parameters, a statistic …).
        pub fn annotation(mut self, note: impl Into<String>) -> Self {
            self.annotation = Some(note.into());
            self
        }
    };
}

mod axis;
mod bar;
mod frame;
mod heatmap;
mod histogram;
mod line;
mod raster;
mod scatter;
mod style;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

pub use axis::Scale;
pub use bar::{BarChart, BarMode, BarSeries};
pub use heatmap::Heatmap;
pub use histogram::{HistData, Histogram, HistogramSeries, Marker, Normalisation};
pub use line::{Band, BandPoint, ErrorBar, LineChart, Point, Series, SeriesStyle};
pub use raster::{Population, Raster, MAX_RASTER_SPIKES};
pub use scatter::{Scatter, ScatterSet};
pub use style::{Legend, Rgb, PALETTE};

/// Default image size in pixels (width, height): wide enough for a legend beside
/// log-log curves, small enough to sit side by side in a report.
pub const DEFAULT_SIZE: (u32, u32) = (800, 500);

/// Smallest and largest accepted side, in pixels: below the lower bound the axis labels
/// no longer fit; above the upper one a PNG gets needlessly large.
const SIZE_LIMITS: (u32, u32) = (200, 4000);

/// The font, compiled in so that rendering never looks for system fonts.
static FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The family name every text style in this module asks for; the shipped font is
/// registered under it (and `plotters`' own defaults, such as legend text, use it too).
const FONT_FAMILY: &str = "sans-serif";

/// Why a chart could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The data cannot be drawn as asked (ragged matrix, lengths that disagree, a
    /// reversed range …); the message says what.
    #[error("invalid chart data: {0}")]
    InvalidData(String),
    /// The file stem would not name a plain file inside the output directory.
    #[error("invalid file stem {0:?}: it must be non-empty and contain no path separator")]
    InvalidStem(String),
    /// The output directory could not be created.
    #[error("cannot create {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The shipped font could not be registered (a corrupt asset).
    #[error("font: {0}")]
    Font(String),
    /// Drawing or writing one of the two files failed.
    #[error("drawing {path}: {message}")]
    Draw { path: PathBuf, message: String },
}

/// The two files one render wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub png: PathBuf,
    pub svg: PathBuf,
}

/// A chart with the file stem it is written under — one figure (or panel) of the report.
#[derive(Debug, Clone)]
pub struct Figure {
    pub stem: String,
    pub kind: Chart,
}

impl Figure {
    pub fn new(stem: impl Into<String>, kind: impl Into<Chart>) -> Self {
        Figure {
            stem: stem.into(),
            kind: kind.into(),
        }
    }

    /// Writes `<dir>/<stem>.png` and `<dir>/<stem>.svg` at [`DEFAULT_SIZE`].
    pub fn render(&self, dir: &Path) -> Result<Rendered, PlotError> {
        self.kind.render(dir, &self.stem)
    }
}

/// Any of the chart types, so that a report can hold a list of figures.
#[derive(Debug, Clone)]
pub enum Chart {
    Line(LineChart),
    Histogram(Histogram),
    Raster(Raster),
    Bar(BarChart),
    Heatmap(Heatmap),
    Scatter(Scatter),
}

impl Chart {
    /// Writes `<dir>/<stem>.png` and `<dir>/<stem>.svg` at [`DEFAULT_SIZE`], creating
    /// `dir` if needed.
    pub fn render(&self, dir: &Path, stem: &str) -> Result<Rendered, PlotError> {
        self.render_sized(dir, stem, DEFAULT_SIZE)
    }

    /// As [`Chart::render`], at `size` = (width, height) pixels (200 to 4000 each).
    pub fn render_sized(
        &self,
        dir: &Path,
        stem: &str,
        size: (u32, u32),
    ) -> Result<Rendered, PlotError> {
        match self {
            Chart::Line(c) => c.render_sized(dir, stem, size),
            Chart::Histogram(c) => c.render_sized(dir, stem, size),
            Chart::Raster(c) => c.render_sized(dir, stem, size),
            Chart::Bar(c) => c.render_sized(dir, stem, size),
            Chart::Heatmap(c) => c.render_sized(dir, stem, size),
            Chart::Scatter(c) => c.render_sized(dir, stem, size),
        }
    }

    /// The chart's title, e.g. for a report's caption list.
    pub fn title(&self) -> &str {
        match self {
            Chart::Line(c) => &c.title,
            Chart::Histogram(c) => &c.title,
            Chart::Raster(c) => &c.title,
            Chart::Bar(c) => &c.title,
            Chart::Heatmap(c) => &c.title,
            Chart::Scatter(c) => &c.title,
        }
    }
}

macro_rules! chart_conversions {
    ($($ty:ident => $variant:ident),* $(,)?) => {$(
        impl From<$ty> for Chart {
            fn from(chart: $ty) -> Self {
                Chart::$variant(chart)
            }
        }

        impl $ty {
            /// Writes `<dir>/<stem>.png` and `<dir>/<stem>.svg` at [`DEFAULT_SIZE`],
            /// creating `dir` if needed.
            pub fn render(&self, dir: &Path, stem: &str) -> Result<Rendered, PlotError> {
                self.render_sized(dir, stem, DEFAULT_SIZE)
            }

            /// As `render`, at `size` = (width, height) pixels (200 to 4000 each).
            pub fn render_sized(
                &self,
                dir: &Path,
                stem: &str,
                size: (u32, u32),
            ) -> Result<Rendered, PlotError> {
                render_both(self, dir, stem, size)
            }
        }
    )*};
}

chart_conversions!(
    LineChart => Line,
    Histogram => Histogram,
    Raster => Raster,
    BarChart => Bar,
    Heatmap => Heatmap,
    Scatter => Scatter,
);

/// A drawing failure inside one backend, before the file it concerns is known; `render_both`
/// attaches the path.
#[derive(Debug)]
pub(crate) struct DrawError(String);

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for DrawError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        DrawError(e.to_string())
    }
}

pub(crate) type DrawResult = Result<(), DrawError>;

/// What each chart type implements: validation once (so both files show the same thing
/// and bad input is reported before anything is written), then drawing on any backend.
pub(crate) trait Plot {
    /// The validated, axis-resolved form of the chart.
    type Ready;

    fn prepare(&self) -> Result<Prepared<Self::Ready>, PlotError>;

    fn draw<DB: DrawingBackend>(ready: &Self::Ready, root: &DrawingArea<DB, Shift>) -> DrawResult;
}

/// A chart ready to draw, or the placeholder that says why there is nothing to draw.
pub(crate) enum Prepared<T> {
    NoData { title: String, reason: String },
    Chart(T),
}

impl<T> Prepared<T> {
    /// Draws either form on `root`.
    fn draw_on<P, DB>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        P: Plot<Ready = T>,
        DB: DrawingBackend,
    {
        match self {
            Prepared::NoData { title, reason } => frame::no_data(root, title, reason),
            Prepared::Chart(ready) => P::draw(ready, root),
        }
    }
}

/// Registers the shipped font with `plotters` once per process. `plotters`' `ab_glyph`
/// backend finds fonts only by registered name, so every text style must name
/// [`FONT_FAMILY`]; the result is cached so a corrupt asset is reported on every render
/// rather than only the first.
fn ensure_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES)
                .map_err(|_| "the shipped DejaVuSans.ttf is not a valid font".to_string())
        })
        .clone()
        .map_err(PlotError::Font)
}

/// A stem must name a plain file inside `dir`: no separators, no `.`/`..`, no NUL.
fn validate_stem(stem: &str) -> Result<(), PlotError> {
    let bad = stem.is_empty()
        || stem == "."
        || stem == ".."
        || stem.contains(['/', '\\', '\0'])
        || Path::new(stem).is_absolute();
    if bad {
        Err(PlotError::InvalidStem(stem.to_string()))
    } else {
        Ok(())
    }
}

fn validate_size((w, h): (u32, u32)) -> Result<(), PlotError> {
    let (lo, hi) = SIZE_LIMITS;
    if (lo..=hi).contains(&w) && (lo..=hi).contains(&h) {
        Ok(())
    } else {
        Err(PlotError::InvalidData(format!(
            "image size {w}×{h} is outside {lo}..={hi} pixels per side"
        )))
    }
}

/// Validates once, then draws the same prepared chart into a PNG and an SVG.
fn render_both<P: Plot>(
    chart: &P,
    dir: &Path,
    stem: &str,
    size: (u32, u32),
) -> Result<Rendered, PlotError> {
    validate_stem(stem)?;
    validate_size(size)?;
    ensure_font()?;
    let prepared = chart.prepare()?;
    std::fs::create_dir_all(dir).map_err(|source| PlotError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let png = dir.join(format!("{stem}.png"));
    let svg = dir.join(format!("{stem}.svg"));
    draw_file(&png, || {
        let root = BitMapBackend::new(&png, size).into_drawing_area();
        prepared.draw_on::<P, _>(&root)?;
        root.present()?;
        Ok(())
    })?;
    draw_file(&svg, || {
        let root = SVGBackend::new(&svg, size).into_drawing_area();
        prepared.draw_on::<P, _>(&root)?;
        root.present()?;
        Ok(())
    })?;
    Ok(Rendered { png, svg })
}

/// Runs one backend's drawing and attaches the file to a failure. A backend that fails
/// half-way may still flush what it drew when dropped, so the partial file is removed:
/// a missing figure is easier to notice than a truncated one.
fn draw_file(path: &Path, draw: impl FnOnce() -> DrawResult) -> Result<(), PlotError> {
    draw().map_err(|DrawError(message)| {
        // Best effort: the file may not exist at all.
        let _ = std::fs::remove_file(path);
        PlotError::Draw {
            path: path.to_path_buf(),
            message,
        }
    })
}
