//! macOS, iOS and BSD backend: `kqueue`, with `EVFILT_USER` (or a pipe) as the wake-up source.
//!
//! # Registrations
//!
//! An fd's registration is one or two knotes: `EVFILT_READ` for readable or priority interest,
//! `EVFILT_WRITE` for writable interest. Both carry the registration's 64-bit word (see
//! `word.rs`) in their pointer-sized `udata`, so this backend needs 64-bit pointers. The mode
//! becomes knote flags:
//!
//! | Mode | Flags |
//! |------|-------|
//! | level | none |
//! | edge | `EV_CLEAR` |
//! | oneshot, edge + oneshot | `EV_DISPATCH` |
//!
//! A parked registration (an empty interest) is one `EVFILT_READ` knote added with
//! `EV_DISABLE`: it reports nothing, not even end of file, until a modify arms it, and the
//! kernel still holds it, so the error checks below work for it as for any other.
//!
//! `EV_DISPATCH` rather than `EV_ONESHOT`, because a dispatched knote is only disabled after its
//! event, not deleted: the kernel keeps holding exactly the knotes of every registration, which
//! is what the error checks below rely on, and a delete after the event finds a knote to delete.
//! Re-arming is the same as every other modify (delete the knotes, add the new ones in the same
//! call). That fresh knote reports readiness that is already there, as epoll's re-arm does, so
//! `EV_CLEAR` would change nothing for a oneshot registration; it is left out because NetBSD and
//! DragonFly ignore `EV_DISPATCH` on a knote that also has `EV_CLEAR`. Each filter is its own
//! knote, so a oneshot registration for both reading and writing is disabled one filter at a
//! time: after the read event, a write event can still come once before the re-arm.
//!
//! # Errors as epoll reports them
//!
//! kqueue has no add that fails on an existing knote and no modify that fails on a missing one:
//! `EV_ADD` creates or updates. To report `EEXIST` and `ENOENT` as epoll does (built with
//! `io::Error::from_raw_os_error`, so `raw_os_error()` agrees across backends), the selector
//! keeps a table of the registered fds, their word, filters and mode. Only add, modify and
//! delete take its lock, and they hold it across their `kevent` call, so registrations from
//! several threads apply in one order; the wait path never touches it.
//!
//! The table can be stale: closing an fd makes the kernel drop its knotes without telling
//! anyone. Whenever the table says an fd is registered, the kernel is asked to confirm it,
//! through `EV_RECEIPT`, which gives each change of a `kevent` call its own result:
//!
//! - add: the table lists the fd, so one extra call submits a change with no action flags for
//!   each listed filter. The kernel answers `ENOENT` for a knote it does not hold, and
//!   otherwise re-applies the same word and re-checks readiness (at worst one extra event for
//!   an edge-triggered fd with unread data). Held: `EEXIST`. Not held: the entry was
//!   stale and the add goes ahead.
//! - modify: one call deletes the listed knotes and adds the new ones. A delete that succeeds
//!   proves the registration; if none does (`ENOENT` or `EBADF`), the fd was closed while
//!   registered, the knotes just added are deleted again by a second call, and the result is
//!   `ENOENT` (`EBADF` when the fd is no longer open). Between those two calls a
//!   concurrent wait can see one event from the knotes being taken back. If an add fails on a
//!   registration that did exist, the old knotes are put back, so a oneshot that had fired is
//!   armed again.
//! - delete: one call deletes the listed knotes; if none was held, `ENOENT` (`EBADF` when the
//!   fd is no longer open).
//!
//! An fd closed without a delete keeps its entry until its number is added, modified or
//! deleted again, so the table never holds more entries than the highest fd number.
//!
//! An fd that is not in the table is not registered: add goes straight to the kernel (its
//! errno, such as `EBADF` for an fd that is not open, is passed on as it is), modify and delete
//! answer from the table (`ENOENT`, or `EBADF` for an fd that is not open, as epoll checks that
//! first). The queue's own fd is `EINVAL`, as epoll says for its own. Unlike epoll, kqueue
//! polls regular files (readable until end of file) and directories, so they are accepted.
//!
//! Every change list has `EV_RECEIPT` on every change and an event list of the same length, so
//! the kernel writes one receipt per change, in order, and never takes pending events there.
//!
//! # Waiting
//!
//! One `kevent` call fills the poller's buffer with `struct kevent`s. Each event's readiness is
//! then computed once and stored in its `fflags`, and a read event and a write event of the same
//! registration that the kernel returned next to each other are folded into one. The kernel
//! returns both knotes together when they became ready together (for example both registered
//! in one call while the fd was already readable and writable); when they became ready at
//! different times, other fds' events can sit between them, and then the fd has two events in
//! that wait. A read-only registration, as the seed API makes, has one knote and so at most one
//! event per wait. Timeouts are `timespec`s with nanosecond precision; one longer than `i32::MAX`
//! seconds blocks, as FreeBSD itself treats it.
//!
//! # Waking
//!
//! An `EVFILT_USER` event with `EV_CLEAR` on macOS, iOS, FreeBSD and DragonFly, and on NetBSD
//! (10 and later) and OpenBSD when the running kernel has the filter: `NOTE_TRIGGER` makes it
//! pending and delivering it clears it. A NetBSD or OpenBSD kernel without it refuses the filter
//! with `EINVAL`, and a non-blocking pipe whose read end is registered with `EV_CLEAR` takes its
//! place: each wake writes one byte, which is one new edge, and the pipe is only read when it
//! is full.
//!
//! # Close-on-exec
//!
//! NetBSD creates the queue with `kqueue1(O_CLOEXEC)`. The others (the libc crate offers no
//! `kqueue1` for them) set `FD_CLOEXEC` right after `kqueue()`; a kqueue is never inherited by
//! a child created with fork(2) on these systems, so no child can exec with the queue in
//! between.

#[cfg(not(target_pointer_width = "64"))]
compile_error!(
    "pollio's kqueue backend needs 64-bit pointers: a registration's 64-bit word travels in \
     kevent's pointer-sized udata and would be cut in half"
);

use super::{syscall, unsupported};
use crate::timeout::Timeout;
use crate::{word, Backend, Event, Interest, Mode, Readiness};
use std::collections::HashMap;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::ptr;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The type of `kevent.filter`.
#[cfg(target_os = "netbsd")]
pub(crate) type Filter = u32;
#[cfg(not(target_os = "netbsd"))]
pub(crate) type Filter = i16;

/// The type of `kevent.flags`.
#[cfg(target_os = "netbsd")]
pub(crate) type Flags = u32;
#[cfg(not(target_os = "netbsd"))]
pub(crate) type Flags = u16;

/// The type of `kevent`'s change and event counts.
#[cfg(target_os = "netbsd")]
pub(crate) type Count = libc::size_t;
#[cfg(not(target_os = "netbsd"))]
pub(crate) type Count = libc::c_int;

/// One `struct kevent`, as the kernel fills it and then with its readiness in `fflags`.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub(crate) struct RawEvent(libc::kevent);

// SAFETY: the only pointer in a kevent is `udata`, which pollio fills with an integer (the
// registration word) and never dereferences; every other field is a plain integer.
unsafe impl Send for RawEvent {}
// SAFETY: as for Send: shared references only read integers.
unsafe impl Sync for RawEvent {}

#[inline]
pub(crate) fn event_word(event: &RawEvent) -> u64 {
    udata_word(&event.0)
}

#[inline]
pub(crate) fn event_readiness(event: &RawEvent) -> Readiness {
    // `select` replaced the kernel's fflags with the readiness bits.
    Readiness::from_bits(event.0.fflags as u8)
}

/// The kernel's `data` of a timer, signal or process event: how many times it fired since
/// the last event (see `kqueue_sources.rs`).
#[inline]
pub(crate) fn event_data(event: &RawEvent) -> i64 {
    event.0.data as i64
}

#[inline]
fn udata_word(kev: &libc::kevent) -> u64 {
    kev.udata as usize as u64
}

/// The readiness one kernel event reports.
#[inline]
fn readiness_bits(kev: &libc::kevent) -> u8 {
    let (filter, flags, fflags) = (kev.filter, kev.flags, kev.fflags);
    if filter != libc::EVFILT_READ && filter != libc::EVFILT_WRITE {
        // A timer, signal or child exit (kqueue_sources.rs): readable, whatever its flags.
        return Readiness::READABLE;
    }
    let eof = flags & libc::EV_EOF != 0;
    let mut bits = 0;
    if filter == libc::EVFILT_READ {
        bits |= Readiness::READABLE;
        if eof {
            bits |= Readiness::READ_CLOSED | Readiness::READ_HANG_UP;
        }
    } else if filter == libc::EVFILT_WRITE {
        bits |= Readiness::WRITABLE;
        if eof {
            bits |= Readiness::WRITE_CLOSED | Readiness::HANG_UP;
        }
    }
    // With EV_EOF, a socket's pending error is in fflags.
    if flags & libc::EV_ERROR != 0 || (eof && fflags != 0) {
        bits |= Readiness::ERROR;
    }
    bits
}

/// Stores each event's readiness in its `fflags` and folds a read and a write event of the
/// same registration that sit next to each other into one.
#[inline]
fn fold(events: &mut Vec<Event>) {
    let mut kept: usize = 0;
    for i in 0..events.len() {
        let kev = events[i].0 .0;
        let bits = u32::from(readiness_bits(&kev));
        let previous = kept.checked_sub(1).map(|i| events[i].0 .0);
        if previous.is_some_and(|p| p.ident == kev.ident && udata_word(&p) == udata_word(&kev)) {
            let merged = &mut events[kept - 1].0 .0;
            merged.fflags |= bits;
        } else {
            let slot = &mut events[kept].0 .0;
            *slot = kev;
            slot.fflags = bits;
            kept += 1;
        }
    }
    events.truncate(kept);
}

/// The kevent timeout for `timeout`; `None` blocks.
fn kevent_timeout(timeout: Timeout) -> Option<libc::timespec> {
    // Longer timeouts block, as FreeBSD's kernel treats them, so no kernel is asked to do
    // deadline arithmetic near its limits.
    const MAX_SECS: u64 = i32::MAX as u64;

    let duration = timeout.duration()?;
    if duration.as_secs() > MAX_SECS {
        return None;
    }
    Some(libc::timespec {
        tv_sec: duration.as_secs() as libc::time_t,
        tv_nsec: duration.subsec_nanos() as libc::c_long,
    })
}

/// A kevent with the given fields and zero elsewhere.
pub(crate) fn new_kevent(
    ident: libc::uintptr_t,
    filter: Filter,
    flags: Flags,
    fflags: u32,
    word: u64,
) -> libc::kevent {
    // SAFETY: struct kevent holds only integers, integer arrays and a raw pointer, for all of
    // which all-zero bytes are a valid value (0 and null).
    let mut kev: libc::kevent = unsafe { std::mem::zeroed() };
    kev.ident = ident;
    kev.filter = filter;
    kev.flags = flags;
    kev.fflags = fflags;
    // udata is a pointer on most systems and an intptr_t on older NetBSD; either holds the word.
    kev.udata = word as usize as _;
    kev
}

/// The kevent ident of an fd, which callers have checked is not negative.
fn ident(fd: RawFd) -> libc::uintptr_t {
    fd as libc::uintptr_t
}

/// A registration as the kernel holds it.
#[derive(Clone, Copy)]
struct Entry {
    word: u64,
    read: bool,
    write: bool,
    mode: Mode,
}

impl Entry {
    fn new(word: u64, interest: Interest, mode: Mode) -> Entry {
        Entry {
            word,
            // kqueue has no separate priority filter: out-of-band data shows on EVFILT_READ.
            read: interest.is_readable() || interest.is_priority(),
            write: interest.is_writable(),
            mode,
        }
    }

    /// A parked registration (no interest): one disabled `EVFILT_READ` knote, which reports
    /// nothing but lets the kernel confirm the registration and drop it when the fd closes.
    fn is_parked(self) -> bool {
        !self.read && !self.write
    }

    /// The filters this registration occupies.
    fn filters(self) -> impl Iterator<Item = Filter> {
        [
            (self.read || self.is_parked(), libc::EVFILT_READ),
            (self.write, libc::EVFILT_WRITE),
        ]
        .into_iter()
        .filter_map(|(on, filter)| on.then_some(filter))
    }

    /// The knote flags for the mode, as the table in the module docs gives them.
    fn mode_flags(self) -> Flags {
        if self.is_parked() {
            libc::EV_DISABLE
        } else if self.mode.is_oneshot() {
            libc::EV_DISPATCH
        } else if self.mode.is_edge() {
            libc::EV_CLEAR
        } else {
            0
        }
    }

    fn push_add(self, fd: RawFd, changes: &mut Changes) {
        let flags = libc::EV_ADD | self.mode_flags();
        for filter in self.filters() {
            changes.push(new_kevent(ident(fd), filter, flags, 0, self.word));
        }
    }

    fn push_delete(self, fd: RawFd, changes: &mut Changes) {
        for filter in self.filters() {
            changes.push(new_kevent(ident(fd), filter, libc::EV_DELETE, 0, 0));
        }
    }

    /// Changes with no action: `ENOENT` for a knote the kernel does not hold. The kernel
    /// re-applies the word (and the zero filter data) to one it holds, so the word must be the
    /// knote's own.
    fn push_probe(self, fd: RawFd, changes: &mut Changes) {
        for filter in self.filters() {
            changes.push(new_kevent(ident(fd), filter, 0, 0, self.word));
        }
    }
}

/// The most changes one call submits: a modify deletes two knotes and adds two.
const MAX_CHANGES: usize = 4;

/// The timeout of calls that only submit changes: they must never wait for events.
const NO_WAIT: libc::timespec = libc::timespec {
    tv_sec: 0,
    tv_nsec: 0,
};

/// Changes submitted together in one `kevent` call.
struct Changes {
    list: [libc::kevent; MAX_CHANGES],
    len: usize,
}

/// What the kernel did with each change of one call, in order: 0 if applied, else the errno.
struct Receipts {
    errnos: [i32; MAX_CHANGES],
    len: usize,
}

impl Changes {
    fn new() -> Changes {
        Changes {
            list: [new_kevent(0, 0, 0, 0, 0); MAX_CHANGES],
            len: 0,
        }
    }

    fn push(&mut self, mut change: libc::kevent) {
        change.flags |= libc::EV_RECEIPT;
        self.list[self.len] = change;
        self.len += 1;
    }

    fn submit(&self, kq: RawFd) -> io::Result<Receipts> {
        let mut out = [new_kevent(0, 0, 0, 0, 0); MAX_CHANGES];
        // SAFETY: the kernel reads `len` initialised changes from `list` and writes at most
        // `len` receipts into `out`, both live arrays of MAX_CHANGES >= len entries; NO_WAIT
        // lives across the call.
        let n = syscall!(kevent(
            kq,
            self.list.as_ptr(),
            self.len as Count,
            out.as_mut_ptr(),
            self.len as Count,
            &NO_WAIT,
        ))?;
        let mut receipts = Receipts {
            errnos: [0; MAX_CHANGES],
            len: self.len,
        };
        for (errno, receipt) in receipts.errnos.iter_mut().zip(&out[..n as usize]) {
            // With EV_ERROR set, `data` is the change's errno, 0 when it was applied.
            if receipt.flags & libc::EV_ERROR != 0 {
                *errno = receipt.data as i32;
            }
        }
        Ok(receipts)
    }
}

impl Receipts {
    fn errnos(&self) -> &[i32] {
        &self.errnos[..self.len]
    }
}

fn any_applied(errnos: &[i32]) -> bool {
    errnos.contains(&0)
}

fn first_error(errnos: &[i32]) -> Option<i32> {
    errnos.iter().copied().find(|&errno| errno != 0)
}

pub(crate) struct Selector {
    kq: OwnedFd,
    /// Every registered fd and what the kernel holds for it (see the module docs); locked only
    /// by add, modify and delete.
    registered: Mutex<HashMap<RawFd, Entry>>,
}

pub(crate) const DEFAULT: Backend = Backend::Kqueue;

impl Selector {
    pub(crate) fn new(backend: Backend) -> io::Result<Selector> {
        if backend != Backend::Kqueue {
            return Err(unsupported(backend));
        }
        Ok(Selector {
            kq: new_kqueue()?,
            registered: Mutex::new(HashMap::new()),
        })
    }

    pub(crate) fn backend(&self) -> Backend {
        Backend::Kqueue
    }

    pub(crate) fn as_raw_fd(&self) -> RawFd {
        self.kq.as_raw_fd()
    }

    pub(crate) fn as_fd(&self) -> BorrowedFd<'_> {
        self.kq.as_fd()
    }

    /// `exclusive` is ignored: kqueue has no way to wake only one of several queues.
    pub(crate) fn add(
        &self,
        fd: RawFd,
        word: u64,
        interest: Interest,
        mode: Mode,
        exclusive: bool,
    ) -> io::Result<()> {
        let _ = exclusive;
        self.check_not_self(fd)?;
        let mut registered = self.lock();
        if let Some(listed) = registered.get(&fd).copied() {
            let mut probe = Changes::new();
            listed.push_probe(fd, &mut probe);
            let receipts = probe.submit(self.as_raw_fd())?;
            if any_applied(receipts.errnos()) {
                return Err(io::Error::from_raw_os_error(libc::EEXIST));
            }
            // Closed while registered: the kernel dropped the knotes, so this is a new fd.
            registered.remove(&fd);
        }
        let entry = Entry::new(word, interest, mode);
        let mut changes = Changes::new();
        entry.push_add(fd, &mut changes);
        let receipts = changes.submit(self.as_raw_fd())?;
        if let Some(errno) = first_error(receipts.errnos()) {
            self.take_back(&changes, &receipts);
            return Err(io::Error::from_raw_os_error(errno));
        }
        registered.insert(fd, entry);
        Ok(())
    }

    pub(crate) fn modify(
        &self,
        fd: RawFd,
        word: u64,
        interest: Interest,
        mode: Mode,
    ) -> io::Result<()> {
        self.check_not_self(fd)?;
        let mut registered = self.lock();
        let Some(old) = registered.get(&fd).copied() else {
            return Err(not_registered(fd));
        };
        let new = Entry::new(word, interest, mode);
        let mut changes = Changes::new();
        old.push_delete(fd, &mut changes);
        let deletes = changes.len;
        new.push_add(fd, &mut changes);
        let receipts = changes.submit(self.as_raw_fd())?;
        let (deleted, added) = receipts.errnos().split_at(deletes);

        if !any_applied(deleted) {
            // Closed while registered (and maybe reopened): nothing was there to modify. macOS
            // answers ENOENT for a delete on a closed fd, so the adds tell whether it is open.
            registered.remove(&fd);
            self.take_back(&changes, &receipts);
            return Err(if receipts.errnos().contains(&libc::EBADF) {
                io::Error::from_raw_os_error(libc::EBADF)
            } else {
                io::Error::from_raw_os_error(libc::ENOENT)
            });
        }
        if let Some(errno) = first_error(added) {
            self.take_back(&changes, &receipts);
            let mut restore = Changes::new();
            old.push_add(fd, &mut restore);
            let _ = restore.submit(self.as_raw_fd());
            return Err(io::Error::from_raw_os_error(errno));
        }
        registered.insert(fd, new);
        Ok(())
    }

    pub(crate) fn delete(&self, fd: RawFd) -> io::Result<()> {
        self.check_not_self(fd)?;
        let mut registered = self.lock();
        let Some(old) = registered.get(&fd).copied() else {
            return Err(not_registered(fd));
        };
        let mut changes = Changes::new();
        old.push_delete(fd, &mut changes);
        let receipts = changes.submit(self.as_raw_fd())?;
        registered.remove(&fd);
        if any_applied(receipts.errnos()) {
            return Ok(());
        }
        match first_error(receipts.errnos()) {
            // Closed while registered, which dropped the knotes: as epoll, EBADF if the number
            // is free now, ENOENT if another file has it.
            Some(libc::EBADF | libc::ENOENT) | None => Err(not_registered(fd)),
            Some(errno) => Err(io::Error::from_raw_os_error(errno)),
        }
    }

    /// Deletes the knotes that `changes` added, after a failed call.
    #[cold]
    fn take_back(&self, changes: &Changes, receipts: &Receipts) {
        let mut undo = Changes::new();
        for (change, &errno) in changes.list.iter().zip(receipts.errnos()) {
            if errno == 0 && change.flags & libc::EV_ADD != 0 {
                let (ident, filter) = (change.ident, change.filter);
                undo.push(new_kevent(ident, filter, libc::EV_DELETE, 0, 0));
            }
        }
        if undo.len > 0 {
            // Best effort: the caller reports the error that made it undo.
            let _ = undo.submit(self.as_raw_fd());
        }
    }

    /// The queue's own fd: epoll answers EINVAL for it, so this backend does too.
    fn check_not_self(&self, fd: RawFd) -> io::Result<()> {
        if fd == self.as_raw_fd() {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<RawFd, Entry>> {
        // Nothing panics while the lock is held, and the table is only written after the
        // kernel answered, so even a poisoned table is consistent.
        self.registered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn select(&self, events: &mut Vec<Event>, timeout: Timeout) -> io::Result<()> {
        events.clear();
        let timespec = kevent_timeout(timeout);
        let timeout_ptr = timespec.as_ref().map_or(ptr::null(), |ts| ts as *const _);
        // Event is a transparent kevent, so the kernel writes straight into the vector.
        let buf = events.as_mut_ptr().cast::<libc::kevent>();
        // The poller caps its capacity so the buffer's size in bytes fits in an i32.
        let max = events.capacity() as Count;
        // SAFETY: no changes are passed; `buf` points to `max` writable, properly aligned
        // kevent slots owned by the caller's vector, untouched until the call returns;
        // `timeout_ptr` is null or points to `timespec`, which lives across the call.
        let res = syscall!(kevent(
            self.as_raw_fd(),
            ptr::null(),
            0,
            buf,
            max,
            timeout_ptr
        ));
        match res {
            Ok(n) => {
                // SAFETY: the kernel initialised the first `n` entries, and n <= capacity.
                unsafe { events.set_len(n as usize) };
                fold(events);
                Ok(())
            }
            // A signal arrived: report "nothing ready" so the caller's loop runs again.
            Err(err) if err.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(err) => Err(err),
        }
    }
}

#[cfg(target_os = "netbsd")]
fn new_kqueue() -> io::Result<OwnedFd> {
    // SAFETY: kqueue1 takes no pointers.
    let fd = syscall!(kqueue1(libc::O_CLOEXEC))?;
    // SAFETY: kqueue1 just returned this fd and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

#[cfg(not(target_os = "netbsd"))]
fn new_kqueue() -> io::Result<OwnedFd> {
    // SAFETY: kqueue takes no arguments.
    let fd = syscall!(kqueue())?;
    // SAFETY: kqueue just returned this fd and nothing else owns it.
    let kq = unsafe { OwnedFd::from_raw_fd(fd) };
    // Not atomic, and needs not be: see "Close-on-exec" in the module docs.
    // SAFETY: F_SETFD takes an int argument.
    syscall!(fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC))?;
    Ok(kq)
}

/// An fd that this poller does not hold: as epoll reports it, `EBADF` if the fd is not open
/// (epoll checks that first), else `ENOENT`.
#[cold]
fn not_registered(fd: RawFd) -> io::Error {
    // SAFETY: F_GETFD takes no argument.
    if let Err(err) = syscall!(fcntl(fd, libc::F_GETFD)) {
        if err.raw_os_error() == Some(libc::EBADF) {
            return err;
        }
    }
    io::Error::from_raw_os_error(libc::ENOENT)
}

/// The EVFILT_USER ident of the wake-up event; user events have their own idents, apart from
/// fds.
const WAKE_IDENT: libc::uintptr_t = 0;

/// The wake-up source: see "Waking" in the module docs.
pub(crate) enum WakeSource {
    /// An EVFILT_USER event with EV_CLEAR.
    User,
    /// A non-blocking pipe whose read end is registered with EV_CLEAR.
    #[cfg(any(target_os = "netbsd", target_os = "openbsd"))]
    Pipe { reader: OwnedFd, writer: OwnedFd },
}

impl WakeSource {
    pub(crate) fn new(selector: &Selector) -> io::Result<WakeSource> {
        let mut changes = Changes::new();
        let flags = libc::EV_ADD | libc::EV_CLEAR;
        changes.push(new_kevent(
            WAKE_IDENT,
            libc::EVFILT_USER,
            flags,
            0,
            word::WAKE,
        ));
        let receipts = changes.submit(selector.as_raw_fd())?;
        match first_error(receipts.errnos()) {
            None => Ok(WakeSource::User),
            // A kernel older than its EVFILT_USER refuses the filter.
            #[cfg(any(target_os = "netbsd", target_os = "openbsd"))]
            Some(libc::EINVAL) => WakeSource::pipe(selector),
            Some(errno) => Err(io::Error::from_raw_os_error(errno)),
        }
    }

    /// Whether `fd` is one of this source's descriptors.
    #[inline]
    pub(crate) fn owns(&self, fd: RawFd) -> bool {
        match self {
            WakeSource::User => {
                // EVFILT_USER has no descriptor.
                let _ = fd;
                false
            }
            #[cfg(any(target_os = "netbsd", target_os = "openbsd"))]
            WakeSource::Pipe { reader, writer } => {
                fd == reader.as_raw_fd() || fd == writer.as_raw_fd()
            }
        }
    }

    /// Async-signal-safe: one kevent(2), or one write(2) and on a full pipe one read(2).
    pub(crate) fn notify(&self, selector: &Selector) -> io::Result<()> {
        match self {
            WakeSource::User => {
                // The trigger carries the word too: the kernel re-applies a change's udata to
                // the knote.
                let trigger = new_kevent(
                    WAKE_IDENT,
                    libc::EVFILT_USER,
                    0,
                    libc::NOTE_TRIGGER,
                    word::WAKE,
                );
                loop {
                    // SAFETY: the kernel reads one change from the live `trigger`; there is no
                    // event list, so errors come back as -1 and nothing is written.
                    let res = syscall!(kevent(
                        selector.as_raw_fd(),
                        &trigger,
                        1,
                        ptr::null_mut(),
                        0,
                        &NO_WAIT,
                    ));
                    match res {
                        Ok(_) => return Ok(()),
                        Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                        Err(err) => return Err(err),
                    }
                }
            }
            #[cfg(any(target_os = "netbsd", target_os = "openbsd"))]
            WakeSource::Pipe { reader, writer } => notify_pipe(reader, writer),
        }
    }
}

#[cfg(any(target_os = "netbsd", target_os = "openbsd"))]
impl WakeSource {
    fn pipe(selector: &Selector) -> io::Result<WakeSource> {
        let mut fds: [libc::c_int; 2] = [-1, -1];
        // SAFETY: pipe2 writes two fds into the live two-element array.
        syscall!(pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK))?;
        // SAFETY: pipe2 just returned these fds and nothing else owns them.
        let (reader, writer) =
            unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // Through the table, so the fd cannot be added again by mistake.
        selector.add(
            reader.as_raw_fd(),
            word::WAKE,
            Interest::READABLE,
            Mode::Edge,
            false,
        )?;
        Ok(WakeSource::Pipe { reader, writer })
    }
}

/// Writes one byte: a new edge on the read end. The pipe is never read on the wait path; when
/// it is full, reading some bytes makes room.
#[cfg(any(target_os = "netbsd", target_os = "openbsd"))]
fn notify_pipe(reader: &OwnedFd, writer: &OwnedFd) -> io::Result<()> {
    let byte: u8 = 1;
    loop {
        // SAFETY: writes one byte from a live u8.
        let res = syscall!(write(writer.as_raw_fd(), (&byte as *const u8).cast(), 1));
        match res {
            Ok(_) => return Ok(()),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                let mut sink = [0u8; 256];
                // SAFETY: reads at most 256 bytes into a live 256-byte buffer.
                let _ = syscall!(read(
                    reader.as_raw_fd(),
                    sink.as_mut_ptr().cast(),
                    sink.len()
                ));
            }
            Err(err) => return Err(err),
        }
    }
}

/// A readable event carrying `word`, as `select` hands it on.
#[cfg(test)]
pub(crate) fn test_event(word: u64) -> Event {
    let fflags = u32::from(Readiness::READABLE);
    Event(RawEvent(new_kevent(0, libc::EVFILT_READ, 0, fflags, word)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventKind;
    use std::os::unix::net::UnixStream;
    use std::time::Duration;

    fn kernel_event(fd: RawFd, filter: Filter, flags: Flags, fflags: u32) -> Event {
        let word = word::pack(fd, EventKind::Client, 7);
        Event(RawEvent(new_kevent(ident(fd), filter, flags, fflags, word)))
    }

    fn readiness(events: &[Event]) -> Vec<(RawFd, Readiness)> {
        events.iter().map(|e| (e.fd(), e.readiness())).collect()
    }

    fn bits(bits: u8) -> Readiness {
        Readiness::from_bits(bits)
    }

    #[test]
    fn readiness_follows_the_filter_and_eof() {
        let mut events = vec![
            kernel_event(3, libc::EVFILT_READ, libc::EV_EOF, 0),
            kernel_event(4, libc::EVFILT_WRITE, libc::EV_EOF, libc::ECONNRESET as u32),
            kernel_event(5, libc::EVFILT_WRITE, 0, 0),
        ];
        fold(&mut events);
        assert_eq!(
            readiness(&events),
            [
                (
                    3,
                    bits(Readiness::READABLE | Readiness::READ_CLOSED | Readiness::READ_HANG_UP)
                ),
                (
                    4,
                    bits(
                        Readiness::WRITABLE
                            | Readiness::WRITE_CLOSED
                            | Readiness::HANG_UP
                            | Readiness::ERROR
                    )
                ),
                (5, bits(Readiness::WRITABLE)),
            ]
        );
    }

    #[test]
    fn fold_merges_neighbours_of_one_registration_only() {
        let mut events = vec![
            kernel_event(3, libc::EVFILT_READ, 0, 0),
            kernel_event(3, libc::EVFILT_WRITE, 0, 0),
            kernel_event(4, libc::EVFILT_WRITE, 0, 0),
            kernel_event(5, libc::EVFILT_READ, 0, 0),
            kernel_event(4, libc::EVFILT_READ, 0, 0),
        ];
        fold(&mut events);
        let both = bits(Readiness::READABLE | Readiness::WRITABLE);
        assert_eq!(
            readiness(&events),
            [
                (3, both),
                (4, bits(Readiness::WRITABLE)),
                (5, bits(Readiness::READABLE)),
                (4, bits(Readiness::READABLE)),
            ]
        );
        assert_eq!(events[0].key(), 7);
    }

    #[test]
    fn timeouts_keep_nanoseconds_and_block_when_huge() {
        let ts = kevent_timeout(Timeout::Precise(Duration::new(2, 100))).unwrap();
        assert_eq!((ts.tv_sec, ts.tv_nsec), (2, 100));
        let ts = kevent_timeout(Timeout::Millis(1_500)).unwrap();
        assert_eq!((ts.tv_sec, ts.tv_nsec), (1, 500_000_000));
        assert!(kevent_timeout(Timeout::Forever).is_none());
        let huge = Duration::from_secs(i32::MAX as u64 + 1);
        assert!(kevent_timeout(Timeout::Precise(huge)).is_none());
    }

    fn wait(selector: &Selector, events: &mut Vec<Event>, ms: i32) -> Vec<RawFd> {
        selector.select(events, Timeout::Millis(ms)).unwrap();
        events.iter().map(Event::fd).collect()
    }

    #[test]
    fn double_add_is_refused_and_changes_nothing() -> io::Result<()> {
        let selector = Selector::new(Backend::Kqueue)?;
        let (a, mut b) = UnixStream::pair()?;
        let fd = a.as_raw_fd();
        selector.add(
            fd,
            word::pack(fd, EventKind::Client, 1),
            Interest::READABLE,
            Mode::Level,
            false,
        )?;
        let err = selector
            .add(
                fd,
                word::pack(fd, EventKind::Server, 2),
                Interest::BOTH,
                Mode::Edge,
                false,
            )
            .unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EEXIST));

        io::Write::write_all(&mut b, b"x")?;
        let mut events = Vec::with_capacity(8);
        selector.select(&mut events, Timeout::Millis(5_000))?;
        assert_eq!(events.len(), 1);
        assert_eq!((events[0].key(), events[0].kind()), (1, EventKind::Client));
        assert_eq!(events[0].readiness(), bits(Readiness::READABLE));
        Ok(())
    }

    #[test]
    fn fired_oneshot_can_be_deleted_and_rearmed() -> io::Result<()> {
        let selector = Selector::new(Backend::Kqueue)?;
        let (a, mut b) = UnixStream::pair()?;
        let fd = a.as_raw_fd();
        let word = word::pack(fd, EventKind::Client, 0);
        selector.add(fd, word, Interest::READABLE, Mode::Oneshot, false)?;
        io::Write::write_all(&mut b, b"x")?;
        let mut events = Vec::with_capacity(8);
        assert_eq!(wait(&selector, &mut events, 5_000), [fd]);
        assert!(wait(&selector, &mut events, 0).is_empty());

        selector.modify(fd, word, Interest::READABLE, Mode::Oneshot)?;
        assert_eq!(wait(&selector, &mut events, 5_000), [fd]);
        selector.delete(fd)?;
        let err = selector.delete(fd).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
        Ok(())
    }

    /// Makes `fd` a duplicate of `with`: dup2 closes what `fd` was, which drops its knotes, and
    /// reuses the number at once, so no other thread can take it in between.
    fn replace(fd: RawFd, with: &UnixStream) -> io::Result<()> {
        // SAFETY: both fds are open and owned by the calling test, which keeps owning `fd`.
        syscall!(dup2(with.as_raw_fd(), fd)).map(drop)
    }

    #[test]
    fn a_replaced_fd_is_no_longer_registered() -> io::Result<()> {
        let selector = Selector::new(Backend::Kqueue)?;
        let (a, _b) = UnixStream::pair()?;
        let (c, _d) = UnixStream::pair()?;
        let fd = a.as_raw_fd();
        let word = word::pack(fd, EventKind::Client, 0);
        let add = |interest| selector.add(fd, word, interest, Mode::Level, false);

        add(Interest::READABLE)?;
        replace(fd, &c)?;
        add(Interest::READABLE)?;

        replace(fd, &c)?;
        let err = selector
            .modify(fd, word, Interest::BOTH, Mode::Level)
            .unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOENT));

        add(Interest::BOTH)?;
        replace(fd, &c)?;
        let err = selector.delete(fd).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOENT));

        add(Interest::READABLE)?;
        selector.delete(fd)
    }

    #[test]
    fn wake_source_makes_one_wake_event() -> io::Result<()> {
        let selector = Selector::new(Backend::Kqueue)?;
        let source = WakeSource::new(&selector)?;
        source.notify(&selector)?;
        source.notify(&selector)?;
        let mut events = Vec::with_capacity(8);
        selector.select(&mut events, Timeout::Millis(5_000))?;
        assert_eq!(events.len(), 1);
        assert!(events[0].is_wake());
        selector.select(&mut events, Timeout::Millis(0))?;
        assert!(events.is_empty());
        Ok(())
    }
}
