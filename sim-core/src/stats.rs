//! Per-neuron spike statistics gathered while the network runs: counts and
//! inter-spike-interval moments, so rates and CV-ISI need no stored spike trains.

use std::ops::Range;

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SpikeStats {
    pub count: Vec<u32>,
    last: Vec<u64>,
    isi_sum: Vec<f64>,
    isi_sq: Vec<f64>,
}

/// Rate and regularity of a group of neurons.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    pub neurons: usize,
    pub spikes: u64,
    pub mean_rate_hz: f64,
    /// Share of neurons that spiked at least once.
    pub active_fraction: f64,
    /// Mean over neurons with at least 2 ISIs of std(ISI)/mean(ISI); None if none has.
    pub mean_cv_isi: Option<f64>,
    pub cv_neurons: usize,
}

const NEVER: u64 = u64::MAX;

impl SpikeStats {
    pub fn new(n: usize) -> Self {
        SpikeStats {
            count: vec![0; n],
            last: vec![NEVER; n],
            isi_sum: vec![0.0; n],
            isi_sq: vec![0.0; n],
        }
    }

    pub fn len(&self) -> usize {
        self.count.len()
    }

    pub fn is_empty(&self) -> bool {
        self.count.is_empty()
    }

    #[inline]
    pub fn record(&mut self, i: usize, step: u64) {
        if self.last[i] != NEVER {
            let isi = (step - self.last[i]) as f64;
            self.isi_sum[i] += isi;
            self.isi_sq[i] += isi * isi;
        }
        self.last[i] = step;
        self.count[i] += 1;
    }

    /// Copies `other[from]` into `self` starting at index `at`.
    pub fn place(&mut self, at: usize, other: &SpikeStats, from: Range<usize>) {
        let n = from.len();
        self.count[at..at + n].copy_from_slice(&other.count[from.clone()]);
        self.last[at..at + n].copy_from_slice(&other.last[from.clone()]);
        self.isi_sum[at..at + n].copy_from_slice(&other.isi_sum[from.clone()]);
        self.isi_sq[at..at + n].copy_from_slice(&other.isi_sq[from]);
    }

    /// CV of the ISIs of neuron `i` (population standard deviation over mean).
    pub fn cv_isi(&self, i: usize) -> Option<f64> {
        let k = self.count[i].saturating_sub(1) as f64;
        if k < 2.0 {
            return None;
        }
        let mean = self.isi_sum[i] / k;
        let var = (self.isi_sq[i] / k - mean * mean).max(0.0);
        Some(var.sqrt() / mean)
    }

    pub fn summary(&self, neurons: Range<usize>, duration_s: f64) -> Summary {
        let n = neurons.len();
        let spikes: u64 = self.count[neurons.clone()].iter().map(|&c| c as u64).sum();
        let active = self.count[neurons.clone()]
            .iter()
            .filter(|&&c| c > 0)
            .count();
        let cvs: Vec<f64> = neurons.filter_map(|i| self.cv_isi(i)).collect();
        Summary {
            neurons: n,
            spikes,
            mean_rate_hz: if n > 0 && duration_s > 0.0 {
                spikes as f64 / (n as f64 * duration_s)
            } else {
                0.0
            },
            active_fraction: if n > 0 { active as f64 / n as f64 } else { 0.0 },
            mean_cv_isi: (!cvs.is_empty()).then(|| cvs.iter().sum::<f64>() / cvs.len() as f64),
            cv_neurons: cvs.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_train_has_zero_cv_and_known_rate() {
        let mut s = SpikeStats::new(3);
        for k in 0..10 {
            s.record(0, 100 * k); // every 10 ms at dt = 0.1 ms
        }
        s.record(1, 5);
        let sum = s.summary(0..3, 1.0);
        assert_eq!(sum.spikes, 11);
        assert!((sum.mean_rate_hz - 11.0 / 3.0).abs() < 1e-12);
        assert!((sum.active_fraction - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(s.cv_isi(0), Some(0.0));
        assert_eq!(s.cv_isi(1), None);
        assert_eq!(sum.cv_neurons, 1);
    }

    #[test]
    fn cv_of_alternating_intervals() {
        // ISIs 1, 3, 1, 3: mean 2, population sd 1, CV 0.5.
        let mut s = SpikeStats::new(1);
        for t in [0, 1, 4, 5, 8] {
            s.record(0, t);
        }
        assert!((s.cv_isi(0).unwrap() - 0.5).abs() < 1e-12);
    }
}
