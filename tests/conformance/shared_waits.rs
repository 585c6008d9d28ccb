//! `poll_into`: events in a buffer the caller owns, and several threads waiting on one poller.
//!
//! What the waiting threads see, mode by mode, is the kernel's: epoll hands an edge-triggered
//! or oneshot event to one waiter, and wakes one waiter per wake-up event; a level-triggered fd
//! that stays ready is found ready by every wait that looks, so it may reach several. kqueue
//! behaves the same way for edge (`EV_CLEAR`) and oneshot (`EV_DISPATCH`) knotes. The poll(2)
//! backend claims a oneshot event for one waiter, and has one waiter take each wake; its edges
//! are levels, found by every wait that looks until the data is read.

use crate::errors::own_error_kind;
use crate::support::fd::{AsFd, AsRawFd, RawFd};
use crate::support::{
    drain, edge_is_level, send, unix_pair, watchdog, BlockingThread, RaiseOnDrop, INCIDENTAL_MODE,
    PATIENCE,
};
use pollio::{Events, Mode, Poller, Registration};
use std::io::ErrorKind;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How many threads wait on one poller in these tests.
const WAITERS: usize = 4;

/// The buffer's capacity bounds each wait; the count returned is what was stored; the rest
/// comes on the next waits; and the loop over the events can change registrations through the
/// poller itself.
pub fn poll_into_fills_the_callers_buffer<P: Poller>() {
    let poller = P::new().expect("new");
    let mut events = Events::with_capacity(2).expect("capacity 2");
    assert_eq!(events.capacity(), 2);
    let pairs: Vec<_> = (0..5).map(|_| unix_pair()).collect();
    for (key, (ours, peer)) in pairs.iter().enumerate() {
        let reg = Registration::client(key as u32).with_mode(INCIDENTAL_MODE);
        poller.register(ours.as_fd(), reg).expect("register");
        send(peer, b"x");
    }
    let mut seen = Vec::new();
    let deadline = Instant::now() + PATIENCE;
    while seen.len() < pairs.len() {
        assert!(Instant::now() < deadline, "only {seen:?} reported");
        let n = poller
            .poll_into(&mut events, Some(Duration::from_millis(100)))
            .expect("poll_into");
        assert_eq!(n, events.len());
        assert!(n <= 2, "{n} events in a buffer of 2");
        for event in &events {
            // Deregistering here compiles and works: the events borrow `events` only.
            let key = event.key() as usize;
            poller
                .deregister(pairs[key].0.as_fd())
                .expect("deregister inside the loop");
            seen.push(key);
        }
    }
    seen.sort_unstable();
    assert_eq!(seen, [0, 1, 2, 3, 4]);
    let n = poller
        .poll_into(&mut events, Some(Duration::ZERO))
        .expect("poll_into");
    assert_eq!((n, events.is_empty()), (0, true));
}

/// A buffer of no events, or more than the kernel fills, is refused with pollio's own
/// `InvalidInput`. (Not per backend: `Events` is the same type for all.)
#[test]
fn events_capacity_is_checked() {
    assert_eq!(
        own_error_kind(Events::with_capacity(0)),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        own_error_kind(Events::with_capacity(usize::MAX)),
        ErrorKind::InvalidInput
    );
    assert_eq!(Events::new().capacity(), Events::DEFAULT_CAPACITY);
}

/// `WAITERS` threads block in `poll_into` on one poller and report every event for `fd` they
/// see until `stop`; returns once every one of them is blocked.
fn spawn_waiters<'scope, P: Poller + Sync>(
    scope: &'scope thread::Scope<'scope, '_>,
    poller: &'scope P,
    fd: RawFd,
    stop: &'scope AtomicBool,
    returns: &'scope AtomicUsize,
    reports: mpsc::Sender<usize>,
) {
    let (blocked_tx, blocked_rx) = mpsc::channel();
    for waiter in 0..WAITERS {
        let (reports, blocked_tx) = (reports.clone(), blocked_tx.clone());
        scope.spawn(move || {
            blocked_tx
                .send(BlockingThread::current())
                .expect("announce");
            let mut events = Events::with_capacity(8).expect("events");
            while !stop.load(Ordering::SeqCst) {
                poller
                    .poll_into(&mut events, Some(Duration::from_millis(50)))
                    .expect("poll_into");
                returns.fetch_add(1, Ordering::SeqCst);
                for event in &events {
                    if event.fd() == fd {
                        let _ = reports.send(waiter);
                    }
                }
            }
        });
    }
    for _ in 0..WAITERS {
        blocked_rx.recv().expect("waiter started").until_blocked();
    }
}

/// How many reports of one readiness change the waiters make: all that arrive until none has
/// come for `quiet` after the first.
fn count_reports(reports: &mpsc::Receiver<usize>, quiet: Duration) -> Vec<usize> {
    let first = reports
        .recv_timeout(PATIENCE)
        .expect("no waiter reported the event");
    let mut all = vec![first];
    while let Ok(waiter) = reports.recv_timeout(quiet) {
        all.push(waiter);
    }
    all
}

/// Edge-triggered and oneshot: one new byte is reported to exactly one of the waiting
/// threads. (poll: edge-triggered is level-triggered, checked below.)
pub fn edge_and_oneshot_reach_one_waiter<P: Poller + Sync>() {
    let _guard = watchdog("edge_and_oneshot_reach_one_waiter", 4 * PATIENCE);
    // poll(2) and Windows report edge-triggered registrations as level-triggered ones, so
    // there only the oneshot modes report a byte once.
    let modes: &[Mode] = if edge_is_level::<P>() || cfg!(windows) {
        if edge_is_level::<P>() {
            edge_as_level_stops_when_read::<P>();
        }
        &[Mode::Oneshot, Mode::EdgeOneshot]
    } else {
        &[Mode::Edge, Mode::Oneshot, Mode::EdgeOneshot]
    };
    for &mode in modes {
        let poller = P::new().expect("new");
        let (a, b) = unix_pair();
        let fd = a.as_raw_fd();
        poller
            .add_with(fd, Registration::client(1).with_mode(mode))
            .expect("add_with");
        let (stop, returns) = (AtomicBool::new(false), AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel();
        let reported = thread::scope(|scope| {
            let _stop = RaiseOnDrop(&stop);
            spawn_waiters(scope, &poller, fd, &stop, &returns, tx);
            send(&b, b"x");
            // Every waiter returns at least twice in this time (50 ms timeouts), so a second
            // report would have come.
            let reported = count_reports(&rx, Duration::from_millis(250));
            stop.store(true, Ordering::SeqCst);
            reported
        });
        assert_eq!(reported.len(), 1, "{mode:?}: reported by {reported:?}");
    }
}

/// Where edges are levels (poll), an edge-triggered fd with unread data reaches one or more
/// waiters, and reports stop once it is read.
fn edge_as_level_stops_when_read<P: Poller + Sync>() {
    let poller = P::new().expect("new");
    let (a, b) = unix_pair();
    let fd = a.as_raw_fd();
    poller
        .add_with(fd, Registration::client(1).with_mode(Mode::Edge))
        .expect("add_with");
    let (stop, returns) = (AtomicBool::new(false), AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel();
    thread::scope(|scope| {
        spawn_waiters(scope, &poller, fd, &stop, &returns, tx);
        send(&b, b"x");
        rx.recv_timeout(PATIENCE)
            .expect("no waiter reported the event");
        assert_eq!(drain(&a), b"x");
        // Reports made before the read arrive within a few waits; then 250 ms without one.
        let deadline = Instant::now() + PATIENCE;
        while rx.recv_timeout(Duration::from_millis(250)).is_ok() {
            assert!(
                Instant::now() < deadline,
                "still reported after it was read"
            );
        }
        stop.store(true, Ordering::SeqCst);
    });
}

/// Level-triggered: unread data is reported to the waiters again and again (by one or
/// several), until it is read.
pub fn level_reaches_waiters_until_read<P: Poller + Sync>() {
    let _guard = watchdog("level_reaches_waiters_until_read", 4 * PATIENCE);
    let poller = P::new().expect("new");
    let (a, b) = unix_pair();
    let fd = a.as_raw_fd();
    poller
        .add_with(fd, Registration::client(1))
        .expect("add_with");
    let (stop, returns) = (AtomicBool::new(false), AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel();
    thread::scope(|scope| {
        let _stop = RaiseOnDrop(&stop);
        spawn_waiters(scope, &poller, fd, &stop, &returns, tx);
        send(&b, b"x");
        for _ in 0..10 {
            rx.recv_timeout(PATIENCE)
                .expect("unread data not reported again");
        }
        stop.store(true, Ordering::SeqCst);
    });
}

/// One wake makes at least one of the blocked waiters return; every later wake does too, so
/// wakes cannot get stuck coalescing with one that no waiter took.
pub fn wake_reaches_a_blocked_waiter<P: Poller + Sync>() {
    let _guard = watchdog("wake_reaches_a_blocked_waiter", 4 * PATIENCE);
    let poller = P::new().expect("new");
    let waker = poller.waker().expect("waker");
    let returns = AtomicUsize::new(0);
    let (blocked_tx, blocked_rx) = mpsc::channel();
    let (returned_tx, returned_rx) = mpsc::channel();
    thread::scope(|scope| {
        for _ in 0..WAITERS {
            let (blocked_tx, returned_tx) = (blocked_tx.clone(), returned_tx.clone());
            let (poller, returns) = (&poller, &returns);
            scope.spawn(move || {
                let mut events = Events::with_capacity(8).expect("events");
                blocked_tx
                    .send(BlockingThread::current())
                    .expect("announce");
                // Blocks until woken: a lost wake leaves it here, and the watchdog fails
                // the test.
                poller.poll_into(&mut events, None).expect("poll_into");
                assert!(events.is_empty(), "a wake surfaced as an event");
                returns.fetch_add(1, Ordering::SeqCst);
                returned_tx.send(()).expect("report return");
            });
        }
        for _ in 0..WAITERS {
            blocked_rx.recv().expect("waiter started").until_blocked();
        }
        // Each wake must free at least one more waiter.
        for freed in 1..=WAITERS {
            if returns.load(Ordering::SeqCst) >= freed {
                continue;
            }
            waker.wake().expect("wake");
            returned_rx
                .recv_timeout(PATIENCE)
                .unwrap_or_else(|_| panic!("wake {freed} freed no waiter"));
        }
    });
    assert_eq!(returns.load(Ordering::SeqCst), WAITERS);
}

backend_tests!(
    poll_into_fills_the_callers_buffer,
    #[cfg_attr(miri, ignore = "Miri's epoll has no oneshot")]
    edge_and_oneshot_reach_one_waiter,
    #[cfg_attr(
        miri,
        ignore = "Miri's epoll accepts edge-triggered registrations only"
    )]
    level_reaches_waiters_until_read,
    wake_reaches_a_blocked_waiter,
);
