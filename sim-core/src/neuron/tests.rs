//! Save and load of every model: a run split one way, saved, cut for another split and
//! restored, continues bit for bit as the uninterrupted run.

use std::ops::Range;

use super::checkpoint::{all_bits, cut, join, split};
use super::*;
use crate::model::{
    AmpaNmdaParams, Channel, CobaParams, DeltaParams, PoissonGenerator, PoissonParams,
};
use crate::state::{Array, StateError, Values};

const DT: f64 = 1e-4;
/// Not a multiple of 4, so that the Delta drive's blocks straddle partitions.
const POP_GID: usize = 10;
const N: usize = 50;
const BEFORE: u64 = 300;
const AFTER: u64 = 300;

type Parts<R> = Vec<(Range<usize>, Population<R>)>;
type Hook<'a, R> = &'a dyn Fn(u64, &mut Population<R>);

fn spec(model: NeuronModel, initial_v: InitialV) -> PopulationSpec {
    PopulationSpec {
        name: "P".into(),
        size: N,
        model,
        initial_v,
    }
}

fn build<R: Real>(spec: &PopulationSpec, cuts: &[usize]) -> Parts<R> {
    let rng = CounterRng::new(21);
    split(spec.size, cuts)
        .into_iter()
        .map(|r| {
            let p = Population::new(spec, DT, POP_GID, r.clone(), &rng);
            (r, p)
        })
        .collect()
}

/// Neuron i of the population gets an input at step t with probability 1/20.
fn kicked(i: usize, t: u64, salt: u32) -> bool {
    CounterRng::new(77).block(i as u32, salt, t)[0] < u32::MAX / 20
}

/// Steps `steps` with random excitatory and inhibitory inputs of sizes `kicks` (none
/// for sources); returns the spikes of each step (indices within the population).
fn advance<R: Real>(
    parts: &mut Parts<R>,
    steps: Range<u64>,
    kicks: Option<(f64, f64)>,
    hook: Hook<R>,
) -> Vec<Vec<usize>> {
    let mut spiked = Vec::new();
    steps
        .map(|t| {
            let mut all = Vec::new();
            for (r, pop) in parts.iter_mut() {
                hook(t, pop);
                if let Some((exc, inh)) = kicks {
                    for (k, i) in r.clone().enumerate() {
                        if kicked(i, t, 1) {
                            pop.input(Channel::Excitatory)[k] += R::of(exc);
                        }
                        if kicked(i, t, 2) {
                            pop.input(Channel::Inhibitory)[k] += R::of(inh);
                        }
                    }
                }
                spiked.clear();
                pop.evolve(&mut spiked);
                all.extend(spiked.iter().map(|&s| r.start + s as usize));
            }
            all
        })
        .collect()
}

fn save_all<R: Real>(parts: &Parts<R>) -> Vec<Array> {
    join(&parts.iter().map(|(_, p)| p.save()).collect::<Vec<_>>())
}

/// Runs BEFORE steps split at `before`, saves, restores split at `after`, runs AFTER
/// more; the spikes and the final state equal an uninterrupted run's, bit for bit.
/// Returns the number of spikes.
fn restore_continues_exactly<R: Real>(
    spec: &PopulationSpec,
    kicks: Option<(f64, f64)>,
    before: &[usize],
    after: &[usize],
    hook: Hook<R>,
) -> usize {
    let mut whole = build::<R>(spec, &[]);
    let expected = advance(&mut whole, 0..BEFORE + AFTER, kicks, hook);
    let mut first = build::<R>(spec, before);
    let mut got = advance(&mut first, 0..BEFORE, kicks, hook);
    let saved = save_all(&first);
    let fresh = save_all(&build::<R>(spec, &[]));
    assert_ne!(
        all_bits(&saved),
        all_bits(&fresh),
        "the run moved the state"
    );
    let mut second = build::<R>(spec, after);
    for (r, pop) in &mut second {
        let mut pieces = cut(&saved, r.clone(), 0..0);
        pop.load(&mut |name: &str| pieces.take(name)).unwrap();
        pieces.assert_all_taken();
    }
    got.extend(advance(&mut second, BEFORE..BEFORE + AFTER, kicks, hook));
    for (t, (a, b)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(a, b, "{before:?} → {after:?}: spikes of step {t}");
    }
    assert_eq!(
        all_bits(&save_all(&second)),
        all_bits(&save_all(&whole)),
        "{before:?} → {after:?}: final state"
    );
    expected.iter().map(Vec::len).sum()
}

/// Splits before → after: whole to three, two to whole, an empty partition to two.
const SPLITS: [(&[usize], &[usize]); 3] = [(&[], &[17, 33]), (&[20], &[]), (&[0, 25], &[49])];

fn each_split<R: Real>(spec: &PopulationSpec, kicks: Option<(f64, f64)>, min_spikes: usize) {
    for (before, after) in SPLITS {
        let spikes = restore_continues_exactly::<R>(spec, kicks, before, after, &|_, _| {});
        assert!(
            spikes >= min_spikes,
            "{spikes} spikes: the test drives spikes"
        );
    }
}

#[test]
fn coba_restores_onto_another_split() {
    let s = spec(
        NeuronModel::Coba(CobaParams::vogels_abbott()),
        InitialV::Uniform {
            lo: -60e-3,
            hi: -50e-3,
        },
    );
    each_split::<f32>(&s, Some((0.3, 0.2)), 100);
    each_split::<f64>(&s, Some((0.3, 0.2)), 100);
}

#[test]
fn ampa_nmda_restores_onto_another_split() {
    let s = spec(
        NeuronModel::AmpaNmda(AmpaNmdaParams::zenke2013(20e-3)),
        InitialV::Normal {
            mean: -60e-3,
            sd: 5e-3,
        },
    );
    each_split::<f32>(&s, Some((2.0, 1.0)), 100);
}

#[test]
fn delta_with_external_drive_restores_onto_another_split() {
    let s = spec(
        NeuronModel::Delta(DeltaParams::brunel(20_000.0, 0.1e-3)),
        InitialV::Uniform { lo: 0.0, hi: 20e-3 },
    );
    each_split::<f64>(&s, Some((0.5e-3, -1e-3)), 100);
}

#[test]
fn poisson_sources_restore_onto_another_split() {
    for generator in [PoissonGenerator::Lattice, PoissonGenerator::PerStep] {
        let s = spec(
            NeuronModel::Poisson(PoissonParams {
                rate: 40.0,
                generator,
            }),
            InitialV::Fixed(0.0),
        );
        each_split::<f32>(&s, None, 80);
    }
}

/// A rate change is the same in every partition, and a checkpoint after it keeps the
/// new rate (the restored run sets nothing at the checkpoint) and the restarted walk.
#[test]
fn poisson_rate_changes_are_partition_independent_and_saved() {
    for generator in [PoissonGenerator::Lattice, PoissonGenerator::PerStep] {
        let s = spec(
            NeuronModel::Poisson(PoissonParams {
                rate: 5.0,
                generator,
            }),
            InitialV::Fixed(0.0),
        );
        let hook = |t: u64, p: &mut Population<f64>| match t {
            100 => p.set_rate(300.0).unwrap(),
            450 => p.set_rate(0.0).unwrap(),
            500 => p.set_rate(100.0).unwrap(),
            _ => {}
        };
        for (before, after) in SPLITS {
            restore_continues_exactly::<f64>(&s, None, before, after, &hook);
        }
        // The rates take effect: 300 Hz over 350 steps × 50 neurons ≈ 525 spikes, none
        // at 0 Hz, and from step 100 on, not before (5 Hz: ≈ 2.5 spikes).
        let mut whole = build::<f64>(&s, &[]);
        let spikes = advance(&mut whole, 0..600, None, &hook);
        let count = |r: Range<usize>| spikes[r].iter().map(Vec::len).sum::<usize>();
        assert!(count(0..100) < 15, "{generator:?}: {}", count(0..100));
        assert!((400..650).contains(&count(100..450)), "{generator:?}");
        assert_eq!(count(450..500), 0, "{generator:?}");
        assert!(count(500..600) > 20, "{generator:?}");
        assert!(whole[0].1.set_rate(-1.0).is_err());
    }
}

/// A failed load names the array and changes nothing.
#[test]
fn load_errors_name_the_array_and_change_nothing() {
    let s = spec(
        NeuronModel::Delta(DeltaParams::brunel(20_000.0, 0.1e-3)),
        InitialV::Uniform { lo: 0.0, hi: 20e-3 },
    );
    let mut parts = build::<f64>(&s, &[20]);
    advance(&mut parts, 0..50, None, &|_, _| {});
    let saved = save_all(&parts);
    let (r, pop) = &mut parts[1];
    let before = all_bits(&pop.save());
    let mut attempt = |edit: &dyn Fn(&mut super::checkpoint::Pieces)| {
        let mut pieces = cut(&saved, r.clone(), 0..0);
        edit(&mut pieces);
        let e = pop.load(&mut |name: &str| pieces.take(name)).unwrap_err();
        assert_eq!(all_bits(&pop.save()), before, "{e}: nothing changed");
        e
    };
    let e = attempt(&|p| {
        p.0.remove("refractory");
    });
    assert_eq!(
        e,
        StateError::Missing {
            name: "refractory".into()
        }
    );
    let e = attempt(&|p| {
        p.0.insert("input".into(), Values::F64(vec![0.0; 31]));
    });
    assert!(
        matches!(&e, StateError::Length { name, expected: 30, found: 31 } if name == "input"),
        "{e}"
    );
    let e = attempt(&|p| {
        p.0.insert("v".into(), Values::F32(vec![0.0; 30]));
    });
    assert!(
        matches!(&e, StateError::Kind { name, expected: "<f8", found: "<f4" } if name == "v"),
        "{e}"
    );
    let e = attempt(&|p| {
        p.0.insert("step".into(), Values::U32(vec![50]));
    });
    assert!(e.to_string().contains("`step`"), "{e}");

    let s = spec(
        NeuronModel::Poisson(PoissonParams {
            rate: 5.0,
            generator: PoissonGenerator::Lattice,
        }),
        InitialV::Fixed(0.0),
    );
    let mut parts = build::<f32>(&s, &[]);
    let saved = save_all(&parts);
    for (name, bad, problem) in [
        ("walk", Values::U64(vec![9, 0, 4]), "stream 9"),
        ("walk", Values::U64(vec![2, 0, 2]), "block 0"),
        ("rate", Values::F64(vec![f64::NAN]), "NaN"),
    ] {
        let mut pieces = cut(&saved, 0..N, 0..0);
        pieces.0.insert(name.into(), bad);
        let e = parts[0].1.load(&mut |n: &str| pieces.take(n)).unwrap_err();
        assert!(
            matches!(&e, StateError::Invalid { name: n, problem: p } if n == name && p.contains(problem)),
            "{e}"
        );
    }
}
