//! The waker: ends a blocked wait from any thread, coalesces, and is never seen as an event.

use crate::support::fd::AsRawFd;
use crate::support::{
    poll_for, send, unix_pair, watchdog, BlockingThread, INCIDENTAL_MODE, PATIENCE,
};
use pollio::{Poller, Registration};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// A wait with nothing ready takes at least this long unless woken.
const QUIET: Duration = Duration::from_millis(50);

/// Asserts that a wait ends early (woken) and returns no events.
fn assert_woken<P: Poller>(poller: &mut P) {
    let start = Instant::now();
    let events = poll_for(poller, 2 * PATIENCE);
    assert!(events.is_empty(), "a wake is not an event: {events:?}");
    assert!(start.elapsed() < 2 * PATIENCE, "the wait was not woken");
}

/// Asserts that no wake is pending: a timed wait runs its full course.
fn assert_not_woken<P: Poller>(poller: &mut P) {
    let start = Instant::now();
    assert!(poll_for(poller, QUIET).is_empty());
    let waited = start.elapsed();
    assert!(
        waited >= QUIET,
        "a wake was still pending: returned after {waited:?}"
    );
}

/// A wake from another thread ends a wait that is already blocked, in `poll` and in the seed
/// `wait(-1)`.
pub fn wakes_a_blocked_wait<P: Poller>() {
    let _guard = watchdog("wakes_a_blocked_wait", 4 * PATIENCE);
    let mut poller = P::new().expect("new");
    let waker = poller.waker().expect("waker");
    for seed_api in [false, true] {
        let main = BlockingThread::current();
        let waker = waker.clone();
        let thread = thread::spawn(move || {
            main.until_blocked();
            waker.wake().expect("wake");
        });
        if seed_api {
            assert!(poller.wait(-1).expect("wait(-1)").is_empty());
        } else {
            assert_woken(&mut poller);
        }
        thread.join().expect("waking thread");
        assert_not_woken(&mut poller);
    }
}

/// A thousand wakes before a wait cause exactly one early return.
pub fn wakes_coalesce<P: Poller>() {
    let mut poller = P::new().expect("new");
    let waker = poller.waker().expect("waker");
    for _ in 0..1_000 {
        waker.wake().expect("wake");
    }
    assert_woken(&mut poller);
    assert_not_woken(&mut poller);
    let start = Instant::now();
    assert!(poller.wait(50).expect("wait").is_empty());
    assert!(start.elapsed() >= QUIET, "the seed wait saw a stale wake");
}

/// Clones wake from several threads at once, still coalescing; and every wake after a wait
/// returned wakes the next wait (none is lost).
pub fn waker_clones_across_threads<P: Poller>() {
    let mut poller = P::new().expect("new");
    let waker = poller.waker().expect("waker");
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let waker = waker.clone();
            thread::spawn(move || {
                for _ in 0..1_000 {
                    waker.wake().expect("wake");
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("waking thread");
    }
    assert_woken(&mut poller);
    assert_not_woken(&mut poller);

    let (ask, asked) = mpsc::channel::<()>();
    let remote = {
        let waker = waker.clone();
        thread::spawn(move || {
            for () in asked {
                waker.wake().expect("wake");
            }
        })
    };
    for _ in 0..50 {
        ask.send(()).expect("ask for a wake");
        assert_woken(&mut poller);
    }
    drop(ask);
    remote.join().expect("waking thread");
    assert_not_woken(&mut poller);
}

/// The wake is filtered out of the events even when the buffer holds one event: ready fds are
/// reported with their own fd and key, and nothing else is.
pub fn wake_is_never_an_event<P: Poller>() {
    let mut poller = P::with_capacity(1).expect("with_capacity");
    let waker = poller.waker().expect("waker");
    let (a, b) = unix_pair();
    let fd = a.as_raw_fd();
    poller
        .add_with(fd, Registration::client(77).with_mode(INCIDENTAL_MODE))
        .expect("add_with");
    let mut reported = 0;
    for _ in 0..3 {
        // New data each round, so that an edge-triggered registration reports again too.
        send(&b, b"x");
        waker.wake().expect("wake");
        // The wake may take the one slot of one of these two waits, not of both.
        for event in poll_for(&mut poller, Duration::ZERO) {
            assert_eq!((event.fd, event.key), (fd, 77), "{event:?}");
            reported += 1;
        }
        for object in poller.wait(0).expect("wait") {
            assert_eq!(object.fd, fd, "{object:?}");
            reported += 1;
        }
    }
    assert!(
        reported >= 3,
        "the ready fd was reported {reported} times in 6 waits"
    );
}

/// Two wakers from one poller share its wake-up source; a wake from either works, and
/// dropping one leaves the other working.
pub fn wakers_share_one_source<P: Poller>() {
    let mut poller = P::new().expect("new");
    let first = poller.waker().expect("waker");
    let second = poller.waker().expect("second waker");
    second.wake().expect("wake");
    assert_woken(&mut poller);
    drop(second);
    first.wake().expect("wake");
    assert_woken(&mut poller);
    assert_not_woken(&mut poller);
}

backend_tests!(
    wakes_a_blocked_wait,
    wakes_coalesce,
    waker_clones_across_threads,
    wake_is_never_an_event,
    wakers_share_one_source,
);
