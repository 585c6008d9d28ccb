//! Linux child exits: a pidfd (`pidfd_open`, Linux 5.3), readable once the process has exited,
//! registered oneshot. A zombie's pidfd is readable at once, so a child that
//! exited before registration still gets its event.

use super::{syscall, Selector};
use crate::{Interest, Mode, Registration};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

pub(crate) struct ChildSource {
    fd: OwnedFd,
}

impl ChildSource {
    pub(crate) fn new(
        selector: &Selector,
        pid: libc::pid_t,
        registration: Registration,
    ) -> io::Result<ChildSource> {
        if pid <= 0 {
            // pidfd_open's answer for them; 0 and negative numbers name process groups elsewhere.
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        // SAFETY: pidfd_open takes a pid and flags, no pointers. Its fd is close-on-exec.
        let fd = match syscall!(syscall(libc::SYS_pidfd_open, pid, 0)) {
            Ok(fd) => fd as libc::c_int,
            Err(err) if err.raw_os_error() == Some(libc::ENOSYS) => return Err(no_pidfd()),
            Err(err) => return Err(err),
        };
        // SAFETY: pidfd_open just returned this fd and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let word = registration.word_for(fd.as_raw_fd(), true)?;
        // Oneshot: a pidfd stays readable for good once the process has exited, so the
        // poll(2) backend, which reports edge-triggered fds as level-triggered, would report
        // it on every wait. One exit, one event, on every backend.
        selector.add(fd.as_raw_fd(), word, Interest::READABLE, Mode::Oneshot, false)?;
        Ok(ChildSource { fd })
    }

    pub(crate) fn deregister(&self, selector: &Selector) {
        // As for timers: a forked copy of the fd would keep the registration alive.
        let _ = selector.delete(self.fd.as_raw_fd());
    }
}

#[cold]
fn no_pidfd() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "watching a child's exit needs pidfd_open, which this kernel lacks (Linux 5.3 and later)",
    )
}
