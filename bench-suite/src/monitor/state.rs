//! State monitors (`--monitor state:VAR:WHAT:EVERY`): the simulation samples the
//! variable of the neurons watched every EVERY from the run's first step (see
//! `sim_core::monitor::StateProbe`) and hands each window's rows, already in id order
//! and gathered from every partition and rank, to the sink here, which batches them to
//! the monitor's writer (the spike monitors' writer: `.partial`, header completed at
//! the end, rename).

use std::path::Path;
use std::sync::mpsc::SyncSender;

use sim_core::monitor::{StateProbe, StateSink};
use sim_core::Network;

use super::stream::{Descr, Layout};
use super::{start_writer, MonitorSpec, Writer, BATCH};

/// The probes of the state monitors among `specs`, sampling from step `first`: every
/// rank sets them (each samples its own neurons), rank 0 alone gets the sink.
pub fn probes(specs: &[MonitorSpec], net: &Network, first: u64) -> Result<Vec<StateProbe>, String> {
    (specs.iter())
        .filter_map(|s| Some((s, s.variable.as_ref()?)))
        .map(|(s, var)| {
            Ok(StateProbe {
                variable: var.clone(),
                neurons: s.ids(net)?,
                first,
                every: s
                    .bin_steps(net.dt)?
                    .expect("a state monitor has an interval"),
            })
        })
        .collect()
}

/// One state monitor's batch of rows on its way to the writer.
struct Feed {
    batch: Vec<u8>,
    rows: u64,
    /// Bytes of a full batch (about as many as a spike monitor's).
    full: usize,
    tx: SyncSender<(Vec<u8>, u64)>,
}

impl Feed {
    fn send(&mut self) {
        if self.rows > 0 {
            let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(self.full));
            // A writer that failed has hung up: its error comes at the end.
            let _ = self.tx.send((batch, std::mem::take(&mut self.rows)));
        }
    }
}

/// The sink of every state monitor of a run, in the order of [`probes`].
struct Fanout {
    to: Vec<Feed>,
}

impl StateSink for Fanout {
    fn samples(&mut self, probe: usize, steps: &[u64], values: &[f64]) {
        let f = &mut self.to[probe];
        for v in values {
            f.batch.extend_from_slice(&v.to_le_bytes());
        }
        f.rows += steps.len() as u64;
        if f.batch.len() >= f.full {
            f.send();
        }
    }
}

impl Drop for Fanout {
    /// The end of the run (the simulation dropped its sink): the last rows go out.
    fn drop(&mut self) {
        for f in &mut self.to {
            f.send();
        }
    }
}

/// Starts a writer per state monitor among `specs` (adding them to `writers`) and
/// returns their sink, or None if there are none.
pub(super) fn start(
    specs: &[MonitorSpec],
    dir: &Path,
    net: &Network,
    force: bool,
    writers: &mut Vec<Writer>,
) -> Result<Option<Box<dyn StateSink>>, String> {
    let mut to = Vec::new();
    for s in specs.iter().filter(|s| s.variable.is_some()) {
        let n = s.ids(net)?.len() as u32;
        let (tx, writer) = start_writer(s, dir, Layout::matrix(Descr::F8, n as u64), force)?;
        writers.push(writer);
        // At least one row a batch, about as many bytes as a spike monitor's batch.
        let full = (BATCH * 16).max(8 * n as usize);
        to.push(Feed {
            batch: Vec::with_capacity(full),
            rows: 0,
            full,
            tx,
        });
    }
    Ok((!to.is_empty()).then(|| Box::new(Fanout { to }) as Box<dyn StateSink>))
}
