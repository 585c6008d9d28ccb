//! Timers, signals and child exits where pollio has no kernel object for them: the targets whose
//! only backend is poll(2). Every constructor answers `Unsupported`, so `Poller::timer`,
//! `signal`, `child_exit` and `pid_exit` fail cleanly there; the types exist so the rest of the
//! crate is the same on every target.
//!
//! (Linux and Android keep their timerfd, signalfd and pidfd sources on the poll(2) backend:
//! those are fds like any other. Elsewhere a source would need a helper thread or a
//! self-pipe, which no caller has asked for yet.)

use super::Selector;
use crate::timer::Expiry;
use crate::{Event, Registration};
use std::io;
use std::time::Duration;

/// The one error of this file: names the source and why.
#[cold]
fn unsupported(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("{what} need epoll (Linux, Android) or kqueue; the poll(2) backend of this platform has none"),
    )
}

/// Never constructed: every constructor fails. The methods exist for the callers' sake.
pub(crate) enum TimerSource {}

impl TimerSource {
    pub(crate) fn new(_: &Selector, _: Registration) -> io::Result<TimerSource> {
        Err(unsupported("timers"))
    }

    pub(crate) fn arm(&self, _: Expiry, _: Option<Duration>) -> io::Result<()> {
        match *self {}
    }

    pub(crate) fn disarm(&self) -> io::Result<()> {
        match *self {}
    }

    pub(crate) fn expirations(&self, _: &Event) -> io::Result<u64> {
        match *self {}
    }

    pub(crate) fn deregister(&self, _: &Selector) {
        match *self {}
    }
}

/// Never constructed, as `TimerSource`.
pub(crate) enum SignalSource {}

impl SignalSource {
    pub(crate) fn new(_: &Selector, _: libc::c_int, _: Registration) -> io::Result<SignalSource> {
        Err(unsupported("signal sources"))
    }

    pub(crate) fn deliveries(&self, _: &Event) -> io::Result<u64> {
        match *self {}
    }

    pub(crate) fn deregister(&self, _: &Selector) {
        match *self {}
    }
}

/// Never constructed, as `TimerSource`.
pub(crate) enum ChildSource {}

impl ChildSource {
    pub(crate) fn new(_: &Selector, _: libc::pid_t, _: Registration) -> io::Result<ChildSource> {
        Err(unsupported("child-exit sources"))
    }

    pub(crate) fn deregister(&self, _: &Selector) {
        match *self {}
    }
}
