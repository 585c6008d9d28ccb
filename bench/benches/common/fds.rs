//! Socket pairs and single-byte I/O on raw fds.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;

/// A nonblocking AF_UNIX stream socket pair: the poller watches `watched`, the benchmark writes
/// to `peer`.
pub struct Pair {
    pub watched: OwnedFd,
    pub peer: OwnedFd,
}

impl Pair {
    pub fn new() -> Pair {
        let (watched, peer) = UnixStream::pair().expect("socketpair");
        watched.set_nonblocking(true).expect("nonblocking");
        peer.set_nonblocking(true).expect("nonblocking");
        Pair {
            watched: watched.into(),
            peer: peer.into(),
        }
    }

    pub fn watched(&self) -> BorrowedFd<'_> {
        self.watched.as_fd()
    }
}

/// `count` fresh pairs.
pub fn pairs(count: usize) -> Vec<Pair> {
    (0..count).map(|_| Pair::new()).collect()
}

/// Writes one byte; it must fit.
#[inline]
pub fn send_byte(fd: BorrowedFd<'_>, byte: u8) {
    // SAFETY: writes one byte from a live local.
    let n = unsafe { libc::write(fd.as_raw_fd(), (&byte as *const u8).cast(), 1) };
    assert_eq!(n, 1, "write: {}", std::io::Error::last_os_error());
}

/// Reads one byte; one must be there.
#[inline]
pub fn recv_byte(fd: BorrowedFd<'_>) -> u8 {
    let mut byte = 0u8;
    // SAFETY: reads at most one byte into a live local.
    let n = unsafe { libc::read(fd.as_raw_fd(), (&mut byte as *mut u8).cast(), 1) };
    assert_eq!(n, 1, "read: {}", std::io::Error::last_os_error());
    byte
}
