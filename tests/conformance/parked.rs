//! Parked registrations: an empty interest registers the fd without asking for any readiness,
//! so a runtime can register a source when it is created and arm it with `modify` when a task
//! first waits on it.
//!
//! What a parked fd still reports differs by backend, and each test asserts both: epoll always
//! reports hang-up and error (it adds `EPOLLHUP | EPOLLERR` to every mask), and so does poll(2)
//! (it reports `POLLHUP | POLLERR` for an fd polled with no events); kqueue reports nothing
//! (pollio parks the fd as a disabled read filter), and neither does Windows (a parked socket
//! has no AFD poll in flight).

use crate::errors::errno_of;
use crate::support::errno::{EEXIST, ENOENT};
use crate::support::fd::{AsFd, AsRawFd};
use crate::support::{
    assert_quiet_for, backend_of, next_event_for, send, unix_pair, INCIDENTAL_MODE,
};
#[cfg(unix)]
use crate::support::{duplicate_at, free_fd_number_for};
use pollio::{Backend, Interest, Mode, Poller, Registration};

fn parked(key: u32) -> Registration {
    Registration::client(key)
        .with_interest(Interest::NONE)
        .with_mode(INCIDENTAL_MODE)
}

/// Added with no interest, a readable and writable socket reports nothing; `modify` arms it,
/// and the event carries the new registration's key.
pub fn parked_add_reports_nothing_until_armed<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (a, b) = unix_pair();
    let fd = a.as_raw_fd();
    poller.register(a.as_fd(), parked(1)).expect("park");
    send(&b, b"data");
    assert_quiet_for(&mut poller, fd);
    poller
        .reregister(
            a.as_fd(),
            Registration::client(2)
                .with_interest(Interest::BOTH)
                .with_mode(INCIDENTAL_MODE),
        )
        .expect("arm");
    let seen = next_event_for(&mut poller, fd);
    assert_eq!(seen.key, 2);
    assert!(seen.ready.readable && seen.ready.writable, "{seen:?}");
}

/// `modify` to an empty interest parks an armed registration, in every mode, and the fd stays
/// registered: adding it again is `EEXIST`, deleting it works once.
pub fn modify_to_empty_parks<P: Poller>() {
    for mode in [Mode::Level, Mode::Edge, Mode::Oneshot, Mode::EdgeOneshot] {
        let mut poller = P::new().expect("new");
        let (a, b) = unix_pair();
        let fd = a.as_raw_fd();
        poller
            .add_with(fd, Registration::client(3).with_mode(mode))
            .expect("add_with");
        poller.modify(fd, parked(4).with_mode(mode)).expect("park");
        send(&b, b"x");
        assert_quiet_for(&mut poller, fd);
        assert_eq!(errno_of(poller.add_with(fd, parked(5))), EEXIST, "{mode:?}");
        poller
            .modify(fd, Registration::client(6).with_mode(mode))
            .expect("arm");
        assert_eq!(next_event_for(&mut poller, fd).key, 6, "{mode:?}");
        poller.delete(fd).expect("delete");
        assert_eq!(errno_of(poller.delete(fd)), ENOENT, "{mode:?}");
    }
}

/// When the peer closes: epoll and poll report the parked fd as hung up (they always report
/// hang-up); kqueue and Windows report nothing.
pub fn parked_fd_and_hang_up<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (a, b) = unix_pair();
    let fd = a.as_raw_fd();
    poller.register(a.as_fd(), parked(7)).expect("park");
    drop(b);
    if matches!(backend_of::<P>(), Backend::Epoll | Backend::Poll) {
        let seen = next_event_for(&mut poller, fd);
        assert_eq!(seen.key, 7);
        assert!(
            seen.ready.read_closed && seen.ready.write_closed,
            "{seen:?}"
        );
        assert!(!seen.ready.readable && !seen.ready.writable, "{seen:?}");
    } else {
        assert_quiet_for(&mut poller, fd);
    }
}

#[cfg(unix)]
/// Closing a parked fd ends its registration like any other: delete then says `EBADF`.
pub fn closing_a_parked_fd_ends_it<P: Poller>() {
    let poller = P::new().expect("new");
    let (a, _b) = unix_pair();
    // A number no concurrent test is handed, so none reopens it before the delete.
    let only_copy = duplicate_at(&a, free_fd_number_for::<P>(5));
    drop(a);
    let fd = only_copy.as_raw_fd();
    poller.add_with(fd, parked(8)).expect("park");
    drop(only_copy);
    assert_eq!(errno_of(poller.delete(fd)), libc::EBADF);
}

backend_tests!(
    parked_add_reports_nothing_until_armed,
    #[cfg_attr(
        miri,
        ignore = "it parks every mode; Miri's epoll accepts edge-triggered only"
    )]
    modify_to_empty_parks,
    parked_fd_and_hang_up,
    #[cfg(unix)]
    closing_a_parked_fd_ends_it,
);
