//! Property tests of the readers of user files (Matrix Market weights, `.npy` arrays,
//! JSON Lines records): on arbitrary bytes and on mutated valid files they never panic,
//! and the memory they allocate is bounded by the file's size (plus fixed buffers),
//! whatever sizes the file claims. Memory is measured by a counting allocator, per
//! thread, so tests running in parallel do not disturb each other.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::Path;

use proptest::prelude::*;

struct Counting;

thread_local! {
    static NOW: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let _ = NOW.try_with(|n| {
            n.set(n.get() + l.size());
            let _ = PEAK.try_with(|p| p.set(p.get().max(n.get())));
        });
        System.alloc(l)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, l: Layout) {
        let _ = NOW.try_with(|n| n.set(n.get().saturating_sub(l.size())));
        System.dealloc(ptr, l)
    }
    unsafe fn realloc(&self, ptr: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let _ = NOW.try_with(|n| {
            n.set(n.get().saturating_sub(l.size()) + new);
            let _ = PEAK.try_with(|p| p.set(p.get().max(n.get())));
        });
        System.realloc(ptr, l, new)
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The most bytes `f` had allocated at once beyond what was live before it.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = NOW.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f();
    (out, PEAK.with(Cell::get) - base)
}

/// Fixed buffers of the readers (the Matrix Market reader's 1 MiB line buffer, npyz's
/// and the records reader's smaller ones) and small bookkeeping.
const FIXED: usize = 3 << 20;

fn file(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Flips, inserts or deletes bytes at the given positions.
fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for &(at, op, b) in edits {
        if bytes.is_empty() {
            bytes.push(b);
            continue;
        }
        let i = at % bytes.len();
        match op % 3 {
            0 => bytes[i] = b,
            1 => bytes.insert(i, b),
            _ => {
                bytes.remove(i);
            }
        }
    }
    bytes
}

fn valid_mtx(entries: &[(u32, u32, f64)], nnz: u64) -> Vec<u8> {
    let mut t = format!(
        "%%MatrixMarket matrix coordinate real general\n% pathway EE\n100000 100000 {nnz}\n"
    );
    for (r, c, w) in entries {
        t.push_str(&format!("{} {} {w}\n", r % 50 + 1, c % 50 + 1));
    }
    t.into_bytes()
}

fn valid_npy(rows: u64, values: &[i64]) -> Vec<u8> {
    let mut h = format!("{{'descr': '<i8', 'fortran_order': False, 'shape': ({rows}, 2), }}");
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend((h.len() as u16).to_le_bytes());
    b.extend(h.as_bytes());
    for v in values {
        b.extend(v.to_le_bytes());
    }
    b
}

fn valid_records(n: usize) -> Vec<u8> {
    let mut t = String::new();
    for i in 0..n {
        t.push_str(
            &serde_json::json!({
                "schema": 1,
                "config": {"network": "va", "simtime_s": 1.0, "threads": i},
                "result": {"run": {"wall_s": 0.5}, "rtf": 0.5}
            })
            .to_string(),
        );
        t.push('\n');
    }
    t.into_bytes()
}

/// Every reader of every kind on one file: none may panic, all stay within memory.
fn read_all_kinds(bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let len = bytes.len();
    let mtx = file(dir.path(), "ee.mtx", bytes);
    let (_, peak) = peak_of(|| sim_core::mtx::read(&mtx));
    assert!(
        peak <= FIXED + 64 * len,
        "mtx read: {peak} bytes for a {len}-byte file"
    );
    let (_, peak) = peak_of(|| sim_core::mtx::read_expecting(&mtx, "EE", 100_000, 100_000));
    assert!(peak <= FIXED + 64 * len, "mtx read_expecting: {peak} bytes");
    let npy = file(dir.path(), "a.npy", bytes);
    let (_, peak) = peak_of(|| analysis::npy::read_2d(&npy));
    assert!(
        peak <= FIXED + 16 * len,
        "npy: {peak} bytes for a {len}-byte file"
    );
    let (_, peak) = peak_of(|| bench_suite::spikes::read_npy(&npy));
    assert!(peak <= FIXED + 32 * len, "spikes: {peak} bytes");
    let jsonl = file(dir.path(), "r.jsonl", bytes);
    let (out, peak) = peak_of(|| bench_suite::jsonl::read(&jsonl));
    assert!(
        peak <= FIXED + 64 * len,
        "jsonl: {peak} bytes for a {len}-byte file"
    );
    for w in &out.unwrap().warnings {
        assert!(w.len() < 600, "a warning quotes too much: {w}");
    }
    let (out, peak) = peak_of(|| analysis::records::read(&jsonl));
    assert!(peak <= FIXED + 64 * len, "records: {peak} bytes");
    for w in &out.unwrap().1 {
        assert!(w.message.len() < 600, "a warning quotes too much: {w}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        read_all_kinds(&bytes);
    }

    #[test]
    fn mutated_matrix_market(
        entries in proptest::collection::vec((any::<u32>(), any::<u32>(), -10.0f64..10.0), 0..40),
        // A lying count up to 10^10 (rows × cols): a reader that reserved it would fail.
        nnz in prop_oneof![Just(None), (0u64..10_000_000_000).prop_map(Some)],
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..6),
    ) {
        let bytes = valid_mtx(&entries, nnz.unwrap_or(entries.len() as u64));
        read_all_kinds(&mutate(bytes, &edits));
    }

    #[test]
    fn mutated_npy(
        rows in prop_oneof![Just(None), any::<u64>().prop_map(Some)],
        values in proptest::collection::vec(any::<i64>(), 0..40),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..6),
    ) {
        let even = &values[..values.len() / 2 * 2];
        let bytes = valid_npy(rows.unwrap_or(even.len() as u64 / 2), even);
        read_all_kinds(&mutate(bytes, &edits));
    }

    #[test]
    fn mutated_records(
        n in 0usize..6,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..6),
    ) {
        read_all_kinds(&mutate(valid_records(n), &edits));
    }
}

/// The properties can fail: a reader that trusted a lying size would exceed the bound.
#[test]
fn the_memory_bound_catches_an_eager_reservation() {
    let (_, peak) = peak_of(|| Vec::<u8>::with_capacity(FIXED + 64 * 100 + 1));
    assert!(peak > FIXED + 64 * 100);
}
