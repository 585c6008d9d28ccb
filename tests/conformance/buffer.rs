//! The events buffer: its default size, and no event lost when more fds are ready than fit.

use crate::support::fd::AsRawFd;
use crate::support::{
    backend_of, edge_is_level, poll_now, raise_fd_limit, send, unix_pair, Stream, PATIENCE,
};
use pollio::{Backend, Interest, Mode, OsPoller, Poller, Registration};
use std::collections::{HashMap, HashSet};
use std::time::Instant;

const CAPACITY: usize = 4;
const READY: u32 = 50;

/// `READY` socket pairs registered with keys `0..READY`, ready as `interest` says (writable at
/// once; readable once each has been sent a byte).
fn ready_pairs<P: Poller>(poller: &P, interest: Interest, mode: Mode) -> Vec<(Stream, Stream)> {
    (0..READY)
        .map(|key| {
            let (a, b) = unix_pair();
            let reg = Registration::client(key)
                .with_interest(interest)
                .with_mode(mode);
            poller.add_with(a.as_raw_fd(), reg).expect("add_with");
            send(&b, b"x");
            (a, b)
        })
        .collect()
}

/// Level-triggered, with more fds ready than fit: every wait is full, and successive waits go
/// round all of them.
pub fn level_overflow_loses_nothing<P: Poller>() {
    let mut poller = P::with_capacity(CAPACITY).expect("with_capacity");
    let _pairs = ready_pairs(&poller, Interest::READABLE, Mode::Level);
    waits_go_round(&mut poller);

    // The seed view obeys the same capacity.
    let objects = poller.wait(0).expect("wait");
    assert_eq!(objects.len(), CAPACITY);
}

/// With `READY` fds ready and staying ready, every wait is full and the waits go round all of
/// them.
fn waits_go_round<P: Poller>(poller: &mut P) {
    // epoll puts a reported level-triggered fd at the back of its ready list, and the poll(2)
    // backend starts each wait after the last fd it reported, so 50 ready fds come round in
    // ceil(50 / 4) waits; kqueue only promises "eventually".
    let waits = if backend_of::<P>() == Backend::Kqueue {
        4 * READY as usize
    } else {
        (READY as usize).div_ceil(CAPACITY)
    };
    let mut seen = HashSet::new();
    for _ in 0..waits {
        let events = poll_now(poller);
        assert_eq!(events.len(), CAPACITY, "{events:?}");
        seen.extend(events.iter().map(|e| e.key));
        if seen.len() == READY as usize {
            break;
        }
    }
    assert_eq!(seen, (0..READY).collect(), "level events lost");
}

/// The mode that reports each readiness once: edge-triggered, or oneshot on Windows, where
/// edge-triggered is emulated as level-triggered (unread data is reported again).
const ONCE: Mode = if cfg!(windows) {
    Mode::Oneshot
} else {
    Mode::Edge
};

/// Edge-triggered (oneshot on Windows), with more fds ready than fit: every fd is reported
/// exactly once over the following waits, at most `CAPACITY` per wait, then nothing. The
/// poll(2) backend reports edges as levels: there the waits go round the unread fds as they do
/// for level-triggered ones, and keep reporting them.
pub fn edge_overflow_reports_each_once<P: Poller>() {
    let mut poller = P::with_capacity(CAPACITY).expect("with_capacity");
    let _pairs = ready_pairs(&poller, Interest::READABLE, ONCE);
    if edge_is_level::<P>() {
        waits_go_round(&mut poller);
        waits_go_round(&mut poller);
        return;
    }
    let mut counts: HashMap<u32, usize> = HashMap::new();
    let deadline = Instant::now() + PATIENCE;
    while counts.len() < READY as usize {
        assert!(
            Instant::now() < deadline,
            "only {} fds reported",
            counts.len()
        );
        let events = poll_now(&mut poller);
        assert!(events.len() <= CAPACITY, "{events:?}");
        for event in events {
            *counts.entry(event.key).or_default() += 1;
        }
    }
    assert!(
        poll_now(&mut poller).is_empty(),
        "an edge was reported twice"
    );
    assert_eq!(
        counts.keys().copied().collect::<HashSet<_>>(),
        (0..READY).collect()
    );
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
}

/// Edge-triggered through the seed API: the same, counted by fd.
pub fn edge_overflow_seed_wait<P: Poller>() {
    let mut poller = P::with_capacity(CAPACITY).expect("with_capacity");
    let pairs = ready_pairs(&poller, Interest::READABLE, ONCE);
    if edge_is_level::<P>() {
        // As levels: every wait full, all of them come round, and they are reported again.
        let mut fds = HashSet::new();
        for _ in 0..2 * (READY as usize).div_ceil(CAPACITY) {
            let objects = poller.wait(0).expect("wait");
            assert_eq!(objects.len(), CAPACITY);
            fds.extend(objects.iter().map(|o| o.fd));
        }
        assert_eq!(fds.len(), pairs.len());
        return;
    }
    let mut fds = HashSet::new();
    let deadline = Instant::now() + PATIENCE;
    while fds.len() < pairs.len() {
        assert!(Instant::now() < deadline, "only {} fds reported", fds.len());
        let objects = poller.wait(0).expect("wait");
        assert!(objects.len() <= CAPACITY);
        for object in objects {
            assert!(fds.insert(object.fd), "fd {} reported twice", object.fd);
        }
    }
    assert!(poller.wait(0).expect("wait").is_empty());
}

/// `OsPoller::new` holds `DEFAULT_CAPACITY` events, and one wait returns exactly that many
/// when more are ready.
#[test]
#[cfg_attr(
    miri,
    ignore = "two waits see the same 1,034 ready fds: level-triggered, which Miri's epoll rejects"
)]
fn default_capacity_is_documented_constant() {
    let cap = OsPoller::DEFAULT_CAPACITY;
    assert_eq!(OsPoller::new().expect("new").capacity(), cap);
    assert_eq!(
        OsPoller::with_capacity(7)
            .expect("with_capacity")
            .capacity(),
        7
    );

    raise_fd_limit(2 * cap + 512);
    let mut poller = OsPoller::new().expect("new");
    let pairs: Vec<_> = (0..cap as u32 + 10)
        .map(|key| {
            let (a, b) = unix_pair();
            let reg = Registration::client(key).with_interest(Interest::WRITABLE);
            poller.add_with(a.as_raw_fd(), reg).expect("add_with");
            (a, b)
        })
        .collect();
    assert_eq!(poll_now(&mut poller).len(), cap);
    assert_eq!(poller.wait(0).expect("wait").len(), cap);
    drop(pairs);
}

backend_tests!(
    #[cfg_attr(miri, ignore = "level-triggered, which Miri's epoll rejects")]
    level_overflow_loses_nothing,
    edge_overflow_reports_each_once,
    edge_overflow_seed_wait,
);
