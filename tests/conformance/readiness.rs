//! The readiness flags beyond readable and writable: read closed, write closed, error, and the
//! kernel's own hang-up flags, which tell a half-closed connection from a closed or failed one.

use crate::support::fd::AsRawFd;
use crate::support::{
    drain, event_for_until, next_event_for, send, tcp_pair, unix_pair, INCIDENTAL_MODE,
};
#[cfg(unix)]
use crate::support::{fd::RawFd, try_send};
use pollio::{Interest, Poller, Registration};
#[cfg(unix)]
use std::io::{self, ErrorKind, Read};
use std::net::Shutdown;
#[cfg(unix)]
use std::net::{SocketAddrV4, TcpListener};
#[cfg(unix)]
use std::os::fd::{FromRawFd, OwnedFd};

/// A peer's `shutdown(Write)` shows as readable, read closed and read hung up, while this side
/// can still write: write closed and hang-up are not set.
pub fn read_closed_on_peer_shutdown<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (unix_local, unix_peer) = unix_pair();
    let (tcp_local, tcp_peer) = tcp_pair();
    for (i, fd) in [unix_local.as_raw_fd(), tcp_local.as_raw_fd()]
        .into_iter()
        .enumerate()
    {
        let reg = Registration::client(i as u32).with_interest(Interest::READABLE);
        poller.add_with(fd, reg).expect("add_with");
    }
    unix_peer.shutdown(Shutdown::Write).expect("shutdown");
    tcp_peer.shutdown(Shutdown::Write).expect("shutdown");
    for fd in [unix_local.as_raw_fd(), tcp_local.as_raw_fd()] {
        let seen = next_event_for(&mut poller, fd);
        assert!(seen.ready.readable && seen.ready.read_closed, "{seen:?}");
        assert!(seen.ready.read_hang_up, "{seen:?}");
        assert!(!seen.ready.write_closed && !seen.ready.error, "{seen:?}");
        assert!(!seen.ready.hang_up, "half-closed is not hung up: {seen:?}");
    }
    assert!(drain(&unix_local).is_empty() && drain(&tcp_local).is_empty());
    send(&tcp_local, b"still writable");
    send(&unix_local, b"still writable");
}

/// A peer that closes the connection (TCP FIN) shows as read closed, and a read returns end
/// of stream after the data the peer sent last.
pub fn read_closed_on_peer_close<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (local, peer) = tcp_pair();
    let fd = local.as_raw_fd();
    poller
        .add_with(fd, Registration::server(9).with_mode(INCIDENTAL_MODE))
        .expect("add_with");
    send(&peer, b"last words");
    drop(peer);
    if crate::support::under_wine() {
        // Wine reports a peer's FIN only once no data is left to read (it peeks, and takes
        // end of stream for the hang-up): read the data first, then the close is reported.
        assert!(next_event_for(&mut poller, fd).ready.readable);
        assert_eq!(drain(&local), b"last words");
        let seen = event_for_until(&mut poller, fd, |ready| ready.read_closed);
        assert!(seen.ready.readable && seen.ready.read_hang_up, "{seen:?}");
        return;
    }
    // The data may arrive in a wait before the FIN does.
    let seen = event_for_until(&mut poller, fd, |ready| ready.read_closed);
    assert!(seen.ready.readable, "{seen:?}");
    assert_eq!(seen.key, 9);
    assert_eq!(drain(&local), b"last words");
}

#[cfg(unix)]
/// When a Unix socket's peer is gone, both directions are closed: read closed, write closed
/// and hang-up are reported together.
pub fn write_closed_on_unix_peer_close<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (local, peer) = unix_pair();
    let fd = local.as_raw_fd();
    let reg = Registration::client(10)
        .with_interest(Interest::BOTH)
        .with_mode(INCIDENTAL_MODE);
    poller.add_with(fd, reg).expect("add_with");
    drop(peer);
    let seen = next_event_for(&mut poller, fd);
    assert!(
        seen.ready.read_closed && seen.ready.write_closed,
        "{seen:?}"
    );
    assert!(seen.ready.hang_up && !seen.ready.error, "{seen:?}");
    // Rust programs ignore SIGPIPE, so the write fails instead of killing the process.
    let err = try_send(&local, b"x").expect_err("write to a closed peer");
    assert_eq!(err.kind(), ErrorKind::BrokenPipe);
}

#[cfg(unix)]
/// A non-blocking connect to a port nobody listens on reports error, write closed and hang-up,
/// and the socket's pending error is `ECONNREFUSED`.
pub fn error_on_connection_refused<P: Poller>() {
    let mut poller = P::new().expect("new");
    let socket = connect_in_progress(closed_port());
    let fd = socket.as_raw_fd();
    let reg = Registration::client(11)
        .with_interest(Interest::BOTH)
        .with_mode(INCIDENTAL_MODE);
    poller.add_with(fd, reg).expect("add_with");
    let seen = next_event_for(&mut poller, fd);
    assert!(seen.ready.error && seen.ready.write_closed, "{seen:?}");
    assert!(seen.ready.hang_up, "{seen:?}");
    assert_eq!(seen.key, 11);
    assert_eq!(socket_error(fd), libc::ECONNREFUSED);
}

#[cfg(unix)]
/// A connection the peer resets (`SO_LINGER` 0, then close) reports error, read closed and
/// write closed; a read then fails with `ConnectionReset`.
pub fn error_on_connection_reset<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (local, peer) = tcp_pair();
    let fd = local.as_raw_fd();
    let reg = Registration::client(12).with_interest(Interest::BOTH);
    poller.add_with(fd, reg).expect("add_with");
    let before = next_event_for(&mut poller, fd);
    assert!(before.ready.writable && !before.ready.error, "{before:?}");

    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: passes a live linger struct and its exact size; the socket is open.
    let rc = unsafe {
        libc::setsockopt(
            peer.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "SO_LINGER: {}", io::Error::last_os_error());
    drop(peer);

    // Writable was ready before the reset arrived; wait for the reset itself.
    let seen = event_for_until(&mut poller, fd, |ready| ready.error);
    assert!(
        seen.ready.read_closed && seen.ready.write_closed,
        "{seen:?}"
    );
    let err = (&local).read(&mut [0u8; 8]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionReset);
}

#[cfg(unix)]
/// A loopback port with no listener: bound, then released.
fn closed_port() -> SocketAddrV4 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    match listener.local_addr().expect("local_addr") {
        std::net::SocketAddr::V4(addr) => addr,
        std::net::SocketAddr::V6(_) => unreachable!("bound to 127.0.0.1"),
    }
}

#[cfg(unix)]
/// A non-blocking TCP socket whose connect to `addr` is in progress.
fn connect_in_progress(addr: SocketAddrV4) -> OwnedFd {
    // SAFETY: socket takes no pointers.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0) };
    assert!(fd >= 0, "socket: {}", io::Error::last_os_error());
    // SAFETY: socket just returned this fd and nothing else owns it.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: F_SETFL with an int flag argument on an open fd.
    let rc = unsafe { libc::fcntl(fd, libc::F_SETFL, libc::O_NONBLOCK) };
    assert_eq!(rc, 0, "O_NONBLOCK: {}", io::Error::last_os_error());

    // SAFETY: all-zero is a valid sockaddr_in to fill in.
    let mut sin: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    sin.sin_family = libc::AF_INET as libc::sa_family_t;
    sin.sin_port = addr.port().to_be();
    sin.sin_addr.s_addr = u32::from(*addr.ip()).to_be();
    #[cfg(any(
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly",
        target_os = "haiku",
        target_os = "nto",
    ))]
    {
        // The BSDs' sockaddr (and those derived from it) starts with its own length.
        sin.sin_len = std::mem::size_of::<libc::sockaddr_in>() as u8;
    }
    // SAFETY: `sin` is a live, initialised sockaddr_in and the length is its size.
    let rc = unsafe {
        libc::connect(
            fd,
            (&sin as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    let err = io::Error::last_os_error();
    assert_eq!(rc, -1, "connected to a closed port");
    assert_eq!(
        err.raw_os_error(),
        Some(libc::EINPROGRESS),
        "connect: {err}"
    );
    socket
}

#[cfg(unix)]
/// The socket's pending error (`SO_ERROR`), which reading clears.
fn socket_error(fd: RawFd) -> libc::c_int {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` are live and `len` is the size of `value`.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    assert_eq!(rc, 0, "SO_ERROR: {}", io::Error::last_os_error());
    value
}

backend_tests!(
    #[cfg_attr(miri, ignore = "Miri's socketpair does not implement shutdown(2)")]
    read_closed_on_peer_shutdown,
    read_closed_on_peer_close,
    #[cfg(unix)]
    write_closed_on_unix_peer_close,
    #[cfg(unix)]
    error_on_connection_refused,
    #[cfg_attr(miri, ignore = "Miri's sockets have no SO_LINGER")]
    #[cfg(unix)]
    error_on_connection_reset,
);
