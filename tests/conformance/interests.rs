//! Each interest is reported, and only what was asked for is reported.

use crate::support::fd::AsRawFd;
use crate::support::{
    assert_quiet, assert_quiet_for, backend_of, drain, fill, next_event_for, send, unix_pair,
    INCIDENTAL_MODE,
};
use pollio::{Backend, EventObject, Interest, Poller, Registration};

/// READABLE reports data to read and not the (always true) writability.
pub fn readable_interest<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (a, b) = unix_pair();
    let fd = a.as_raw_fd();
    let reg = Registration::client(1)
        .with_interest(Interest::READABLE)
        .with_mode(INCIDENTAL_MODE);
    poller.add_with(fd, reg).expect("add_with");
    assert_quiet(&mut poller);
    send(&b, b"x");
    let seen = next_event_for(&mut poller, fd);
    assert!(seen.ready.readable, "{seen:?}");
    assert!(!seen.ready.writable, "writable was not asked for: {seen:?}");
    assert_eq!(seen.key, 1);
}

/// WRITABLE reports room to write and not the unread data; it goes away when the send buffer
/// is full and comes back when the peer reads.
pub fn writable_interest<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (a, b) = unix_pair();
    let fd = a.as_raw_fd();
    send(&b, b"unread");
    let reg = Registration::client(2)
        .with_interest(Interest::WRITABLE)
        .with_mode(INCIDENTAL_MODE);
    poller.add_with(fd, reg).expect("add_with");
    let seen = next_event_for(&mut poller, fd);
    assert!(seen.ready.writable, "{seen:?}");
    assert!(!seen.ready.readable, "readable was not asked for: {seen:?}");

    fill(&a);
    assert_quiet_for(&mut poller, fd);

    drain(&b);
    let seen = next_event_for(&mut poller, fd);
    assert!(seen.ready.writable, "{seen:?}");
}

/// BOTH reports readable and writable together, as one event per fd in the seed API.
pub fn both_interest<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (a, b) = unix_pair();
    let fd = a.as_raw_fd();
    let reg = Registration::server(3)
        .with_interest(Interest::BOTH)
        .with_mode(INCIDENTAL_MODE);
    poller.add_with(fd, reg).expect("add_with");
    let seen = next_event_for(&mut poller, fd);
    assert!(seen.ready.writable && !seen.ready.readable, "{seen:?}");

    send(&b, b"x");
    let seen = next_event_for(&mut poller, fd);
    assert!(seen.ready.writable && seen.ready.readable, "{seen:?}");
    // New data, so that an edge-triggered registration reports again too.
    send(&b, b"y");
    assert_eq!(poller.wait(0).expect("wait"), [EventObject::server(fd)]);
}

/// PRIORITY reports TCP urgent (out-of-band) data on epoll, as `EPOLLPRI`, and nothing else;
/// on poll(2) as `POLLPRI`; on Windows, as AFD's expedited-receive condition.
pub fn priority_interest<P: Poller>() {
    if backend_of::<P>() == Backend::Kqueue {
        return priority_interest_on_kqueue::<P>();
    }
    let mut poller = P::new().expect("new");
    let (local, peer) = crate::support::tcp_pair();
    let fd = local.as_raw_fd();
    let reg = Registration::client(4).with_interest(Interest::PRIORITY);
    poller.add_with(fd, reg).expect("add_with");
    send(&peer, b"in band");
    // Ordinary data is not priority data.
    let in_band = next_priority_or_timeout(&mut poller, fd);
    assert!(in_band.is_none(), "{in_band:?}");

    send_urgent(&peer, b'!');
    let seen = next_event_for(&mut poller, fd);
    assert!(seen.ready.priority, "{seen:?}");
    assert!(!seen.ready.readable, "readable was not asked for: {seen:?}");
    assert_eq!(seen.key, 4);

    // Level-triggered: reported until the urgent byte is read, then no more.
    assert!(crate::support::poll_now(&mut poller)
        .iter()
        .any(|e| e.ready.priority));
    assert_eq!(recv_urgent(&local), b'!');
    assert_quiet_for(&mut poller, fd);
}

/// On kqueue there is no separate priority readiness: a priority registration watches the
/// read filter, so it reports ordinary (and urgent) data as readable, never as priority.
fn priority_interest_on_kqueue<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (local, peer) = crate::support::tcp_pair();
    let fd = local.as_raw_fd();
    let reg = Registration::client(4).with_interest(Interest::PRIORITY);
    poller.add_with(fd, reg).expect("add_with");
    assert_quiet(&mut poller);
    send_urgent(&peer, b'!');
    send(&peer, b"in band");
    let seen = next_event_for(&mut poller, fd);
    assert!(seen.ready.readable && !seen.ready.priority, "{seen:?}");
    assert_eq!(seen.key, 4);
}

/// Polls briefly for a priority event on `fd`; ordinary data must not produce one.
fn next_priority_or_timeout<P: Poller>(
    poller: &mut P,
    fd: crate::support::fd::RawFd,
) -> Option<crate::support::Seen> {
    // The in-band bytes are delivered on loopback before send returns; a short wait still
    // gives a late delivery the chance to (wrongly) show up as priority.
    let events = crate::support::poll_for(poller, std::time::Duration::from_millis(20));
    crate::support::merged(&events, fd).filter(|e| e.ready.priority)
}

/// Sends one byte of TCP urgent data.
#[cfg(unix)]
fn send_urgent(peer: &std::net::TcpStream, byte: u8) {
    // SAFETY: sends one byte from a live local; the socket is open for the call.
    let n = unsafe {
        libc::send(
            peer.as_raw_fd(),
            (&byte as *const u8).cast(),
            1,
            libc::MSG_OOB,
        )
    };
    assert_eq!(n, 1, "send(MSG_OOB): {}", std::io::Error::last_os_error());
}

/// Reads the byte of urgent data waiting on `socket`.
#[cfg(unix)]
fn recv_urgent(socket: &std::net::TcpStream) -> u8 {
    let mut byte = 0u8;
    // SAFETY: `byte` is one writable byte; the socket is open for the call.
    let n = unsafe {
        libc::recv(
            socket.as_raw_fd(),
            (&mut byte as *mut u8).cast(),
            1,
            libc::MSG_OOB,
        )
    };
    assert_eq!(n, 1, "recv(MSG_OOB): {}", std::io::Error::last_os_error());
    byte
}

// Winsock's send and recv, for urgent data (libc has no Winsock).
#[cfg(windows)]
#[link(name = "ws2_32")]
extern "system" {
    #[link_name = "send"]
    fn ws_send(s: usize, buf: *const u8, len: i32, flags: i32) -> i32;
    #[link_name = "recv"]
    fn ws_recv(s: usize, buf: *mut u8, len: i32, flags: i32) -> i32;
}

/// Winsock's `MSG_OOB`.
#[cfg(windows)]
const MSG_OOB: i32 = 1;

/// Sends one byte of TCP urgent data.
#[cfg(windows)]
fn send_urgent(peer: &std::net::TcpStream, byte: u8) {
    // SAFETY: sends one byte from a live local; the socket is open for the call.
    let n = unsafe { ws_send(peer.as_raw_fd() as usize, &byte, 1, MSG_OOB) };
    assert_eq!(n, 1, "send(MSG_OOB): {}", std::io::Error::last_os_error());
}

/// Reads the byte of urgent data waiting on `socket`.
#[cfg(windows)]
fn recv_urgent(socket: &std::net::TcpStream) -> u8 {
    let mut byte = 0u8;
    // SAFETY: `byte` is one writable byte; the socket is open for the call.
    let n = unsafe { ws_recv(socket.as_raw_fd() as usize, &mut byte, 1, MSG_OOB) };
    assert_eq!(n, 1, "recv(MSG_OOB): {}", std::io::Error::last_os_error());
    byte
}

/// Interest combines and splits as a set of flags.
#[test]
fn interest_is_a_set() {
    assert_eq!(Interest::READABLE | Interest::WRITABLE, Interest::BOTH);
    assert!(Interest::NONE.is_empty());
    assert!(!Interest::PRIORITY.is_empty());
    let mut all = Interest::BOTH;
    all |= Interest::PRIORITY;
    assert!(all.is_readable() && all.is_writable() && all.is_priority());
    let rest = all.remove(Interest::READABLE);
    assert!(!rest.is_readable() && rest.is_writable() && rest.is_priority());
    assert!(all.remove(all).is_empty());
}

backend_tests!(
    readable_interest,
    writable_interest,
    both_interest,
    #[cfg_attr(
        miri,
        ignore = "Miri's epoll rejects EPOLLPRI, and its sockets cannot send urgent data"
    )]
    priority_interest,
);
