//! I/O safety: borrowed-fd entry points, and pollio never closing what it was given.

use crate::support::fd::{AsFd, AsRawFd};
use crate::support::{assert_quiet_for, next_event_for, send, unix_pair, INCIDENTAL_MODE};
#[cfg(unix)]
use crate::support::{drain, is_open, pipe};
use pollio::{EventKind, Poller, Registration};

/// `register`, `reregister` and `deregister` take a `BorrowedFd` and act on that fd.
pub fn borrowed_fd_entry_points<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (a, b) = unix_pair();
    let fd = a.as_raw_fd();
    let reg = Registration::client(1).with_mode(INCIDENTAL_MODE);
    poller.register(a.as_fd(), reg).expect("register");
    send(&b, b"x");
    assert_eq!(next_event_for(&mut poller, fd).key, 1);
    poller
        .reregister(
            a.as_fd(),
            Registration::server(2).with_mode(INCIDENTAL_MODE),
        )
        .expect("reregister");
    let seen = next_event_for(&mut poller, fd);
    assert_eq!((seen.kind, seen.key), (EventKind::Server, 2));
    poller.deregister(a.as_fd()).expect("deregister");
    assert_quiet_for(&mut poller, fd);
}

#[cfg(unix)]
/// A `Registry` takes anything that is `AsFd`: a socket by reference, an `OwnedFd`, a
/// `BorrowedFd`.
pub fn registry_takes_as_fd<P: Poller>() {
    let mut poller = P::new().expect("new");
    let registry = poller.registry().expect("registry");
    let (read_end, write_end) = pipe();
    let fd = read_end.as_raw_fd();
    let reg = Registration::client(3).with_mode(INCIDENTAL_MODE);
    registry
        .register(read_end.as_fd(), reg)
        .expect("register &OwnedFd");
    let writer = std::fs::File::from(write_end);
    send(&writer, b"x");
    assert_eq!(next_event_for(&mut poller, fd).key, 3);
    registry
        .reregister(read_end.as_fd(), reg.with_key(4))
        .expect("reregister BorrowedFd");
    assert_eq!(next_event_for(&mut poller, fd).key, 4);
    registry.deregister(read_end.as_fd()).expect("deregister");
    assert_quiet_for(&mut poller, fd);
}

#[cfg(unix)]
/// Dropping the poller, its registries and wakers, or deregistering, never closes a
/// registered fd: it stays open and usable.
pub fn never_closes_registered_fds<P: Poller>() {
    let (a, b) = unix_pair();
    let fd = a.as_raw_fd();
    {
        let poller = P::new().expect("new");
        let registry = poller.registry().expect("registry");
        let waker = poller.waker().expect("waker");
        poller
            .register(
                a.as_fd(),
                Registration::client(1).with_mode(INCIDENTAL_MODE),
            )
            .expect("register");
        drop(registry);
        drop(waker);
    }
    assert!(is_open(fd));
    {
        let poller = P::new().expect("new");
        poller
            .register(
                a.as_fd(),
                Registration::client(2).with_mode(INCIDENTAL_MODE),
            )
            .expect("register");
        poller.deregister(a.as_fd()).expect("deregister");
        assert!(is_open(fd));
    }
    send(&b, b"still here");
    assert_eq!(drain(&a), b"still here");
}

#[cfg(unix)]
/// The kernel queue's fd is close-on-exec from the moment the poller exists (on every
/// backend; the Linux-only `fd_leaks` test also checks the waker's descriptor).
pub fn poller_fd_is_close_on_exec<P: Poller + AsRawFd>() {
    let poller = P::new().expect("new");
    let _waker = poller.waker().expect("waker");
    // SAFETY: F_GETFD only reads the descriptor table of a descriptor the poller keeps open.
    let flags = unsafe { libc::fcntl(poller.as_raw_fd(), libc::F_GETFD) };
    assert!(flags != -1, "the poller's fd is not open");
    assert_ne!(
        flags & libc::FD_CLOEXEC,
        0,
        "the poller's fd is not close-on-exec"
    );
}

backend_tests!(
    borrowed_fd_entry_points,
    #[cfg(unix)]
    poller_fd_is_close_on_exec,
    #[cfg(unix)]
    registry_takes_as_fd,
    #[cfg(unix)]
    never_closes_registered_fds,
);
