//! How many of this machine's cores other processes leave to a run, measured while it
//! runs.
//!
//! Why: on a busy workstation (a compile, a browser, another simulation) a run with as
//! many threads as cores gets one of them descheduled every few milliseconds, and since
//! every exchange needs the spikes of every partition, all threads stall until it runs
//! again. The scheduler does not move the stalled thread to the core its partner leaves
//! idle (it was running a moment ago, so it counts as cache-hot), so parking waiters
//! does not help: with one external busy loop on 2 cores, 2 threads ran at 0.6 cores'
//! worth, 1.4× slower than 1 thread. The cure is to run on the cores that are free: the
//! pooled scheduler (`engine::pool`) lets only as many threads take work as
//! [`LoadProbe::fit`] says fit beside the other runnable threads, and the others sleep
//! until the load goes away.
//!
//! The count of runnable threads is the kernel's own (the fourth field of
//! `/proc/loadavg`, "running/total": running or waiting for a core, machine-wide),
//! read with `pread` on a file kept open (a few µs), averaged over the last ~20 ms so
//! that a short-lived process does not change the thread count. Where it is not
//! readable (not Linux) the probe says every thread fits.

use std::fs::File;
use std::os::unix::fs::FileExt;

/// Weight of a new sample in the running average (samples come every ~1 ms).
const ALPHA: f64 = 0.05;

#[derive(Debug)]
pub struct LoadProbe {
    file: Option<File>,
    cores: usize,
    /// Running average of the runnable threads that are not the run's own.
    others: f64,
}

impl LoadProbe {
    pub fn new() -> Self {
        LoadProbe {
            file: File::open("/proc/loadavg").ok(),
            cores: std::thread::available_parallelism().map_or(1, |c| c.get()),
            others: 0.0,
        }
    }

    /// The cores this process may use.
    pub fn cores(&self) -> usize {
        self.cores
    }

    /// Runnable threads machine-wide now (the caller included), if readable.
    pub fn runnable(&self) -> Option<usize> {
        let mut buf = [0u8; 128];
        let n = self.file.as_ref()?.read_at(&mut buf, 0).ok()?;
        parse_runnable(&buf[..n])
    }

    /// Takes a sample with `ours` of the run's threads active (running or runnable)
    /// and returns how many of at most `max` threads fit on the cores the others leave
    /// (at least one).
    pub fn fit(&mut self, ours: usize, max: usize) -> usize {
        if let Some(all) = self.runnable() {
            let others = all.saturating_sub(ours) as f64;
            self.others += ALPHA * (others - self.others);
        }
        self.fit_now(max)
    }

    /// What [`LoadProbe::fit`] would say without a new sample.
    pub fn fit_now(&self, max: usize) -> usize {
        let free = self.cores as f64 - self.others;
        (free.round().max(1.0) as usize).min(max).max(1)
    }

    /// The average number of other runnable threads, for records.
    pub fn others(&self) -> f64 {
        self.others
    }
}

impl Default for LoadProbe {
    fn default() -> Self {
        Self::new()
    }
}

/// The running count of `/proc/loadavg` ("0.52 0.58 0.59 3/618 12345" → 3).
fn parse_runnable(text: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(text).ok()?;
    let field = text.split_ascii_whitespace().nth(3)?;
    field.split('/').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_running_count() {
        assert_eq!(parse_runnable(b"0.52 0.58 0.59 3/618 12345\n"), Some(3));
        assert_eq!(parse_runnable(b"0.52 0.58 0.59 x/618 1"), None);
        assert_eq!(parse_runnable(b"0.52"), None);
    }

    #[test]
    fn the_fit_follows_the_average_of_the_others() {
        let mut p = LoadProbe {
            file: None,
            cores: 2,
            others: 0.0,
        };
        assert_eq!(p.fit_now(2), 2);
        p.others = 1.0;
        assert_eq!(p.fit_now(2), 1);
        p.others = 0.4;
        assert_eq!(p.fit_now(2), 2);
        p.others = 5.0;
        assert_eq!(p.fit_now(4), 1, "at least one thread");
        p.others = 0.0;
        assert_eq!(p.fit_now(1), 1, "never more than asked for");
    }

    #[test]
    fn reads_this_machine() {
        if cfg!(target_os = "linux") {
            let p = LoadProbe::new();
            assert!(p.runnable().is_some_and(|n| n >= 1), "the test itself runs");
        }
    }
}
