//! Everything a registration carries besides the fd.

#[cfg(windows)]
use crate::source::RawSource as RawFd;
use crate::{word, EventKind, Interest, Mode};
use std::io;
#[cfg(unix)]
use std::os::fd::RawFd;

/// How an fd is registered: what comes back with its events (a kind and a 32-bit key, or a
/// 64-bit token), the readiness it is interested in, its [`Mode`], and whether it wakes only
/// one of several pollers ([`with_exclusive`](Self::with_exclusive)).
///
/// Every event carries one 64-bit word that the kernel stores with the registration and hands
/// back unchanged: no table, no lock and no allocation stands between an event and what it is
/// for. By default pollio packs the fd, the kind and the key into that word, so an event tells
/// all three. [`with_token`](Self::with_token) puts a word of your own there instead (a slab
/// index, a pointer as an integer), as mio's `Token(usize)` and polling's `usize` keys do;
/// [`Event::token`](crate::Event::token) returns it.
///
/// The seed API's [`Poller::add`](crate::Poller::add) is the same as
/// `Registration::new(kind, 0)`: readable, level-triggered, key 0.
///
/// ```
/// use pollio::{EventKind, Interest, Mode, Registration};
///
/// let reg = Registration::client(42)
///     .with_interest(Interest::BOTH)
///     .with_mode(Mode::Edge);
/// assert_eq!(reg.kind(), EventKind::Client);
/// assert_eq!(reg.key(), 42);
/// assert_eq!(reg.interest(), Interest::BOTH);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Registration {
    kind: EventKind,
    key: u32,
    interest: Interest,
    mode: Mode,
    token: Option<u64>,
    exclusive: bool,
}

impl Registration {
    /// A readable, level-triggered registration of `kind` carrying `key`.
    #[must_use]
    pub const fn new(kind: EventKind, key: u32) -> Registration {
        Registration {
            kind,
            key,
            interest: Interest::READABLE,
            mode: Mode::Level,
            token: None,
            exclusive: false,
        }
    }

    /// A readable, level-triggered registration whose events carry `token` (see
    /// [`with_token`](Self::with_token)).
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use pollio::{Events, OsPoller, Poller, Registration};
    /// use std::io::Write;
    /// use std::os::fd::AsFd;
    /// use std::os::unix::net::UnixStream;
    /// use std::time::Duration;
    ///
    /// let poller = OsPoller::new()?;
    /// let (a, mut b) = UnixStream::pair()?;
    /// let token = 0xdead_beef_0000_0007;
    /// poller.register(a.as_fd(), Registration::from_token(token))?;
    /// b.write_all(b"x")?;
    /// let mut events = Events::new();
    /// poller.poll_into(&mut events, Some(Duration::from_secs(5)))?;
    /// assert_eq!(events[0].token(), token);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub const fn from_token(token: u64) -> Registration {
        Registration::new(EventKind::Client, 0).with_token(token)
    }

    /// `Registration::new(EventKind::Server, key)`.
    #[must_use]
    pub const fn server(key: u32) -> Registration {
        Registration::new(EventKind::Server, key)
    }

    /// `Registration::new(EventKind::Client, key)`.
    #[must_use]
    pub const fn client(key: u32) -> Registration {
        Registration::new(EventKind::Client, key)
    }

    /// The same registration with another interest.
    #[must_use = "returns a new Registration and leaves this one unchanged"]
    pub const fn with_interest(self, interest: Interest) -> Registration {
        Registration { interest, ..self }
    }

    /// The same registration with another mode.
    #[must_use = "returns a new Registration and leaves this one unchanged"]
    pub const fn with_mode(self, mode: Mode) -> Registration {
        Registration { mode, ..self }
    }

    /// The same registration with another key.
    #[must_use = "returns a new Registration and leaves this one unchanged"]
    pub const fn with_key(self, key: u32) -> Registration {
        Registration { key, ..self }
    }

    /// The same registration with another kind.
    #[must_use = "returns a new Registration and leaves this one unchanged"]
    pub const fn with_kind(self, kind: EventKind) -> Registration {
        Registration { kind, ..self }
    }

    /// The same registration, its events carrying `token` instead of the fd, kind and key.
    ///
    /// [`Event::token`](crate::Event::token) returns it; [`Event::fd`](crate::Event::fd),
    /// [`kind`](crate::Event::kind) and [`key`](crate::Event::key), and the seed API's
    /// [`EventObject`](crate::EventObject)s, mean nothing for such an event. Any value but
    /// `u64::MAX` may be used: that one marks the poller's own wake-up event, and a
    /// registration carrying it is refused with [`InvalidInput`](io::ErrorKind::InvalidInput).
    #[must_use = "returns a new Registration and leaves this one unchanged"]
    pub const fn with_token(self, token: u64) -> Registration {
        Registration {
            token: Some(token),
            ..self
        }
    }

    /// The same registration, waking only one of the pollers it is registered in when it
    /// becomes ready (Linux `EPOLLEXCLUSIVE`), or, with `false`, every one of them.
    ///
    /// Meant for a listening socket added to one poller per thread: a new connection then
    /// wakes one thread, not all (the kernel may still wake more than one). It applies to
    /// waiting threads only; a poller that is not waiting still finds the fd ready on its
    /// next wait.
    ///
    /// The kernel's rules, which pollio checks itself and refuses with pollio's own
    /// [`InvalidInput`](io::ErrorKind::InvalidInput): only [`Poller::add_with`](crate::Poller::add_with)
    /// (and `add`, `register`) can set it, not `modify`; it cannot be combined with a oneshot
    /// [`Mode`] or with [`Interest::PRIORITY`]. A registration added exclusive cannot be
    /// modified at all on epoll (`EINVAL`): delete it and add it again. Readable interest
    /// then leaves out the peer's read-side shutdown (`EPOLLRDHUP` is not allowed with
    /// it), so [`Readiness::is_read_hang_up`](crate::Readiness::is_read_hang_up) is not
    /// reported; hang-up and error still are.
    ///
    /// kqueue has no such option: there it is accepted and ignored, and every poller that
    /// watches the fd is woken.
    #[must_use = "returns a new Registration and leaves this one unchanged"]
    pub const fn with_exclusive(self, exclusive: bool) -> Registration {
        Registration { exclusive, ..self }
    }

    /// The kind returned with each event.
    pub const fn kind(&self) -> EventKind {
        self.kind
    }

    /// The key returned with each event.
    pub const fn key(&self) -> u32 {
        self.key
    }

    /// The readiness asked for.
    pub const fn interest(&self) -> Interest {
        self.interest
    }

    /// How readiness is reported.
    pub const fn mode(&self) -> Mode {
        self.mode
    }

    /// The token the events carry, if the registration has one.
    pub const fn token(&self) -> Option<u64> {
        self.token
    }

    /// Whether it wakes only one of the pollers it is registered in.
    pub const fn is_exclusive(&self) -> bool {
        self.exclusive
    }

    /// The word the kernel keeps for `fd` with this registration, after pollio's own checks
    /// for an add (`adding`) or a modify.
    #[inline(always)]
    pub(crate) fn word_for(&self, fd: RawFd, adding: bool) -> io::Result<u64> {
        if self.exclusive && (!adding || self.mode.is_oneshot() || self.interest.is_priority()) {
            return Err(refused(
                "an exclusive registration is made by add alone, never oneshot or priority",
            ));
        }
        match self.token {
            None => Ok(word::pack(fd, self.kind, self.key)),
            Some(word::WAKE) => Err(refused(
                "token u64::MAX is reserved for the poller's wake-up event",
            )),
            Some(token) => Ok(token),
        }
    }
}

#[cold]
fn refused(why: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, why)
}
