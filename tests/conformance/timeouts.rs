//! Duration timeouts: never early, zero never blocks, huge means "block".

use crate::support::fd::AsRawFd;
use crate::support::Stream;
use crate::support::{
    backend_of, millis_under_miri, poll_for, unix_pair, watchdog, BlockingThread, INCIDENTAL_MODE,
    PATIENCE,
};
use pollio::{Backend, Interest, Poller, Registration};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

/// Timeouts checked for their lower bound, with how often each is tried: sub-millisecond
/// (must not round down to a busy 0 ms), whole milliseconds, and a fraction above a whole
/// millisecond (must not round down to it). Under Miri, each is rounded up to whole
/// milliseconds (see `millis_under_miri`).
const LOWER_BOUNDS: [(Duration, usize); 5] = [
    (Duration::from_micros(100), 20),
    (Duration::from_micros(999), 5),
    (Duration::from_millis(1), 5),
    (Duration::from_micros(1_500), 5),
    (Duration::from_millis(20), 2),
];

/// A poller with one registered fd that never becomes ready, and that fd's socket pair,
/// which the caller keeps open.
fn idle_poller<P: Poller>() -> (P, (Stream, Stream)) {
    let poller = P::new().expect("new");
    let (a, b) = unix_pair();
    let reg = Registration::client(1)
        .with_interest(Interest::READABLE)
        .with_mode(INCIDENTAL_MODE);
    poller.add_with(a.as_raw_fd(), reg).expect("add_with");
    (poller, (a, b))
}

/// `poll` with nothing ready never returns before its timeout.
pub fn poll_never_returns_early<P: Poller>() {
    let (mut poller, _keep) = idle_poller::<P>();
    for (timeout, tries) in LOWER_BOUNDS {
        for _ in 0..tries {
            let start = Instant::now();
            let events = poll_for(&mut poller, timeout);
            let waited = start.elapsed();
            assert!(events.is_empty(), "{events:?}");
            assert!(waited >= timeout, "{timeout:?} returned after {waited:?}");
        }
    }
}

/// `wait_timeout` with nothing ready never returns before its timeout.
pub fn wait_timeout_never_returns_early<P: Poller>() {
    let (mut poller, _keep) = idle_poller::<P>();
    for (timeout, tries) in LOWER_BOUNDS {
        for _ in 0..tries {
            let start = Instant::now();
            let objects = poller
                .wait_timeout(Some(millis_under_miri(timeout)))
                .expect("wait_timeout");
            assert!(objects.is_empty(), "{objects:?}");
            let waited = start.elapsed();
            assert!(waited >= timeout, "{timeout:?} returned after {waited:?}");
        }
    }
}

/// The shortest of `tries` runs of `wait`. Noise only ever adds time, so the minimum is a
/// bound a busy machine cannot break.
fn shortest(tries: usize, mut wait: impl FnMut()) -> Duration {
    (0..tries)
        .map(|_| {
            let start = Instant::now();
            wait();
            start.elapsed()
        })
        .min()
        .expect("at least one try")
}

/// `Duration::ZERO` returns at once, with or without events: not rounded up to a millisecond.
pub fn zero_does_not_block<P: Poller>() {
    let (mut poller, _keep) = idle_poller::<P>();
    let fastest = shortest(100, || {
        assert!(poll_for(&mut poller, Duration::ZERO).is_empty());
    });
    assert!(
        fastest < Duration::from_millis(1),
        "poll(0) took {fastest:?}"
    );
    let fastest = shortest(100, || {
        let objects = poller.wait_timeout(Some(Duration::ZERO));
        assert!(objects.expect("wait_timeout").is_empty());
    });
    assert!(
        fastest < Duration::from_millis(1),
        "wait_timeout(0) took {fastest:?}"
    );

    let (a, _b) = unix_pair();
    let reg = Registration::server(2).with_interest(Interest::WRITABLE);
    poller.add_with(a.as_raw_fd(), reg).expect("add_with");
    let events = poll_for(&mut poller, Duration::ZERO);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].key, 2);
}

/// Whether `P`'s backend takes timeouts finer than a millisecond in one wait: kqueue always
/// does, epoll from Linux 5.11 on (`epoll_pwait2`; valgrind before 3.21 hides it), poll(2)
/// where libc has ppoll(2), Windows never.
fn precise_waits<P: Poller>() -> bool {
    match backend_of::<P>() {
        Backend::Epoll => kernel_has_epoll_pwait2(),
        Backend::Poll => cfg!(any(
            target_os = "linux",
            target_os = "android",
            target_os = "haiku",
            target_os = "hurd",
            target_os = "cygwin",
        )),
        Backend::Iocp => false,
        _ => true,
    }
}

/// Whether the kernel has `epoll_pwait2`.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn kernel_has_epoll_pwait2() -> bool {
    // SAFETY: epoll_create1 takes no pointers; the fd is closed below.
    let epoll = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    assert!(epoll >= 0, "epoll_create1");
    let mut event = libc::epoll_event { events: 0, u64: 0 };
    // SAFETY: all-zero bytes are a valid timespec (zero seconds); a literal cannot build one
    // where it has private padding (32-bit OpenHarmony and musl).
    let zero: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: one writable event slot, a live timespec, and no signal mask.
    let res = unsafe {
        libc::syscall(
            libc::SYS_epoll_pwait2,
            epoll,
            &mut event as *mut libc::epoll_event,
            1,
            &zero as *const libc::timespec,
            std::ptr::null::<libc::sigset_t>(),
            0usize,
        )
    };
    let present = res >= 0;
    // SAFETY: closes the fd opened above, which nothing else uses.
    unsafe { libc::close(epoll) };
    present
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn kernel_has_epoll_pwait2() -> bool {
    false
}

/// A 100 µs timeout is kept in microseconds where the kernel can (the shortest of 200 such
/// waits ends before a millisecond), and otherwise rounded up to a whole millisecond.
pub fn sub_millisecond_timeouts_keep_their_precision<P: Poller>() {
    let (mut poller, _keep) = idle_poller::<P>();
    let timeout = Duration::from_micros(100);
    let fastest = shortest(200, || assert!(poll_for(&mut poller, timeout).is_empty()));
    assert!(fastest >= timeout, "returned after {fastest:?}");
    if precise_waits::<P>() {
        assert!(
            fastest < Duration::from_millis(1),
            "rounded up: the shortest 100 µs wait took {fastest:?}"
        );
    } else {
        assert!(
            fastest >= Duration::from_millis(1),
            "the fallback must round up to 1 ms, took {fastest:?}"
        );
    }
}

/// Timeouts too long for the kernel, `Duration::MAX` among them, and `None` block until a
/// waker ends the wait: they neither fail nor return at once.
pub fn huge_timeouts_block_until_woken<P: Poller>() {
    let _guard = watchdog("huge_timeouts_block_until_woken", 4 * PATIENCE);
    let (mut poller, _keep) = idle_poller::<P>();
    let waker = poller.waker().expect("waker");
    let mut timeouts = vec![
        None,
        Some(Duration::MAX),
        Some(Duration::from_secs(u64::MAX)),
        Some(Duration::from_millis(i32::MAX as u64)),
    ];
    // Longer than an i32 of milliseconds, yet within a timespec: pollio waits for these
    // through epoll_pwait2, which Miri does not implement.
    if !cfg!(miri) {
        timeouts.extend([
            Some(Duration::new(1 << 40, 1)),
            Some(Duration::from_millis(i32::MAX as u64 + 1)),
        ]);
    }
    for timeout in timeouts {
        for seed_api in [false, true] {
            let woke = Arc::new(AtomicBool::new(false));
            let (waiting, told) = mpsc::channel();
            let thread = {
                let (waker, woke) = (waker.clone(), Arc::clone(&woke));
                thread::spawn(move || {
                    let main: BlockingThread = told.recv().expect("told");
                    main.until_blocked();
                    woke.store(true, Ordering::SeqCst);
                    waker.wake().expect("wake");
                })
            };
            waiting.send(BlockingThread::current()).expect("send");
            let empty = if seed_api {
                poller
                    .wait_timeout(timeout)
                    .expect("wait_timeout")
                    .is_empty()
            } else {
                poller.poll(timeout).expect("poll").is_empty()
            };
            let was_woken = woke.load(Ordering::SeqCst);
            thread.join().expect("waker thread");
            assert!(empty, "{timeout:?}: a wake is not an event");
            assert!(
                was_woken,
                "{timeout:?} (seed API: {seed_api}) returned before the wake"
            );
        }
    }
}

backend_tests!(
    poll_never_returns_early,
    wait_timeout_never_returns_early,
    #[cfg_attr(
        miri,
        ignore = "times a zero-timeout wait against 1 ms; one interpreted wait takes longer"
    )]
    zero_does_not_block,
    #[cfg_attr(miri, ignore = "Miri does not implement epoll_pwait2")]
    sub_millisecond_timeouts_keep_their_precision,
    huge_timeouts_block_until_woken,
);
