//! The store-buffering pattern between a consumer that clears the poller's "wake pending" flag
//! and then reads its work queue, and producers that push and then wake, run so that Miri can
//! explore it: Miri emulates weak memory (a load may read an older store), and it reports a
//! program whose threads all block as a deadlock, so a lost wake fails the test at once.
//!
//! Natively the same code runs much longer; there a lost wake shows as a wait that reaches its
//! (long) timeout with work queued. `tests/stress.rs` has the timed native stress test.

use pollio::{OsPoller, Poller};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

#[test]
fn a_wake_after_a_push_is_never_lost() {
    let total: u64 = if cfg!(miri) { 5000 } else { 200_000 };
    let mut poller = OsPoller::new().expect("new");
    let waker = poller.waker().expect("waker");
    let pushed = AtomicU64::new(0);
    thread::scope(|scope| {
        scope.spawn(|| {
            for _ in 0..total {
                pushed.fetch_add(1, Ordering::Relaxed);
                waker.wake().expect("wake");
            }
        });
        let mut taken = 0;
        while taken < total {
            let queued = pushed.load(Ordering::Relaxed);
            if queued > taken {
                taken = queued;
                continue;
            }
            // Under Miri, block: a lost wake leaves every thread blocked, which Miri reports.
            // Natively, a wait that reaches its timeout with work queued has lost a wake.
            let timeout = if cfg!(miri) {
                None
            } else {
                Some(Duration::from_secs(10))
            };
            let start = std::time::Instant::now();
            assert!(poller.poll(timeout).expect("poll").is_empty());
            assert!(
                timeout.map_or(true, |t| start.elapsed() < t),
                "lost wake: the wait slept its whole timeout with work queued"
            );
        }
    });
}
