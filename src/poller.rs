//! The `Poller` trait: the seed API and its extensions.

#[cfg(windows)]
use crate::source::{AsRawFd, BorrowedSource as BorrowedFd, RawSource as RawFd};
use crate::timeout::Timeout;
use crate::{ChildExit, Event, EventObject, Events, Registration, Registry, Signal, Timer, Waker};
use std::io;
#[cfg(unix)]
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::process::Child;
use std::time::Duration;

/// Platform-agnostic interface for registering file descriptors and waiting for readiness.
///
/// [`OsPoller`](crate::OsPoller) implements every method. The four required methods are
/// pollio 0.1.3's; every later method has a default body, so a type that implemented the trait
/// for 0.1.3 still compiles. Those defaults do what can be done with the four required methods
/// and return [`ErrorKind::Unsupported`](io::ErrorKind::Unsupported) otherwise.
///
/// # Implementing `Poller`
///
/// A type outside pollio can implement the four required methods ([`new`](Self::new),
/// [`add`](Self::add), [`delete`](Self::delete), [`wait`](Self::wait)) and override
/// [`with_capacity`](Self::with_capacity), [`add_with`](Self::add_with),
/// [`modify`](Self::modify), [`register`](Self::register), [`reregister`](Self::reregister),
/// [`deregister`](Self::deregister) and [`wait_timeout`](Self::wait_timeout).
///
/// It cannot implement [`poll`](Self::poll), [`poll_into`](Self::poll_into),
/// [`waker`](Self::waker) or [`registry`](Self::registry) on its own: they return or fill
/// [`Event`]s, a [`Waker`] and a [`Registry`], which have no public constructors and are made
/// only by pollio's own pollers. For any other type those four keep their defaults and return
/// `Unsupported`, unless the type wraps an [`OsPoller`](crate::OsPoller) and hands them on.
///
/// So code generic over `P: Poller` may call every method, but with a poller from outside
/// pollio, `poll`, `poll_into`, `waker` and `registry` always return `Unsupported`, and so do
/// the registration methods it did not override. With [`OsPoller`](crate::OsPoller), everything
/// works:
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
///
/// # Errors
///
/// Every failure the kernel reports reaches the caller as the OS error itself:
/// [`raw_os_error()`](io::Error::raw_os_error) is the errno and [`kind()`](io::Error::kind) is
/// what the standard library derives from it. In the cases marked "emulated", kqueue or
/// poll(2) reports no error or another one, and [`OsPoller`](crate::OsPoller) builds the error
/// from epoll's errno, so one check works on every backend; the differences kept are that
/// kqueue accepts regular files and directories, and that the poll(2) backend accepts the other
/// files epoll cannot poll, such as `/dev/null`. pollio makes an error of its own, with no
/// errno, only for conditions that no system call reports. No method panics, and a failed call
/// leaves the poller and its registrations as they were.
///
/// | Situation | epoll | kqueue | poll(2) |
/// |-----------|-------|--------|---------|
/// | an fd added twice | `EEXIST` (`AlreadyExists`) | `EEXIST` (emulated) | `EEXIST` (emulated) |
/// | modify or delete of an open fd that is not registered | `ENOENT` (`NotFound`) | `ENOENT` (emulated) | `ENOENT` (emulated) |
/// | any operation on an fd that is not open (never opened, or closed: closing ends its registration, unless a duplicate is open), or on a negative fd | `EBADF` | `EBADF` | `EBADF` (from `fstat`) |
/// | a regular file or directory | `EPERM` (`PermissionDenied`) for add, modify and delete | accepted (always readable) | `EPERM` (emulated; block devices too) |
/// | the poller's own queue fd | `EINVAL` (`InvalidInput`) | `EINVAL` (emulated) | `EINVAL` (emulated; its interrupting eventfd or pipe) |
/// | the poller's waker fd (eventfd or pipe) | `InvalidInput`, pollio's own (no errno) | the same | the same |
/// | a capacity of 0, or too large | `InvalidInput`, pollio's own | the same | the same |
/// | the event buffer cannot be allocated | `OutOfMemory`, pollio's own | the same | the same |
/// | the seed [`wait`](Self::wait) with any negative timeout | blocks (not an error) | the same | the same |
/// | a signal during a wait | `Ok` with no events (not an error) | the same | the same |
///
/// `EBADF` has no stable [`ErrorKind`](io::ErrorKind): match it with
/// `err.raw_os_error() == Some(libc::EBADF)`. Other errors the kernel gives pass through
/// unchanged, such as `ENOSPC` when epoll's per-user limit of registrations is reached, or
/// `EMFILE` when the process has no fd left for a new poller.
pub trait Poller {
    /// Creates a poller with the default event capacity.
    ///
    /// # Errors
    ///
    /// The OS error if the kernel queue cannot be created (`EMFILE`: the process has no fd
    /// left; `ENOMEM`); `OutOfMemory` if the event buffer cannot be allocated.
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
    /// As [`add_with`](Self::add_with) (the interest is never empty here): `EEXIST`, `EBADF`,
    /// `EPERM` (epoll), `EINVAL`, or `InvalidInput` for the waker's fd.
    fn add(&self, event: EventObject) -> io::Result<()>;

    /// Removes `fd` from the poller.
    ///
    /// pollio never closes the fd: delete it first, then close it. Closing an fd normally ends
    /// its registration in the kernel too, but not always; see the fd-reuse hazard below.
    ///
    /// # The fd-reuse hazard
    ///
    /// With epoll, a registration belongs to the open file, not to the fd number. While a
    /// duplicate of the fd is open (`dup`, [`try_clone`](std::net::TcpStream::try_clone), or a
    /// copy inherited across `fork`), closing the fd does **not** end its registration: its
    /// events keep coming, with the fd number and key it was registered with, though that
    /// number may now belong to another file. `delete` cannot reach it any more (the number is
    /// not open, `EBADF`, or names the other file), so it lasts until the last duplicate is
    /// closed. kqueue drops registrations when the fd is closed, duplicates or not. The poll(2)
    /// backend's registrations belong to the fd number: closing ends them, but a number reused
    /// by another file before the next wait is polled under the old registration until `add`,
    /// `modify` or `delete` of that number notice the new file (see
    /// [`PollPoller`](struct.PollPoller.html)).
    ///
    /// To stay clear of it: delete before closing; do not duplicate registered fds (or close
    /// the duplicates first); and when events carry keys, check that the key's owner still
    /// exists (and is the fd the event names) before acting on an event.
    ///
    /// # Errors
    ///
    /// See [the table](Poller#errors).
    ///
    /// - `ENOENT`: `fd` is open but not registered.
    /// - `EBADF`: `fd` is not open (or negative): there is nothing to delete. If it was
    ///   registered, closing it already ended the registration, unless a duplicate is open
    ///   (see the fd-reuse hazard above).
    /// - `EPERM` (epoll): `fd` is a regular file or directory, which can never be registered.
    /// - `EINVAL`: `fd` is the poller's own queue; `InvalidInput` (pollio's own): its
    ///   waker's fd.
    fn delete(&self, fd: RawFd) -> io::Result<()>;

    /// Waits for events and returns them as [`EventObject`]s.
    ///
    /// The slice lives in a buffer owned by the poller and reused by the next call. An empty
    /// slice means the timeout elapsed, a [`Waker`] woke the wait, or a signal interrupted it.
    ///
    /// The slice borrows the poller, so [`add`](Self::add) and [`delete`](Self::delete) cannot
    /// be called while going through it. Copy the events into a `Vec` you reuse
    /// (`events.clear(); events.extend_from_slice(poller.wait(-1)?);`), which allocates nothing
    /// once it has grown; the [server loop](crate#the-server-loop) shows it.
    ///
    /// # Timeout
    ///
    /// | Value | Behaviour |
    /// |-------|----------|
    /// | any negative value | Block until something is ready or the poller is woken |
    /// | `0`   | Poll without blocking |
    /// | `> 0` | Wait at most this many milliseconds |
    ///
    /// # Errors
    ///
    /// The OS error of the wait system call, which does not fail on a live poller;
    /// `OutOfMemory` if the first seed wait cannot allocate its buffer of
    /// [`EventObject`]s. A signal (`EINTR`) is not an error: the call returns `Ok` with an
    /// empty slice. No timeout is an error. See [the table](Poller#errors).
    fn wait(&mut self, timeout_ms: i32) -> io::Result<&[EventObject]>;

    /// Creates a poller whose wait returns at most `capacity` events at a time; the rest stay
    /// queued in the kernel for the next wait.
    ///
    /// # Errors
    ///
    /// `InvalidInput` (pollio's own) for a capacity of 0 or more than one kernel call can
    /// fill; otherwise as [`new`](Self::new). [`Unsupported`](io::ErrorKind::Unsupported) by
    /// default.
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
    /// An fd number can be registered again once it was deleted or closed, but see
    /// [the fd-reuse hazard](Poller#the-fd-reuse-hazard): while a duplicate of a
    /// closed fd is open, its old registration still reports events under the same number.
    ///
    /// # Errors
    ///
    /// See [the table](Poller#errors).
    ///
    /// - `EEXIST`: `fd` is already registered.
    /// - `EBADF`: `fd` is not open, or negative.
    /// - `EPERM` (epoll): `fd` is a regular file or directory (kqueue accepts them, always
    ///   readable).
    /// - `EINVAL`: `fd` is the poller's own queue.
    /// - `InvalidInput` (pollio's own): `fd` is the poller's waker's fd.
    ///
    /// An empty interest is not an error: it parks the fd (see [`Interest::NONE`]).
    ///
    /// [`Interest::NONE`]: crate::Interest::NONE
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
    /// See [the table](Poller#errors).
    ///
    /// - `ENOENT`: `fd` is open but not registered.
    /// - `EBADF`: `fd` is not open, or negative.
    /// - `EPERM` (epoll): `fd` is a regular file or directory.
    /// - `EINVAL`: `fd` is the poller's own queue.
    /// - `InvalidInput` (pollio's own): `fd` is the poller's waker's fd.
    /// - [`Unsupported`](io::ErrorKind::Unsupported) by default.
    fn modify(&self, fd: RawFd, registration: Registration) -> io::Result<()> {
        let _ = (fd, registration);
        Err(unsupported("modify"))
    }

    /// [`add_with`](Self::add_with) for a borrowed fd.
    ///
    /// # Errors
    ///
    /// As [`add_with`](Self::add_with). A [`BorrowedFd`] is open for as long as it lives, so
    /// `EBADF` does not happen here.
    fn register(&self, fd: BorrowedFd<'_>, registration: Registration) -> io::Result<()> {
        self.add_with(fd.as_raw_fd(), registration)
    }

    /// [`modify`](Self::modify) for a borrowed fd.
    ///
    /// # Errors
    ///
    /// As [`modify`](Self::modify); `EBADF` does not happen with a [`BorrowedFd`].
    fn reregister(&self, fd: BorrowedFd<'_>, registration: Registration) -> io::Result<()> {
        self.modify(fd.as_raw_fd(), registration)
    }

    /// [`delete`](Self::delete) for a borrowed fd.
    ///
    /// # Errors
    ///
    /// As [`delete`](Self::delete); `EBADF` does not happen with a [`BorrowedFd`].
    fn deregister(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        self.delete(fd.as_raw_fd())
    }

    /// Waits for events and returns them with their keys and readiness flags.
    ///
    /// `None` blocks; so does a duration too large for the kernel (such as
    /// [`Duration::MAX`]). The wait never ends before `timeout` unless an event is ready, a
    /// [`Waker`] woke it, or a signal interrupted it (then it returns `Ok` with no events).
    /// Sub-millisecond timeouts are kept exact where the kernel can (`epoll_pwait2` on Linux
    /// 5.11+, `kevent` everywhere, `ppoll` where libc has it) and otherwise rounded up to the
    /// next millisecond.
    ///
    /// The slice borrows the poller; to register or deregister while going through it, use a
    /// [`Registry`] (see [`registry`](Self::registry)).
    ///
    /// # Errors
    ///
    /// The OS error of the wait system call, which does not fail on a live poller. A signal
    /// is not an error. [`Unsupported`](io::ErrorKind::Unsupported) by default: only pollio's
    /// own pollers can make an [`Event`].
    fn poll(&mut self, timeout: Option<Duration>) -> io::Result<&[Event]> {
        let _ = timeout;
        Err(unsupported("poll"))
    }

    /// Waits for events and stores them in `events`, a buffer the caller owns; returns how
    /// many there are. The main loop for new code.
    ///
    /// It takes `&self`: the loop over `events` can register, modify and delete through the
    /// same poller, and several threads can wait on one poller at once, each with its own
    /// [`Events`]. At most [`Events::capacity`] events are stored; more ready events stay
    /// queued in the kernel for the next wait. Timeouts are as for [`poll`](Self::poll), and
    /// it costs what `poll` costs: one system call, nothing allocated, nothing copied.
    ///
    /// With several threads waiting: an edge-triggered or oneshot event is given to one of
    /// them; a level-triggered fd that stays ready can be reported to several, since each
    /// wait finds it ready (so can an edge-triggered one on the poll(2) backend, which reports
    /// edges as levels); a [`Waker`]'s wake makes at least one of them return (and exactly
    /// one takes the wake, so wakes keep coalescing).
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use pollio::{Events, OsPoller, Poller, Registration};
    /// use std::io::Write;
    /// use std::os::fd::AsFd;
    /// use std::os::unix::net::UnixStream;
    /// use std::time::Duration;
    ///
    /// let poller = OsPoller::new()?;
    /// let mut events = Events::new();
    /// let (a, mut b) = UnixStream::pair()?;
    /// poller.register(a.as_fd(), Registration::client(1))?;
    /// b.write_all(b"x")?;
    /// let n = poller.poll_into(&mut events, Some(Duration::from_secs(5)))?;
    /// assert_eq!(n, 1);
    /// for event in &events {
    ///     // Registering inside the loop compiles: the events do not borrow the poller.
    ///     poller.deregister(a.as_fd())?;
    ///     assert_eq!(event.key(), 1);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`poll`](Self::poll). [`Unsupported`](io::ErrorKind::Unsupported) by default: only
    /// pollio's own pollers can make an [`Event`].
    fn poll_into(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<usize> {
        let _ = (events, timeout);
        Err(unsupported("poll_into"))
    }

    /// [`wait`](Self::wait) with a [`Duration`] timeout, as precise as [`poll`](Self::poll).
    ///
    /// The default body rounds the timeout up to whole milliseconds and calls `wait`.
    ///
    /// # Errors
    ///
    /// As [`wait`](Self::wait).
    fn wait_timeout(&mut self, timeout: Option<Duration>) -> io::Result<&[EventObject]> {
        self.wait(Timeout::from_duration(timeout).ceil_millis())
    }

    /// A handle that makes a blocked wait return from any thread.
    ///
    /// # Errors
    ///
    /// The OS error if the wake-up source cannot be created (on the first call only: an
    /// eventfd on Linux, an `EVFILT_USER` event or a pipe on kqueue; `EMFILE` when the
    /// process has no fd left). [`Unsupported`](io::ErrorKind::Unsupported) by default: only
    /// pollio's own pollers can make a [`Waker`].
    fn waker(&self) -> io::Result<Waker> {
        Err(unsupported("waker"))
    }

    /// A handle for registering from other threads while this poller waits, or from inside
    /// a loop over the events of [`poll`](Self::poll), which borrow the poller.
    ///
    /// # Errors
    ///
    /// [`OsPoller`](crate::OsPoller)'s never fails. [`Unsupported`](io::ErrorKind::Unsupported)
    /// by default: only pollio's own pollers can make a [`Registry`].
    fn registry(&self) -> io::Result<Registry> {
        Err(unsupported("registry"))
    }

    /// A new, unarmed [`Timer`] whose events carry `registration`'s key or token; see
    /// [`Timer`] for how it fires and counts.
    ///
    /// # Errors
    ///
    /// As [`Registry::timer`]. [`Unsupported`](io::ErrorKind::Unsupported) by default.
    fn timer(&self, registration: Registration) -> io::Result<Timer> {
        let _ = registration;
        Err(unsupported("timer"))
    }

    /// A source of events for signal `signo`; see [`Signal`] for what it changes in the
    /// process.
    ///
    /// # Errors
    ///
    /// As [`Registry::signal`]. [`Unsupported`](io::ErrorKind::Unsupported) by default.
    fn signal(&self, signo: i32, registration: Registration) -> io::Result<Signal> {
        let _ = (signo, registration);
        Err(unsupported("signal"))
    }

    /// An event when `child` exits; see [`ChildExit`].
    ///
    /// # Errors
    ///
    /// As [`Registry::child_exit`]. [`Unsupported`](io::ErrorKind::Unsupported) by default.
    fn child_exit(&self, child: &Child, registration: Registration) -> io::Result<ChildExit> {
        let _ = (child, registration);
        Err(unsupported("child_exit"))
    }

    /// An event when the process `pid` exits; see [`ChildExit`].
    ///
    /// # Errors
    ///
    /// As [`Registry::pid_exit`]. [`Unsupported`](io::ErrorKind::Unsupported) by default.
    fn pid_exit(&self, pid: u32, registration: Registration) -> io::Result<ChildExit> {
        let _ = (pid, registration);
        Err(unsupported("pid_exit"))
    }
}

#[cold]
fn unsupported(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("this Poller does not implement {what}"),
    )
}
