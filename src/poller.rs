//! The `Poller` trait: the seed API and its extensions.

use crate::timeout::Timeout;
use crate::{Event, EventObject, Registration, Registry, Waker};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::time::Duration;

/// Platform-agnostic interface for registering file descriptors and waiting for readiness.
///
/// [`OsPoller`](crate::OsPoller) implements every method. The four required methods are
/// pollio 0.1.3's; every later method has a default body, so a type that implemented the trait
/// for 0.1.3 still compiles. Those defaults do what can be done with the four required methods
/// and return [`ErrorKind::Unsupported`](io::ErrorKind::Unsupported) otherwise.
///
/// Code generic over `P: Poller` reaches every capability through these methods:
///
/// ```
/// use pollio::{Interest, Mode, OsPoller, Poller, Registration};
/// use std::io::Write;
/// use std::os::fd::AsFd;
/// use std::os::unix::net::UnixStream;
/// use std::time::Duration;
///
/// fn first_key<P: Poller>(poller: &mut P) -> std::io::Result<Option<u32>> {
///     let events = poller.poll(Some(Duration::from_millis(100)))?;
///     Ok(events.first().map(|e| e.key()))
/// }
///
/// # fn main() -> std::io::Result<()> {
/// let mut poller = OsPoller::new()?;
/// let (a, mut b) = UnixStream::pair()?;
/// let reg = Registration::client(9).with_mode(Mode::Edge).with_interest(Interest::READABLE);
/// poller.register(a.as_fd(), reg)?;
/// b.write_all(b"ping")?;
/// assert_eq!(first_key(&mut poller)?, Some(9));
/// # Ok(())
/// # }
/// ```
pub trait Poller {
    /// Creates a poller with the default event capacity.
    fn new() -> io::Result<Self>
    where
        Self: Sized;

    /// Registers `event.fd` for **read** readiness, level-triggered, with key 0.
    ///
    /// The fd and [`EventKind`](crate::EventKind) travel through the kernel's data word and come
    /// back from [`wait`](Self::wait).
    ///
    /// # Errors
    ///
    /// See [`add_with`](Self::add_with).
    fn add(&self, event: EventObject) -> io::Result<()>;

    /// Removes `fd` from the poller.
    ///
    /// # Errors
    ///
    /// - [`InvalidInput`](io::ErrorKind::InvalidInput): `fd` is negative or one of the
    ///   poller's own fds.
    /// - [`NotFound`](io::ErrorKind::NotFound): `fd` is not registered, or it was closed while
    ///   registered (closing an fd ends its registration in the kernel; with epoll, only once
    ///   every duplicate of the fd is closed, so close duplicates or delete before closing).
    fn delete(&self, fd: RawFd) -> io::Result<()>;

    /// Waits for events and returns them as [`EventObject`]s.
    ///
    /// The slice lives in a buffer owned by the poller and reused by the next call. An empty
    /// slice means the timeout elapsed, a [`Waker`] woke the wait, or a signal interrupted it.
    ///
    /// # Timeout
    ///
    /// | Value | Behaviour |
    /// |-------|----------|
    /// | `-1`  | Block until something is ready or the poller is woken |
    /// | `0`   | Poll without blocking |
    /// | `> 0` | Wait at most this many milliseconds |
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](io::ErrorKind::InvalidInput) for a negative timeout other than `-1`.
    /// A signal (`EINTR`) is not an error: the call returns `Ok` with an empty slice.
    fn wait(&mut self, timeout_ms: i32) -> io::Result<&[EventObject]>;

    /// Creates a poller whose wait returns at most `capacity` events at a time; the rest stay
    /// queued in the kernel for the next wait.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](io::ErrorKind::InvalidInput) for a capacity of 0 or more than the kernel
    /// accepts; [`Unsupported`](io::ErrorKind::Unsupported) by default.
    fn with_capacity(capacity: usize) -> io::Result<Self>
    where
        Self: Sized,
    {
        let _ = capacity;
        Err(unsupported("with_capacity"))
    }

    /// Registers the raw `fd` as `registration` describes: kind, key, interest and mode.
    ///
    /// The default body handles what [`add`](Self::add) can express (readable, level-triggered,
    /// key 0) and returns [`Unsupported`](io::ErrorKind::Unsupported) for the rest.
    ///
    /// # Errors
    ///
    /// - [`InvalidInput`](io::ErrorKind::InvalidInput): `fd` is negative, not open, or one of
    ///   the poller's own fds (its queue, its waker's descriptor); or the interest is empty.
    /// - [`AlreadyExists`](io::ErrorKind::AlreadyExists): `fd` is already registered.
    /// - [`Unsupported`](io::ErrorKind::Unsupported): epoll cannot poll this file (regular
    ///   files and directories, which are always ready).
    fn add_with(&self, fd: RawFd, registration: Registration) -> io::Result<()> {
        if registration == Registration::new(registration.kind(), 0) {
            return self.add(EventObject {
                fd,
                kind: registration.kind(),
            });
        }
        Err(unsupported("add_with"))
    }

    /// Replaces the interest, mode, kind and key of the registered raw `fd`. This is also how a
    /// oneshot registration is re-armed after its event.
    ///
    /// # Errors
    ///
    /// As [`add_with`](Self::add_with), except that an fd which is not registered gives
    /// [`NotFound`](io::ErrorKind::NotFound).
    fn modify(&self, fd: RawFd, registration: Registration) -> io::Result<()> {
        let _ = (fd, registration);
        Err(unsupported("modify"))
    }

    /// [`add_with`](Self::add_with) for a borrowed fd.
    fn register(&self, fd: BorrowedFd<'_>, registration: Registration) -> io::Result<()> {
        self.add_with(fd.as_raw_fd(), registration)
    }

    /// [`modify`](Self::modify) for a borrowed fd.
    fn reregister(&self, fd: BorrowedFd<'_>, registration: Registration) -> io::Result<()> {
        self.modify(fd.as_raw_fd(), registration)
    }

    /// [`delete`](Self::delete) for a borrowed fd.
    fn deregister(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        self.delete(fd.as_raw_fd())
    }

    /// Waits for events and returns them with their keys and readiness flags.
    ///
    /// `None` blocks; so does a duration too large for the kernel (such as
    /// [`Duration::MAX`]). The wait never ends before `timeout` unless an event is ready, a
    /// [`Waker`] woke it, or a signal interrupted it (then it returns `Ok` with no events).
    /// Sub-millisecond timeouts are kept exact where the kernel can (`epoll_pwait2` on Linux
    /// 5.11+, `kevent` everywhere) and otherwise rounded up to the next millisecond.
    ///
    /// # Errors
    ///
    /// [`Unsupported`](io::ErrorKind::Unsupported) by default.
    fn poll(&mut self, timeout: Option<Duration>) -> io::Result<&[Event]> {
        let _ = timeout;
        Err(unsupported("poll"))
    }

    /// [`wait`](Self::wait) with a [`Duration`] timeout, as precise as [`poll`](Self::poll).
    ///
    /// The default body rounds the timeout up to whole milliseconds and calls `wait`.
    fn wait_timeout(&mut self, timeout: Option<Duration>) -> io::Result<&[EventObject]> {
        self.wait(Timeout::from_duration(timeout).ceil_millis())
    }

    /// A handle that makes a blocked wait return from any thread.
    ///
    /// # Errors
    ///
    /// The OS error if the wake-up source cannot be created;
    /// [`Unsupported`](io::ErrorKind::Unsupported) by default.
    fn waker(&self) -> io::Result<Waker> {
        Err(unsupported("waker"))
    }

    /// A handle for registering from other threads while this poller waits.
    ///
    /// # Errors
    ///
    /// [`Unsupported`](io::ErrorKind::Unsupported) by default.
    fn registry(&self) -> io::Result<Registry> {
        Err(unsupported("registry"))
    }
}

#[cold]
fn unsupported(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("this Poller does not implement {what}"),
    )
}
