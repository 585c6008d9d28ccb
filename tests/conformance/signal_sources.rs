//! Signals as sources: an event with a count, keys and tokens, clear errors, and the process's
//! signal state put back afterwards.
//!
//! Signal state belongs to the whole process, so these tests hold one lock while they run,
//! use `SIGALRM` (and on Linux a real-time signal), which nothing else in this binary uses
//! (`interrupts.rs` handles `SIGUSR1` and `SIGUSR2`), and send the signal to their own thread (`raise`): on
//! Linux a source's signal must be blocked in every thread, and the test harness's other
//! threads do not block it.

use crate::support::PATIENCE;
use pollio::{Events, Poller, Registration, Signal};
use std::io;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Its default action ends the process, so a source that let it through would be noticed.
const SIGNAL: libc::c_int = libc::SIGALRM;

/// Held by every test here: they change process-wide state.
fn serialized() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

fn raise(signo: libc::c_int) {
    // SAFETY: raise takes a signal number; the signal is blocked (Linux) or ignored (kqueue)
    // by the source registered first, so no action runs.
    let rc = unsafe { libc::raise(signo) };
    assert_eq!(rc, 0, "raise: {}", io::Error::last_os_error());
}

/// The calling thread's blocked state of `signo`, and whether its action is the default.
fn signal_state(signo: libc::c_int) -> (bool, bool) {
    // SAFETY: both out-parameters are zeroed values the calls fill; nothing is changed.
    unsafe {
        let mut mask: libc::sigset_t = std::mem::zeroed();
        assert_eq!(
            libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut mask),
            0
        );
        let mut action: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(signo, std::ptr::null(), &mut action), 0);
        (
            libc::sigismember(&mask, signo) == 1,
            action.sa_sigaction == libc::SIG_DFL,
        )
    }
}

/// Deliveries of `signal` reported within `PATIENCE` (at least one), and the events' keys.
fn delivered<P: Poller>(poller: &P, signal: &Signal) -> (u64, Vec<u64>) {
    let mut events = Events::new();
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no signal event in {PATIENCE:?}");
        poller
            .poll_into(&mut events, Some(left))
            .expect("poll_into");
        let tokens = events.iter().map(|event| event.token()).collect();
        let count: u64 = events
            .iter()
            .map(|event| signal.deliveries(event).expect("deliveries"))
            .sum();
        if count > 0 {
            return (count, tokens);
        }
    }
}

/// A raised signal is an event carrying the key; its count is every delivery on kqueue, one
/// on Linux (a standard signal is pending once however often it is sent).
pub fn signal_is_an_event_with_a_count<P: Poller>() {
    let _serial = serialized();
    let poller = P::new().expect("new");
    let signal = poller
        .signal(SIGNAL, Registration::client(9))
        .expect("signal");
    assert_eq!(signal.number(), SIGNAL);
    for _ in 0..3 {
        raise(SIGNAL);
    }
    let mut events = Events::new();
    poller
        .poll_into(&mut events, Some(PATIENCE))
        .expect("poll_into");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].key(), 9);
    assert!(events[0].readiness().is_readable());
    let count = signal.deliveries(&events[0]).expect("deliveries");
    assert_eq!(count, if cfg!(target_os = "linux") { 1 } else { 3 });

    // Taken: nothing more comes until the signal is sent again.
    poller
        .poll_into(&mut events, Some(Duration::from_millis(20)))
        .expect("poll_into");
    let more: u64 = events.iter().map(|e| signal.deliveries(e).unwrap()).sum();
    assert_eq!(more, 0);
    raise(SIGNAL);
    assert_eq!(delivered(&poller, &signal).0, 1);
}

/// Tokens travel with signal events as with any other.
pub fn signal_carries_a_token<P: Poller>() {
    let _serial = serialized();
    let poller = P::new().expect("new");
    let token = 0xfeed_0000_0000_0001;
    let signal = poller
        .signal(SIGNAL, Registration::from_token(token))
        .expect("signal");
    raise(SIGNAL);
    let (count, tokens) = delivered(&poller, &signal);
    assert_eq!((count, tokens), (1, vec![token]));
}

/// Two sources of one signal, in two pollers, each report it.
pub fn two_sources_both_report<P: Poller>() {
    let _serial = serialized();
    let first = P::new().expect("new");
    let second = P::new().expect("new");
    let a = first.signal(SIGNAL, Registration::client(1)).expect("a");
    let b = second.signal(SIGNAL, Registration::client(2)).expect("b");
    raise(SIGNAL);
    let mut events = Events::new();
    for (poller, key) in [(&first, 1), (&second, 2)] {
        poller
            .poll_into(&mut events, Some(PATIENCE))
            .expect("poll_into");
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].key(), key);
    }
    // Take the delivery through both, so none stays pending for the next test.
    let _ = a.deliveries(&events[0]).expect("a");
    let _ = b.deliveries(&events[0]).expect("b");
}

/// What pollio changes while a signal has sources (the thread's mask on Linux, the action on
/// kqueue) is put back when the last one is dropped, not before.
pub fn the_last_drop_restores_the_signal_state<P: Poller>() {
    let _serial = serialized();
    let before = signal_state(SIGNAL);
    assert_eq!(before, (false, true), "the test expects SIGALRM untouched");
    let poller = P::new().expect("new");
    let first = poller
        .signal(SIGNAL, Registration::client(1))
        .expect("first");
    let second = poller
        .signal(SIGNAL, Registration::client(2))
        .expect("second");
    let during = if cfg!(target_os = "linux") {
        (true, true) // blocked, action unchanged
    } else {
        (false, false) // not blocked, action SIG_IGN
    };
    assert_eq!(signal_state(SIGNAL), during);
    drop(first);
    assert_eq!(signal_state(SIGNAL), during);
    drop(second);
    assert_eq!(signal_state(SIGNAL), before);
}

/// `SIGKILL`, `SIGSTOP` and numbers that are not signals are `EINVAL`, and change nothing.
pub fn uncatchable_and_invalid_signals_are_einval<P: Poller>() {
    let _serial = serialized();
    let poller = P::new().expect("new");
    for signo in [libc::SIGKILL, libc::SIGSTOP, 0, -1, 1000] {
        let err = poller
            .signal(signo, Registration::client(1))
            .expect_err("refused");
        assert_eq!(err.raw_os_error(), Some(libc::EINVAL), "{signo}: {err}");
    }
    assert_eq!(signal_state(SIGNAL), (false, true));
}

/// Linux: a real-time signal queues, and each delivery counts.
#[cfg(target_os = "linux")]
pub fn realtime_deliveries_are_each_counted<P: Poller>() {
    let _serial = serialized();
    let signo = libc::SIGRTMIN() + 3;
    let poller = P::new().expect("new");
    let signal = poller
        .signal(signo, Registration::client(4))
        .expect("signal");
    for _ in 0..5 {
        raise(signo);
    }
    assert_eq!(delivered(&poller, &signal).0, 5);
}

backend_tests!(
    #[cfg_attr(miri, ignore = "Miri has no signalfd")]
    signal_is_an_event_with_a_count,
    #[cfg_attr(miri, ignore = "Miri has no signalfd")]
    signal_carries_a_token,
    #[cfg_attr(miri, ignore = "Miri has no signalfd")]
    two_sources_both_report,
    #[cfg_attr(miri, ignore = "Miri has no signalfd")]
    the_last_drop_restores_the_signal_state,
    #[cfg_attr(miri, ignore = "Miri has no signalfd")]
    uncatchable_and_invalid_signals_are_einval,
);

#[cfg(target_os = "linux")]
mod linux {
    use super::realtime_deliveries_are_each_counted;

    backend_tests!(
        #[cfg_attr(miri, ignore = "Miri has no signalfd")]
        realtime_deliveries_are_each_counted,
    );
}
