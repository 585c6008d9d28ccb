//! Stress tests: many descriptors, many waits, concurrent registration, wake storms, small
//! event buffers and poller churn.
//!
//! Each test has a fast size for CI, a long size, and a small size for Miri (`ci/miri.sh`),
//! which interprets the program about a hundred times slower:
//!
//! ```text
//! cargo test --test stress                                     # fast
//! POLLIO_STRESS=long cargo test --release --test stress        # long
//! ```
//!
//! | test | fast | long | Miri |
//! |------|------|------|------|
//! | `random_readiness_loses_no_event` | 1,000 fds, 5,000 waits | 10,000 fds, 100,000 waits | 50 fds, 100 waits, capacity 16 |
//! | `registration_from_four_threads_while_waiting` | 4 × 64 pairs, 4 × 5,000 changes | 4 × 250 pairs, 4 × 100,000 changes | 4 × 8 pairs, 4 × 200 changes |
//! | `no_wake_is_lost` | 20,000 wakes | 1,000,000 wakes | 1,000 wakes |
//! | `wake_after_push_is_never_skipped` | 2 s | 60 s | not run |
//! | `small_buffer_delivers_every_ready_fd` | 1,000 fds, capacity 16 | 5,000 fds, capacity 16 | 100 fds, capacity 16 |
//! | `pollers_leak_no_descriptor` | 1,000 pollers | 10,000 pollers | not run |
//! | `many_live_timers_fire_once_each` | 10,000 timers | 50,000 timers | not run |
//! | `signal_storm_through_a_source` | 20,000 signals | 200,000 signals | not run |
//!
//! Miri's epoll accepts edge-triggered registrations only, so under Miri every registration
//! here is edge-triggered, and `pollers_leak_no_descriptor`, which counts descriptors in
//! /proc (the interpreter's, under Miri), does not run, nor do the timer and signal source
//! tests (Miri has no timerfd and no signals).
//!
//! On Windows (under Wine, `ci/windows.sh`) the pairs are TCP pairs, and the signal test does
//! not exist: Windows has no signals.
//!
//! The random tests print their seed; `POLLIO_STRESS_SEED=n` replays one. The tests in this
//! binary run one at a time: they count the process's descriptors and share two cores.
//!
//! Each test runs on the platform's own backend (`native::`) and, on Linux and Android, on
//! poll(2) too (`poll::`), where edge-triggered registrations are reported as level-triggered
//! ones: the tests that count edges say what they expect of each.

// The conformance suite's descriptor helpers; this binary uses a few of them.
#[allow(dead_code)]
#[path = "conformance/support/fds.rs"]
mod fds;
// The fd names on every platform (sockets on Windows), which `fds` uses; each binary uses
// a few of them.
#[allow(dead_code, unused_imports)]
#[path = "conformance/support/fd.rs"]
mod fd;

use fd::{AsFd, AsRawFd, RawFd};
use fds::Stream as UnixStream;
use pollio::{Backend, EventKind, Interest, Mode, OsPoller, Poller, Registration, Registry};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// Instantiates each test body (a function of the backend) for the platform's own backend, and
/// on Linux and Android for poll(2).
macro_rules! stress_tests {
    ($($(#[$attr:meta])* $test:ident),* $(,)?) => {
        mod native {
            $(
                $(#[$attr])*
                #[test]
                fn $test() {
                    super::$test(super::native());
                }
            )*
        }
        // Not under Miri, which emulates epoll but not poll(2).
        #[cfg(all(any(target_os = "linux", target_os = "android"), not(miri)))]
        mod poll {
            $(
                $(#[$attr])*
                #[test]
                fn $test() {
                    super::$test(pollio::Backend::Poll);
                }
            )*
        }
    };
}

stress_tests!(
    random_readiness_loses_no_event,
    registration_from_four_threads_while_waiting,
    no_wake_is_lost,
    #[cfg_attr(
        miri,
        ignore = "timed in wall-clock seconds against 50 ms waits, which Miri is too slow to honour"
    )]
    wake_after_push_is_never_skipped,
    small_buffer_delivers_every_ready_fd,
    #[cfg(target_os = "linux")]
    #[cfg_attr(
        miri,
        ignore = "counts /proc/self/fd, which lists the interpreter's descriptors under Miri"
    )]
    pollers_leak_no_descriptor,
);

/// The backend `OsPoller::new` uses here.
fn native() -> Backend {
    OsPoller::new().unwrap().backend()
}

/// A poller on `backend` with room for `capacity` events per wait.
fn poller_on(backend: Backend, capacity: usize) -> OsPoller {
    OsPoller::with_backend(backend, capacity).unwrap()
}

/// The mode that reports new readiness once: edge-triggered, or oneshot on Windows, which
/// emulates edge-triggered as level-triggered (unread data is reported again).
const ONCE: Mode = if cfg!(windows) {
    Mode::Oneshot
} else {
    Mode::Edge
};

/// Keeps the tests of this binary from running at the same time.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn long() -> bool {
    std::env::var("POLLIO_STRESS").is_ok_and(|v| v == "long")
}

/// `fast` or `long` depending on `POLLIO_STRESS`; `miri` under Miri.
fn size(miri: usize, fast: usize, long_size: usize) -> usize {
    if cfg!(miri) {
        miri
    } else if long() {
        long_size
    } else {
        fast
    }
}

/// A small xorshift generator: the tests need reproducible randomness, not quality.
struct Rng(u64);

impl Rng {
    fn new(test: &str) -> Rng {
        let seed = std::env::var("POLLIO_STRESS_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                now.as_nanos() as u64 | 1
            });
        eprintln!("{test}: POLLIO_STRESS_SEED={seed}");
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[cfg(target_os = "linux")]
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd is readable")
        .count()
}

/// Socket pairs whose ends are all non-blocking.
fn pairs(n: usize) -> Vec<(UnixStream, UnixStream)> {
    fds::raise_fd_limit(2 * n + 256);
    (0..n).map(|_| fds::unix_pair()).collect()
}

/// Reads everything `stream` has; returns the byte count.
fn drain(stream: &UnixStream) -> usize {
    fds::drain(stream).len()
}

/// 10,000 registered ends (both ends of 5,000 pairs), each a random mix of level and edge.
/// Every round writes to random ends' peers, waits without blocking and drains what was
/// reported. Each wait must return exactly the ready ends (or a full buffer of them), and each
/// end is reported only while it holds unread bytes.
fn random_readiness_loses_no_event(backend: Backend) {
    let _serial = serial();
    let mut rng = Rng::new("random_readiness_loses_no_event");
    let pair_count = size(25, 500, 5_000);
    let waits = size(100, 5_000, 100_000);
    // Miri's few fds must still overflow the buffer now and then.
    let capacity = size(16, 256, 256);
    let mut poller = poller_on(backend, capacity);

    // End i is pairs[i / 2].0 or .1; its peer is the other end of the same pair.
    let pairs = pairs(pair_count);
    let end = |i: usize| -> &UnixStream {
        let pair = &pairs[i / 2];
        if i % 2 == 0 {
            &pair.0
        } else {
            &pair.1
        }
    };
    let ends = pair_count * 2;
    let mut fd_to_end = std::collections::HashMap::new();
    for i in 0..ends {
        // Miri's epoll accepts edge-triggered registrations only.
        let mode = if rng.below(2) == 0 && !cfg!(miri) {
            Mode::Level
        } else {
            Mode::Edge
        };
        let reg = Registration::client(i as u32).with_mode(mode);
        poller.register(end(i).as_fd(), reg).unwrap();
        fd_to_end.insert(end(i).as_raw_fd(), i);
    }

    let mut unread = vec![0usize; ends];
    let mut ready: HashSet<usize> = HashSet::new();
    let mut reported = 0u64;
    for round in 0..waits {
        // Mostly a few writes; sometimes more than the buffer holds.
        let writes = if rng.below(50) == 0 {
            rng.below(600)
        } else {
            rng.below(24)
        };
        for _ in 0..writes {
            let i = rng.below(ends);
            let peer = end(i ^ 1);
            fds::send(peer, b"x");
            unread[i] += 1;
            ready.insert(i);
        }
        let events = poller.poll(Some(Duration::ZERO)).unwrap();
        let expected = ready.len().min(capacity);
        assert_eq!(
            events.len(),
            expected,
            "round {round}: {} ends hold unread bytes, capacity {capacity}",
            ready.len()
        );
        let mut seen = HashSet::new();
        for event in events {
            let i = event.key() as usize;
            assert_eq!(fd_to_end.get(&event.fd()), Some(&i), "fd and key disagree");
            assert!(seen.insert(i), "round {round}: end {i} reported twice");
            assert!(event.readiness().is_readable());
            assert!(
                ready.contains(&i),
                "round {round}: end {i} has nothing to read"
            );
        }
        for i in seen {
            assert_eq!(drain(end(i)), unread[i], "round {round}: end {i}");
            unread[i] = 0;
            ready.remove(&i);
            reported += 1;
        }
    }
    // Whatever is left must come out within a few waits.
    let mut rounds = 0;
    while !ready.is_empty() {
        rounds += 1;
        assert!(rounds <= ends / capacity + 2, "ready ends never reported");
        for event in poller.poll(Some(Duration::ZERO)).unwrap() {
            let i = event.key() as usize;
            assert!(ready.remove(&i), "end {i} reported with nothing to read");
            drain(end(i));
        }
    }
    assert!(poller.poll(Some(Duration::ZERO)).unwrap().is_empty());
    assert!(reported > 0);
}

/// Four threads add, modify and delete registrations of their own socket pairs through a
/// `Registry` and write to them, while a fifth waits on the poller. Every event must carry the
/// fd, key and kind of one registration. At the end every fd still registered (re-armed to
/// edge, or oneshot on Windows; readable) gets one new byte and must be reported once (and is
/// then read, which ends the reports of the poll backend's edge-as-level), and no other fd may
/// be.
fn registration_from_four_threads_while_waiting(backend: Backend) {
    let _serial = serial();
    let per_thread = size(8, 64, 250);
    let changes = size(200, 5_000, 100_000);
    let mut rng = Rng::new("registration_from_four_threads_while_waiting");
    let mut poller = poller_on(backend, OsPoller::DEFAULT_CAPACITY);
    let registry = poller.registry().unwrap();
    let stop = AtomicBool::new(false);

    // Thread t owns sets[t]; pair i of thread t is registered with key t << 16 | i, and the
    // waiting thread checks every event against this table.
    let sets: Vec<Vec<(UnixStream, UnixStream)>> = (0..4).map(|_| pairs(per_thread)).collect();
    let mut fd_of_key = std::collections::HashMap::new();
    for (t, set) in sets.iter().enumerate() {
        for (i, (ours, _)) in set.iter().enumerate() {
            fd_of_key.insert(churn_key(t, i), ours.as_raw_fd());
        }
    }
    let seeds: Vec<u64> = (0..4).map(|_| rng.next()).collect();

    let (poller, survivors) = thread::scope(|scope| {
        // A churning thread that panics makes the join below panic: the waiting thread must
        // still be told to stop, or the scope would wait for it forever.
        let _stop_on_panic = RaiseOnPanic(&stop);
        let (stop, fd_of_key) = (&stop, &fd_of_key);
        let waiter = scope.spawn(move || {
            let mut events = 0u64;
            while !stop.load(Ordering::Acquire) {
                for event in poller.poll(Some(Duration::from_millis(5))).unwrap() {
                    let key = event.key();
                    assert_eq!(fd_of_key.get(&key), Some(&event.fd()), "{event:?}");
                    assert_eq!(event.kind(), churn_kind(key as usize & 0xffff));
                    events += 1;
                }
            }
            (poller, events)
        });
        let churners: Vec<_> = sets
            .iter()
            .zip(&seeds)
            .enumerate()
            .map(|(t, (set, &seed))| {
                let registry = registry.clone();
                scope.spawn(move || churn(t, set, &registry, &mut Rng(seed | 1), changes))
            })
            .collect();
        let survivors: HashSet<(RawFd, u32)> = churners
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        stop.store(true, Ordering::Release);
        let (poller, events) = waiter.join().unwrap();
        assert!(events > 0, "the waiting thread saw no event at all");
        (poller, survivors)
    });
    let mut poller = poller;

    // With nothing unread, edge-triggered readable registrations have nothing to report...
    for (ours, _) in sets.iter().flatten() {
        drain(ours);
    }
    // (On Windows a poll that found data before the drain has queued its event already, and
    // the event would still be reported: re-arming drops it, as a wait then polls afresh.)
    if cfg!(windows) {
        for &(fd, key) in &survivors {
            let reg = Registration::new(churn_kind(key as usize & 0xffff), key).with_mode(ONCE);
            poller.modify(fd, reg).unwrap();
        }
    }
    let early = poller.poll(Some(Duration::ZERO)).unwrap();
    assert!(early.is_empty(), "reported with nothing to read: {early:?}");
    // ...and one byte to every pair makes exactly the registered ones ready, once.
    for (_, peer) in sets.iter().flatten() {
        fds::send(peer, b"!");
    }
    let stream_of: std::collections::HashMap<RawFd, &UnixStream> = sets
        .iter()
        .flatten()
        .map(|(ours, _)| (ours.as_raw_fd(), ours))
        .collect();
    let mut owed = survivors.clone();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !owed.is_empty() {
        assert!(Instant::now() < deadline, "never reported: {owed:?}");
        for event in poller.poll(Some(Duration::from_millis(100))).unwrap() {
            assert!(
                owed.remove(&(event.fd(), event.key())),
                "unexpected or repeated event {event:?}"
            );
            assert_eq!(drain(stream_of[&event.fd()]), 1, "{event:?}");
        }
    }
    assert!(!survivors.is_empty());
    assert!(poller.poll(Some(Duration::ZERO)).unwrap().is_empty());
}

fn churn_key(thread: usize, index: usize) -> u32 {
    (thread << 16 | index) as u32
}

/// Even pairs are servers, odd ones clients, so kinds are checked too.
fn churn_kind(index: usize) -> EventKind {
    if index % 2 == 0 {
        EventKind::Server
    } else {
        EventKind::Client
    }
}

/// Random add / modify / delete / write / read on `pairs`; returns the (fd, key) of every pair
/// left registered, each re-armed for readability to report once (`ONCE`).
fn churn(
    thread: usize,
    pairs: &[(UnixStream, UnixStream)],
    registry: &Registry,
    rng: &mut Rng,
    changes: usize,
) -> Vec<(RawFd, u32)> {
    let reg_for = |index: usize, interest: Interest, mode: Mode| {
        Registration::new(churn_kind(index), churn_key(thread, index))
            .with_interest(interest)
            .with_mode(mode)
    };
    let mut registered = vec![false; pairs.len()];
    let interests = [Interest::READABLE, Interest::WRITABLE, Interest::BOTH];
    // Miri's epoll accepts edge-triggered registrations only.
    let modes: &[Mode] = if cfg!(miri) {
        &[Mode::Edge]
    } else {
        &[Mode::Level, Mode::Edge, Mode::Oneshot, Mode::EdgeOneshot]
    };
    for _ in 0..changes {
        let i = rng.below(pairs.len());
        let (ours, peer) = &pairs[i];
        let interest = interests[rng.below(interests.len())];
        let reg = reg_for(i, interest, modes[rng.below(modes.len())]);
        match rng.below(4) {
            0 => {
                let result = registry.register(ours.as_fd(), reg);
                assert_eq!(result.is_ok(), !registered[i], "add: {result:?}");
                registered[i] = true;
            }
            1 => {
                let result = registry.reregister(ours.as_fd(), reg);
                assert_eq!(result.is_ok(), registered[i], "modify: {result:?}");
            }
            2 => {
                let result = registry.deregister(ours.as_fd());
                assert_eq!(result.is_ok(), registered[i], "delete: {result:?}");
                registered[i] = false;
            }
            _ => {
                let _ = fds::try_send(peer, b"d");
                if rng.below(2) == 0 {
                    drain(ours);
                }
            }
        }
    }
    let mut survivors = Vec::new();
    for (i, (ours, _)) in pairs.iter().enumerate() {
        if registered[i] {
            let reg = reg_for(i, Interest::READABLE, ONCE);
            registry.reregister(ours.as_fd(), reg).unwrap();
            survivors.push((ours.as_raw_fd(), reg.key()));
        }
    }
    survivors
}

/// Four threads wake the poller; a fifth waits. Every wake made after a wait returned must make
/// a wait return: the waiting thread records the wake count before each wait, and a wait that
/// sleeps its whole (10 s) timeout although the count moved meanwhile has lost a wake. Each
/// waker also stops every 64 wakes until the waiting thread has seen its latest one, so wakes
/// are not only ever covered by a later wake.
fn no_wake_is_lost(backend: Backend) {
    let _serial = serial();
    let total = size(1_000, 20_000, 1_000_000) as u64;
    let per_thread = total / 4;
    let limit = Duration::from_secs(10);
    let overall = Instant::now() + Duration::from_secs(if long() { 600 } else { 120 });
    let mut poller = poller_on(backend, OsPoller::DEFAULT_CAPACITY);
    let waker = poller.waker().unwrap();
    let issued = AtomicU64::new(0);
    let seen = AtomicU64::new(0);
    let failed = AtomicBool::new(false);

    let returns = thread::scope(|scope| {
        for _ in 0..4 {
            let waker = waker.clone();
            let (issued, seen, failed) = (&issued, &seen, &failed);
            scope.spawn(move || {
                for i in 0..per_thread {
                    let mine = issued.fetch_add(1, Ordering::SeqCst) + 1;
                    waker.wake().unwrap();
                    if i % 64 == 63 || i + 1 == per_thread {
                        while seen.load(Ordering::SeqCst) < mine {
                            if failed.load(Ordering::SeqCst) {
                                return;
                            }
                            if Instant::now() > overall {
                                failed.store(true, Ordering::SeqCst);
                                panic!("wake {mine} never seen by the waiting thread");
                            }
                            thread::yield_now();
                        }
                    }
                }
            });
        }
        // If this thread panics, the wakers must not wait for it until the deadline.
        let _release = RaiseOnPanic(&failed);
        let mut returns = 0u64;
        loop {
            let before = issued.load(Ordering::SeqCst);
            seen.store(before, Ordering::SeqCst);
            if before == total {
                return returns;
            }
            assert!(Instant::now() < overall, "wake test ran out of time");
            let start = Instant::now();
            let events = poller.poll(Some(limit)).unwrap();
            assert!(events.is_empty(), "a wake surfaced as an event");
            let slept = start.elapsed();
            returns += 1;
            let after = issued.load(Ordering::SeqCst);
            if slept >= limit && after > before {
                panic!("wakes {}..={after} came after the last return, yet the wait slept its whole timeout", before + 1);
            }
        }
    });
    assert!(!failed.load(Ordering::SeqCst));
    // Wakes coalesce, so there are at most as many returns as wakes, and at least one.
    assert!(
        returns >= 1 && returns <= total,
        "{returns} returns for {total} wakes"
    );
    eprintln!("no_wake_is_lost: {total} wakes, {returns} returns");
}

/// The store-buffering pattern a work queue meets when its consumer clears the poller's
/// "wake pending" flag and then reads the queue, while producers push and then wake: if the
/// consumer's clear could be ordered after its read, a producer could see the old "pending",
/// skip its system call, and leave the consumer asleep with work queued and no wake coming.
///
/// Two producers push (a counter) and wake as fast as they can; the consumer takes what is
/// queued and waits whenever the queue looks empty. A wait that sleeps its whole 50 ms timeout
/// while work was pushed meanwhile is suspicious (a wake may land just after the timeout); a
/// second wait of 1 s then settles it: with a wake pending or in flight it returns at once,
/// and only a lost wake (every later wake skipped, none pending) lets it sleep to the end.
fn wake_after_push_is_never_skipped(backend: Backend) {
    let _serial = serial();
    const PRODUCERS: usize = 1;
    let run_for = Duration::from_secs(size(0, 2, 60) as u64);
    let short = Duration::from_millis(50);
    let confirm = Duration::from_secs(1);
    let mut poller = poller_on(backend, OsPoller::DEFAULT_CAPACITY);
    let waker = poller.waker().unwrap();
    let pushed = AtomicU64::new(0);
    let stop = AtomicBool::new(false);

    let (waits, taken) = thread::scope(|scope| {
        for _ in 0..PRODUCERS {
            let (waker, pushed, stop) = (waker.clone(), &pushed, &stop);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    pushed.fetch_add(1, Ordering::Relaxed);
                    waker.wake().unwrap();
                }
            });
        }
        // However the consumer ends, the producers stop.
        let _stop = StopOnDrop(&stop);
        let end = Instant::now() + run_for;
        let (mut waits, mut taken) = (0u64, 0u64);
        let mut queued = pushed.load(Ordering::Relaxed);
        while waits % 1024 != 0 || Instant::now() < end {
            if queued > taken {
                taken = queued;
                queued = pushed.load(Ordering::Relaxed);
                continue;
            }
            waits += 1;
            let start = Instant::now();
            let events = poller.poll(Some(short)).unwrap().len();
            // Read the queue straight after the wait returns, as a consumer does: nothing in
            // between may hide a reordering of the wait's own bookkeeping.
            queued = pushed.load(Ordering::Relaxed);
            assert_eq!(events, 0, "a wake surfaced as an event");
            if start.elapsed() < short || queued == taken {
                continue;
            }
            let start = Instant::now();
            assert!(poller.poll(Some(confirm)).unwrap().is_empty());
            assert!(
                start.elapsed() < confirm,
                "lost wake: work was pushed and woken for, yet two waits slept their whole \
                 timeouts (after {waits} waits)"
            );
        }
        (waits, taken)
    });
    assert!(waits > 0 && taken > 0, "{waits} waits, {taken} items taken");
    eprintln!("wake_after_push_is_never_skipped: {waits} waits, {taken} items");
}

/// Raises its flag when dropped, panicking or not.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Raises its flag when dropped during a panic.
struct RaiseOnPanic<'a>(&'a AtomicBool);

impl Drop for RaiseOnPanic<'_> {
    fn drop(&mut self) {
        if thread::panicking() {
            self.0.store(true, Ordering::SeqCst);
        }
    }
}

/// 1,000 ready fds and an event buffer of 16: level-triggered, successive waits go round the
/// ready set (epoll(7); the poll backend starts each wait after the last fd it reported), so
/// 63 waits report every fd without reading any; edge-triggered, each fd is reported exactly
/// once (poll: as level-triggered, and still ready after).
fn small_buffer_delivers_every_ready_fd(backend: Backend) {
    let _serial = serial();
    let count = size(100, 1_000, 5_000);
    let capacity = 16;
    let pairs = pairs(count);
    // Miri's epoll accepts edge-triggered registrations only.
    let modes: &[Mode] = if cfg!(miri) {
        &[Mode::Edge]
    } else {
        &[Mode::Level, ONCE]
    };
    for &mode in modes {
        let mut poller = poller_on(backend, capacity);
        for (i, (ours, peer)) in pairs.iter().enumerate() {
            drain(ours);
            poller
                .register(ours.as_fd(), Registration::client(i as u32).with_mode(mode))
                .unwrap();
            fds::send(peer, b"r");
        }
        let mut seen = vec![0u32; count];
        let waits = count.div_ceil(capacity);
        for _ in 0..waits {
            let events = poller.poll(Some(Duration::ZERO)).unwrap();
            assert!(!events.is_empty() && events.len() <= capacity);
            for event in events {
                seen[event.key() as usize] += 1;
            }
        }
        let missing: Vec<usize> = (0..count).filter(|&i| seen[i] == 0).collect();
        assert!(missing.is_empty(), "{mode:?}: never reported: {missing:?}");
        if mode == ONCE && backend != Backend::Poll {
            assert!(seen.iter().all(|&n| n == 1), "{mode:?}: reported twice");
            assert!(poller.poll(Some(Duration::ZERO)).unwrap().is_empty());
        } else {
            let events = poller.poll(Some(Duration::ZERO)).unwrap();
            assert_eq!(events.len(), capacity, "{mode:?}: unread, so still ready");
        }
    }
}

/// Pollers with a waker, a registry and a registration, created and dropped over and over:
/// the process ends with as many descriptors as it started with (counted in /proc, so Linux).
#[cfg(target_os = "linux")]
fn pollers_leak_no_descriptor(backend: Backend) {
    use std::io::Write;
    let _serial = serial();
    let rounds = size(0, 1_000, 10_000);
    let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    let before = open_fds();
    for i in 0..rounds {
        let mut poller = poller_on(backend, 1 + i % 64);
        let waker = poller.waker().unwrap();
        let registry = poller.registry().unwrap();
        registry
            .register(a.as_fd(), Registration::server(7))
            .unwrap();
        if i % 2 == 0 {
            // Drop the poller before its handles, too.
            b.write_all(b"p").unwrap();
            assert_eq!(poller.poll(None).unwrap()[0].key(), 7);
            drain(&a);
            drop(poller);
            waker.wake().unwrap();
            drop(registry);
        } else {
            waker.wake().unwrap();
            assert!(poller.poll(None).unwrap().is_empty());
        }
    }
    assert_eq!(open_fds(), before, "descriptors leaked");
}

/// The timer and signal source tests: not where poll(2) is the only backend, which has no such
/// sources.
#[cfg(not(any(
    target_os = "illumos",
    target_os = "solaris",
    target_os = "haiku",
    target_os = "hurd",
    target_os = "nto",
    target_os = "redox",
    target_os = "cygwin",
)))]
mod sources {
    use super::*;
    use pollio::{Events, Timer};

    stress_tests!(
        #[cfg_attr(miri, ignore = "Miri has no timerfd")]
        many_live_timers_fire_once_each,
        // Windows has no signals.
        #[cfg(unix)]
        #[cfg_attr(miri, ignore = "Miri has no signals")]
        signal_storm_through_a_source,
    );

    /// Many live timers: each fires once, never before its deadline, with its own key; then half
    /// are set again and half cancelled, and only the ones set again fire.
    fn many_live_timers_fire_once_each(backend: Backend) {
        let _serial = serial();
        let n = size(0, 10_000, 50_000);
        fds::raise_fd_limit(n + 256);
        let poller = poller_on(backend, OsPoller::DEFAULT_CAPACITY);
        let timers: Vec<Timer> = (0..n)
            .map(|i| poller.timer(Registration::client(i as u32)).unwrap())
            .collect();
        let start = Instant::now();
        // Deadlines spread over 50 ms, so events come in many waits.
        let deadline = |i: usize| start + Duration::from_micros((i % 500) as u64 * 100);
        for (i, timer) in timers.iter().enumerate() {
            timer.set_at(deadline(i)).unwrap();
        }
        let mut seen = vec![false; n];
        collect(&poller, &timers, &mut seen, n, |i| {
            let now = Instant::now();
            assert!(
                now >= deadline(i),
                "timer {i} fired {:?} early",
                deadline(i) - now
            );
        });

        for (i, timer) in timers.iter().enumerate() {
            if i % 2 == 0 {
                timer.set_after(Duration::from_millis(1)).unwrap();
            } else {
                timer.set_after(Duration::from_millis(1)).unwrap();
                timer.cancel().unwrap();
            }
        }
        let mut seen = vec![false; n];
        collect(&poller, &timers, &mut seen, n / 2, |i| {
            assert_eq!(i % 2, 0, "cancelled timer {i} fired");
        });
        // Nothing else comes.
        let mut events = Events::new();
        poller
            .poll_into(&mut events, Some(Duration::from_millis(20)))
            .unwrap();
        for event in &events {
            let count = timers[event.key() as usize].expirations(event).unwrap();
            assert_eq!(count, 0, "timer {} fired again", event.key());
        }
    }

    /// Waits until `expected` timers have fired once each, calling `check` with each index.
    fn collect(
        poller: &OsPoller,
        timers: &[Timer],
        seen: &mut [bool],
        expected: usize,
        check: impl Fn(usize),
    ) {
        let mut events = Events::new();
        let mut fired = 0;
        let give_up = Instant::now() + Duration::from_secs(30);
        while fired < expected {
            assert!(
                Instant::now() < give_up,
                "{fired} of {expected} timers fired"
            );
            poller
                .poll_into(&mut events, Some(Duration::from_secs(5)))
                .unwrap();
            for event in &events {
                let i = event.key() as usize;
                match timers[i].expirations(event).unwrap() {
                    0 => continue, // queued before it was set again
                    1 => {}
                    count => panic!("one-shot timer {i} counted {count} expirations"),
                }
                check(i);
                assert!(!seen[i], "timer {i} fired twice");
                seen[i] = true;
                fired += 1;
            }
        }
    }

    /// A storm of signals sent to the waiting thread: the source reports them (each a real-time
    /// signal on Linux, where they queue; at most as many as were sent of a standard one), and
    /// the process survives them.
    #[cfg(unix)]
    fn signal_storm_through_a_source(backend: Backend) {
        let _serial = serial();
        let sent = size(0, 20_000, 200_000);
        #[cfg(target_os = "linux")]
        let signo = libc::SIGRTMIN() + 4;
        #[cfg(not(target_os = "linux"))]
        let signo = libc::SIGUSR2;
        let poller = poller_on(backend, OsPoller::DEFAULT_CAPACITY);
        let signal = poller.signal(signo, Registration::client(1)).unwrap();
        // SAFETY: pthread_self takes no arguments and cannot fail.
        let target = unsafe { libc::pthread_self() } as usize;
        let done = std::sync::Arc::new(AtomicBool::new(false));
        let sender = {
            let done = std::sync::Arc::clone(&done);
            thread::spawn(move || {
                let mut n = 0;
                while n < sent {
                    // SAFETY: the target thread lives until this thread is joined, and blocks
                    // (Linux) or ignores (kqueue) the signal through its source.
                    let rc = unsafe { libc::pthread_kill(target as libc::pthread_t, signo) };
                    match rc {
                        0 => n += 1,
                        // The real-time queue is full until the waiter reads it.
                        libc::EAGAIN => thread::yield_now(),
                        rc => panic!("pthread_kill: {}", std::io::Error::from_raw_os_error(rc)),
                    }
                }
                done.store(true, Ordering::SeqCst);
            })
        };
        let mut events = Events::new();
        let mut received = 0;
        let give_up = Instant::now() + Duration::from_secs(60);
        loop {
            assert!(Instant::now() < give_up, "{received} of {sent} received");
            // SeqCst: pairs with the sender's store after its last signal, so a final poll
            // after seeing it finds every signal that was sent.
            let finished = done.load(Ordering::SeqCst);
            poller
                .poll_into(&mut events, Some(Duration::from_millis(10)))
                .unwrap();
            for event in &events {
                received += signal.deliveries(event).unwrap();
            }
            if finished {
                break;
            }
        }
        sender.join().unwrap();
        // One last look: a delivery whose edge came before the last read is still counted.
        poller.poll_into(&mut events, Some(Duration::ZERO)).unwrap();
        for event in &events {
            received += signal.deliveries(event).unwrap();
        }
        if cfg!(target_os = "linux") {
            assert_eq!(received, sent as u64);
        } else {
            assert!(
                (1..=sent as u64).contains(&received),
                "{received} of {sent}"
            );
        }
    }
}
