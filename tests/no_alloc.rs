//! In steady state, waiting allocates nothing: a counting global allocator watches thousands
//! of `wait`, `poll` and `wait_timeout` calls, with events ready, with a waker woken, and with
//! timeouts expiring.
//!
//! This file is its own test binary, and the allocator counts only calls made by the thread
//! that switched counting on, so the test harness and other tests cannot interfere. It checks
//! the platform's own backend and, on Linux and Android, the poll(2) backend, whose waits
//! allocate only when the number of registrations grows past its largest so far.
//!
//! Under Miri, which emulates epoll but not poll(2), only the platform's own backend is
//! checked; the test runs 100 rounds instead of 2,000, its "always readable" fd is
//! edge-triggered and fed a byte before each wait that counts on it (Miri's epoll accepts
//! edge-triggered registrations only), and its sub-millisecond timeouts are 1 ms (Miri has no
//! epoll_pwait2).

// The conformance suite's descriptor helpers; this binary uses a few of them.
#[allow(dead_code)]
#[path = "conformance/support/fds.rs"]
mod fds;

// The fd names on every platform (sockets on Windows), which `fds` uses; each binary uses
// a few of them.
#[allow(dead_code, unused_imports)]
#[path = "conformance/support/fd.rs"]
mod fd;

use fd::AsRawFd;
use pollio::{Backend, Interest, Mode, OsPoller, Poller, Registration, Waker};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
#[cfg(unix)]
use std::fs::File;
use std::io::{Read, Write};
#[cfg(unix)]
use std::os::fd::OwnedFd;
use std::time::Duration;

/// Rounds of every kind of wait counted by the test.
const ROUNDS: usize = if cfg!(miri) { 100 } else { 2_000 };

/// The mode of the fd that is always readable: level-triggered, so every wait sees it, except
/// under Miri, whose epoll accepts edge-triggered registrations only; there `feed_level`
/// gives it a new byte before each wait that counts on it.
const LEVEL_UNLESS_MIRI: Mode = if cfg!(miri) { Mode::Edge } else { Mode::Level };

/// A timeout finer than a millisecond, or 1 ms under Miri, which has no epoll_pwait2.
fn sub_millisecond(micros: u64) -> Duration {
    if cfg!(miri) {
        Duration::from_millis(1)
    } else {
        Duration::from_micros(micros)
    }
}

/// Forwards to the system allocator, counting every call made while the calling thread has
/// counting switched on.
struct CountingAllocator;

thread_local! {
    // Const-initialised Cells need no lazy setup, so touching them never allocates.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static CALLS: Cell<usize> = const { Cell::new(0) };
}

fn note_call() {
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        let _ = CALLS.try_with(|calls| calls.set(calls.get() + 1));
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// GlobalAlloc contract holds exactly as it does for `System`.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_call();
        // SAFETY: forwarded unchanged; the caller upholds alloc's contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_call();
        // SAFETY: forwarded unchanged; the caller upholds alloc_zeroed's contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_call();
        // SAFETY: forwarded unchanged; `ptr` came from `System` through this allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note_call();
        // SAFETY: forwarded unchanged; `ptr` came from `System` through this allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Allocator calls made on this thread while `f` runs.
fn allocations_during<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = CALLS.with(Cell::get);
    COUNTING.with(|c| c.set(true));
    let result = f();
    COUNTING.with(|c| c.set(false));
    (CALLS.with(Cell::get) - before, result)
}

/// A busy poller (one fd always readable, one edge-triggered fd fed each round) and an idle
/// one (nothing ready, so its waits run to their timeouts or to a wake).
struct Setup {
    busy: OsPoller,
    busy_waker: Waker,
    idle: OsPoller,
    idle_waker: Waker,
    edge: End,
    edge_peer: End,
    _level: End,
    level_peer: End,
}

/// One end of a socket pair: a `File` on Unix, a TCP socket on Windows.
#[cfg(unix)]
type End = File;
/// One end of a socket pair: a `File` on Unix, a TCP socket on Windows.
#[cfg(windows)]
type End = std::net::TcpStream;

/// A non-blocking socket pair as two `File`s, read and written through read(2) and
/// write(2), which Miri's sockets implement (std's `UnixStream` uses recv(2) and send(2)).
#[cfg(unix)]
fn file_pair() -> (End, End) {
    let (a, b) = fds::unix_pair();
    (File::from(OwnedFd::from(a)), File::from(OwnedFd::from(b)))
}

/// A non-blocking TCP pair (Windows has no socketpair).
#[cfg(windows)]
fn file_pair() -> (End, End) {
    fds::unix_pair()
}

fn setup(backend: Backend) -> Setup {
    let busy = OsPoller::with_backend(backend, OsPoller::DEFAULT_CAPACITY).expect("new");
    let idle = OsPoller::with_backend(backend, 16).expect("with_capacity");
    let (level, mut level_peer) = file_pair();
    level_peer.write_all(b"never read").expect("write");
    let reg = Registration::client(1).with_mode(LEVEL_UNLESS_MIRI);
    busy.add_with(level.as_raw_fd(), reg).expect("add level");
    let (edge, edge_peer) = file_pair();
    let reg = Registration::server(2)
        .with_interest(Interest::BOTH)
        .with_mode(Mode::Edge);
    busy.add_with(edge.as_raw_fd(), reg).expect("add edge");
    let (quiet, _quiet_peer) = file_pair();
    idle.add_with(
        quiet.as_raw_fd(),
        Registration::client(3).with_mode(LEVEL_UNLESS_MIRI),
    )
    .expect("add quiet");
    Setup {
        busy_waker: busy.waker().expect("waker"),
        idle_waker: idle.waker().expect("waker"),
        busy,
        idle,
        edge,
        edge_peer,
        _level: level,
        level_peer,
    }
}

/// Makes the always-readable fd report on the next wait: a level-triggered registration
/// does anyway; an edge-triggered one (under Miri) needs new data.
fn feed_level(s: &Setup) {
    if LEVEL_UNLESS_MIRI.is_edge() {
        (&s.level_peer).write_all(b"l").expect("write");
    }
}

/// One round of every kind of wait; returns how many events it saw. `timed` adds the waits
/// that run out their timeouts.
fn round(s: &mut Setup, timed: bool) -> usize {
    let mut events = 0;
    feed_level(s);
    events += s.busy.wait(0).expect("wait").len();
    feed_level(s);
    events += s.busy.poll(Some(Duration::ZERO)).expect("poll").len();
    feed_level(s);
    events += s
        .busy
        .wait_timeout(Some(Duration::ZERO))
        .expect("wait_timeout")
        .len();

    (&s.edge_peer).write_all(b"e").expect("write");
    let seen = s.busy.poll(None).expect("poll");
    events += seen.iter().filter(|e| e.key() == 2).count();
    let mut buf = [0u8; 16];
    let _ = (&s.edge).read(&mut buf);

    s.busy_waker.wake().expect("wake");
    feed_level(s);
    events += s.busy.wait(-1).expect("wait").len();
    s.idle_waker.wake().expect("wake");
    events += s.idle.poll(None).expect("poll").len();
    s.idle_waker.wake().expect("wake");
    events += s.idle.wait(-1).expect("wait").len();

    if timed {
        events += s.idle.poll(Some(sub_millisecond(100))).expect("poll").len();
        events += s.idle.wait(1).expect("wait").len();
        let precise = sub_millisecond(50);
        events += s
            .idle
            .wait_timeout(Some(precise))
            .expect("wait_timeout")
            .len();
    }
    events
}

#[test]
fn steady_state_waits_do_not_allocate() {
    let native = OsPoller::new().expect("new").backend();
    steady_state_waits_do_not_allocate_on(native);
}

#[cfg(all(any(target_os = "linux", target_os = "android"), not(miri)))]
#[test]
fn steady_state_waits_do_not_allocate_on_poll() {
    steady_state_waits_do_not_allocate_on(Backend::Poll);
}

fn steady_state_waits_do_not_allocate_on(backend: Backend) {
    let mut s = setup(backend);
    for _ in 0..10 {
        round(&mut s, true);
    }
    let (calls, events) = allocations_during(|| {
        let mut events = 0;
        for i in 0..ROUNDS {
            events += round(&mut s, i % 10 == 0);
        }
        events
    });
    assert_eq!(calls, 0, "the wait path called the allocator {calls} times");
    // Each round sees the level fd at least 4 times and the edge fd once; the idle waits see
    // nothing.
    assert!(
        events >= ROUNDS * 5,
        "only {events} events: the waits did not run"
    );
}

/// The counter itself works: without this, a broken counter would pass the test above.
#[test]
fn the_counter_sees_allocations() {
    let (calls, v) = allocations_during(|| vec![1u8; 64]);
    assert_eq!(v.len(), 64);
    assert!(calls >= 1);
}

/// Timers and signal sources add nothing to that: setting, cancelling, firing, waiting and
/// reading counts allocate nothing once the sources exist. (Unix: Windows has neither yet.)
#[test]
#[cfg_attr(miri, ignore = "Miri has no timerfd or signalfd")]
// Unix, and not where poll(2) is the only backend: no timer or signal sources there (Windows
// has no signals).
#[cfg(all(
    unix,
    not(any(
        target_os = "illumos",
        target_os = "solaris",
        target_os = "haiku",
        target_os = "hurd",
        target_os = "nto",
        target_os = "redox",
        target_os = "cygwin",
    ))
))]
fn timer_and_signal_sources_do_not_allocate() {
    use pollio::Events;
    let poller = OsPoller::new().unwrap();
    let timer = poller.timer(Registration::client(1)).unwrap();
    // SIGURG: its default action ignores it, so nothing is lost if the test goes wrong.
    let signal = poller
        .signal(libc::SIGURG, Registration::client(2))
        .unwrap();
    let mut events = Events::new();
    let rounds = ROUNDS / 10;
    let (calls, fired) = allocations_during(|| {
        let mut fired = 0;
        for _ in 0..rounds {
            timer.set_after(Duration::from_secs(60)).unwrap();
            timer.cancel().unwrap();
            timer.set_after(Duration::ZERO).unwrap();
            // SAFETY: raise takes a signal number; the source blocks (Linux) or ignores
            // (kqueue) it.
            assert_eq!(unsafe { libc::raise(libc::SIGURG) }, 0);
            let mut seen = (0, 0);
            for _ in 0..100 {
                if seen.0 > 0 && seen.1 > 0 {
                    break;
                }
                poller
                    .poll_into(&mut events, Some(Duration::from_secs(5)))
                    .unwrap();
                for event in &events {
                    match event.key() {
                        1 => seen.0 += timer.expirations(event).unwrap(),
                        _ => seen.1 += signal.deliveries(event).unwrap(),
                    }
                }
            }
            if seen.0 > 0 && seen.1 > 0 {
                fired += 1;
            }
        }
        fired
    });
    assert_eq!(fired, rounds);
    assert_eq!(calls, 0, "{calls} allocations in {rounds} rounds");
}
