//! `PollPoller`: an `OsPoller` on poll(2), as a type of its own.

use crate::{Backend, Event, EventObject, Events, OsPoller, Poller, Registration, Registry, Waker};
use crate::{ChildExit, Signal, Timer};
use std::io;
use std::ops::Deref;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::process::Child;
use std::time::Duration;

/// A poller on poll(2): an [`OsPoller`] made with [`Backend::Poll`], as a type, so that code
/// generic over [`Poller`] (a test suite, a benchmark) can pick the backend with a type
/// parameter. Every method is the inner `OsPoller`'s, which it dereferences to.
///
/// On Linux and Android it is the alternative to epoll; on the Unix systems that have neither
/// epoll nor kqueue it is what [`OsPoller`] is anyway.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use pollio::{Backend, Poller, PollPoller, Registration};
/// use std::io::Write;
/// use std::os::fd::AsFd;
/// use std::os::unix::net::UnixStream;
/// use std::time::Duration;
///
/// let mut poller = PollPoller::new()?;
/// assert_eq!(poller.backend(), Backend::Poll);
/// let (a, mut b) = UnixStream::pair()?;
/// poller.register(a.as_fd(), Registration::client(3))?;
/// b.write_all(b"x")?;
/// let events = poller.poll(Some(Duration::from_secs(5)))?;
/// assert_eq!(events[0].key(), 3);
/// # Ok(())
/// # }
/// ```
///
/// # How it differs from epoll
///
/// The same contract and the same errors, with these differences:
///
/// - **Cost**: every wait hands the kernel the whole list of registered fds, so it costs time
///   in proportion to their number, ready or not (the README's platform section has the
///   numbers). Registration is a table update behind a mutex; a registration made while a
///   wait is blocked interrupts it, and the wait polls again with the new list.
/// - **Edge-triggered** registrations are reported as level-triggered ones: on every wait while
///   the fd is ready, so never fewer events than epoll gives, but sometimes more (unread data,
///   a socket that stays writable), and with several threads waiting, to more than one of
///   them. poll(2) cannot tell new readiness from old, and every way of holding an event back
///   until the fd was seen not ready can lose one. Level-triggered and oneshot registrations
///   behave exactly as on epoll.
/// - **Exclusive** registrations ([`Registration::with_exclusive`]) are accepted and ignored,
///   as on kqueue.
/// - **Closed fds**: a registration belongs to the fd number, not to the open file. Closing the
///   fd ends it (as with epoll when no duplicate is open; a duplicate does not keep it alive),
///   but if the number is reused by another file before the next wait, that file is polled
///   under the old registration until `add`, `modify` or `delete` of the number, which compare
///   the file's device and inode with the registered one, notice. Linux gives every eventfd,
///   timerfd, signalfd and epoll fd one inode, so among those a reused number is not noticed.
/// - **Files epoll cannot poll**: regular files, directories and block devices are refused with
///   `EPERM` as on epoll, but other such files (a character device like `/dev/null`) are
///   accepted and always ready.
/// - **Its fd** ([`AsRawFd`]) is the eventfd (or pipe) that interrupts its waits, not a kernel
///   queue: it is refused with `EINVAL` as epoll refuses its own fd, but registering it in
///   another poller does not nest this one.
/// - **Timers, signals and child exits**: on Linux and Android, the same timerfd, signalfd and
///   pidfd sources as on epoll, polled like any fd. Since edge is reported as level, a timer's
///   or a signal's event comes back on every wait until its count is read
///   ([`Timer::expirations`], [`Signal::deliveries`]); a child's exit is reported once, as on
///   epoll. On the systems whose only backend is poll(2), [`Poller::timer`],
///   [`Poller::signal`], [`Poller::child_exit`] and [`Poller::pid_exit`] answer
///   [`Unsupported`](io::ErrorKind::Unsupported).
/// - **Timeouts** keep sub-millisecond precision through ppoll(2) on Linux, Android and the
///   systems whose libc has it; elsewhere they are rounded up to whole milliseconds.
pub struct PollPoller {
    inner: OsPoller,
}

impl PollPoller {
    /// The poller, as an [`OsPoller`].
    pub fn into_inner(self) -> OsPoller {
        self.inner
    }
}

impl Deref for PollPoller {
    type Target = OsPoller;

    fn deref(&self) -> &OsPoller {
        &self.inner
    }
}

impl Poller for PollPoller {
    #[inline]
    fn new() -> io::Result<Self> {
        Self::with_capacity(OsPoller::DEFAULT_CAPACITY)
    }

    #[inline]
    fn with_capacity(capacity: usize) -> io::Result<Self> {
        Ok(PollPoller {
            inner: OsPoller::with_backend(Backend::Poll, capacity)?,
        })
    }

    #[inline]
    fn add(&self, event: EventObject) -> io::Result<()> {
        self.inner.add(event)
    }

    #[inline]
    fn delete(&self, fd: RawFd) -> io::Result<()> {
        self.inner.delete(fd)
    }

    #[inline]
    fn wait(&mut self, timeout_ms: i32) -> io::Result<&[EventObject]> {
        self.inner.wait(timeout_ms)
    }

    #[inline]
    fn add_with(&self, fd: RawFd, registration: Registration) -> io::Result<()> {
        self.inner.add_with(fd, registration)
    }

    #[inline]
    fn modify(&self, fd: RawFd, registration: Registration) -> io::Result<()> {
        self.inner.modify(fd, registration)
    }

    #[inline]
    fn register(&self, fd: BorrowedFd<'_>, registration: Registration) -> io::Result<()> {
        self.inner.register(fd, registration)
    }

    #[inline]
    fn reregister(&self, fd: BorrowedFd<'_>, registration: Registration) -> io::Result<()> {
        self.inner.reregister(fd, registration)
    }

    #[inline]
    fn deregister(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        self.inner.deregister(fd)
    }

    #[inline]
    fn poll(&mut self, timeout: Option<Duration>) -> io::Result<&[Event]> {
        self.inner.poll(timeout)
    }

    #[inline]
    fn poll_into(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<usize> {
        self.inner.poll_into(events, timeout)
    }

    #[inline]
    fn wait_timeout(&mut self, timeout: Option<Duration>) -> io::Result<&[EventObject]> {
        self.inner.wait_timeout(timeout)
    }

    #[inline]
    fn waker(&self) -> io::Result<Waker> {
        self.inner.waker()
    }

    #[inline]
    fn registry(&self) -> io::Result<Registry> {
        self.inner.registry()
    }

    fn timer(&self, registration: Registration) -> io::Result<Timer> {
        self.inner.timer(registration)
    }

    fn signal(&self, signo: i32, registration: Registration) -> io::Result<Signal> {
        self.inner.signal(signo, registration)
    }

    fn child_exit(&self, child: &Child, registration: Registration) -> io::Result<ChildExit> {
        self.inner.child_exit(child, registration)
    }

    fn pid_exit(&self, pid: u32, registration: Registration) -> io::Result<ChildExit> {
        self.inner.pid_exit(pid, registration)
    }
}

impl AsRawFd for PollPoller {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

/// The interrupting eventfd (or pipe): see [`OsPoller`'s `AsFd`](OsPoller#impl-AsFd-for-OsPoller).
impl AsFd for PollPoller {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl std::fmt::Debug for PollPoller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PollPoller").field(&self.inner).finish()
    }
}
