//! Timers as event sources.

use crate::registry::Shared;
use crate::{sys, Event, Registration, Registry};
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// When a timer first expires.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Expiry {
    After(Duration),
    At(Instant),
}

/// A timer whose expirations are events of the poller it was made by, carrying its
/// registration's key or token.
///
/// Made by [`Poller::timer`](crate::Poller::timer) or [`Registry::timer`], unarmed. Arm it
/// for one expiry with [`set_after`](Self::set_after) or [`set_at`](Self::set_at), or for
/// a periodic one with [`set_every`](Self::set_every); setting it again replaces what was
/// set, and [`cancel`](Self::cancel) disarms it. Dropping it deregisters it and frees its
/// kernel object.
///
/// A timer never fires early: it counts on the monotonic clock of [`Instant`], to the
/// nanosecond on Linux (a timerfd on `CLOCK_MONOTONIC`), macOS, iOS, FreeBSD and NetBSD
/// (`EVFILT_TIMER` with `NOTE_NSECONDS`), and in whole milliseconds, rounded up, on OpenBSD
/// and DragonFly. Like every wait, it can fire late on a busy machine.
///
/// Each expiry makes one event; the expirations of a periodic timer that elapse before the
/// loop gets to the event are counted, not lost: [`expirations`](Self::expirations) says how
/// many there were. Call it for every event of the timer: on Linux it also reads the timerfd,
/// which resets its count. The registration's interest and mode are ignored (a timer is
/// readable, and reported once per expiry, as with [`Mode::Edge`](crate::Mode::Edge)), and
/// [`Event::fd`] means nothing for its events: tell timers apart by key or token.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use pollio::{Events, OsPoller, Poller, Registration};
/// use std::time::{Duration, Instant};
///
/// let poller = OsPoller::new()?;
/// let timer = poller.timer(Registration::client(7))?;
/// let start = Instant::now();
/// timer.set_after(Duration::from_millis(5))?;
///
/// let mut events = Events::new();
/// while events.is_empty() {
///     poller.poll_into(&mut events, Some(Duration::from_secs(5)))?;
/// }
/// assert!(start.elapsed() >= Duration::from_millis(5));
/// assert_eq!(events[0].key(), 7);
/// assert_eq!(timer.expirations(&events[0])?, 1);
/// # Ok(())
/// # }
/// ```
pub struct Timer {
    shared: Arc<Shared>,
    source: sys::TimerSource,
}

impl Timer {
    /// Fires once, `after` from now. A zero duration fires at once.
    ///
    /// # Errors
    ///
    /// The OS error of `timerfd_settime` or `kevent`, which do not fail for a live timer.
    pub fn set_after(&self, after: Duration) -> io::Result<()> {
        self.source.arm(Expiry::After(after), None)
    }

    /// Fires once, at `deadline`; at once if it has passed.
    ///
    /// On Linux the deadline is absolute (`TFD_TIMER_ABSTIME`); on kqueue it is turned into
    /// the time left when this is called, since kqueue's absolute timers count on the wall
    /// clock. Either way it counts on the monotonic clock and never fires before `deadline`.
    ///
    /// # Errors
    ///
    /// As [`set_after`](Self::set_after).
    pub fn set_at(&self, deadline: Instant) -> io::Result<()> {
        self.source.arm(Expiry::At(deadline), None)
    }

    /// Fires every `period`, first `period` from now.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](io::ErrorKind::InvalidInput) for a zero period, which no kernel
    /// refuses but none repeats; otherwise as [`set_after`](Self::set_after).
    pub fn set_every(&self, period: Duration) -> io::Result<()> {
        if period.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a periodic timer needs a period above zero",
            ));
        }
        self.source.arm(Expiry::After(period), Some(period))
    }

    /// Disarms the timer; it stays registered and can be set again. Expirations not yet read
    /// are forgotten; an event of one that is already queued may still come, and then
    /// [`expirations`](Self::expirations) says 0.
    ///
    /// # Errors
    ///
    /// As [`set_after`](Self::set_after).
    pub fn cancel(&self) -> io::Result<()> {
        self.source.disarm()
    }

    /// How many times the timer expired up to `event`, one of its events; 0 for an event
    /// queued before the timer was set again or cancelled (skip it).
    ///
    /// On Linux this reads the timerfd (`event` is not looked at): the count of everything
    /// unread, reset to 0 by the read. On kqueue it is `event`'s own count (its `data`), so
    /// it must be this timer's event.
    ///
    /// # Errors
    ///
    /// The OS error of `read` on Linux, which does not fail for a live timer; never on kqueue.
    pub fn expirations(&self, event: &Event) -> io::Result<u64> {
        self.source.expirations(event)
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.source.deregister(&self.shared.selector);
    }
}

impl std::fmt::Debug for Timer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timer").finish_non_exhaustive()
    }
}

impl Registry {
    /// A new, unarmed [`Timer`] whose events carry `registration`'s key or token.
    ///
    /// # Errors
    ///
    /// The OS error of `timerfd_create` or `epoll_ctl` on Linux (`EMFILE` when the process
    /// has no fd left); [`InvalidInput`](io::ErrorKind::InvalidInput) for the reserved token
    /// `u64::MAX`. Never on kqueue, where the timer's knote is added when it is set.
    pub fn timer(&self, registration: Registration) -> io::Result<Timer> {
        let source = sys::TimerSource::new(&self.shared.selector, registration)?;
        Ok(Timer {
            shared: Arc::clone(&self.shared),
            source,
        })
    }
}
