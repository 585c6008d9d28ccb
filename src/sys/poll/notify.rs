//! `NotifyFd`: a descriptor that one thread makes readable and a waiting poll(2) sees: an
//! eventfd on Linux and Android, a non-blocking pipe elsewhere.

use super::super::syscall;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// An eventfd: `ring` adds to its counter, `drain` reads (and so clears) it.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(super) struct NotifyFd {
    eventfd: OwnedFd,
}

#[cfg(any(target_os = "linux", target_os = "android"))]
impl NotifyFd {
    pub(super) fn new() -> io::Result<NotifyFd> {
        // SAFETY: eventfd takes no pointers.
        let fd = syscall!(eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK))?;
        // SAFETY: eventfd just returned this fd and nothing else owns it.
        let eventfd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(NotifyFd { eventfd })
    }

    /// The descriptor to poll for `POLLIN`.
    pub(super) fn polled(&self) -> RawFd {
        self.eventfd.as_raw_fd()
    }

    pub(super) fn owns(&self, fd: RawFd) -> bool {
        self.eventfd.as_raw_fd() == fd
    }

    /// Makes the descriptor readable. Async-signal-safe: one write(2).
    pub(super) fn ring(&self) -> io::Result<()> {
        // An eventfd takes 8 bytes, a counter to add; when it is full (2^64 - 2 rings unread)
        // it is readable already.
        write_until_readable(self.eventfd.as_raw_fd(), &1u64.to_ne_bytes())
    }

    /// Makes the descriptor unreadable again; true if it was rung since the last drain. Of
    /// several threads draining at once, exactly one gets true for one ring.
    pub(super) fn drain(&self) -> bool {
        let mut count: u64 = 0;
        loop {
            // SAFETY: reads 8 bytes into a live u64, as eventfd requires.
            let res = syscall!(read(
                self.eventfd.as_raw_fd(),
                (&mut count as *mut u64).cast(),
                8
            ));
            match res {
                Ok(_) => return true,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                // WouldBlock: another thread drained it first. Nothing else can fail on an
                // eventfd this struct owns.
                Err(_) => return false,
            }
        }
    }
}

/// A non-blocking pipe: `ring` writes a byte, `drain` reads them all.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(super) struct NotifyFd {
    reader: OwnedFd,
    writer: OwnedFd,
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
impl NotifyFd {
    pub(super) fn new() -> io::Result<NotifyFd> {
        let (reader, writer) = nonblocking_pipe()?;
        Ok(NotifyFd { reader, writer })
    }

    /// The descriptor to poll for `POLLIN`.
    pub(super) fn polled(&self) -> RawFd {
        self.reader.as_raw_fd()
    }

    pub(super) fn owns(&self, fd: RawFd) -> bool {
        fd == self.reader.as_raw_fd() || fd == self.writer.as_raw_fd()
    }

    /// Makes the read end readable. Async-signal-safe: one write(2).
    pub(super) fn ring(&self) -> io::Result<()> {
        // When the pipe is full, it is readable already.
        write_until_readable(self.writer.as_raw_fd(), &[1])
    }

    /// Empties the pipe; true if it held a byte. Of several threads draining at once, each
    /// byte goes to one of them, so one ring makes exactly one of them return true.
    pub(super) fn drain(&self) -> bool {
        let mut sink = [0u8; 64];
        let mut rung = false;
        loop {
            // SAFETY: reads at most 64 bytes into a live 64-byte buffer.
            let res = syscall!(read(
                self.reader.as_raw_fd(),
                sink.as_mut_ptr().cast(),
                sink.len()
            ));
            match res {
                Ok(n) if n > 0 => rung = true,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                // End of file cannot happen (this struct owns the write end); WouldBlock: empty.
                _ => return rung,
            }
        }
    }
}

/// A pipe whose ends are both non-blocking and close-on-exec.
#[cfg(any(
    target_os = "illumos",
    target_os = "solaris",
    target_os = "hurd",
    target_os = "redox",
    target_os = "cygwin",
))]
fn nonblocking_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds: [libc::c_int; 2] = [-1, -1];
    // SAFETY: pipe2 writes two fds into the live two-element array.
    syscall!(pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK))?;
    // SAFETY: pipe2 just returned these fds and nothing else owns them.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// A pipe whose ends are both non-blocking and close-on-exec, where libc has no pipe2: the
/// flags are set right after pipe(2), so an exec in another thread in between can inherit
/// the two ends (harmless: a child holding them only keeps the pipe open).
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "illumos",
    target_os = "solaris",
    target_os = "hurd",
    target_os = "redox",
    target_os = "cygwin",
)))]
fn nonblocking_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds: [libc::c_int; 2] = [-1, -1];
    // SAFETY: pipe writes two fds into the live two-element array.
    syscall!(pipe(fds.as_mut_ptr()))?;
    // SAFETY: pipe just returned these fds and nothing else owns them; owning them now closes
    // them if a flag below cannot be set.
    let ends = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    for fd in fds {
        // SAFETY: F_SETFD and F_SETFL take an int argument; `fd` is open.
        syscall!(fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC))?;
        // SAFETY: as above.
        syscall!(fcntl(fd, libc::F_SETFL, libc::O_NONBLOCK))?;
    }
    Ok(ends)
}

/// Writes `bytes` to the non-blocking `fd` in one write(2), retried on a signal; a full `fd`
/// (`WouldBlock`) is already readable, which is all a ring wants. Async-signal-safe.
fn write_until_readable(fd: RawFd, bytes: &[u8]) -> io::Result<()> {
    loop {
        // SAFETY: writes `bytes.len()` bytes from a live slice.
        match syscall!(write(fd, bytes.as_ptr().cast(), bytes.len())) {
            Ok(_) => return Ok(()),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(err) => return Err(err),
        }
    }
}
