//! In steady state, waiting allocates nothing: a counting global allocator watches thousands
//! of `wait`, `poll` and `wait_timeout` calls, with events ready, with a waker woken, and with
//! timeouts expiring.
//!
//! This file is its own test binary, and the allocator counts only calls made by the thread
//! that switched counting on, so the test harness and other tests cannot interfere. It checks
//! the platform's own backend and, on Linux and Android, the poll(2) backend, whose waits
//! allocate only when the number of registrations grows past its largest so far.

use pollio::{Backend, Interest, Mode, OsPoller, Poller, Registration, Waker};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

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
    edge: UnixStream,
    edge_peer: UnixStream,
    _level: (UnixStream, UnixStream),
}

fn setup(backend: Backend) -> Setup {
    let busy = OsPoller::with_backend(backend, OsPoller::DEFAULT_CAPACITY).expect("new");
    let idle = OsPoller::with_backend(backend, 16).expect("with_capacity");
    let (level, mut level_peer) = UnixStream::pair().expect("socketpair");
    level_peer.write_all(b"never read").expect("write");
    busy.add_with(level.as_raw_fd(), Registration::client(1))
        .expect("add level");
    let (edge, edge_peer) = UnixStream::pair().expect("socketpair");
    edge.set_nonblocking(true).expect("set_nonblocking");
    let reg = Registration::server(2)
        .with_interest(Interest::BOTH)
        .with_mode(Mode::Edge);
    busy.add_with(edge.as_raw_fd(), reg).expect("add edge");
    let (quiet, _quiet_peer) = UnixStream::pair().expect("socketpair");
    idle.add_with(quiet.as_raw_fd(), Registration::client(3))
        .expect("add quiet");
    Setup {
        busy_waker: busy.waker().expect("waker"),
        idle_waker: idle.waker().expect("waker"),
        busy,
        idle,
        edge,
        edge_peer,
        _level: (level, level_peer),
    }
}

/// One round of every kind of wait; returns how many events it saw. `timed` adds the waits
/// that run out their timeouts.
fn round(s: &mut Setup, timed: bool) -> usize {
    let mut events = 0;
    events += s.busy.wait(0).expect("wait").len();
    events += s.busy.poll(Some(Duration::ZERO)).expect("poll").len();
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
    events += s.busy.wait(-1).expect("wait").len();
    s.idle_waker.wake().expect("wake");
    events += s.idle.poll(None).expect("poll").len();
    s.idle_waker.wake().expect("wake");
    events += s.idle.wait(-1).expect("wait").len();

    if timed {
        events += s
            .idle
            .poll(Some(Duration::from_micros(100)))
            .expect("poll")
            .len();
        events += s.idle.wait(1).expect("wait").len();
        let precise = Duration::from_micros(50);
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

#[cfg(any(target_os = "linux", target_os = "android"))]
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
        for i in 0..2_000 {
            events += round(&mut s, i % 10 == 0);
        }
        events
    });
    assert_eq!(calls, 0, "the wait path called the allocator {calls} times");
    // Each round sees the level fd at least 4 times and the edge fd once; the idle waits see
    // nothing.
    assert!(
        events >= 2_000 * 5,
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
