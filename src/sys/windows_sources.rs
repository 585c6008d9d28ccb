//! Signals on Windows, which has none: the constructor returns
//! [`Unsupported`](io::ErrorKind::Unsupported), so [`Signal`](crate::Signal) exists on every
//! platform and a program that uses it builds everywhere, but on Windows it gets that error
//! when it asks for one. Timers are in `windows_timers.rs`, child exits in
//! `windows_children.rs`.

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
