//! The operating-system backends.
//!
//! One file per kernel API, chosen here and nowhere else. Every backend provides the same
//! items, and the rest of the crate uses only these:
//!
//! - `type RawEvent`: one entry of the buffer the kernel fills, `Copy + Send + Sync`.
//!   [`Event`](crate::Event) is a transparent wrapper around it, so the wait path hands the
//!   caller the kernel's buffer without copying it.
//! - `fn event_word(&RawEvent) -> u64`: the data word given at registration (see `word.rs`);
//!   [`word::WAKE`](crate::word::WAKE) for the wake-up source.
//! - `fn event_readiness(&RawEvent) -> Readiness`: the flags, mapped as the table on
//!   [`Readiness`](crate::Readiness) says.
//! - `struct Selector` (`Send + Sync`), owning the kernel queue's fd, close-on-exec, closed on
//!   drop:
//!   - `new() -> io::Result<Selector>`;
//!   - `add(fd, word, Interest, Mode)`, `modify(fd, word, Interest, Mode)`, `delete(fd)`,
//!     callable from any thread while another waits. Every failure is an OS error
//!     (`io::Error::last_os_error()` or `from_raw_os_error`), with the errno epoll gives for
//!     it, so callers see one `raw_os_error()` on every backend: `EEXIST` for an fd added
//!     twice; `ENOENT` for modify or delete of an open fd that is not registered (closing an
//!     fd ends its registration); `EBADF` for an fd that is not open; `EINVAL` for the queue
//!     itself; whatever the kernel says for a file it cannot poll (epoll: `EPERM`). The
//!     interest is never empty and the fd never negative: the caller has checked;
//!   - `select(&mut Vec<Event>, Timeout) -> io::Result<()>`: clear the vector, fill it with at
//!     most its capacity of events in one system call, and return `Ok` with no events when a
//!     signal interrupted the call; events left over stay queued in the kernel for the next
//!     call;
//!   - `as_raw_fd()` and `as_fd()`, the queue's own fd.
//! - `struct WakeSource`: `new(&Selector)` registers a source whose events carry
//!   [`word::WAKE`](crate::word::WAKE); `notify(&Selector)` makes that event pending, is
//!   async-signal-safe, and needs no draining on the wait path; `owns(fd)` tells whether `fd`
//!   is one of its descriptors, which callers may not register, modify or delete.
//! - In tests, `fn test_event(word: u64) -> Event`: a readable event carrying `word`.
//!
//! Timers, signals and child exits (one small module per kernel object; none of them adds work
//! to the wait path, since each is one more registration in the same queue whose events carry
//! the registration's word): `TimerSource`, `SignalSource` and `ChildSource`, each with
//! `new(&Selector, …, Registration)` and `deregister(&Selector)`; timers `arm(Expiry,
//! Option<Duration>)`, `disarm()` and `expirations(&Event)`, signals `deliveries(&Event)`.
//! Linux: `timerfd.rs`, `signalfd.rs`, `pidfd.rs`, fds registered through the `Selector`;
//! kqueue: `kqueue_sources.rs`, knotes of their own filters.
//!
//! Built on these, for every Unix backend: `fill_objects(&[Event], &mut Vec<EventObject>)`,
//! the seed API's conversion (`objects.rs`).
//!
//! Windows (`windows.rs`, with the system declarations in `afd.rs`) provides the same items
//! over sockets (`RawSocket` where the others take an fd): AFD poll requests completing on an
//! I/O completion port, a posted completion as the wake-up source, its own `fill_objects`
//! (`EventObject` is 16 bytes there), timers kept in a table each wait consults
//! (`windows_timers.rs`), child exits posted by the thread pool's waits
//! (`windows_children.rs`), and a signal source whose constructor returns `Unsupported`
//! (`windows_sources.rs`). Its registration-table errors are pollio's
//! own (`AlreadyExists`, `NotFound`), since no system call reports them.

#[cfg_attr(target_os = "linux", path = "epoll.rs")]
#[cfg_attr(
    any(
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly"
    ),
    path = "kqueue.rs"
)]
#[cfg_attr(windows, path = "windows.rs")]
mod backend;
#[cfg(unix)]
mod objects;

#[cfg(all(unix, not(target_os = "linux")))]
mod kqueue_sources;
#[cfg(target_os = "linux")]
mod pidfd;
#[cfg(unix)]
mod signal_claims;
#[cfg(target_os = "linux")]
mod signalfd;
#[cfg(target_os = "linux")]
mod timerfd;
#[cfg(all(unix, not(target_os = "linux")))]
pub(crate) use kqueue_sources::{ChildSource, SignalSource, TimerSource};
#[cfg(target_os = "linux")]
pub(crate) use {pidfd::ChildSource, signalfd::SignalSource, timerfd::TimerSource};

pub(crate) use backend::*;
#[cfg(unix)]
pub(crate) use objects::fill_objects;

/// Calls a libc function and turns its `-1` into the `io::Error` for `errno`.
#[cfg(unix)]
macro_rules! syscall {
    ($fn:ident ( $($arg:expr),* $(,)? )) => {{
        // SAFETY: each caller states at the call site why its arguments are valid for `$fn`.
        #[allow(unused_unsafe)]
        let res = unsafe { libc::$fn($($arg),*) };
        if res == -1 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(res)
        }
    }};
}
#[cfg(unix)]
pub(crate) use syscall;
