//! Threads and signals: a watchdog for blocking tests, seeing another thread block, and
//! signalling one thread.

#[cfg(all(target_os = "linux", not(miri)))]
use super::events::PATIENCE;
use std::io::{self, Write};
use std::sync::{mpsc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread;
use std::time::Duration;
#[cfg(all(target_os = "linux", not(miri)))]
use std::time::Instant;

/// Fails the test run, loudly, if it is still alive after `limit`: tests that block without a
/// timeout (`poll(None)`, `wait(-1)`) would otherwise hang forever when the behaviour breaks.
pub struct Watchdog {
    _alive: mpsc::Sender<()>,
}

pub fn watchdog(what: &'static str, limit: Duration) -> Watchdog {
    let (alive, dropped) = mpsc::channel::<()>();
    thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = dropped.recv_timeout(limit) {
            // Straight to stderr: the test harness captures `eprintln!` and would lose it.
            let _ = writeln!(
                io::stderr(),
                "{what}: still blocked after {limit:?}, aborting the test run"
            );
            std::process::abort();
        }
    });
    Watchdog { _alive: alive }
}

/// The calling thread, as seen by another thread that wants to know when it has blocked.
pub struct BlockingThread {
    #[cfg(all(target_os = "linux", not(miri)))]
    tid: libc::pid_t,
}

impl BlockingThread {
    /// The calling thread.
    pub fn current() -> BlockingThread {
        BlockingThread {
            #[cfg(all(target_os = "linux", not(miri)))]
            // SAFETY: gettid takes no arguments and cannot fail.
            tid: unsafe { libc::gettid() },
        }
    }

    /// Returns once the thread is asleep in the kernel. Call it after the thread said it is
    /// about to wait; the first sleep it is seen in is then that wait.
    #[cfg(all(target_os = "linux", not(miri)))]
    pub fn until_blocked(&self) {
        let path = format!("/proc/self/task/{}/stat", self.tid);
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            let stat = std::fs::read_to_string(&path).expect("read task stat");
            // The state is the first field after the parenthesised command name.
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|s| s.trim().chars().next());
            if state == Some('S') {
                return;
            }
            thread::yield_now();
        }
        panic!("thread {} never blocked", self.tid);
    }

    /// Returns after giving the thread time to block. Other kernels have no portable way to
    /// see another thread's state, and under Miri /proc describes the interpreter's threads,
    /// not the program's, so this is the one place the suite waits on time alone; the tests
    /// that use it pass either way, they only lose the "while blocked" part.
    #[cfg(any(not(target_os = "linux"), miri))]
    pub fn until_blocked(&self) {
        thread::sleep(Duration::from_millis(30));
    }
}

/// A POSIX thread id that can be handed to another thread to signal this one.
#[cfg(unix)]
#[derive(Clone, Copy)]
pub struct ThreadId(pub libc::pthread_t);

// SAFETY: a pthread_t is only an identifier (a pointer on macOS); sending it to another thread
// lets that thread name this one in pthread_kill, which is valid while this thread lives, and
// every test joins the signalling thread before the signalled one returns.
#[cfg(unix)]
unsafe impl Send for ThreadId {}

#[cfg(unix)]
impl ThreadId {
    pub fn current() -> ThreadId {
        // SAFETY: pthread_self takes no arguments and cannot fail.
        ThreadId(unsafe { libc::pthread_self() })
    }

    /// Sends `signal` to this thread.
    pub fn signal(&self, signal: libc::c_int) {
        // SAFETY: the thread is alive (see the Send impl) and a handler is installed for
        // `signal`, so delivery runs that handler rather than the default action.
        let rc = unsafe { libc::pthread_kill(self.0, signal) };
        assert_eq!(rc, 0, "pthread_kill: {}", io::Error::from_raw_os_error(rc));
    }
}

/// Installs `handler` for `signal` without `SA_RESTART`, so blocking calls see `EINTR`.
#[cfg(unix)]
pub fn install_handler(signal: libc::c_int, handler: extern "C" fn(libc::c_int)) {
    // SAFETY: an all-zero sigaction is a valid value (no flags, empty mask) to fill in.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handler as *const () as libc::sighandler_t;
    action.sa_flags = 0;
    // SAFETY: `action.sa_mask` is a live sigset_t.
    unsafe { libc::sigemptyset(&mut action.sa_mask) };
    // SAFETY: `action` is fully initialised and `handler` is an extern "C" fn(c_int), the
    // signature the kernel calls without SA_SIGINFO; the old action is not asked for.
    let rc = unsafe { libc::sigaction(signal, &action, std::ptr::null_mut()) };
    assert_eq!(rc, 0, "sigaction: {}", io::Error::last_os_error());
}

/// Raises its flag when dropped, so threads that loop until the flag is up stop even when the
/// thread that would raise it panics (inside `thread::scope`, a panic would otherwise wait for
/// them forever).
pub struct RaiseOnDrop<'a>(pub &'a std::sync::atomic::AtomicBool);

impl Drop for RaiseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Held shared by the tests that start processes, and exclusively by the tests that close a
/// registered fd's only copy: a child holds a copy of every descriptor from its fork to its
/// exec (and for good if the descriptor is not close-on-exec), and while it does, epoll keeps
/// the registration of a file the test believes closed.
static SPAWNS: RwLock<()> = RwLock::new(());

/// For a test that starts processes.
// Unused where poll(2) is the only backend, which leaves the child tests out.
#[allow(dead_code)]
pub fn spawning() -> RwLockReadGuard<'static, ()> {
    SPAWNS.read().unwrap_or_else(PoisonError::into_inner)
}

/// For a test whose closed descriptors must have no copy in a child.
// Unused on Windows, which leaves the tests of closed fds out.
#[allow(dead_code)]
pub fn no_spawning() -> RwLockWriteGuard<'static, ()> {
    SPAWNS.write().unwrap_or_else(PoisonError::into_inner)
}
