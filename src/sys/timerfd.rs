//! Linux timers: one timerfd per timer on `CLOCK_MONOTONIC` (the clock of `Instant`),
//! registered readable and edge-triggered like any fd.
//!
//! Each expiry wakes the timerfd's waiters, so each is a new edge even while earlier expirations
//! are unread; reading the fd returns how many there were and resets the count. `timerfd_settime`
//! also resets it, so re-arming and cancelling forget expirations not yet read; an event already
//! queued for them then reads as 0.

use super::{syscall, Selector};
use crate::timer::Expiry;
use crate::{Event, Interest, Mode, Registration};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

pub(crate) struct TimerSource {
    fd: OwnedFd,
}

impl TimerSource {
    pub(crate) fn new(selector: &Selector, registration: Registration) -> io::Result<TimerSource> {
        let flags = libc::TFD_NONBLOCK | libc::TFD_CLOEXEC;
        // SAFETY: timerfd_create takes no pointers.
        let fd = syscall!(timerfd_create(libc::CLOCK_MONOTONIC, flags))?;
        // SAFETY: timerfd_create just returned this fd and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let word = registration.word_for(fd.as_raw_fd(), true)?;
        selector.add(fd.as_raw_fd(), word, Interest::READABLE, Mode::Edge, false)?;
        Ok(TimerSource { fd })
    }

    /// Arms the timer: first at `first`, then every `period` if there is one.
    pub(crate) fn arm(&self, first: Expiry, period: Option<Duration>) -> io::Result<()> {
        let (value, flags) = match first {
            // A zero value would disarm the timer: the earliest expiry is 1 ns away.
            Expiry::After(after) => (timespec(after.max(Duration::from_nanos(1))), 0),
            Expiry::At(at) => (absolute(at)?, libc::TFD_TIMER_ABSTIME),
        };
        let interval = timespec(period.unwrap_or(Duration::ZERO));
        self.settime(flags, value, interval)
    }

    pub(crate) fn disarm(&self) -> io::Result<()> {
        let zero = timespec(Duration::ZERO);
        self.settime(0, zero, zero)
    }

    fn settime(
        &self,
        flags: libc::c_int,
        it_value: libc::timespec,
        it_interval: libc::timespec,
    ) -> io::Result<()> {
        let spec = libc::itimerspec {
            it_interval,
            it_value,
        };
        // SAFETY: `spec` lives across the call and is only read; the old value is not asked for.
        syscall!(timerfd_settime(
            self.fd.as_raw_fd(),
            flags,
            &spec,
            std::ptr::null_mut()
        ))?;
        Ok(())
    }

    /// Reads and resets the count of expirations; 0 when there were none since the last read
    /// (the event was queued before a re-arm or a cancel).
    pub(crate) fn expirations(&self, _event: &Event) -> io::Result<u64> {
        let mut count: u64 = 0;
        // SAFETY: reads 8 bytes into a live u64, as a timerfd requires.
        let res = syscall!(read(
            self.fd.as_raw_fd(),
            (&mut count as *mut u64).cast(),
            8
        ));
        match res {
            Ok(_) => Ok(count),
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => Ok(0),
            Err(err) => Err(err),
        }
    }

    pub(crate) fn deregister(&self, selector: &Selector) {
        // Closing the fd would end the registration too, but not while a copy inherited by a
        // forked child keeps the file open. Nothing is left to do if this fails.
        let _ = selector.delete(self.fd.as_raw_fd());
    }
}

/// A `timespec` for `d`, saturated at the largest the type holds.
fn timespec(d: Duration) -> libc::timespec {
    // SAFETY: all-zero bytes are a valid timespec. Set field by field, because on some targets
    // (32-bit musl and OpenHarmony) the struct has private padding fields.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    ts.tv_sec = libc::time_t::try_from(d.as_secs()).unwrap_or(libc::time_t::MAX);
    ts.tv_nsec = d.subsec_nanos() as _;
    ts
}

/// `at` on `CLOCK_MONOTONIC`. `Instant` reads that clock on Linux but does not expose its
/// value, so the remaining time is added to a reading taken after `Instant::now()`: the
/// result is later than `at` by the time between the two readings, never earlier.
fn absolute(at: Instant) -> io::Result<libc::timespec> {
    let remaining = at.saturating_duration_since(Instant::now());
    let mut now = timespec(Duration::ZERO);
    // SAFETY: `now` is a live timespec the kernel writes.
    syscall!(clock_gettime(libc::CLOCK_MONOTONIC, &mut now))?;
    let now = Duration::new(now.tv_sec as u64, now.tv_nsec as u32);
    Ok(timespec(now.saturating_add(remaining)))
}
