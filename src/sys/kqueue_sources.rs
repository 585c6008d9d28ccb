//! kqueue timers, signals and child exits: one knote each, in the poller's own queue, carrying
//! the registration's word in `udata` like an fd's knotes. They are not fds, so the fd table of
//! `kqueue.rs` knows nothing of them; each source adds and deletes its own knote.
//!
//! - Timers: `EVFILT_TIMER`, its ident a number from a process-wide counter (unique in every
//!   queue, and above every fd, signal and pid), `EV_ONESHOT` for a single
//!   expiry. Nanoseconds (`NOTE_NSECONDS`) on macOS, iOS, FreeBSD and NetBSD; whole
//!   milliseconds, rounded up, on OpenBSD and DragonFly, and on a NetBSD kernel that refuses
//!   nanoseconds. Deadlines become relative timeouts when set: the absolute flags
//!   (`NOTE_ABSTIME`, macOS's `NOTE_ABSOLUTE`) count on the wall clock, not `Instant`'s.
//!   `EV_ADD` on an armed timer restarts it. The event's `data` is the number of expirations.
//! - Signals: `EVFILT_SIGNAL`, which records a delivery after the signal's own action ran, so
//!   the first source of a signal whose action is the default sets it to `SIG_IGN` (the default
//!   action would end or stop the process) and the last one restores it. `SIGCHLD` is left
//!   alone: its default ignores it already, and `SIG_IGN` would make the kernel reap children.
//!   The event's `data` counts deliveries since the last event.
//! - Child exits: `EVFILT_PROC` with `NOTE_EXIT`. Some kernels refuse it with `ESRCH` for a
//!   process that has exited but is not reaped yet; a zero-length timer knote carrying the same
//!   word then reports the exit instead.

use super::signal_claims::{check_catchable, Claims};
use super::{new_kevent, syscall, Count, Filter, Flags, Selector};
use crate::timer::Expiry;
use crate::{Event, Registration};
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::RawFd;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Applies one change to the queue; its failure is the call's errno (no event list to hold
/// a receipt).
fn change(
    kq: RawFd,
    ident: libc::uintptr_t,
    filter: Filter,
    flags: Flags,
    fflags: u32,
    data: i64,
    word: u64,
) -> io::Result<()> {
    let mut kev = new_kevent(ident, filter, flags, fflags, word);
    kev.data = data as _;
    let no_wait = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: one initialised change is read; no event list is passed, so nothing is written;
    // `no_wait` lives across the call.
    syscall!(kevent(kq, &kev, 1 as Count, ptr::null_mut(), 0, &no_wait))?;
    Ok(())
}

/// Deletes a knote that may be gone already (a oneshot knote that fired, a process reaped).
fn delete(kq: RawFd, ident: libc::uintptr_t, filter: Filter) {
    let _ = change(kq, ident, filter, libc::EV_DELETE as Flags, 0, 0, 0);
}

/// A timer ident no other timer of any queue in the process has. They start at 2^32, above
/// every fd, signal number and pid, so the wait path's folding of neighbouring events with the
/// same ident and word (`kqueue.rs`) never joins a timer's event to another's.
fn next_timer_ident() -> libc::uintptr_t {
    // Relaxed: only uniqueness matters, which every read-modify-write gives whatever the order.
    static NEXT: AtomicUsize = AtomicUsize::new(1 << 32);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The event's `data`: expirations or deliveries since the last event.
fn event_count(event: &Event) -> u64 {
    super::event_data(&event.0).max(0) as u64
}

/// The kernel's unit for timer data on this system, and the data for `d` in it, never shorter
/// than `d` and at least one unit (zero is refused or means "never" on some kernels).
#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd"
))]
fn timer_data(d: Duration, nanos: bool) -> (u32, i64) {
    if nanos {
        let ns = i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
        return (libc::NOTE_NSECONDS as u32, ns.max(1));
    }
    (0, millis(d))
}

#[cfg(not(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd"
)))]
fn timer_data(d: Duration, _nanos: bool) -> (u32, i64) {
    (0, millis(d))
}

/// `d` in whole milliseconds, rounded up, at least 1, capped where every kernel accepts it.
fn millis(d: Duration) -> i64 {
    let ms = d.as_nanos().div_ceil(1_000_000).max(1);
    i64::try_from(ms)
        .unwrap_or(i64::MAX)
        .min(i64::from(i32::MAX))
}

pub(crate) struct TimerSource {
    kq: RawFd,
    ident: libc::uintptr_t,
    word: u64,
    /// Whether the knote was last added periodic: not every kernel changes `EV_ONESHOT` on a
    /// knote it holds, so switching between one-shot and periodic deletes the knote first.
    /// Relaxed: sets of one timer from several threads race in the kernel anyway, and the
    /// last one wins; this flag orders nothing else.
    periodic: AtomicBool,
}

impl TimerSource {
    pub(crate) fn new(selector: &Selector, registration: Registration) -> io::Result<TimerSource> {
        // No fd: the word's fd field is 0 and means nothing, as documented on `Timer`.
        let word = registration.word_for(0, true)?;
        Ok(TimerSource {
            kq: selector.as_raw_fd(),
            ident: next_timer_ident(),
            word,
            periodic: AtomicBool::new(false),
        })
    }

    pub(crate) fn arm(&self, first: Expiry, period: Option<Duration>) -> io::Result<()> {
        let after = match first {
            Expiry::After(after) => after,
            Expiry::At(at) => at.saturating_duration_since(Instant::now()),
        };
        // kqueue timers repeat with the period they start with: `Timer` only asks for a period
        // equal to the first expiry.
        let (duration, flags) = match period {
            Some(period) => (period, libc::EV_ADD),
            None => (after, libc::EV_ADD | libc::EV_ONESHOT),
        };
        let flags = flags as Flags;
        if self.periodic.swap(period.is_some(), Ordering::Relaxed) != period.is_some() {
            delete(self.kq, self.ident, libc::EVFILT_TIMER);
        }
        let (fflags, data) = timer_data(duration, true);
        match change(
            self.kq,
            self.ident,
            libc::EVFILT_TIMER,
            flags,
            fflags,
            data,
            self.word,
        ) {
            Err(err) if err.raw_os_error() == Some(libc::EINVAL) && fflags != 0 => {
                // A kernel without nanosecond timers (NetBSD before 10): milliseconds.
                let (fflags, data) = timer_data(duration, false);
                change(
                    self.kq,
                    self.ident,
                    libc::EVFILT_TIMER,
                    flags,
                    fflags,
                    data,
                    self.word,
                )
            }
            res => res,
        }
    }

    pub(crate) fn disarm(&self) -> io::Result<()> {
        delete(self.kq, self.ident, libc::EVFILT_TIMER);
        Ok(())
    }

    pub(crate) fn expirations(&self, event: &Event) -> io::Result<u64> {
        Ok(event_count(event))
    }

    pub(crate) fn deregister(&self, _selector: &Selector) {
        delete(self.kq, self.ident, libc::EVFILT_TIMER);
    }
}

/// Per signal: the action the first claim replaced with `SIG_IGN`, if it did.
static CLAIMS: Claims<Option<libc::sigaction>> = Claims::new();

pub(crate) struct SignalSource {
    kq: RawFd,
    signo: libc::c_int,
}

impl SignalSource {
    pub(crate) fn new(
        selector: &Selector,
        signo: libc::c_int,
        registration: Registration,
    ) -> io::Result<SignalSource> {
        check_catchable(signo)?;
        let word = registration.word_for(0, true)?;
        let kq = selector.as_raw_fd();
        CLAIMS.claim(signo, || ignore_default(signo))?;
        let flags = (libc::EV_ADD | libc::EV_CLEAR) as Flags;
        if let Err(err) = change(kq, signo as _, libc::EVFILT_SIGNAL, flags, 0, 0, word) {
            CLAIMS.release(signo, |saved| restore(signo, saved));
            return Err(err);
        }
        Ok(SignalSource { kq, signo })
    }

    pub(crate) fn deliveries(&self, event: &Event) -> io::Result<u64> {
        Ok(event_count(event))
    }

    pub(crate) fn deregister(&self, _selector: &Selector) {
        delete(self.kq, self.signo as _, libc::EVFILT_SIGNAL);
        CLAIMS.release(self.signo, |saved| restore(self.signo, saved));
    }
}

/// Sets `signo` to `SIG_IGN` if its action is the default (see the module docs); returns the
/// action replaced. `EINVAL` for a number that is not a signal.
fn ignore_default(signo: libc::c_int) -> io::Result<Option<libc::sigaction>> {
    let mut old = MaybeUninit::<libc::sigaction>::uninit();
    // SAFETY: no new action is given; the kernel fills `old`.
    syscall!(sigaction(signo, ptr::null(), old.as_mut_ptr()))?;
    // SAFETY: sigaction succeeded, so it wrote the old action.
    let old = unsafe { old.assume_init() };
    if old.sa_sigaction != libc::SIG_DFL || signo == libc::SIGCHLD {
        return Ok(None);
    }
    let mut ignore = old;
    ignore.sa_sigaction = libc::SIG_IGN;
    // SAFETY: `ignore` is a copy of a valid action with its handler set to SIG_IGN.
    syscall!(sigaction(signo, &ignore, ptr::null_mut()))?;
    Ok(Some(old))
}

fn restore(signo: libc::c_int, saved: Option<libc::sigaction>) {
    if let Some(old) = saved {
        // SAFETY: `old` is the action the kernel gave back before.
        let _ = syscall!(sigaction(signo, &old, ptr::null_mut()));
    }
}

pub(crate) struct ChildSource {
    kq: RawFd,
    ident: libc::uintptr_t,
    filter: Filter,
}

impl ChildSource {
    pub(crate) fn new(
        selector: &Selector,
        pid: libc::pid_t,
        registration: Registration,
    ) -> io::Result<ChildSource> {
        if pid <= 0 {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let word = registration.word_for(0, true)?;
        let kq = selector.as_raw_fd();
        let flags = (libc::EV_ADD | libc::EV_CLEAR) as Flags;
        let fflags = libc::NOTE_EXIT as u32;
        match change(kq, pid as _, libc::EVFILT_PROC, flags, fflags, 0, word) {
            Ok(()) => Ok(ChildSource {
                kq,
                ident: pid as _,
                filter: libc::EVFILT_PROC,
            }),
            Err(err) if err.raw_os_error() == Some(libc::ESRCH) && is_zombie(pid) => {
                let ident = next_timer_ident();
                let flags = (libc::EV_ADD | libc::EV_ONESHOT) as Flags;
                let (fflags, data) = timer_data(Duration::ZERO, false);
                change(kq, ident, libc::EVFILT_TIMER, flags, fflags, data, word)?;
                Ok(ChildSource {
                    kq,
                    ident,
                    filter: libc::EVFILT_TIMER,
                })
            }
            Err(err) => Err(err),
        }
    }

    pub(crate) fn deregister(&self, _selector: &Selector) {
        delete(self.kq, self.ident, self.filter);
    }
}

/// Whether `pid`, which kqueue says is not running, still exists: then it is a zombie that
/// has exited and waits to be reaped.
fn is_zombie(pid: libc::pid_t) -> bool {
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    match syscall!(kill(pid, 0)) {
        Ok(_) => true,
        Err(err) => err.raw_os_error() == Some(libc::EPERM),
    }
}
