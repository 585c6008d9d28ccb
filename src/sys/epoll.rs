//! Linux backend: `epoll`, with an `eventfd` as the wake-up source.

use super::syscall;
use crate::timeout::Timeout;
use crate::{word, Event, Interest, Mode, Readiness};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

pub(crate) type RawEvent = libc::epoll_event;

#[inline]
pub(crate) fn event_word(event: &RawEvent) -> u64 {
    event.u64
}

#[inline]
pub(crate) fn event_readiness(event: &RawEvent) -> Readiness {
    let e = event.events as libc::c_int;
    let has = |flag: libc::c_int| e & flag != 0;
    let mut bits = 0;
    if has(libc::EPOLLIN) {
        bits |= Readiness::READABLE;
    }
    if has(libc::EPOLLOUT) {
        bits |= Readiness::WRITABLE;
    }
    if has(libc::EPOLLRDHUP | libc::EPOLLHUP) {
        bits |= Readiness::READ_CLOSED;
    }
    if has(libc::EPOLLHUP | libc::EPOLLERR) {
        bits |= Readiness::WRITE_CLOSED;
    }
    if has(libc::EPOLLERR) {
        bits |= Readiness::ERROR;
    }
    if has(libc::EPOLLPRI) {
        bits |= Readiness::PRIORITY;
    }
    if has(libc::EPOLLRDHUP) {
        bits |= Readiness::READ_HANG_UP;
    }
    if has(libc::EPOLLHUP) {
        bits |= Readiness::HANG_UP;
    }
    Readiness::from_bits(bits)
}

/// A readable event carrying `word`, as the kernel would report it.
#[cfg(test)]
pub(crate) fn test_event(word: u64) -> Event {
    Event(libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: word,
    })
}

/// The epoll event mask for an interest and mode.
#[inline(always)]
fn event_mask(interest: Interest, mode: Mode) -> u32 {
    let mut mask = 0;
    if interest.is_readable() {
        // RDHUP so a peer's shutdown shows as read-closed without a read.
        mask |= libc::EPOLLIN | libc::EPOLLRDHUP;
    }
    if interest.is_writable() {
        mask |= libc::EPOLLOUT;
    }
    if interest.is_priority() {
        mask |= libc::EPOLLPRI;
    }
    if mode.is_edge() {
        mask |= libc::EPOLLET;
    }
    if mode.is_oneshot() {
        mask |= libc::EPOLLONESHOT;
    }
    mask as u32
}

pub(crate) struct Selector {
    epoll: OwnedFd,
}

impl Selector {
    pub(crate) fn new() -> io::Result<Selector> {
        // SAFETY: epoll_create1 takes no pointers.
        let fd = syscall!(epoll_create1(libc::EPOLL_CLOEXEC))?;
        // SAFETY: epoll_create1 just returned this fd and nothing else owns it.
        let epoll = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Selector { epoll })
    }

    pub(crate) fn as_raw_fd(&self) -> RawFd {
        self.epoll.as_raw_fd()
    }

    pub(crate) fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }

    #[inline(always)]
    pub(crate) fn add(
        &self,
        fd: RawFd,
        word: u64,
        interest: Interest,
        mode: Mode,
        exclusive: bool,
    ) -> io::Result<()> {
        let mut mask = event_mask(interest, mode);
        if exclusive {
            // The kernel allows only IN, OUT, ERR, HUP, WAKEUP and ET beside EXCLUSIVE.
            mask = (mask & !(libc::EPOLLRDHUP as u32)) | libc::EPOLLEXCLUSIVE as u32;
        }
        self.ctl(libc::EPOLL_CTL_ADD, fd, word, mask)
    }

    #[inline(always)]
    pub(crate) fn modify(
        &self,
        fd: RawFd,
        word: u64,
        interest: Interest,
        mode: Mode,
    ) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, word, event_mask(interest, mode))
    }

    #[inline(always)]
    pub(crate) fn delete(&self, fd: RawFd) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0)
    }

    #[inline]
    fn ctl(&self, op: libc::c_int, fd: RawFd, word: u64, events: u32) -> io::Result<()> {
        let mut event = libc::epoll_event { events, u64: word };
        // SAFETY: `event` is a valid epoll_event for the duration of the call; the kernel only
        // reads it (and ignores it for EPOLL_CTL_DEL).
        syscall!(epoll_ctl(self.epoll.as_raw_fd(), op, fd, &mut event))?;
        Ok(())
    }

    /// One wait. Inlined into the poller's wait methods: then no call frame surrounds the
    /// system call and a constant timeout folds away. The precise-timeout call and the error
    /// handling stay out of line, so the inlined code is only the common path.
    #[inline(always)]
    pub(crate) fn select(&self, events: &mut Vec<Event>, timeout: Timeout) -> io::Result<()> {
        events.clear();
        // Event is a transparent epoll_event, so the kernel writes straight into the vector.
        let buf = events.as_mut_ptr().cast::<libc::epoll_event>();
        // The poller caps its capacity at i32::MAX when it allocates the buffer.
        let max = events.capacity() as libc::c_int;
        let n = match timeout {
            Timeout::Forever => self.epoll_wait(buf, max, -1),
            Timeout::Millis(ms) => self.epoll_wait(buf, max, ms),
            Timeout::Precise(d) => self.epoll_wait_precise(buf, max, d),
        };
        match n {
            Ok(n) => {
                // SAFETY: the kernel initialised the first `n` entries, and n <= capacity.
                unsafe { events.set_len(n as usize) };
                Ok(())
            }
            Err(err) => interrupted_as_empty(err),
        }
    }

    #[inline]
    fn epoll_wait(
        &self,
        buf: *mut libc::epoll_event,
        max: libc::c_int,
        ms: libc::c_int,
    ) -> io::Result<libc::c_int> {
        // SAFETY: `buf` points to `max` writable, properly aligned epoll_event slots owned by
        // the caller's vector, which is not touched until the call returns.
        syscall!(epoll_wait(self.epoll.as_raw_fd(), buf, max, ms))
    }

    /// A wait with nanosecond precision through epoll_pwait2 (Linux 5.11), or the timeout
    /// rounded up to whole milliseconds where the kernel lacks it. Kept out of line so that
    /// inlining `select` does not copy it into every wait.
    #[inline(never)]
    fn epoll_wait_precise(
        &self,
        buf: *mut libc::epoll_event,
        max: libc::c_int,
        timeout: Duration,
    ) -> io::Result<libc::c_int> {
        // Relaxed throughout: a cached fact about the running kernel, published with nothing
        // else; a thread that reads a stale value only probes once more.
        static PWAIT2: AtomicU8 = AtomicU8::new(UNKNOWN);
        const UNKNOWN: u8 = 0;
        const MISSING: u8 = 1;
        const PRESENT: u8 = 2;

        if PWAIT2.load(Ordering::Relaxed) != MISSING {
            let ts = KernelTimespec {
                // Timeout::Precise holds at most i64::MAX seconds; the kernel treats anything
                // past its own limit (about 292 years) as "block".
                tv_sec: i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX),
                tv_nsec: i64::from(timeout.subsec_nanos()),
            };
            // SAFETY: `buf` as in epoll_wait; `ts` lives across the call; a null signal mask
            // means "leave the mask alone", so its size argument is not read.
            let res = syscall!(syscall(
                libc::SYS_epoll_pwait2,
                self.epoll.as_raw_fd(),
                buf,
                max,
                &ts as *const KernelTimespec,
                std::ptr::null::<libc::sigset_t>(),
                0usize,
            ));
            match res {
                Ok(n) => {
                    PWAIT2.store(PRESENT, Ordering::Relaxed);
                    return Ok(n as libc::c_int);
                }
                // ENOSYS: kernel older than 5.11; EPERM: a seccomp filter that predates it.
                Err(err) if matches!(err.raw_os_error(), Some(libc::ENOSYS | libc::EPERM)) => {
                    PWAIT2.store(MISSING, Ordering::Relaxed);
                }
                Err(err) => return Err(err),
            }
        }
        self.epoll_wait(buf, max, Timeout::Precise(timeout).ceil_millis())
    }
}

/// The kernel's `struct __kernel_timespec`, which epoll_pwait2 takes on every architecture:
/// two 64-bit fields. `libc::timespec` is not it on 32-bit targets, where glibc's `time_t`
/// and `long` are 32 bits wide (8 bytes in all instead of 16).
#[repr(C)]
struct KernelTimespec {
    tv_sec: i64,
    tv_nsec: i64,
}

/// A failed wait: a signal (EINTR) means "nothing ready", so the caller's loop runs again.
#[cold]
fn interrupted_as_empty(err: io::Error) -> io::Result<()> {
    if err.kind() == io::ErrorKind::Interrupted {
        Ok(())
    } else {
        Err(err)
    }
}

/// An eventfd registered edge-triggered: each write makes one pending event, and it is never
/// read, so a wait that was not woken costs nothing extra.
pub(crate) struct WakeSource {
    eventfd: OwnedFd,
}

impl WakeSource {
    pub(crate) fn new(selector: &Selector) -> io::Result<WakeSource> {
        // SAFETY: eventfd takes no pointers.
        let fd = syscall!(eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK))?;
        // SAFETY: eventfd just returned this fd and nothing else owns it.
        let eventfd = unsafe { OwnedFd::from_raw_fd(fd) };
        let mask = (libc::EPOLLIN | libc::EPOLLET) as u32;
        selector.ctl(libc::EPOLL_CTL_ADD, fd, word::WAKE, mask)?;
        Ok(WakeSource { eventfd })
    }

    /// This source's eventfd, the one descriptor it owns.
    #[inline]
    pub(crate) fn eventfd(&self) -> RawFd {
        self.eventfd.as_raw_fd()
    }

    /// Async-signal-safe: one write(2), and on the (2^64 wakes away) full counter one read(2).
    pub(crate) fn notify(&self, _selector: &Selector) -> io::Result<()> {
        let one: u64 = 1;
        loop {
            // SAFETY: writes 8 bytes from a live u64, as eventfd requires.
            let res = syscall!(write(
                self.eventfd.as_raw_fd(),
                (&one as *const u64).cast(),
                8
            ));
            match res {
                Ok(_) => return Ok(()),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    // The counter is full: reset it so the next write succeeds.
                    let mut sink: u64 = 0;
                    // SAFETY: reads 8 bytes into a live u64.
                    let _ = syscall!(read(
                        self.eventfd.as_raw_fd(),
                        (&mut sink as *mut u64).cast(),
                        8
                    ));
                }
                Err(err) => return Err(err),
            }
        }
    }
}
