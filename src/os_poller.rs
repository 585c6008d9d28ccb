//! `OsPoller`: the platform's poller, the same code over every backend.

use crate::events::{event_buffer, out_of_memory};
use crate::registry::Shared;
#[cfg(windows)]
use crate::source::RawSource as RawFd;
use crate::timeout::Timeout;
use crate::{sys, Backend, Event, EventObject, Events, Poller, Registration, Registry, Waker};
use crate::{ChildExit, Signal, Timer};
use std::io;
#[cfg(unix)]
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::process::Child;
use std::time::Duration;

#[cfg(windows)]
#[path = "os_poller_windows.rs"]
mod windows;

/// The platform's poller: epoll on Linux and Android, kqueue on macOS, iOS and the BSDs,
/// poll(2) on the other Unix systems pollio supports, AFD polls on an I/O completion port on
/// Windows. On Linux and Android, [`with_backend`](Self::with_backend) can build one on poll(2)
/// instead (see [`Backend`]).
///
/// It owns the kernel queue (close-on-exec, closed on drop) and one event buffer of
/// [`capacity`](Self::capacity) entries, allocated up front: waiting allocates nothing.
/// It never closes the fds registered in it.
///
/// `OsPoller` is `Send + Sync`. Waiting takes `&mut self`; to register from other threads
/// meanwhile, use a [`Registry`], and to interrupt a wait, a [`Waker`].
pub struct OsPoller {
    registry: Registry,
    /// The kernel's event buffer; its capacity is the most events one wait returns.
    events: Vec<Event>,
    /// The seed API's view of `events`, filled by `wait`; allocated on first use.
    objects: Vec<EventObject>,
}

impl OsPoller {
    /// Events returned by one wait of a poller made with [`Poller::new`]: 1,024, which costs
    /// 12 KiB for the kernel buffer on Linux x86_64 (16 bytes an event on other 64-bit
    /// targets, 32 with kqueue) plus 8 KiB once the seed `wait` is used.
    pub const DEFAULT_CAPACITY: usize = 1024;

    /// A poller on `backend` whose wait returns at most `capacity` events at a time.
    /// [`Poller::with_capacity`] is this with the platform's own backend.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use pollio::{Backend, OsPoller};
    /// use std::io::ErrorKind;
    ///
    /// if cfg!(any(target_os = "linux", target_os = "android")) {
    ///     let poller = OsPoller::with_backend(Backend::Poll, 256)?;
    ///     assert_eq!((poller.backend(), poller.capacity()), (Backend::Poll, 256));
    ///     let kqueue = OsPoller::with_backend(Backend::Kqueue, 256);
    ///     assert_eq!(kqueue.unwrap_err().kind(), ErrorKind::Unsupported);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Unsupported`](io::ErrorKind::Unsupported) (pollio's own, no errno) for a backend this
    /// platform does not have: only Linux and Android have two. Otherwise as
    /// [`Poller::with_capacity`].
    pub fn with_backend(backend: Backend, capacity: usize) -> io::Result<OsPoller> {
        let events = event_buffer(capacity)?;
        Ok(OsPoller {
            registry: Registry {
                shared: Shared::new(backend)?,
            },
            events,
            objects: Vec::new(),
        })
    }

    /// The kernel interface this poller waits with.
    pub fn backend(&self) -> Backend {
        self.shared().selector.backend()
    }

    /// The most events one wait returns.
    pub fn capacity(&self) -> usize {
        self.events.capacity()
    }

    fn shared(&self) -> &Shared {
        &self.registry.shared
    }

    /// One kernel wait, with the wake-up event (if any) taken out.
    ///
    /// Always inlined into `poll` and the seed `wait`: when LLVM declined to, the call frame
    /// and the timeout passed through memory cost 24 more instructions per wait (wait(0) on an
    /// idle poller took 61 instructions of user space instead of 37).
    #[inline(always)]
    fn select(&mut self, timeout: Timeout) -> io::Result<()> {
        let shared = &*self.registry.shared;
        shared.selector.select(&mut self.events, timeout)?;
        shared.take_wake(&mut self.events);
        Ok(())
    }

    /// `select`, then the events as seed-API objects.
    #[inline(always)]
    fn select_objects(&mut self, timeout: Timeout) -> io::Result<&[EventObject]> {
        self.select(timeout)?;
        if self.objects.capacity() < self.events.len() {
            self.reserve_objects()?;
        }
        sys::fill_objects(&self.events, &mut self.objects);
        Ok(&self.objects)
    }

    /// First seed wait with events: sizes the object buffer once for the largest possible
    /// result, so no later wait allocates.
    #[cold]
    #[inline(never)]
    fn reserve_objects(&mut self) -> io::Result<()> {
        self.objects.clear();
        self.objects
            .try_reserve_exact(self.events.capacity())
            .map_err(|_| out_of_memory())
    }
}

impl Poller for OsPoller {
    fn new() -> io::Result<Self> {
        Self::with_capacity(Self::DEFAULT_CAPACITY)
    }

    fn with_capacity(capacity: usize) -> io::Result<Self> {
        Self::with_backend(sys::DEFAULT, capacity)
    }

    #[inline]
    fn add(&self, event: EventObject) -> io::Result<()> {
        self.registry.add(event)
    }

    #[inline]
    fn delete(&self, fd: RawFd) -> io::Result<()> {
        self.registry.delete(fd)
    }

    // Forced: LLVM declines to inline it, and the call costs 25 instructions per wait.
    #[inline(always)]
    fn wait(&mut self, timeout_ms: i32) -> io::Result<&[EventObject]> {
        self.select_objects(Timeout::from_millis(timeout_ms))
    }

    #[inline]
    fn add_with(&self, fd: RawFd, registration: Registration) -> io::Result<()> {
        self.registry.add_with(fd, registration)
    }

    #[inline]
    fn modify(&self, fd: RawFd, registration: Registration) -> io::Result<()> {
        self.registry.modify(fd, registration)
    }

    // Forced, as `wait`: with the poll backend's branch beside epoll's (Linux), LLVM stops
    // inlining it, and the call and the timeout computed at run time cost 44 instructions per
    // wait.
    #[inline(always)]
    fn poll(&mut self, timeout: Option<Duration>) -> io::Result<&[Event]> {
        self.select(Timeout::from_duration(timeout))?;
        Ok(&self.events)
    }

    // Forced, as `poll`.
    #[inline(always)]
    fn poll_into(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<usize> {
        let shared = self.shared();
        shared
            .selector
            .select(&mut events.list, Timeout::from_duration(timeout))?;
        shared.take_wake(&mut events.list);
        Ok(events.list.len())
    }

    fn wait_timeout(&mut self, timeout: Option<Duration>) -> io::Result<&[EventObject]> {
        self.select_objects(Timeout::from_duration(timeout))
    }

    fn waker(&self) -> io::Result<Waker> {
        self.registry.shared.waker()
    }

    fn registry(&self) -> io::Result<Registry> {
        Ok(self.registry.clone())
    }

    fn timer(&self, registration: Registration) -> io::Result<Timer> {
        self.registry.timer(registration)
    }

    fn signal(&self, signo: i32, registration: Registration) -> io::Result<Signal> {
        self.registry.signal(signo, registration)
    }

    fn child_exit(&self, child: &Child, registration: Registration) -> io::Result<ChildExit> {
        self.registry.child_exit(child, registration)
    }

    fn pid_exit(&self, pid: u32, registration: Registration) -> io::Result<ChildExit> {
        self.registry.pid_exit(pid, registration)
    }
}

#[cfg(unix)]
impl AsRawFd for OsPoller {
    fn as_raw_fd(&self) -> RawFd {
        self.shared().selector.as_raw_fd()
    }
}

/// The kernel queue's fd (the epoll or kqueue descriptor), borrowed for as long as the poller.
/// It can be registered in another poller, to nest one event loop in another. The poll(2)
/// backend has no kernel queue: its fd is the eventfd (or pipe) that interrupts its wait, which
/// add, modify and delete refuse as epoll refuses its own fd, and which cannot nest it.
#[cfg(unix)]
impl AsFd for OsPoller {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.shared().selector.as_fd()
    }
}

impl std::fmt::Debug for OsPoller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OsPoller")
            .field("backend", &self.backend())
            .field("fd", &self.shared().selector.as_raw_fd())
            .field("capacity", &self.capacity())
            .finish()
    }
}
