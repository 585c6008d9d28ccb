//! Descriptors to poll, and control over descriptor numbers.
//!
//! On Windows, which has no socketpair, the socket pairs are TCP pairs over loopback, and the
//! helpers about descriptor numbers, pipes and limits do not exist.

use super::fd::AsFd;
#[cfg(unix)]
use std::fs::File;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
#[cfg(unix)]
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
#[cfg(unix)]
use std::path::PathBuf;
#[cfg(unix)]
use std::sync::atomic::{AtomicUsize, Ordering};

/// True when the tests run under Wine (`ci/windows.sh` sets `POLLIO_UNDER_WINE`), so a test
/// that needs what Wine does not do as Windows does can skip itself and say why.
pub fn under_wine() -> bool {
    std::env::var_os("POLLIO_UNDER_WINE").is_some()
}

/// One end of the tests' socket pairs: a Unix socket, or a TCP socket on Windows.
#[cfg(unix)]
pub type Stream = UnixStream;
/// One end of the tests' socket pairs: a Unix socket, or a TCP socket on Windows.
#[cfg(windows)]
pub type Stream = TcpStream;

/// A connected, blocking socket pair.
#[cfg(unix)]
pub fn blocking_pair() -> (Stream, Stream) {
    UnixStream::pair().expect("socketpair")
}

/// A connected, blocking socket pair (TCP over loopback: Windows has no socketpair).
#[cfg(windows)]
pub fn blocking_pair() -> (Stream, Stream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let peer = TcpStream::connect(listener.local_addr().expect("local_addr")).expect("connect");
    let (local, _) = listener.accept().expect("accept");
    local.set_nodelay(true).expect("set_nodelay");
    peer.set_nodelay(true).expect("set_nodelay");
    (local, peer)
}

/// A connected, non-blocking TCP pair on Windows, which has no socketpair.
#[cfg(windows)]
pub fn unix_pair() -> (Stream, Stream) {
    tcp_pair()
}

/// A connected, non-blocking Unix socket pair.
#[cfg(unix)]
pub fn unix_pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().expect("socketpair");
    for end in [&a, &b] {
        set_nonblocking(end);
    }
    (a, b)
}

/// Makes a socket non-blocking, as `set_nonblocking` does.
#[cfg(all(unix, not(miri)))]
fn set_nonblocking(socket: &UnixStream) {
    socket.set_nonblocking(true).expect("set_nonblocking");
}

/// Makes a socket non-blocking through `fcntl`: std's `set_nonblocking` uses an ioctl that
/// Miri's socketpair does not implement.
#[cfg(miri)]
fn set_nonblocking(socket: &UnixStream) {
    let fd = socket.as_raw_fd();
    // SAFETY: F_GETFL takes no argument and only reads the open descriptor's flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    assert!(flags != -1, "F_GETFL: {}", io::Error::last_os_error());
    // SAFETY: F_SETFL with an int flag argument on an open descriptor.
    let rc = unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) };
    assert_eq!(rc, 0, "F_SETFL: {}", io::Error::last_os_error());
}

/// The end to read and write through. Under Miri, a `File` sharing the end's open file
/// description, so the I/O is read(2) and write(2): std's `UnixStream` uses recv(2) and
/// send(2), which Miri's socketpair does not implement.
#[cfg(not(miri))]
fn io_end<T>(end: T) -> T {
    end
}

#[cfg(miri)]
fn io_end(end: impl AsFd) -> File {
    File::from(end.as_fd().try_clone_to_owned().expect("dup"))
}

/// A connected, non-blocking TCP pair on 127.0.0.1: (accepted side, connecting side).
pub fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let peer = TcpStream::connect(listener.local_addr().expect("local_addr")).expect("connect");
    let (local, _) = listener.accept().expect("accept");
    for s in [&local, &peer] {
        s.set_nonblocking(true).expect("set_nonblocking");
        s.set_nodelay(true).expect("set_nodelay");
    }
    (local, peer)
}

/// A pipe: (read end, write end).
#[cfg(unix)]
pub fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [-1; 2];
    // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
    let rc = unsafe { libc::pipe(fds.as_mut_ptr()) };
    assert_eq!(rc, 0, "pipe: {}", io::Error::last_os_error());
    // SAFETY: pipe(2) just created both descriptors and nothing else owns them.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// Writes all of `bytes` to a socket that has room for them.
pub fn send(to: impl Write + AsFd, bytes: &[u8]) {
    try_send(to, bytes).expect("write");
}

/// Writes all of `bytes`, or returns the error that stopped it.
pub fn try_send(to: impl Write + AsFd, bytes: &[u8]) -> io::Result<()> {
    io_end(to).write_all(bytes)
}

/// Writes to a non-blocking socket until its send buffer is full.
pub fn fill(to: impl Write + AsFd) {
    let mut to = io_end(to);
    let chunk = [0u8; 16 * 1024];
    loop {
        match to.write(&chunk) {
            Ok(_) => {}
            Err(err) if err.kind() == ErrorKind::WouldBlock => return,
            Err(err) => panic!("write: {err}"),
        }
    }
}

/// Reads until the socket would block or reaches end of stream; returns the bytes read.
pub fn drain(from: impl Read + AsFd) -> Vec<u8> {
    let mut from = io_end(from);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match from.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(err) if err.kind() == ErrorKind::WouldBlock => return out,
            Err(err) => panic!("read: {err}"),
        }
    }
}

#[cfg(unix)]
/// A descriptor number no other test in this process will be handed: descriptors are
/// allocated lowest first, so numbers near the top of the limit stay free, and each test that
/// needs one passes its own `slot`.
pub fn free_fd_number(slot: RawFd) -> RawFd {
    let fd = fd_limit().min(16384) as RawFd - 1 - slot;
    assert!(!is_open(fd), "fd {fd} is already open");
    fd
}

/// The soft limit on descriptor numbers.
#[cfg(all(unix, not(miri)))]
fn fd_limit() -> libc::rlim_t {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a live rlimit for getrlimit to fill.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(rc, 0, "getrlimit: {}", io::Error::last_os_error());
    limit.rlim_cur
}

/// Miri has no getrlimit and no descriptor limit; 1,024 is the usual soft limit.
#[cfg(miri)]
fn fd_limit() -> libc::rlim_t {
    1024
}

#[cfg(unix)]
/// True when `fd` is an open descriptor of this process.
pub fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only reads the descriptor table; any number is safe to ask about.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

#[cfg(unix)]
/// A duplicate of `fd` placed at descriptor number `number`, which must be free.
pub fn duplicate_at(fd: impl AsFd, number: RawFd) -> OwnedFd {
    assert!(!is_open(number), "fd {number} is already open");
    // SAFETY: dup2 reads `fd`, which the borrow keeps open, and `number` is not open, so no
    // descriptor owned elsewhere is closed by it.
    let rc = unsafe { libc::dup2(fd.as_fd().as_raw_fd(), number) };
    assert_eq!(rc, number, "dup2: {}", io::Error::last_os_error());
    // Close-on-exec, as the test's other fds are: dup2 clears it, and a copy kept by a child
    // (another test's) would keep the file, and its registrations, alive. Miri has neither
    // F_SETFD nor child processes.
    #[cfg(not(miri))]
    {
        // SAFETY: F_SETFD on the fd just made, with a flag value.
        let rc = unsafe { libc::fcntl(number, libc::F_SETFD, libc::FD_CLOEXEC) };
        assert_eq!(rc, 0, "fcntl: {}", io::Error::last_os_error());
    }
    // SAFETY: dup2 just created `number` and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(number) }
}

/// A regular file in the temporary directory, removed on drop.
#[cfg(unix)]
pub struct TempFile {
    pub file: File,
    path: PathBuf,
}

#[cfg(unix)]
impl TempFile {
    pub fn with_contents(contents: &[u8]) -> TempFile {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "pollio-conformance-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        let mut file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .expect("create temporary file");
        file.write_all(contents).expect("write temporary file");
        let file = File::open(&path).expect("reopen temporary file for reading");
        TempFile { file, path }
    }
}

#[cfg(unix)]
impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Windows has no limit on descriptor numbers to raise.
#[cfg(windows)]
pub fn raise_fd_limit(_wanted: usize) {}

/// Raises the soft descriptor limit to the hard one (capped where the OS refuses more), for
/// tests that open more descriptors than a default soft limit of 256 or 1024 allows.
#[cfg(unix)]
pub fn raise_fd_limit(wanted: usize) {
    let wanted = wanted as libc::rlim_t;
    if cfg!(miri) {
        // Miri has no descriptor limit to raise (and no getrlimit).
        return;
    }
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a live rlimit for getrlimit to fill.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(rc, 0, "getrlimit: {}", io::Error::last_os_error());
    if limit.rlim_cur >= wanted {
        return;
    }
    limit.rlim_cur = wanted.min(limit.rlim_max);
    // SAFETY: `limit` is a valid rlimit no larger than the hard limit.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    assert_eq!(rc, 0, "setrlimit: {}", io::Error::last_os_error());
}
