//! How the threads of one process wait for each other: the pooled scheduler's [`Gate`]
//! ("every partition has finished window w"), what a thread waits at in the `barrier`
//! phase.
//!
//! Why not `std::sync::Barrier`: it always parks waiters on a futex, and waking one costs
//! tens of microseconds, as much as the 8 steps between two exchanges of the
//! Vogels–Abbott network take. Why not a plain spin barrier: on a busy machine (a
//! compile, another simulation) the worker being waited for is often descheduled, and a
//! waiter that spins burns the very core that worker needs: with one external busy loop
//! on 2 cores, va on 2 spinning threads ran 6.6× slower than on 1 thread.
//!
//! So a waiter spins only while it has a reason to believe the wait is short: every
//! thread publishes a heartbeat (its step count) and the waiter keeps spinning while the
//! heartbeats of the others move. When no heartbeat has moved for [`WaitPolicy::patience`]
//! (the awaited thread is descheduled, or stuck in a long step) or the spin has lasted
//! [`WaitPolicy::max_spin`], the waiter parks on a futex (the `atomic-wait` crate) and is
//! woken by the last arrival. The values are measured: see `WaitPolicy::for_cores` and
//! the README's performance notes.
//!
//! If a thread panics the barrier is poisoned and the others panic instead of waiting
//! forever.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a waiter spins before it parks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitPolicy {
    /// Park once no other thread's heartbeat has moved for this long.
    pub patience: Duration,
    /// Park after spinning this long in any case, heartbeats or not.
    pub max_spin: Duration,
}

impl WaitPolicy {
    /// Spin while the others make progress (the default when every thread has a core).
    pub const ADAPTIVE: WaitPolicy = WaitPolicy {
        patience: Duration::from_micros(20),
        max_spin: Duration::from_micros(500),
    };
    /// Park almost at once: more threads than cores, so a spinning waiter steals the
    /// core of the thread it waits for (as OpenMP runtimes do under oversubscription).
    pub const OVERSUBSCRIBED: WaitPolicy = WaitPolicy {
        patience: Duration::from_micros(2),
        max_spin: Duration::from_micros(2),
    };
    /// Park at once, never spin (for tests and for measuring the cost of parking).
    pub const PARK: WaitPolicy = WaitPolicy {
        patience: Duration::ZERO,
        max_spin: Duration::ZERO,
    };

    /// The policy for `busy` threads (of every process on this machine) sharing this
    /// machine's cores.
    pub fn for_cores(busy: usize) -> WaitPolicy {
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        if busy <= cores {
            WaitPolicy::ADAPTIVE
        } else {
            WaitPolicy::OVERSUBSCRIBED
        }
    }
}

/// One heartbeat per thread, each on its own cache line so that beating is a store
/// into a line no other thread writes.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Beat(AtomicU64);

/// What waiting needs, whatever is waited for: the futex word the waiters park on, the
/// threads' heartbeats and the spin policy.
#[derive(Debug)]
struct Sleep {
    policy: WaitPolicy,
    /// Bumped whenever what is waited for may have happened; the futex word.
    epoch: AtomicU32,
    sleepers: AtomicUsize,
    poisoned: AtomicBool,
    beats: Box<[Beat]>,
    parks: AtomicU64,
}

impl Sleep {
    fn new(threads: usize, policy: WaitPolicy) -> Self {
        Sleep {
            policy,
            epoch: AtomicU32::new(0),
            sleepers: AtomicUsize::new(0),
            poisoned: AtomicBool::new(false),
            beats: (0..threads).map(|_| Beat::default()).collect(),
            parks: AtomicU64::new(0),
        }
    }

    #[inline]
    fn beat(&self, thread: usize, progress: u64) {
        if let Some(b) = self.beats.get(thread) {
            b.0.store(progress, Ordering::Relaxed);
        }
    }

    fn parks(&self) -> u64 {
        self.parks.load(Ordering::Relaxed)
    }

    fn heartbeat(&self) -> u64 {
        self.beats
            .iter()
            .fold(0u64, |s, b| s.wrapping_add(b.0.load(Ordering::Relaxed)))
    }

    /// Wakes every waiter; call after making what they wait for true.
    fn notify(&self) {
        // SeqCst with the waiters' `sleepers` increment: either a waiter is counted
        // before we look, or its futex wait sees the new epoch and returns.
        self.epoch.fetch_add(1, Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            atomic_wait::wake_all(&self.epoch);
        }
    }

    /// Returns once `done()` holds: spins while some heartbeat moves (see the module
    /// doc), then parks until a [`Sleep::notify`]. Panics if poisoned.
    fn wait_until(&self, done: impl Fn() -> bool) {
        self.check_poison();
        if done() {
            return;
        }
        if !self.spin(&done) {
            self.parks.fetch_add(1, Ordering::Relaxed);
            self.sleepers.fetch_add(1, Ordering::SeqCst);
            loop {
                let epoch = self.epoch.load(Ordering::SeqCst);
                if done() || self.poisoned.load(Ordering::Acquire) {
                    break;
                }
                atomic_wait::wait(&self.epoch, epoch);
            }
            self.sleepers.fetch_sub(1, Ordering::SeqCst);
        }
        self.check_poison();
    }

    /// Spins while the others make progress; true if `done()` came to hold meanwhile.
    fn spin(&self, done: &impl Fn() -> bool) -> bool {
        if self.policy.max_spin.is_zero() {
            return false;
        }
        let start = Instant::now();
        let mut last_progress = start;
        let mut seen = self.heartbeat();
        loop {
            // Reading the clock and the heartbeats every 64 pauses keeps their cost
            // (tens of ns) well below the pauses' (about a µs in all).
            for _ in 0..64 {
                if done() {
                    return true;
                }
                std::hint::spin_loop();
            }
            if self.poisoned.load(Ordering::Relaxed) {
                return false;
            }
            let now = Instant::now();
            let beat = self.heartbeat();
            if beat != seen {
                seen = beat;
                last_progress = now;
            }
            if now - last_progress >= self.policy.patience || now - start >= self.policy.max_spin {
                return false;
            }
        }
    }

    fn check_poison(&self) {
        if self.poisoned.load(Ordering::Acquire) {
            panic!("another worker panicked; abandoning the barrier");
        }
    }

    fn poison(&self) {
        self.poisoned.store(true, Ordering::Release);
        self.epoch.fetch_add(1, Ordering::SeqCst);
        atomic_wait::wake_all(&self.epoch);
    }
}

/// A counter that threads wait to reach: the pooled scheduler's "every partition has
/// finished window w" (see `engine::pool`). Waiting spins or parks as the module doc
/// says.
#[derive(Debug)]
pub struct Gate {
    value: AtomicU64,
    sleep: Sleep,
}

impl Gate {
    pub fn new(threads: usize, policy: WaitPolicy) -> Self {
        Gate {
            value: AtomicU64::new(0),
            sleep: Sleep::new(threads, policy),
        }
    }

    #[inline]
    pub fn get(&self) -> u64 {
        self.value.load(Ordering::Acquire)
    }

    /// Adds one and wakes the waiters.
    pub fn advance(&self) -> u64 {
        let v = self.value.fetch_add(1, Ordering::SeqCst) + 1;
        self.sleep.notify();
        v
    }

    /// Returns once the value is at least `target`.
    pub fn wait_for(&self, target: u64) {
        self.sleep.wait_until(|| self.get() >= target);
    }

    /// Thread `thread` made progress (called once per step): waiters keep spinning
    /// while some heartbeat moves.
    #[inline]
    pub fn beat(&self, thread: usize, progress: u64) {
        self.sleep.beat(thread, progress);
    }

    pub fn parks(&self) -> u64 {
        self.sleep.parks()
    }

    /// Makes every waiter (and every later wait) panic instead of hanging.
    pub fn poison(&self) {
        self.sleep.poison();
    }

    pub fn is_poisoned(&self) -> bool {
        self.sleep.poisoned.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// No waiter passes value v before the gate reaches it.
    fn rounds(policy: WaitPolicy) {
        let n = 3;
        let g = Arc::new(Gate::new(n, policy));
        let reached = Arc::new(AtomicU64::new(0));
        std::thread::scope(|s| {
            for t in 1..n {
                let (g, reached) = (g.clone(), reached.clone());
                s.spawn(move || {
                    for round in 1..=2000 {
                        g.beat(t, round);
                        g.wait_for(round);
                        let r = reached.load(Ordering::SeqCst);
                        assert!(r >= round, "passed {round} at {r}");
                    }
                });
            }
            for round in 1..=2000 {
                g.beat(0, round);
                reached.store(round, Ordering::SeqCst);
                assert_eq!(g.advance(), round);
            }
        });
    }

    #[test]
    fn no_thread_passes_before_the_gate_spinning() {
        rounds(WaitPolicy::ADAPTIVE);
    }

    #[test]
    fn no_thread_passes_before_the_gate_parking() {
        rounds(WaitPolicy::PARK);
    }

    #[test]
    fn a_poisoned_gate_does_not_hang() {
        let g = Arc::new(Gate::new(2, WaitPolicy::ADAPTIVE));
        let g2 = g.clone();
        let waiter = std::thread::spawn(move || g2.wait_for(1));
        std::thread::sleep(Duration::from_millis(20));
        g.poison();
        assert!(
            waiter.join().is_err(),
            "the waiter panics instead of hanging"
        );
        assert!(g.is_poisoned());
    }

    /// CPU time of the calling thread.
    fn thread_cpu() -> Duration {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid timespec to write into; the clock id is a constant.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        assert_eq!(rc, 0);
        Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
    }

    /// A waiter whose partner stalls (sleeps: no heartbeat) gives its CPU up: its CPU
    /// time stays far below the wall time it waits. A spinning barrier fails this.
    #[test]
    fn a_waiter_yields_its_cpu_to_a_stalled_worker() {
        let b = Arc::new(Gate::new(2, WaitPolicy::ADAPTIVE));
        let b2 = b.clone();
        // The stalled thread starts a round only once the waiter has passed the last
        // (so the waiter always comes to a closed gate, however late it runs).
        let passed = Arc::new(AtomicU64::new(0));
        let passed2 = passed.clone();
        let stalled = std::thread::spawn(move || {
            for round in 0..20 {
                while passed2.load(Ordering::Acquire) < round {
                    std::thread::sleep(Duration::from_millis(1));
                }
                b2.beat(1, round);
                std::thread::sleep(Duration::from_millis(10));
                b2.advance();
            }
        });
        let (wall0, cpu0) = (Instant::now(), thread_cpu());
        for round in 0..20 {
            b.beat(0, round);
            b.wait_for(round + 1);
            passed.store(round + 1, Ordering::Release);
        }
        let (wall, cpu) = (wall0.elapsed(), thread_cpu() - cpu0);
        stalled.join().unwrap();
        assert!(wall >= Duration::from_millis(200), "waited {wall:?}");
        assert!(
            cpu * 10 < wall,
            "the waiter burnt {cpu:?} of CPU in {wall:?} of waiting"
        );
        assert!(b.parks() >= 20, "parked {} times", b.parks());
    }

    /// A waiter whose partner is busy and beating keeps spinning (does not park) as
    /// long as the wait stays under `max_spin`.
    #[test]
    fn a_waiter_spins_while_the_other_makes_progress() {
        // Generous bounds: a loaded test machine may deschedule the busy thread for a
        // while, which is not what this test is about.
        let policy = WaitPolicy {
            patience: Duration::from_secs(1),
            max_spin: Duration::from_secs(20),
        };
        let b = Arc::new(Gate::new(2, policy));
        let b2 = b.clone();
        let busy = std::thread::spawn(move || {
            for round in 0..5u64 {
                let until = Instant::now() + Duration::from_millis(2);
                let mut k = 0;
                while Instant::now() < until {
                    k += 1;
                    b2.beat(1, round * 1_000_000 + k);
                }
                b2.advance();
            }
        });
        for round in 0..5 {
            b.beat(0, round);
            b.wait_for(round + 1);
        }
        busy.join().unwrap();
        assert_eq!(
            b.parks(),
            0,
            "the waiter parked although the other made progress"
        );
    }
}
