//! The reference the model checks pollio against: what poll(2) reports as ready right now, and
//! which events each registration is owed (must be reported) or allowed (may be reported).
//!
//! poll(2) and epoll ask a file the same question (its `poll` method), so with no other thread
//! touching the descriptors, a wait and a poll(2) call made just after it see the same state.
//!
//! Level-triggered registrations (and oneshot ones not yet fired) are checked exactly: reported
//! if and only if poll(2) shows something they are interested in. So are edge-triggered ones
//! on pollio's poll(2) backend, which reports them as level-triggered (`edge_as_level`).
//! Elsewhere edge-triggered ones get a lower and an upper bound:
//!
//! - **owed**: the fd is ready now and became ready (a bit of its mask rose) since the
//!   registration, or was ready when it was (re)registered, and that has not been reported yet.
//!   A file must wake its waiters whenever readiness appears, or blocking poll(2) would hang,
//!   so epoll is guaranteed to have queued it.
//! - **allowed**: the fd is ready now, and it is owed or something happened to the socket pair
//!   since the last wait. The kernel may report an edge again on new data even when the fd was
//!   already readable, so this bound is looser than "owed".
//!
//! Every reported event must carry exactly the readiness poll(2) shows, limited to the
//! registration's mask: epoll computes an event's flags when it hands the event out.

use pollio::{Event, Interest, Readiness, Registration};
use std::os::fd::RawFd;

/// What the oracle asks poll(2) about; `POLLHUP` and `POLLERR` are always reported.
const QUERY: libc::c_short = libc::POLLIN | libc::POLLOUT | libc::POLLRDHUP | libc::POLLPRI;

/// poll(2) with a zero timeout on one fd: its readiness bits (the same values as epoll's).
pub fn poll_state(fd: RawFd) -> u32 {
    let mut pfd = libc::pollfd {
        fd,
        events: QUERY,
        revents: 0,
    };
    loop {
        // SAFETY: one valid, writable pollfd and a count of 1; a zero timeout never blocks.
        let n = unsafe { libc::poll(&mut pfd, 1, 0) };
        if n >= 0 {
            return pfd.revents as u16 as u32;
        }
        let err = std::io::Error::last_os_error();
        assert_eq!(
            err.kind(),
            std::io::ErrorKind::Interrupted,
            "poll(2) failed: {err}"
        );
    }
}

/// The epoll bits a registration with `interest` can report, as the backend asks for them
/// (readable includes peer hang-up) plus the two the kernel always adds.
pub fn mask(interest: Interest) -> u32 {
    let mut mask = (libc::EPOLLERR | libc::EPOLLHUP) as u32;
    if interest.is_readable() {
        mask |= (libc::EPOLLIN | libc::EPOLLRDHUP) as u32;
    }
    if interest.is_writable() {
        mask |= libc::EPOLLOUT as u32;
    }
    if interest.is_priority() {
        mask |= libc::EPOLLPRI as u32;
    }
    mask
}

/// The eight readiness flags pollio reports, as plain booleans so they can be compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flags {
    pub readable: bool,
    pub writable: bool,
    pub read_closed: bool,
    pub write_closed: bool,
    pub error: bool,
    pub priority: bool,
    pub read_hang_up: bool,
    pub hang_up: bool,
}

impl Flags {
    /// The flags the documented epoll mapping gives for these bits.
    pub fn from_bits(bits: u32) -> Flags {
        let has = |flag: libc::c_int| bits & flag as u32 != 0;
        Flags {
            readable: has(libc::EPOLLIN),
            writable: has(libc::EPOLLOUT),
            read_closed: has(libc::EPOLLRDHUP | libc::EPOLLHUP),
            write_closed: has(libc::EPOLLHUP | libc::EPOLLERR),
            error: has(libc::EPOLLERR),
            priority: has(libc::EPOLLPRI),
            read_hang_up: has(libc::EPOLLRDHUP),
            hang_up: has(libc::EPOLLHUP),
        }
    }

    /// The flags pollio reported.
    pub fn of(readiness: Readiness) -> Flags {
        Flags {
            readable: readiness.is_readable(),
            writable: readiness.is_writable(),
            read_closed: readiness.is_read_closed(),
            write_closed: readiness.is_write_closed(),
            error: readiness.is_error(),
            priority: readiness.is_priority(),
            read_hang_up: readiness.is_read_hang_up(),
            hang_up: readiness.is_hang_up(),
        }
    }
}

/// One live registration as the model sees it.
#[derive(Clone, Copy, Debug)]
pub struct Tracked {
    pub reg: Registration,
    /// False once a oneshot registration has fired, until it is modified.
    pub armed: bool,
    /// Edge modes: readiness rose (or was there at registration) and was not reported yet.
    pub pending: bool,
    /// Something happened to the socket pair, or the registration changed, since the last wait.
    pub touched: bool,
    /// The backend reports edge-triggered registrations as level-triggered ones (poll(2)).
    pub edge_as_level: bool,
}

impl Tracked {
    /// A registration made while poll(2) shows `state`, on a backend that reports edges as
    /// levels if `edge_as_level`.
    pub fn new(reg: Registration, state: u32, edge_as_level: bool) -> Tracked {
        let mut tracked = Tracked {
            reg,
            armed: true,
            pending: false,
            touched: true,
            edge_as_level,
        };
        tracked.pending = tracked.ready(state) != 0;
        tracked
    }

    /// A successful modify while poll(2) shows `state`: the kernel re-checks readiness then.
    pub fn modify(&mut self, reg: Registration, state: u32) {
        self.reg = reg;
        self.armed = true;
        self.touched = true;
        self.pending |= self.ready(state) != 0;
    }

    /// The bits of `state` this registration reports.
    pub fn ready(&self, state: u32) -> u32 {
        state & mask(self.reg.interest())
    }

    /// Something was done to the socket pair that took poll(2)'s answer from `before` to
    /// `after`.
    pub fn changed(&mut self, before: u32, after: u32) {
        self.touched = true;
        if self.ready(after) & !self.ready(before) != 0 {
            self.pending = true;
        }
    }

    /// Whether this registration is held to the edge-triggered bounds rather than checked
    /// exactly.
    fn is_edge(&self) -> bool {
        self.reg.mode().is_edge() && !self.edge_as_level
    }

    /// True when a wait that sees `state` must report this registration.
    pub fn owed(&self, state: u32) -> bool {
        if !self.armed || self.ready(state) == 0 {
            return false;
        }
        !self.is_edge() || self.pending
    }

    /// True when a wait that sees `state` may report this registration.
    pub fn allowed(&self, state: u32) -> bool {
        if !self.armed || self.ready(state) == 0 {
            return false;
        }
        !self.is_edge() || self.pending || self.touched
    }

    /// Updates the model after a wait. `truncated`: the wait filled the whole buffer, so the
    /// kernel may not have looked at this registration and it keeps what it was owed.
    pub fn after_wait(&mut self, reported: bool, state: u32, truncated: bool) {
        if reported {
            if self.reg.mode().is_oneshot() {
                self.armed = false;
            }
            self.pending = false;
            self.touched = false;
        } else if !truncated {
            // The kernel looked at it and found nothing: it is off the ready list.
            self.pending = false;
            self.touched = false;
        } else if self.ready(state) == 0 {
            self.pending = false;
        }
    }
}

/// What one reported event said, whichever API returned it.
#[derive(Clone, Copy, Debug)]
pub struct Seen {
    pub fd: RawFd,
    pub kind: pollio::EventKind,
    /// `None` for the seed API, whose `EventObject` has no readiness, key or token.
    pub key: Option<u32>,
    pub token: Option<u64>,
    pub flags: Option<Flags>,
}

impl Seen {
    pub fn of_event(event: &Event) -> Seen {
        Seen {
            fd: event.fd(),
            kind: event.kind(),
            key: Some(event.key()),
            token: Some(event.token()),
            flags: Some(Flags::of(event.readiness())),
        }
    }

    pub fn of_object(object: &pollio::EventObject) -> Seen {
        Seen {
            fd: object.fd,
            kind: object.kind,
            key: None,
            token: None,
            flags: None,
        }
    }

    /// Checks this event against the registration it claims to come from, seen at `state`.
    pub fn check(&self, tracked: &Tracked, state: u32) -> Result<(), String> {
        let reg = tracked.reg;
        // A token registration's event carries the token (it found its slot by it), and its
        // fd, kind and key mean nothing.
        if reg.token().is_none()
            && (self.kind != reg.kind() || self.key.is_some_and(|key| key != reg.key()))
        {
            return Err(format!(
                "fd {} reported as {:?} key {:?}, registered as {:?} key {}",
                self.fd,
                self.kind,
                self.key,
                reg.kind(),
                reg.key()
            ));
        }
        if !tracked.allowed(state) {
            return Err(format!(
                "fd {} reported but not allowed: {tracked:?}, poll(2) shows {state:#x}",
                self.fd
            ));
        }
        if let Some(flags) = self.flags {
            let expected = Flags::from_bits(tracked.ready(state));
            if flags != expected {
                return Err(format!(
                    "fd {} reported {flags:?}, poll(2) shows {state:#x} so expected {expected:?}",
                    self.fd
                ));
            }
        }
        Ok(())
    }
}
