//! The study's networks and the `snn-bench` harness: running a network, writing its
//! results record, running the workstation suite and printing tables.

pub mod child;
pub mod conditions;
pub mod figures;
pub mod host;
pub mod jobs;
pub mod jobspec;
pub mod jsonl;
pub mod limits;
pub mod machine;
pub mod monitor;
pub mod networks;
pub mod npy;
pub mod outputs;
pub mod peer;
pub mod profile;
pub mod protocol;
pub mod record;
pub mod resume;
pub mod run;
pub mod spikes;
pub mod sweep;
pub mod table;
pub mod weights;
