//! Level, edge, oneshot and edge + oneshot: how often readiness is reported.

use crate::support::fd::AsRawFd;
use crate::support::{
    assert_quiet_for, drain, edge_is_level, merged, next_event_for, poll_now, send, unix_pair,
};
use pollio::{Interest, Mode, Poller, Registration};

/// Level-triggered: unread data is reported on every wait, until it is read.
pub fn level_repeats_until_read<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (a, b) = unix_pair();
    let fd = a.as_raw_fd();
    let reg = Registration::client(1).with_mode(Mode::Level);
    poller.add_with(fd, reg).expect("add_with");
    send(&b, b"x");
    next_event_for(&mut poller, fd);
    for _ in 0..3 {
        let events = poll_now(&mut poller);
        assert_eq!(events.len(), 1, "{events:?}");
        assert!(events[0].ready.readable);
    }
    drain(&a);
    assert_quiet_for(&mut poller, fd);
}

/// Edge-triggered: one event per arrival of new data, even while earlier data stays unread.
/// The poll(2) backend reports it as level-triggered: every wait while data is unread.
pub fn edge_fires_once_per_new_data<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (a, b) = unix_pair();
    let fd = a.as_raw_fd();
    let reg = Registration::client(2).with_mode(Mode::Edge);
    poller.add_with(fd, reg).expect("add_with");
    let again = edge_is_level::<P>();
    // Unread data is not reported again (poll: it is).
    let assert_unread_data = |poller: &mut P| {
        let events = poll_now(poller);
        assert_eq!(merged(&events, fd).is_some(), again, "{events:?}");
    };
    for round in 0..3 {
        send(&b, b"more");
        let seen = next_event_for(&mut poller, fd);
        assert!(seen.ready.readable, "round {round}: {seen:?}");
        assert_unread_data(&mut poller);
    }
    assert_eq!(drain(&a).len(), 12);
    assert_quiet_for(&mut poller, fd);
    send(&b, b"again");
    next_event_for(&mut poller, fd);
    assert_unread_data(&mut poller);
    drain(&a);
    assert_quiet_for(&mut poller, fd);
}

/// Oneshot: one event, then nothing (however much data arrives) until `modify` re-arms it;
/// a re-armed level registration reports the data still unread.
pub fn oneshot_fires_once_until_rearmed<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (a, b) = unix_pair();
    let fd = a.as_raw_fd();
    let reg = Registration::client(3).with_mode(Mode::Oneshot);
    poller.add_with(fd, reg).expect("add_with");
    send(&b, b"x");
    assert_eq!(next_event_for(&mut poller, fd).key, 3);
    assert_quiet_for(&mut poller, fd);
    send(&b, b"y");
    assert_quiet_for(&mut poller, fd);

    for key in [4, 5] {
        poller
            .modify(fd, reg.with_key(key))
            .expect("modify re-arms");
        assert_eq!(next_event_for(&mut poller, fd).key, key);
        assert_quiet_for(&mut poller, fd);
    }
    assert_eq!(drain(&a), b"xy");
}

/// Oneshot on writability: reported once, though the socket stays writable.
pub fn oneshot_writable_fires_once<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (a, _b) = unix_pair();
    let fd = a.as_raw_fd();
    let reg = Registration::server(6)
        .with_interest(Interest::WRITABLE)
        .with_mode(Mode::Oneshot);
    poller.add_with(fd, reg).expect("add_with");
    assert!(next_event_for(&mut poller, fd).ready.writable);
    assert_quiet_for(&mut poller, fd);
    poller.modify(fd, reg).expect("modify");
    assert!(next_event_for(&mut poller, fd).ready.writable);
    assert_quiet_for(&mut poller, fd);
}

/// Edge + oneshot: one event, nothing for later data until re-armed; after `modify`, new data
/// is reported once again.
pub fn edge_oneshot_fires_once_until_rearmed<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (a, b) = unix_pair();
    let fd = a.as_raw_fd();
    let reg = Registration::client(7).with_mode(Mode::EdgeOneshot);
    poller.add_with(fd, reg).expect("add_with");
    send(&b, b"1");
    assert_eq!(next_event_for(&mut poller, fd).key, 7);
    assert_quiet_for(&mut poller, fd);
    send(&b, b"2");
    assert_quiet_for(&mut poller, fd);

    poller.modify(fd, reg.with_key(8)).expect("modify re-arms");
    send(&b, b"3");
    assert_eq!(next_event_for(&mut poller, fd).key, 8);
    assert_quiet_for(&mut poller, fd);
    send(&b, b"4");
    assert_quiet_for(&mut poller, fd);
    assert_eq!(drain(&a), b"1234");
}

/// `Mode` reports what it is.
#[test]
fn mode_predicates() {
    assert_eq!(Mode::default(), Mode::Level);
    let table = [
        (Mode::Level, false, false),
        (Mode::Edge, true, false),
        (Mode::Oneshot, false, true),
        (Mode::EdgeOneshot, true, true),
    ];
    for (mode, edge, oneshot) in table {
        assert_eq!(
            (mode.is_edge(), mode.is_oneshot()),
            (edge, oneshot),
            "{mode:?}"
        );
    }
}

backend_tests!(
    #[cfg_attr(miri, ignore = "level-triggered, which Miri's epoll rejects")]
    level_repeats_until_read,
    #[cfg_attr(
        windows,
        ignore = "Windows emulates edge-triggered as level-triggered: unread data is reported again"
    )]
    edge_fires_once_per_new_data,
    #[cfg_attr(miri, ignore = "Miri's epoll rejects EPOLLONESHOT")]
    oneshot_fires_once_until_rearmed,
    #[cfg_attr(miri, ignore = "Miri's epoll rejects EPOLLONESHOT")]
    oneshot_writable_fires_once,
    #[cfg_attr(miri, ignore = "Miri's epoll rejects EPOLLONESHOT")]
    edge_oneshot_fires_once_until_rearmed,
);
