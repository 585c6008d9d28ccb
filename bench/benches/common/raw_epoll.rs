//! The floor: epoll system calls through libc and nothing else.

use super::backend::{Backend, Trigger, Wake, CAPACITY};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

/// The data word of the eventfd that wakes the poller.
const WAKE_KEY: u64 = u64::MAX;

/// epoll with an events buffer, and an edge-triggered eventfd that is never drained as waker.
pub struct RawEpoll {
    epoll: OwnedFd,
    events: Vec<libc::epoll_event>,
    waker: Option<RawWaker>,
}

/// Writes to the eventfd registered edge-triggered in the poller.
#[derive(Clone)]
pub struct RawWaker(Arc<OwnedFd>);

impl Wake for RawWaker {
    fn wake(&self) {
        let one = 1u64;
        // SAFETY: writes the 8 bytes of a live u64, as an eventfd requires.
        let n = unsafe { libc::write(self.0.as_raw_fd(), (&one as *const u64).cast(), 8) };
        assert_eq!(n, 8, "eventfd write: {}", std::io::Error::last_os_error());
    }
}

fn mask(trigger: Trigger) -> u32 {
    let flags = match trigger {
        Trigger::Level => libc::EPOLLIN,
        Trigger::Edge => libc::EPOLLIN | libc::EPOLLET,
        Trigger::Oneshot => libc::EPOLLIN | libc::EPOLLONESHOT,
    };
    flags as u32
}

impl RawEpoll {
    fn ctl(&self, op: libc::c_int, fd: RawFd, word: u64, events: u32) {
        let mut event = libc::epoll_event { events, u64: word };
        // SAFETY: `event` is a valid epoll_event for the duration of the call.
        let res = unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), op, fd, &mut event) };
        assert_eq!(res, 0, "epoll_ctl: {}", std::io::Error::last_os_error());
    }

    fn epoll_wait(&mut self, timeout: Option<Duration>) -> libc::c_int {
        let ms = match timeout {
            None => -1,
            Some(d) if d.subsec_nanos() % 1_000_000 == 0 => d.as_millis() as libc::c_int,
            Some(d) => return self.epoll_pwait2(d),
        };
        let max = self.events.capacity() as libc::c_int;
        // SAFETY: the buffer has room for `max` events and is not touched until the call
        // returns.
        unsafe { libc::epoll_wait(self.epoll.as_raw_fd(), self.events.as_mut_ptr(), max, ms) }
    }

    /// A wait with nanosecond precision (Linux 5.11+).
    fn epoll_pwait2(&mut self, timeout: Duration) -> libc::c_int {
        let ts = libc::timespec {
            tv_sec: timeout.as_secs() as libc::time_t,
            tv_nsec: timeout.subsec_nanos() as libc::c_long,
        };
        let max = self.events.capacity() as libc::c_int;
        // SAFETY: the buffer as in epoll_wait; `ts` outlives the call; a null signal mask
        // leaves the mask alone.
        let n = unsafe {
            libc::syscall(
                libc::SYS_epoll_pwait2,
                self.epoll.as_raw_fd(),
                self.events.as_mut_ptr(),
                max,
                &ts as *const libc::timespec,
                std::ptr::null::<libc::sigset_t>(),
                0usize,
            )
        };
        n as libc::c_int
    }
}

impl Backend for RawEpoll {
    type Waker = RawWaker;
    const NAME: &'static str = "raw epoll";
    const KEY: &'static str = "raw";

    fn new() -> Self {
        // SAFETY: epoll_create1 takes no pointers.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(
            fd >= 0,
            "epoll_create1: {}",
            std::io::Error::last_os_error()
        );
        RawEpoll {
            // SAFETY: the fd was just created and nothing else owns it.
            epoll: unsafe { OwnedFd::from_raw_fd(fd) },
            events: Vec::with_capacity(CAPACITY),
            waker: None,
        }
    }

    fn register(&mut self, fd: BorrowedFd<'_>, key: u32, trigger: Trigger) {
        self.ctl(
            libc::EPOLL_CTL_ADD,
            fd.as_raw_fd(),
            key.into(),
            mask(trigger),
        );
    }

    fn rearm(&mut self, fd: BorrowedFd<'_>, key: u32, trigger: Trigger) {
        self.ctl(
            libc::EPOLL_CTL_MOD,
            fd.as_raw_fd(),
            key.into(),
            mask(trigger),
        );
    }

    fn deregister(&mut self, fd: BorrowedFd<'_>) {
        self.ctl(libc::EPOLL_CTL_DEL, fd.as_raw_fd(), 0, 0);
    }

    #[inline]
    fn wait(&mut self, timeout: Option<Duration>, mut visit: impl FnMut(u64)) -> usize {
        let n = self.epoll_wait(timeout);
        if n < 0 {
            let err = std::io::Error::last_os_error();
            assert_eq!(
                err.kind(),
                std::io::ErrorKind::Interrupted,
                "epoll_wait: {err}"
            );
            return 0;
        }
        // SAFETY: the kernel initialised the first `n` entries, and n <= capacity.
        unsafe { self.events.set_len(n as usize) };
        // The wake-up event is looked for only once a waker exists, as pollio does.
        if self.waker.is_none() {
            for event in &self.events {
                visit(event.u64);
            }
            return self.events.len();
        }
        let mut visited = 0;
        for event in &self.events {
            let word = event.u64;
            if word != WAKE_KEY {
                visit(word);
                visited += 1;
            }
        }
        visited
    }

    fn waker(&mut self) -> RawWaker {
        if let Some(waker) = &self.waker {
            return waker.clone();
        }
        // SAFETY: eventfd takes no pointers.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        assert!(fd >= 0, "eventfd: {}", std::io::Error::last_os_error());
        // SAFETY: the fd was just created and nothing else owns it.
        let eventfd = unsafe { OwnedFd::from_raw_fd(fd) };
        self.ctl(libc::EPOLL_CTL_ADD, fd, WAKE_KEY, mask(Trigger::Edge));
        let waker = RawWaker(Arc::new(eventfd));
        self.waker = Some(waker.clone());
        waker
    }
}
