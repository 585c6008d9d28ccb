//! pollio 0.1.3's API, used the way 0.1.3's documentation uses it: these bodies call only
//! `new`, `add`, `delete`, `wait` and `wait_timeout`, so they also run against a poller that
//! implements nothing but 0.1.3's four required methods.

use crate::support::fd::{AsRawFd, RawFd};
use crate::support::{blocking_pair, millis_under_miri, watchdog, PATIENCE};
use pollio::{EventKind, EventObject, Poller};
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// Waits (seed API) until `fd` is reported, and returns its object. Each wait may report an
/// fd at most once.
fn wait_for_object<P: Poller>(poller: &mut P, fd: RawFd) -> EventObject {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no event for fd {fd} within {PATIENCE:?}");
        let objects = poller.wait(left.as_millis() as i32).expect("wait");
        let mine: Vec<_> = objects.iter().filter(|o| o.fd == fd).copied().collect();
        assert!(mine.len() <= 1, "fd {fd} reported twice in one wait");
        if let Some(object) = mine.first() {
            return *object;
        }
    }
}

/// The quick start for real: a listener registered as Server, the accepted connection as
/// Client, and the peer's bytes arriving as a Client event with the connection's fd.
pub fn seed_tcp_flow<P: Poller>() {
    let _guard = watchdog("seed_tcp_flow", 2 * PATIENCE);
    let mut poller = P::new().expect("new");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("set_nonblocking");
    let listen_fd = listener.as_raw_fd();
    poller
        .add(EventObject::server(listen_fd))
        .expect("add server");
    assert!(poller.wait(0).expect("wait").is_empty(), "no client yet");

    let mut peer = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
    let ready = wait_for_object(&mut poller, listen_fd);
    assert_eq!(ready, EventObject::server(listen_fd));

    let (conn, _) = listener.accept().expect("accept");
    conn.set_nonblocking(true).expect("set_nonblocking");
    let conn_fd = conn.as_raw_fd();
    poller
        .add(EventObject::client(conn_fd))
        .expect("add client");
    // The listener's backlog is empty and the connection has no data: nothing is ready.
    assert!(poller.wait(0).expect("wait").is_empty());

    peer.write_all(b"hello pollio").expect("peer write");
    // -1 blocks until the bytes arrive.
    let objects = poller.wait(-1).expect("wait(-1)");
    assert_eq!(objects, [EventObject::client(conn_fd)]);
    match objects[0].kind {
        EventKind::Client => {}
        EventKind::Server => panic!("the connection came back as a server"),
    }

    let mut received = Vec::new();
    while received.len() < b"hello pollio".len() {
        let mut buf = [0u8; 64];
        match (&conn).read(&mut buf) {
            Ok(0) => panic!("peer closed early"),
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                wait_for_object(&mut poller, conn_fd);
            }
            Err(e) => panic!("read: {e}"),
        }
    }
    assert_eq!(received, b"hello pollio");
    assert!(
        poller.wait(0).expect("wait").is_empty(),
        "everything was read"
    );

    poller.delete(conn_fd).expect("delete client");
    poller.delete(listen_fd).expect("delete server");
}

/// `wait(0)` with nothing ready returns an empty slice at once.
pub fn seed_wait_zero_is_empty<P: Poller>() {
    let mut poller = P::new().expect("new");
    let start = Instant::now();
    assert!(poller.wait(0).expect("wait").is_empty());
    let (a, _b) = blocking_pair();
    poller.add(EventObject::client(a.as_raw_fd())).expect("add");
    assert!(poller.wait(0).expect("wait").is_empty());
    assert!(start.elapsed() < PATIENCE, "wait(0) blocked");
}

/// `wait(ms)` with nothing ready never returns before `ms` milliseconds.
pub fn seed_wait_ms_never_early<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (a, _b) = blocking_pair();
    poller.add(EventObject::client(a.as_raw_fd())).expect("add");
    for ms in [1, 5, 30] {
        let start = Instant::now();
        let objects = poller.wait(ms).expect("wait");
        let waited = start.elapsed();
        assert!(objects.is_empty());
        assert!(
            waited >= Duration::from_millis(ms as u64),
            "wait({ms}) returned after {waited:?}"
        );
    }
}

/// `wait_timeout` is as strict: even a 100 µs timeout is waited out in full (under Miri, whose
/// epoll has no sub-millisecond waits, 1 ms).
pub fn seed_wait_timeout_never_early<P: Poller>() {
    let mut poller = P::new().expect("new");
    let timeouts = [Duration::from_micros(100), Duration::from_millis(3)];
    for timeout in timeouts.map(millis_under_miri) {
        let start = Instant::now();
        assert!(poller.wait_timeout(Some(timeout)).expect("wait").is_empty());
        let waited = start.elapsed();
        assert!(waited >= timeout, "{timeout:?} returned after {waited:?}");
    }
}

/// `add` registers for reading only, level-triggered: a writable socket with no data is not
/// reported, and unread data is reported on every wait until it is read.
pub fn seed_add_is_read_and_level<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (a, mut b) = blocking_pair();
    a.set_nonblocking(true).expect("set_nonblocking");
    let fd = a.as_raw_fd();
    poller.add(EventObject::client(fd)).expect("add");
    assert!(
        poller.wait(0).expect("wait").is_empty(),
        "writable is not asked for"
    );

    b.write_all(b"x").expect("write");
    for _ in 0..3 {
        assert_eq!(poller.wait(0).expect("wait"), [EventObject::client(fd)]);
    }
    crate::support::drain(&a);
    assert!(poller.wait(0).expect("wait").is_empty());
}

/// After `delete`, a ready fd is no longer reported, and it can be added again.
pub fn seed_delete_stops_events<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (a, mut b) = blocking_pair();
    let fd = a.as_raw_fd();
    poller.add(EventObject::server(fd)).expect("add");
    b.write_all(b"x").expect("write");
    assert_eq!(poller.wait(0).expect("wait"), [EventObject::server(fd)]);
    poller.delete(fd).expect("delete");
    assert!(poller.wait(0).expect("wait").is_empty());
    poller.add(EventObject::client(fd)).expect("add again");
    assert_eq!(poller.wait(0).expect("wait"), [EventObject::client(fd)]);
}

backend_tests!(
    #[cfg_attr(
        miri,
        ignore = "the seed add is level-triggered, which Miri's epoll rejects"
    )]
    seed_tcp_flow,
    #[cfg_attr(
        miri,
        ignore = "the seed add is level-triggered, which Miri's epoll rejects"
    )]
    seed_wait_zero_is_empty,
    #[cfg_attr(
        miri,
        ignore = "the seed add is level-triggered, which Miri's epoll rejects"
    )]
    seed_wait_ms_never_early,
    seed_wait_timeout_never_early,
    #[cfg_attr(
        miri,
        ignore = "the seed add is level-triggered, which Miri's epoll rejects"
    )]
    seed_add_is_read_and_level,
    #[cfg_attr(
        miri,
        ignore = "the seed add is level-triggered, which Miri's epoll rejects"
    )]
    seed_delete_stops_events,
);

backend_tests!(@backend seed_only, crate::seed_only::SeedOnly;
    #[cfg_attr(miri, ignore = "the seed add is level-triggered, which Miri's epoll rejects")]
    seed_tcp_flow,
    #[cfg_attr(miri, ignore = "the seed add is level-triggered, which Miri's epoll rejects")]
    seed_wait_zero_is_empty,
    #[cfg_attr(miri, ignore = "the seed add is level-triggered, which Miri's epoll rejects")]
    seed_wait_ms_never_early,
    seed_wait_timeout_never_early,
    #[cfg_attr(miri, ignore = "the seed add is level-triggered, which Miri's epoll rejects")]
    seed_add_is_read_and_level,
    #[cfg_attr(miri, ignore = "the seed add is level-triggered, which Miri's epoll rejects")]
    seed_delete_stops_events,
);

/// Code that builds `EventObject` with a struct literal, destructures it and matches
/// `EventKind` exhaustively still compiles: no field or variant was added.
#[test]
fn seed_types_keep_their_shape() {
    let object = EventObject {
        fd: 5,
        kind: EventKind::Server,
    };
    assert_eq!(object, EventObject::server(5));
    let EventObject { fd, kind } = EventObject::client(6);
    let name = match kind {
        EventKind::Server => "server",
        EventKind::Client => "client",
    };
    assert_eq!((fd, name), (6, "client"));
}

/// `encode` keeps 0.1.3's word format and `decode` inverts it for both kinds.
#[test]
fn encode_decode_round_trip() {
    assert_eq!(EventObject::client(7).encode(), (7 << 8) | 2);
    assert_eq!(EventObject::server(3).encode(), (3 << 8) | 1);
    let mut fds = vec![0, 1, 2, 7, 255, 256, 1023, 65_535, 1 << 20];
    if cfg!(target_pointer_width = "64") {
        fds.push(0x7fff_ffff);
    }
    for fd in fds {
        for object in [EventObject::server(fd), EventObject::client(fd)] {
            assert_eq!(EventObject::decode(object.encode()), object);
            assert_eq!(EventObject::try_decode(object.encode()), Some(object));
        }
    }
}

/// A word `encode` never produces decodes without panicking, as documented: the fd from the
/// bits above the low 8, the kind as Client; `try_decode` rejects it.
#[test]
fn decode_of_unknown_tags_does_not_panic() {
    for tag in [0usize, 3, 0x7f, 0xff] {
        let word = (3 << 8) | tag;
        assert_eq!(EventObject::decode(word), EventObject::client(3));
        assert_eq!(EventObject::try_decode(word), None);
    }
    let all_ones = EventObject::decode(usize::MAX);
    assert_eq!(all_ones.kind, EventKind::Client);
    assert_eq!(all_ones.fd, (usize::MAX >> 8) as RawFd);
    assert_eq!(EventObject::try_decode(usize::MAX), None);
    assert_eq!(EventObject::decode(0), EventObject::client(0));
}
