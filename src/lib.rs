//! A minimal, fast event poller for Linux, macOS, the BSDs, other Unix systems and Windows.
//!
//! **pollio** wraps the kernel's readiness APIs — [epoll](https://man7.org/linux/man-pages/man7/epoll.7.html)
//! on Linux and Android, [kqueue](https://man.freebsd.org/cgi/man.cgi?query=kqueue) on macOS,
//! iOS and the BSDs, [poll(2)](https://man7.org/linux/man-pages/man2/poll.2.html) on the
//! other Unix systems, and the AFD driver's socket polling on an I/O completion port on
//! Windows — behind one small [`Poller`] trait, for event-driven servers, custom async
//! runtimes and event loops that want direct control of the OS poller.
//!
//! # Supported platforms
//!
//! | Platform | Backend | Type |
//! |----------|---------|------|
//! | Linux, Android | `epoll`, or `poll` on request | [`OsPoller`], [`PollPoller`](struct.PollPoller.html) |
//! | macOS, iOS, FreeBSD, NetBSD, OpenBSD, DragonFly | `kqueue` | [`OsPoller`] |
//! | illumos, Solaris, and the other Unix systems the README lists | `poll` | [`OsPoller`] (= [`PollPoller`](struct.PollPoller.html)) |
//! | Windows (64-bit) | AFD polls (`IOCTL_AFD_POLL`) on an I/O completion port | [`OsPoller`] |
//!
//! The poll(2) backend has the same API and errors; it reports edge-triggered registrations
//! as level-triggered ones, and every wait costs time in proportion to the number of
//! registered fds. [`PollPoller`](struct.PollPoller.html), which exists wherever that backend
//! does (everywhere but the kqueue systems and Windows), lists every difference.
//!
//! On Windows a registration names a socket, not an fd: [`RawSource`], [`BorrowedSource`] and
//! [`AsSource`] name an fd on Unix and a socket on Windows, so one program builds on both.
//! Windows emulates level- and edge-triggered modes (edge-triggered is reported as
//! level-triggered there), takes timeouts in whole milliseconds, keeps timers in the poller,
//! and has no signals; the README's Windows section lists every difference.
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
//! # Timers, signals and child processes
//!
//! A [`Timer`], a [`Signal`] and a [`ChildExit`] are registrations like an fd's: made by
//! [`Poller::timer`], [`Poller::signal`], [`Poller::child_exit`] and [`Poller::pid_exit`] (or
//! the same methods of a [`Registry`]), their events carry the [`Registration`]'s key or
//! token, and dropping one deregisters it. Each is one kernel object in the poller's own queue
//! (a timerfd, signalfd or pidfd on Linux; an `EVFILT_TIMER`, `EVFILT_SIGNAL` or `EVFILT_PROC`
//! knote on kqueue), so waiting stays one system call. Their pages list what differs between
//! platforms; [`Signal`]'s says what a signal source changes in the process, and
//! [`ChildExit`]'s what takes the pidfd's place on Linux kernels without `pidfd_open`.
//!
//! # The server loop
//!
//! A loop waits, then handles each event: a listener's event means a connection to accept, a
//! connection's event means data (or end of stream) to read. The events borrow the poller, so
//! registrations made while going through them go through a [`Registry`], a handle to the same
//! kernel queue. (With the seed API, copy the events into a reused `Vec` first, as
//! `examples/seed_echo.rs` does.) Each connection's key names its entry in a table; an event
//! whose key has no owner any more is skipped.
//!
//! ## Level-triggered
//!
//! A level-triggered registration (the default, and what [`Poller::add`] makes) is reported on
//! every wait while it is ready, so each event may do a bounded amount of work, one `accept` or
//! one `read`, and leave the rest for the next wait:
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! use pollio::{OsPoller, Poller, Registration};
//! use std::collections::HashMap;
//! use std::io::{ErrorKind, Read, Write};
//! use std::net::{Shutdown, TcpListener, TcpStream};
//! use std::os::fd::AsFd;
//! use std::time::Duration;
//!
//! const LISTENER: u32 = u32::MAX;
//!
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! listener.set_nonblocking(true)?;
//! let mut poller = OsPoller::new()?;
//! let registry = poller.registry()?;
//! registry.register(listener.as_fd(), Registration::server(LISTENER))?;
//!
//! // A client to serve: one message, then end of stream.
//! let mut client = TcpStream::connect(listener.local_addr()?)?;
//! client.write_all(b"ping")?;
//! client.shutdown(Shutdown::Write)?;
//!
//! let mut conns: HashMap<u32, TcpStream> = HashMap::new();
//! let (mut next_key, mut served) = (0, 0);
//! let mut buf = [0u8; 4096];
//! while served < 1 {
//!     let events = poller.poll(Some(Duration::from_secs(5)))?;
//! #   assert!(!events.is_empty(), "nothing happened in 5 s");
//!     for event in events {
//!         if event.key() == LISTENER {
//!             match listener.accept() {
//!                 Ok((stream, _)) => {
//!                     stream.set_nonblocking(true)?;
//!                     registry.register(stream.as_fd(), Registration::client(next_key))?;
//!                     conns.insert(next_key, stream);
//!                     next_key += 1;
//!                 }
//!                 Err(e) if e.kind() == ErrorKind::WouldBlock => {}
//!                 Err(e) => return Err(e),
//!             }
//!             continue;
//!         }
//!         let Some(stream) = conns.get_mut(&event.key()) else { continue };
//!         match stream.read(&mut buf) {
//!             Ok(0) => {
//!                 // End of stream: delete, then close (dropping the stream closes it).
//!                 registry.deregister(stream.as_fd())?;
//!                 conns.remove(&event.key());
//!                 served += 1;
//!             }
//!             // A reply this small fits in the send buffer. One that may not keeps the rest
//!             // and waits for `Interest::WRITABLE` (see examples/echo.rs).
//!             Ok(n) => stream.write_all(&buf[..n])?,
//!             Err(e) if e.kind() == ErrorKind::WouldBlock => {}
//!             Err(e) => return Err(e),
//!         }
//!     }
//! }
//! let mut reply = Vec::new();
//! client.read_to_end(&mut reply)?;
//! assert_eq!(reply, b"ping");
//! # Ok(())
//! # }
//! ```
//!
//! ## Edge-triggered
//!
//! An edge-triggered registration ([`Mode::Edge`]) is reported once each time new readiness
//! arrives, which saves the kernel re-checking fds that stay ready. In exchange each event must
//! be handled until the call says `WouldBlock`: accept every queued connection, read everything
//! there is (see [the contract](#the-edge-triggered-contract)). Only the registrations and the
//! two inner loops change:
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! use pollio::{Mode, OsPoller, Poller, Registration};
//! # use std::collections::HashMap;
//! use std::io::{ErrorKind, Read, Write};
//! # use std::net::{Shutdown, TcpListener, TcpStream};
//! use std::os::fd::AsFd;
//! # use std::time::Duration;
//!
//! # const LISTENER: u32 = u32::MAX;
//! # let listener = TcpListener::bind("127.0.0.1:0")?;
//! # listener.set_nonblocking(true)?;
//! # let mut poller = OsPoller::new()?;
//! # let registry = poller.registry()?;
//! registry.register(listener.as_fd(), Registration::server(LISTENER).with_mode(Mode::Edge))?;
//! # let mut client = TcpStream::connect(listener.local_addr()?)?;
//! # client.write_all(b"ping")?;
//! # client.shutdown(Shutdown::Write)?;
//! # let mut conns: HashMap<u32, TcpStream> = HashMap::new();
//! # let (mut next_key, mut served) = (0, 0);
//! # let mut buf = [0u8; 4096];
//! // ...
//! while served < 1 {
//!     let events = poller.poll(Some(Duration::from_secs(5)))?;
//! #   assert!(!events.is_empty(), "nothing happened in 5 s");
//!     for event in events {
//!         if event.key() == LISTENER {
//!             loop {
//!                 match listener.accept() {
//!                     Ok((stream, _)) => {
//!                         stream.set_nonblocking(true)?;
//!                         let reg = Registration::client(next_key).with_mode(Mode::Edge);
//!                         registry.register(stream.as_fd(), reg)?;
//!                         conns.insert(next_key, stream);
//!                         next_key += 1;
//!                     }
//!                     Err(e) if e.kind() == ErrorKind::WouldBlock => break,
//!                     Err(e) => return Err(e),
//!                 }
//!             }
//!             continue;
//!         }
//!         let Some(stream) = conns.get_mut(&event.key()) else { continue };
//!         let open = loop {
//!             match stream.read(&mut buf) {
//!                 Ok(0) => break false,
//!                 Ok(n) => stream.write_all(&buf[..n])?,
//!                 Err(e) if e.kind() == ErrorKind::WouldBlock => break true,
//!                 Err(e) => return Err(e),
//!             }
//!         };
//!         if !open {
//!             registry.deregister(stream.as_fd())?;
//!             conns.remove(&event.key());
//!             served += 1;
//!         }
//!     }
//! }
//! # let mut reply = Vec::new();
//! # client.read_to_end(&mut reply)?;
//! # assert_eq!(reply, b"ping");
//! # Ok(())
//! # }
//! ```
//!
//! # The edge-triggered contract
//!
//! An edge is reported when new readiness arrives, not while readiness lasts. If a handler
//! stops before the call says `WouldBlock`, what it left (unread data, queued connections) is
//! not reported again until something *new* arrives, and for a peer that is waiting for a
//! reply nothing new ever does: the connection hangs, with no error anywhere. So with
//! [`Mode::Edge`], read (or accept, or write) until `WouldBlock`, or until end of stream.
//! [`Mode::EdgeOneshot`] is the same, plus a re-arm with [`Poller::modify`] after each event.
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! use pollio::{Interest, Mode, OsPoller, Poller, Registration};
//! use std::io::{ErrorKind, Read, Write};
//! use std::os::fd::AsFd;
//! use std::os::unix::net::UnixStream;
//! use std::time::Duration;
//!
//! let mut poller = OsPoller::new()?;
//! let (mut a, mut b) = UnixStream::pair()?;
//! a.set_nonblocking(true)?;
//! let reg = Registration::client(1).with_interest(Interest::READABLE).with_mode(Mode::Edge);
//! poller.register(a.as_fd(), reg)?;
//!
//! b.write_all(b"hello")?;
//! assert_eq!(poller.poll(Some(Duration::from_secs(5)))?.len(), 1);
//! // The handler did not read: the data is still there, but it is not reported again.
//! assert!(poller.poll(Some(Duration::from_millis(20)))?.is_empty());
//!
//! // Read until WouldBlock: nothing is left behind. The next data to arrive is a new edge.
//! let mut buf = [0u8; 64];
//! assert_eq!(a.read(&mut buf)?, 5);
//! assert_eq!(a.read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
//! b.write_all(b"!")?;
//! assert_eq!(poller.poll(Some(Duration::from_secs(5)))?.len(), 1);
//! # Ok(())
//! # }
//! ```
//!
//! # File descriptor lifetime and reuse
//!
//! pollio never closes your fds, and never keeps one open: a registration names an fd, it
//! does not own it. Delete a registration before closing its fd ([`Registry::deregister`],
//! then drop the stream). Closing an fd normally ends its registration too, after which
//! `delete` says `EBADF` (not open: nothing to delete), and the number, once reused by a new
//! file, can be registered afresh.
//!
//! With epoll the registration belongs to the open file, not to the number. While a
//! duplicate of the fd is open (`dup`, `try_clone`, or a copy inherited across `fork` by a
//! child that has not closed it or called `exec`), closing the fd does **not** end its
//! registration: its events keep coming, naming the fd number and key it was registered
//! with, though the number may now belong to another file, and `delete` can no longer reach
//! it. It ends when the last duplicate is closed. kqueue ends registrations when the fd is
//! closed, duplicates or not, and so does the poll(2) backend, whose registrations belong to
//! the number (see [`PollPoller`](struct.PollPoller.html) for a number reused before a wait).
//! To stay clear of it: delete before closing; don't duplicate registered fds (or close the
//! duplicates first); and with keys, check that the key's owner is still alive before acting
//! on an event (if keys are reused, keep a generation count in some of their bits).
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! use pollio::{OsPoller, Poller, Registration};
//! use std::io::Write;
//! use std::os::fd::{AsFd, AsRawFd};
//! use std::os::unix::net::UnixStream;
//! use std::time::Duration;
//!
//! let mut poller = OsPoller::new()?;
//! let (a, mut peer) = UnixStream::pair()?;
//! let number = a.as_raw_fd();
//! poller.register(a.as_fd(), Registration::client(7))?;
//! let duplicate = a.try_clone()?;
//! drop(a); // closes `number`, not the file: `duplicate` keeps it open
//!
//! peer.write_all(b"x")?;
//! let epoll = poller.backend() == pollio::Backend::Epoll;
//! let events = poller.poll(Some(Duration::from_millis(100)))?;
//! if epoll {
//!     // epoll still reports the registration, under a number that is not open any more.
//!     assert_eq!((events[0].fd(), events[0].key()), (number, 7));
//! } else {
//!     assert!(events.is_empty()); // kqueue and poll(2) ended it when `number` was closed
//! }
//!
//! drop(duplicate); // the last copy: the registration ends everywhere
//! assert!(poller.poll(Some(Duration::ZERO))?.is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! # Threads
//!
//! [`OsPoller`] is `Send + Sync`, and waiting takes `&mut self`: one thread waits on a poller
//! at a time. Other threads use two handles, both `Clone + Send + Sync`, neither of which
//! makes the waiting thread take a lock:
//!
//! - A [`Registry`] adds, modifies and deletes registrations; each call goes straight to the
//!   kernel, and a registration made while a wait is blocked is seen by that wait.
//! - A [`Waker`] makes the current or next wait return. The wake is not an event: keep the
//!   reason in your own queue, push to it *before* waking, and look at it after every wait.
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! use pollio::{OsPoller, Poller};
//! use std::sync::mpsc;
//! use std::time::Duration;
//!
//! let mut poller = OsPoller::new()?;
//! let waker = poller.waker()?;
//! let (jobs, inbox) = mpsc::channel();
//!
//! let worker = std::thread::spawn(move || -> std::io::Result<()> {
//!     for job in 1..=3 {
//!         jobs.send(job).expect("the loop is alive");
//!         waker.wake()?;
//!     }
//!     Ok(())
//! });
//!
//! let mut done = Vec::new();
//! # let deadline = std::time::Instant::now() + Duration::from_secs(10);
//! while done.len() < 3 {
//!     // Returns when woken (the timeout only bounds a wait that nothing ends).
//!     poller.poll(Some(Duration::from_secs(5)))?;
//!     done.extend(inbox.try_iter());
//! #   assert!(std::time::Instant::now() < deadline, "woken too rarely: {done:?}");
//! }
//! assert_eq!(done, [1, 2, 3]);
//! worker.join().expect("worker")?;
//! # Ok(())
//! # }
//! ```
//!
//! # Design notes
//!
//! - **Ownership**: pollio never closes a registered fd. Its own fds (the kernel queue and the
//!   waker's eventfd) are close-on-exec and closed when the last handle to them drops.
//! - **Threads**: [`Poller::poll_into`] takes `&self`: several threads can wait on one poller,
//!   each with its own [`Events`], and register through it meanwhile. `poll` and `wait`, whose
//!   results live in the poller, take `&mut self`; a [`Registry`] registers from other threads
//!   while they block. A [`Waker`] ends a wait. Nothing takes a lock on the wait path (the
//!   poll(2) backend takes one only after its registrations changed, or to hand a oneshot event
//!   to one waiter).
//! - **No allocation when waiting**: event buffers ([`Events`], and the poller's own) are
//!   allocated up front and events are read in place. When more fds are ready than fit, the
//!   rest come on later waits.
//! - **Errors**: a failure the kernel reports is returned as the OS error itself:
//!   `raw_os_error()` is the errno (`EEXIST`, `ENOENT`, `EBADF`, `EPERM`, `EINVAL`, ...) and
//!   `kind()` what the standard library derives from it; on kqueue, the cases epoll refuses
//!   are reported with epoll's errno. pollio makes its own [`std::io::Error`] (no errno) only
//!   for conditions no system call reports, such as the waker's fd or a capacity of 0. The
//!   full table is in [`Poller`'s Errors section](Poller#errors). Nothing panics, and a failed
//!   call leaves the poller and its registrations as they were.
//! - **Signals**: a wait interrupted by a signal returns `Ok` with no events, so
//!   `poller.wait(-1)?` loops survive signals and can check their own flags.

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// First: it defines the macros below, and is where a target without a backend stops, with one
// error and nothing else.
#[macro_use]
mod sys;

on_supported_targets! {
    mod backend;
    mod child_exit;
    mod event;
    mod events;
    mod interest;
    mod os_poller;
    mod poller;
    mod readiness;
    mod registration;
    mod registry;
    mod signal;
    mod source;
    mod timeout;
    mod timer;
    mod waker;
    mod word;

    pub use backend::Backend;
    pub use child_exit::ChildExit;
    pub use event::{Event, EventKind, EventObject};
    pub use events::Events;
    pub use interest::{Interest, Mode};
    pub use os_poller::OsPoller;
    pub use poller::Poller;
    pub use readiness::Readiness;
    pub use registration::Registration;
    pub use registry::Registry;
    pub use signal::Signal;
    pub use source::{AsSource, BorrowedSource, RawSource};
    pub use timer::Timer;
    pub use waker::Waker;

    /// Every public type is `Send + Sync`, checked at compile time.
    const _: () = {
        const fn send_sync<T: Send + Sync>() {}
        send_sync::<Backend>();
        send_sync::<Event>();
        send_sync::<EventKind>();
        send_sync::<EventObject>();
        send_sync::<Events>();
        send_sync::<Interest>();
        send_sync::<Mode>();
        send_sync::<OsPoller>();
        send_sync::<Readiness>();
        send_sync::<Registration>();
        send_sync::<Registry>();
        send_sync::<Waker>();
        send_sync::<Timer>();
        send_sync::<Signal>();
        send_sync::<ChildExit>();
    };
}

// Where the poll(2) backend is compiled: Linux, Android and the targets that have only it.
on_epoll_targets! {
    mod poll_poller;
    pub use poll_poller::PollPoller;
    const _: () = {
        const fn send_sync<T: Send + Sync>() {}
        send_sync::<PollPoller>();
    };
}
on_poll_only_targets! {
    mod poll_poller;
    pub use poll_poller::PollPoller;
    const _: () = {
        const fn send_sync<T: Send + Sync>() {}
        send_sync::<PollPoller>();
    };
}

/// The README's examples, compiled as doctests so they stay true to the code.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;
