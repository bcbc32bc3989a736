//! Test support: what the simulation does with components' arrays, joining the
//! partitions' pieces into whole arrays and cutting them for another partitioning,
//! following the declared layouts literally.

use std::collections::HashMap;
use std::ops::Range;

use crate::state::{Array, Layout, StateError, Values};

/// Contiguous ranges of `0..n` ending at each of `cuts` (ascending), then at `n`.
pub fn split(n: usize, cuts: &[usize]) -> Vec<Range<usize>> {
    let mut ends: Vec<usize> = cuts.to_vec();
    ends.push(n);
    let mut start = 0;
    ends.into_iter()
        .map(|end| {
            let r = start..end;
            start = end;
            r
        })
        .collect()
}

fn concat(pieces: &[&Values]) -> Values {
    macro_rules! cat {
        ($variant:ident) => {
            Values::$variant(
                pieces
                    .iter()
                    .flat_map(|v| match v {
                        Values::$variant(x) => x.iter().copied(),
                        other => panic!("mixed kinds: {}", other.kind()),
                    })
                    .collect(),
            )
        };
    }
    match pieces[0] {
        Values::F32(_) => cat!(F32),
        Values::F64(_) => cat!(F64),
        Values::U32(_) => cat!(U32),
        Values::U64(_) => cat!(U64),
    }
}

fn slice(v: &Values, r: Range<usize>) -> Values {
    match v {
        Values::F32(x) => Values::F32(x[r].to_vec()),
        Values::F64(x) => Values::F64(x[r].to_vec()),
        Values::U32(x) => Values::U32(x[r].to_vec()),
        Values::U64(x) => Values::U64(x[r].to_vec()),
    }
}

/// The values' bits, so that a comparison sees −0 ≠ 0 and NaN = NaN.
pub fn bits(v: &Values) -> (&'static str, Vec<u64>) {
    let b = match v {
        Values::F32(x) => x.iter().map(|y| y.to_bits() as u64).collect(),
        Values::F64(x) => x.iter().map(|y| y.to_bits()).collect(),
        Values::U32(x) => x.iter().map(|&y| y as u64).collect(),
        Values::U64(x) => x.clone(),
    };
    (v.kind(), b)
}

/// Whole arrays from every partition's pieces (in partition order). Asserts that all
/// pieces name the same arrays with the same layouts, and that Replicated pieces are
/// identical, as the layout claims.
pub fn join(pieces: &[Vec<Array>]) -> Vec<Array> {
    let first = &pieces[0];
    for p in pieces {
        let names = |a: &[Array]| a.iter().map(|x| (x.name, x.layout)).collect::<Vec<_>>();
        assert_eq!(names(p), names(first), "pieces name different arrays");
    }
    first
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let all: Vec<&Values> = pieces.iter().map(|p| &p[i].values).collect();
            let values = match a.layout {
                Layout::Replicated => {
                    for v in &all {
                        assert_eq!(bits(v), bits(all[0]), "`{}` differs by partition", a.name);
                    }
                    all[0].clone()
                }
                Layout::Neurons | Layout::Synapses => concat(&all),
            };
            Array {
                name: a.name,
                layout: a.layout,
                values,
            }
        })
        .collect()
}

/// One partition's pieces of whole arrays: `neurons` of Neurons arrays, `synapses` of
/// Synapses arrays.
pub fn cut(whole: &[Array], neurons: Range<usize>, synapses: Range<usize>) -> Pieces {
    Pieces(
        whole
            .iter()
            .map(|a| {
                let v = match a.layout {
                    Layout::Replicated => a.values.clone(),
                    Layout::Neurons => slice(&a.values, neurons.clone()),
                    Layout::Synapses => slice(&a.values, synapses.clone()),
                };
                (a.name.to_string(), v)
            })
            .collect(),
    )
}

/// A partition's pieces by name, handed out once each.
#[derive(Debug, Clone)]
pub struct Pieces(pub HashMap<String, Values>);

impl Pieces {
    pub fn take(&mut self, name: &str) -> Result<Values, StateError> {
        self.0
            .remove(name)
            .ok_or(StateError::Missing { name: name.into() })
    }

    /// Every piece was taken: a saved array that load ignores is a bug.
    pub fn assert_all_taken(&self) {
        assert!(self.0.is_empty(), "not loaded: {:?}", self.0.keys());
    }
}

/// Bits of every array, by name, for comparing two checkpoints exactly.
pub fn all_bits(arrays: &[Array]) -> Vec<(&'static str, Layout, &'static str, Vec<u64>)> {
    arrays
        .iter()
        .map(|a| {
            let (kind, b) = bits(&a.values);
            (a.name, a.layout, kind, b)
        })
        .collect()
}
