//! What a registration carries (kind and key) and how `modify` and `delete` change it.

use crate::support::fd::AsRawFd;
use crate::support::Stream;
use crate::support::{
    assert_quiet, assert_quiet_for, drain, edge_is_level, merged, next_event_for, poll_now, send,
    unix_pair, INCIDENTAL_MODE,
};
use pollio::{EventKind, EventObject, Interest, Mode, Poller, Registration};
use std::collections::HashMap;

/// Every kind and key, including `u32::MAX` and 0, comes back with its own fd's events, in
/// both the `Event` and the seed `EventObject` view.
pub fn key_and_kind_round_trip<P: Poller>() {
    let mut poller = P::new().expect("new");
    let keys = [
        0,
        1,
        0x7fff_ffff,
        0x8000_0000,
        0xdead_beef,
        u32::MAX - 1,
        u32::MAX,
    ];
    let mut pairs: Vec<(Stream, Stream, Registration)> = Vec::new();
    let mut expected = HashMap::new();
    for key in keys {
        for kind in [EventKind::Server, EventKind::Client] {
            let (a, b) = unix_pair();
            let reg = Registration::new(kind, key)
                .with_interest(Interest::WRITABLE)
                .with_mode(INCIDENTAL_MODE);
            poller.add_with(a.as_raw_fd(), reg).expect("add_with");
            expected.insert(a.as_raw_fd(), (kind, key));
            pairs.push((a, b, reg));
        }
    }
    // Re-registering makes an edge-triggered registration report its readiness again; a
    // level-triggered one reports it anyway.
    let rearm = |poller: &mut P| {
        if INCIDENTAL_MODE.is_edge() {
            for (a, _, reg) in &pairs {
                poller.modify(a.as_raw_fd(), *reg).expect("modify");
            }
        }
    };

    let events = poll_now(&mut poller);
    let reported: HashMap<_, _> = events.iter().map(|e| (e.fd, (e.kind, e.key))).collect();
    assert_eq!(events.len(), expected.len(), "{events:?}");
    assert_eq!(reported, expected);

    rearm(&mut poller);
    let objects = poller.wait(0).expect("wait").to_vec();
    let mut want: Vec<_> = expected
        .iter()
        .map(|(&fd, &(kind, _))| EventObject { fd, kind })
        .collect();
    let mut got = objects;
    want.sort_by_key(|o| o.fd);
    got.sort_by_key(|o| o.fd);
    assert_eq!(got, want);

    rearm(&mut poller);
    let event = poller.poll(Some(std::time::Duration::ZERO)).expect("poll")[0];
    assert_eq!(
        event.object(),
        EventObject {
            fd: event.fd(),
            kind: event.kind()
        }
    );
}

/// `modify` replaces the interest: a readable-only registration with nothing to read is quiet
/// until it is changed to writable, and quiet again when changed back.
pub fn modify_changes_interest<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (a, _b) = unix_pair();
    let fd = a.as_raw_fd();
    let reg = Registration::client(1)
        .with_interest(Interest::READABLE)
        .with_mode(INCIDENTAL_MODE);
    poller.add_with(fd, reg).expect("add_with");
    assert_quiet(&mut poller);
    poller
        .modify(fd, reg.with_interest(Interest::WRITABLE))
        .expect("modify");
    let seen = next_event_for(&mut poller, fd);
    assert!(seen.ready.writable && !seen.ready.readable, "{seen:?}");
    poller.modify(fd, reg).expect("modify back");
    assert_quiet(&mut poller);
}

/// `modify` replaces the mode: level repeats, edge stops repeating, and back. (The poll(2)
/// backend's edge repeats while data is unread, as level does.)
pub fn modify_changes_mode<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (a, b) = unix_pair();
    let fd = a.as_raw_fd();
    let level = Registration::client(2);
    poller.add_with(fd, level).expect("add_with");
    send(&b, b"unread");
    next_event_for(&mut poller, fd);
    assert!(
        merged(&poll_now(&mut poller), fd).is_some(),
        "level repeats"
    );

    poller
        .modify(fd, level.with_mode(Mode::Edge))
        .expect("modify to edge");
    if edge_is_level::<P>() {
        for _ in 0..2 {
            assert!(merged(&poll_now(&mut poller), fd).is_some(), "unread data");
        }
        drain(&a);
        assert_quiet_for(&mut poller, fd);
        send(&b, b"new");
        next_event_for(&mut poller, fd);
    } else {
        // epoll reports data already there once when the mode changes; either way, by the
        // second wait an edge registration with no new data is quiet.
        let _ = poll_now(&mut poller);
        assert_quiet_for(&mut poller, fd);
        send(&b, b"new");
        next_event_for(&mut poller, fd);
        assert_quiet_for(&mut poller, fd);
    }

    poller.modify(fd, level).expect("modify to level");
    for _ in 0..2 {
        assert!(merged(&poll_now(&mut poller), fd).is_some(), "level again");
    }
    drain(&a);
    assert_quiet_for(&mut poller, fd);
}

/// `modify` replaces kind and key in place: the next event carries the new ones.
pub fn modify_changes_kind_and_key<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (a, b) = unix_pair();
    let fd = a.as_raw_fd();
    let client = Registration::client(1).with_mode(INCIDENTAL_MODE);
    poller.add_with(fd, client).expect("add_with");
    send(&b, b"x");
    let seen = next_event_for(&mut poller, fd);
    assert_eq!((seen.kind, seen.key), (EventKind::Client, 1));

    let server = Registration::server(u32::MAX).with_mode(INCIDENTAL_MODE);
    poller.modify(fd, server).expect("modify");
    let seen = next_event_for(&mut poller, fd);
    assert_eq!((seen.kind, seen.key), (EventKind::Server, u32::MAX));
    // New data, so that an edge-triggered registration reports again too.
    send(&b, b"y");
    assert_eq!(poller.wait(0).expect("wait"), [EventObject::server(fd)]);

    poller
        .modify(fd, server.with_key(7).with_kind(EventKind::Client))
        .expect("modify");
    let seen = next_event_for(&mut poller, fd);
    assert_eq!((seen.kind, seen.key), (EventKind::Client, 7));
}

/// `delete` stops one fd's events and leaves the others; the fd can be registered again with
/// a new key.
pub fn delete_stops_events<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (a, b) = unix_pair();
    let (c, d) = unix_pair();
    poller
        .add_with(
            a.as_raw_fd(),
            Registration::client(1).with_mode(INCIDENTAL_MODE),
        )
        .expect("add a");
    poller
        .add_with(
            c.as_raw_fd(),
            Registration::client(2).with_mode(INCIDENTAL_MODE),
        )
        .expect("add c");
    send(&b, b"x");
    next_event_for(&mut poller, a.as_raw_fd());
    // Sent after that wait, so the next one reports c in an edge-triggered registration too.
    send(&d, b"y");

    poller.delete(a.as_raw_fd()).expect("delete");
    let events = poll_now(&mut poller);
    assert_eq!(merged(&events, a.as_raw_fd()), None, "{events:?}");
    assert_eq!(merged(&events, c.as_raw_fd()).map(|e| e.key), Some(2));

    poller
        .add_with(
            a.as_raw_fd(),
            Registration::server(3).with_mode(INCIDENTAL_MODE),
        )
        .expect("add again");
    let seen = next_event_for(&mut poller, a.as_raw_fd());
    assert_eq!((seen.kind, seen.key), (EventKind::Server, 3));
}

backend_tests!(
    key_and_kind_round_trip,
    modify_changes_interest,
    #[cfg_attr(miri, ignore = "level-triggered, which Miri's epoll rejects")]
    #[cfg_attr(
        windows,
        ignore = "Windows emulates edge-triggered as level-triggered: unread data is reported again"
    )]
    modify_changes_mode,
    modify_changes_kind_and_key,
    delete_stops_events,
);
