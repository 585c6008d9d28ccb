//! The systems whose only backend is poll(2) have no timer, signal or child-exit sources: each
//! constructor answers `Unsupported`, and the poller stays usable.

use crate::support::{next_event_for, send, unix_pair};
use pollio::{Poller, Registration};
use std::io::ErrorKind;
use std::os::fd::AsRawFd;

pub fn every_source_is_unsupported<P: Poller>() {
    let mut poller = P::new().expect("new");
    let kinds = [
        poller.timer(Registration::client(1)).map(drop),
        poller
            .signal(libc::SIGUSR1, Registration::client(2))
            .map(drop),
        poller.pid_exit(1, Registration::client(3)).map(drop),
    ];
    for result in kinds {
        assert_eq!(
            result.expect_err("no sources here").kind(),
            ErrorKind::Unsupported
        );
    }
    let (a, b) = unix_pair();
    poller
        .add_with(a.as_raw_fd(), Registration::client(4))
        .expect("add_with");
    send(&b, b"x");
    assert_eq!(next_event_for(&mut poller, a.as_raw_fd()).key, 4);
}

backend_tests!(every_source_is_unsupported);
