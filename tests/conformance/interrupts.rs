//! Signals: an interrupted wait returns `Ok` with no events, and `Waker::wake` works from
//! inside a signal handler.

use crate::support::{
    backend_of, install_handler, watchdog, BlockingThread, RaiseOnDrop, ThreadId, PATIENCE,
};
use pollio::{Backend, Poller, Waker};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Once, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// Signals handled by [`count_signal`] so far.
static HANDLED: AtomicUsize = AtomicUsize::new(0);

/// A handler that does nothing but count: it exists so the signal interrupts a blocking call.
extern "C" fn count_signal(_: libc::c_int) {
    HANDLED.fetch_add(1, Ordering::SeqCst);
}

/// Runs `wait` on this thread while another thread sends it `SIGUSR1` every few milliseconds,
/// until `wait` returns. Signals sent before the wait starts are handled and lost, so the
/// repetition is what guarantees one lands inside the wait.
fn interrupted<R>(wait: impl FnOnce() -> R) -> R {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| install_handler(libc::SIGUSR1, count_signal));
    let handled_before = HANDLED.load(Ordering::SeqCst);
    let target = ThreadId::current();
    let done = Arc::new(AtomicBool::new(false));
    let signaller = {
        let done = Arc::clone(&done);
        thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                target.signal(libc::SIGUSR1);
                thread::sleep(Duration::from_millis(2));
            }
        })
    };
    // Stops the signaller even if `wait` panics: it must not signal a thread that is gone.
    let stop = RaiseOnDrop(&done);
    let result = wait();
    drop(stop);
    signaller.join().expect("signalling thread");
    assert!(
        HANDLED.load(Ordering::SeqCst) > handled_before,
        "no signal was handled"
    );
    result
}

/// A signal ends every kind of blocking wait with `Ok` and no events: `poll(None)`,
/// `wait(-1)`, `wait_timeout(None)`, and long timeouts (whole milliseconds and sub-millisecond
/// precise) well before they expire.
pub fn eintr_returns_ok_and_empty<P: Poller>() {
    let _guard = watchdog("eintr_returns_ok_and_empty", 4 * PATIENCE);
    let mut poller = P::new().expect("new");
    let long = Duration::from_secs(60);

    let n = interrupted(|| poller.poll(None).map(|e| e.len()));
    assert_eq!(n.expect("poll(None) interrupted"), 0);
    let n = interrupted(|| poller.wait(-1).map(|e| e.len()));
    assert_eq!(n.expect("wait(-1) interrupted"), 0);
    let n = interrupted(|| poller.wait_timeout(None).map(|e| e.len()));
    assert_eq!(n.expect("wait_timeout(None) interrupted"), 0);

    let timed = [long, long + Duration::from_nanos(500)];
    for timeout in timed {
        let start = Instant::now();
        let n = interrupted(|| poller.poll(Some(timeout)).map(|e| e.len()));
        assert_eq!(n.expect("timed poll interrupted"), 0);
        assert!(
            start.elapsed() < long / 2,
            "{timeout:?} was not interrupted"
        );
    }
    let start = Instant::now();
    let n = interrupted(|| poller.wait(60_000).map(|e| e.len()));
    assert_eq!(n.expect("wait(60000) interrupted"), 0);
    assert!(start.elapsed() < long / 2);

    // The poller is untouched by the interruptions.
    crate::support::assert_usable(&mut poller);
}

/// One handler per backend, each on its own signal with its own waker and count, so the
/// tests of two backends in one process never wake each other's poller.
struct HandlerSlot {
    signal: libc::c_int,
    handler: extern "C" fn(libc::c_int),
    /// The waker the handler calls, set once per process.
    waker: OnceLock<Waker>,
    /// Wakes made from inside the handler.
    wakes: AtomicUsize,
}

static SLOTS: [HandlerSlot; 2] = [
    HandlerSlot {
        signal: libc::SIGUSR2,
        handler: wake_from_handler::<0>,
        waker: OnceLock::new(),
        wakes: AtomicUsize::new(0),
    },
    HandlerSlot {
        signal: libc::SIGWINCH,
        handler: wake_from_handler::<1>,
        waker: OnceLock::new(),
        wakes: AtomicUsize::new(0),
    },
];

/// Calls only what `Waker::wake` documents as async-signal-safe, plus an atomic counter.
extern "C" fn wake_from_handler<const SLOT: usize>(_: libc::c_int) {
    let slot = &SLOTS[SLOT];
    if let Some(waker) = slot.waker.get() {
        if waker.wake().is_ok() {
            slot.wakes.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// `Waker::wake` called from a signal handler ends a blocked wait. The signal is delivered to
/// another thread, never to the waiting one, so the wait cannot have ended through `EINTR`.
pub fn wake_from_signal_handler<P: Poller>() {
    let _guard = watchdog("wake_from_signal_handler", 4 * PATIENCE);
    let slot = &SLOTS[usize::from(backend_of::<P>() == Backend::Poll)];
    let mut poller = P::new().expect("new");
    let waker = poller.waker().expect("waker");
    assert!(
        slot.waker.set(waker).is_ok(),
        "the handler's waker is set once per process"
    );
    install_handler(slot.signal, slot.handler);

    let main = BlockingThread::current();
    let signal = slot.signal;
    let signalled = thread::spawn(move || {
        main.until_blocked();
        // The handler runs on this thread, before the call returns.
        ThreadId::current().signal(signal);
    });
    let timeout = 2 * PATIENCE;
    let start = Instant::now();
    let n = poller.poll(Some(timeout)).expect("poll").len();
    let waited = start.elapsed();
    signalled.join().expect("signalled thread");
    assert_eq!(n, 0, "a wake is not an event");
    assert!(waited < timeout, "the wait was not woken");
    assert_eq!(slot.wakes.load(Ordering::SeqCst), 1);
}

backend_tests!(
    #[cfg_attr(miri, ignore = "Miri cannot send signals (no pthread_kill)")]
    eintr_returns_ok_and_empty,
    #[cfg_attr(miri, ignore = "Miri cannot send signals (no pthread_kill)")]
    wake_from_signal_handler,
);
