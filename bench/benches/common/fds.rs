//! Socket pairs and single-byte I/O on them.
//!
//! On Unix a pair is an AF_UNIX stream socket pair; on Windows, which has no socketpair and
//! whose pollers watch sockets only, it is a TCP connection over loopback.

use pollio::{AsSource, BorrowedSource};
#[cfg(unix)]
use std::os::fd::{AsRawFd, OwnedFd};
#[cfg(unix)]
use std::os::unix::net::UnixStream;

/// One end of a pair: an owned fd on Unix, a TCP socket on Windows.
#[cfg(unix)]
pub type End = OwnedFd;
/// One end of a pair: an owned fd on Unix, a TCP socket on Windows.
#[cfg(windows)]
pub type End = std::net::TcpStream;

/// A nonblocking socket pair: the poller watches `watched`, the benchmark writes to `peer`.
pub struct Pair {
    pub watched: End,
    pub peer: End,
}

impl Pair {
    #[cfg(unix)]
    pub fn new() -> Pair {
        let (watched, peer) = UnixStream::pair().expect("socketpair");
        watched.set_nonblocking(true).expect("nonblocking");
        peer.set_nonblocking(true).expect("nonblocking");
        Pair {
            watched: watched.into(),
            peer: peer.into(),
        }
    }

    /// A loopback TCP connection, without Nagle's delay so a one-byte write goes out at once.
    #[cfg(windows)]
    pub fn new() -> Pair {
        use std::net::{TcpListener, TcpStream};
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let peer = TcpStream::connect(listener.local_addr().expect("local_addr")).expect("connect");
        let (watched, _) = listener.accept().expect("accept");
        for end in [&watched, &peer] {
            end.set_nodelay(true).expect("nodelay");
            end.set_nonblocking(true).expect("nonblocking");
        }
        Pair { watched, peer }
    }

    pub fn watched(&self) -> BorrowedSource<'_> {
        self.watched.as_source()
    }
}

/// `count` fresh pairs.
pub fn pairs(count: usize) -> Vec<Pair> {
    (0..count).map(|_| Pair::new()).collect()
}

/// Writes one byte; it must fit.
#[cfg(unix)]
#[inline]
pub fn send_byte(end: &End, byte: u8) {
    // SAFETY: writes one byte from a live local.
    let n = unsafe { libc::write(end.as_raw_fd(), (&byte as *const u8).cast(), 1) };
    assert_eq!(n, 1, "write: {}", std::io::Error::last_os_error());
}

/// Reads one byte; one must be there.
#[cfg(unix)]
#[inline]
pub fn recv_byte(end: &End) -> u8 {
    let mut byte = 0u8;
    // SAFETY: reads at most one byte into a live local.
    let n = unsafe { libc::read(end.as_raw_fd(), (&mut byte as *mut u8).cast(), 1) };
    assert_eq!(n, 1, "read: {}", std::io::Error::last_os_error());
    byte
}

/// Reads whatever is there, up to a buffer's worth; something must be.
#[cfg(unix)]
pub fn drain(end: &End) {
    let mut buf = [0u8; 256];
    // SAFETY: reads at most `buf.len()` bytes into a live local buffer.
    let n = unsafe { libc::read(end.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    assert!(n > 0, "read: {}", std::io::Error::last_os_error());
}

/// Writes one byte; it must fit.
#[cfg(windows)]
#[inline]
pub fn send_byte(mut end: &End, byte: u8) {
    use std::io::Write;
    assert_eq!(end.write(&[byte]).expect("send"), 1);
}

/// Reads one byte; one must be there.
#[cfg(windows)]
#[inline]
pub fn recv_byte(mut end: &End) -> u8 {
    use std::io::Read;
    let mut byte = [0u8];
    assert_eq!(end.read(&mut byte).expect("recv"), 1);
    byte[0]
}

/// Reads whatever is there, up to a buffer's worth; something must be.
#[cfg(windows)]
pub fn drain(mut end: &End) {
    use std::io::Read;
    let mut buf = [0u8; 256];
    assert!(end.read(&mut buf).expect("recv") > 0);
}
