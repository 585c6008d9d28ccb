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
//!     callable from any thread while another waits, with these error kinds: `AlreadyExists`
//!     for an fd added twice, `NotFound` for modify or delete of an fd that is not registered
//!     and for delete of one closed while registered, `InvalidInput` for the queue itself and
//!     for an add or modify of a descriptor that is not open, `Unsupported` for a file the
//!     kernel cannot poll. The interest is never empty and the fd never negative: the caller
//!     has checked;
//!   - `select(&mut Vec<Event>, Timeout) -> io::Result<()>`: clear the vector, fill it with at
//!     most its capacity of events in one system call, and return `Ok` with no events when a
//!     signal interrupted the call; events left over stay queued in the kernel for the next
//!     call;
//!   - `as_raw_fd()`.
//! - `struct WakeSource`: `new(&Selector)` registers a source whose events carry
//!   [`word::WAKE`](crate::word::WAKE); `notify(&Selector)` makes that event pending, is
//!   async-signal-safe, and needs no draining on the wait path; `owns(fd)` tells whether `fd`
//!   is one of its descriptors, which callers may not register, modify or delete.
//! - In tests, `fn test_event(word: u64) -> Event`: a readable event carrying `word`.
//!
//! Built on these, for every backend: `fill_objects(&[Event], &mut Vec<EventObject>)`, the
//! seed API's conversion (`objects.rs`).

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
mod backend;
mod objects;

pub(crate) use backend::*;
pub(crate) use objects::fill_objects;

use std::io;

/// Calls a libc function and turns its `-1` into the `io::Error` for `errno`.
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
pub(crate) use syscall;

/// `err` re-labelled with the error kind pollio documents for it, keeping the OS text.
#[cold]
pub(crate) fn relabel(err: io::Error, kind: io::ErrorKind, why: &str) -> io::Error {
    io::Error::new(kind, format!("{why} ({err})"))
}
