//! Everything a registration carries besides the fd.

use crate::{EventKind, Interest, Mode};

/// How an fd is registered: its kind and key (returned with every event), the readiness it is
/// interested in, and its [`Mode`].
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
        }
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
}
