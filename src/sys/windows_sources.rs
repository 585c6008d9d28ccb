//! Signals and child exits on Windows: not implemented yet. Each constructor returns
//! [`Unsupported`](io::ErrorKind::Unsupported), so [`Signal`](crate::Signal) and
//! [`ChildExit`](crate::ChildExit) exist on every platform and a program that uses them builds
//! everywhere, but on Windows it gets that error when it asks for one. (Windows has no signals
//! at all; a process exit could become a completion on the same port later.) Timers are in
//! `windows_timers.rs`.

use super::Selector;
use crate::{Event, Registration};
use std::io;

fn unsupported(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("{what} are not supported on Windows yet"),
    )
}

/// Never constructed: `new` always fails.
pub(crate) struct SignalSource(());

impl SignalSource {
    pub(crate) fn new(
        _selector: &Selector,
        _signo: i32,
        _registration: Registration,
    ) -> io::Result<Self> {
        Err(unsupported("signals"))
    }

    pub(crate) fn deliveries(&self, _event: &Event) -> io::Result<u64> {
        Err(unsupported("signals"))
    }

    pub(crate) fn deregister(&self, _selector: &Selector) {}
}

/// Never constructed: `new` always fails.
pub(crate) struct ChildSource(());

impl ChildSource {
    pub(crate) fn new(
        _selector: &Selector,
        _pid: u32,
        _registration: Registration,
    ) -> io::Result<Self> {
        Err(unsupported("child-exit events"))
    }

    pub(crate) fn deregister(&self, _selector: &Selector) {}
}
