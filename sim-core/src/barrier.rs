//! The barrier the threads of one process meet at before every spike exchange.
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

/// A barrier for `n` threads that spins while the awaited threads make progress and
/// parks otherwise (see the module doc).
#[derive(Debug)]
pub struct Barrier {
    n: usize,
    arrived: AtomicUsize,
    /// Completed rounds.
    generation: AtomicU64,
    sleep: Sleep,
}

impl Barrier {
    /// A barrier for `n` threads, with the policy for `n` threads on this machine.
    pub fn new(n: usize) -> Self {
        Self::with_policy(n, WaitPolicy::for_cores(n))
    }

    pub fn with_policy(n: usize, policy: WaitPolicy) -> Self {
        Barrier {
            n,
            arrived: AtomicUsize::new(0),
            generation: AtomicU64::new(0),
            sleep: Sleep::new(n, policy),
        }
    }

    pub fn policy(&self) -> WaitPolicy {
        self.sleep.policy
    }

    /// Thread `thread` made progress (called once per step): waiters keep spinning
    /// while some heartbeat moves.
    #[inline]
    pub fn beat(&self, thread: usize, progress: u64) {
        self.sleep.beat(thread, progress);
    }

    /// How many times a waiter has parked so far.
    pub fn parks(&self) -> u64 {
        self.sleep.parks()
    }

    /// Returns once all `n` threads have called it.
    pub fn wait(&self) {
        self.sleep.check_poison();
        let generation = self.generation.load(Ordering::Acquire);
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.n {
            self.arrived.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::SeqCst);
            self.sleep.notify();
            return;
        }
        self.sleep
            .wait_until(|| self.generation.load(Ordering::Acquire) != generation);
    }

    /// Makes every waiter (and every later wait) panic instead of hanging.
    pub fn poison(&self) {
        self.sleep.poison();
    }

    pub fn is_poisoned(&self) -> bool {
        self.sleep.poisoned.load(Ordering::Acquire)
    }
}

/// A counter that threads wait to reach: the pooled scheduler's "every partition has
/// finished window w" (see `engine::pool`). Waiting adapts as at a [`Barrier`].
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

    /// As [`Barrier::beat`].
    #[inline]
    pub fn beat(&self, thread: usize, progress: u64) {
        self.sleep.beat(thread, progress);
    }

    pub fn parks(&self) -> u64 {
        self.sleep.parks()
    }

    pub fn poison(&self) {
        self.sleep.poison();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Every thread passes round r only after all have arrived at it.
    fn rounds(policy: WaitPolicy) {
        let n = 3;
        let b = Arc::new(Barrier::with_policy(n, policy));
        let counter = Arc::new(AtomicUsize::new(0));
        std::thread::scope(|s| {
            for t in 0..n {
                let (b, counter) = (b.clone(), counter.clone());
                s.spawn(move || {
                    for round in 0..2000 {
                        counter.fetch_add(1, Ordering::SeqCst);
                        b.beat(t, round);
                        b.wait();
                        let c = counter.load(Ordering::SeqCst);
                        assert!(c >= n * (round as usize + 1), "round {round}: {c}");
                        b.wait();
                    }
                });
            }
        });
        assert_eq!(counter.load(Ordering::SeqCst), n * 2000);
    }

    #[test]
    fn no_thread_passes_before_all_arrive_spinning() {
        rounds(WaitPolicy::ADAPTIVE);
    }

    #[test]
    fn no_thread_passes_before_all_arrive_parking() {
        rounds(WaitPolicy::PARK);
    }

    #[test]
    fn a_poisoned_barrier_does_not_hang() {
        let b = Arc::new(Barrier::new(2));
        let b2 = b.clone();
        let waiter = std::thread::spawn(move || b2.wait());
        std::thread::sleep(Duration::from_millis(20));
        b.poison();
        assert!(
            waiter.join().is_err(),
            "the waiter panics instead of hanging"
        );
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
        let b = Arc::new(Barrier::with_policy(2, WaitPolicy::ADAPTIVE));
        let b2 = b.clone();
        let stalled = std::thread::spawn(move || {
            for round in 0..20 {
                b2.beat(1, round);
                std::thread::sleep(Duration::from_millis(10));
                b2.wait();
            }
        });
        let (wall0, cpu0) = (Instant::now(), thread_cpu());
        for round in 0..20 {
            b.beat(0, round);
            b.wait();
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
        let b = Arc::new(Barrier::with_policy(2, policy));
        let b2 = b.clone();
        let busy = std::thread::spawn(move || {
            for round in 0..5u64 {
                let until = Instant::now() + Duration::from_millis(2);
                let mut k = 0;
                while Instant::now() < until {
                    k += 1;
                    b2.beat(1, round * 1_000_000 + k);
                }
                b2.wait();
            }
        });
        for round in 0..5 {
            b.beat(0, round);
            b.wait();
        }
        busy.join().unwrap();
        assert_eq!(
            b.parks(),
            0,
            "the waiter parked although the other made progress"
        );
    }
}
