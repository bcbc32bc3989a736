//! Weight matrices of a network saved to and loaded from Matrix Market files, one per
//! pathway (`ee.mtx`, `ei.mtx`, …), so peers (Auryn's `--fee/--fei/--fie/--fii`, SciPy)
//! run on the same connectivity.

use std::ops::RangeInclusive;
use std::path::Path;
use std::sync::Arc;

use sim_core::connection::Connection;
use sim_core::model::NeuronModel;
use sim_core::mtx::{self, Entry, MtxError};
use sim_core::rng::CounterRng;
use sim_core::{Connectivity, Network, Plasticity, Real};

/// Writes every connection's synapses, as built in precision `R` (so a reload in the
/// same precision reproduces the weights bit for bit). Returns the files written.
pub fn save<R: Real>(net: &Network, dir: &Path) -> Result<Vec<std::path::PathBuf>, MtxError> {
    std::fs::create_dir_all(dir).map_err(|source| MtxError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let rng = CounterRng::new(net.seed);
    let mut written = Vec::new();
    for (c, spec) in net.connections.iter().enumerate() {
        let n_post = net.populations[spec.post].size;
        let conn = Connection::<R>::build(net, c, 0..n_post, &rng);
        let entries: Vec<Entry> = conn.entries().map(|(i, j, w)| (i, j, w.to_f64())).collect();
        let path = dir.join(mtx::file_name(&spec.name));
        mtx::write(
            &path,
            &spec.name,
            net.populations[spec.pre].size,
            n_post,
            &entries,
        )?;
        written.push(path);
    }
    Ok(written)
}

/// Replaces every connection's connectivity with the synapses in `dir`, checking each
/// file's shape (and pathway, if the file names one) against the network.
pub fn load(net: &mut Network, dir: &Path) -> Result<(), MtxError> {
    for i in 0..net.connections.len() {
        let spec = &net.connections[i];
        let path = dir.join(mtx::file_name(&spec.name));
        let coo = mtx::read_pathway(
            &path,
            &spec.name,
            net.populations[spec.pre].size,
            net.populations[spec.post].size,
            allowed(net, spec),
        )?;
        net.connections[i].connectivity = Connectivity::Explicit(Arc::new(coo.entries));
    }
    Ok(())
}

/// The weights a pathway's model can take: finite in f32 (the same file means the same
/// network in either precision); non-negative onto conductances (va, zenke25k: a negative
/// conductance would excite through an inhibitory synapse); within the bounds of a
/// plastic rule; either sign onto delta synapses (brunel: inhibition is negative).
fn allowed(net: &Network, spec: &sim_core::ConnectionSpec) -> (RangeInclusive<f64>, &'static str) {
    let max = f32::MAX as f64;
    match (&spec.plasticity, &net.populations[spec.post].model) {
        (Some(Plasticity::Triplet(_)), _) => (0.0..=1.0, "a weight in [0, 1] (triplet STDP)"),
        (Some(Plasticity::Pair(p)), _) => (
            0.0..=p.w_max,
            "a weight in [0, w_max] (pair STDP, w_max = 3 J)",
        ),
        (None, NeuronModel::Delta(_)) => (-max..=max, "a weight finite in f32 (|w| <= 3.4e38)"),
        (None, _) => (
            0.0..=max,
            "a non-negative conductance, finite in f32 (0 <= w <= 3.4e38)",
        ),
    }
}
