//! The registrations of a poll(2) selector, and the waits that must hear when they change.

use super::file::FileId;
use super::notify::NotifyFd;
use crate::{Interest, Mode};
use std::collections::HashMap;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Everything registered, behind the selector's lock.
pub(super) struct Table {
    pub(super) entries: HashMap<RawFd, Entry>,
    /// Raised by every change; a wait's list of pollfds is current while its generation
    /// matches. Published to waits, which read it without the lock, in the selector's
    /// `generation`.
    pub(super) generation: u64,
    /// The waker's descriptor, which every wait polls once a waker exists.
    pub(super) wake: Option<Arc<NotifyFd>>,
    /// The interrupt of every waiter, to ring when the table changes while it waits.
    pub(super) interrupts: Vec<Arc<Interrupt>>,
}

/// One registration.
#[derive(Clone, Copy)]
pub(super) struct Entry {
    pub(super) word: u64,
    /// The poll(2) events asked for; 0 for a parked registration, which poll(2) still reports
    /// for `POLLHUP` and `POLLERR`, as epoll does.
    pub(super) events: libc::c_short,
    pub(super) oneshot: bool,
    /// False once a oneshot registration reported its event, until a modify.
    pub(super) armed: bool,
    /// The generation that made this registration (an add or a modify): a wait that polled
    /// it under another one polled something that is no longer registered.
    pub(super) made: u64,
    /// The file registered, to tell it from another file that later got the same number.
    pub(super) file: FileId,
}

impl Entry {
    pub(super) fn new(word: u64, interest: Interest, mode: Mode, made: u64, file: FileId) -> Entry {
        Entry {
            word,
            events: poll_events(interest),
            oneshot: mode.is_oneshot(),
            armed: true,
            made,
            file,
        }
    }
}

/// `POLLRDHUP` where the kernel has it (Linux, Android, illumos): a peer's shutdown shows as
/// read-closed without a read, as epoll's `EPOLLRDHUP` does.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "illumos"))]
pub(super) const POLLRDHUP: libc::c_short = libc::POLLRDHUP;
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "illumos")))]
pub(super) const POLLRDHUP: libc::c_short = 0;

/// The poll(2) events for an interest.
fn poll_events(interest: Interest) -> libc::c_short {
    let mut events = 0;
    if interest.is_readable() {
        events |= libc::POLLIN | POLLRDHUP;
    }
    if interest.is_writable() {
        events |= libc::POLLOUT;
    }
    if interest.is_priority() {
        events |= libc::POLLPRI;
    }
    events
}

/// What makes one blocked wait return when the table changes under it.
pub(super) struct Interrupt {
    pub(super) fd: NotifyFd,
    /// True while the waiter may be blocked in poll(2) with a list built from an older
    /// generation: a change rings `fd` once, and clears this so later changes do not ring it
    /// again. See "Waiting" in the backend's docs for the orderings.
    pub(super) armed: AtomicBool,
}

impl Table {
    pub(super) fn new() -> Table {
        Table {
            entries: HashMap::new(),
            generation: 0,
            wake: None,
            interrupts: Vec::new(),
        }
    }

    /// Records a change: a new generation, published in `published`, and every blocked wait
    /// interrupted so that it polls the new table. Returns the new generation.
    pub(super) fn changed(&mut self, published: &AtomicU64) -> u64 {
        self.generation += 1;
        // SeqCst, with the SeqCst swap below: a waiter stores `armed` then loads the
        // generation (both SeqCst), and this side stores the generation then reads `armed`.
        // In the single order of SeqCst operations one side comes first, so either the waiter
        // sees the new generation before it blocks, or this swap sees its `armed` and rings.
        // With weaker orderings both could miss (store buffering), leaving the waiter blocked
        // on the old list.
        published.store(self.generation, Ordering::SeqCst);
        for interrupt in &self.interrupts {
            if interrupt.armed.swap(false, Ordering::SeqCst) {
                // Best effort: an eventfd or a pipe this selector owns does not fail to be
                // written, and if it were full it would be readable already.
                let _ = interrupt.fd.ring();
            }
        }
        self.generation
    }

    /// Whether `fd` is one of the selector's own descriptors (its waiters' interrupts).
    pub(super) fn is_own(&self, fd: RawFd) -> bool {
        self.interrupts.iter().any(|interrupt| interrupt.fd.owns(fd))
    }
}
