//! Threads: a `Registry` changes registrations while another thread waits, and the poller,
//! its registries and wakers move and are shared across threads.

use crate::support::fd::{AsFd, AsRawFd};
use crate::support::{
    assert_quiet_for, assert_usable, edge_is_level, next_event_for, poll_for, poll_now, send,
    unix_pair, watchdog, BlockingThread, INCIDENTAL_MODE, PATIENCE,
};
use pollio::{EventKind, Interest, Mode, Poller, Registration};
use std::collections::HashSet;
use std::sync::mpsc;
use std::thread;
use std::time::Instant;

/// A registration made from another thread while this one is blocked in `poll(None)` is seen
/// by that same wait.
pub fn register_while_blocked<P: Poller>() {
    let _guard = watchdog("register_while_blocked", 2 * PATIENCE);
    let mut poller = P::new().expect("new");
    let registry = poller.registry().expect("registry");
    let main = BlockingThread::current();
    let (a, b) = unix_pair();
    let fd = a.as_raw_fd();
    let thread = thread::spawn(move || {
        main.until_blocked();
        registry
            .register(
                a.as_fd(),
                Registration::server(5).with_mode(INCIDENTAL_MODE),
            )
            .expect("register from another thread");
        send(&b, b"x");
        (a, b)
    });
    let events: Vec<_> = poller.poll(None).expect("poll").to_vec();
    let _pair = thread.join().expect("registering thread");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!((events[0].fd(), events[0].key()), (fd, 5));
    assert_eq!(events[0].kind(), EventKind::Server);
}

/// A `modify` from another thread while this one is blocked takes effect in that wait.
pub fn modify_while_blocked<P: Poller>() {
    let _guard = watchdog("modify_while_blocked", 2 * PATIENCE);
    let mut poller = P::new().expect("new");
    let registry = poller.registry().expect("registry");
    let (a, _b) = unix_pair();
    let fd = a.as_raw_fd();
    let reg = Registration::client(1)
        .with_interest(Interest::READABLE)
        .with_mode(INCIDENTAL_MODE);
    poller.add_with(fd, reg).expect("add_with");
    let main = BlockingThread::current();
    let thread = thread::spawn(move || {
        main.until_blocked();
        registry
            .modify(fd, reg.with_key(6).with_interest(Interest::WRITABLE))
            .expect("modify from another thread");
    });
    let events: Vec<_> = poller.poll(None).expect("poll").to_vec();
    thread.join().expect("modifying thread");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!((events[0].fd(), events[0].key()), (fd, 6));
    assert!(events[0].readiness().is_writable());
}

/// A `delete` (and a seed `add`) from another thread is in force once that thread is done.
pub fn delete_from_another_thread<P: Poller>() {
    let mut poller = P::new().expect("new");
    let registry = poller.registry().expect("registry");
    let (a, b) = unix_pair();
    let fd = a.as_raw_fd();
    poller
        .add_with(fd, Registration::client(2).with_mode(INCIDENTAL_MODE))
        .expect("add_with");
    send(&b, b"x");
    next_event_for(&mut poller, fd);

    let deleting = registry.clone();
    thread::spawn(move || deleting.delete(fd).expect("delete from another thread"))
        .join()
        .expect("deleting thread");
    assert_quiet_for(&mut poller, fd);

    let adding = registry.clone();
    thread::spawn(move || {
        // The seed add is level-triggered, which Miri's epoll rejects.
        let added = if cfg!(miri) {
            adding.add_with(fd, Registration::server(0).with_mode(INCIDENTAL_MODE))
        } else {
            adding.add(pollio::EventObject::server(fd))
        };
        added.expect("add from another thread")
    })
    .join()
    .expect("adding thread");
    let seen = next_event_for(&mut poller, fd);
    assert_eq!((seen.kind, seen.key), (EventKind::Server, 0));

    thread::spawn(move || registry.deregister(a.as_fd()).expect("deregister"))
        .join()
        .expect("deregistering thread");
    assert_quiet_for(&mut poller, fd);
}

/// The poller moves to another thread and waits there, while four threads register through
/// clones of one registry and a fifth wakes it through a waker; then it moves back.
pub fn poller_moves_and_handles_are_shared<P: Poller + Send + 'static>() {
    const THREADS: u32 = 4;
    const PER_THREAD: u32 = 10;
    let _guard = watchdog("poller_moves_and_handles_are_shared", 4 * PATIENCE);
    let poller = P::new().expect("new");
    let registry = poller.registry().expect("registry");
    let waker = poller.waker().expect("waker");
    let (collected, all_collected) = mpsc::channel();
    // Reported once each, so that afterwards only the wake can end a wait: edge-triggered, or
    // oneshot where edges are reported as levels (poll, Windows) and the unread byte would
    // repeat.
    let once = if edge_is_level::<P>() || cfg!(windows) {
        Mode::Oneshot
    } else {
        Mode::Edge
    };

    let waiting = thread::spawn(move || {
        let mut poller = poller;
        let mut keys = HashSet::new();
        let deadline = Instant::now() + PATIENCE;
        while keys.len() < (THREADS * PER_THREAD) as usize {
            assert!(Instant::now() < deadline, "saw only {} keys", keys.len());
            keys.extend(poll_for(&mut poller, PATIENCE).iter().map(|e| e.key));
        }
        collected.send(keys).expect("send keys");
        // Every registration is reported once, and was: only the wake can end this.
        assert!(poller.poll(None).expect("poll").is_empty());
        poller
    });

    let registering: Vec<_> = (0..THREADS)
        .map(|t| {
            let registry = registry.clone();
            thread::spawn(move || {
                (0..PER_THREAD)
                    .map(|i| {
                        let (a, b) = unix_pair();
                        let reg = Registration::client(t * PER_THREAD + i).with_mode(once);
                        registry.register(a.as_fd(), reg).expect("register");
                        send(&b, b"x");
                        (a, b)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let _pairs: Vec<_> = registering
        .into_iter()
        .map(|t| t.join().expect("registering thread"))
        .collect();

    let keys = all_collected.recv().expect("keys");
    assert_eq!(keys, (0..THREADS * PER_THREAD).collect::<HashSet<_>>());
    thread::spawn(move || waker.wake().expect("wake"))
        .join()
        .expect("waking thread");
    let mut poller = waiting.join().expect("waiting thread");
    assert!(poll_now(&mut poller).is_empty());
    assert_usable(&mut poller);
}

backend_tests!(
    register_while_blocked,
    modify_while_blocked,
    delete_from_another_thread,
    poller_moves_and_handles_are_shared,
);
