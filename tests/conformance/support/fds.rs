//! Descriptors to poll, and control over descriptor numbers.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A connected, non-blocking Unix socket pair.
pub fn unix_pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().expect("socketpair");
    a.set_nonblocking(true).expect("set_nonblocking");
    b.set_nonblocking(true).expect("set_nonblocking");
    (a, b)
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
pub fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [-1; 2];
    // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
    let rc = unsafe { libc::pipe(fds.as_mut_ptr()) };
    assert_eq!(rc, 0, "pipe: {}", io::Error::last_os_error());
    // SAFETY: pipe(2) just created both descriptors and nothing else owns them.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// Writes all of `bytes` to a socket that has room for them.
pub fn send(mut to: impl Write, bytes: &[u8]) {
    to.write_all(bytes).expect("write");
}

/// Reads until the socket would block or reaches end of stream; returns the bytes read.
pub fn drain(mut from: impl Read) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match from.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return out,
            Err(err) => panic!("read: {err}"),
        }
    }
}

/// A descriptor number no other test in this process will be handed: descriptors are
/// allocated lowest first, so numbers near the top of the limit stay free, and each test that
/// needs one passes its own `slot`.
pub fn free_fd_number(slot: RawFd) -> RawFd {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a live rlimit for getrlimit to fill.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(rc, 0, "getrlimit: {}", io::Error::last_os_error());
    let top = limit.rlim_cur.min(16384) as RawFd;
    let fd = top - 1 - slot;
    assert!(!is_open(fd), "fd {fd} is already open");
    fd
}

/// True when `fd` is an open descriptor of this process.
pub fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only reads the descriptor table; any number is safe to ask about.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

/// A duplicate of `fd` placed at descriptor number `number`, which must be free.
pub fn duplicate_at(fd: impl AsFd, number: RawFd) -> OwnedFd {
    assert!(!is_open(number), "fd {number} is already open");
    // SAFETY: dup2 reads `fd`, which the borrow keeps open, and `number` is not open, so no
    // descriptor owned elsewhere is closed by it.
    let rc = unsafe { libc::dup2(fd.as_fd().as_raw_fd(), number) };
    assert_eq!(rc, number, "dup2: {}", io::Error::last_os_error());
    // SAFETY: dup2 just created `number` and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(number) }
}

/// A regular file in the temporary directory, removed on drop.
pub struct TempFile {
    pub file: File,
    path: PathBuf,
}

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

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Raises the soft descriptor limit to the hard one (capped where the OS refuses more), for
/// tests that open more descriptors than a default soft limit of 256 or 1024 allows.
pub fn raise_fd_limit(wanted: libc::rlim_t) {
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
