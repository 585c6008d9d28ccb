//! The operating-system backends.
//!
//! One file per kernel API, chosen here and nowhere else:
//!
//! | Targets | `sys::Selector` is | Backends |
//! |---------|--------------------|----------|
//! | Linux, Android | `epoll_or_poll.rs`: one of the two below, chosen at run time | epoll (default), poll |
//! | macOS, iOS, FreeBSD, NetBSD, OpenBSD, DragonFly | `kqueue.rs` | kqueue |
//! | illumos, Solaris, and the other Unix targets in [`on_poll_only_targets`] | `poll.rs` | poll |
//! | Windows (64-bit) | `windows.rs` | AFD polls on an I/O completion port |
//!
//! illumos and Solaris also have event ports (`port_associate`), which would scale better than
//! poll(2); they take the poll(2) backend because it is the one that can be tested here, through
//! Linux, with the whole conformance suite. Event ports are a good later addition beside it.
//!
//! Every backend provides the same items, and the rest of the crate uses only these:
//!
//! - `type RawEvent`: one entry of the buffer the kernel fills, `Copy + Send + Sync`.
//!   [`Event`](crate::Event) is a transparent wrapper around it, so the wait path hands the
//!   caller the kernel's buffer without copying it.
//! - `fn event_word(&RawEvent) -> u64`: the data word given at registration (see `word.rs`);
//!   [`word::WAKE`](crate::word::WAKE) for the wake-up source.
//! - `fn event_readiness(&RawEvent) -> Readiness`: the flags, mapped as the table on
//!   [`Readiness`](crate::Readiness) says.
//! - `const DEFAULT: Backend`: what [`OsPoller::new`](crate::Poller::new) uses.
//! - `struct Selector` (`Send + Sync`), owning the kernel queue's fd, close-on-exec, closed on
//!   drop:
//!   - `new(Backend) -> io::Result<Selector>`: `Unsupported` (see [`unsupported`]) for a
//!     backend it cannot be; `backend()` says which one it is;
//!   - `add(fd, word, Interest, Mode, exclusive)`, `modify(fd, word, Interest, Mode)`,
//!     `delete(fd)`, callable from any thread while another waits. Every failure is an OS
//!     error (`io::Error::last_os_error()` or `from_raw_os_error`), with the errno epoll gives
//!     for it, so callers see one `raw_os_error()` on every backend: `EEXIST` for an fd added
//!     twice; `ENOENT` for modify or delete of an open fd that is not registered (closing an
//!     fd ends its registration); `EBADF` for an fd that is not open; `EINVAL` for the queue
//!     itself; whatever the kernel says for a file it cannot poll (epoll: `EPERM`). The
//!     fd is never negative: the caller has checked;
//!   - `select(&mut Vec<Event>, Timeout) -> io::Result<()>`: clear the vector, fill it with at
//!     most its capacity of events, and return `Ok` with no events when a signal interrupted
//!     the wait; events left over stay ready for the next call; nothing allocated once the
//!     registrations stop growing;
//!   - `as_raw_fd()` and `as_fd()`, the queue's own fd.
//! - `struct WakeSource`: `new(&Selector)` registers a source whose events carry
//!   [`word::WAKE`](crate::word::WAKE); `notify(&Selector)` makes that event pending and is
//!   async-signal-safe; the backend clears it when a wait reports it, without the shared layer's
//!   help; `owns(fd)` tells whether `fd` is one of its descriptors, which callers may not
//!   register, modify or delete.
//! - In tests, `fn test_event(word: u64) -> Event`: a readable event carrying `word`.
//!
//! Timers, signals and child exits (one small module per kernel object; none of them adds work
//! to the wait path, since each is one more registration in the same queue whose events carry
//! the registration's word): `TimerSource`, `SignalSource` and `ChildSource`, each with
//! `new(&Selector, …, Registration)` and `deregister(&Selector)`; timers `arm(Expiry,
//! Option<Duration>)`, `disarm()` and `expirations(&Event)`, signals `deliveries(&Event)`.
//! Linux and Android: `timerfd.rs`, `signalfd.rs`, `pidfd.rs` (`child_thread.rs` without
//! `pidfd_open`), fds registered through the `Selector`, whichever backend it is; kqueue:
//! `kqueue_sources.rs`, knotes of their own filters; the poll-only targets: `no_sources.rs`,
//! whose constructors answer `Unsupported`.
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

/// Expands its items on Linux and Android only.
macro_rules! on_epoll_targets {
    ($($item:item)*) => {$(
        #[cfg(any(target_os = "linux", target_os = "android"))]
        $item
    )*};
}

/// Expands its items on the kqueue targets only.
macro_rules! on_kqueue_targets {
    ($($item:item)*) => {$(
        #[cfg(any(
            target_os = "macos",
            target_os = "ios",
            target_os = "freebsd",
            target_os = "netbsd",
            target_os = "openbsd",
            target_os = "dragonfly",
        ))]
        $item
    )*};
}

/// Expands its items on the Unix targets that have neither epoll nor kqueue, where poll(2) is
/// the only backend: the ones `ci/cross-check.sh` compiles for.
macro_rules! on_poll_only_targets {
    ($($item:item)*) => {$(
        #[cfg(any(
            target_os = "illumos",
            target_os = "solaris",
            target_os = "haiku",
            target_os = "hurd",
            target_os = "nto",
            target_os = "redox",
            target_os = "cygwin",
        ))]
        $item
    )*};
}

/// Expands its items on Windows only (64-bit: see `windows.rs`).
macro_rules! on_windows_targets {
    ($($item:item)*) => {$(
        #[cfg(windows)]
        $item
    )*};
}

/// Expands its items on every Unix target that has a backend.
macro_rules! on_unix_targets {
    ($($item:item)*) => {
        on_epoll_targets! { $($item)* }
        on_kqueue_targets! { $($item)* }
        on_poll_only_targets! { $($item)* }
    };
}

/// Expands its items on every target that has a backend. `lib.rs` puts every module behind it,
/// so a target without one compiles to the single error below and nothing else.
macro_rules! on_supported_targets {
    ($($item:item)*) => {
        on_unix_targets! { $($item)* }
        on_windows_targets! { $($item)* }
    };
}

// The four lists above, together: keep them in step.
#[cfg(not(any(
    windows,
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly",
    target_os = "illumos",
    target_os = "solaris",
    target_os = "haiku",
    target_os = "hurd",
    target_os = "nto",
    target_os = "redox",
    target_os = "cygwin",
)))]
mod no_backend {
    /// The error a target without a backend gets, naming what it is and what pollio supports.
    macro_rules! no_backend_for {
        ($what:literal) => {
            compile_error!(concat!(
                "pollio has no backend for ",
                $what,
                ": it needs epoll (Linux, Android), kqueue (macOS, iOS, FreeBSD, NetBSD, OpenBSD, \
                 DragonFly), poll(2) (illumos, Solaris, Haiku, GNU/Hurd, QNX Neutrino, Redox, \
                 Cygwin) or Windows' AFD and I/O completion ports"
            ));
        };
    }

    // Named where the target is one rustc knows and std supports; one arm applies.
    #[cfg(target_family = "wasm")]
    no_backend_for!("WebAssembly (target_family = \"wasm\")");
    #[cfg(target_os = "fuchsia")]
    no_backend_for!("Fuchsia (target_os = \"fuchsia\")");
    #[cfg(target_os = "aix")]
    no_backend_for!("AIX (target_os = \"aix\")");
    #[cfg(target_os = "espidf")]
    no_backend_for!("ESP-IDF (target_os = \"espidf\")");
    #[cfg(target_os = "vxworks")]
    no_backend_for!("VxWorks (target_os = \"vxworks\")");
    #[cfg(target_os = "nuttx")]
    no_backend_for!("NuttX (target_os = \"nuttx\")");
    #[cfg(target_os = "hermit")]
    no_backend_for!("Hermit (target_os = \"hermit\")");
    #[cfg(target_os = "uefi")]
    no_backend_for!("UEFI (target_os = \"uefi\")");
    #[cfg(not(any(
        target_family = "wasm",
        target_os = "fuchsia",
        target_os = "aix",
        target_os = "espidf",
        target_os = "vxworks",
        target_os = "nuttx",
        target_os = "hermit",
        target_os = "uefi",
    )))]
    no_backend_for!("this target (its target_os is none of the supported ones)");
}

on_supported_targets! {
    pub(crate) use backend::*;
}

on_unix_targets! {
    pub(crate) use objects::fill_objects;
    mod objects;
}

on_epoll_targets! {
    mod epoll;
    mod epoll_or_poll;
    mod poll;
    use epoll_or_poll as backend;
}

on_kqueue_targets! {
    mod kqueue;
    use kqueue as backend;
}

on_poll_only_targets! {
    mod poll;
    use poll as backend;
}

// Its timers, signals and child exits are in files of their own beside it.
on_windows_targets! {
    mod windows;
    use windows as backend;
}

// Timers, signals and child exits: kernel objects of their own where the platform has them.
on_epoll_targets! {
    mod child_thread;
    mod pidfd;
    mod signal_claims;
    mod signalfd;
    mod timerfd;
    pub(crate) use {pidfd::ChildSource, signalfd::SignalSource, timerfd::TimerSource};
}

on_kqueue_targets! {
    mod kqueue_sources;
    mod signal_claims;
    pub(crate) use kqueue_sources::{ChildSource, SignalSource, TimerSource};
}

on_poll_only_targets! {
    mod no_sources;
    pub(crate) use no_sources::{ChildSource, SignalSource, TimerSource};
}

on_supported_targets! {
    /// The error of `Selector::new` for a backend this target does not have: pollio's own
    /// `Unsupported`, naming the backend.
    #[cold]
    pub(crate) fn unsupported(backend: crate::Backend) -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            format!("the {backend} backend is not available on this platform"),
        )
    }
}

on_unix_targets! {
    /// Calls a libc function and turns its `-1` into the `io::Error` for `errno`.
    macro_rules! syscall {
        ($fn:ident ( $($arg:expr),* $(,)? )) => {{
            // SAFETY: each caller states at the call site why its arguments are valid for
            // `$fn`.
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
}
