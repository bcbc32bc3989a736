//! The study's networks as data: network files (TOML; `networks/*.toml` in the
//! repository, embedded in the binary) made by one generic builder with the command
//! line's options applied, and a user's own files (`snn-bench run --network-file`).
//! README, "Network files", describes the format.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use sim_core::{Network, TraceMode};

use crate::limits;

mod build;
mod expr;
mod fields;
mod file;
mod params;

pub use build::Source;

/// The built-in network files: name and text (`networks/NAME.toml`).
pub const BUILT_IN: [(&str, &str); 5] = [
    ("va", include_str!("../../networks/va.toml")),
    ("brunel", include_str!("../../networks/brunel.toml")),
    ("zenke25k", include_str!("../../networks/zenke25k.toml")),
    ("poisson", include_str!("../../networks/poisson.toml")),
    ("hetero", include_str!("../../networks/hetero.toml")),
];

/// Names accepted by `snn-bench run` (those of [`BUILT_IN`]).
pub const NAMES: [&str; 5] = ["va", "brunel", "zenke25k", "poisson", "hetero"];

/// The built-in networks with a plastic variant (a `[plastic]` section).
pub const PLASTIC: [&str; 3] = ["brunel", "zenke25k", "hetero"];

/// The text of built-in network `name`.
pub fn built_in(name: &str) -> Option<&'static str> {
    BUILT_IN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// `snn-bench networks`: the built-in networks, one a line (name, plastic variant,
/// description); with a name, that network's file.
pub fn show(name: Option<&str>) -> Result<String, String> {
    if let Some(name) = name {
        return built_in(name).map(str::to_string).ok_or_else(|| {
            format!(
                "unknown network '{name}': expected one of {}",
                NAMES.join(", ")
            )
        });
    }
    let mut out = String::from(
        "Built-in networks (networks/NAME.toml in the repository; `snn-bench networks NAME` \
         prints one, a start for a file of your own: snn-bench run --network-file FILE):\n",
    );
    for (name, text) in BUILT_IN {
        let origin = format!("networks/{name}.toml");
        let file = build::parse(&Source {
            origin: &origin,
            text,
            dir: None,
        })?;
        let plastic = if file.plastic.is_some() {
            " (--plastic)"
        } else {
            ""
        };
        out.push_str(&format!("  {name:<10} {}{plastic}\n", file.description));
    }
    Ok(out)
}

/// Model time of the priming run before a plastic run without overrides, seconds, as
/// the built-in file says (zenke25k 3·τ_hom, brunel 0); 0 for any other name.
pub fn default_priming_s(network: &str) -> f64 {
    let o = Options {
        plastic: Some(Traces::Continuous),
        ..Options::default()
    };
    by_name(network, &o).map_or(0.0, |b| b.priming_s)
}

/// How membrane potentials start (recorded in every result).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum InitV {
    /// Drawn from the seed: uniform in [E_L, θ) (va, brunel), N(−60 mV, 10 mV)
    /// (zenke25k). The network starts asynchronous.
    Uniform,
    /// Every neuron at E_L, as Auryn's sim_coba_benchmark: a synchronous first volley.
    Rest,
}

/// What can be chosen about a network from the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub dt: f64,
    /// Axonal delay of every connection, seconds.
    pub delay: f64,
    pub seed: u64,
    pub init_v: InitV,
    pub generator: Generator,
    /// The plastic variant (brunel: E→E pair STDP; zenke25k: E→E triplet STDP with
    /// homeostasis), with these presynaptic traces.
    pub plastic: Option<Traces>,
    pub overrides: Overrides,
}

/// Network parameters changed from the command line; `None` keeps the paper's value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// brunel: λ of pair STDP (0.01); zenke25k: η, with A3+ = 6.5·10⁻³·η (1).
    pub learning_rate: Option<f64>,
    /// zenke25k: τ_hom in seconds (10 s, the paper's benchmark value; 50 s in its
    /// model runs).
    pub tau_hom: Option<f64>,
    /// Priming run in seconds of model time before learning starts (zenke25k: 3·τ_hom;
    /// brunel: 0).
    pub priming: Option<f64>,
    /// poisson: rate of each source (5 Hz); zenke25k: rate of each input neuron (2 Hz);
    /// brunel: rate of each neuron's external drive (20 kHz).
    pub input_rate: Option<f64>,
    /// Recurrent excitatory weight: va 0.4, zenke25k 0.16 (units of the leak
    /// conductance), brunel J = 0.1 mV.
    pub w_exc: Option<f64>,
    /// Recurrent inhibitory weight (magnitude): va 5.1, zenke25k 1.0, brunel g·J = 0.5 mV.
    pub w_inh: Option<f64>,
}

impl Default for Options {
    /// `snn-bench run`'s defaults: dt 0.1 ms, delay 0.8 ms, seed 1, uniform initial
    /// potentials, the lattice generator, static.
    fn default() -> Self {
        Options {
            dt: 0.1 * 1e-3,
            delay: 0.8 * 1e-3,
            seed: 1,
            init_v: InitV::Uniform,
            generator: Generator::Lattice,
            plastic: None,
            overrides: Overrides::default(),
        }
    }
}

/// A network ready to run, the length of its priming run, and the values of the
/// parameters a user can change (as the record lists them).
#[derive(Debug, Clone)]
pub struct Built {
    pub net: Network,
    /// Seconds of model time with the weights fixed before the measured run.
    pub priming_s: f64,
    /// The values of the parameters bound to flags, in the flags' units, named by the
    /// flag and the unit (`w_exc_mv`), and `priming_s` in plastic runs.
    pub parameters: BTreeMap<String, f64>,
    /// How the record names the initial potentials: "rest", or the draw ("uniform",
    /// "normal").
    pub initial_v: String,
}

/// How presynaptic traces are kept in plastic runs (paper Fig. 8C vs 8D).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Traces {
    /// Every worker decays all presynaptic traces every step (Auryn's default).
    Continuous,
    /// Traces decayed exactly when read or incremented.
    EventBased,
}

impl Traces {
    pub fn mode(self) -> TraceMode {
        match self {
            Traces::Continuous => TraceMode::Continuous,
            Traces::EventBased => TraceMode::EventBased,
        }
    }
}

/// Poisson generator (for networks with Poisson sources).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Generator {
    /// Auryn's lattice walk: O(spikes).
    Lattice,
    /// One draw per neuron and step.
    PerStep,
}

/// Builds a built-in network by name.
pub fn by_name(name: &str, o: &Options) -> Result<Built, String> {
    let Some(text) = built_in(name) else {
        return Err(format!(
            "unknown network '{name}': expected one of {} (or --network-file FILE)",
            NAMES.join(", ")
        ));
    };
    let origin = format!("networks/{name}.toml (built in)");
    build::build(
        &Source {
            origin: &origin,
            text,
            dir: None,
        },
        o,
    )
}

/// Builds the network of a user's file.
pub fn from_file(f: &UserFile, o: &Options) -> Result<Built, String> {
    let origin = f.path.display().to_string();
    build::build(
        &Source {
            origin: &origin,
            text: &f.toml,
            dir: f.path.parent(),
        },
        o,
    )
}

/// How a built-in network's initial potentials are recorded (see [`Built::initial_v`]).
pub fn initial_v_label(network: &str, init: InitV) -> String {
    let o = Options {
        init_v: init,
        ..Options::default()
    };
    match by_name(network, &o) {
        Ok(b) => b.initial_v,
        Err(_) if init == InitV::Rest => "rest".into(),
        Err(_) => "uniform".into(),
    }
}

/// A user's network file (`--network-file`): its path, made absolute, and its text,
/// read when the command line is parsed. A checkpoint's manifest keeps both, so
/// `snn-bench resume` builds the same network from any directory, even if the file has
/// changed or gone since (only `synapses` files are read again, relative to `path`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UserFile {
    pub path: PathBuf,
    pub toml: String,
}

impl UserFile {
    /// Reads `arg`: a regular file of at most [`limits::NETWORK_FILE_BYTES`], UTF-8.
    pub fn read(arg: &str) -> Result<UserFile, String> {
        let path = PathBuf::from(arg);
        let meta = std::fs::metadata(&path).map_err(|e| format!("{arg}: {e}"))?;
        let expected = "expected a network file (TOML)";
        if meta.is_dir() {
            return Err(format!("{arg}: is a directory: {expected}"));
        }
        if !meta.is_file() {
            return Err(format!("{arg}: not a regular file: {expected}"));
        }
        let max = limits::NETWORK_FILE_BYTES;
        let too_big =
            |n: u64| format!("{arg}: {n} bytes or more: {expected} of at most {max} bytes");
        if meta.len() > max {
            return Err(too_big(meta.len()));
        }
        let mut bytes = Vec::new();
        std::fs::File::open(&path)
            .and_then(|f| f.take(max + 1).read_to_end(&mut bytes))
            .map_err(|e| format!("{arg}: {e}"))?;
        if bytes.len() as u64 > max {
            return Err(too_big(bytes.len() as u64));
        }
        let toml = String::from_utf8(bytes)
            .map_err(|e| format!("{arg}: not UTF-8 text ({e}): {expected}"))?;
        let path = std::path::absolute(&path).map_err(|e| format!("{arg}: {e}"))?;
        Ok(UserFile { path, toml })
    }

    /// The `name` the file gives its network ("" if it cannot be read).
    pub fn name(&self) -> String {
        #[derive(serde::Deserialize)]
        struct Name {
            name: String,
        }
        toml::from_str::<Name>(&self.toml)
            .map(|n| n.name)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
