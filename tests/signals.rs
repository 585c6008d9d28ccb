//! Waits under a storm of signals: another thread sends SIGUSR1 to the waiting thread in a
//! tight loop, with a handler installed without `SA_RESTART`.
//!
//! - every wait returns `Ok`, and one that returns with no events before its timeout was
//!   interrupted by a signal (the handler counts them);
//! - no wait runs absurdly past its timeout;
//! - a caller's loop towards a deadline (`remaining = deadline - now`, wait again) ends at the
//!   deadline, not before and not long after;
//! - a `wait(-1)?` loop survives the storm and still gets its event.
//!
//! On the platform's own backend (`native::`) and, on Linux and Android, on poll(2) (`poll::`).
//! Not under Miri, which cannot send signals, nor on Windows, which has none.
#![cfg(all(unix, not(miri)))]

use pollio::{Backend, OsPoller, Poller, Registration};
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, Once};
use std::thread;
use std::time::{Duration, Instant};

/// Instantiates each test body (a function of the backend) for the platform's own backend, and
/// on Linux and Android for poll(2).
macro_rules! signal_tests {
    ($($test:ident),* $(,)?) => {
        mod native {
            $(
                #[test]
                fn $test() {
                    let native = <pollio::OsPoller as pollio::Poller>::new().unwrap().backend();
                    super::$test(native);
                }
            )*
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        mod poll {
            $(
                #[test]
                fn $test() {
                    super::$test(pollio::Backend::Poll);
                }
            )*
        }
    };
}

signal_tests!(
    waits_under_a_signal_storm_return_ok_and_on_time,
    a_deadline_loop_ends_at_its_deadline_under_a_signal_storm,
    a_blocking_seed_wait_loop_survives_signals,
);

/// Signals the handler has run for.
static DELIVERED: AtomicUsize = AtomicUsize::new(0);

/// How far past its timeout a wait may end on a loaded two-core machine.
const SLACK: Duration = Duration::from_secs(2);

extern "C" fn count_signal(_: libc::c_int) {
    // Async-signal-safe: one atomic add.
    DELIVERED.fetch_add(1, Ordering::Relaxed);
}

/// Installs the counting SIGUSR1 handler, without SA_RESTART so interrupted calls fail with
/// EINTR instead of restarting.
fn install_handler() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: an all-zero sigaction is a valid starting point; the handler only does an
        // atomic add, which is async-signal-safe; sa_mask is initialised by sigemptyset.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = count_signal as extern "C" fn(libc::c_int) as usize;
            action.sa_flags = 0;
            libc::sigemptyset(&mut action.sa_mask);
            assert_eq!(
                libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()),
                0
            );
        }
    });
}

/// One test at a time: each storm needs a core to itself to be a storm.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Raises the storm's stop flag when dropped, panicking or not.
struct StopStorm<'a>(&'a AtomicBool);

impl Drop for StopStorm<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// A thread to signal, movable to the signalling thread.
struct Target(libc::pthread_t);

// SAFETY: a pthread_t only names a thread (a pointer on some systems, such as Redox and
// Cygwin); the signalling thread only passes it to pthread_kill, and is joined before the
// named thread returns.
unsafe impl Send for Target {}

/// Runs `f` on this thread while another thread sends it SIGUSR1 as fast as it can.
fn under_storm<T>(f: impl FnOnce() -> T) -> (T, usize) {
    install_handler();
    // SAFETY: pthread_self has no preconditions.
    let target = Target(unsafe { libc::pthread_self() });
    let stop = AtomicBool::new(false);
    let before = DELIVERED.load(Ordering::Relaxed);
    let value = thread::scope(|scope| {
        // If `f` panics, the storm must still end, or the scope would wait for it forever.
        let _stop = StopStorm(&stop);
        let stop = &stop;
        scope.spawn(move || {
            let target = target;
            while !stop.load(Ordering::Relaxed) {
                // SAFETY: `target` is the scope's owner thread, which is alive until this
                // thread has been joined.
                let rc = unsafe { libc::pthread_kill(target.0, libc::SIGUSR1) };
                assert_eq!(rc, 0, "pthread_kill");
                thread::yield_now();
            }
        });
        let value = f();
        stop.store(true, Ordering::Relaxed);
        value
    });
    (value, DELIVERED.load(Ordering::Relaxed) - before)
}

/// Waits with `timeout` again and again under the storm; returns (waits, early returns).
fn storm_waits(mut wait: impl FnMut() -> usize, timeout: Duration, waits: usize) -> usize {
    let mut interrupted = 0;
    for i in 0..waits {
        let signals_before = DELIVERED.load(Ordering::Relaxed);
        let start = Instant::now();
        let events = wait();
        let elapsed = start.elapsed();
        let signals_after = DELIVERED.load(Ordering::Relaxed);
        assert_eq!(events, 0, "wait {i}: nothing was ready");
        if elapsed < timeout {
            assert!(
                signals_after > signals_before,
                "wait {i} returned after {elapsed:?} of {timeout:?} with no event and no signal"
            );
            interrupted += 1;
        }
        assert!(
            elapsed < timeout + SLACK,
            "wait {i} of {timeout:?} took {elapsed:?}"
        );
    }
    interrupted
}

fn waits_under_a_signal_storm_return_ok_and_on_time(backend: Backend) {
    let _serial = serial();
    let mut poller = OsPoller::with_backend(backend, OsPoller::DEFAULT_CAPACITY).unwrap();
    // A registered fd that is never ready, and a waker that is never woken.
    let (a, _b) = UnixStream::pair().unwrap();
    poller.register(a.as_fd(), Registration::client(1)).unwrap();
    let _waker = poller.waker().unwrap();

    // Rounds of every wait method, with whole milliseconds (epoll_wait) and a sub-millisecond
    // part (epoll_pwait2), until thousands of signals have arrived.
    let ms = Duration::from_millis(20);
    let sub_ms = Duration::from_micros(20_500);
    let give_up = Instant::now() + Duration::from_secs(60);
    let ((waits, interrupted), signals) = under_storm(|| {
        let start = DELIVERED.load(Ordering::Relaxed);
        let (mut waits, mut interrupted) = (0, 0);
        while DELIVERED.load(Ordering::Relaxed) - start < 5_000 {
            assert!(Instant::now() < give_up, "the storm is too slow");
            for timeout in [ms, sub_ms] {
                interrupted += storm_waits(
                    || {
                        poller
                            .poll(Some(timeout))
                            .expect("poll returned an error")
                            .len()
                    },
                    timeout,
                    10,
                );
                interrupted += storm_waits(
                    || {
                        poller
                            .wait_timeout(Some(timeout))
                            .expect("wait_timeout returned an error")
                            .len()
                    },
                    timeout,
                    10,
                );
            }
            interrupted += storm_waits(
                || poller.wait(20).expect("wait returned an error").len(),
                ms,
                10,
            );
            waits += 50;
        }
        (waits, interrupted)
    });
    assert!(signals >= 5_000, "only {signals} signals arrived");
    assert!(
        interrupted > 0,
        "no wait was interrupted by {signals} signals"
    );
    eprintln!("{signals} signals, {interrupted} of {waits} waits interrupted");
}

fn a_deadline_loop_ends_at_its_deadline_under_a_signal_storm(backend: Backend) {
    let _serial = serial();
    let mut poller = OsPoller::with_backend(backend, OsPoller::DEFAULT_CAPACITY).unwrap();
    let total = Duration::from_millis(300);

    let ((ended, waits), signals) = under_storm(|| {
        let deadline = Instant::now() + total;
        let mut waits = 0u32;
        loop {
            let now = Instant::now();
            if now >= deadline {
                return (now.saturating_duration_since(deadline), waits);
            }
            let events = poller.poll(Some(deadline - now)).unwrap();
            assert!(events.is_empty());
            waits += 1;
        }
    });
    assert!(signals >= 100, "only {signals} signals arrived");
    assert!(waits > 1, "the storm interrupted no wait");
    assert!(ended < SLACK, "the loop ended {ended:?} after its deadline");
    eprintln!("deadline loop: {waits} waits, {signals} signals, ended {ended:?} late");
}

/// The seed API's `loop { poller.wait(-1)? ... }` survives signals and gets its event.
fn a_blocking_seed_wait_loop_survives_signals(backend: Backend) {
    let _serial = serial();
    let mut poller = OsPoller::with_backend(backend, OsPoller::DEFAULT_CAPACITY).unwrap();
    let (a, mut b) = UnixStream::pair().unwrap();
    poller.register(a.as_fd(), Registration::client(9)).unwrap();
    let fd = a.as_raw_fd();

    // Empty returns of the wait loop so far: each one is a blocked wait a signal interrupted.
    let returns = AtomicUsize::new(0);
    let (events, signals) = under_storm(|| {
        thread::scope(|scope| {
            let returns = &returns;
            let writer = scope.spawn(move || {
                // Write only once the storm has interrupted the blocked wait a few times: counting
                // signals instead would let a slow start (qemu-user) take them all before the
                // loop ever blocks.
                let give_up = Instant::now() + Duration::from_secs(30);
                while returns.load(Ordering::Relaxed) < 3 && Instant::now() < give_up {
                    thread::yield_now();
                }
                b.write_all(b"x").unwrap();
            });
            let result = (|| -> std::io::Result<Vec<i32>> {
                loop {
                    let events = poller.wait(-1)?;
                    if !events.is_empty() {
                        return Ok(events.iter().map(|e| e.fd).collect());
                    }
                    returns.fetch_add(1, Ordering::Relaxed);
                }
            })();
            writer.join().unwrap();
            result.expect("wait(-1) returned an error")
        })
    });
    let returns = returns.into_inner();
    assert_eq!(events, vec![fd]);
    assert!(signals > 0);
    assert!(
        returns >= 3,
        "signals interrupted the blocked wait only {returns} times in 30 s"
    );
}
