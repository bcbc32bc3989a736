//! The conditions a run was measured under: whether anything else ran on the machine.
//!
//! A number snn-bench prints is only worth something if the run behind it was not
//! distorted, and on a shared workstation the usual distortion is another process (a
//! compile, a browser tab, another simulation) taking cores. So every record says what
//! the machine did during the run: the load averages before and after, the CPU time
//! *other* processes used meanwhile (machine-wide busy time from `/proc/stat` less the
//! run's own CPU time), the time the hypervisor stole from this VM, and the CPU
//! frequency governor. A run is *loaded* when others kept at least
//! [`LOADED_OTHERS_CORES`] of a core busy on average, or steal took at least
//! [`LOADED_STEAL_CORES`]; tables and the report keep such runs apart. The load average
//! is recorded but not used for the verdict: it is a minute-long average that counts
//! the suite's own previous runs.

use serde::{Deserialize, Serialize};

/// Others' average busy cores at and above which a run counts as loaded. A quarter of a
/// core: below it, an idle desktop's background (a few %) and the counting error of
/// `/proc/stat`'s 10-ms ticks over a 1-s run stay out.
pub const LOADED_OTHERS_CORES: f64 = 0.25;
/// Stolen cores (hypervisor) at and above which a run counts as loaded.
pub const LOADED_STEAL_CORES: f64 = 0.1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conditions {
    /// 1-, 5- and 15-minute load averages just before and just after the run.
    pub load_before: [f64; 3],
    pub load_after: [f64; 3],
    /// CPU seconds that other processes used, machine-wide, during the run.
    pub others_cpu_s: f64,
    /// `others_cpu_s` per second of run: the cores others kept busy on average.
    pub others_cores: f64,
    /// CPU seconds stolen by the hypervisor during the run (all CPUs).
    pub steal_s: f64,
    /// `scaling_governor` of cpu0, where the kernel exposes it.
    pub governor: Option<String>,
    /// Mean number of threads that took work (the pooled scheduler runs fewer threads
    /// than asked for while other processes need the cores); None if not reported.
    pub threads_active_mean: Option<f64>,
    /// Others or steal reached the thresholds above.
    pub loaded: bool,
}

/// Machine-wide counters at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    load: [f64; 3],
    /// Busy CPU seconds of all CPUs (user, nice, system, irq, softirq).
    busy_s: f64,
    steal_s: f64,
    at: std::time::Instant,
}

impl Snapshot {
    /// Reads the counters; None where `/proc` is not readable (not Linux).
    pub fn now() -> Option<Snapshot> {
        use procfs::{Current, CurrentSI};
        let load = procfs::LoadAverage::current().ok()?;
        let stat = procfs::KernelStats::current().ok()?;
        let hz = procfs::ticks_per_second() as f64;
        let t = &stat.total;
        let busy = t.user + t.nice + t.system + t.irq.unwrap_or(0) + t.softirq.unwrap_or(0);
        Some(Snapshot {
            load: [load.one as f64, load.five as f64, load.fifteen as f64],
            busy_s: busy as f64 / hz,
            steal_s: t.steal.unwrap_or(0) as f64 / hz,
            at: std::time::Instant::now(),
        })
    }
}

impl Conditions {
    /// The conditions between two snapshots, given the CPU seconds the run itself used
    /// on this machine in between.
    pub fn between(
        before: &Snapshot,
        after: &Snapshot,
        own_cpu_s: f64,
        threads_active_mean: Option<f64>,
    ) -> Conditions {
        let wall = (after.at - before.at).as_secs_f64().max(1e-9);
        let others_cpu_s = (after.busy_s - before.busy_s - own_cpu_s).max(0.0);
        let steal_s = (after.steal_s - before.steal_s).max(0.0);
        let others_cores = others_cpu_s / wall;
        Conditions {
            load_before: before.load,
            load_after: after.load,
            others_cpu_s,
            others_cores,
            steal_s,
            governor: governor(),
            threads_active_mean,
            loaded: others_cores >= LOADED_OTHERS_CORES || steal_s / wall >= LOADED_STEAL_CORES,
        }
    }

    /// One line for tables and summaries.
    pub fn describe(&self) -> String {
        format!(
            "{}: others kept {:.2} cores busy, steal {:.2} s, load {:.2} → {:.2}{}",
            if self.loaded { "loaded" } else { "quiet" },
            self.others_cores,
            self.steal_s,
            self.load_before[0],
            self.load_after[0],
            self.threads_active_mean.map_or(String::new(), |t| format!(
                ", {t:.2} threads active on average"
            )),
        )
    }
}

fn governor() -> Option<String> {
    std::fs::read_to_string("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn snap(busy_s: f64, steal_s: f64, at: Instant) -> Snapshot {
        Snapshot {
            load: [0.5, 0.4, 0.3],
            busy_s,
            steal_s,
            at,
        }
    }

    #[test]
    fn others_are_the_busy_time_the_run_did_not_use() {
        let t0 = Instant::now();
        let t1 = t0 + Duration::from_secs(2);
        // 2 s of run, the machine busy for 3.2 CPU-s of which the run used 2.0.
        let c = Conditions::between(&snap(10.0, 0.0, t0), &snap(13.2, 0.0, t1), 2.0, None);
        assert!((c.others_cpu_s - 1.2).abs() < 1e-9);
        assert!((c.others_cores - 0.6).abs() < 1e-9);
        assert!(c.loaded);
        // The run alone: quiet.
        let c = Conditions::between(&snap(10.0, 0.0, t0), &snap(12.05, 0.0, t1), 2.0, None);
        assert!(!c.loaded, "{c:?}");
        // Steal alone makes a run loaded.
        let c = Conditions::between(&snap(10.0, 1.0, t0), &snap(12.0, 1.5, t1), 2.0, None);
        assert!(c.loaded && c.others_cpu_s == 0.0, "{c:?}");
    }

    #[test]
    fn a_busy_loop_beside_the_caller_is_seen() {
        let Some(before) = Snapshot::now() else {
            return; // not Linux
        };
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s = stop.clone();
        let busy = std::thread::spawn(move || {
            let mut x = 0u64;
            while !s.load(std::sync::atomic::Ordering::Relaxed) {
                x = x.wrapping_add(1);
                std::hint::black_box(x);
            }
        });
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        busy.join().unwrap();
        let after = Snapshot::now().unwrap();
        // The caller "ran" nothing: the busy thread counts as another process.
        let c = Conditions::between(&before, &after, 0.0, None);
        assert!(c.others_cores > 0.5, "{c:?}");
        assert!(c.loaded);
    }
}
