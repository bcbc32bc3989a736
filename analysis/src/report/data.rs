//! The files records point to: spike trains (the `spikes:all` monitor's `.npy` of (step,
//! neuron id) rows, or a `--spikes` file), population rates (a `rate:WHAT:BIN` monitor's
//! float64 Hz per bin) and exchange traces (`--exchange-trace`, `.npy` of arrival
//! seconds, one row per exchange, one column per worker). Monitors' files are found in
//! the record's `config.monitors`.

use std::path::Path;

use crate::records::RunRecord;

/// The spike trains of one run, per neuron, in seconds from the start of the measured run.
#[derive(Debug, Clone)]
pub struct Spikes {
    /// Model time of the measured run, seconds.
    pub duration: f64,
    pub trains: Vec<Vec<f64>>,
}

/// Reads a 2-D `.npy` array (int64 or float64) as f64, with its shape.
fn read_2d(path: &Path) -> Result<(usize, usize, Vec<f64>), String> {
    let a = crate::npy::read_2d(path)?;
    Ok((a.rows, a.cols, a.to_f64()))
}

/// Most neurons a record may claim for its spike trains to be read (one empty train
/// each): 100× zenke25k's 27 500.
const MAX_NEURONS: usize = 10_000_000;

/// Where a record's file lies: as recorded, or (for a results directory that moved)
/// beside the record's own file, or in a directory beside it (a monitor directory).
pub(crate) fn locate(r: &RunRecord, recorded: &str) -> Option<std::path::PathBuf> {
    let p = Path::new(recorded);
    if p.exists() {
        return Some(p.to_path_buf());
    }
    let here = r.file.parent()?;
    let beside = here.join(p.file_name()?);
    if beside.exists() {
        return Some(beside);
    }
    let dir = p.parent()?.file_name()?;
    let below = here.join(dir).join(p.file_name()?);
    below.exists().then_some(below)
}

/// The record's monitor of `kind` watching `what` whose file ends in `ext`: its
/// entry of `config.monitors`.
fn monitor<'a>(
    r: &'a RunRecord,
    kind: &str,
    what: &str,
    ext: &str,
) -> Option<&'a serde_json::Value> {
    r.get("config.monitors")?.as_array()?.iter().find(|m| {
        m["kind"] == kind
            && m["what"] == what
            && m["file"].as_str().is_some_and(|f| f.ends_with(ext))
    })
}

/// The file of every spike of a record's run: its `spikes:all` monitor's `.npy`, or
/// else its `--spikes` file (records of before the monitors).
pub fn spike_file(r: &RunRecord) -> Option<&str> {
    monitor(r, "spikes", "all", ".npy")
        .and_then(|m| m["file"].as_str())
        .or_else(|| r.str("config.spikes"))
}

impl Spikes {
    /// The spikes a record points to ([`spike_file`]), if it has them.
    pub fn of(r: &RunRecord) -> Option<Result<Spikes, String>> {
        let path = locate(r, spike_file(r)?)?;
        Some(Self::load(&path, r))
    }

    fn load(path: &Path, r: &RunRecord) -> Result<Spikes, String> {
        let (rows, cols, values) = read_2d(path)?;
        if cols != 2 {
            return Err(format!(
                "{}: {cols} columns, expected 2 (step, neuron id)",
                path.display()
            ));
        }
        let dt = r.f64("config.dt_s").ok_or("record lacks config.dt_s")?;
        let neurons = r
            .u64("config.neurons")
            .ok_or("record lacks config.neurons")? as usize;
        if neurons > MAX_NEURONS {
            return Err(format!(
                "{}:{}: config.neurons = {neurons}: expected at most {MAX_NEURONS}",
                r.file.display(),
                r.line
            ));
        }
        let duration = r.f64("config.simtime_s").ok_or("record lacks simtime")?;
        // Steps count from the start of the priming run, if there was one.
        let t0 = r.f64("config.parameters.priming_s").unwrap_or(0.0);
        let mut trains = vec![Vec::new(); neurons];
        for row in 0..rows {
            let (step, id) = (values[2 * row], values[2 * row + 1]);
            if !(step >= 0.0 && id >= 0.0 && id.fract() == 0.0) {
                return Err(format!(
                    "{}: row {row}: step {step}, neuron {id}: expected non-negative whole numbers",
                    path.display()
                ));
            }
            let Some(train) = trains.get_mut(id as usize) else {
                return Err(format!(
                    "{}: row {row}: neuron {id} outside the {neurons} neurons of the run",
                    path.display()
                ));
            };
            train.push(step * dt - t0);
        }
        Ok(Spikes { duration, trains })
    }

    /// Rate of each neuron in `ids`, Hz.
    pub fn rates(&self, ids: std::ops::Range<usize>) -> Vec<f64> {
        self.trains[ids]
            .iter()
            .map(|t| t.len() as f64 / self.duration)
            .collect()
    }

    /// Every inter-spike interval of the neurons in `ids`, seconds.
    pub fn isis(&self, ids: std::ops::Range<usize>) -> Vec<f64> {
        self.trains[ids]
            .iter()
            .flat_map(|t| t.windows(2).map(|w| w[1] - w[0]))
            .collect()
    }

    /// CV of the ISIs of each neuron in `ids` with at least 2 intervals.
    pub fn cvs(&self, ids: std::ops::Range<usize>) -> Vec<f64> {
        self.trains[ids]
            .iter()
            .filter(|t| t.len() >= 3)
            .map(|t| {
                let isi: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).collect();
                let n = isi.len() as f64;
                let mean = isi.iter().sum::<f64>() / n;
                let var = isi.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
                var.sqrt() / mean
            })
            .collect()
    }

    /// (time, neuron) of the spikes of neurons in `ids` within [from, to) seconds.
    pub fn raster(&self, ids: std::ops::Range<usize>, from: f64, to: f64) -> Vec<(f64, u32)> {
        ids.flat_map(|i| {
            self.trains[i]
                .iter()
                .filter(move |&&t| t >= from && t < to)
                .map(move |&t| (t, i as u32))
        })
        .collect()
    }
}

/// A population-rate monitor's file (`--monitor rate:WHAT:BIN`): the mean rate of the
/// population in each bin from the run's first step, Hz (a last, shorter bin over its
/// own length).
#[derive(Debug, Clone)]
pub struct PopulationRate {
    /// Bin width, seconds.
    pub bin: f64,
    pub hz: Vec<f64>,
}

impl PopulationRate {
    /// The rates of the record's monitor of `what` (a population, `all`), if it has one.
    pub fn of(r: &RunRecord, what: &str) -> Option<Result<PopulationRate, String>> {
        let m = monitor(r, "rate", what, ".npy")?;
        let path = locate(r, m["file"].as_str()?)?;
        let written = m["bin"].as_str().unwrap_or_default();
        let bin = written
            .strip_suffix("ms")
            .map(|x| (x, 1e-3))
            .or_else(|| written.strip_suffix('s').map(|x| (x, 1.0)))
            .and_then(|(x, unit)| Some(x.parse::<f64>().ok()? * unit))
            .filter(|b| b.is_finite() && *b > 0.0);
        let Some(bin) = bin else {
            return Some(Err(format!(
                "{}:{}: config.monitors: rate:{what}: bin {written:?}: expected a duration \
                 such as 5ms",
                r.file.display(),
                r.line
            )));
        };
        Some(crate::npy::read_columns(&path).and_then(|a| match a.cols {
            1 => Ok(PopulationRate {
                bin,
                hz: a.to_f64(),
            }),
            c => Err(format!(
                "{}: {c} columns, expected one rate per bin",
                path.display()
            )),
        }))
    }

    /// (bin start, Hz) of the bins that start within [from, to) seconds of the run.
    pub fn points(&self, from: f64, to: f64) -> Vec<(f64, f64)> {
        self.hz
            .iter()
            .enumerate()
            .map(|(b, &hz)| (b as f64 * self.bin, hz))
            .filter(|&(t, _)| t >= from && t < to)
            .collect()
    }
}

/// An exchange trace: for each exchange, each worker's arrival time (seconds since the
/// common start).
#[derive(Debug, Clone)]
pub struct Trace {
    pub workers: usize,
    pub arrivals: Vec<Vec<f64>>,
}

impl Trace {
    pub fn of(r: &RunRecord) -> Option<Result<Trace, String>> {
        let path = locate(r, r.str("config.exchange_trace")?)?;
        Some(read_2d(&path).map(|(rows, cols, v)| {
            Trace {
                workers: cols,
                arrivals: (0..rows)
                    .map(|e| v[e * cols..(e + 1) * cols].to_vec())
                    .collect(),
            }
        }))
    }

    /// Per exchange: the latest minus the earliest arrival (how long the first worker
    /// waited at the barrier), seconds.
    pub fn max_offsets(&self) -> Vec<f64> {
        self.arrivals
            .iter()
            .map(|row| {
                let max = row.iter().cloned().fold(f64::MIN, f64::max);
                let min = row.iter().cloned().fold(f64::MAX, f64::min);
                max - min
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_isis_and_cvs_of_known_trains() {
        let s = Spikes {
            duration: 2.0,
            trains: vec![vec![0.1, 0.2, 0.3, 0.4], vec![], vec![0.0, 1.0, 1.5]],
        };
        assert_eq!(s.rates(0..3), vec![2.0, 0.0, 1.5]);
        let isis = s.isis(0..3);
        assert_eq!(isis.len(), 5);
        assert!((isis[4] - 0.5).abs() < 1e-12);
        let cvs = s.cvs(0..3);
        assert_eq!(cvs.len(), 2);
        assert!(cvs[0] < 1e-9, "regular train: CV 0");
        // ISIs 1.0 and 0.5: mean 0.75, sd 0.25.
        assert!((cvs[1] - 0.25 / 0.75).abs() < 1e-12);
        // Neuron 2's spikes at 0.0 and 1.0 fall outside [0.15, 1.0).
        assert_eq!(
            s.raster(0..3, 0.15, 1.0),
            vec![(0.2, 0), (0.3, 0), (0.4, 0)]
        );
    }

    #[test]
    fn max_offsets_are_the_spread_of_arrivals() {
        let t = Trace {
            workers: 2,
            arrivals: vec![vec![1.0, 1.5], vec![2.2, 2.0]],
        };
        let o = t.max_offsets();
        assert!((o[0] - 0.5).abs() < 1e-12 && (o[1] - 0.2).abs() < 1e-12);
    }
}
