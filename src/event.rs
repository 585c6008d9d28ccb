//! What a wait returns: the seed API's [`EventObject`] and the richer [`Event`].

#[cfg(windows)]
use crate::source::RawSource as RawFd;
use crate::{sys, word, Readiness};
use std::fmt;
#[cfg(unix)]
use std::os::fd::RawFd;

/// Application-defined role for a registered file descriptor.
///
/// It is stored with the registration and returned with every event for that fd.
///
/// One byte: `Server` is 0 and `Client` is 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum EventKind {
    /// A listening / server socket.
    Server,
    /// A connected client socket.
    Client,
}

/// A registered file descriptor and its application-defined role (the pollio 0.1.3 API).
///
/// Construct with [`EventObject::server`] or [`EventObject::client`] and pass it to
/// [`Poller::add`](crate::Poller::add); [`Poller::wait`](crate::Poller::wait) returns the same
/// `fd` and `kind` when the fd is ready. For keys, interests and readiness flags use
/// [`Registration`](crate::Registration) and [`Event`].
///
/// Laid out as in C: the fd at offset 0 and the kind's byte at offset 4, eight bytes in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct EventObject {
    /// The raw file descriptor being polled.
    pub fd: RawFd,
    /// The role assigned when the FD was registered.
    pub kind: EventKind,
}

impl EventObject {
    const SERVER_TAG: usize = 1;
    const CLIENT_TAG: usize = 2;

    /// An object for `fd` as a server (listening) socket.
    pub fn server(fd: RawFd) -> Self {
        Self {
            fd,
            kind: EventKind::Server,
        }
    }

    /// An object for `fd` as a client (connected) socket.
    pub fn client(fd: RawFd) -> Self {
        Self {
            fd,
            kind: EventKind::Client,
        }
    }

    /// Packs `fd` and `kind` into one word, in pollio 0.1.3's format.
    ///
    /// The low 8 bits hold the kind tag (1 = server, 2 = client) and the fd sits above them.
    /// The poller itself no longer stores this word in the kernel (it packs a key too), but the
    /// format is kept so words saved by 0.1.3 code still decode.
    ///
    /// ```
    /// use pollio::EventObject;
    ///
    /// let obj = EventObject::client(7);
    /// assert_eq!(obj.encode(), (7 << 8) | 2);
    /// assert_eq!(EventObject::decode(obj.encode()), obj);
    /// ```
    pub fn encode(self) -> usize {
        let tag = match self.kind {
            EventKind::Server => Self::SERVER_TAG,
            EventKind::Client => Self::CLIENT_TAG,
        };
        ((self.fd as usize) << 8) | tag
    }

    /// Unpacks a word made by [`encode`](Self::encode).
    ///
    /// Every word decodes without panicking: the fd is the bits above the low 8 (truncated to
    /// `RawFd`), and a tag other than server's is read as [`EventKind::Client`]. Use
    /// [`try_decode`](Self::try_decode) to reject words `encode` never produces.
    pub fn decode(data: usize) -> Self {
        Self::try_decode(data).unwrap_or(Self {
            fd: (data >> 8) as RawFd,
            kind: EventKind::Client,
        })
    }

    /// Unpacks a word made by [`encode`](Self::encode), or `None` if its tag is unknown.
    ///
    /// ```
    /// use pollio::EventObject;
    ///
    /// assert_eq!(EventObject::try_decode(0x0300), None);
    /// assert_eq!(EventObject::try_decode(0x0301), Some(EventObject::server(3)));
    /// ```
    pub fn try_decode(data: usize) -> Option<Self> {
        let kind = match data & 0xff {
            Self::SERVER_TAG => EventKind::Server,
            Self::CLIENT_TAG => EventKind::Client,
            _ => return None,
        };
        Some(Self {
            fd: (data >> 8) as RawFd,
            kind,
        })
    }
}

/// One readiness event: the fd, kind and key it was registered with, and what is ready.
///
/// Returned by [`Poller::poll`](crate::Poller::poll) in a slice that borrows the kernel's own
/// event buffer: reading an event decodes it in place, nothing is copied.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use pollio::{Interest, OsPoller, Poller, Registration};
/// use std::io::Write;
/// use std::os::fd::AsFd;
/// use std::os::unix::net::UnixStream;
///
/// let mut poller = OsPoller::new()?;
/// let (a, mut b) = UnixStream::pair()?;
/// poller.register(a.as_fd(), Registration::client(7).with_interest(Interest::READABLE))?;
/// b.write_all(b"x")?;
///
/// let events = poller.poll(None)?;
/// assert_eq!(events[0].key(), 7);
/// assert!(events[0].readiness().is_readable());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct Event(pub(crate) sys::RawEvent);

impl Event {
    #[inline]
    fn word(&self) -> u64 {
        sys::event_word(&self.0)
    }

    /// The registered fd.
    #[inline]
    pub fn fd(&self) -> RawFd {
        word::fd(self.word())
    }

    /// The registered kind.
    #[inline]
    pub fn kind(&self) -> EventKind {
        word::kind(self.word())
    }

    /// The registered key.
    #[inline]
    pub fn key(&self) -> u32 {
        word::key(self.word())
    }

    /// The registration's 64-bit token: the value given to
    /// [`Registration::with_token`](crate::Registration::with_token). For a registration
    /// without one, it is the word pollio packed the fd, kind and key into: opaque, but the
    /// same for every event of that registration.
    #[inline]
    pub fn token(&self) -> u64 {
        self.word()
    }

    /// What the kernel reported as ready.
    #[inline]
    pub fn readiness(&self) -> Readiness {
        sys::event_readiness(&self.0)
    }

    /// The fd and kind as the seed API's [`EventObject`].
    #[inline]
    pub fn object(&self) -> EventObject {
        EventObject {
            fd: self.fd(),
            kind: self.kind(),
        }
    }

    /// True when this is the poller's own wake-up event (filtered out before callers see it).
    #[inline]
    pub(crate) fn is_wake(&self) -> bool {
        self.word() == word::WAKE
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("fd", &self.fd())
            .field("kind", &self.kind())
            .field("key", &self.key())
            .field("readiness", &self.readiness())
            .finish()
    }
}
