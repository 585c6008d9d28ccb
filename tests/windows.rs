//! The Windows backend (AFD polls on an I/O completion port), through the public API only:
//! readiness and hang-up, the three modes as Windows emulates them, the waker, registration
//! from another thread while a wait blocks, timeouts that never end early, and the errors.
//!
//! Sockets are TCP pairs over loopback (Windows has no socketpair). Run on Linux through
//! `ci/windows.sh`, under Wine.
#![cfg(windows)]

use pollio::{AsSource, Event, Events, Interest, Mode, OsPoller, Poller, RawSource, Registration};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::windows::io::AsRawSocket;
use std::time::{Duration, Instant};

/// A connected, non-blocking TCP pair on 127.0.0.1: (accepted side, connecting side).
fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let peer = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
    let (local, _) = listener.accept().expect("accept");
    for s in [&local, &peer] {
        s.set_nonblocking(true).expect("nonblocking");
        s.set_nodelay(true).expect("nodelay");
    }
    (local, peer)
}

/// Long enough for anything that should happen, so a failure is a real one.
const PATIENCE: Duration = Duration::from_secs(5);
/// How long to watch for something that should not happen.
const QUIET: Duration = Duration::from_millis(100);

/// Waits until an event with `key` arrives (or PATIENCE passes) and returns it.
fn next_event(poller: &OsPoller, events: &mut Events, key: u32) -> Option<Event> {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        poller
            .poll_into(events, Some(deadline - Instant::now()))
            .expect("poll");
        if let Some(e) = events.iter().find(|e| e.key() == key) {
            return Some(*e);
        }
    }
    None
}

/// The events with `key` reported within QUIET.
fn quiet_events(poller: &OsPoller, events: &mut Events, key: u32) -> usize {
    let deadline = Instant::now() + QUIET;
    let mut n = 0;
    loop {
        let now = Instant::now();
        if now >= deadline {
            return n;
        }
        poller
            .poll_into(events, Some(deadline - now))
            .expect("poll");
        n += events.iter().filter(|e| e.key() == key).count();
    }
}

/// Reads until WouldBlock; returns the bytes read, or None at end of stream.
fn drain(s: &mut TcpStream) -> Option<usize> {
    let mut buf = [0u8; 4096];
    let mut total = 0;
    loop {
        match s.read(&mut buf) {
            Ok(0) => return None,
            Ok(n) => total += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Some(total),
            Err(e) => panic!("read: {e}"),
        }
    }
}

#[test]
fn readable_and_writable() {
    let poller = OsPoller::new().unwrap();
    let mut events = Events::new();
    let (a, mut b) = tcp_pair();
    poller
        .register(
            a.as_source(),
            Registration::client(1).with_interest(Interest::BOTH),
        )
        .unwrap();
    let e = next_event(&poller, &mut events, 1).expect("writable");
    assert!(e.readiness().is_writable(), "{e:?}");
    assert!(!e.readiness().is_readable(), "{e:?}");
    assert_eq!(e.fd(), a.as_raw_socket() as RawSource);

    b.write_all(b"hello").unwrap();
    let deadline = Instant::now() + PATIENCE;
    loop {
        let e = next_event(&poller, &mut events, 1).expect("readable");
        if e.readiness().is_readable() {
            assert!(e.readiness().is_writable(), "{e:?}");
            break;
        }
        assert!(Instant::now() < deadline, "never readable");
    }
}

#[test]
fn level_reports_until_drained() {
    let poller = OsPoller::new().unwrap();
    let mut events = Events::new();
    let (mut a, mut b) = tcp_pair();
    poller
        .register(a.as_source(), Registration::client(2))
        .unwrap();
    assert_eq!(
        quiet_events(&poller, &mut events, 2),
        0,
        "nothing to read yet"
    );
    b.write_all(b"x").unwrap();
    assert!(next_event(&poller, &mut events, 2).is_some());
    // Still unread: reported again on the next wait, and the one after.
    assert!(next_event(&poller, &mut events, 2).is_some());
    assert!(next_event(&poller, &mut events, 2).is_some());
    assert_eq!(drain(&mut a), Some(1));
    assert_eq!(quiet_events(&poller, &mut events, 2), 0, "drained");
}

#[test]
fn oneshot_fires_once_until_modified() {
    let poller = OsPoller::new().unwrap();
    let mut events = Events::new();
    let (a, mut b) = tcp_pair();
    let reg = Registration::client(3).with_mode(Mode::Oneshot);
    poller.register(a.as_source(), reg).unwrap();
    b.write_all(b"x").unwrap();
    assert!(next_event(&poller, &mut events, 3).is_some());
    assert_eq!(quiet_events(&poller, &mut events, 3), 0, "disarmed");
    poller.reregister(a.as_source(), reg).unwrap();
    assert!(next_event(&poller, &mut events, 3).is_some(), "re-armed");
}

#[test]
fn edge_is_reported_again_while_ready_on_windows() {
    // Windows emulates edge as level: an undrained socket is reported on every wait. A
    // drained one is quiet, and new data is a new event, as with epoll.
    let poller = OsPoller::new().unwrap();
    let mut events = Events::new();
    let (mut a, mut b) = tcp_pair();
    let reg = Registration::client(4).with_mode(Mode::Edge);
    poller.register(a.as_source(), reg).unwrap();
    b.write_all(b"x").unwrap();
    assert!(next_event(&poller, &mut events, 4).is_some());
    assert!(next_event(&poller, &mut events, 4).is_some(), "undrained");
    assert_eq!(drain(&mut a), Some(1));
    assert_eq!(quiet_events(&poller, &mut events, 4), 0, "drained");
    b.write_all(b"y").unwrap();
    assert!(next_event(&poller, &mut events, 4).is_some(), "new data");
}

#[test]
fn peer_shutdown_and_close_are_read_hang_up() {
    let poller = OsPoller::new().unwrap();
    let mut events = Events::new();
    let (mut a, b) = tcp_pair();
    poller
        .register(a.as_source(), Registration::client(5))
        .unwrap();
    b.shutdown(Shutdown::Write).unwrap();
    let e = next_event(&poller, &mut events, 5).expect("hang-up");
    let r = e.readiness();
    assert!(
        r.is_readable() && r.is_read_closed() && r.is_read_hang_up(),
        "{e:?}"
    );
    assert_eq!(drain(&mut a), None, "end of stream");
    drop(b);
}

#[test]
fn waker_ends_a_blocked_wait() {
    let poller = OsPoller::new().unwrap();
    let waker = poller.waker().unwrap();
    let mut events = Events::new();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        waker.wake().unwrap();
    });
    let start = Instant::now();
    let n = poller.poll_into(&mut events, Some(PATIENCE)).unwrap();
    assert_eq!(n, 0, "the wake is not an event");
    assert!(start.elapsed() < PATIENCE, "woken");
    t.join().unwrap();
}

#[test]
fn registration_from_another_thread_reaches_a_blocked_wait() {
    let poller = OsPoller::new().unwrap();
    let registry = poller.registry().unwrap();
    let mut events = Events::new();
    let (a, mut b) = tcp_pair();
    b.write_all(b"x").unwrap();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        registry
            .register(a.as_source(), Registration::client(6))
            .unwrap();
        a
    });
    let e = next_event(&poller, &mut events, 6).expect("seen by the blocked wait");
    assert!(e.readiness().is_readable());
    drop(t.join().unwrap());
}

#[test]
fn timeouts_never_end_early() {
    let poller = OsPoller::new().unwrap();
    let mut events = Events::new();
    for timeout in [
        Duration::from_micros(300),
        Duration::from_millis(1),
        Duration::from_millis(7),
        Duration::from_millis(30),
    ] {
        let start = Instant::now();
        poller.poll_into(&mut events, Some(timeout)).unwrap();
        let took = start.elapsed();
        assert!(took >= timeout, "{timeout:?} took {took:?}");
        assert!(
            took < timeout + Duration::from_secs(1),
            "{timeout:?} took {took:?}"
        );
    }
}

#[test]
fn errors() {
    let poller = OsPoller::new().unwrap();
    let (a, _b) = tcp_pair();
    poller
        .register(a.as_source(), Registration::client(7))
        .unwrap();
    let twice = poller
        .register(a.as_source(), Registration::client(7))
        .unwrap_err();
    // The registration table is pollio's own on Windows: these errors carry no OS code.
    assert_eq!(twice.kind(), ErrorKind::AlreadyExists, "{twice:?}");
    assert_eq!(twice.raw_os_error(), None, "{twice:?}");
    poller.deregister(a.as_source()).unwrap();
    let gone = poller.deregister(a.as_source()).unwrap_err();
    assert_eq!(gone.kind(), ErrorKind::NotFound, "{gone:?}");
    assert_eq!(gone.raw_os_error(), None, "{gone:?}");
    let gone = poller
        .reregister(a.as_source(), Registration::client(7))
        .unwrap_err();
    assert_eq!(gone.kind(), ErrorKind::NotFound, "{gone:?}");
    // The poller stays usable.
    poller
        .register(a.as_source(), Registration::client(9))
        .unwrap();
    // Not a socket: Winsock's error for it passes through. Windows documents WSAENOTSOCK
    // (10038); Wine 8 answers ERROR_INVALID_HANDLE (6).
    let not_socket = poller.add_with(12345, Registration::client(8)).unwrap_err();
    let code = not_socket.raw_os_error();
    assert!(matches!(code, Some(10038 | 6)), "{not_socket:?}");
}

#[test]
fn seed_api_and_tokens() {
    let mut poller = OsPoller::new().unwrap();
    let (a, mut b) = tcp_pair();
    let socket = a.as_raw_socket();
    poller.add(pollio::EventObject::client(socket)).unwrap();
    b.write_all(b"x").unwrap();
    let deadline = Instant::now() + PATIENCE;
    let objects = loop {
        let got = poller.wait(100).unwrap().to_vec();
        if !got.is_empty() || Instant::now() > deadline {
            break got;
        }
    };
    assert_eq!(objects, [pollio::EventObject::client(socket)]);
    poller.delete(socket).unwrap();

    let token = 0xdead_beef_0000_0007;
    poller
        .register(a.as_source(), Registration::from_token(token))
        .unwrap();
    let mut events = Events::new();
    poller.poll_into(&mut events, Some(PATIENCE)).unwrap();
    assert_eq!(events[0].token(), token);
}

// Winsock's setsockopt, to make a close send a reset (libc has no Winsock).
#[link(name = "ws2_32")]
extern "system" {
    fn setsockopt(s: usize, level: i32, name: i32, value: *const u8, len: i32) -> i32;
}

/// Closes `stream` with a reset: SO_LINGER on, zero seconds.
fn close_with_reset(stream: TcpStream) {
    const SOL_SOCKET: i32 = 0xffff;
    const SO_LINGER: i32 = 0x0080;
    // struct linger { u_short l_onoff; u_short l_linger; }
    let linger: [u16; 2] = [1, 0];
    // SAFETY: a live 4-byte linger struct for an open socket.
    let rc = unsafe {
        setsockopt(
            stream.as_raw_socket() as usize,
            SOL_SOCKET,
            SO_LINGER,
            linger.as_ptr().cast(),
            4,
        )
    };
    assert_eq!(rc, 0, "SO_LINGER: {}", std::io::Error::last_os_error());
    drop(stream);
}

#[test]
fn a_reset_is_an_error_and_a_hang_up_even_when_parked() {
    let poller = OsPoller::new().unwrap();
    let mut events = Events::new();
    let (a, b) = tcp_pair();
    let (c, d) = tcp_pair();
    poller
        .register(
            a.as_source(),
            Registration::client(10).with_interest(Interest::BOTH),
        )
        .unwrap();
    poller
        .register(
            c.as_source(),
            Registration::client(11).with_interest(Interest::NONE),
        )
        .unwrap();
    // Writable at first; take that event so the reset is what comes next.
    let first = next_event(&poller, &mut events, 10).expect("writable");
    assert!(first.readiness().is_writable());
    close_with_reset(b);
    close_with_reset(d);
    let deadline = Instant::now() + PATIENCE;
    let reset = loop {
        let e = next_event(&poller, &mut events, 10).expect("reset");
        if e.readiness().is_error() || Instant::now() > deadline {
            break e;
        }
    };
    let r = reset.readiness();
    assert!(
        r.is_error() && r.is_hang_up() && r.is_read_closed(),
        "{reset:?}"
    );
    assert!(
        r.is_write_closed() && r.is_readable() && r.is_writable(),
        "{reset:?}"
    );
    let parked = next_event(&poller, &mut events, 11).expect("the parked socket's reset");
    let r = parked.readiness();
    assert!(r.is_error() && r.is_hang_up(), "{parked:?}");
    assert!(!r.is_readable() && !r.is_writable(), "{parked:?}");
    drop((a, c));
}

#[test]
fn closing_a_registered_socket_ends_its_registration() {
    let poller = OsPoller::new().unwrap();
    let mut events = Events::new();
    let (a, _b) = tcp_pair();
    let socket = a.as_raw_socket();
    poller
        .register(
            a.as_source(),
            Registration::client(12).with_interest(Interest::READABLE),
        )
        .unwrap();
    drop(a);
    // A wait takes the driver's local-close completion, which reports nothing, and ends the
    // registration (the backend's unit tests check its table is empty then).
    assert_eq!(quiet_events(&poller, &mut events, 12), 0);
    // Delete fails: the value is not a socket any more, or, reused at once by a socket another
    // test opened, not registered here.
    assert!(poller.delete(socket).is_err());
}

/// Run as a child by the tests below (`POLLIO_CHILD_WAITS` set): waits until its stdin is
/// closed, then exits. Otherwise it passes at once.
#[test]
fn helper_child_waits_for_stdin() {
    if std::env::var_os("POLLIO_CHILD_WAITS").is_some() {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
    }
}

/// This test binary, running only the helper above, which waits for its stdin to close.
fn waiting_child() -> std::process::Child {
    std::process::Command::new(std::env::current_exe().expect("current_exe"))
        .args(["--exact", "helper_child_waits_for_stdin", "--quiet"])
        .env("POLLIO_CHILD_WAITS", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn")
}

#[test]
fn child_exit_is_reported_when_the_child_exits() {
    let poller = OsPoller::new().unwrap();
    let mut events = Events::new();
    let mut child = waiting_child();
    let exit = poller.child_exit(&child, Registration::client(20)).unwrap();
    assert_eq!(exit.pid(), child.id());
    assert_eq!(quiet_events(&poller, &mut events, 20), 0, "still running");
    drop(child.stdin.take()); // the child exits
    let e = next_event(&poller, &mut events, 20).expect("exit");
    assert!(e.readiness().is_readable(), "{e:?}");
    assert!(child.wait().unwrap().success());
    // Reported once.
    assert_eq!(quiet_events(&poller, &mut events, 20), 0);
}

#[test]
fn child_exit_of_an_exited_child_and_of_no_process() {
    let poller = OsPoller::new().unwrap();
    let mut events = Events::new();
    let mut child = waiting_child();
    drop(child.stdin.take());
    let status = child.wait().unwrap();
    assert!(status.success());
    // Exited, its handle still open in `child`: reported at once.
    let _exit = poller.child_exit(&child, Registration::client(21)).unwrap();
    assert!(next_event(&poller, &mut events, 21).is_some());
    // No such process: the OS error (ERROR_INVALID_PARAMETER).
    let err = poller
        .pid_exit(u32::MAX - 3, Registration::client(22))
        .unwrap_err();
    assert!(err.raw_os_error().is_some(), "{err:?}");
}

#[test]
fn dropping_a_child_exit_deregisters_it() {
    let poller = OsPoller::new().unwrap();
    let mut events = Events::new();
    let mut child = waiting_child();
    let exit = poller.child_exit(&child, Registration::client(23)).unwrap();
    drop(exit);
    drop(child.stdin.take());
    child.wait().unwrap();
    assert_eq!(quiet_events(&poller, &mut events, 23), 0);
}
