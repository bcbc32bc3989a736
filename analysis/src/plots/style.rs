//! Colours, fonts and the legend position shared by every chart, so that the same
//! simulator or phase has the same colour in every figure of a report.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;

use super::FONT_FAMILY;

/// An opaque colour; kept separate from `plotters`' types so callers need not depend on
/// `plotters`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

/// The series palette, indexed by the `color` fields of the chart types (wrapping
/// around). Okabe–Ito's colour-blind-safe set (yellow left out: unreadable on white),
/// then black and brown; index 0 is the first series' default.
pub const PALETTE: [Rgb; 8] = [
    Rgb(0x00, 0x72, 0xB2), // blue
    Rgb(0xD5, 0x5E, 0x00), // vermillion
    Rgb(0x00, 0x9E, 0x73), // bluish green
    Rgb(0xCC, 0x79, 0xA7), // reddish purple
    Rgb(0xE6, 0x9F, 0x00), // orange
    Rgb(0x56, 0xB4, 0xE9), // sky blue
    Rgb(0x00, 0x00, 0x00), // black
    Rgb(0x8C, 0x56, 0x4B), // brown
];

/// The colour for palette slot `index`, wrapping so that any index is valid.
pub(crate) fn palette(index: usize) -> RGBColor {
    let Rgb(r, g, b) = PALETTE[index % PALETTE.len()];
    RGBColor(r, g, b)
}

/// Text and frame colour.
pub(crate) const INK: RGBColor = RGBColor(0x20, 0x20, 0x20);
/// Secondary text (annotations, "no data").
pub(crate) const MUTED: RGBColor = RGBColor(0x70, 0x70, 0x70);
/// Major and minor grid lines.
pub(crate) const GRID_BOLD: RGBColor = RGBColor(0xD8, 0xD8, 0xD8);
pub(crate) const GRID_LIGHT: RGBColor = RGBColor(0xEE, 0xEE, 0xEE);
/// Heatmap cells without a value.
pub(crate) const MISSING: RGBColor = RGBColor(0xC8, 0xC8, 0xC8);

/// Font sizes in pixels.
/// `plotters` sizes text by line height (its SVG output writes size / 1.24 as the em
/// size), so these read about a fifth smaller than the same numbers in CSS.
pub(crate) const TITLE_SIZE: f64 = 24.0;
pub(crate) const LABEL_SIZE: f64 = 18.0;
pub(crate) const TICK_SIZE: f64 = 15.0;
pub(crate) const LEGEND_SIZE: f64 = 15.0;

/// A text style in the shipped font (see `ensure_font`), anchored at `pos`.
pub(crate) fn text(size: f64, color: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle {
        font: FontDesc::new(FontFamily::Name(FONT_FAMILY), size, FontStyle::Normal),
        color: color.to_backend_color(),
        pos: Pos::new(h, v),
    }
}

/// Where the legend box goes inside the plotting area; `Hidden` draws none (names are
/// still accepted, so a caller can switch it off for crowded charts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Legend {
    #[default]
    UpperRight,
    UpperLeft,
    LowerLeft,
    LowerRight,
    Hidden,
}

impl Legend {
    pub(crate) fn position(self) -> Option<SeriesLabelPosition> {
        match self {
            Legend::UpperRight => Some(SeriesLabelPosition::UpperRight),
            Legend::UpperLeft => Some(SeriesLabelPosition::UpperLeft),
            Legend::LowerLeft => Some(SeriesLabelPosition::LowerLeft),
            Legend::LowerRight => Some(SeriesLabelPosition::LowerRight),
            Legend::Hidden => None,
        }
    }
}

/// Viridis, sampled at nine points: perceptually uniform and readable in grey, so a
/// heatmap's ordering survives printing.
const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
];

/// The colour for `t` in [0, 1] (clamped; NaN maps to the low end).
pub(crate) fn colormap(t: f64) -> RGBColor {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let scaled = t * (VIRIDIS.len() - 1) as f64;
    // `scaled` is in [0, 8]; the cast truncates toward zero, which is the floor here.
    let i = (scaled as usize).min(VIRIDIS.len() - 2);
    let f = scaled - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Whether dark text reads better than white on `c` (relative luminance above middle).
pub(crate) fn is_light(c: RGBColor) -> bool {
    let RGBColor(r, g, b) = c;
    0.2126 * f64::from(r) + 0.7152 * f64::from(g) + 0.0722 * f64::from(b) > 140.0
}
