//! Exclusive registrations: a listening socket added to one poller per thread wakes one of
//! the waiting threads (epoll's `EPOLLEXCLUSIVE`), and the kernel's rules for it.
//!
//! kqueue and poll(2) have no such option: pollio accepts it there and every poller is woken,
//! which the tests assert beside epoll's behaviour.

use crate::errors::{errno_of, own_error_kind};
use crate::support::fd::{AsFd, AsRawFd};
use crate::support::{backend_of, unix_pair, watchdog, BlockingThread, RaiseOnDrop, PATIENCE};
use pollio::{Backend, Events, Interest, Mode, Poller, Registration};
use std::io::ErrorKind;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// How many pollers (one per thread) watch the listener.
const THREADS: usize = 4;

/// The combinations the kernel refuses are refused by pollio first, with its own
/// `InvalidInput`: exclusive with oneshot, with priority interest, and in a modify.
pub fn exclusive_rules_are_checked<P: Poller>() {
    let poller = P::new().expect("new");
    let (a, _b) = unix_pair();
    let fd = a.as_raw_fd();
    let exclusive = Registration::server(1).with_exclusive(true);
    assert!(exclusive.is_exclusive());
    for refused in [
        exclusive.with_mode(Mode::Oneshot),
        exclusive.with_mode(Mode::EdgeOneshot),
        exclusive.with_interest(Interest::READABLE | Interest::PRIORITY),
    ] {
        assert_eq!(
            own_error_kind(poller.add_with(fd, refused)),
            ErrorKind::InvalidInput,
            "{refused:?}"
        );
    }
    poller
        .add_with(fd, exclusive)
        .expect("a plain exclusive add");
    assert_eq!(
        own_error_kind(poller.modify(fd, exclusive)),
        ErrorKind::InvalidInput
    );
    // Changing an exclusive registration at all: epoll refuses it (EINVAL); kqueue and poll,
    // which ignored the option, let it through.
    let plain = Registration::server(2);
    if backend_of::<P>() == Backend::Epoll {
        assert_eq!(errno_of(poller.modify(fd, plain)), libc::EINVAL);
    } else {
        poller
            .modify(fd, plain)
            .expect("kqueue and poll ignore exclusive");
    }
    poller.delete(fd).expect("delete");
    poller
        .add_with(fd, plain.with_mode(Mode::Oneshot))
        .expect("added again, any way");
}

/// How many of `THREADS` pollers, each waited on by its own thread, report one new
/// connection to a listener registered in all of them.
fn pollers_woken_by_one_connection<P: Poller + Send + Sync>(exclusive: bool) -> usize {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("non-blocking");
    let reg = Registration::server(9)
        .with_mode(Mode::Edge)
        .with_exclusive(exclusive);
    let pollers: Vec<P> = (0..THREADS)
        .map(|_| {
            let poller = P::new().expect("new");
            poller.register(listener.as_fd(), reg).expect("register");
            poller
        })
        .collect();
    let stop = AtomicBool::new(false);
    let (blocked_tx, blocked_rx) = mpsc::channel();
    let (woken_tx, woken_rx) = mpsc::channel();
    thread::scope(|scope| {
        let _stop = RaiseOnDrop(&stop);
        for (i, poller) in pollers.iter().enumerate() {
            let (blocked_tx, woken_tx, stop) = (blocked_tx.clone(), woken_tx.clone(), &stop);
            scope.spawn(move || {
                let mut events = Events::new();
                blocked_tx
                    .send(BlockingThread::current())
                    .expect("announce");
                while !stop.load(Ordering::SeqCst) {
                    poller
                        .poll_into(&mut events, Some(Duration::from_millis(50)))
                        .expect("poll_into");
                    if !events.is_empty() {
                        woken_tx.send(i).expect("report");
                        return;
                    }
                }
            });
        }
        for _ in 0..THREADS {
            blocked_rx.recv().expect("started").until_blocked();
        }
        let _client = TcpStream::connect(listener.local_addr().expect("address")).expect("connect");
        let mut woken = vec![woken_rx.recv_timeout(PATIENCE).expect("no poller woke")];
        // Every thread waits again within 50 ms: a poller that saw the connection reports it
        // well within this.
        while let Ok(i) = woken_rx.recv_timeout(Duration::from_millis(300)) {
            woken.push(i);
        }
        stop.store(true, Ordering::SeqCst);
        woken.len()
    })
}

/// One connection to a listener watched by four pollers: without the option every poller
/// reports it; with it, epoll wakes fewer of them (normally one), kqueue and poll still all.
pub fn exclusive_listener_wakes_fewer_pollers<P: Poller + Send + Sync>() {
    let _guard = watchdog("exclusive_listener_wakes_fewer_pollers", 4 * PATIENCE);
    assert_eq!(pollers_woken_by_one_connection::<P>(false), THREADS);
    let woken = pollers_woken_by_one_connection::<P>(true);
    if backend_of::<P>() == Backend::Epoll {
        assert!(
            (1..THREADS).contains(&woken),
            "{woken} of {THREADS} pollers woken"
        );
    } else {
        assert_eq!(woken, THREADS, "kqueue and poll ignore exclusive");
    }
}

backend_tests!(
    #[cfg_attr(
        miri,
        ignore = "Miri's epoll has no EPOLLEXCLUSIVE and no level or oneshot"
    )]
    exclusive_rules_are_checked,
    #[cfg_attr(miri, ignore = "Miri's epoll has no EPOLLEXCLUSIVE")]
    exclusive_listener_wakes_fewer_pollers,
);
