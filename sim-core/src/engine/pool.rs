//! The pooled scheduler: the threads of one process step the partitions, each
//! partition's next exchange window taken by whichever thread is free.
//!
//! Why not one thread per partition in lockstep: on a busy machine (a compile, another
//! simulation on a 2-core workstation) the operating system deschedules one of the
//! threads for milliseconds at a time, and at every exchange the others wait for it.
//! Parking the waiters instead of spinning (see [`crate::barrier`]) gives the late
//! thread a core, but the threads still take turns on it: with one external busy loop
//! on 2 cores, va on 2 parking threads took 1.55× the time of 1 thread. Here a thread
//! that has nothing left to do in a window does not wait for a *thread*, only for the
//! *partitions* of the window that are still being stepped: a descheduled thread that
//! holds no partition holds nobody up, and the one that runs takes the next window's
//! partitions itself. The work of a descheduled thread moves.
//!
//! A window is the steps between two exchanges (`min_delay` of them, aligned to
//! multiples of `min_delay` as in [`Worker::step`]). A partition's window is: end the
//! block of the previous exchange, advance its steps reading the process's spike
//! history, publish its spikes into its slot. The thread that completes a window takes
//! every slot into the history (one history per process, not per partition: see
//! [`super::history`]) and opens the next. In an open window a thread claims first the
//! partitions it is home to (partition `p` is thread `p mod active`'s), then any other
//! that is still unclaimed: on a quiet machine every partition stays with its thread and
//! in that core's caches (claiming in ticket order instead, whichever thread came first,
//! moved the partitions between the cores every window and made va on 2 threads 1.28×
//! slower: README, performance notes), while a late or descheduled thread's partitions
//! are taken by the one that runs. Spikes are bit-identical to lockstep and to any thread
//! count: each partition's state is only ever stepped by one thread at a time, in step
//! order, and the history holds each step's spikes sorted, as in lockstep.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

use super::history::History;
use super::{phases, Observer, Outcome, PartitionState, Worker, BARRIER, SYNC};
use crate::barrier::{Gate, WaitPolicy};
use crate::comm::{Communicator, Spike};
use crate::contention::LoadProbe;
use crate::health::ALARM;
use crate::model::Network;
use crate::monitor::{SpikeSink, StateProbe, StateSink};
use crate::partition::Partition;
use crate::real::Real;
use crate::timers::Clock;
use crate::timers::PhaseTimes;

/// How many windows a run of `steps` steps from `start` has (exchanges every `d`).
pub(crate) fn window_count(start: u64, steps: u64, d: u64) -> u64 {
    windows(start, start + steps, d, true).len() as u64
}

/// The steps `start..end` of one window, and whether an exchange ends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    start: u64,
    end: u64,
    exchange: bool,
}

/// The windows of the steps `start..end`: exchanges at multiples of `d`, and at `end`
/// if `flush` (the end of a run, whose spikes must all be gathered).
fn windows(start: u64, end: u64, d: u64, flush: bool) -> Vec<Window> {
    let mut out = Vec::new();
    let mut s = start;
    while s < end {
        let next = ((s / d) + 1) * d;
        let e = next.min(end);
        let exchange = e % d == 0 || (flush && e == end);
        out.push(Window {
            start: s,
            end: e,
            exchange,
        });
        s = e;
    }
    out
}

/// A partition and whether an exchange waits to be taken in by it.
struct Part<R: Real, K: Clock> {
    worker: Worker<R, K>,
    /// An exchange is in the history that this partition has not counted yet.
    pending: bool,
    /// Whether that exchange was one of the NaN/inf watch's checks.
    checked: bool,
    /// This partition's share of each state probe, with its samples of the window.
    pieces: Vec<Piece>,
}

/// The neurons of one population that a partition holds of a state probe: local
/// indices `local` of population `pop`, global ids from `first_gid`, and the values
/// sampled in this window (samples × neurons).
struct Piece {
    probe: usize,
    pop: usize,
    /// The postsynaptic trace of this connection (onto `pop`) rather than a variable
    /// of the population.
    conn: Option<usize>,
    local: std::ops::Range<usize>,
    first_gid: u32,
    variable: &'static str,
    values: Vec<f64>,
}

impl Piece {
    /// Appends the values at the start of step `step` if its probe samples then.
    #[inline]
    fn sample<R: Real>(&mut self, probes: &[StateProbe], st: &PartitionState<R>, step: u64) {
        if probes[self.probe].due(step) {
            let x = match self.conn {
                None => st.populations[self.pop].variable(self.variable),
                Some(c) => st.connections[c].post_trace(self.variable),
            };
            let x = x.expect("a checked variable");
            (self.values).extend(x[self.local.clone()].iter().map(|v| v.to_f64()));
        }
    }
}

pub(crate) struct Pool<R: Real, K: Clock> {
    parts: Vec<Mutex<Option<Part<R, K>>>>,
    /// Each partition's spikes of its last block, published at the end of a window
    /// with an exchange and taken into the history by the thread that completes it
    /// (before the next window opens, so a slot is never written while it is read).
    slots: Vec<Mutex<Vec<Spike>>>,
    /// The process's spike history, read by every partition during a window, written
    /// (taking in an exchange) only by the thread that completes a window, while no
    /// partition steps (see [`super::history`]).
    history: RwLock<History>,
    /// Spikes of the last exchange, network-wide.
    last_exchange: AtomicU64,
    /// Windows completed since the pool was made.
    gate: Gate,
    /// (window, partition) pairs of the current segment claimed, and finished.
    taken: AtomicU64,
    finished: AtomicU64,
    /// Per partition: the windows of the current segment claimed for it (window `w` is
    /// claimed by moving it from `w` to `w + 1`).
    claimed: Vec<AtomicU64>,
    /// Spikes exchanged so far (for progress reports).
    exchanged: AtomicU64,
    /// Ticks each thread spent waiting for windows to complete.
    waited: Vec<AtomicU64>,
    /// Ticks of each thread's work on any partition: per-phase samples (as a worker's
    /// `ticks`) and the exact compute time, for the threads' phase times.
    work: Vec<Mutex<([u64; 5], u64)>>,
    clock: K,
    /// The exchange between processes, called by the thread that completes a window.
    comm: Arc<dyn Communicator>,
    /// The process's spikes of the window and every rank's (the exchange's buffers).
    gathered: Mutex<(Vec<Spike>, Vec<Spike>)>,
    /// Where the spikes of each exchange stream to (rank 0), with its sorting buffer.
    sink: Mutex<Streaming>,
    /// The state probes (every rank's the same) and where their samples go (rank 0).
    probes: Vec<StateProbe>,
    state_sink: Mutex<Option<Box<dyn StateSink>>>,
    /// Scratch of [`Pool::take_samples`].
    sampled: Mutex<Sampled>,
    /// Call the observer's `progress` about every this many steps (0: never).
    progress_every: u64,
    /// Windows completed since the pool was made.
    windows_done: u64,
    /// Threads that may take work now (thread t works while t < active; see
    /// [`crate::contention`]); the others sleep on `rejoin`.
    active: AtomicUsize,
    retired: Mutex<()>,
    rejoin: Condvar,
    /// Sum over completed windows of `active` (for the mean in the record).
    active_windows: AtomicU64,
    probe: Mutex<LoadProbe>,
    /// A partition found a NaN or infinite state: no window starts after the exchange
    /// that told everyone (see [`crate::health`]).
    stop: std::sync::atomic::AtomicBool,
}

/// The buffers a window's samples are joined in: each piece's (probe, first id, start
/// in `values`, value count), their values, a probe's sampling steps and its rows.
#[derive(Default)]
struct Sampled {
    pieces: Vec<(usize, u32, usize, usize)>,
    values: Vec<f64>,
    steps: Vec<u64>,
    rows: Vec<f64>,
}

/// A spike sink, if any, and the buffer the window's spikes are sorted in for it.
type Streaming = (Option<Box<dyn SpikeSink>>, Vec<Spike>);

/// How often thread 0 samples the machine's load.
const PROBE_EVERY: Duration = Duration::from_millis(1);

impl<R: Real, K: Clock> Pool<R, K> {
    fn part(&self, p: usize) -> std::sync::MutexGuard<'_, Option<Part<R, K>>> {
        self.parts[p].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes in, for partition `part`, the exchange already in the history: ends its
    /// block (its own spikes recorded, counts), and a checked exchange's alarm.
    fn ingest(&self, part: &mut Part<R, K>) {
        if std::mem::take(&mut part.pending) {
            let w = &mut part.worker;
            let t0 = w.clock.now();
            w.end_exchange(self.last_exchange.load(Ordering::Acquire) as usize);
            if std::mem::take(&mut part.checked) {
                w.watch.stop |= self.stop.load(Ordering::Acquire);
            }
            let t1 = w.clock.now();
            w.counters.ticks[SYNC] += t1 - t0;
        }
    }

    /// Exchanges the spikes in the slots (this process's partitions', of the block up
    /// to step `upto`) with the other ranks and takes every rank's into the history;
    /// returns how many there were and whether one of them is an alarm. Called by the
    /// thread that completed the window.
    fn take_in(&self, upto: u64) -> (usize, bool) {
        let mut guard = self.gathered.lock().unwrap_or_else(|e| e.into_inner());
        let (local, buf) = &mut *guard;
        local.clear();
        for slot in &self.slots {
            local.extend_from_slice(&slot.lock().unwrap_or_else(|e| e.into_inner()));
        }
        let all = self.comm.allgather(local, buf);
        let alarm = all.iter().any(|sp| sp.gid == ALARM);
        {
            let mut sink = self.sink.lock().unwrap_or_else(|e| e.into_inner());
            let (sink, sorted) = &mut *sink;
            if let Some(sink) = sink {
                sorted.clear();
                sorted.extend(all.iter().filter(|sp| sp.gid != ALARM));
                sorted.sort_unstable();
                sink.window(upto, sorted);
            }
        }
        self.history
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .take_in(all.iter(), upto);
        self.last_exchange
            .store(all.len() as u64, Ordering::Release);
        (all.len(), alarm)
    }

    /// Runs the windows `wins` on every partition, as thread `thread`. `base`: windows
    /// completed before.
    fn segment(
        &self,
        thread: usize,
        wins: &[Window],
        base: u64,
        observer: &dyn Observer,
        run_start: u64,
    ) {
        let p_count = self.parts.len() as u64;
        let total = wins.len() as u64 * p_count;
        let mut beats = 0u64;
        let mut last_probe = Instant::now();
        let mut work = ([0u64; 5], 0u64);
        // This thread's own copy of the history (see `step_window`).
        let mut own = self
            .history
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        loop {
            if self.taken.load(Ordering::Acquire) >= total || self.stop.load(Ordering::Acquire) {
                break;
            }
            let active = self.active.load(Ordering::Acquire);
            if thread >= active {
                self.sleep_while_retired(thread, total);
                continue;
            }
            if thread == 0 && last_probe.elapsed() >= PROBE_EVERY {
                last_probe = Instant::now();
                self.adapt();
            }
            // The open window: every earlier one is complete (the gate counts them).
            let w = self.gate.get() - base;
            if w >= wins.len() as u64 {
                break;
            }
            let Some(p) = self.claim(thread, active, w) else {
                // Every partition of window w is taken: wait for the window to complete.
                let t0 = self.clock.now();
                self.gate.wait_for(base + w + 1);
                let t1 = self.clock.now();
                self.waited[thread].fetch_add(t1 - t0, Ordering::Relaxed);
                continue;
            };
            self.taken.fetch_add(1, Ordering::AcqRel);
            // A stop set by the exchange that opened this window (before the gate
            // moved, so it is seen here): step nothing more.
            if self.stop.load(Ordering::Acquire) {
                break;
            }
            let win = wins[w as usize];
            self.step_window(thread, p, win, &mut beats, &mut work, Some(&mut own));
            if self.finished.fetch_add(1, Ordering::AcqRel) + 1 == (w + 1) * p_count {
                // The last partition of window w: open window w + 1.
                self.close_window(win, observer, run_start, &mut work.0);
                self.gate.advance();
                if w + 1 == wins.len() as u64 || self.stop.load(Ordering::Acquire) {
                    // The segment is over: retired threads must leave it too.
                    let _g = self.retired.lock().unwrap_or_else(|e| e.into_inner());
                    self.rejoin.notify_all();
                }
            }
        }
        self.add_work(thread, work);
    }

    /// Claims a partition of the open window `w` for `thread` (one of `active`): one
    /// it is home to if any is unclaimed, else any unclaimed one; None if all are taken.
    fn claim(&self, thread: usize, active: usize, w: u64) -> Option<usize> {
        let n = self.parts.len();
        let home = (thread..n).step_by(active.max(1));
        let away = (0..n).filter(|p| p % active.max(1) != thread);
        home.chain(away).find(|&p| {
            self.claimed[p]
                .compare_exchange(w, w + 1, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        })
    }

    /// As [`Pool::segment`] for a pool of one thread: the same windows in the same
    /// order, without claims, gate or load probe (one thread has no one to share with:
    /// measured, the ticket machinery cost va 2–3 % on one thread).
    fn segment_alone(&self, wins: &[Window], observer: &dyn Observer, run_start: u64) {
        let mut beats = 0u64;
        let mut work = ([0u64; 5], 0u64);
        for &win in wins {
            for p in 0..self.parts.len() {
                self.step_window(0, p, win, &mut beats, &mut work, None);
            }
            self.close_window(win, observer, run_start, &mut work.0);
            self.gate.advance();
            if self.stop.load(Ordering::Acquire) {
                break;
            }
        }
        self.add_work(0, work);
    }

    /// Partition `p`'s part of window `win`, by thread `thread`: take in the last
    /// exchange, advance, publish its spikes if an exchange ends the window. Adds its
    /// phase ticks and compute ticks to `work`.
    ///
    /// `own`: the thread's own copy of the history, brought level with the process's
    /// before the window and read instead of it (None: read the process's, one thread).
    /// Every step's propagate reads the history; reading the lines the thread that
    /// closed the window wrote, in the other core's cache, made propagate on 2 threads
    /// 25 % slower than with a copy per thread (va; README, performance notes),
    /// while copying a window's new steps up front is a few cache lines in one go.
    fn step_window(
        &self,
        thread: usize,
        p: usize,
        win: Window,
        beats: &mut u64,
        work: &mut ([u64; 5], u64),
        own: Option<&mut History>,
    ) {
        let mut guard = self.part(p);
        let part = guard.as_mut().expect("partitions are built");
        let (ticks0, compute0) = (
            part.worker.counters.ticks,
            part.worker.counters.compute_ticks,
        );
        self.ingest(part);
        let Part { worker, pieces, .. } = part;
        worker.block_t0 = worker.clock.now();
        let shared;
        let history: &History = match own {
            Some(own) => {
                own.refresh_from(&self.history.read().unwrap_or_else(|e| e.into_inner()));
                own
            }
            None => {
                shared = self.history.read().unwrap_or_else(|e| e.into_inner());
                &shared
            }
        };
        for step in win.start..win.end {
            for piece in pieces.iter_mut() {
                piece.sample(&self.probes, &worker.state, step);
            }
            worker.advance_reading(history);
            *beats += 1;
            self.gate.beat(thread, *beats);
        }
        debug_assert_eq!(worker.state.step, win.end);
        if win.exchange {
            // The NaN/inf watch checks at exchanges every min-delay steps (not at the
            // flush of a partial last window), as in `Worker::step`.
            part.checked = win.end % worker.state.min_delay == 0
                && worker.watch.before_exchange(
                    &worker.state.populations,
                    win.end,
                    &mut worker.emitted,
                );
            worker.end_block();
            let mut slot = self.slots[p].lock().unwrap_or_else(|e| e.into_inner());
            slot.clear();
            slot.extend_from_slice(&worker.emitted);
            part.pending = true;
        }
        for (k, t) in work.0.iter_mut().enumerate() {
            *t += part.worker.counters.ticks[k] - ticks0[k];
        }
        work.1 += part.worker.counters.compute_ticks - compute0;
    }

    /// Window `win` is complete on every partition: takes its exchange into the
    /// history (its time is `sync` in `ticks`), raises the stop on an alarm, reports
    /// progress. The caller then opens the next window.
    fn close_window(
        &self,
        win: Window,
        observer: &dyn Observer,
        run_start: u64,
        ticks: &mut [u64; 5],
    ) {
        if !self.probes.is_empty() {
            let t0 = self.clock.now();
            self.take_samples(win);
            ticks[SYNC] += self.clock.now() - t0;
        }
        if win.exchange {
            let t0 = self.clock.now();
            let (n, alarm) = self.take_in(win.end);
            // An alarm (a partition found a NaN or infinite state) stops every
            // partition after this exchange, as in lockstep.
            if alarm {
                self.stop.store(true, Ordering::Release);
            }
            ticks[SYNC] += self.clock.now() - t0;
            let before = self.exchanged.fetch_add(n as u64, Ordering::Relaxed);
            let every = self.progress_every;
            if every > 0 && win.end > run_start && self.comm.rank() == 0 {
                let done = win.end - run_start;
                let prev = win.start.max(run_start) - run_start;
                if done / every > prev / every {
                    observer.progress(done, before + n as u64);
                }
            }
        }
        self.active_windows.fetch_add(
            self.active.load(Ordering::Relaxed) as u64,
            Ordering::Relaxed,
        );
    }

    /// Joins the samples of window `win` of every partition (and rank, at rank 0) into
    /// rows in id order and hands them to the state sink. Called by the thread that
    /// completed the window (every rank's, so the gather between ranks is collective:
    /// every rank has the same windows and probes, so all skip the same windows).
    fn take_samples(&self, win: Window) {
        if !(self.probes.iter()).any(|probe| (win.start..win.end).any(|s| probe.due(s))) {
            return;
        }
        let mut guard = self.sampled.lock().unwrap_or_else(|e| e.into_inner());
        let Sampled {
            pieces,
            values,
            steps,
            rows,
        } = &mut *guard;
        pieces.clear();
        values.clear();
        // Copied out, so that each piece keeps its buffer's capacity (no allocation
        // per piece and window).
        for p in 0..self.parts.len() {
            let mut guard = self.part(p);
            let part = guard.as_mut().expect("partitions are built");
            for pc in &mut part.pieces {
                pieces.push((pc.probe, pc.first_gid, values.len(), pc.values.len()));
                values.extend_from_slice(&pc.values);
                pc.values.clear();
            }
        }
        if self.comm.size() > 1 {
            match self.comm.gather_bytes(&encode_pieces(pieces, values)) {
                Some(all) => {
                    pieces.clear();
                    values.clear();
                    for b in &all {
                        decode_pieces(b, pieces, values);
                    }
                }
                None => return, // this rank's samples went to rank 0
            }
        }
        let mut sink = self.state_sink.lock().unwrap_or_else(|e| e.into_inner());
        let Some(sink) = sink.as_mut() else {
            return;
        };
        pieces.sort_unstable_by_key(|&(probe, first, _, _)| (probe, first));
        for (k, probe) in self.probes.iter().enumerate() {
            steps.clear();
            steps.extend((win.start..win.end).filter(|&s| probe.due(s)));
            if steps.is_empty() {
                continue;
            }
            rows.clear();
            let mine = pieces.iter().filter(|pc| pc.0 == k);
            for i in 0..steps.len() {
                for &(_, _, start, len) in mine.clone() {
                    let n = len / steps.len();
                    rows.extend_from_slice(&values[start + i * n..start + (i + 1) * n]);
                }
            }
            sink.samples(k, steps, rows);
        }
    }

    fn add_work(&self, thread: usize, (ticks, compute): ([u64; 5], u64)) {
        let mut w = self.work[thread].lock().unwrap_or_else(|e| e.into_inner());
        for (k, t) in ticks.iter().enumerate() {
            w.0[k] += t;
        }
        w.1 += compute;
    }

    /// Sets the number of working threads to what fits beside the machine's other
    /// runnable threads (thread 0, about every [`PROBE_EVERY`]).
    fn adapt(&self) {
        let threads = self.waited.len();
        let active = self.active.load(Ordering::Relaxed);
        let fit = self
            .probe
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .fit(active, threads);
        if fit != active {
            self.active.store(fit, Ordering::Release);
            if fit > active {
                let _g = self.retired.lock().unwrap_or_else(|e| e.into_inner());
                self.rejoin.notify_all();
            }
        }
    }

    /// Sleeps until thread `thread` may work again or the segment's `total` (window,
    /// partition) pairs are taken.
    fn sleep_while_retired(&self, thread: usize, total: u64) {
        let mut g = self.retired.lock().unwrap_or_else(|e| e.into_inner());
        while thread >= self.active.load(Ordering::Acquire)
            && self.taken.load(Ordering::Acquire) < total
            && !self.stop.load(Ordering::Acquire)
        {
            if self.gate.is_poisoned() {
                panic!("another worker panicked; abandoning the run");
            }
            // The timeout only bounds how late a poisoning is noticed.
            g = self
                .rejoin
                .wait_timeout(g, Duration::from_millis(10))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// The end of a segment (every thread has left it): takes in, for every
    /// partition, the exchange that ended it, and rewinds the claims.
    fn settle(&mut self) {
        for p in 0..self.parts.len() {
            let mut guard = self.part(p);
            let part = guard.as_mut().expect("partitions are built");
            self.ingest(part);
            part.worker.block_t0 = part.worker.clock.now();
        }
        self.taken.store(0, Ordering::Release);
        self.finished.store(0, Ordering::Release);
        for c in &self.claimed {
            c.store(0, Ordering::Release);
        }
    }
}

impl<R: Real, K: Clock> Pool<R, K> {
    /// Builds `mine`, this rank's partitions of `net` (at least one per thread), to be
    /// stepped by `threads` threads. Each thread builds its share of the partitions, in
    /// parallel, and in the memory nearest to the thread that builds it.
    pub(crate) fn build(
        net: &Network,
        threads: usize,
        mine: &[Partition],
        clock: K,
        record_spikes: bool,
        comm: Arc<dyn Communicator>,
    ) -> Self {
        let p_count = mine.len();
        debug_assert!(p_count >= threads);
        let busy = threads * comm.local_ranks();
        let pool = Pool::<R, K> {
            parts: (0..p_count).map(|_| Mutex::new(None)).collect(),
            slots: (0..p_count).map(|_| Mutex::new(Vec::new())).collect(),
            history: RwLock::new(History::new(
                net.max_delay_steps().expect("validated network")
                    + net.min_delay_steps().expect("validated network"),
                net.populations.iter().map(|p| p.size),
            )),
            last_exchange: AtomicU64::new(0),
            gate: Gate::new(threads, WaitPolicy::for_cores(busy)),
            taken: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            claimed: (0..p_count).map(|_| AtomicU64::new(0)).collect(),
            exchanged: AtomicU64::new(0),
            waited: (0..threads).map(|_| AtomicU64::new(0)).collect(),
            work: (0..threads).map(|_| Mutex::new(([0; 5], 0))).collect(),
            clock: clock.clone(),
            comm,
            gathered: Mutex::new((Vec::new(), Vec::new())),
            sink: Mutex::new((None, Vec::new())),
            probes: Vec::new(),
            state_sink: Mutex::new(None),
            sampled: Mutex::new(Sampled::default()),
            progress_every: 0,
            windows_done: 0,
            active: AtomicUsize::new(threads),
            retired: Mutex::new(()),
            rejoin: Condvar::new(),
            active_windows: AtomicU64::new(0),
            probe: Mutex::new(LoadProbe::new()),
            stop: std::sync::atomic::AtomicBool::new(false),
        };
        pool.on_threads(|thread| {
            for p in (thread..p_count).step_by(threads) {
                let worker =
                    Worker::with_partition(net, mine[p].clone(), clock.clone(), record_spikes);
                *pool.part(p) = Some(Part {
                    worker,
                    pending: false,
                    checked: false,
                    pieces: Vec::new(),
                });
            }
        });
        let mut pool = pool;
        pool.settle();
        pool
    }

    /// Runs `body(t)` for every thread t of the pool, t = 0 on the calling thread.
    fn on_threads(&self, body: impl Fn(usize) + Sync) {
        let threads = self.waited.len();
        std::thread::scope(|s| {
            let body = &body;
            let handles: Vec<_> = (1..threads)
                .map(|t| {
                    s.spawn(move || {
                        let _guard = PoisonOnPanic(self);
                        body(t)
                    })
                })
                .collect();
            {
                let _guard = PoisonOnPanic(self);
                body(0);
            }
            for h in handles {
                h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            }
        });
    }

    pub(crate) fn partitions(&self) -> usize {
        self.parts.len()
    }

    pub(crate) fn threads(&self) -> usize {
        self.waited.len()
    }

    /// The number of the partitions' next step (a stop leaves them short of a
    /// segment's end).
    pub(crate) fn step(&self) -> u64 {
        self.part(0)
            .as_ref()
            .expect("partitions are built")
            .worker
            .state
            .step
    }

    /// Streams every exchange's spikes to `sink` from now on (None: stop); returns the
    /// sink it replaces.
    pub(crate) fn set_sink(
        &mut self,
        sink: Option<Box<dyn SpikeSink>>,
    ) -> Option<Box<dyn SpikeSink>> {
        let slot = self.sink.get_mut().unwrap_or_else(|e| e.into_inner());
        std::mem::replace(&mut slot.0, sink)
    }

    /// Samples `probes` from now on (their checks done: every variable exists in the
    /// populations its neurons are in), their samples going to `sink` (rank 0; None on
    /// the others); replaces the probes before and returns their sink.
    pub(crate) fn set_probes(
        &mut self,
        net: &Network,
        probes: Vec<StateProbe>,
        sink: Option<Box<dyn StateSink>>,
    ) -> Option<Box<dyn StateSink>> {
        // Where each probe reads: a population's variable, or (`CONN.TRACE`) a
        // postsynaptic trace of connection CONN, onto its post population only.
        let sources: Vec<(Option<usize>, &str)> = (probes.iter())
            .map(|probe| match probe.variable.split_once('.') {
                None => (None, probe.variable.as_str()),
                Some((conn, trace)) => {
                    let c = (net.connections.iter())
                        .position(|c| c.name == conn)
                        .expect("a checked connection");
                    (Some(c), trace)
                }
            })
            .collect();
        for m in &mut self.parts {
            let part = (m.get_mut().unwrap_or_else(|e| e.into_inner()).as_mut())
                .expect("partitions are built");
            let st = &part.worker.state;
            part.pieces.clear();
            for (k, (probe, &(conn, wanted))) in probes.iter().zip(&sources).enumerate() {
                for (p, pop) in st.populations.iter().enumerate() {
                    let names = match conn {
                        None => pop.variable_names(),
                        Some(c) if net.connections[c].post == p => {
                            let rule = net.connections[c].plasticity.as_ref();
                            crate::plasticity::post_traces_of(rule.expect("a plastic one"))
                        }
                        Some(_) => continue,
                    };
                    // The owned ids of population p, and those of them probed.
                    let first = st.pop_offsets[p];
                    let owned = first..first + pop.len() as u32;
                    let lo = owned.start.max(probe.neurons.start);
                    let hi = owned.end.min(probe.neurons.end);
                    if lo >= hi {
                        continue;
                    }
                    let variable = (names.iter())
                        .find(|&&n| n == wanted)
                        .expect("a checked variable");
                    part.pieces.push(Piece {
                        probe: k,
                        pop: p,
                        conn,
                        local: (lo - first) as usize..(hi - first) as usize,
                        first_gid: lo,
                        variable,
                        values: Vec::new(),
                    });
                }
            }
        }
        self.probes = probes;
        let slot = self.state_sink.get_mut().unwrap_or_else(|e| e.into_inner());
        std::mem::replace(slot, sink)
    }

    /// The exchange between processes.
    pub(crate) fn comm(&self) -> &dyn Communicator {
        &*self.comm
    }

    /// Whether a partition found a NaN or infinite state (nothing more can run).
    pub(crate) fn stopped(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    /// Runs `f` on every partition's worker, in partition order.
    pub(crate) fn each_worker(&mut self, mut f: impl FnMut(&mut Worker<R, K>)) {
        for m in &mut self.parts {
            let part = m
                .get_mut()
                .unwrap_or_else(|e| e.into_inner())
                .as_mut()
                .expect("partitions are built");
            f(&mut part.worker);
        }
    }

    /// The process's spike history.
    pub(crate) fn history(&mut self) -> &History {
        self.history.get_mut().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn history_mut(&mut self) -> &mut History {
        self.history.get_mut().unwrap_or_else(|e| e.into_inner())
    }

    /// Steps every partition from `start` for `steps` steps; `flush`: exchange the
    /// spikes of a last partial window too (the end of a run). `run_start`: the step
    /// progress is counted from (u64::MAX: report none).
    pub(crate) fn run_segment(
        &mut self,
        start: u64,
        steps: u64,
        flush: bool,
        observer: &dyn Observer,
        run_start: u64,
        progress_every: u64,
    ) {
        let d = self
            .part(0)
            .as_ref()
            .expect("partitions are built")
            .worker
            .state
            .min_delay;
        let wins = windows(start, start + steps, d, flush);
        self.progress_every = progress_every;
        let base = self.windows_done;
        if !self.stopped() {
            if self.threads() == 1 {
                self.segment_alone(&wins, observer, run_start);
            } else {
                self.on_threads(|thread| self.segment(thread, &wins, base, observer, run_start));
            }
        }
        self.windows_done += wins.len() as u64;
        // The gate counts windows: a stopped segment completed fewer, so bring it level.
        while self.gate.get() < self.windows_done {
            self.gate.advance();
        }
        self.settle();
    }

    /// Forgets every thread's waits and work so far (the start of a measured run).
    pub(crate) fn reset_threads(&mut self) {
        for w in &self.waited {
            w.store(0, Ordering::Relaxed);
        }
        for w in &mut self.work {
            *w.get_mut().unwrap_or_else(|e| e.into_inner()) = ([0; 5], 0);
        }
        self.active_windows.store(0, Ordering::Relaxed);
    }

    /// The partitions' outcomes of the run since the last reset (in partition order;
    /// each worker's measurements start again from zero) and each thread's phase times
    /// (its work on any partition, and its waits as `barrier`). `windows`: how many
    /// windows the run had (for the mean active thread count).
    pub(crate) fn outcomes(&mut self, windows: u64) -> (Vec<Outcome>, Vec<PhaseTimes>) {
        let active_mean = (windows > 0)
            .then(|| self.active_windows.load(Ordering::Relaxed) as f64 / windows as f64);
        let thread_phases: Vec<PhaseTimes> = (0..self.threads())
            .map(|t| {
                let (mut ticks, compute) = *self.work[t].lock().unwrap_or_else(|e| e.into_inner());
                ticks[BARRIER] = self.waited[t].load(Ordering::Relaxed);
                phases(&self.clock, &ticks, compute)
            })
            .collect();
        let mut outcomes = Vec::new();
        self.each_worker(|w| {
            let mut o = w.take_outcome();
            o.threads_active = active_mean.filter(|_| outcomes.is_empty());
            outcomes.push(o);
        });
        self.reset_threads();
        (outcomes, thread_phases)
    }
}

/// Pieces' samples as bytes for the gather between ranks: per piece its probe, first
/// id and value count (u32 each), then the values (f64), little-endian.
fn encode_pieces(pieces: &[(usize, u32, usize, usize)], values: &[f64]) -> Vec<u8> {
    let mut out = Vec::new();
    for &(probe, first, start, len) in pieces {
        for x in [probe as u32, first, len as u32] {
            out.extend_from_slice(&x.to_le_bytes());
        }
        for v in &values[start..start + len] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

/// Appends the pieces of one rank's [`encode_pieces`] to `pieces` and `values`.
fn decode_pieces(
    mut b: &[u8],
    pieces: &mut Vec<(usize, u32, usize, usize)>,
    values: &mut Vec<f64>,
) {
    let u32_at = |b: &[u8], k: usize| u32::from_le_bytes(b[k..k + 4].try_into().unwrap());
    while b.len() >= 12 {
        let (probe, first, n) = (u32_at(b, 0), u32_at(b, 4), u32_at(b, 8) as usize);
        pieces.push((probe as usize, first, values.len(), n));
        values.extend(
            b[12..12 + 8 * n]
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap())),
        );
        b = &b[12 + 8 * n..];
    }
}

/// Poisons the pool's gate if a thread unwinds, so the others stop
/// instead of waiting forever.
struct PoisonOnPanic<'a, R: Real, K: Clock>(&'a Pool<R, K>);

impl<R: Real, K: Clock> Drop for PoisonOnPanic<'_, R, K> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.gate.poison();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_end_at_multiples_of_the_min_delay_and_at_a_flush() {
        let w = |s, e, x| Window {
            start: s,
            end: e,
            exchange: x,
        };
        assert_eq!(
            windows(0, 20, 8, true),
            vec![w(0, 8, true), w(8, 16, true), w(16, 20, true)]
        );
        assert_eq!(windows(0, 20, 8, false).last(), Some(&w(16, 20, false)));
        assert_eq!(
            windows(5, 17, 8, true),
            vec![w(5, 8, true), w(8, 16, true), w(16, 17, true)]
        );
        assert_eq!(windows(3, 3, 8, true), vec![]);
    }
}
