//! Descriptor hygiene, counted in `/proc/self/fd`: pollers and wakers close what they open,
//! no error path leaks a descriptor, and pollio's own descriptors are close-on-exec.
//!
//! Linux only, because it reads `/proc/self/fd` (the other platforms have no such listing).
//! The file is its own test binary with a single test, so no other test opens or closes
//! descriptors while it counts. It checks epoll, then poll(2), one after the other. Not under
//! Miri, where `/proc/self/fd` lists the interpreter's descriptors, not the program's.
#![cfg(all(target_os = "linux", not(miri)))]

use pollio::{Backend, EventObject, OsPoller, Poller, Registration};
use std::collections::BTreeSet;
use std::io::{ErrorKind, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;

/// The descriptors open in this process.
fn open_fds() -> BTreeSet<RawFd> {
    let listed: BTreeSet<RawFd> = std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .map(|entry| {
            let name = entry.expect("entry").file_name();
            name.to_str().expect("utf-8").parse().expect("fd number")
        })
        .collect();
    // The listing includes the descriptor used to read it, closed by now.
    listed.into_iter().filter(|&fd| is_open(fd)).collect()
}

fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only reads the descriptor table; any number is safe to ask about.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

fn is_cloexec(fd: RawFd) -> bool {
    // SAFETY: as in `is_open`.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    assert!(flags != -1, "fd {fd} is not open");
    flags & libc::FD_CLOEXEC != 0
}

/// What `/proc/self/fd/N` points to, such as `anon_inode:[eventpoll]`.
fn target_of(fd: RawFd) -> String {
    let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).expect("readlink");
    link.to_string_lossy().into_owned()
}

fn kind_of<T>(result: std::io::Result<T>) -> ErrorKind {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(err) => err.kind(),
    }
}

#[test]
fn descriptors_are_closed_on_every_path() {
    for backend in [Backend::Epoll, Backend::Poll] {
        created_and_dropped_pollers_close_their_fds(backend);
        handles_keep_the_fds_until_the_last_drops(backend);
        error_paths_leak_nothing(backend);
        own_descriptors_are_close_on_exec(backend);
        the_wakers_descriptor_is_refused(backend);
    }
}

/// A poller on `backend` with room for `capacity` events per wait.
fn poller_on(backend: Backend, capacity: usize) -> std::io::Result<OsPoller> {
    OsPoller::with_backend(backend, capacity)
}

/// What `/proc/self/fd` shows for the two descriptors of a poller with a waker: the queue
/// (epoll's, or the eventfd that interrupts a poll(2) wait) and the waker's eventfd.
fn own_targets(backend: Backend) -> [&'static str; 2] {
    match backend {
        Backend::Poll => ["anon_inode:[eventfd]", "anon_inode:[eventfd]"],
        _ => ["anon_inode:[eventfd]", "anon_inode:[eventpoll]"],
    }
}

/// 10,000 pollers, with and without a waker, leave nothing behind.
fn created_and_dropped_pollers_close_their_fds(backend: Backend) {
    let base = open_fds();
    for _ in 0..10_000 {
        drop(poller_on(backend, OsPoller::DEFAULT_CAPACITY).expect("new"));
    }
    assert_eq!(open_fds(), base, "plain pollers leaked");
    for _ in 0..2_000 {
        let poller = poller_on(backend, 8).expect("with_capacity");
        let waker = poller.waker().expect("waker");
        waker.wake().expect("wake");
        drop(poller);
        drop(waker);
    }
    assert_eq!(open_fds(), base, "pollers with wakers leaked");
}

/// A registry or waker that outlives its poller keeps the poller's descriptors open (it
/// still works), and the last handle to drop closes them.
fn handles_keep_the_fds_until_the_last_drops(backend: Backend) {
    let base = open_fds();
    let poller = poller_on(backend, OsPoller::DEFAULT_CAPACITY).expect("new");
    let registry = poller.registry().expect("registry");
    let waker = poller.waker().expect("waker");
    let with_poller = open_fds();
    assert_eq!(
        with_poller.len(),
        base.len() + 2,
        "the queue's fd and an eventfd"
    );
    drop(poller);
    assert_eq!(
        open_fds(),
        with_poller,
        "closed while a registry and waker live"
    );

    let (a, b) = UnixStream::pair().expect("socketpair");
    registry
        .add(EventObject::client(a.as_raw_fd()))
        .expect("the registry still works");
    waker.wake().expect("the waker still works");
    drop(waker);
    assert_eq!(
        open_fds().len(),
        with_poller.len() + 2,
        "closed while a registry lives"
    );
    drop(registry);
    drop((a, b));
    assert_eq!(open_fds(), base, "not closed when the last handle dropped");
}

/// Every error in the error table leaves the descriptor count as it was.
fn error_paths_leak_nothing(backend: Backend) {
    let base = open_fds();
    assert_eq!(kind_of(poller_on(backend, 0)), ErrorKind::InvalidInput);
    assert_eq!(
        kind_of(poller_on(backend, usize::MAX)),
        ErrorKind::InvalidInput
    );
    assert_eq!(open_fds(), base, "a refused capacity leaked");

    let poller = poller_on(backend, OsPoller::DEFAULT_CAPACITY).expect("new");
    let waker = poller.waker().expect("waker");
    let (a, b) = UnixStream::pair().expect("socketpair");
    let fd = a.as_raw_fd();
    let file = temp_file();
    let closed = closed_fd_number();
    let reg = Registration::client(1);
    let before = open_fds();

    // An OS error carries its errno; pollio's own errors (no system call said it) carry none.
    let check = |what: &str, errno: Option<i32>, kind: ErrorKind, result: std::io::Result<()>| {
        let err = result.expect_err(what);
        assert_eq!(
            (err.raw_os_error(), err.kind()),
            (errno, kind),
            "{what}: {err}"
        );
        assert_eq!(open_fds(), before, "{what} leaked a descriptor");
    };
    let os = |errno: i32| (Some(errno), std::io::Error::from_raw_os_error(errno).kind());
    let cases = [
        (
            "negative fd",
            os(libc::EBADF),
            poller.add(EventObject::client(-1)),
        ),
        ("negative modify", os(libc::EBADF), poller.modify(-1, reg)),
        ("negative delete", os(libc::EBADF), poller.delete(-1)),
        ("closed fd", os(libc::EBADF), poller.add_with(closed, reg)),
        ("closed delete", os(libc::EBADF), poller.delete(closed)),
        (
            "regular file",
            os(libc::EPERM),
            poller.add_with(file.as_raw_fd(), reg),
        ),
        (
            "own fd",
            os(libc::EINVAL),
            poller.add_with(poller.as_raw_fd(), reg),
        ),
        ("unknown modify", os(libc::ENOENT), poller.modify(fd, reg)),
        ("unknown delete", os(libc::ENOENT), poller.delete(fd)),
    ];
    for (what, (errno, kind), result) in cases {
        check(what, errno, kind, result);
    }
    poller.add_with(fd, reg).expect("add_with");
    let (errno, kind) = os(libc::EEXIST);
    check("double add", errno, kind, poller.add_with(fd, reg));

    // Closed while registered: the delete fails, and the only descriptor that went away is
    // the one that was closed.
    let (c, d) = UnixStream::pair().expect("socketpair");
    let c_fd = c.as_raw_fd();
    poller.add_with(c_fd, reg).expect("add_with");
    let with_c = open_fds();
    drop(c);
    let err = poller.delete(c_fd).expect_err("delete after close");
    assert_eq!(err.raw_os_error(), Some(libc::EBADF));
    let mut expected = with_c;
    expected.remove(&c_fd);
    assert_eq!(
        open_fds(),
        expected,
        "delete after close leaked a descriptor"
    );

    drop((poller, waker, file, a, b, d));
    assert_eq!(open_fds(), base, "the error paths left descriptors behind");
}

/// The queue's fd (epoll's, or poll's interrupting eventfd) and the waker's eventfd are the
/// only descriptors a poller opens, and both are close-on-exec. A registry and a second waker
/// open none.
fn own_descriptors_are_close_on_exec(backend: Backend) {
    let before = open_fds();
    let poller = poller_on(backend, OsPoller::DEFAULT_CAPACITY).expect("new");
    let waker = poller.waker().expect("waker");
    let _registry = poller.registry().expect("registry");
    let _second = poller.waker().expect("second waker");
    let after = open_fds();
    let new: Vec<RawFd> = after.difference(&before).copied().collect();
    assert_eq!(new.len(), 2, "new descriptors: {new:?}");
    let mut targets: Vec<String> = new.iter().map(|&fd| target_of(fd)).collect();
    targets.sort();
    assert_eq!(targets, own_targets(backend));
    for fd in new {
        assert!(
            is_cloexec(fd),
            "fd {fd} ({}) is not close-on-exec",
            target_of(fd)
        );
    }
    drop((poller, waker, _registry, _second));
    assert_eq!(open_fds(), before, "not closed on drop");
}

/// The waker's eventfd is the poller's own: registering, modifying or deleting it is
/// `InvalidInput` (a delete would otherwise disconnect every waker), and the waker still works.
fn the_wakers_descriptor_is_refused(backend: Backend) {
    let mut poller = poller_on(backend, OsPoller::DEFAULT_CAPACITY).expect("new");
    let before = open_fds();
    let waker = poller.waker().expect("waker");
    let new: Vec<RawFd> = open_fds().difference(&before).copied().collect();
    assert_eq!(new.len(), 1, "new descriptors: {new:?}");
    let eventfd = new[0];
    assert_eq!(target_of(eventfd), "anon_inode:[eventfd]");

    let reg = Registration::client(1);
    let refused = [
        ("add", poller.add(EventObject::client(eventfd))),
        ("add_with", poller.add_with(eventfd, reg)),
        ("modify", poller.modify(eventfd, reg)),
        ("delete", poller.delete(eventfd)),
    ];
    for (what, result) in refused {
        assert_eq!(kind_of(result), ErrorKind::InvalidInput, "{what}");
    }

    // Still connected: a wake ends a wait that would otherwise last a minute.
    waker.wake().expect("wake");
    let start = std::time::Instant::now();
    let events = poller
        .poll(Some(std::time::Duration::from_secs(60)))
        .expect("poll");
    assert!(events.is_empty());
    assert!(
        start.elapsed() < std::time::Duration::from_secs(30),
        "the wake was lost"
    );
}

/// A regular file in the temporary directory, already unlinked.
fn temp_file() -> std::fs::File {
    let path = std::env::temp_dir().join(format!("pollio-fd-leaks-{}", std::process::id()));
    let mut file = std::fs::File::create(&path).expect("create");
    file.write_all(b"data").expect("write");
    std::fs::remove_file(&path).expect("unlink");
    file
}

/// A descriptor number that was open a moment ago and is closed now.
fn closed_fd_number() -> RawFd {
    // SAFETY: socket takes no pointers.
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0) };
    assert!(fd >= 0);
    // SAFETY: socket just returned this fd and nothing else owns it; dropping closes it.
    drop(unsafe { OwnedFd::from_raw_fd(fd) });
    assert!(!is_open(fd));
    fd
}
