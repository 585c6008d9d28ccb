//! Signals as event sources.

use crate::registry::Shared;
use crate::{sys, Event, Registration, Registry};
use std::io;
use std::sync::Arc;

/// A signal whose deliveries are events of the poller it was made by, carrying its
/// registration's key or token.
///
/// Made by [`Poller::signal`](crate::Poller::signal) or [`Registry::signal`]. Each event
/// means the signal arrived at least once since the last; [`deliveries`](Self::deliveries)
/// says how many times. Call it for every event of the signal: on Linux it also takes the
/// pending signals. Dropping the `Signal` deregisters it and, if it was the last source of
/// its signal in the process, puts back what it changed. Several sources of one signal, in one
/// poller or several, each get an event.
///
/// What it changes in the process:
///
/// - **Linux** (a signalfd): the signal must be blocked in every thread, or a thread that
///   does not block it takes it with its usual action (the default for most signals ends the
///   process) and no event comes. pollio blocks it (`pthread_sigmask`) in the thread that
///   makes the first source of that signal; threads spawned from that thread afterwards
///   inherit the block, but **threads already running must block it themselves**: make signal
///   sources (or block the signals) in `main` before spawning threads. The last source to be
///   dropped reads what is still pending and unblocks the signal in the thread that drops it,
///   unless it was blocked before. The signal's action is not changed. A signal sent to the
///   process (`kill`) is seen by every wait; one sent to a single thread (`pthread_kill`) only
///   by waits and reads in that thread.
/// - **kqueue** (`EVFILT_SIGNAL`): the kernel runs the signal's action first and reports
///   the delivery after it, so pollio sets the action of a signal whose action is the
///   default to `SIG_IGN` while it has sources (the default would end or stop the process),
///   and restores it after. A handler of the program's own stays and runs as well. `SIGCHLD`
///   is left as it is (its default ignores it; `SIG_IGN` would make the kernel reap
///   children). No mask is changed.
///
/// The count differs too: on kqueue it is every delivery since the last event; on Linux a
/// standard signal sent again before it was read is pending once, and counts once (a
/// real-time signal queues, and each counts).
///
/// The registration's interest and mode are ignored, and [`Event::fd`] means nothing for its
/// events, as for a [`Timer`](crate::Timer).
///
/// ```no_run
/// # fn main() -> std::io::Result<()> {
/// use pollio::{Events, OsPoller, Poller, Registration};
///
/// // In main, before any thread is spawned.
/// let poller = OsPoller::new()?;
/// let term = poller.signal(libc::SIGTERM, Registration::client(1))?;
/// let mut events = Events::new();
/// poller.poll_into(&mut events, None)?;
/// for event in &events {
///     if event.key() == 1 && term.deliveries(event)? > 0 {
///         println!("SIGTERM: shutting down");
///     }
/// }
/// # Ok(())
/// # }
/// ```
pub struct Signal {
    shared: Arc<Shared>,
    source: sys::SignalSource,
    signo: i32,
}

impl Signal {
    /// The signal's number.
    pub fn number(&self) -> i32 {
        self.signo
    }

    /// How many deliveries `event`, one of this signal's events, stands for; 0 for an event
    /// whose signal was taken already (skip it).
    ///
    /// On Linux this reads the signalfd (`event` is not looked at), which takes every pending
    /// delivery of the signal. On kqueue it is `event`'s own count.
    ///
    /// # Errors
    ///
    /// The OS error of `read` on Linux, which does not fail for a live source; never on
    /// kqueue.
    pub fn deliveries(&self, event: &Event) -> io::Result<u64> {
        self.source.deliveries(event)
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        self.source.deregister(&self.shared.selector);
    }
}

impl std::fmt::Debug for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signal")
            .field("number", &self.signo)
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// A source of events for signal `signo` (such as `libc::SIGTERM`), carrying
    /// `registration`'s key or token. See [`Signal`] for what it changes in the process.
    ///
    /// # Errors
    ///
    /// `EINVAL` for `SIGKILL`, `SIGSTOP` and numbers that are not signals (on Linux also the
    /// two real-time signals the C library keeps for itself); otherwise the OS error of
    /// `signalfd`, `pthread_sigmask` or `epoll_ctl` on Linux (`EMFILE` when the process has
    /// no fd left), of `sigaction` or `kevent` on kqueue. [`InvalidInput`](io::ErrorKind::InvalidInput)
    /// for the reserved token `u64::MAX`.
    pub fn signal(&self, signo: i32, registration: Registration) -> io::Result<Signal> {
        let source = sys::SignalSource::new(&self.shared.selector, signo, registration)?;
        Ok(Signal {
            shared: Arc::clone(&self.shared),
            source,
            signo,
        })
    }
}
