//! Registration, shared by a poller and every [`Registry`] and [`Waker`] cloned from it.

#[cfg(windows)]
use crate::source::{AsRawFd, BorrowedSource as BorrowedFd, RawSource as RawFd};
use crate::{sys, Backend, Event, EventObject, Registration, Waker};
use std::io;
#[cfg(unix)]
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// The state a poller shares with its registries and wakers.
pub(crate) struct Shared {
    pub(crate) selector: sys::Selector,
    /// Created by the first call to `waker()`.
    pub(crate) wake_source: OnceLock<sys::WakeSource>,
    /// Set by the first wake after a wait returned, cleared when the wait sees the wake event:
    /// later wakes in between are already covered and make no system call. Both sides change
    /// it with a read-modify-write; `take_wake` says why that matters.
    pub(crate) notified: AtomicBool,
}

impl Shared {
    pub(crate) fn new(backend: Backend) -> io::Result<Arc<Shared>> {
        Ok(Arc::new(Shared {
            selector: sys::Selector::new(backend)?,
            wake_source: OnceLock::new(),
            notified: AtomicBool::new(false),
        }))
    }

    // The registration path below is always inlined down to the system call: a caller's
    // constant registration then folds into the epoll mask and word, and no chain of call
    // frames surrounds the one `epoll_ctl`. The error values are built out of line. (With a
    // plain `#[inline]`, LLVM kept `add` out of line once a registration could carry a token:
    // churn went from 76 to 106 instructions.)

    #[inline(always)]
    fn check(&self, fd: RawFd) -> io::Result<()> {
        // (A Windows socket is unsigned: no such check there.)
        #[cfg(unix)]
        if fd < 0 {
            // What epoll_ctl answers for it; kqueue would take it as a huge ident.
            return Err(io::Error::from_raw_os_error(libc::EBADF));
        }
        // The backends refuse the queue's own fd (epoll answers EINVAL); the waker's source
        // is checked here, because the kernel would let a modify or delete of it through and
        // silently disconnect every Waker.
        if self.wake_source.get().is_some_and(|source| source.owns(fd)) {
            return Err(invalid_input("a poller cannot watch its waker's fd"));
        }
        Ok(())
    }

    #[inline(always)]
    fn add(&self, fd: RawFd, reg: Registration) -> io::Result<()> {
        self.check(fd)?;
        let word = reg.word_for(fd, true)?;
        self.selector
            .add(fd, word, reg.interest(), reg.mode(), reg.is_exclusive())
    }

    #[inline(always)]
    fn modify(&self, fd: RawFd, reg: Registration) -> io::Result<()> {
        self.check(fd)?;
        let word = reg.word_for(fd, false)?;
        self.selector.modify(fd, word, reg.interest(), reg.mode())
    }

    #[inline(always)]
    fn delete(&self, fd: RawFd) -> io::Result<()> {
        self.check(fd)?;
        self.selector.delete(fd)
    }

    pub(crate) fn waker(self: &Arc<Self>) -> io::Result<Waker> {
        if self.wake_source.get().is_none() {
            let source = sys::WakeSource::new(&self.selector)?;
            // Another thread may have won the race; dropping our source closes its fd, which
            // also ends its registration.
            let _ = self.wake_source.set(source);
        }
        Ok(Waker::new(Arc::clone(self)))
    }

    /// Removes the wake event from `events`, if present, and re-enables wake notifications.
    ///
    /// The flag is cleared with a swap, not a store. A caller typically reads its own work
    /// queue next, while producers push to it and then call `Waker::wake`, which skips the
    /// system call when its swap reads `true`. With a plain store, the caller's later read of
    /// the queue could be ordered before the store (store buffering): a producer could push
    /// unseen, read the old `true`, skip, and leave the caller asleep with work queued and no
    /// wake coming. Two swaps on one atomic are totally ordered, so either the producer's
    /// swap comes after this one and reads `false` (it makes the system call, and the next wait
    /// returns), or it comes before and this swap reads the `true` it wrote: this Acquire
    /// then pairs with the Release half of that swap in `Waker::wake`, and the push the
    /// producer made before waking is visible to everything the caller does after this.
    #[inline]
    pub(crate) fn take_wake(&self, events: &mut Vec<Event>) {
        if self.wake_source.get().is_none() {
            return;
        }
        if let Some(i) = events.iter().position(Event::is_wake) {
            events.swap_remove(i);
            self.notified.swap(false, Ordering::Acquire);
        }
    }
}

#[cold]
fn invalid_input(why: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, why)
}

/// A handle for adding, modifying and deleting registrations, usable from any thread while
/// the poller waits.
///
/// Get one from [`Poller::registry`](crate::Poller::registry); clone it freely. Registration
/// goes straight to the kernel (`epoll_ctl` / `kevent`), so a waiting thread takes no lock and
/// a registration made while it waits is seen by that same wait. (The poll(2) backend keeps
/// the registrations in a table instead, and interrupts a blocked wait so that it sees the
/// change.) It is also how a loop over
/// the events of [`Poller::poll`](crate::Poller::poll), which borrow the poller, registers
/// and deregisters as it goes (see [the server loop](crate#the-server-loop)).
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use pollio::{OsPoller, Poller, Registration};
/// use std::io::Write;
/// use std::os::fd::AsFd;
/// use std::os::unix::net::UnixStream;
///
/// let mut poller = OsPoller::new()?;
/// let registry = poller.registry()?;
/// let (a, mut b) = UnixStream::pair()?;
///
/// let thread = std::thread::spawn(move || -> std::io::Result<UnixStream> {
///     registry.register(a.as_fd(), Registration::client(1))?;
///     b.write_all(b"x")?;
///     Ok(a)
/// });
/// let events = poller.poll(None)?;
/// assert_eq!(events[0].key(), 1);
/// # let _ = thread.join().unwrap()?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Registry {
    pub(crate) shared: Arc<Shared>,
}

impl Registry {
    /// Registers `event.fd` for readability, level-triggered, with key 0 (the seed `add`).
    ///
    /// # Errors
    ///
    /// As [`Poller::add`](crate::Poller::add): `EEXIST`, `EBADF`, `EPERM` (epoll, a regular
    /// file or directory), `EINVAL` (the queue's fd), or [`InvalidInput`](io::ErrorKind::InvalidInput)
    /// for the waker's fd. See [the error table](crate::Poller#errors).
    #[inline]
    pub fn add(&self, event: EventObject) -> io::Result<()> {
        self.shared.add(event.fd, Registration::new(event.kind, 0))
    }

    /// Registers the raw `fd` as `registration` describes.
    ///
    /// # Errors
    ///
    /// As [`Poller::add_with`](crate::Poller::add_with): `EEXIST` (already registered),
    /// `EBADF` (negative or not open), `EPERM` (epoll, a regular file or directory), `EINVAL`
    /// (the queue's fd), or [`InvalidInput`](io::ErrorKind::InvalidInput) for the waker's fd.
    /// See [the error table](crate::Poller#errors).
    #[inline]
    pub fn add_with(&self, fd: RawFd, registration: Registration) -> io::Result<()> {
        self.shared.add(fd, registration)
    }

    /// Replaces the interest, mode, kind and key of the registered raw `fd`; re-arms a
    /// oneshot registration.
    ///
    /// # Errors
    ///
    /// As [`Poller::modify`](crate::Poller::modify): `ENOENT` (open but not registered),
    /// `EBADF` (negative or not open), `EPERM` (epoll, a regular file or directory), `EINVAL`
    /// (the queue's fd), or [`InvalidInput`](io::ErrorKind::InvalidInput) for the waker's fd.
    /// See [the error table](crate::Poller#errors).
    #[inline]
    pub fn modify(&self, fd: RawFd, registration: Registration) -> io::Result<()> {
        self.shared.modify(fd, registration)
    }

    /// Removes the raw `fd` from the poller.
    ///
    /// # Errors
    ///
    /// As [`Poller::delete`](crate::Poller::delete): `ENOENT` (open but not registered),
    /// `EBADF` (negative or not open: nothing to delete), `EPERM` (epoll, a regular file or
    /// directory), `EINVAL` (the queue's fd), or [`InvalidInput`](io::ErrorKind::InvalidInput)
    /// for the waker's fd. See [the error table](crate::Poller#errors).
    #[inline]
    pub fn delete(&self, fd: RawFd) -> io::Result<()> {
        self.shared.delete(fd)
    }

    /// Registers `fd` as `registration` describes.
    ///
    /// Takes a [`BorrowedFd`], as [`Poller::register`](crate::Poller::register) does: pass
    /// `stream.as_fd()`. Ownership cannot be passed by mistake, so the stream is not closed
    /// (and its registration ended) as the call returns. Passing the stream itself does not
    /// compile:
    ///
    /// ```compile_fail,E0308
    /// use pollio::{OsPoller, Poller, Registration};
    /// use std::os::unix::net::UnixStream;
    ///
    /// fn main() -> std::io::Result<()> {
    ///     let poller = OsPoller::new()?;
    ///     let registry = poller.registry()?;
    ///     let (stream, _peer) = UnixStream::pair()?;
    ///     registry.register(stream, Registration::client(1)) // needs stream.as_fd()
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`add_with`](Self::add_with). A `BorrowedFd` is open for as long as it lives, so
    /// `EBADF` does not happen here.
    #[inline]
    pub fn register(&self, fd: BorrowedFd<'_>, registration: Registration) -> io::Result<()> {
        self.shared.add(fd.as_raw_fd(), registration)
    }

    /// Replaces the registration of `fd` (see [`modify`](Self::modify)).
    ///
    /// # Errors
    ///
    /// As [`modify`](Self::modify); `EBADF` does not happen with a `BorrowedFd`.
    #[inline]
    pub fn reregister(&self, fd: BorrowedFd<'_>, registration: Registration) -> io::Result<()> {
        self.shared.modify(fd.as_raw_fd(), registration)
    }

    /// Removes `fd` from the poller.
    ///
    /// # Errors
    ///
    /// As [`delete`](Self::delete); `EBADF` does not happen with a `BorrowedFd`.
    #[inline]
    pub fn deregister(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        self.shared.delete(fd.as_raw_fd())
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("fd", &self.shared.selector.as_raw_fd())
            .finish()
    }
}
