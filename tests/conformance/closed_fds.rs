//! Registered fds closed without a delete: closing ends the registration, and what happens
//! when the fd number is reused by another file.
//!
//! epoll ties a registration to the open file, kqueue and the poll(2) backend to the fd number;
//! all three end it when the (only) fd is closed. poll(2) learns of the close only when it
//! polls the number, so a number reused before that is polled under the old registration: the
//! test asserts each backend's behaviour.

use crate::errors::errno_of;
use crate::support::{
    assert_quiet_for, backend_of, duplicate_at, free_fd_number_for, next_event_for, no_spawning,
    poll_for, send, unix_pair, INCIDENTAL_MODE,
};
use pollio::{Backend, Poller, Registration};
use std::time::{Duration, Instant};

/// A registered fd that is closed (its only copy) is not reported, not even as invalid, and
/// waits stay quiet for their whole timeout; a delete then says `EBADF`.
pub fn a_closed_fd_is_not_reported<P: Poller>() {
    let _no_spawning = no_spawning();
    let mut poller = P::new().expect("new");
    let number = free_fd_number_for::<P>(2);
    let (a, b) = unix_pair();
    let only_copy = duplicate_at(&a, number);
    drop(a);
    poller
        .add_with(number, Registration::client(1).with_mode(INCIDENTAL_MODE))
        .expect("add_with");
    send(&b, b"unread");
    assert_eq!(next_event_for(&mut poller, number).key, 1);
    drop(only_copy);
    for _ in 0..3 {
        let start = Instant::now();
        let timeout = Duration::from_millis(20);
        let events = poll_for(&mut poller, timeout);
        assert!(events.is_empty(), "{events:?}");
        assert!(start.elapsed() >= timeout, "returned early: a busy wait");
    }
    assert_eq!(errno_of(poller.delete(number)), libc::EBADF);
}

/// The number of a closed registered fd, reused by another file before any wait: epoll and
/// kqueue ended the registration, so the new file's data is not reported; the poll(2) backend
/// still polls the number, and reports the new file under the old registration. On every
/// backend, `add` of the number then registers the new file, and `delete` ends it.
pub fn a_number_reused_before_a_wait<P: Poller>() {
    let _no_spawning = no_spawning();
    let mut poller = P::new().expect("new");
    let number = free_fd_number_for::<P>(3);
    let (a, _b) = unix_pair();
    let first = duplicate_at(&a, number);
    drop(a);
    poller
        .add_with(number, Registration::client(1).with_mode(INCIDENTAL_MODE))
        .expect("add_with");
    drop(first);
    let (c, d) = unix_pair();
    let reused = duplicate_at(&c, number);
    drop(c);
    send(&d, b"for the new file");

    let events = poll_for(&mut poller, Duration::from_millis(20));
    let old_key = events.iter().find(|e| e.fd == number).map(|e| e.key);
    if backend_of::<P>() == Backend::Poll {
        assert_eq!(old_key, Some(1), "{events:?}");
    } else {
        assert_eq!(old_key, None, "{events:?}");
    }

    poller
        .add_with(number, Registration::client(2).with_mode(INCIDENTAL_MODE))
        .expect("the new file is not registered yet");
    assert_eq!(next_event_for(&mut poller, number).key, 2);
    poller.delete(number).expect("delete");
    assert_quiet_for(&mut poller, number);
    drop(reused);
}

backend_tests!(a_closed_fd_is_not_reported, a_number_reused_before_a_wait);
