//! A minimal, fast event poller for Linux, macOS and the BSDs.
//!
//! **pollio** wraps the kernel's readiness APIs — [epoll](https://man7.org/linux/man-pages/man7/epoll.7.html)
//! on Linux and [kqueue](https://man.freebsd.org/cgi/man.cgi?query=kqueue) on macOS, iOS and
//! the BSDs — behind one small [`Poller`] trait, for event-driven servers, custom async
//! runtimes and event loops that want direct control of the OS poller.
//!
//! # Supported platforms
//!
//! | Platform | Backend | Type |
//! |----------|---------|------|
//! | Linux    | `epoll` | [`OsPoller`] |
//! | macOS, iOS, FreeBSD, NetBSD, OpenBSD, DragonFly | `kqueue` | [`OsPoller`] |
//!
//! # Quick start (the pollio 0.1.3 API)
//!
//! ```no_run
//! use pollio::{EventObject, OsPoller, Poller};
//!
//! fn main() -> std::io::Result<()> {
//!     let mut poller = OsPoller::new()?;
//!
//!     // Register a listening socket as a "server" FD.
//!     let listen_fd = 0; // replace with your listening socket
//!     poller.add(EventObject::server(listen_fd))?;
//!
//!     loop {
//!         // Block until at least one FD is readable (-1 = no timeout).
//!         let ready = poller.wait(-1)?;
//!
//!         for event in ready {
//!             match event.kind {
//!                 pollio::EventKind::Server => { /* accept new connections */ }
//!                 pollio::EventKind::Client => { /* read from client */ }
//!             }
//!         }
//!     }
//! }
//! ```
//!
//! # Beyond 0.1.3
//!
//! A [`Registration`] adds a 32-bit user key, an [`Interest`] (readable, writable, priority)
//! and a [`Mode`] (level, edge, oneshot, edge + oneshot); [`Poller::poll`] takes a
//! [`Duration`](std::time::Duration) and returns [`Event`]s carrying the key and a
//! [`Readiness`].
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! use pollio::{Interest, Mode, OsPoller, Poller, Registration};
//! use std::io::Write;
//! use std::os::fd::AsFd;
//! use std::os::unix::net::UnixStream;
//! use std::time::Duration;
//!
//! let mut poller = OsPoller::new()?;
//! let (a, mut b) = UnixStream::pair()?;
//! let reg = Registration::client(7)
//!     .with_interest(Interest::BOTH)
//!     .with_mode(Mode::Edge);
//! poller.register(a.as_fd(), reg)?;
//! b.write_all(b"hello")?;
//!
//! for event in poller.poll(Some(Duration::from_millis(100)))? {
//!     assert_eq!(event.key(), 7);
//!     let ready = event.readiness();
//!     assert!(ready.is_readable() && ready.is_writable());
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Design notes
//!
//! - **Ownership**: pollio never closes a registered fd. Its own fds (the kernel queue and the
//!   waker's eventfd) are close-on-exec and closed when the last handle to them drops.
//! - **Threads**: waiting takes `&mut self`; a [`Registry`] registers from other threads while
//!   a wait is blocked, and a [`Waker`] ends it. Neither takes a lock on the wait path.
//! - **No allocation when waiting**: the event buffer is allocated with the poller and events
//!   are read in place. When more fds are ready than fit, the rest come on later waits.
//! - **Errors**: every failure is an [`std::io::Error`] with a documented
//!   [`ErrorKind`](std::io::ErrorKind) (see each method's `# Errors`); none panics, and a
//!   failed call leaves the poller and its registrations as they were.
//! - **Signals**: a wait interrupted by a signal returns `Ok` with no events, so
//!   `poller.wait(-1)?` loops survive signals and can check their own flags.

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod event;
mod interest;
mod os_poller;
mod poller;
mod readiness;
mod registration;
mod registry;
mod sys;
mod timeout;
mod waker;
mod word;

pub use event::{Event, EventKind, EventObject};
pub use interest::{Interest, Mode};
pub use os_poller::OsPoller;
pub use poller::Poller;
pub use readiness::Readiness;
pub use registration::Registration;
pub use registry::Registry;
pub use waker::Waker;

/// Every public type is `Send + Sync`, checked at compile time.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Event>();
    send_sync::<EventKind>();
    send_sync::<EventObject>();
    send_sync::<Interest>();
    send_sync::<Mode>();
    send_sync::<OsPoller>();
    send_sync::<Readiness>();
    send_sync::<Registration>();
    send_sync::<Registry>();
    send_sync::<Waker>();
};

/// The README's examples, compiled as doctests so they stay true to the code.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;
