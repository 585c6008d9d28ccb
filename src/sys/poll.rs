//! The poll(2) backend: the Unix targets without epoll or kqueue, and Linux and Android on
//! request ([`Backend::Poll`]).
//!
//! poll(2) keeps no registrations: every call passes the whole list of fds, and the kernel
//! checks each one. So the registrations live here, in a table behind a mutex, and each
//! waiting thread keeps its own list of `pollfd`s built from it. A wait costs time in
//! proportion to the number of registered fds, where epoll and kqueue cost time in proportion
//! to the number of ready ones.
//!
//! # Registrations
//!
//! add, modify and delete take the table's lock. They check the fd as epoll does, with
//! `fstat(2)` (see `file.rs`): `EBADF` when it is not open; `EPERM` for a regular file,
//! directory or block device; `EINVAL` for the selector's own descriptors; then `EEXIST` or
//! `ENOENT` from the table. The table keeps each registration's file identity (device and
//! inode), so an fd number that was closed and reused by another file is known as a new file:
//! add accepts it, modify and delete answer `ENOENT`, as epoll does. Every change raises the
//! table's generation and rings the interrupt of every wait that is blocked (see "Waiting").
//!
//! `exclusive` is ignored: with one list per wait there is nothing to wake one of.
//!
//! # Modes
//!
//! - Level-triggered: exact. poll(2) is level-triggered.
//! - Oneshot (and edge + oneshot): exact. The waiter that reports the event disarms the
//!   registration under the table's lock, so no other waiter reports it too, and it is left out
//!   of every list until a modify arms it again.
//! - Edge-triggered: reported as level-triggered, on every wait while the fd is ready: never
//!   fewer events than epoll gives, sometimes more (unread data is reported again, as is a
//!   socket that stays writable). poll(2) cannot tell new readiness from old, and any scheme
//!   that stops reporting an fd until it was seen not ready can lose an event: the caller reads
//!   until `WouldBlock`, new data arrives before the next wait, and that wait sees "still
//!   ready". With several threads waiting, one edge can be reported to more than one of them.
//! - Parked (an empty interest): polled with no events, so hang-up and error are still
//!   reported, as epoll does.
//!
//! # Waiting
//!
//! A waiter (see `waiter.rs`) polls its interrupt (an eventfd on Linux and Android, a pipe
//! elsewhere), the waker's descriptor, and every armed registration, in one poll(2) (ppoll(2)
//! where libc has it, for sub-millisecond timeouts; elsewhere the timeout is rounded up to
//! whole milliseconds). Before each call it sets its interrupt's `armed` flag and compares the
//! table's generation, read without the lock, with its list's: if they differ it rebuilds the
//! list under the lock. A change to the table publishes the new generation and rings every
//! interrupt whose flag is set (see `Table::changed` for why both sides are SeqCst), so a
//! registration made while a wait is blocked reaches that wait: it drains its interrupt,
//! rebuilds and polls again for the time left, and returns to the caller only with events, on
//! a wake, at the deadline or on a signal. The wait path takes the lock only to rebuild after
//! a change, to claim a oneshot event, to drop an fd that was closed, or to check its events
//! against the table when the table changed during the call; in steady state it takes no lock
//! and allocates nothing.
//!
//! Several threads can wait at once (`poll_into`): the first takes the selector's own waiter
//! with a `try_lock`, the others take a spare one (created, with its interrupt, the first
//! time that many threads wait together, and kept for reuse). Each polls with its own list.
//! A level-triggered fd that stays ready is reported to every one of them that looks; a
//! oneshot one to exactly one; the waker's descriptor is drained by exactly one, which takes
//! the wake.
//!
//! The buffer's capacity bounds each wait. When more fds are ready than fit, the next wait
//! starts after the last one reported, so level-triggered fds that stay ready take turns.
//!
//! # Closed fds
//!
//! poll(2) reports an fd that is not open with `POLLNVAL`. A registered fd that was closed is
//! dropped from the table when a wait sees that, and its `POLLNVAL` is not reported: closing
//! ended the registration, as with epoll. modify and delete of the closed number answer
//! `EBADF` (and drop it too), and once the number is reused, add, modify and delete see another
//! file (above). Unlike epoll, a registration belongs to the fd number, not to the open file:
//! if the number is closed and reused by another file before a wait sees it closed, waits poll
//! the new file and report it under the old registration's word, until add, modify or delete
//! of that number notice the change. Files that share one inode (on Linux every eventfd,
//! timerfd, signalfd and epoll fd of the process does) look alike to that check, so such a
//! number reused by another of them keeps the old registration until it is deleted.
//!
//! # Files epoll refuses
//!
//! epoll refuses with `EPERM` every file its kernel cannot poll, which fstat(2) cannot fully
//! tell: regular files, directories and block devices are refused here too, but a character
//! device without poll support (such as `/dev/null`) is accepted, and poll(2) reports it
//! always ready.

mod file;
mod notify;
mod table;
mod waiter;

use crate::{Event, Interest, Mode};
use file::{pollable_file, FileId};
use notify::NotifyFd;
use std::io;
use std::os::fd::{BorrowedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::Duration;
use table::{Entry, Interrupt, Table};
use waiter::Waiter;

pub(crate) struct Selector {
    /// The registrations (see the module docs).
    table: Mutex<Table>,
    /// The table's generation, published for waits to read without the lock.
    generation: AtomicU64,
    /// The waiter of the first thread to wait; its interrupt is the selector's own fd.
    first: Mutex<Waiter>,
    /// That interrupt, for `as_raw_fd` without the waiter's lock.
    own: Arc<Interrupt>,
    /// Waiters for threads that wait while the first waiter is taken, kept for reuse.
    spare: Mutex<Vec<Waiter>>,
}

impl Selector {
    /// A selector with an empty table (`new` is the sys-level constructor that takes a
    /// `Backend`, on the targets where this backend is the only one).
    pub(crate) fn create() -> io::Result<Selector> {
        let own = Arc::new(Interrupt {
            fd: NotifyFd::new()?,
            armed: AtomicBool::new(false),
        });
        let mut table = Table::new();
        table.interrupts.push(Arc::clone(&own));
        Ok(Selector {
            table: Mutex::new(table),
            generation: AtomicU64::new(0),
            first: Mutex::new(Waiter::new(Arc::clone(&own))),
            own,
            spare: Mutex::new(Vec::new()),
        })
    }

    /// The first waiter's interrupt: an eventfd on Linux and Android, a pipe's read end
    /// elsewhere. Registering it in another poller does not nest this one: it is readable only
    /// while a registration change is on its way to a blocked wait.
    pub(crate) fn as_raw_fd(&self) -> RawFd {
        self.own.fd.polled()
    }

    pub(crate) fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the interrupt's fd is open for as long as `self.own`, which the returned
        // borrow cannot outlive.
        unsafe { BorrowedFd::borrow_raw(self.own.fd.polled()) }
    }

    /// `exclusive` is ignored (see the module docs).
    pub(crate) fn add(
        &self,
        fd: RawFd,
        word: u64,
        interest: Interest,
        mode: Mode,
        exclusive: bool,
    ) -> io::Result<()> {
        let _ = exclusive;
        let file = self.file(fd)?;
        let mut table = self.lock();
        refuse_own(&table, fd)?;
        if table.entries.get(&fd).is_some_and(|entry| entry.file == file) {
            return Err(io::Error::from_raw_os_error(libc::EEXIST));
        }
        // An entry for another file with this number is stale (see "Closed fds"): replaced.
        table.entries.try_reserve(1).map_err(|_| no_room())?;
        let made = table.changed(&self.generation);
        table
            .entries
            .insert(fd, Entry::new(word, interest, mode, made, file));
        Ok(())
    }

    pub(crate) fn modify(
        &self,
        fd: RawFd,
        word: u64,
        interest: Interest,
        mode: Mode,
    ) -> io::Result<()> {
        let file = self.file(fd)?;
        let mut table = self.lock();
        refuse_own(&table, fd)?;
        registered(&mut table, &self.generation, fd, file)?;
        let made = table.changed(&self.generation);
        table
            .entries
            .insert(fd, Entry::new(word, interest, mode, made, file));
        Ok(())
    }

    pub(crate) fn delete(&self, fd: RawFd) -> io::Result<()> {
        let file = self.file(fd)?;
        let mut table = self.lock();
        refuse_own(&table, fd)?;
        registered(&mut table, &self.generation, fd, file)?;
        table.entries.remove(&fd);
        table.changed(&self.generation);
        Ok(())
    }

    /// The file `fd` names, or epoll's error for it. An fd that is not open, or is now a file
    /// that cannot be registered, is not the one registered under its number: that entry, if
    /// any, is dropped.
    fn file(&self, fd: RawFd) -> io::Result<FileId> {
        pollable_file(fd).map_err(|err| {
            let mut table = self.lock();
            if table.entries.remove(&fd).is_some() {
                table.changed(&self.generation);
            }
            err
        })
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        // Nothing panics while the lock is held, and the table is consistent between any two
        // of its statements, so even a poisoned table is usable.
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One wait; `timeout` as a duration (`None` blocks), which is what this backend needs and
    /// fits in two registers, so the call costs the epoll path beside it nothing.
    pub(crate) fn select_for(
        &self,
        events: &mut Vec<Event>,
        timeout: Option<Duration>,
    ) -> io::Result<()> {
        events.clear();
        match self.first.try_lock() {
            Ok(mut waiter) => waiter.wait(self, events, timeout),
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner().wait(self, events, timeout),
            Err(TryLockError::WouldBlock) => self.select_beside(events, timeout),
        }
    }

    /// A wait while another thread has the first waiter: with a spare one.
    #[cold]
    fn select_beside(
        &self,
        events: &mut Vec<Event>,
        timeout: Option<Duration>,
    ) -> io::Result<()> {
        let spare = self.spare_waiters().pop();
        let mut waiter = match spare {
            Some(waiter) => waiter,
            None => self.new_waiter()?,
        };
        let result = waiter.wait(self, events, timeout);
        self.spare_waiters().push(waiter);
        result
    }

    fn new_waiter(&self) -> io::Result<Waiter> {
        let interrupt = Arc::new(Interrupt {
            fd: NotifyFd::new()?,
            armed: AtomicBool::new(false),
        });
        self.lock().interrupts.push(Arc::clone(&interrupt));
        Ok(Waiter::new(interrupt))
    }

    fn spare_waiters(&self) -> MutexGuard<'_, Vec<Waiter>> {
        // As for the table: nothing panics while it is held.
        self.spare.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `EINVAL` for the selector's own descriptors, as epoll says for its own fd.
fn refuse_own(table: &Table, fd: RawFd) -> io::Result<()> {
    if table.is_own(fd) {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    Ok(())
}

/// `Ok` if `fd` is registered as `file`; else `ENOENT`, dropping an entry left by a closed fd
/// whose number another file now has.
fn registered(
    table: &mut Table,
    generation: &AtomicU64,
    fd: RawFd,
    file: FileId,
) -> io::Result<()> {
    match table.entries.get(&fd) {
        Some(entry) if entry.file == file => Ok(()),
        Some(_) => {
            table.entries.remove(&fd);
            table.changed(generation);
            Err(io::Error::from_raw_os_error(libc::ENOENT))
        }
        None => Err(io::Error::from_raw_os_error(libc::ENOENT)),
    }
}

#[cold]
fn no_room() -> io::Error {
    io::Error::new(
        io::ErrorKind::OutOfMemory,
        "cannot allocate room for another registration",
    )
}

/// An eventfd, or a pipe, that every wait polls: `notify` makes it readable, and the wait that
/// drains it takes the wake. The selector holds it too (in its table), so that wakers made by
/// racing threads all use one descriptor.
pub(crate) struct WakeSource {
    fd: Arc<NotifyFd>,
}

impl WakeSource {
    pub(crate) fn new(selector: &Selector) -> io::Result<WakeSource> {
        let mut table = selector.lock();
        if let Some(fd) = &table.wake {
            return Ok(WakeSource {
                fd: Arc::clone(fd),
            });
        }
        let fd = Arc::new(NotifyFd::new()?);
        table.wake = Some(Arc::clone(&fd));
        table.changed(&selector.generation);
        Ok(WakeSource { fd })
    }

    /// Whether `fd` is this source's eventfd or one end of its pipe.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    #[inline]
    pub(crate) fn owns(&self, fd: RawFd) -> bool {
        self.fd.owns(fd)
    }

    /// This source's eventfd, the one descriptor it owns on Linux and Android.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub(crate) fn eventfd(&self) -> RawFd {
        self.fd.polled()
    }

    /// Async-signal-safe: one write(2).
    pub(crate) fn notify(&self, _selector: &Selector) -> io::Result<()> {
        self.fd.ring()
    }
}

/// The event for a registration's `word` and the `revents` poll(2) gave it: an `epoll_event`
/// on Linux and Android, whose `events` bits poll(2) shares (`POLLRDHUP` moved to
/// `EPOLLRDHUP`, which differs on SPARC).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn new_event(word: u64, revents: libc::c_short) -> Event {
    const SAME: libc::c_short =
        libc::POLLIN | libc::POLLPRI | libc::POLLOUT | libc::POLLERR | libc::POLLHUP;
    const _: () = assert!(
        libc::POLLIN as i32 == libc::EPOLLIN
            && libc::POLLPRI as i32 == libc::EPOLLPRI
            && libc::POLLOUT as i32 == libc::EPOLLOUT
            && libc::POLLERR as i32 == libc::EPOLLERR
            && libc::POLLHUP as i32 == libc::EPOLLHUP
    );
    let mut events = (revents & SAME) as u16 as u32;
    if revents & libc::POLLRDHUP != 0 {
        events |= libc::EPOLLRDHUP as u32;
    }
    Event(libc::epoll_event { events, u64: word })
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) use only::*;

/// The items this backend provides where it is the only one.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod only {
    use super::table::POLLRDHUP;
    use super::super::unsupported;
    use super::Selector;
    use crate::timeout::Timeout;
    use crate::{Backend, Event, Readiness};
    use std::io;

    pub(crate) const DEFAULT: Backend = Backend::Poll;

    /// One event: the registration's word and what poll(2) said of its fd.
    #[derive(Clone, Copy)]
    #[repr(C)]
    pub(crate) struct RawEvent {
        word: u64,
        revents: libc::c_short,
    }

    #[inline]
    pub(crate) fn event_word(event: &RawEvent) -> u64 {
        event.word
    }

    #[inline]
    pub(crate) fn event_readiness(event: &RawEvent) -> Readiness {
        let has = |flag: libc::c_short| event.revents & flag != 0;
        let mut bits = 0;
        if has(libc::POLLIN) {
            bits |= Readiness::READABLE;
        }
        if has(libc::POLLOUT) {
            bits |= Readiness::WRITABLE;
        }
        if has(POLLRDHUP | libc::POLLHUP) {
            bits |= Readiness::READ_CLOSED;
        }
        if has(libc::POLLHUP | libc::POLLERR) {
            bits |= Readiness::WRITE_CLOSED;
        }
        if has(libc::POLLERR) {
            bits |= Readiness::ERROR;
        }
        if has(libc::POLLPRI) {
            bits |= Readiness::PRIORITY;
        }
        if has(POLLRDHUP) {
            bits |= Readiness::READ_HANG_UP;
        }
        if has(libc::POLLHUP) {
            bits |= Readiness::HANG_UP;
        }
        Readiness::from_bits(bits)
    }

    pub(crate) fn new_event(word: u64, revents: libc::c_short) -> Event {
        Event(RawEvent { word, revents })
    }

    impl Selector {
        /// The sys-level constructor: this target's one backend.
        pub(crate) fn new(backend: Backend) -> io::Result<Selector> {
            if backend != Backend::Poll {
                return Err(unsupported(backend));
            }
            Selector::create()
        }

        pub(crate) fn backend(&self) -> Backend {
            Backend::Poll
        }

        pub(crate) fn select(
            &self,
            events: &mut Vec<Event>,
            timeout: Timeout,
        ) -> io::Result<()> {
            self.select_for(events, timeout.duration())
        }
    }

    /// A readable event carrying `word`.
    #[cfg(test)]
    pub(crate) fn test_event(word: u64) -> Event {
        new_event(word, libc::POLLIN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Readiness;
    use std::os::unix::net::UnixStream;
    use std::time::Duration;

    fn readiness(revents: libc::c_short) -> Readiness {
        new_event(7, revents).readiness()
    }

    #[test]
    fn revents_become_the_documented_readiness() {
        let all = Readiness::READABLE | Readiness::WRITABLE | Readiness::PRIORITY;
        assert_eq!(
            readiness(libc::POLLIN | libc::POLLOUT | libc::POLLPRI),
            Readiness::from_bits(all)
        );
        let hung_up = Readiness::READ_CLOSED | Readiness::WRITE_CLOSED | Readiness::HANG_UP;
        assert_eq!(readiness(libc::POLLHUP), Readiness::from_bits(hung_up));
        let failed = Readiness::WRITE_CLOSED | Readiness::ERROR;
        assert_eq!(readiness(libc::POLLERR), Readiness::from_bits(failed));
        if table::POLLRDHUP != 0 {
            let half = Readiness::READABLE | Readiness::READ_CLOSED | Readiness::READ_HANG_UP;
            assert_eq!(
                readiness(libc::POLLIN | table::POLLRDHUP),
                Readiness::from_bits(half)
            );
        }
        assert_eq!(new_event(7, libc::POLLIN).token(), 7);
    }

    /// Two threads waiting at once: the second takes a spare waiter, with an interrupt of its
    /// own, and later second waits reuse it instead of making another.
    #[test]
    #[cfg_attr(miri, ignore = "Miri has no fstat(2) or poll(2)")]
    fn a_second_waiter_is_made_once_and_reused() -> io::Result<()> {
        let selector = Selector::create()?;
        let (a, _b) = UnixStream::pair()?;
        selector.add(
            std::os::fd::AsRawFd::as_raw_fd(&a),
            1,
            Interest::READABLE,
            Mode::Level,
            false,
        )?;
        for _ in 0..3 {
            // Holding the first waiter makes every wait on this thread a second one.
            let first = selector.first.lock().unwrap();
            let mut events = Vec::with_capacity(4);
            selector.select_for(&mut events, Some(Duration::from_millis(1)))?;
            assert!(events.is_empty());
            drop(first);
        }
        assert_eq!(selector.lock().interrupts.len(), 2);
        assert_eq!(selector.spare_waiters().len(), 1);
        Ok(())
    }
}
