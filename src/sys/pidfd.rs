//! Linux child exits: a pidfd (`pidfd_open`, Linux 5.3), readable once the process has exited,
//! registered oneshot (it stays readable once the process has exited, and the poll(2) backend
//! reports edge-triggered fds as level-triggered). A zombie's pidfd is readable at once, so a
//! child that exited before registration still gets its event. Where the kernel has no
//! `pidfd_open`, a helper thread per child stands in for it (`child_thread.rs`).

use super::child_thread::ChildThread;
use super::{syscall, Selector};
use crate::{Interest, Mode, Registration};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

pub(crate) enum ChildSource {
    Pidfd(OwnedFd),
    Thread(ChildThread),
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
        // Relaxed: a cached fact about the running kernel, published with nothing else; a
        // thread that reads a stale value only calls pidfd_open once more.
        static NO_PIDFD_OPEN: AtomicBool = AtomicBool::new(false);
        let thread = || ChildThread::new(selector, pid, registration).map(ChildSource::Thread);
        if NO_PIDFD_OPEN.load(Ordering::Relaxed) {
            return thread();
        }
        // SAFETY: pidfd_open takes a pid and flags, no pointers. Its fd is close-on-exec.
        let fd = match syscall!(syscall(libc::SYS_pidfd_open, pid, 0)) {
            Ok(fd) => fd as libc::c_int,
            Err(err) if no_pidfd_open(&err) => {
                NO_PIDFD_OPEN.store(true, Ordering::Relaxed);
                return thread();
            }
            Err(err) => return Err(err),
        };
        // SAFETY: pidfd_open just returned this fd and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let word = registration.word_for(fd.as_raw_fd(), true)?;
        // Oneshot: a pidfd stays readable for good once the process has exited, so the
        // poll(2) backend, which reports edge-triggered fds as level-triggered, would report
        // it on every wait. One exit, one event, on every backend.
        selector.add(fd.as_raw_fd(), word, Interest::READABLE, Mode::Oneshot, false)?;
        Ok(ChildSource::Pidfd(fd))
    }

    pub(crate) fn deregister(&self, selector: &Selector) {
        match self {
            // As for timers: a forked copy of the fd would keep the registration alive.
            ChildSource::Pidfd(fd) => {
                let _ = selector.delete(fd.as_raw_fd());
            }
            ChildSource::Thread(thread) => thread.deregister(selector),
        }
    }
}

/// Whether pidfd_open failed for want of the system call: `ENOSYS` before Linux 5.3, `EPERM`
/// from a seccomp filter older than it (pidfd_open itself never answers `EPERM`).
fn no_pidfd_open(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(libc::ENOSYS | libc::EPERM))
}
