//! `snn-bench run --profile FILE.svg`: a flamegraph of the command (network construction
//! and the run, every thread), sampled by pprof; `--profile-phase` keeps only the samples
//! taken inside one phase's code.
//!
//! The phase timers say how long each phase takes; a profile says which code inside it
//! takes the time. A sample is given to a phase by the functions on its stack (the names
//! the step pipeline calls phase by phase, see `sim_core::engine`). Those functions are
//! never inlined, so each has a symbol of its own: a frame of inlined code is only as
//! good as the debug info the optimiser kept for it. (With `propagate` inlined, one CI
//! machine gave none of 266 samples to propagate where ours gave 45–56 of 265; the
//! likely cause is code-generation for another CPU, `target-cpu=native`.)
//! Barrier and sync are waits, not code of their own, and cannot be told apart this way:
//! the full profile shows them under the pool's wait functions.

use std::path::{Path, PathBuf};

/// The phases a profile can be restricted to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Evolve,
    Propagate,
    Plasticity,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Evolve => "evolve",
            Phase::Propagate => "propagate",
            Phase::Plasticity => "plasticity",
        }
    }

    /// The phase whose code a function (its own name, without path) is: the neurons'
    /// integration and the traces' decay (`Population::evolve`, `Connection::begin_step`),
    /// static delivery (`Connection::propagate`), plastic delivery and potentiation.
    fn of_function(name: &str) -> Option<Phase> {
        match name {
            "evolve" | "begin_step" => Some(Phase::Evolve),
            "propagate" => Some(Phase::Propagate),
            "propagate_plastic" | "potentiate" => Some(Phase::Plasticity),
            _ => None,
        }
    }
}

/// A function's own name in a demangled symbol: `a::B<T>::propagate<I>::h0123456789abcdef`
/// is `propagate`. (Written here: rustc-demangle, which pprof uses, gives whole paths.)
fn function_name(symbol: &str) -> &str {
    // The legacy mangling's hash, "::h" and 16 hex digits.
    let s = match symbol.rsplit_once("::h") {
        Some((head, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            head
        }
        _ => symbol,
    };
    // The last "::" outside generic arguments, then the name without its own arguments.
    let (mut depth, mut start, mut prev) = (0usize, 0, 0u8);
    for (i, b) in s.bytes().enumerate() {
        match b {
            b'<' => depth += 1,
            b'>' if prev != b'-' => depth = depth.saturating_sub(1),
            b':' if prev == b':' && depth == 0 => start = i + 1,
            _ => {}
        }
        prev = b;
    }
    let own = &s[start..];
    own.split('<').next().unwrap_or(own)
}

/// The phase of a sample whose stack (innermost function first) is `symbols`: that of
/// the outermost phase function, so that a helper called inside a phase counts for it.
fn phase_of<S: AsRef<str>>(symbols: impl DoubleEndedIterator<Item = S>) -> Option<Phase> {
    symbols
        .rev()
        .find_map(|s| Phase::of_function(function_name(s.as_ref())))
}

/// Samples per second asked of the kernel's profiling timer: a prime, so that sampling does not fall in step with the
/// simulation's periodic work (every exchange, every timed step).
const FREQUENCY: i32 = 997;

/// A profile being taken: stops when written (or dropped).
pub struct Profiler {
    guard: pprof::ProfilerGuard<'static>,
    path: PathBuf,
    phase: Option<Phase>,
    force: bool,
}

impl Profiler {
    /// Starts sampling every thread of this process. The path is checked with the run's
    /// other outputs ([`crate::outputs::check`]) before the run.
    pub fn start(path: &Path, phase: Option<Phase>, force: bool) -> Result<Profiler, String> {
        let guard = pprof::ProfilerGuardBuilder::default()
            .frequency(FREQUENCY)
            // pprof's advice: unwinding inside these (signal trampolines, locks held by
            // the C library) can deadlock the sampled thread.
            .blocklist(&["libc", "libgcc", "pthread", "vdso"])
            .build()
            .map_err(|e| {
                format!(
                    "--profile {}: cannot start the profiler: {e}",
                    path.display()
                )
            })?;
        Ok(Profiler {
            guard,
            path: path.to_path_buf(),
            phase,
            force,
        })
    }

    /// Stops sampling and writes the flamegraph; returns a line saying what it holds.
    pub fn finish(self) -> Result<String, String> {
        let at = |e: &dyn std::fmt::Display| format!("--profile {}: {e}", self.path.display());
        let mut report = self.guard.report().build().map_err(|e| at(&e))?;
        drop(self.guard);
        let samples: isize = report.data.values().sum();
        if let Some(phase) = self.phase {
            report.data.retain(|frames, _| {
                phase_of(frames.frames.iter().flatten().map(|s| s.name())) == Some(phase)
            });
        }
        let kept: isize = report.data.values().sum();
        let within = self
            .phase
            .map_or(String::new(), |p| format!(" in {}", p.name()));
        if kept == 0 {
            return Err(at(&format!(
                "none of the {samples} samples was taken{within} (a run too short to sample, \
                 or a phase that does no work here); nothing written"
            )));
        }
        crate::outputs::write_file(&self.path, self.force, |out| {
            report
                .flamegraph(out)
                .map_err(|e| std::io::Error::other(e.to_string()))
        })?;
        // The kernel's timer may sample less often than asked (its tick rate): say how
        // many samples the profile holds over how long.
        Ok(format!(
            "profile: {} ({kept} of {samples} samples{within} over {:.2} s; {FREQUENCY} per \
             second asked)",
            self.path.display(),
            report.timing.duration.as_secs_f64()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_is_named_without_its_path_generics_or_hash() {
        for (symbol, name) in [
            (
                "sim_core::connection::Connection<R>::propagate::h0123456789abcdef",
                "propagate",
            ),
            (
                "sim_core::connection::Connection<f32>::propagate<core::iter::adapters::map::Map<I, F>>",
                "propagate",
            ),
            ("<sim_core::neuron::Population<R>>::evolve", "evolve"),
            (
                "sim_core::neuron::coba::Coba<R>::evolve::{{closure}}",
                "{{closure}}",
            ),
            ("propagate_plastic", "propagate_plastic"),
            ("a::b<fn() -> u32>::potentiate", "potentiate"),
            // A tail that only looks like a hash is the name.
            ("a::b::habcdef", "habcdef"),
        ] {
            assert_eq!(function_name(symbol), name, "{symbol}");
        }
    }

    #[test]
    fn a_sample_belongs_to_the_outermost_phase_function_on_its_stack() {
        // Innermost first, as pprof gives a stack.
        let stack = |names: &[&str]| phase_of(names.iter());
        assert_eq!(
            stack(&[
                "core::ptr::read",
                "sim_core::neuron::coba::Coba<f32>::evolve",
                "sim_core::neuron::Population<f32>::evolve",
                "sim_core::engine::Worker<f32,T>::advance_reading",
                "main"
            ]),
            Some(Phase::Evolve)
        );
        assert_eq!(
            stack(&[
                "sim_core::connection::Connection<f32>::propagate",
                "sim_core::engine::Worker<f32,T>::deliver"
            ]),
            Some(Phase::Propagate)
        );
        // A helper named like another phase's function, called from plasticity.
        assert_eq!(
            stack(&[
                "x::propagate",
                "sim_core::connection::Connection<f32>::propagate_plastic::h00000000000000ff"
            ]),
            Some(Phase::Plasticity)
        );
        assert_eq!(
            stack(&["sim_core::plasticity::Rule::potentiate"]),
            Some(Phase::Plasticity)
        );
        assert_eq!(stack(&["sim_core::engine::pool::wait", "main"]), None);
    }
}
