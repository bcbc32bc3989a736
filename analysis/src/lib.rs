//! Turns `snn-bench` records into the paper's figures and verdicts: records read and
//! grouped by configuration, the run-time model fitted, distributions compared, figures
//! drawn, and one report written.
//!
//! - [`npy`]: 2-D `.npy` arrays (spike files, exchange traces), read with bounded memory.
//! - [`records`]: read JSON Lines records (warnings name the line), group by
//!   configuration, medians and spread over repetitions.
//! - [`fit`]: the run-time model `T(n) = α/n + β·log2 n + γ·(n−1)/n` (and the ring
//!   variant), α, β, γ ≥ 0, its lower bound and extrapolation.
//! - [`stats`]: two-sample Kolmogorov–Smirnov tests, Pearson r.
//! - [`plots`]: charts (PNG and SVG) with the font shipped in `assets/`.
//! - [`report`]: the figures, the claims table, the HTML and Markdown report.
//! - [`compare`]: several results directories (machines, builds) side by side.

pub mod compare;
pub mod fit;
pub mod npy;
pub mod plots;
pub mod records;
pub mod report;
pub mod stats;
