//! Software prefetch: the hot loops know which line they will need next (the next
//! spike's row, a synapse further down a postsynaptic list) before the hardware
//! prefetcher can guess it, because the accesses are scattered.

/// Asks the cache for the line holding `x` (no effect on the program's result).
#[inline(always)]
pub(crate) fn prefetch<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults and changes no memory; SSE is part of x86_64.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((x as *const T).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}
