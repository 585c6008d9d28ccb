//! A poller written against pollio 0.1.3's trait: it implements only the four required
//! methods. That this compiles proves every later method has a default body; the tests below
//! check what those defaults do.

use crate::support::fd::{AsFd, AsRawFd, RawFd};
use crate::support::{unix_pair, PATIENCE};
use pollio::{EventObject, Interest, Mode, OsPoller, Poller, Registration};
use std::io::{self, ErrorKind, Write};
use std::time::{Duration, Instant};

/// A user's own `Poller`, as 0.1.3 code would write it.
pub struct SeedOnly {
    inner: OsPoller,
}

impl Poller for SeedOnly {
    fn new() -> io::Result<Self> {
        Ok(SeedOnly {
            inner: OsPoller::new()?,
        })
    }

    fn add(&self, event: EventObject) -> io::Result<()> {
        self.inner.add(event)
    }

    fn delete(&self, fd: RawFd) -> io::Result<()> {
        self.inner.delete(fd)
    }

    fn wait(&mut self, timeout_ms: i32) -> io::Result<&[EventObject]> {
        self.inner.wait(timeout_ms)
    }
}

/// The defaults that can be built on the four seed methods work: `add_with` and `register`
/// of a seed-equivalent registration, `deregister`, and `wait_timeout`.
#[test]
#[cfg_attr(
    miri,
    ignore = "the seed add is level-triggered, which Miri's epoll rejects"
)]
fn defaults_built_on_the_seed_methods_work() {
    let mut poller = SeedOnly::new().expect("new");
    let (a, mut b) = unix_pair();
    let fd = a.as_raw_fd();
    poller
        .add_with(fd, Registration::client(0))
        .expect("add_with of what add can express");
    b.write_all(b"x").expect("write");
    let objects = poller.wait_timeout(Some(PATIENCE)).expect("wait_timeout");
    assert_eq!(objects, [EventObject::client(fd)]);
    poller.deregister(a.as_fd()).expect("deregister");
    assert!(poller.wait(0).expect("wait").is_empty());
    poller
        .register(a.as_fd(), Registration::server(0))
        .expect("register of what add can express");
    assert_eq!(poller.wait(0).expect("wait"), [EventObject::server(fd)]);
}

/// `wait_timeout`'s default rounds sub-millisecond timeouts up, never down to a busy 0 ms.
#[test]
fn default_wait_timeout_rounds_up() {
    let mut poller = SeedOnly::new().expect("new");
    let timeout = Duration::from_micros(100);
    let start = Instant::now();
    assert!(poller.wait_timeout(Some(timeout)).expect("wait").is_empty());
    assert!(
        start.elapsed() >= Duration::from_millis(1),
        "not rounded up"
    );
}

/// What the four seed methods cannot express is refused with `Unsupported`, not ignored.
#[test]
fn defaults_refuse_what_the_seed_cannot_do() {
    let mut poller = SeedOnly::new().expect("new");
    let (a, _b) = unix_pair();
    let fd = a.as_raw_fd();
    let unsupported = |r: io::Result<()>| assert_eq!(r.unwrap_err().kind(), ErrorKind::Unsupported);
    unsupported(poller.add_with(fd, Registration::client(5)));
    unsupported(poller.add_with(fd, Registration::client(0).with_mode(Mode::Edge)));
    unsupported(poller.add_with(
        fd,
        Registration::client(0).with_interest(Interest::WRITABLE),
    ));
    unsupported(poller.modify(fd, Registration::client(0)));
    unsupported(poller.reregister(a.as_fd(), Registration::client(0)));
    assert_eq!(error_kind(poller.poll(None)), ErrorKind::Unsupported);
    assert_eq!(error_kind(poller.waker()), ErrorKind::Unsupported);
    assert_eq!(error_kind(poller.registry()), ErrorKind::Unsupported);
    let reg = Registration::client(1);
    assert_eq!(error_kind(poller.timer(reg)), ErrorKind::Unsupported);
    assert_eq!(
        error_kind(poller.signal(SIGALRM, reg)),
        ErrorKind::Unsupported
    );
    assert_eq!(
        error_kind(poller.pid_exit(std::process::id(), reg)),
        ErrorKind::Unsupported
    );
    assert_eq!(
        error_kind(SeedOnly::with_capacity(8)),
        ErrorKind::Unsupported
    );
    // Nothing above registered the fd.
    assert_eq!(error_kind(poller.delete(fd)), ErrorKind::NotFound);
}

/// The kind of an error that must have happened.
/// A signal number to ask for (Windows has no signals, and libc no `SIGALRM` there).
#[cfg(unix)]
const SIGALRM: i32 = libc::SIGALRM;
#[cfg(windows)]
const SIGALRM: i32 = 14;

fn error_kind<T>(result: io::Result<T>) -> ErrorKind {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(err) => err.kind(),
    }
}
