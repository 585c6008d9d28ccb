//! Linux signals: a signalfd, registered readable and edge-triggered like any fd.
//!
//! A signalfd only sees a signal that no thread handles first, so the signal must be blocked
//! in every thread. The first source of a signal blocks it in the thread that creates it
//! (threads that thread spawns later inherit the mask) and the last one to go unblocks it in
//! the thread that drops it, unless it was blocked already; blocking it in other running threads
//! is the program's job, as only each thread can change its own mask. The disposition is not
//! touched. Before unblocking, the last source reads what is still pending of its signal, so
//! unblocking does not deliver a signal meant for the poller to its default action.

use super::signal_claims::{check_catchable, Claims};
use super::{syscall, Selector};
use crate::{Event, Interest, Mode, Registration};
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Per signal: whether the first claim found it unblocked (and so blocked it).
static CLAIMS: Claims<bool> = Claims::new();

pub(crate) struct SignalSource {
    fd: OwnedFd,
    signo: libc::c_int,
}

impl SignalSource {
    pub(crate) fn new(
        selector: &Selector,
        signo: libc::c_int,
        registration: Registration,
    ) -> io::Result<SignalSource> {
        check_catchable(signo)?;
        let set = signal_set(signo)?;
        // SAFETY: `set` is an initialised sigset_t; signalfd only reads it.
        let fd = syscall!(signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC))?;
        // SAFETY: signalfd just returned this fd and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let word = registration.word_for(fd.as_raw_fd(), true)?;
        CLAIMS.claim(signo, || block(signo, &set))?;
        let source = SignalSource { fd, signo };
        if let Err(err) = selector.add(
            source.fd.as_raw_fd(),
            word,
            Interest::READABLE,
            Mode::Edge,
            false,
        ) {
            source.release();
            return Err(err);
        }
        Ok(source)
    }

    /// Reads every pending delivery of the signal; returns how many there were. A standard
    /// signal is pending at most once however often it was sent; a real-time signal queues.
    pub(crate) fn deliveries(&self, _event: &Event) -> io::Result<u64> {
        self.read_all()
    }

    fn read_all(&self) -> io::Result<u64> {
        const BATCH: usize = 8;
        let size = std::mem::size_of::<libc::signalfd_siginfo>();
        let mut buf = [MaybeUninit::<libc::signalfd_siginfo>::uninit(); BATCH];
        let mut count = 0;
        loop {
            // SAFETY: the kernel writes at most `BATCH * size` bytes into `buf`, which holds
            // that many; the contents are never read, only counted.
            let res = syscall!(read(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                BATCH * size
            ));
            match res {
                Ok(n) => {
                    let read = n as usize / size;
                    count += read as u64;
                    if read < BATCH {
                        return Ok(count);
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(count),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
    }

    pub(crate) fn deregister(&self, selector: &Selector) {
        let _ = selector.delete(self.fd.as_raw_fd());
        self.release();
    }

    fn release(&self) {
        CLAIMS.release(self.signo, |blocked_here| {
            if blocked_here {
                // What is still pending was sent to this source: take it before unblocking.
                let _ = self.read_all();
                if let Ok(set) = signal_set(self.signo) {
                    let _ = set_mask(libc::SIG_UNBLOCK, &set);
                }
            }
        });
    }
}

/// The set holding `signo` alone; `EINVAL` for a number that is not a signal (or one the C
/// library keeps for itself).
fn signal_set(signo: libc::c_int) -> io::Result<libc::sigset_t> {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the set it is given; sigaddset then only changes it.
    unsafe {
        syscall!(sigemptyset(set.as_mut_ptr()))?;
        syscall!(sigaddset(set.as_mut_ptr(), signo))?;
        Ok(set.assume_init())
    }
}

/// Blocks `set` in the calling thread; says whether it was unblocked before.
fn block(signo: libc::c_int, set: &libc::sigset_t) -> io::Result<bool> {
    let old = set_mask(libc::SIG_BLOCK, set)?;
    // SAFETY: sigismember only reads an initialised set.
    Ok(unsafe { libc::sigismember(&old, signo) } != 1)
}

/// Changes the calling thread's mask; returns the old one.
fn set_mask(how: libc::c_int, set: &libc::sigset_t) -> io::Result<libc::sigset_t> {
    let mut old = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: `set` is initialised and only read; the kernel fills `old`.
    let rc = unsafe { libc::pthread_sigmask(how, set, old.as_mut_ptr()) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    // SAFETY: pthread_sigmask succeeded, so it wrote the old mask.
    Ok(unsafe { old.assume_init() })
}
