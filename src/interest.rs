//! What a registration asks the kernel to watch for, and how it reports it.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

/// The readiness a registration is interested in.
///
/// Combine with `|`: `Interest::READABLE | Interest::WRITABLE` is [`Interest::BOTH`].
/// An empty interest ([`Interest::NONE`]) *parks* a registration: the fd stays registered but
/// is not armed for readiness, until [`Poller::modify`](crate::Poller::modify) gives it an
/// interest. A runtime can so register every source when it is created and arm it when a task
/// first waits on it. epoll still reports a parked fd's hang-up and error (it always does), and
/// Windows a parked socket's reset or failed connect; kqueue reports nothing for it. Park with [`Mode::Oneshot`](crate::Mode::Oneshot) (or edge)
/// where that matters: a level-triggered parked socket that the peer resets is reported on every
/// wait until it is armed or deleted.
///
/// ```
/// use pollio::Interest;
///
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert_eq!(both, Interest::BOTH);
/// assert!(both.is_writable());
/// assert!(both.remove(Interest::BOTH).is_empty());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interest(u8);

impl Interest {
    /// Readable: data to read, a connection to accept, or end of stream.
    pub const READABLE: Interest = Interest(1);
    /// Writable: room in the send buffer, or a connect that finished.
    pub const WRITABLE: Interest = Interest(1 << 1);
    /// Priority: out-of-band or urgent data (`EPOLLPRI`). On kqueue it is reported through the
    /// read filter, so a priority-only registration also sees ordinary readability there.
    pub const PRIORITY: Interest = Interest(1 << 2);
    /// Readable and writable.
    pub const BOTH: Interest = Interest(1 | 1 << 1);
    /// No interest at all: a parked registration (see above), or a starting point for
    /// [`Interest::add`].
    pub const NONE: Interest = Interest(0);

    /// This interest with `other` added.
    #[must_use = "returns a new Interest and leaves this one unchanged"]
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// This interest with `other` taken away.
    #[must_use = "returns a new Interest and leaves this one unchanged"]
    pub const fn remove(self, other: Interest) -> Interest {
        Interest(self.0 & !other.0)
    }

    /// True when no readiness is asked for.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True when readability is asked for.
    pub const fn is_readable(self) -> bool {
        self.0 & Self::READABLE.0 != 0
    }

    /// True when writability is asked for.
    pub const fn is_writable(self) -> bool {
        self.0 & Self::WRITABLE.0 != 0
    }

    /// True when priority data is asked for.
    pub const fn is_priority(self) -> bool {
        self.0 & Self::PRIORITY.0 != 0
    }
}

impl BitOr for Interest {
    type Output = Interest;
    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl BitOrAssign for Interest {
    fn bitor_assign(&mut self, other: Interest) {
        *self = self.add(other);
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (self.is_readable(), "READABLE"),
            (self.is_writable(), "WRITABLE"),
            (self.is_priority(), "PRIORITY"),
        ];
        write_flags(f, "NONE", &names)
    }
}

/// Writes the names of the set flags joined by ` | `, or `empty` when none is set.
pub(crate) fn write_flags(
    f: &mut fmt::Formatter<'_>,
    empty: &str,
    flags: &[(bool, &str)],
) -> fmt::Result {
    let mut first = true;
    for (_, name) in flags.iter().filter(|(set, _)| *set) {
        if !first {
            f.write_str(" | ")?;
        }
        f.write_str(name)?;
        first = false;
    }
    if first {
        f.write_str(empty)?;
    }
    Ok(())
}

/// How often a registration reports readiness.
///
/// | Mode | Reports | epoll | kqueue | Windows |
/// |------|---------|-------|--------|---------|
/// | [`Level`](Mode::Level) | on every wait while the fd is ready | default | default | the socket is polled again when the next wait starts |
/// | [`Edge`](Mode::Edge) | once each time new readiness arrives | `EPOLLET` | `EV_CLEAR` | as `Level`: more events, never fewer |
/// | [`Oneshot`](Mode::Oneshot) | once, then nothing until re-armed with `modify` | `EPOLLONESHOT` | `EV_DISPATCH` | not polled again until `modify` |
/// | [`EdgeOneshot`](Mode::EdgeOneshot) | once, edge-triggered, until re-armed | both | `EV_DISPATCH` (a re-arm reports readiness already there, as on epoll) | as `Oneshot` |
///
/// A oneshot registration stays registered after it fires: re-arm it with
/// [`Poller::modify`](crate::Poller::modify), remove it with [`Poller::delete`](crate::Poller::delete).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mode {
    /// Level-triggered, the default (and the only mode of pollio 0.1.3).
    #[default]
    Level,
    /// Edge-triggered: drain the fd until `WouldBlock` before waiting again.
    Edge,
    /// Level-triggered, disabled after one event until re-armed.
    Oneshot,
    /// Edge-triggered, disabled after one event until re-armed.
    EdgeOneshot,
}

impl Mode {
    /// True for [`Mode::Edge`] and [`Mode::EdgeOneshot`].
    pub const fn is_edge(self) -> bool {
        matches!(self, Mode::Edge | Mode::EdgeOneshot)
    }

    /// True for [`Mode::Oneshot`] and [`Mode::EdgeOneshot`].
    pub const fn is_oneshot(self) -> bool {
        matches!(self, Mode::Oneshot | Mode::EdgeOneshot)
    }
}
