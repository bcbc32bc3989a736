//! Weight matrices of a network saved to and loaded from Matrix Market files, one per
//! pathway (`ee.mtx`, `ei.mtx`, …), so peers (Auryn's `--fee/--fei/--fie/--fii`, SciPy)
//! run on the same connectivity.

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sim_core::connection::Connection;
use sim_core::model::NeuronModel;
use sim_core::mtx::{self, Entry, MtxError};
use sim_core::rng::CounterRng;
use sim_core::{Connectivity, Network, Plasticity, Real};

/// The file of each pathway in a weights directory (`ee.mtx`, …), in connection order.
pub fn file_names(net: &Network) -> Vec<String> {
    net.connections
        .iter()
        .map(|c| mtx::file_name(&c.name))
        .collect()
}

/// Writes every connection's synapses, as built in precision `R` (so a reload in the
/// same precision reproduces the weights bit for bit), as one set: all files or none
/// ([`crate::outputs::write_set`]); `force` lets it replace an earlier set. Returns the
/// files written. Errors give 1-based rows and columns, as the loader's do.
pub fn save<R: Real>(net: &Network, dir: &Path, force: bool) -> Result<Vec<PathBuf>, String> {
    let rng = CounterRng::new(net.seed);
    save_entries(net, dir, force, |c| {
        let n_post = net.populations[net.connections[c].post].size;
        let conn = Connection::<R>::build(net, c, 0..n_post, &rng);
        conn.entries().map(|(i, j, w)| (i, j, w.to_f64())).collect()
    })
}

/// As [`save`], with the synapses of connection c from `entries(c)` (pre, post,
/// weight, in any order): e.g. the learnt weights at the end of a run.
pub fn save_entries(
    net: &Network,
    dir: &Path,
    force: bool,
    mut entries: impl FnMut(usize) -> Vec<Entry>,
) -> Result<Vec<PathBuf>, String> {
    let names = file_names(net);
    crate::outputs::write_set(dir, &names, force, |path, name| {
        let c = names
            .iter()
            .position(|n| n == name)
            .expect("a pathway's file");
        let spec = &net.connections[c];
        let n_pre = net.populations[spec.pre].size;
        let n_post = net.populations[spec.post].size;
        let mut entries = entries(c);
        // Stable: synapses between one pair keep their order.
        entries.sort_by_key(|&(i, j, _)| (i, j));
        check_entries(&dir.join(name), &spec.name, (n_pre, n_post), &entries)?;
        mtx::write(path, &spec.name, n_pre, n_post, &entries)
            // The temporary directory's name means nothing to the user: name the target.
            .map_err(|e| {
                e.to_string()
                    .replace(&*path.to_string_lossy(), &dir.join(name).to_string_lossy())
            })
    })
}

/// Refuses what the loader would refuse — a weight that is not finite, an index outside
/// the matrix, entries out of order or twice — naming the synapse by its 1-based row
/// (presynaptic) and column (postsynaptic), as the file and the loader's messages do.
/// (`mtx::write` checks the same, but in 0-based terms of its input.)
fn check_entries(
    path: &Path,
    pathway: &str,
    (rows, cols): (usize, usize),
    entries: &[Entry],
) -> Result<(), String> {
    let at = |pre: u32, post: u32| {
        format!(
            "{}: not written: pathway {pathway}: row {}, column {} (1-based)",
            path.display(),
            u64::from(pre) + 1,
            u64::from(post) + 1
        )
    };
    let mut prev: Option<(u32, u32)> = None;
    for &(pre, post, w) in entries {
        if pre as usize >= rows || post as usize >= cols {
            return Err(format!(
                "{}: outside the {rows}x{cols} matrix (rows 1..={rows}, columns 1..={cols})",
                at(pre, post)
            ));
        }
        if !w.is_finite() {
            return Err(format!(
                "{}: weight {w}: expected a finite number",
                at(pre, post)
            ));
        }
        if prev.is_some_and(|p| p >= (pre, post)) {
            return Err(format!(
                "{}: not after the entry before it: expected entries sorted by row, then \
                 column, each at most once",
                at(pre, post)
            ));
        }
        prev = Some((pre, post));
    }
    Ok(())
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
pub(crate) fn allowed(
    net: &Network,
    spec: &sim_core::ConnectionSpec,
) -> (RangeInclusive<f64>, &'static str) {
    let max = f32::MAX as f64;
    match (&spec.plasticity, &net.populations[spec.post].model) {
        (Some(Plasticity::Triplet(t)), _) => (
            0.0..=t.w_max,
            "a weight in [0, w_max] (triplet STDP, zenke25k: w_max = 1)",
        ),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_messages_are_one_based_like_the_loader() {
        let p = Path::new("w/ee.mtx");
        let e = check_entries(p, "EE", (3, 3), &[(0, 0, 1.0), (2, 1, f64::INFINITY)]).unwrap_err();
        assert!(
            e.contains("w/ee.mtx") && e.contains("row 3, column 2 (1-based)"),
            "{e}"
        );
        let e = check_entries(p, "EE", (3, 3), &[(1, 1, 1.0), (1, 0, 1.0)]).unwrap_err();
        assert!(e.contains("row 2, column 1") && e.contains("sorted"), "{e}");
        let e = check_entries(p, "EE", (3, 3), &[(3, 0, 1.0)]).unwrap_err();
        assert!(
            e.contains("row 4, column 1") && e.contains("rows 1..=3"),
            "{e}"
        );
        check_entries(p, "EE", (3, 3), &[(0, 0, 1.0), (0, 2, -0.5), (2, 2, 0.0)]).unwrap();
    }
}
