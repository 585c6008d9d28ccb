//! Windows backend: sockets polled through the AFD driver, completions on an I/O completion
//! port, and the wake-up source a completion posted to that port.
//!
//! Every registered socket has one `IOCTL_AFD_POLL` request in flight on the poller's handle
//! to the AFD driver (see `afd.rs`), asking for the conditions its interest maps to. The
//! request completes on the port when one holds, and a wait (`GetQueuedCompletionStatusEx`)
//! turns that completion into an event. A poll request fires once, so the modes are emulated
//! on top of it:
//!
//! - level and edge: after an event the socket is polled again at the start of the next wait,
//!   so it is reported on every wait while it is ready. Edge is therefore level here: more
//!   events, never fewer, so a handler that keeps the edge-triggered contract (handle until
//!   `WouldBlock`) works unchanged, but an undrained socket, or a writable one with writable
//!   interest, is reported again on every wait.
//! - oneshot (and edge + oneshot): after an event the socket is polled only for its closing,
//!   until `modify` arms it again.
//! - a change of interest or mode cancels the request in flight; the wait that takes the
//!   cancellation issues the new one, so a registry's changes reach a wait that is blocked.
//!
//! The state of each registration lives in a table behind a mutex, taken by registration calls
//! and, after the kernel wait returns, by the wait to process what it took; never during the
//! kernel wait itself.

// A child's exit carries its 64-bit word in a completion's pointer-sized field.
#[cfg(not(target_pointer_width = "64"))]
compile_error!("pollio's Windows backend needs 64-bit pointers (x86_64 or aarch64 Windows)");

#[path = "afd.rs"]
mod afd;
#[path = "windows_children.rs"]
mod children;
#[path = "windows_sources.rs"]
mod sources;
#[path = "windows_timers.rs"]
mod timers;

pub(crate) use children::ChildSource;
pub(crate) use sources::SignalSource;
pub(crate) use timers::TimerSource;

use crate::timeout::Timeout;
use crate::{word, Backend, Event, EventObject, Interest, Mode, Readiness};
use afd::*;
use children::{CHILD_EXITED, CHILD_KEY};
use std::collections::HashMap;
use std::ffi::c_void;
use std::io;
use std::mem;
use std::os::windows::io::{RawHandle, RawSocket};
use std::ptr::{self, addr_of_mut};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use timers::{TimerTable, TIMER_EXPIRED, TIMER_KEY};

/// One event: the registration's word and the `AFD_POLL_*` conditions reported.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub(crate) struct RawEvent {
    word: u64,
    flags: u32,
}

#[inline]
pub(crate) fn event_word(event: &RawEvent) -> u64 {
    event.word
}

pub(crate) fn event_readiness(event: &RawEvent) -> Readiness {
    let has = |flag: u32| event.flags & flag != 0;
    let mut bits = 0;
    // A peer's shutdown leaves end of stream to read, as epoll's EPOLLIN with EPOLLRDHUP.
    // A timer's expiry and a child's exit read as readable, as a timerfd's and a pidfd's.
    let sources = TIMER_EXPIRED | CHILD_EXITED;
    if has(AFD_POLL_RECEIVE | AFD_POLL_ACCEPT | AFD_POLL_DISCONNECT | sources) {
        bits |= Readiness::READABLE;
    }
    if has(AFD_POLL_SEND) {
        bits |= Readiness::WRITABLE;
    }
    if has(AFD_POLL_DISCONNECT | AFD_POLL_ABORT | AFD_POLL_CONNECT_FAIL) {
        bits |= Readiness::READ_CLOSED;
    }
    if has(AFD_POLL_ABORT | AFD_POLL_CONNECT_FAIL) {
        bits |= Readiness::WRITE_CLOSED | Readiness::ERROR | Readiness::HANG_UP;
    }
    if has(AFD_POLL_DISCONNECT | AFD_POLL_ABORT) {
        bits |= Readiness::READ_HANG_UP;
    }
    if has(AFD_POLL_RECEIVE_EXPEDITED) {
        bits |= Readiness::PRIORITY;
    }
    Readiness::from_bits(bits)
}

/// The seed API's objects for `events`. (The Unix backends share a faster conversion that
/// relies on `EventObject`'s eight-byte Unix layout; here its `fd` is a 64-bit socket.)
#[inline]
pub(crate) fn fill_objects(events: &[Event], objects: &mut Vec<EventObject>) {
    objects.clear();
    objects.extend(events.iter().map(Event::object));
}

/// The completion key of the AFD handle's completions.
const AFD_KEY: usize = 0;
/// The completion key of the waker's posted completions (`timers::TIMER_KEY` is 2,
/// `children::CHILD_KEY` 3).
const WAKE_KEY: usize = 1;

/// Conditions every armed poll asks for, whatever the interest: as epoll reports `EPOLLHUP`
/// and `EPOLLERR` always, and the local close ends the registration.
const ALWAYS: u32 = AFD_POLL_ABORT | AFD_POLL_CONNECT_FAIL | AFD_POLL_LOCAL_CLOSE;

/// The `AFD_POLL_*` conditions for an interest.
fn interest_mask(interest: Interest) -> u32 {
    let mut mask = ALWAYS;
    if interest.is_readable() {
        mask |= AFD_POLL_RECEIVE | AFD_POLL_ACCEPT | AFD_POLL_DISCONNECT;
    }
    if interest.is_writable() {
        mask |= AFD_POLL_SEND;
    }
    if interest.is_priority() {
        mask |= AFD_POLL_RECEIVE_EXPEDITED;
    }
    mask
}

/// What the kernel writes while a poll request is in flight: its status block and the
/// request's buffer (in and out). Boxed, so its address stays put; owned by the kernel from the
/// request until its completion is taken from the port, and touched by nothing else meanwhile.
#[repr(C)]
struct PollIo {
    iosb: IO_STATUS_BLOCK,
    info: AFD_POLL_INFO,
    /// The registered socket, to find the registration when the completion comes back.
    socket: RawSocket,
}

/// One registered socket.
struct Entry {
    /// From `Box::into_raw`; freed when no request is in flight and the entry goes away.
    io: *mut PollIo,
    /// The socket AFD polls: the base provider's socket under any layered providers.
    base: SOCKET,
    word: u64,
    interest: Interest,
    mode: Mode,
    /// Cleared by a oneshot event: then only the socket's closing is polled for.
    armed: bool,
    /// A request is in flight on `io`.
    pending: bool,
    /// The request in flight was issued before the last `modify` (which cancelled it): what it
    /// found is dropped, and a new request reflects the registration as it is now.
    stale: bool,
    /// Waiting in `Inner::rearm` for the start of the next wait.
    queued: bool,
}

impl Entry {
    fn mask(&self) -> u32 {
        if self.armed {
            interest_mask(self.interest)
        } else {
            AFD_POLL_LOCAL_CLOSE
        }
    }
}

// SAFETY: `io` is a heap block the entry owns (or lends to the kernel); it is reached only
// through the entry, under the selector's mutex, whichever thread holds it.
unsafe impl Send for Entry {}

#[derive(Default)]
struct Inner {
    entries: HashMap<RawSocket, Entry>,
    /// Sockets to poll again at the start of the next wait (level and edge after an event).
    rearm: Vec<RawSocket>,
    /// Requests issued whose completion has not been taken yet, of live and deleted entries.
    in_flight: usize,
}

pub(crate) struct Selector {
    port: HANDLE,
    afd: HANDLE,
    inner: Mutex<Inner>,
    timers: Arc<TimerTable>,
}

// SAFETY: the two handles are kernel objects usable from any thread, closed only on drop; the
// mutable state is behind the mutex.
unsafe impl Send for Selector {}
// SAFETY: as for Send; every method takes the mutex before touching the table.
unsafe impl Sync for Selector {}

/// What [`OsPoller::new`](crate::Poller::new) uses: the only backend Windows has.
pub(crate) const DEFAULT: Backend = Backend::Iocp;

impl Selector {
    pub(crate) fn new(backend: Backend) -> io::Result<Selector> {
        if backend != Backend::Iocp {
            return Err(super::unsupported(backend));
        }
        // SAFETY: INVALID_HANDLE_VALUE (-1) with no existing port asks for a new port; no
        // pointers are passed.
        let port = unsafe { CreateIoCompletionPort(usize::MAX as HANDLE, ptr::null_mut(), 0, 0) };
        if port.is_null() {
            return Err(io::Error::last_os_error());
        }
        let afd = match open_afd() {
            Ok(afd) => afd,
            Err(err) => {
                // SAFETY: the port was just created and is owned here.
                unsafe { CloseHandle(port) };
                return Err(err);
            }
        };
        let selector = Selector {
            port,
            afd,
            inner: Mutex::new(Inner::default()),
            timers: Arc::new(TimerTable::new(port)),
        };
        // SAFETY: both handles are open; associating a file with a port passes no pointers.
        let associated = unsafe { CreateIoCompletionPort(afd, port, AFD_KEY, 0) };
        if associated.is_null() {
            return Err(io::Error::last_os_error()); // `selector` closes both handles
        }
        // Completions come through the port: the handle's own event need not be signalled.
        // An optimisation only, so a failure is not an error.
        // SAFETY: `afd` is open; the call passes no pointers.
        unsafe { SetFileCompletionNotificationModes(afd, FILE_SKIP_SET_EVENT_ON_HANDLE) };
        Ok(selector)
    }

    pub(crate) fn backend(&self) -> Backend {
        Backend::Iocp
    }

    /// The completion port's handle (for `Debug` and `AsRawHandle`).
    pub(crate) fn as_raw_fd(&self) -> RawHandle {
        self.port
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while the table was held leaves it consistent (no call panics halfway
        // through an update that matters), so a poisoned lock is used as it is.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn add(
        &self,
        socket: RawSocket,
        word: u64,
        interest: Interest,
        mode: Mode,
        _exclusive: bool,
    ) -> io::Result<()> {
        let base = base_socket(socket)?;
        let mut inner = self.lock();
        if inner.entries.contains_key(&socket) {
            return Err(already_registered());
        }
        let io = Box::into_raw(Box::new(PollIo {
            iosb: IO_STATUS_BLOCK {
                Status: 0,
                Information: 0,
            },
            info: poll_info(base, 0),
            socket,
        }));
        let mut entry = Entry {
            io,
            base,
            word,
            interest,
            mode,
            armed: true,
            pending: false,
            stale: false,
            queued: false,
        };
        if let Err(err) = self.issue(&mut inner, &mut entry) {
            // SAFETY: the request failed, so the kernel holds no reference to `io`, which
            // came from Box::into_raw above and is freed once.
            drop(unsafe { Box::from_raw(io) });
            return Err(err);
        }
        inner.entries.insert(socket, entry);
        Ok(())
    }

    pub(crate) fn modify(
        &self,
        socket: RawSocket,
        word: u64,
        interest: Interest,
        mode: Mode,
    ) -> io::Result<()> {
        base_socket(socket)?;
        let mut inner = self.lock();
        let inner = &mut *inner;
        let Some(entry) = inner.entries.get_mut(&socket) else {
            return Err(not_registered());
        };
        entry.word = word;
        entry.interest = interest;
        entry.mode = mode;
        entry.armed = true;
        if entry.pending {
            // The wait that takes the cancellation (or the completion, if the request was
            // done already) drops what it found and issues the new request.
            entry.stale = true;
            Self::cancel(self.afd, entry);
            Ok(())
        } else {
            entry.queued = false;
            let result = Self::issue_with(self.afd, &mut inner.in_flight, entry);
            if result.is_err() {
                let entry = inner.entries.remove(&socket).expect("looked up above");
                free_idle(entry);
            }
            result
        }
    }

    pub(crate) fn delete(&self, socket: RawSocket) -> io::Result<()> {
        base_socket(socket)?;
        let mut inner = self.lock();
        let Some(entry) = inner.entries.remove(&socket) else {
            return Err(not_registered());
        };
        if entry.pending {
            // Its block is freed when the cancelled request's completion is taken: the entry
            // is gone from the table, which marks the completion as an orphan's.
            Self::cancel(self.afd, &entry);
        } else {
            free_idle(entry);
        }
        Ok(())
    }

    /// Issues `entry`'s request for its current mask.
    fn issue(&self, inner: &mut Inner, entry: &mut Entry) -> io::Result<()> {
        Self::issue_with(self.afd, &mut inner.in_flight, entry)
    }

    fn issue_with(afd: HANDLE, in_flight: &mut usize, entry: &mut Entry) -> io::Result<()> {
        debug_assert!(!entry.pending);
        let io = entry.io;
        let info = poll_info(entry.base, entry.mask());
        // SAFETY: no request is in flight on `io` (`pending` is false), so nothing else
        // reads or writes it; it is a live block from Box::into_raw.
        unsafe {
            (*io).info = info;
            (*io).iosb.Status = STATUS_PENDING as isize;
        }
        let size = mem::size_of::<AFD_POLL_INFO>() as u32;
        // SAFETY: `afd` is the open AFD handle. The status block and the buffer (both input
        // and output) live in `*io`, which stays allocated and untouched until the request's
        // completion is taken from the port (see `complete`). The ApcContext is `io`, which
        // the port hands back as the completion's overlapped pointer. No event, no APC.
        let status = unsafe {
            let info = addr_of_mut!((*io).info).cast::<c_void>();
            NtDeviceIoControlFile(
                afd,
                ptr::null_mut(),
                ptr::null(),
                io.cast(),
                addr_of_mut!((*io).iosb),
                IOCTL_AFD_POLL,
                info,
                size,
                info,
                size,
            )
        };
        // Pending, or done already: either way a completion is queued on the port (the handle
        // does not skip the port on success). A failure queues nothing.
        if status < 0 {
            return Err(status_error(status));
        }
        entry.pending = true;
        *in_flight += 1;
        Ok(())
    }

    /// Asks the kernel to end `entry`'s request early; its completion still comes.
    fn cancel(afd: HANDLE, entry: &Entry) {
        let mut iosb = IO_STATUS_BLOCK {
            Status: 0,
            Information: 0,
        };
        // SAFETY: `afd` is open; the request is named by its status block's address, which
        // the kernel only compares; `iosb` is a live local for the call's own status. A
        // request that completed already is not found, which is fine: its completion is
        // queued.
        unsafe { NtCancelIoFileEx(afd, addr_of_mut!((*entry.io).iosb), &mut iosb) };
    }

    /// One wait: at most `events.capacity()` events. Timeouts are in whole milliseconds (the
    /// port's wait takes nothing finer), rounded up, and a wait that the port ends before the
    /// timeout waits again for the rest, so it never returns early. Due timers are fired
    /// first, and the port's wait never runs past the earliest timer.
    pub(crate) fn select(&self, events: &mut Vec<Event>, timeout: Timeout) -> io::Result<()> {
        events.clear();
        let limit = match timeout {
            Timeout::Forever => None,
            Timeout::Millis(ms) => Some(Duration::from_millis(ms as u64)),
            Timeout::Precise(d) => Some(d),
        };
        let start = Instant::now();
        self.rearm_queued();
        let mut taken = [OVERLAPPED_ENTRY {
            lpCompletionKey: 0,
            lpOverlapped: ptr::null_mut(),
            Internal: 0,
            dwNumberOfBytesTransferred: 0,
        }; 64];
        let mut first = true;
        loop {
            // Due timers first: their events count as any other.
            let next_timer = self.timers.fire(events);
            if !events.is_empty() {
                return Ok(());
            }
            let left = limit.map(|limit| limit.saturating_sub(start.elapsed()));
            // Done once the time is up, after at least one look at the port (a zero timeout
            // polls it).
            if !first && left == Some(Duration::ZERO) {
                return Ok(());
            }
            first = false;
            // Never past the caller's timeout, nor past the earliest timer.
            let ms = match (left, next_timer) {
                (None, None) => INFINITE,
                (Some(d), None) | (None, Some(d)) => ceil_millis(d),
                (Some(a), Some(b)) => ceil_millis(a.min(b)),
            };
            // Each completion makes at most one event, so the vector never grows.
            let room = (events.capacity() - events.len()).min(taken.len()) as u32;
            let mut n = 0u32;
            // SAFETY: `taken` has room for `room` entries and `n` is a live u32; the port is
            // open. Not alertable: no APC runs inside.
            let ok = unsafe {
                GetQueuedCompletionStatusEx(self.port, taken.as_mut_ptr(), room, &mut n, ms, 0)
            };
            if ok == 0 {
                let err = io::Error::last_os_error();
                if err.raw_os_error() != Some(WAIT_TIMEOUT) {
                    return Err(err);
                }
                continue; // the loop's top fires the timers and checks the time
            }
            self.complete(&taken[..n as usize], events);
            // A full batch may have left more completions queued: take them while there is
            // room, without waiting, as one epoll_wait fills the whole buffer.
            let mut full = n == room;
            while full && events.len() < events.capacity() {
                let room = (events.capacity() - events.len()).min(taken.len()) as u32;
                let mut n = 0u32;
                // SAFETY: as above.
                let ok = unsafe {
                    GetQueuedCompletionStatusEx(self.port, taken.as_mut_ptr(), room, &mut n, 0, 0)
                };
                if ok == 0 {
                    break; // nothing more queued (WAIT_TIMEOUT)
                }
                self.complete(&taken[..n as usize], events);
                full = n == room;
            }
            if !events.is_empty() {
                return Ok(());
            }
            // Only completions of cancelled requests, or a timer change: look again.
        }
    }

    /// Polls again the sockets that reported an event at the last wait and stay armed.
    fn rearm_queued(&self) {
        let mut inner = self.lock();
        if inner.rearm.is_empty() {
            return;
        }
        let inner = &mut *inner;
        let mut failed = Vec::new();
        for socket in inner.rearm.drain(..) {
            let Some(entry) = inner.entries.get_mut(&socket) else {
                continue;
            };
            if !entry.queued || entry.pending {
                continue;
            }
            entry.queued = false;
            if Self::issue_with(self.afd, &mut inner.in_flight, entry).is_err() {
                failed.push(socket);
            }
        }
        // A socket that cannot be polled any more was closed: its registration ends.
        for socket in failed {
            if let Some(entry) = inner.entries.remove(&socket) {
                free_idle(entry);
            }
        }
    }

    /// Turns completions taken from the port into events.
    fn complete(&self, taken: &[OVERLAPPED_ENTRY], events: &mut Vec<Event>) {
        let mut inner = self.lock();
        let inner = &mut *inner;
        for done in taken {
            if done.lpCompletionKey == WAKE_KEY {
                events.push(Event(RawEvent {
                    word: word::WAKE,
                    flags: 0,
                }));
                continue;
            }
            if done.lpCompletionKey == TIMER_KEY {
                self.timers.taken_kick();
                continue;
            }
            if done.lpCompletionKey == CHILD_KEY {
                events.push(children::exit_event(done));
                continue;
            }
            inner.in_flight -= 1;
            let io = done.lpOverlapped.cast::<PollIo>();
            // SAFETY: the completion of the request on `io` was taken: the kernel is done
            // with the block, which stays allocated until freed below or by a later
            // completion's processing, under this same lock.
            let (socket, status, found) = unsafe {
                let status = (*io).iosb.Status as NTSTATUS;
                // The buffer holds what was found only for a request that succeeded; a
                // cancelled one still holds the conditions asked for.
                let found = if status >= 0 && (*io).info.NumberOfHandles > 0 {
                    (*io).info.Handles[0].Events
                } else {
                    0
                };
                ((*io).socket, status, found)
            };
            let live = matches!(inner.entries.get(&socket), Some(entry) if entry.io == io);
            if !live {
                // A deleted registration's cancelled request.
                // SAFETY: its entry is gone, so nothing else refers to the block, and the
                // kernel is done with it.
                drop(unsafe { Box::from_raw(io) });
                continue;
            }
            let entry = inner.entries.get_mut(&socket).expect("looked up above");
            entry.pending = false;
            let closed =
                found & AFD_POLL_LOCAL_CLOSE != 0 || (status < 0 && status != STATUS_CANCELLED);
            if closed {
                let entry = inner.entries.remove(&socket).expect("looked up above");
                free_idle(entry);
                continue;
            }
            // A request from before the last modify: what it found may be gone or not
            // asked for any more; poll again as the registration is now.
            let found = if mem::take(&mut entry.stale) {
                0
            } else {
                found
            };
            let reported = reported_flags(found, entry);
            if reported != 0 {
                events.push(Event(RawEvent {
                    word: entry.word,
                    flags: reported,
                }));
            }
            if reported != 0 && !entry.mode.is_oneshot() {
                // Level (and edge): poll again when the next wait starts, so readiness the
                // handler has used up by then is not reported again.
                if !entry.queued {
                    entry.queued = true;
                    inner.rearm.push(socket);
                }
                continue;
            }
            if reported != 0 {
                entry.armed = false; // oneshot: until `modify`
            }
            if Self::issue_with(self.afd, &mut inner.in_flight, entry).is_err() {
                let entry = inner.entries.remove(&socket).expect("looked up above");
                free_idle(entry);
            }
        }
    }
}

impl Drop for Selector {
    fn drop(&mut self) {
        let inner = self.inner.get_mut().unwrap_or_else(|e| e.into_inner());
        let entries = mem::take(&mut inner.entries);
        for (_, entry) in entries {
            if entry.pending {
                Self::cancel(self.afd, &entry); // freed as an orphan when its completion comes
            } else {
                free_idle(entry);
            }
        }
        // Take the completions of every request still in flight, so no block is freed while
        // the kernel may write it. A request that does not complete within a second is left
        // with its block (leaked): better than freeing memory the kernel may still write.
        let mut taken = [OVERLAPPED_ENTRY {
            lpCompletionKey: 0,
            lpOverlapped: ptr::null_mut(),
            Internal: 0,
            dwNumberOfBytesTransferred: 0,
        }; 64];
        while inner.in_flight > 0 {
            let mut n = 0u32;
            // SAFETY: as in `select`.
            let ok = unsafe {
                GetQueuedCompletionStatusEx(
                    self.port,
                    taken.as_mut_ptr(),
                    taken.len() as u32,
                    &mut n,
                    1000,
                    0,
                )
            };
            if ok == 0 {
                break;
            }
            for done in &taken[..n as usize] {
                if done.lpCompletionKey == AFD_KEY {
                    inner.in_flight -= 1;
                    // SAFETY: every entry is gone, so each block is an orphan's, completed.
                    drop(unsafe { Box::from_raw(done.lpOverlapped.cast::<PollIo>()) });
                }
            }
        }
        // SAFETY: both handles are owned by this selector and closed once, here.
        unsafe {
            CloseHandle(self.afd);
            CloseHandle(self.port);
        }
    }
}

/// A socket added twice. The table of registrations is pollio's own here (AFD keeps none), so
/// no system call reports it: pollio's own error, of the kind epoll's `EEXIST` has.
#[cold]
fn already_registered() -> io::Error {
    io::Error::new(
        io::ErrorKind::AlreadyExists,
        "the socket is already registered in this poller",
    )
}

/// Modify or delete of a socket that is not registered: pollio's own error, of the kind
/// epoll's `ENOENT` has.
#[cold]
fn not_registered() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        "the socket is not registered in this poller",
    )
}

/// Frees the block of an entry with no request in flight.
fn free_idle(entry: Entry) {
    debug_assert!(!entry.pending);
    // SAFETY: no request is in flight, so the kernel holds no reference; the block came from
    // Box::into_raw and its entry, its only owner, is consumed here.
    drop(unsafe { Box::from_raw(entry.io) });
}

/// What an event reports of the conditions `found`: those the entry asks for now (a request
/// issued before a `modify` may have found others), plus, for a reset or failed connection,
/// readable and writable as the interest asks (epoll reports `EPOLLIN` and `EPOLLOUT` then:
/// a read or write would return the error at once).
fn reported_flags(found: u32, entry: &Entry) -> u32 {
    let mask = entry.mask() & !AFD_POLL_LOCAL_CLOSE;
    let mut reported = found & mask;
    if reported & (AFD_POLL_ABORT | AFD_POLL_CONNECT_FAIL) != 0 {
        reported |= mask & (AFD_POLL_RECEIVE | AFD_POLL_SEND);
    }
    reported
}

fn poll_info(base: SOCKET, mask: u32) -> AFD_POLL_INFO {
    AFD_POLL_INFO {
        Timeout: i64::MAX,
        NumberOfHandles: 1,
        Exclusive: 0,
        Handles: [AFD_POLL_HANDLE_INFO {
            Handle: base as HANDLE,
            Events: mask,
            Status: 0,
        }],
    }
}

/// Whole milliseconds for the port's wait, rounded up; below `INFINITE`, which would block.
fn ceil_millis(d: Duration) -> u32 {
    let ms = d.as_nanos().div_ceil(1_000_000);
    u32::try_from(ms).unwrap_or(INFINITE - 1).min(INFINITE - 1)
}

/// Opens a handle to the AFD driver, to issue poll requests on.
fn open_afd() -> io::Result<HANDLE> {
    // Any name under \Device\Afd opens the driver; the part after it names the opener.
    let name: Vec<u16> = "\\Device\\Afd\\Pollio".encode_utf16().collect();
    let name = UNICODE_STRING {
        Length: (name.len() * 2) as u16,
        MaximumLength: (name.len() * 2) as u16,
        Buffer: name.as_ptr(),
    };
    let attributes = OBJECT_ATTRIBUTES {
        Length: mem::size_of::<OBJECT_ATTRIBUTES>() as u32,
        RootDirectory: ptr::null_mut(),
        ObjectName: &name,
        Attributes: 0,
        SecurityDescriptor: ptr::null_mut(),
        SecurityQualityOfService: ptr::null_mut(),
    };
    let mut handle: HANDLE = ptr::null_mut();
    let mut iosb = IO_STATUS_BLOCK {
        Status: 0,
        Information: 0,
    };
    // SAFETY: every pointer is to a live local (the name's buffer outlives the call); no
    // allocation size and no extended attributes. Not inheritable: no OBJ_INHERIT.
    let status = unsafe {
        NtCreateFile(
            &mut handle,
            SYNCHRONIZE,
            &attributes,
            &mut iosb,
            ptr::null(),
            0,
            FILE_SHARE_READ | FILE_SHARE_WRITE,
            FILE_OPEN,
            0,
            ptr::null(),
            0,
        )
    };
    if status < 0 {
        return Err(status_error(status));
    }
    Ok(handle)
}

/// The socket AFD polls for `socket`: the base service provider's, below any layered
/// providers. Fails for a value that is not an open socket (`WSAENOTSOCK`).
fn base_socket(socket: RawSocket) -> io::Result<SOCKET> {
    let ask = |code: u32| -> Result<SOCKET, i32> {
        let mut base: SOCKET = 0;
        let mut bytes = 0u32;
        // SAFETY: the output buffer is a live SOCKET of the size given; no input buffer, no
        // overlapped request.
        let res = unsafe {
            WSAIoctl(
                socket as SOCKET,
                code,
                ptr::null(),
                0,
                (&mut base as *mut SOCKET).cast(),
                mem::size_of::<SOCKET>() as u32,
                &mut bytes,
                ptr::null_mut(),
                ptr::null(),
            )
        };
        if res == SOCKET_ERROR {
            // SAFETY: reads the calling thread's last Winsock error.
            Err(unsafe { WSAGetLastError() })
        } else {
            Ok(base)
        }
    };
    match ask(SIO_BASE_HANDLE) {
        Ok(base) => Ok(base),
        // Some layered providers refuse SIO_BASE_HANDLE but answer the poll-specific query.
        Err(code) => ask(SIO_BSP_HANDLE_POLL).map_err(|_| io::Error::from_raw_os_error(code)),
    }
}

/// Posted completions: each notify queues one packet with the wake key, which the next wait
/// takes as the wake event. Nothing to register and nothing to drain.
pub(crate) struct WakeSource(());

impl WakeSource {
    pub(crate) fn new(_selector: &Selector) -> io::Result<WakeSource> {
        Ok(WakeSource(()))
    }

    /// No socket of its own: nothing a caller could register by mistake.
    #[inline]
    pub(crate) fn owns(&self, _socket: RawSocket) -> bool {
        false
    }

    pub(crate) fn notify(&self, selector: &Selector) -> io::Result<()> {
        // SAFETY: the port is open; a posted packet carries no buffer.
        let ok = unsafe { PostQueuedCompletionStatus(selector.port, 0, WAKE_KEY, ptr::null_mut()) };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventKind;

    fn event(word: u64, flags: u32) -> Event {
        Event(RawEvent { word, flags })
    }

    #[test]
    fn objects_carry_the_socket_and_kind() {
        let events = [
            event(word::pack(0x1234, EventKind::Client, 9), AFD_POLL_RECEIVE),
            event(word::pack(8, EventKind::Server, 0), AFD_POLL_ACCEPT),
        ];
        let mut objects = vec![EventObject::client(1); 5];
        fill_objects(&events, &mut objects);
        assert_eq!(
            objects,
            [EventObject::client(0x1234), EventObject::server(8)]
        );
    }

    #[test]
    fn conditions_map_to_readiness() {
        let r = |flags| event_readiness(&RawEvent { word: 0, flags });
        assert!(r(AFD_POLL_RECEIVE).is_readable());
        assert!(r(AFD_POLL_ACCEPT).is_readable());
        assert!(r(AFD_POLL_SEND).is_writable() && !r(AFD_POLL_SEND).is_readable());
        let fin = r(AFD_POLL_DISCONNECT);
        assert!(fin.is_readable() && fin.is_read_closed() && fin.is_read_hang_up());
        assert!(!fin.is_hang_up() && !fin.is_write_closed() && !fin.is_error());
        let reset = r(AFD_POLL_ABORT);
        assert!(reset.is_hang_up() && reset.is_error() && reset.is_write_closed());
        let refused = r(AFD_POLL_CONNECT_FAIL);
        assert!(refused.is_error() && refused.is_write_closed() && !refused.is_readable());
        assert!(r(AFD_POLL_RECEIVE_EXPEDITED).is_priority());
    }

    #[test]
    fn a_reset_reports_the_directions_asked_for() {
        let entry = |interest| Entry {
            io: ptr::null_mut(),
            base: 0,
            word: 0,
            interest,
            mode: Mode::Level,
            armed: true,
            pending: false,
            stale: false,
            queued: false,
        };
        let both = reported_flags(AFD_POLL_ABORT, &entry(Interest::BOTH));
        assert_eq!(both, AFD_POLL_ABORT | AFD_POLL_RECEIVE | AFD_POLL_SEND);
        let read = reported_flags(AFD_POLL_ABORT, &entry(Interest::READABLE));
        assert_eq!(read, AFD_POLL_ABORT | AFD_POLL_RECEIVE);
        // A condition not asked for is not reported (a request issued before a modify).
        let read = reported_flags(AFD_POLL_SEND, &entry(Interest::READABLE));
        assert_eq!(read, 0);
        // Disarmed (a oneshot that fired): nothing but the close, which ends it.
        let mut idle = entry(Interest::BOTH);
        idle.armed = false;
        assert_eq!(reported_flags(AFD_POLL_RECEIVE | AFD_POLL_SEND, &idle), 0);
    }

    #[test]
    fn closing_a_socket_ends_its_registration() {
        use std::os::windows::io::AsRawSocket;
        let selector = Selector::new(Backend::Iocp).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let socket = listener.as_raw_socket();
        let word = word::pack(socket, EventKind::Server, 1);
        selector
            .add(socket, word, Interest::READABLE, Mode::Level, false)
            .unwrap();
        assert_eq!(selector.lock().entries.len(), 1);
        drop(listener);
        let mut events = Vec::with_capacity(8);
        let deadline = Instant::now() + Duration::from_secs(5);
        while !selector.lock().entries.is_empty() {
            assert!(Instant::now() < deadline, "the close never ended it");
            selector.select(&mut events, Timeout::Millis(50)).unwrap();
            assert!(events.is_empty(), "a close is not an event: {events:?}");
        }
        assert_eq!(selector.lock().in_flight, 0);
    }

    #[test]
    fn waits_round_up_to_whole_milliseconds() {
        assert_eq!(ceil_millis(Duration::ZERO), 0);
        assert_eq!(ceil_millis(Duration::from_nanos(1)), 1);
        assert_eq!(ceil_millis(Duration::from_micros(1_001)), 2);
        assert_eq!(
            ceil_millis(Duration::from_secs(60 * 24 * 3600)),
            INFINITE - 1
        );
    }
}
