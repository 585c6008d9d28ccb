//! Child processes' exits as event sources.

use crate::registry::Shared;
use crate::{sys, Registration, Registry};
use std::io;
use std::process::Child;
use std::sync::Arc;

/// A child process whose exit is an event of the poller it was made by, carrying its
/// registration's key or token.
///
/// Made by [`Poller::child_exit`](crate::Poller::child_exit) (from a [`Child`]) or
/// [`Poller::pid_exit`](crate::Poller::pid_exit) (from a process id). One event comes when
/// the process exits, also when it had exited already (but was not reaped) when it was
/// registered. Dropping it deregisters it.
///
/// pollio does not reap the child and does not read its status: after the event, call
/// [`Child::try_wait`] (or `wait`), or `waitpid`, which then returns at once. Do not reap it
/// before registering: a reaped process id can be reused by another process.
///
/// - **Linux**: a pidfd (`pidfd_open`, Linux 5.3). Any process the caller may see can be
///   watched, not only children. Where the kernel lacks `pidfd_open` (before 5.3, or a seccomp
///   filter refuses it), a helper thread per watched process waits for its exit with
///   `waitid(WNOWAIT)` instead, which changes no signal mask or action and reaps nothing. Then
///   only the caller's own children can be watched (others are `ECHILD`); the thread, and an
///   eventfd, last until the child exits, also when the registration is dropped before; and a
///   child the caller reaps before its event should not be followed at once by another child
///   that could reuse its id.
/// - **kqueue**: `EVFILT_PROC` with `NOTE_EXIT`. A kernel that refuses it (`ESRCH`) for a
///   zombie gets a timer knote of zero length instead, so the event still comes.
///
/// The registration's interest and mode are ignored, and [`Event::fd`](crate::Event::fd)
/// means nothing for its events, as for a [`Timer`](crate::Timer).
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use pollio::{Events, OsPoller, Poller, Registration};
/// use std::process::Command;
/// use std::time::Duration;
///
/// let poller = OsPoller::new()?;
/// let mut child = Command::new("true").spawn()?;
/// let exit = poller.child_exit(&child, Registration::client(3))?;
/// let mut events = Events::new();
/// while events.is_empty() {
///     poller.poll_into(&mut events, Some(Duration::from_secs(5)))?;
/// }
/// assert_eq!(events[0].key(), 3);
/// drop(exit);
/// assert!(child.try_wait()?.expect("it has exited").success());
/// # Ok(())
/// # }
/// ```
pub struct ChildExit {
    shared: Arc<Shared>,
    source: sys::ChildSource,
    pid: u32,
}

impl ChildExit {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }
}

impl Drop for ChildExit {
    fn drop(&mut self) {
        self.source.deregister(&self.shared.selector);
    }
}

impl std::fmt::Debug for ChildExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildExit")
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// An event when `child` exits (see [`ChildExit`]).
    ///
    /// # Errors
    ///
    /// As [`pid_exit`](Self::pid_exit).
    pub fn child_exit(&self, child: &Child, registration: Registration) -> io::Result<ChildExit> {
        self.pid_exit(child.id(), registration)
    }

    /// An event when the process `pid` exits (see [`ChildExit`]).
    ///
    /// # Errors
    ///
    /// `ESRCH` for a process that does not exist (or was reaped); `EINVAL` for 0 and ids
    /// above `i32::MAX`; on Linux without `pidfd_open` (see [`ChildExit`]), `ECHILD` for a
    /// process that is not the caller's child; otherwise the OS error of `pidfd_open` or
    /// `epoll_ctl` (`EMFILE` when the process has no fd left), of `eventfd` or of starting the
    /// thread without `pidfd_open`, or of `kevent`. [`InvalidInput`](io::ErrorKind::InvalidInput)
    /// for the reserved token `u64::MAX`.
    pub fn pid_exit(&self, pid: u32, registration: Registration) -> io::Result<ChildExit> {
        #[cfg(unix)]
        let raw =
            libc::pid_t::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        // No pid_t there: the Windows backend takes the process id as it is.
        #[cfg(windows)]
        let raw = pid;
        let source = sys::ChildSource::new(&self.shared.selector, raw, registration)?;
        Ok(ChildExit {
            shared: Arc::clone(&self.shared),
            source,
            pid,
        })
    }
}
