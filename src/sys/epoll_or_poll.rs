//! Linux and Android: epoll, or poll(2) when a poller asks for [`Backend::Poll`], behind one
//! `Selector`.
//!
//! Each method is one `match`, inlined, with the poll backend's branch a cold call out of
//! line, so the epoll path keeps its code. Against epoll alone (`bench/counts.sh`, user-space
//! instructions): waits through `poll` cost the same (wait0-empty 36, pingpong-1 109, ready-1k
//! 2,434), through `poll_into` 2 more; a registration call costs 3 to 5 more (churn, an add and
//! a delete: 114 instead of 106; rearm, a wait and a modify: 116 instead of 113), the compare
//! and branch plus what LLVM makes of merging two results.
//!
//! The poll backend fills the same `epoll_event`s (poll's `revents` bits are epoll's on
//! Linux), so events are read the same way whichever made them.

use super::{epoll, poll, unsupported};
use crate::timeout::Timeout;
use crate::{Backend, Event, Interest, Mode};
use std::io;
use std::os::fd::{BorrowedFd, RawFd};
use std::time::Duration;

pub(crate) use epoll::{event_readiness, event_word, RawEvent};

#[cfg(test)]
pub(crate) use epoll::test_event;

pub(crate) const DEFAULT: Backend = Backend::Epoll;

pub(crate) enum Selector {
    /// Boxed: its table and waiters are larger than an fd, and kept apart from the common case.
    /// Declared first: LLVM then lays out the registration calls one instruction shorter.
    Poll(Box<poll::Selector>),
    Epoll(epoll::Selector),
}

impl Selector {
    pub(crate) fn new(backend: Backend) -> io::Result<Selector> {
        match backend {
            Backend::Epoll => Ok(Selector::Epoll(epoll::Selector::new()?)),
            Backend::Poll => Ok(Selector::Poll(Box::new(poll::Selector::create()?))),
            other => Err(unsupported(other)),
        }
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            Selector::Epoll(_) => Backend::Epoll,
            Selector::Poll(_) => Backend::Poll,
        }
    }

    pub(crate) fn as_raw_fd(&self) -> RawFd {
        match self {
            Selector::Epoll(selector) => selector.as_raw_fd(),
            Selector::Poll(selector) => selector.as_raw_fd(),
        }
    }

    pub(crate) fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Selector::Epoll(selector) => selector.as_fd(),
            Selector::Poll(selector) => selector.as_fd(),
        }
    }

    #[inline]
    pub(crate) fn add(
        &self,
        fd: RawFd,
        word: u64,
        interest: Interest,
        mode: Mode,
        exclusive: bool,
    ) -> io::Result<()> {
        match self {
            Selector::Epoll(selector) => selector.add(fd, word, interest, mode, exclusive),
            Selector::Poll(selector) => poll_add(selector, fd, word, interest, mode, exclusive),
        }
    }

    #[inline]
    pub(crate) fn modify(
        &self,
        fd: RawFd,
        word: u64,
        interest: Interest,
        mode: Mode,
    ) -> io::Result<()> {
        match self {
            Selector::Epoll(selector) => selector.modify(fd, word, interest, mode),
            Selector::Poll(selector) => poll_modify(selector, fd, word, interest, mode),
        }
    }

    #[inline]
    pub(crate) fn delete(&self, fd: RawFd) -> io::Result<()> {
        match self {
            Selector::Epoll(selector) => selector.delete(fd),
            Selector::Poll(selector) => poll_delete(selector, fd),
        }
    }

    /// Inlined as epoll's own `select` is, so the epoll path stays one system call away from
    /// the poller's wait; the poll backend's wait is out of line, and marked cold so that its
    /// branch is laid out away from epoll's.
    #[inline(always)]
    pub(crate) fn select(&self, events: &mut Vec<Event>, timeout: Timeout) -> io::Result<()> {
        match self {
            Selector::Epoll(selector) => selector.select(events, timeout),
            Selector::Poll(selector) => select_poll(selector, events, timeout.duration()),
        }
    }
}

// The poll backend's registrations, as cold calls beside epoll's inlined ones.

#[cold]
#[inline(never)]
fn poll_add(
    selector: &poll::Selector,
    fd: RawFd,
    word: u64,
    interest: Interest,
    mode: Mode,
    exclusive: bool,
) -> io::Result<()> {
    selector.add(fd, word, interest, mode, exclusive)
}

#[cold]
#[inline(never)]
fn poll_modify(
    selector: &poll::Selector,
    fd: RawFd,
    word: u64,
    interest: Interest,
    mode: Mode,
) -> io::Result<()> {
    selector.modify(fd, word, interest, mode)
}

#[cold]
#[inline(never)]
fn poll_delete(selector: &poll::Selector, fd: RawFd) -> io::Result<()> {
    selector.delete(fd)
}

/// The poll backend's wait, as a cold call: only the layout of the epoll path it sits beside
/// changes, not the poll backend's own code.
#[cold]
#[inline(never)]
fn select_poll(
    selector: &poll::Selector,
    events: &mut Vec<Event>,
    timeout: Option<Duration>,
) -> io::Result<()> {
    selector.select_for(events, timeout)
}

/// The wake-up source of either backend. On Linux both are one eventfd, kept here as well so
/// that `owns`, which every registration calls, is one compare.
pub(crate) struct WakeSource {
    eventfd: RawFd,
    source: Source,
}

enum Source {
    Epoll(epoll::WakeSource),
    Poll(poll::WakeSource),
}

impl WakeSource {
    pub(crate) fn new(selector: &Selector) -> io::Result<WakeSource> {
        let source = match selector {
            Selector::Epoll(selector) => Source::Epoll(epoll::WakeSource::new(selector)?),
            Selector::Poll(selector) => Source::Poll(poll::WakeSource::new(selector)?),
        };
        let eventfd = match &source {
            Source::Epoll(source) => source.eventfd(),
            Source::Poll(source) => source.eventfd(),
        };
        Ok(WakeSource { eventfd, source })
    }

    #[inline]
    pub(crate) fn owns(&self, fd: RawFd) -> bool {
        fd == self.eventfd
    }

    pub(crate) fn notify(&self, selector: &Selector) -> io::Result<()> {
        match (&self.source, selector) {
            (Source::Epoll(source), Selector::Epoll(selector)) => source.notify(selector),
            (Source::Poll(source), Selector::Poll(selector)) => source.notify(selector),
            // `new` makes a source of the selector's own backend, and the poller only ever
            // passes it that selector.
            _ => Err(io::Error::new(
                io::ErrorKind::Other,
                "a wake-up source used with another backend's selector",
            )),
        }
    }
}
