//! Linux child exits where the kernel has no `pidfd_open` (before 5.3, or behind a seccomp
//! filter that refuses it): an eventfd registered readable and oneshot with the registration's
//! word, written once by a helper thread blocked in `waitid(WEXITED | WNOWAIT)` on the child.
//! The eventfd is never read; oneshot makes its one write one event on every backend (the
//! poll(2) backend would report an edge-triggered one on every wait, as it stays readable).
//!
//! Why a thread per child: waiting is the only way to learn of an exit without a pidfd that
//! leaves the caller's signals alone (a `SIGCHLD` handler or signalfd would take the signal
//! from the caller), and `WNOWAIT` is what keeps the child unreaped for the caller. A single
//! thread cannot wait for several children with `WNOWAIT`: the first zombie would answer every
//! call. What it costs, and what the caller sees:
//!
//! - only the caller's own children can be watched, since `waitid` answers `ECHILD` for any
//!   other process: the registration asks `waitid` first (`WNOHANG`) and refuses them with
//!   `ECHILD` (`ESRCH` when no process has the id), instead of an event that does not mean an
//!   exit;
//! - a child that has already exited gets its event at once, with no thread;
//! - otherwise one thread per watched child, until that child exits. Dropping the registration
//!   does not end the thread: it still writes when the child exits, into its own eventfd,
//!   which it keeps open (the two share it through an `Arc`) and which is then no longer
//!   registered, so the write never reaches a closed or reused descriptor;
//! - the thread starts with every signal blocked, so it never takes a signal meant for the
//!   caller's threads or for a signalfd;
//! - a child reaped by the caller before the thread's `waitid` starts, whose id is then taken
//!   by another child of the caller, gets its event when that other child exits. A pidfd names
//!   the process itself and has no such window.

use super::{syscall, Selector};
use crate::{Interest, Mode, Registration};
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::thread;

/// Room for one `waitid` and one `write`; std raises it to the platform's minimum if needed.
const STACK_SIZE: usize = 64 * 1024;

/// Which children `waitid` considers: all of them, whatever signal they send at exit (`__WALL`;
/// without it, a child made by `clone` with no `SIGCHLD` would be `ECHILD`).
const ALL_CHILDREN: libc::c_int = libc::__WALL;

pub(crate) struct ChildThread {
    eventfd: Arc<OwnedFd>,
}

impl ChildThread {
    /// `pid` is positive: the caller has checked.
    pub(crate) fn new(
        selector: &Selector,
        pid: libc::pid_t,
        registration: Registration,
    ) -> io::Result<ChildThread> {
        let exited = has_exited(pid)?;
        // SAFETY: eventfd takes no pointers.
        let fd = syscall!(eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK))?;
        // SAFETY: eventfd just returned this fd and nothing else owns it.
        let eventfd = Arc::new(unsafe { OwnedFd::from_raw_fd(fd) });
        let word = registration.word_for(fd, true)?;
        selector.add(fd, word, Interest::READABLE, Mode::Oneshot, false)?;
        if exited {
            notify(fd);
        } else if let Err(err) = spawn_waiter(pid, Arc::clone(&eventfd)) {
            let _ = selector.delete(fd);
            return Err(err);
        }
        Ok(ChildThread { eventfd })
    }

    pub(crate) fn deregister(&self, selector: &Selector) {
        // Needed, not only tidy: the thread's copy of the eventfd keeps the registration alive.
        let _ = selector.delete(self.eventfd.as_raw_fd());
    }
}

/// Whether `pid`, a child of the caller, has exited already (it is a zombie); an error for a
/// process that is not a child.
fn has_exited(pid: libc::pid_t) -> io::Result<bool> {
    // SAFETY: a zeroed siginfo_t is a valid value for waitid to fill.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let options = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT | ALL_CHILDREN;
    // SAFETY: `info` is live and writable for the call. WNOHANG: it does not block; WNOWAIT:
    // it leaves the child to be reaped by the caller.
    match syscall!(waitid(libc::P_PID, pid as libc::id_t, &mut info, options)) {
        // With WNOHANG, a child still running leaves `si_pid` as it was: zero.
        // SAFETY: waitid filled `info` for SIGCHLD (or left it zeroed), whose fields si_pid reads.
        Ok(_) => Ok(unsafe { info.si_pid() } != 0),
        Err(err) if err.raw_os_error() == Some(libc::ECHILD) => Err(not_a_child(pid)),
        Err(err) => Err(err),
    }
}

/// The error for a process `waitid` does not know: `ESRCH` when no process has the id (as
/// `pidfd_open` says), `ECHILD` when one does but it is not the caller's child.
#[cold]
fn not_a_child(pid: libc::pid_t) -> io::Error {
    // SAFETY: signal 0 sends nothing; kill only checks that the process exists.
    match syscall!(kill(pid, 0)) {
        Err(err) if err.raw_os_error() == Some(libc::ESRCH) => err,
        _ => io::Error::from_raw_os_error(libc::ECHILD),
    }
}

/// Starts the thread that waits for `pid` and then writes to `eventfd`, with every signal
/// blocked in it. It inherits its mask from this thread, so this thread blocks them around the
/// spawn and puts its own mask back: a signal arriving meanwhile stays pending for it.
fn spawn_waiter(pid: libc::pid_t, eventfd: Arc<OwnedFd>) -> io::Result<()> {
    let mut all = MaybeUninit::<libc::sigset_t>::uninit();
    let mut old = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigfillset initialises the set `all` points to.
    unsafe { libc::sigfillset(all.as_mut_ptr()) };
    // SAFETY: `all` was initialised above; pthread_sigmask writes the current mask to `old`.
    // It fails only for an invalid `how`.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, all.as_ptr(), old.as_mut_ptr()) };
    let spawned = thread::Builder::new()
        .name("pollio-waitid".into())
        .stack_size(STACK_SIZE)
        .spawn(move || {
            wait_for_exit(pid);
            notify(eventfd.as_raw_fd());
        });
    // SAFETY: `old` holds the mask pthread_sigmask stored above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, old.as_ptr(), std::ptr::null_mut()) };
    spawned.map(drop)
}

/// Blocks until `pid` has exited, without reaping it. Also returns when it was reaped
/// meanwhile (by the caller, or by the kernel when `SIGCHLD` is ignored): `ECHILD` then.
fn wait_for_exit(pid: libc::pid_t) {
    // SAFETY: a zeroed siginfo_t is a valid value for waitid to fill.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let options = libc::WEXITED | libc::WNOWAIT | ALL_CHILDREN;
    loop {
        // SAFETY: `info` is live and writable for the call; WNOWAIT leaves the child unreaped.
        match syscall!(waitid(libc::P_PID, pid as libc::id_t, &mut info, options)) {
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            _ => return,
        }
    }
}

/// Adds 1 to the eventfd's counter, which makes its one event.
fn notify(eventfd: RawFd) {
    let one: u64 = 1;
    loop {
        // SAFETY: writes 8 bytes from a live u64, as eventfd requires.
        match syscall!(write(eventfd, (&one as *const u64).cast(), 8)) {
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            // A counter written once cannot be full (EAGAIN); nothing else can fail.
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeout::Timeout;
    use crate::{Backend, Event};
    use std::io::Write;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    const PATIENCE: Duration = Duration::from_secs(5);

    /// A shell that exits with 3 once its stdin is closed.
    fn waiting_child() -> Child {
        Command::new("sh")
            .args(["-c", "read x; exit 3"])
            .stdin(Stdio::piped())
            .spawn()
            .expect("spawn sh")
    }

    /// Blocks until `child` has exited, without reaping it.
    fn until_zombie(child: &Child) {
        // SAFETY: a zeroed siginfo_t is a valid value for waitid to fill.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let options = libc::WEXITED | libc::WNOWAIT;
        let pid = child.id() as libc::id_t;
        // SAFETY: `info` is live and writable; WNOWAIT leaves the child to be reaped later.
        let rc = unsafe { libc::waitid(libc::P_PID, pid, &mut info, options) };
        assert_eq!(rc, 0, "waitid: {}", io::Error::last_os_error());
    }

    /// The first events within `PATIENCE`, as keys.
    fn next_keys(selector: &Selector) -> Vec<u32> {
        let mut events: Vec<Event> = Vec::with_capacity(8);
        let deadline = Instant::now() + PATIENCE;
        while events.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no event in {PATIENCE:?}");
            let timeout = Timeout::from_duration(Some(left));
            selector.select(&mut events, timeout).expect("select");
        }
        for event in &events {
            assert!(event.readiness().is_readable(), "{event:?}");
        }
        events.iter().map(Event::key).collect()
    }

    /// No event within `window`: what "exactly one" and "none" can check.
    fn assert_quiet(selector: &Selector, window: Duration) {
        let mut events: Vec<Event> = Vec::with_capacity(8);
        let timeout = Timeout::from_duration(Some(window));
        selector.select(&mut events, timeout).expect("select");
        assert!(events.is_empty(), "{events:?}");
    }

    /// Blocks until the eventfd is readable, that is until the thread has written.
    fn until_written(eventfd: &OwnedFd) {
        let mut pfd = libc::pollfd {
            fd: eventfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = PATIENCE.as_millis() as libc::c_int;
        // SAFETY: `pfd` is one live pollfd for the call.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        assert_eq!(n, 1, "the thread did not write in {PATIENCE:?}");
    }

    fn pid_of(child: &Child) -> libc::pid_t {
        child.id() as libc::pid_t
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri has no processes")]
    fn exit_after_registration_is_one_event_and_leaves_the_status() {
        // On poll(2) too: its eventfd stays readable, so only oneshot keeps it to one event.
        for backend in [Backend::Epoll, Backend::Poll] {
            exit_after_registration_on(backend);
        }
    }

    fn exit_after_registration_on(backend: Backend) {
        let selector = Selector::new(backend).expect("selector");
        let mut child = waiting_child();
        let source = ChildThread::new(&selector, pid_of(&child), Registration::client(41))
            .expect("register");
        assert_quiet(&selector, Duration::from_millis(20));
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"\n").expect("write");
        drop(stdin);
        assert_eq!(next_keys(&selector), [41]);
        assert_quiet(&selector, Duration::from_millis(20));
        let status = child
            .try_wait()
            .expect("try_wait")
            .expect("exited, not reaped");
        assert_eq!(status.code(), Some(3));
        source.deregister(&selector);
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri has no processes")]
    fn a_zombie_gets_its_event_without_a_thread() {
        let selector = Selector::new(Backend::Epoll).expect("selector");
        let mut child = Command::new("sh")
            .args(["-c", "exit 9"])
            .spawn()
            .expect("spawn");
        until_zombie(&child);
        let source =
            ChildThread::new(&selector, pid_of(&child), Registration::server(7)).expect("register");
        assert_eq!(
            Arc::strong_count(&source.eventfd),
            1,
            "a thread was started"
        );
        assert_eq!(next_keys(&selector), [7]);
        assert_quiet(&selector, Duration::from_millis(20));
        assert_eq!(child.wait().expect("wait").code(), Some(9));
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri has no processes")]
    fn each_child_its_own_event() {
        let selector = Selector::new(Backend::Epoll).expect("selector");
        let mut first = waiting_child();
        let mut second = waiting_child();
        let _a = ChildThread::new(&selector, pid_of(&first), Registration::client(1)).unwrap();
        let _b = ChildThread::new(&selector, pid_of(&second), Registration::client(2)).unwrap();
        drop(second.stdin.take());
        assert_eq!(next_keys(&selector), [2]);
        drop(first.stdin.take());
        assert_eq!(next_keys(&selector), [1]);
        assert_eq!(first.wait().expect("wait").code(), Some(3));
        assert_eq!(second.wait().expect("wait").code(), Some(3));
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri has no processes")]
    fn deregistered_then_exited_is_silent() {
        let selector = Selector::new(Backend::Epoll).expect("selector");
        let mut child = waiting_child();
        let source =
            ChildThread::new(&selector, pid_of(&child), Registration::client(5)).expect("register");
        let eventfd = Arc::clone(&source.eventfd);
        source.deregister(&selector);
        drop(source);
        drop(child.stdin.take());
        // The thread writes into its own eventfd, still open, no longer registered.
        until_written(&eventfd);
        assert_quiet(&selector, Duration::from_millis(20));
        assert_eq!(child.wait().expect("wait").code(), Some(3));
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri has no processes")]
    fn a_process_that_is_not_a_child_is_refused() {
        let selector = Selector::new(Backend::Epoll).expect("selector");
        // SAFETY: getppid takes no arguments and cannot fail.
        let parent = unsafe { libc::getppid() };
        let err = ChildThread::new(&selector, parent, Registration::client(1))
            .err()
            .expect("the parent is no child");
        assert_eq!(err.raw_os_error(), Some(libc::ECHILD), "{err}");

        let mut child = Command::new("true").spawn().expect("spawn");
        let pid = pid_of(&child);
        child.wait().expect("wait");
        let err = ChildThread::new(&selector, pid, Registration::client(1))
            .err()
            .expect("reaped");
        assert_eq!(err.raw_os_error(), Some(libc::ESRCH), "{err}");
        assert_quiet(&selector, Duration::ZERO);
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri has no processes")]
    fn the_thread_blocks_every_signal_and_ours_is_unchanged() {
        // The masks are read in /proc, which shows the host's: qemu-user (ci/linux-targets.sh
        // sets this) keeps its own there, with SIGSEGV and SIGBUS unblocked for itself.
        if std::env::var_os("POLLIO_UNDER_QEMU").is_some() {
            eprintln!("skipped under qemu-user: /proc shows the emulator's signal masks");
            return;
        }
        // SAFETY: sigset_t values for pthread_sigmask to fill; only read after it did.
        let mut before: libc::sigset_t = unsafe { std::mem::zeroed() };
        let mut after: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: a null new mask only reads the current one into `before`.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, std::ptr::null(), &mut before) };
        let selector = Selector::new(Backend::Epoll).expect("selector");
        let mut child = waiting_child();
        let pid = pid_of(&child);
        let source = ChildThread::new(&selector, pid, Registration::client(1)).expect("register");
        // SAFETY: as above, into `after`.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, std::ptr::null(), &mut after) };
        for signal in 1..32 {
            // SAFETY: both sets were filled by pthread_sigmask.
            let (b, a) = unsafe {
                (
                    libc::sigismember(&before, signal),
                    libc::sigismember(&after, signal),
                )
            };
            assert_eq!(b, a, "signal {signal}");
        }
        let blocked = waiter_blocked_mask(&child);
        // SIGKILL and SIGSTOP cannot be blocked; every other standard signal is.
        let unblockable = (1u64 << (libc::SIGKILL - 1)) | (1u64 << (libc::SIGSTOP - 1));
        assert_eq!(
            blocked & 0x7fff_ffff & !unblockable,
            0x7fff_ffff & !unblockable
        );
        drop(child.stdin.take());
        assert_eq!(next_keys(&selector), [1]);
        child.wait().expect("wait");
        source.deregister(&selector);
    }

    /// The blocked-signal mask (`SigBlk` in /proc) of the thread of this process that is in
    /// `waitid` for `child`, once it is there (within `PATIENCE`).
    fn waiter_blocked_mask(child: &Child) -> u64 {
        let pid = u64::from(child.id());
        let deadline = Instant::now() + PATIENCE;
        loop {
            let tasks = std::fs::read_dir("/proc/self/task").expect("tasks");
            for task in tasks {
                let dir = task.expect("task").path();
                let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
                if comm.trim_end() != "pollio-waitid" {
                    continue;
                }
                // "number idtype id ...": in waitid(P_PID, pid, ...) for this child?
                let syscall = std::fs::read_to_string(dir.join("syscall")).unwrap_or_default();
                let args: Vec<u64> = syscall
                    .split_whitespace()
                    .skip(1)
                    .take(2)
                    .filter_map(|a| u64::from_str_radix(a.trim_start_matches("0x"), 16).ok())
                    .collect();
                if args != [libc::P_PID as u64, pid] {
                    continue;
                }
                let status = std::fs::read_to_string(dir.join("status")).expect("status");
                return status
                    .lines()
                    .find_map(|l| l.strip_prefix("SigBlk:"))
                    .map(|m| u64::from_str_radix(m.trim(), 16).expect("hex"))
                    .expect("SigBlk");
            }
            // No event tells when a thread has entered a system call: look again.
            assert!(Instant::now() < deadline, "no thread in waitid for {pid}");
            thread::yield_now();
        }
    }
}
