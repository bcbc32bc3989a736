//! A partition's state as named arrays laid out independently of how the network is
//! partitioned, so that a checkpoint taken on P partitions restores onto Q (any thread
//! or rank count), and so that a user can read it without snn-limits.
//!
//! Each component (a population's slice, a connection onto a partition's neurons)
//! lists its arrays with [`Layout`]s; the simulation joins the partitions' pieces into
//! whole arrays to save, and cuts whole arrays into the new partitions' pieces to
//! restore. A component that restores its arrays must continue bit for bit as if it
//! had never stopped, whatever the partitioning before and after.

use crate::real::{Precision, Real};

/// The values of one array. Floating-point state keeps the run's precision (an f32
/// run's weights are stored as f32: exact, and half the size).
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    F32(Vec<f32>),
    F64(Vec<f64>),
    U32(Vec<u32>),
    U64(Vec<u64>),
}

/// How the partitions' pieces of an array make the whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// One value per owned neuron of a population: the whole array is the pieces
    /// concatenated in partition order (partitions own consecutive neurons).
    Neurons,
    /// One value per synapse of a connection onto the owned postsynaptic neurons,
    /// ordered by (post, pre) (synapses between the same pair in the order they were
    /// built): the whole array is the pieces concatenated in partition order.
    Synapses,
    /// The same values in every partition (each keeps its own copy, e.g. presynaptic
    /// traces, a Poisson lattice walk, a parameter in force): the whole array is any
    /// partition's piece.
    Replicated,
}

/// One named array of a component (names are unique within the component).
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    pub name: &'static str,
    pub layout: Layout,
    pub values: Values,
}

/// Why a component could not take a piece of state.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StateError {
    #[error("array `{name}` is missing")]
    Missing { name: String },
    #[error("array `{name}` has {found} values, expected {expected}")]
    Length {
        name: String,
        expected: usize,
        found: usize,
    },
    #[error("array `{name}` holds {found} values, expected {expected}")]
    Kind {
        name: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("array `{name}`: {problem}")]
    Invalid { name: String, problem: String },
}

/// Where a component finds its pieces when restoring: `take(name)` returns this
/// partition's piece of the component's array `name` (already cut for this partition
/// according to the layout the component declared when saving), or an error.
pub type Source<'a> = dyn FnMut(&str) -> Result<Values, StateError> + 'a;

impl Values {
    pub fn len(&self) -> usize {
        match self {
            Values::F32(v) => v.len(),
            Values::F64(v) => v.len(),
            Values::U32(v) => v.len(),
            Values::U64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element type's name as NumPy spells it (`<f4`, `<f8`, `<u4`, `<u8`).
    pub fn kind(&self) -> &'static str {
        match self {
            Values::F32(_) => "<f4",
            Values::F64(_) => "<f8",
            Values::U32(_) => "<u4",
            Values::U64(_) => "<u8",
        }
    }

    /// Floating-point state in the run's precision.
    pub fn of_reals<R: Real>(xs: &[R]) -> Values {
        if R::PRECISION == Precision::F32 {
            Values::F32(xs.iter().map(|x| x.to_f64() as f32).collect())
        } else {
            Values::F64(xs.iter().map(|x| x.to_f64()).collect())
        }
    }

    /// Back to the run's precision; an array of the other precision (or not a float)
    /// is refused, never converted.
    pub fn into_reals<R: Real>(self, name: &str) -> Result<Vec<R>, StateError> {
        match (self, R::PRECISION) {
            (Values::F32(v), Precision::F32) => {
                Ok(v.into_iter().map(|x| R::of(x as f64)).collect())
            }
            (Values::F64(v), Precision::F64) => Ok(v.into_iter().map(R::of).collect()),
            (other, _) => Err(StateError::Kind {
                name: name.into(),
                expected: if R::PRECISION == Precision::F32 {
                    "<f4"
                } else {
                    "<f8"
                },
                found: other.kind(),
            }),
        }
    }

    pub fn into_u64(self, name: &str) -> Result<Vec<u64>, StateError> {
        match self {
            Values::U64(v) => Ok(v),
            other => Err(StateError::Kind {
                name: name.into(),
                expected: "<u8",
                found: other.kind(),
            }),
        }
    }

    pub fn into_u32(self, name: &str) -> Result<Vec<u32>, StateError> {
        match self {
            Values::U32(v) => Ok(v),
            other => Err(StateError::Kind {
                name: name.into(),
                expected: "<u4",
                found: other.kind(),
            }),
        }
    }
}

/// Takes `name` from `source` and checks its length.
pub fn take_exact(source: &mut Source, name: &str, len: usize) -> Result<Values, StateError> {
    let v = source(name)?;
    if v.len() != len {
        return Err(StateError::Length {
            name: name.into(),
            expected: len,
            found: v.len(),
        });
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reals_keep_their_precision_and_the_other_is_refused() {
        let xs = [0.1f32, -3.5e-7, f32::MIN_POSITIVE];
        let v = Values::of_reals(&xs);
        assert_eq!(v.kind(), "<f4");
        assert_eq!(v.clone().into_reals::<f32>("w").unwrap(), xs);
        let e = v.into_reals::<f64>("w").unwrap_err();
        assert!(
            e.to_string().contains("`w`") && e.to_string().contains("<f8"),
            "{e}"
        );
        let ys = [0.1f64, 1e-300];
        assert_eq!(Values::of_reals(&ys).into_reals::<f64>("v").unwrap(), ys);
    }
}
