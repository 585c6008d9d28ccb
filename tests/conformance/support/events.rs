//! Collecting events, and the checks tests end with.

use super::fds::{send, unix_pair};
use crate::support::fd::{AsRawFd, RawFd};
use pollio::{Event, EventKind, Mode, Poller, Readiness, Registration};
use std::time::{Duration, Instant};

/// How long a test waits for something that should happen at once. Generous, because the
/// machine may be busy, and more so under Miri, which interprets the program about a hundred
/// times slower; a passing test never waits this long.
pub const PATIENCE: Duration = Duration::from_secs(if cfg!(miri) { 30 } else { 5 });

/// The mode of registrations whose mode is not what a test is about, and which pass in
/// either mode: level-triggered, like `Registration`'s default, except under Miri, whose
/// epoll accepts edge-triggered registrations only.
pub const INCIDENTAL_MODE: Mode = if cfg!(miri) { Mode::Edge } else { Mode::Level };

/// `timeout`, rounded up to whole milliseconds under Miri: Miri does not implement
/// epoll_pwait2, which pollio calls for a timeout finer than a millisecond. Rounding up only
/// ever makes a wait longer.
pub fn millis_under_miri(timeout: Duration) -> Duration {
    if cfg!(miri) {
        let millis = timeout.as_nanos().div_ceil(1_000_000);
        Duration::from_millis(u64::try_from(millis).expect("a test-sized timeout"))
    } else {
        timeout
    }
}

/// A [`Readiness`] as plain flags, so events from two waits or two filters can be merged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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

impl From<Readiness> for Flags {
    fn from(r: Readiness) -> Flags {
        Flags {
            readable: r.is_readable(),
            writable: r.is_writable(),
            read_closed: r.is_read_closed(),
            write_closed: r.is_write_closed(),
            error: r.is_error(),
            priority: r.is_priority(),
            read_hang_up: r.is_read_hang_up(),
            hang_up: r.is_hang_up(),
        }
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, o: Flags) -> Flags {
        Flags {
            readable: self.readable || o.readable,
            writable: self.writable || o.writable,
            read_closed: self.read_closed || o.read_closed,
            write_closed: self.write_closed || o.write_closed,
            error: self.error || o.error,
            priority: self.priority || o.priority,
            read_hang_up: self.read_hang_up || o.read_hang_up,
            hang_up: self.hang_up || o.hang_up,
        }
    }
}

/// One event copied out of the poller's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    pub fd: RawFd,
    pub kind: EventKind,
    pub key: u32,
    pub ready: Flags,
}

impl From<&Event> for Seen {
    fn from(event: &Event) -> Seen {
        Seen {
            fd: event.fd(),
            kind: event.kind(),
            key: event.key(),
            ready: event.readiness().into(),
        }
    }
}

/// One `poll` with `timeout` (in whole milliseconds under Miri), its events copied out.
pub fn poll_for<P: Poller>(poller: &mut P, timeout: Duration) -> Vec<Seen> {
    let events = poller.poll(Some(millis_under_miri(timeout))).expect("poll");
    events.iter().map(Seen::from).collect()
}

/// One `poll` that does not block.
pub fn poll_now<P: Poller>(poller: &mut P) -> Vec<Seen> {
    poll_for(poller, Duration::ZERO)
}

/// The events for `fd` in one wait, merged into one: a backend may report read and write
/// readiness of one fd as two events.
pub fn merged(events: &[Seen], fd: RawFd) -> Option<Seen> {
    let mut found = events.iter().filter(|e| e.fd == fd);
    let first = *found.next()?;
    Some(found.fold(first, |acc, e| {
        assert_eq!(
            (e.kind, e.key),
            (acc.kind, acc.key),
            "one fd, two registrations"
        );
        Seen {
            ready: acc.ready | e.ready,
            ..acc
        }
    }))
}

/// Polls until a wait reports `fd`, and returns that wait's (merged) event for it. Panics
/// after [`PATIENCE`].
pub fn next_event_for<P: Poller>(poller: &mut P, fd: RawFd) -> Seen {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let now = Instant::now();
        assert!(now < deadline, "no event for fd {fd} within {PATIENCE:?}");
        let events = poll_for(poller, deadline - now);
        if let Some(seen) = merged(&events, fd) {
            return seen;
        }
    }
}

/// Polls until a wait reports `fd` with readiness that satisfies `wanted` (earlier events for
/// `fd` are skipped), and returns that event. Panics after [`PATIENCE`].
pub fn event_for_until<P: Poller>(
    poller: &mut P,
    fd: RawFd,
    wanted: impl Fn(Flags) -> bool,
) -> Seen {
    let deadline = Instant::now() + PATIENCE;
    let mut last = None;
    loop {
        let now = Instant::now();
        assert!(
            now < deadline,
            "fd {fd} never got there; last event: {last:?}"
        );
        let events = poll_for(poller, deadline - now);
        if let Some(seen) = merged(&events, fd) {
            if wanted(seen.ready) {
                return seen;
            }
            last = Some(seen);
        }
    }
}

/// Asserts that nothing is ready right now.
pub fn assert_quiet<P: Poller>(poller: &mut P) {
    let events = poll_now(poller);
    assert!(events.is_empty(), "expected no events, got {events:?}");
}

/// Asserts that nothing is ready for `fd` right now.
pub fn assert_quiet_for<P: Poller>(poller: &mut P, fd: RawFd) {
    let events = poll_now(poller);
    assert_eq!(merged(&events, fd), None, "expected no event for fd {fd}");
}

/// The key [`assert_usable`] registers with, unlikely to collide with a test's own keys.
const USABLE_KEY: u32 = 0x5eed_0001;

/// Asserts that `poller` still registers, reports and deletes: the end of every error test.
pub fn assert_usable<P: Poller>(poller: &mut P) {
    let (a, b) = unix_pair();
    let fd = a.as_raw_fd();
    let reg = Registration::client(USABLE_KEY).with_mode(INCIDENTAL_MODE);
    poller.add_with(fd, reg).expect("register after an error");
    send(&b, b"u");
    let seen = next_event_for(poller, fd);
    assert_eq!((seen.kind, seen.key), (EventKind::Client, USABLE_KEY));
    assert!(seen.ready.readable);
    poller.delete(fd).expect("delete after an error");
    assert_quiet_for(poller, fd);
}
