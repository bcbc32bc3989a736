//! Every chart type renders to a real PNG and SVG from small fixtures; empty and hostile
//! data (zeros on log axes, NaN, single points) render placeholders or charts instead of
//! panicking; bad input is an error; and text really reaches the PNG's pixels.

use std::path::{Path, PathBuf};

use super::style::palette;
use super::*;

/// Where a test's charts go: a fresh temporary directory, or `$PLOTS_GALLERY_DIR/<test>`
/// when that variable is set, so the fixtures can be looked at by eye:
/// `PLOTS_GALLERY_DIR=/tmp/gallery cargo test -p analysis plots::`.
struct OutDir {
    _tmp: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl OutDir {
    fn new(test: &str) -> OutDir {
        match std::env::var_os("PLOTS_GALLERY_DIR") {
            Some(root) => {
                let path = PathBuf::from(root).join(test);
                std::fs::create_dir_all(&path).unwrap();
                OutDir { _tmp: None, path }
            }
            None => {
                let tmp = tempfile::tempdir().unwrap();
                OutDir {
                    path: tmp.path().to_path_buf(),
                    _tmp: Some(tmp),
                }
            }
        }
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// Checks both files exist and look right, and returns the decoded PNG.
fn check_rendered(r: &Rendered, title: &str) -> image::RgbImage {
    let png = std::fs::read(&r.png).expect("png written");
    assert!(
        png.len() > 1000,
        "PNG suspiciously small: {} bytes",
        png.len()
    );
    assert_eq!(png[..8], PNG_SIGNATURE, "not a PNG");
    let img = image::load_from_memory(&png)
        .expect("PNG decodes")
        .to_rgb8();
    assert_eq!(img.dimensions(), DEFAULT_SIZE);
    let first = *img.get_pixel(0, 0);
    assert!(
        img.pixels().any(|p| *p != first),
        "PNG is a single uniform colour"
    );
    let svg = std::fs::read_to_string(&r.svg).expect("svg written");
    assert!(svg.contains("<svg"), "not an SVG");
    if !title.is_empty() {
        assert!(svg.contains(title), "SVG lacks the title {title:?}");
    }
    img
}

fn render(chart: impl Into<Chart>, dir: &Path, stem: &str) -> Rendered {
    let chart = chart.into();
    let title = chart.title().to_string();
    let r = chart
        .render(dir, stem)
        .unwrap_or_else(|e| panic!("{stem}: {e}"));
    assert_eq!(r.png, dir.join(format!("{stem}.png")));
    assert_eq!(r.svg, dir.join(format!("{stem}.svg")));
    check_rendered(&r, &title);
    r
}

fn svg_text(r: &Rendered) -> String {
    std::fs::read_to_string(&r.svg).unwrap()
}

/// Whether some `<text>` element of the SVG holds exactly `want` (plotters writes the
/// content on its own line).
fn svg_has_text(r: &Rendered, want: &str) -> bool {
    svg_text(r)
        .split("<text")
        .skip(1)
        .filter_map(|t| {
            Some(
                t.split_once('>')?
                    .1
                    .split_once("</text>")?
                    .0
                    .trim()
                    .to_string(),
            )
        })
        .any(|t| t == want)
}

fn scaling_chart() -> LineChart {
    let workers = [1.0, 2.0, 4.0, 8.0, 16.0];
    LineChart::new("Strong scaling")
        .x_label("workers")
        .y_label("run time (s)")
        .log_x()
        .log_y()
        .series(Series::with_points(
            "measured",
            workers
                .iter()
                .map(|&n| Point::with_range(n, 10.0 / n + 0.1, 9.0 / n, 11.0 / n + 0.2)),
        ))
        .series(Series::with_points(
            "sd",
            workers
                .iter()
                .map(|&n| Point::with_sd(n, 12.0 / n + 0.3, 0.5)),
        ))
        .series(Series::fit("fit", workers.iter().map(|&n| (n, 10.0 / n))).color(0))
        .band(
            Band::new(
                "bootstrap 95%",
                [16.0, 32.0, 64.0].map(|n| (n, 8.0 / n, 13.0 / n)),
            )
            .color(0),
        )
        .annotation("α = 10 s\nβ = 0")
}

#[test]
fn line_chart_renders_png_and_svg() {
    let dir = OutDir::new("line_chart_renders_png_and_svg");
    let r = render(scaling_chart(), dir.path(), "line");
    let svg = svg_text(&r);
    assert!(svg.contains("bootstrap 95%"), "legend text missing");
    assert!(svg.contains("β = 0"), "annotation missing");
    assert!(svg.contains("run time (s)"), "axis title missing");
}

#[test]
fn title_text_reaches_the_png_pixels() {
    // plotters' ab_glyph path fails silently when no font is registered under the
    // requested family; dark pixels in the title band prove the glyphs were drawn.
    let dir = OutDir::new("title_text_reaches_the_png_pixels");
    let dark_in_title_band = |chart: LineChart, stem: &str| {
        let r = chart.render(dir.path(), stem).unwrap();
        let img = image::open(&r.png).unwrap().to_rgb8();
        let (w, _) = img.dimensions();
        let mut dark = 0;
        for y in 4..36 {
            for x in (w / 2 - 150)..(w / 2 + 150) {
                let p = img.get_pixel(x, y);
                if p.0.iter().all(|&c| c < 110) {
                    dark += 1;
                }
            }
        }
        dark
    };
    let mut untitled = scaling_chart();
    untitled.title.clear();
    let with = dark_in_title_band(scaling_chart(), "titled");
    let without = dark_in_title_band(untitled, "untitled");
    assert!(with > 100, "title band has only {with} dark pixels");
    assert!(
        with > 10 * without.max(1),
        "title adds no ink: {with} vs {without}"
    );
}

#[test]
fn histogram_renders_raw_and_binned_with_markers() {
    let dir = OutDir::new("histogram_renders_raw_and_binned_with_markers");
    let a: Vec<f64> = (0..500).map(|i| ((i * 37) % 100) as f64 / 10.0).collect();
    let b: Vec<f64> = (0..300)
        .map(|i| 2.0 + ((i * 13) % 60) as f64 / 10.0)
        .collect();
    let chart = Histogram::new("Rate distributions")
        .x_label("rate (Hz)")
        .bins(20)
        .series(HistogramSeries::raw("NEST", a))
        .series(HistogramSeries::raw("ours", b))
        .series(HistogramSeries::binned(
            "pre-binned",
            vec![0.0, 2.0, 4.0, 6.0],
            vec![5.0, 10.0, 5.0],
        ))
        .marker(Marker::new(4.95, "mean NEST"))
        .marker(Marker::new(4.9, "mean ours"))
        .annotation("K-S p = 0.6");
    let r = render(chart, dir.path(), "hist");
    assert!(svg_text(&r).contains("mean ours"));

    for n in [Normalisation::Counts, Normalisation::Fraction] {
        let chart = Histogram::new("counts")
            .log_x()
            .normalisation(n)
            .series(HistogramSeries::raw(
                "isi",
                [0.001, 0.01, 0.02, 0.1, 0.5, 0.0, -1.0],
            ));
        render(chart, dir.path(), "hist-log");
    }
}

#[test]
fn raster_renders_subset_and_populations() {
    let dir = OutDir::new("raster_renders_subset_and_populations");
    let spikes: Vec<(f64, u32)> = (0..3000u32)
        .map(|k| (f64::from(k % 997) * 0.001, (k * 7919) % 1000))
        .collect();
    let chart = Raster::new("Network activity", spikes.clone())
        .window(0.1, 0.9)
        .neurons(0, 200)
        .neurons(800, 850)
        .population(Population::new("E", 0, 800))
        .population(Population::new("I", 800, 1000));
    let r = render(chart, dir.path(), "raster");
    assert!(svg_has_text(&r, "I"), "population legend missing");
    // All neurons, no window.
    render(Raster::new("all", spikes), dir.path(), "raster-all");
}

#[test]
fn bar_chart_renders_grouped_and_stacked() {
    let dir = OutDir::new("bar_chart_renders_grouped_and_stacked");
    let cats: Vec<String> = ["1", "2", "4", "8"].map(String::from).to_vec();
    let grouped = BarChart::new("Run time", cats.clone())
        .x_label("workers")
        .y_label("time (s)")
        .series(
            BarSeries::new("static", vec![10.0, 5.5, 3.0, f64::NAN]).errors(vec![
                Some(ErrorBar::Sd(0.5)),
                None,
                Some(ErrorBar::Range { lo: 2.5, hi: 3.2 }),
                None,
            ]),
        )
        .series(BarSeries::new("plastic", vec![25.0, 13.0, 7.0, 4.0]));
    render(grouped.clone(), dir.path(), "bars");
    let mut log = grouped.clone();
    log.y_scale = Scale::Log;
    render(log, dir.path(), "bars-log");
    // A reference line above every bar widens the axis to show it, and is in the legend.
    let line = grouped.reference(60.0, "real time");
    let r = render(line.clone(), dir.path(), "bars-reference");
    assert!(svg_has_text(&r, "real time"));
    assert!(svg_has_text(&r, "60"), "the y axis reaches the line");
    let mut bad = line;
    bad.y_scale = Scale::Log;
    bad.reference = Some((0.0, "zero".into()));
    assert!(
        bad.prepare().is_err(),
        "a line at 0 cannot be drawn on a log axis"
    );

    let phases = ["evolve", "propagate", "plasticity", "barrier", "sync"];
    let mut stacked = BarChart::new("Phase breakdown", cats)
        .x_label("workers")
        .y_label("time (s)")
        .stacked();
    for (i, p) in phases.iter().enumerate() {
        let v = (0..4).map(|w| (5 - i) as f64 / f64::from(1 << w)).collect();
        stacked = stacked.series(BarSeries::new(*p, v));
    }
    let r = render(stacked, dir.path(), "phases");
    assert!(svg_text(&r).contains("plasticity"));
}

#[test]
fn heatmap_renders_with_labels() {
    let dir = OutDir::new("heatmap_renders_with_labels");
    let names: Vec<String> = ["NEST", "Neuron", "Brian", "ours"]
        .map(String::from)
        .to_vec();
    let values = vec![
        vec![0.02, 0.03, 0.10, 0.12],
        vec![0.03, 0.02, 0.11, 0.13],
        vec![0.10, 0.11, 0.03, 0.09],
        vec![0.12, 0.13, 0.09, f64::NAN],
    ];
    let chart = Heatmap::new("Mean K-S statistic D", values)
        .labels(names.clone(), names)
        .scale_label("D");
    let r = render(chart, dir.path(), "heatmap");
    let svg = svg_text(&r);
    assert!(svg.contains("Brian") && svg.contains("0.11"));
}

#[test]
fn scatter_renders_identity_and_annotation() {
    let dir = OutDir::new("scatter_renders_identity_and_annotation");
    let pts: Vec<(f64, f64)> = (1..200)
        .map(|i| {
            let x = f64::from(i) * 0.05;
            (x, x * 1.05 + 0.1 * ((i % 7) as f64 - 3.0))
        })
        .collect();
    let chart = Scatter::new("Rates against reference")
        .x_label("NEST rate (Hz)")
        .y_label("rate (Hz)")
        .set(ScatterSet::new("dt = 0.1 ms", pts.clone()))
        .identity_line()
        .annotation("r = 0.99");
    let r = render(chart, dir.path(), "scatter");
    assert!(svg_text(&r).contains("r = 0.99"));
    // Mixed scales: the identity line becomes a curve.
    let chart = Scatter::new("mixed")
        .log_x()
        .set(ScatterSet::new("", pts))
        .identity_line();
    render(chart, dir.path(), "scatter-mixed");
}

#[test]
fn empty_data_renders_a_no_data_placeholder() {
    let dir = OutDir::new("empty_data_renders_a_no_data_placeholder");
    let charts: Vec<Chart> = vec![
        LineChart::new("empty line").into(),
        LineChart::new("empty series")
            .series(Series::new("a", Vec::new()))
            .into(),
        Histogram::new("empty hist")
            .series(HistogramSeries::raw("a", Vec::new()))
            .into(),
        Histogram::new("nan hist")
            .series(HistogramSeries::raw("a", [f64::NAN, f64::INFINITY]))
            .into(),
        Raster::new("empty raster", Vec::new()).into(),
        Raster::new("outside window", vec![(5.0, 1)])
            .window(0.0, 1.0)
            .into(),
        BarChart::new("empty bars", Vec::new()).into(),
        BarChart::new("nan bars", vec!["a".into()])
            .series(BarSeries::new("s", vec![f64::NAN]))
            .into(),
        Heatmap::new("empty heatmap", Vec::new()).into(),
        Heatmap::new("nan heatmap", vec![vec![f64::NAN]]).into(),
        Scatter::new("empty scatter").into(),
    ];
    for (i, chart) in charts.into_iter().enumerate() {
        let r = render(chart, dir.path(), &format!("empty-{i}"));
        assert!(
            svg_text(&r).contains("no data"),
            "chart {i} lacks 'no data'"
        );
    }
}

#[test]
fn log_axes_skip_zeros_negatives_and_nan() {
    let dir = OutDir::new("log_axes_skip_zeros_negatives_and_nan");
    let chart = LineChart::new("log with zeros")
        .log_x()
        .log_y()
        .series(Series::new(
            "a",
            [
                (0.0, 1.0),
                (1.0, 0.0),
                (2.0, -3.0),
                (f64::NAN, 1.0),
                (4.0, f64::INFINITY),
                (8.0, 2.0),
                (16.0, 1.0),
            ],
        ))
        .series(Series::with_points(
            "bars below zero",
            [
                Point::with_sd(2.0, 1.0, 5.0),
                Point::with_range(4.0, 1.0, -1.0, 0.0),
            ],
        ))
        .band(Band::new(
            "band",
            [(1.0, 0.0, 1.0), (2.0, 0.5, 2.0), (0.0, 1.0, 2.0)],
        ));
    render(chart, dir.path(), "log-zeros");

    // Only unusable points: a placeholder, not a panic.
    let chart = LineChart::new("all zeros")
        .log_y()
        .series(Series::new("z", [(1.0, 0.0), (2.0, 0.0)]));
    let r = render(chart, dir.path(), "log-all-zeros");
    assert!(svg_text(&r).contains("no data"));

    let chart = Scatter::new("log scatter")
        .log_x()
        .log_y()
        .set(ScatterSet::new(
            "s",
            vec![(0.0, 0.0), (1.0, 1.0), (-1.0, 2.0)],
        ))
        .identity_line();
    render(chart, dir.path(), "log-scatter");
}

#[test]
fn single_points_and_flat_series_render() {
    let dir = OutDir::new("single_points_and_flat_series_render");
    render(
        LineChart::new("one point").series(Series::new("a", [(3.0, 3.0)])),
        dir.path(),
        "one",
    );
    render(
        LineChart::new("one fit point")
            .log_x()
            .log_y()
            .series(Series::fit("a", [(3.0, 3.0)])),
        dir.path(),
        "one-fit",
    );
    render(
        LineChart::new("flat").series(Series::new("a", [(0.0, 0.0), (1.0, 0.0)])),
        dir.path(),
        "flat",
    );
    render(
        Histogram::new("one value").series(HistogramSeries::raw("a", [2.0, 2.0])),
        dir.path(),
        "hist-one",
    );
    render(
        Heatmap::new("constant", vec![vec![1.0, 1.0]]),
        dir.path(),
        "heat-const",
    );
    render(
        Raster::new("one spike", vec![(0.5, 3)]),
        dir.path(),
        "raster-one",
    );
}

#[test]
fn fixed_ranges_clip_instead_of_overflowing() {
    let dir = OutDir::new("fixed_ranges_clip_instead_of_overflowing");
    let chart = LineChart::new("clipped")
        .x_range(0.0, 5.0)
        .y_range(0.0, 5.0)
        .series(Series::new("a", [(-10.0, -10.0), (2.0, 2.0), (10.0, 10.0)]))
        .band(Band::new("b", [(-1.0, -1.0, 20.0), (6.0, 1.0, 2.0)]));
    render(chart, dir.path(), "clipped");
}

#[test]
fn invalid_input_is_an_error() {
    let dir = OutDir::new("invalid_input_is_an_error");
    let invalid = |chart: Chart| {
        let e = chart.render(dir.path(), "bad").unwrap_err();
        assert!(matches!(e, PlotError::InvalidData(_)), "{e}");
    };
    invalid(Heatmap::new("ragged", vec![vec![1.0, 2.0], vec![1.0]]).into());
    invalid(
        Heatmap::new("labels", vec![vec![1.0]])
            .labels(vec!["a".into(), "b".into()], Vec::new())
            .into(),
    );
    invalid(
        BarChart::new("mismatch", vec!["a".into(), "b".into()])
            .series(BarSeries::new("s", vec![1.0]))
            .into(),
    );
    invalid(
        BarChart::new("stacked log", vec!["a".into()])
            .stacked()
            .log_y()
            .series(BarSeries::new("s", vec![1.0]))
            .into(),
    );
    invalid(
        BarChart::new("stacked negative", vec!["a".into()])
            .stacked()
            .series(BarSeries::new("s", vec![-1.0]))
            .into(),
    );
    invalid(Histogram::new("no bins").bins(0).into());
    invalid(
        Histogram::new("bad edges")
            .series(HistogramSeries::binned("a", vec![1.0, 0.0], vec![1.0]))
            .into(),
    );
    invalid(Histogram::new("log range").log_x().range(0.0, 1.0).into());
    invalid(LineChart::new("reversed").x_range(2.0, 1.0).into());
    invalid(
        Raster::new("window", vec![(0.1, 1)])
            .window(1.0, 0.0)
            .into(),
    );
    invalid(Raster::new("subset", vec![(0.1, 1)]).neurons(5, 5).into());
    invalid(
        Raster::new("population", vec![(0.1, 1)])
            .population(Population::new("E", 3, 1))
            .into(),
    );

    let chart: Chart = scaling_chart().into();
    for stem in ["", ".", "..", "a/b", "a\\b"] {
        assert!(
            matches!(
                chart.render(dir.path(), stem),
                Err(PlotError::InvalidStem(_))
            ),
            "stem {stem:?} accepted"
        );
    }
    assert!(matches!(
        chart.render_sized(dir.path(), "tiny", (10, 10)),
        Err(PlotError::InvalidData(_))
    ));
}

#[test]
fn unwritable_directory_is_an_error_not_a_panic() {
    let dir = OutDir::new("unwritable_directory_is_an_error_not_a_panic");
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let e = scaling_chart().render(&file.join("sub"), "x").unwrap_err();
    assert!(matches!(e, PlotError::Io { .. }), "{e}");
}

#[test]
fn figure_renders_into_a_new_directory() {
    let dir = OutDir::new("figure_renders_into_a_new_directory");
    let out = dir.path().join("figures").join("fig4");
    let fig = Figure::new("fig4a", scaling_chart());
    let r = fig.render(&out).unwrap();
    check_rendered(&r, "Strong scaling");
    let r = Chart::from(scaling_chart())
        .render_sized(&out, "big", (1200, 900))
        .unwrap();
    let img = image::open(&r.png).unwrap();
    assert_eq!((img.width(), img.height()), (1200, 900));
}

#[test]
fn extreme_values_do_not_panic() {
    let dir = OutDir::new("extreme_values_do_not_panic");
    let extremes = [
        (f64::MAX, f64::MIN),
        (f64::MIN, f64::MAX),
        (f64::MIN_POSITIVE, 1.0),
        (1e-300, 1e300),
        (1.0, 1.0),
    ];
    for (i, (xs, ys)) in [
        (Scale::Linear, Scale::Linear),
        (Scale::Log, Scale::Log),
        (Scale::Linear, Scale::Log),
    ]
    .into_iter()
    .enumerate()
    {
        let mut chart = LineChart::new("extremes").series(Series::with_points(
            "a",
            extremes.map(|(x, y)| Point::with_sd(x, y, f64::MAX)),
        ));
        chart.x_scale = xs;
        chart.y_scale = ys;
        chart.render(dir.path(), &format!("line-{i}")).unwrap();
        let mut scatter = Scatter::new("extremes")
            .set(ScatterSet::new("a", extremes.to_vec()))
            .identity_line();
        scatter.x_scale = xs;
        scatter.y_scale = ys;
        scatter.render(dir.path(), &format!("scatter-{i}")).unwrap();
    }
    Histogram::new("extremes")
        .series(HistogramSeries::raw("a", [f64::MAX, f64::MIN, 0.0]))
        .render(dir.path(), "hist")
        .unwrap();
    BarChart::new("extremes", vec!["a".into(), "b".into()])
        .series(BarSeries::new("s", vec![f64::MAX, 1.0]))
        .render(dir.path(), "bars")
        .unwrap();
    Heatmap::new("extremes", vec![vec![f64::MAX, f64::MIN]])
        .render(dir.path(), "heat")
        .unwrap();
    let many: Vec<(f64, u32)> = (0..(MAX_RASTER_SPIKES as u32 + 10))
        .map(|k| (f64::from(k) * 1e-5, k % 100))
        .collect();
    let r = Raster::new("capped", many)
        .render(dir.path(), "raster")
        .unwrap();
    assert!(svg_text(&r).contains("first 50000"));
    Raster::new("huge ids", vec![(0.0, u32::MAX), (f64::MAX, 0), (1.0, 5)])
        .render(dir.path(), "raster-ids")
        .unwrap();
}

/// Deterministic noise in [0, 1) (xorshift), so the fixtures need no RNG crate.
fn noise(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed.max(1);
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Renders `chart` and returns the pixels drawn in `color` (nearly exactly, or as a
/// translucent tint of it over white when `tint` is set) that lie outside the plotting
/// frame, allowing `slack` pixels for a stroke's half-width at a clipped end.
fn pixels_outside_frame(
    chart: impl Into<Chart>,
    dir: &Path,
    stem: &str,
    color: RGBColor,
    tint: bool,
    slack: i64,
) -> (usize, Vec<(u32, u32)>) {
    frame::LAST_FRAME.with(|f| *f.borrow_mut() = None);
    let r = render(chart, dir, stem);
    let (xr, yr) = frame::LAST_FRAME
        .with(|f| f.borrow().clone())
        .expect("the chart built a frame");
    let img = image::open(&r.png).unwrap().to_rgb8();
    let RGBColor(cr, cg, cb) = color;
    let matches = |p: &image::Rgb<u8>| {
        let [r, g, b] = p.0;
        if tint {
            // colour·a + white·(1 − a) for some 0 < a ≤ 1: every channel moved from 255
            // towards the colour in the same proportion.
            let a = |c: u8, t: u8| {
                if t == 255 {
                    None
                } else {
                    Some((255.0 - f64::from(c)) / (255.0 - f64::from(t)))
                }
            };
            let alphas: Vec<f64> = [a(r, cr), a(g, cg), a(b, cb)]
                .into_iter()
                .flatten()
                .collect();
            let lo = alphas.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = alphas.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            lo > 0.05 && hi - lo < 0.08
        } else {
            [(r, cr), (g, cg), (b, cb)]
                .iter()
                .all(|&(c, t)| (i32::from(c) - i32::from(t)).abs() <= 8)
        }
    };
    let mut inside = 0;
    let mut outside = Vec::new();
    for (px, py, p) in img.enumerate_pixels() {
        if !matches(p) {
            continue;
        }
        let (x, y) = (i64::from(px), i64::from(py));
        let in_frame = x >= i64::from(xr.start) - slack
            && x < i64::from(xr.end) + slack
            && y >= i64::from(yr.start) - slack
            && y < i64::from(yr.end) + slack;
        if in_frame {
            inside += 1;
        } else {
            outside.push((px, py));
        }
    }
    (inside, outside)
}

#[test]
fn dense_log_lines_stay_inside_the_frame() {
    // fig7's shape: thousands of points jumping over five decades, some of them 0.
    let dir = OutDir::new("dense_log_lines_stay_inside_the_frame");
    let mut next = noise(7);
    let points: Vec<(f64, f64)> = (0..6000)
        .map(|i| {
            let u = next();
            let y = if u < 0.03 {
                0.0
            } else {
                10f64.powf(-7.0 + 5.7 * next())
            };
            (i as f64, y)
        })
        .collect();
    for (k, style) in [
        SeriesStyle::Line,
        SeriesStyle::LinePoints,
        SeriesStyle::Dashed,
    ]
    .into_iter()
    .enumerate()
    {
        let chart = LineChart::new("Max offset per exchange over the run")
            .x_label("exchange")
            .y_label("max arrival offset (s)")
            .log_y()
            .series(Series::new("", points.clone()).style(style).color(1));
        let stem = format!("dense-{k}");
        let (inside, outside) =
            pixels_outside_frame(chart, dir.path(), &stem, palette(1), false, 2);
        assert!(inside > 1000, "{style:?}: the series drew almost nothing");
        assert!(
            outside.is_empty(),
            "{style:?}: {} series pixels outside the frame, e.g. {:?}",
            outside.len(),
            &outside[..outside.len().min(5)]
        );
    }

    // A fixed range that cuts through the data clips the lines at the frame too.
    let chart = LineChart::new("fixed range")
        .log_y()
        .y_range(1e-5, 1e-3)
        .x_range(100.0, 5000.0)
        .series(Series::new("", points).style(SeriesStyle::Line).color(1));
    let (inside, outside) = pixels_outside_frame(chart, dir.path(), "fixed", palette(1), false, 2);
    assert!(inside > 1000);
    assert!(outside.is_empty(), "{} pixels outside", outside.len());
}

#[test]
fn bands_and_identity_lines_stay_inside_the_frame() {
    let dir = OutDir::new("bands_and_identity_lines_stay_inside_the_frame");
    let mut next = noise(11);
    let band: Vec<(f64, f64, f64)> = (0..3000)
        .map(|i| {
            let a = if next() < 0.03 {
                0.0
            } else {
                10f64.powf(-7.0 + 5.7 * next())
            };
            let b = 10f64.powf(-7.0 + 5.7 * next());
            (i as f64, a, b)
        })
        .collect();
    let chart = LineChart::new("dense band")
        .log_y()
        .band(Band::new("", band.clone()).color(1));
    let (inside, outside) = pixels_outside_frame(chart, dir.path(), "band", palette(1), true, 1);
    assert!(inside > 1000);
    assert!(outside.is_empty(), "{} pixels outside", outside.len());
    let chart = LineChart::new("clamped band")
        .log_y()
        .y_range(1e-5, 1e-3)
        .band(Band::new("", band).color(1));
    let (inside, outside) =
        pixels_outside_frame(chart, dir.path(), "band-fixed", palette(1), true, 1);
    assert!(inside > 1000);
    assert!(outside.is_empty(), "{} pixels outside", outside.len());

    // The identity line, straight and (mixed scales) curved: it is grey like the text,
    // so compare against the same chart without it. x and y span the same values, so
    // both renderings have the same axes.
    let pts: Vec<(f64, f64)> = (1..200)
        .map(|i| (f64::from(i), f64::from(200 - i)))
        .collect();
    let scatter = |log: bool| {
        let s = Scatter::new("identity").set(ScatterSet::new("", pts.clone()));
        if log {
            s.log_x().log_y()
        } else {
            s
        }
    };
    for log in [false, true] {
        let stem = format!("identity-{log}");
        let plain = render(scatter(log), dir.path(), &format!("{stem}-without"));
        let plain = image::open(&plain.png).unwrap().to_rgb8();
        frame::LAST_FRAME.with(|f| *f.borrow_mut() = None);
        let with = render(scatter(log).identity_line(), dir.path(), &stem);
        let with = image::open(&with.png).unwrap().to_rgb8();
        let (xr, yr) = frame::LAST_FRAME.with(|f| f.borrow().clone()).unwrap();
        let mut inside = 0;
        let mut outside = Vec::new();
        for (px, py, p) in with.enumerate_pixels() {
            if p == plain.get_pixel(px, py) {
                continue;
            }
            let (x, y) = (px as i32, py as i32);
            if (xr.start - 1..xr.end + 1).contains(&x) && (yr.start - 1..yr.end + 1).contains(&y) {
                inside += 1;
            } else {
                outside.push((px, py));
            }
        }
        assert!(inside > 50, "log={log}: identity line not drawn");
        assert!(
            outside.is_empty(),
            "log={log}: identity line drew {} pixels outside the frame, e.g. {:?}",
            outside.len(),
            &outside[..outside.len().min(5)]
        );
    }
}
