//! Arrays of synapse indices (local postsynaptic targets, presynaptic neurons) kept in
//! 16 bits where every value fits, else in 32.
//!
//! A partition's targets are indices into its own postsynaptic neurons, and those are
//! fewer than 65 536 in every network of the study; presynaptic indices are within
//! one population. zenke25k's 33.7 M synapses keep 67 MB of targets and 40 MB of
//! plastic presynaptic indices less this way (README, performance notes), and the hot
//! loops stream half the bytes. The loops are written once, generic over [`Local`],
//! and the array's width is matched once per call ([`with_indices!`]).

/// An index stored in an [`Indices`] array.
pub trait Local: Copy + Default + std::fmt::Debug + Send + Sync + 'static {
    /// The value (which fits: [`Indices::new`] chose the width by the largest).
    fn of(x: u32) -> Self;
    fn at(self) -> usize;
}

impl Local for u16 {
    #[inline(always)]
    fn of(x: u32) -> Self {
        x as u16
    }
    #[inline(always)]
    fn at(self) -> usize {
        self as usize
    }
}

impl Local for u32 {
    #[inline(always)]
    fn of(x: u32) -> Self {
        x
    }
    #[inline(always)]
    fn at(self) -> usize {
        self as usize
    }
}

/// Indices below a bound, in the narrowest width that holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Indices {
    Narrow(Vec<u16>),
    Wide(Vec<u32>),
}

/// Runs `$body` with `$t` bound to the array's slice of its own width (`&[u16]` or
/// `&[u32]`): the body is compiled once per width, so its loops know the element type.
#[macro_export]
macro_rules! with_indices {
    ($indices:expr, $t:ident => $body:expr) => {
        match $indices {
            $crate::index::Indices::Narrow($t) => $body,
            $crate::index::Indices::Wide($t) => $body,
        }
    };
}

impl Indices {
    /// `len` zeros for values below `bound`.
    pub fn new(len: usize, bound: usize) -> Self {
        if bound <= 1 << 16 {
            Indices::Narrow(vec![0; len])
        } else {
            Indices::Wide(vec![0; len])
        }
    }

    pub fn len(&self) -> usize {
        with_indices!(self, t => t.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    pub fn get(&self, k: usize) -> u32 {
        with_indices!(self, t => t[k].at() as u32)
    }

    /// Sets element `k` to `x` (below the bound given to [`Indices::new`]).
    #[inline]
    pub fn set(&mut self, k: usize, x: u32) {
        match self {
            Indices::Narrow(t) => {
                debug_assert!(x <= u16::MAX as u32);
                t[k] = x as u16
            }
            Indices::Wide(t) => t[k] = x,
        }
    }

    /// Every value, in order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.len()).map(|k| self.get(k))
    }

    /// The values as 32-bit indices (a checkpoint's array).
    pub fn to_u32(&self) -> Vec<u32> {
        self.iter().collect()
    }

    /// Bytes the values take.
    pub fn bytes(&self) -> usize {
        match self {
            Indices::Narrow(t) => 2 * t.len(),
            Indices::Wide(t) => 4 * t.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_width_is_the_narrowest_that_holds_the_bound() {
        assert!(matches!(Indices::new(3, 1 << 16), Indices::Narrow(_)));
        assert!(matches!(Indices::new(3, (1 << 16) + 1), Indices::Wide(_)));
        let mut n = Indices::new(3, 1 << 16);
        n.set(0, 65_535);
        n.set(2, 7);
        assert_eq!(n.to_u32(), [65_535, 0, 7]);
        assert_eq!(n.bytes(), 6);
        let mut w = Indices::new(2, 100_000);
        w.set(1, 99_999);
        assert_eq!((w.get(1), w.bytes(), w.len()), (99_999, 8, 2));
        let sum: usize = with_indices!(&w, t => t.iter().map(|x| x.at()).sum());
        assert_eq!(sum, 99_999);
    }
}
