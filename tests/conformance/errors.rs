//! The error table: each misuse returns its documented `ErrorKind`, never panics, and leaves
//! the poller usable.

use crate::support::{
    assert_usable, duplicate_at, free_fd_number, next_event_for, send, unix_pair, watchdog,
    TempFile, INCIDENTAL_MODE, PATIENCE,
};
use pollio::{EventObject, Interest, Poller, Registration};
use std::io::{self, ErrorKind};
use std::os::fd::{AsFd, AsRawFd, RawFd};

/// The kind of an error that must have happened.
fn kind_of<T>(result: io::Result<T>) -> ErrorKind {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(err) => err.kind(),
    }
}

/// Every registration entry point refuses a negative fd with `InvalidInput`.
pub fn negative_fd_is_invalid_input<P: Poller>() {
    let mut poller = P::new().expect("new");
    for fd in [-1, -2, RawFd::MIN] {
        let reg = Registration::client(1);
        assert_eq!(
            kind_of(poller.add(EventObject::client(fd))),
            ErrorKind::InvalidInput
        );
        assert_eq!(kind_of(poller.add_with(fd, reg)), ErrorKind::InvalidInput);
        assert_eq!(kind_of(poller.modify(fd, reg)), ErrorKind::InvalidInput);
        assert_eq!(kind_of(poller.delete(fd)), ErrorKind::InvalidInput);
    }
    assert_usable(&mut poller);
}

/// An fd that is not open cannot be added (`InvalidInput`); deleting it finds nothing
/// (`NotFound`).
pub fn closed_fd_is_refused<P: Poller>() {
    let mut poller = P::new().expect("new");
    let number = free_fd_number(0);
    let (a, _b) = unix_pair();
    drop(duplicate_at(&a, number));
    let reg = Registration::server(1);
    assert_eq!(
        kind_of(poller.add(EventObject::server(number))),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        kind_of(poller.add_with(number, reg)),
        ErrorKind::InvalidInput
    );
    assert_eq!(kind_of(poller.delete(number)), ErrorKind::NotFound);
    assert_usable(&mut poller);
}

/// epoll cannot poll regular files or directories (they are always ready) and says
/// `Unsupported`.
#[cfg(target_os = "linux")]
pub fn regular_file<P: Poller>() {
    let mut poller = P::new().expect("new");
    let file = TempFile::with_contents(b"data");
    let fd = file.file.as_raw_fd();
    assert_eq!(
        kind_of(poller.add(EventObject::client(fd))),
        ErrorKind::Unsupported
    );
    assert_eq!(
        kind_of(poller.register(file.file.as_fd(), Registration::client(1))),
        ErrorKind::Unsupported
    );
    let dir = std::fs::File::open(std::env::temp_dir()).expect("open directory");
    assert_eq!(
        kind_of(poller.add_with(dir.as_raw_fd(), Registration::client(2))),
        ErrorKind::Unsupported
    );
    // Nothing was registered.
    assert_eq!(kind_of(poller.delete(fd)), ErrorKind::NotFound);
    assert_usable(&mut poller);
}

/// kqueue accepts a regular file and reports it readable while there is data past the file
/// offset.
#[cfg(not(target_os = "linux"))]
pub fn regular_file<P: Poller>() {
    let mut poller = P::new().expect("new");
    let file = TempFile::with_contents(b"data");
    let fd = file.file.as_raw_fd();
    poller
        .register(file.file.as_fd(), Registration::client(1))
        .expect("kqueue polls regular files");
    let seen = next_event_for(&mut poller, fd);
    assert!(seen.ready.readable, "{seen:?}");
    poller.delete(fd).expect("delete");
    assert_usable(&mut poller);
}

/// A poller cannot watch its own fd: `InvalidInput` from every entry point.
pub fn own_fd_is_invalid_input<P: Poller + AsRawFd>() {
    let mut poller = P::new().expect("new");
    let own = poller.as_raw_fd();
    let reg = Registration::client(1);
    assert_eq!(
        kind_of(poller.add(EventObject::server(own))),
        ErrorKind::InvalidInput
    );
    assert_eq!(kind_of(poller.add_with(own, reg)), ErrorKind::InvalidInput);
    assert_eq!(kind_of(poller.modify(own, reg)), ErrorKind::InvalidInput);
    assert_eq!(kind_of(poller.delete(own)), ErrorKind::InvalidInput);
    let registry = poller.registry().expect("registry");
    assert_eq!(
        kind_of(registry.add_with(own, reg)),
        ErrorKind::InvalidInput
    );
    assert_usable(&mut poller);
}

/// Adding an fd twice is `AlreadyExists`, and the first registration stays as it was.
pub fn double_add_is_already_exists<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (a, b) = unix_pair();
    let fd = a.as_raw_fd();
    poller
        .add_with(fd, Registration::client(1).with_mode(INCIDENTAL_MODE))
        .expect("add_with");
    let again = Registration::server(2).with_mode(INCIDENTAL_MODE);
    assert_eq!(
        kind_of(poller.add_with(fd, again)),
        ErrorKind::AlreadyExists
    );
    // The seed add is level-triggered, which Miri's epoll rejects before it looks at the fd.
    if !cfg!(miri) {
        assert_eq!(
            kind_of(poller.add(EventObject::server(fd))),
            ErrorKind::AlreadyExists
        );
    }
    assert_eq!(
        kind_of(poller.register(
            a.as_fd(),
            Registration::client(3).with_mode(INCIDENTAL_MODE)
        )),
        ErrorKind::AlreadyExists
    );
    send(&b, b"x");
    assert_eq!(next_event_for(&mut poller, fd).key, 1);
    poller.delete(fd).expect("delete");
    assert_usable(&mut poller);
}

/// `modify` and `delete` of an open fd that was never added (or already deleted) are
/// `NotFound`.
pub fn unknown_fd_is_not_found<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (a, _b) = unix_pair();
    let fd = a.as_raw_fd();
    let reg = Registration::client(1).with_mode(INCIDENTAL_MODE);
    assert_eq!(kind_of(poller.modify(fd, reg)), ErrorKind::NotFound);
    assert_eq!(kind_of(poller.delete(fd)), ErrorKind::NotFound);
    assert_eq!(
        kind_of(poller.reregister(a.as_fd(), reg)),
        ErrorKind::NotFound
    );
    assert_eq!(kind_of(poller.deregister(a.as_fd())), ErrorKind::NotFound);
    poller.add_with(fd, reg).expect("add_with");
    poller.delete(fd).expect("delete");
    assert_eq!(kind_of(poller.delete(fd)), ErrorKind::NotFound);
    assert_eq!(kind_of(poller.modify(fd, reg)), ErrorKind::NotFound);
    assert_usable(&mut poller);
}

/// An empty interest is `InvalidInput`: `add_with` registers nothing, `modify` keeps the
/// registration it had.
pub fn empty_interest_is_invalid_input<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (a, b) = unix_pair();
    let fd = a.as_raw_fd();
    let empty = Registration::client(1).with_interest(Interest::NONE);
    assert_eq!(kind_of(poller.add_with(fd, empty)), ErrorKind::InvalidInput);
    let emptied = Interest::PRIORITY.remove(Interest::PRIORITY);
    assert_eq!(
        kind_of(poller.add_with(fd, empty.with_interest(emptied))),
        ErrorKind::InvalidInput
    );
    poller
        .add_with(fd, Registration::client(2).with_mode(INCIDENTAL_MODE))
        .expect("nothing was registered by the refused calls");
    assert_eq!(kind_of(poller.modify(fd, empty)), ErrorKind::InvalidInput);
    send(&b, b"x");
    assert_eq!(next_event_for(&mut poller, fd).key, 2);
    poller.delete(fd).expect("delete");
    assert_usable(&mut poller);
}

/// A capacity of 0, or more than the kernel accepts, is `InvalidInput`.
pub fn bad_capacity_is_invalid_input<P: Poller>() {
    assert_eq!(kind_of(P::with_capacity(0)), ErrorKind::InvalidInput);
    assert_eq!(
        kind_of(P::with_capacity(usize::MAX)),
        ErrorKind::InvalidInput
    );
    let mut poller = P::with_capacity(1).expect("capacity 1");
    assert_usable(&mut poller);
}

/// `wait` with a negative timeout other than -1 is `InvalidInput`, and does not wait.
pub fn negative_wait_is_invalid_input<P: Poller>() {
    // Taking -2 as "block" would hang here.
    let _guard = watchdog("negative_wait_is_invalid_input", 2 * PATIENCE);
    let mut poller = P::new().expect("new");
    for ms in [-2, -1000, i32::MIN] {
        assert_eq!(
            kind_of(poller.wait(ms)),
            ErrorKind::InvalidInput,
            "wait({ms})"
        );
    }
    assert!(poller.wait(0).expect("wait(0)").is_empty());
    assert_usable(&mut poller);
}

/// Closing a registered fd ends its registration: `delete` then says `NotFound`, and a new
/// file that gets the same number can be added and reports its own events.
pub fn delete_after_close_is_not_found<P: Poller>() {
    let mut poller = P::new().expect("new");
    let number = free_fd_number(1);
    let (other, other_peer) = unix_pair();
    poller
        .add_with(
            other.as_raw_fd(),
            Registration::client(100).with_mode(INCIDENTAL_MODE),
        )
        .expect("add_with");

    let (a, _b) = unix_pair();
    let only_copy = duplicate_at(&a, number);
    drop(a);
    poller
        .add_with(number, Registration::client(1).with_mode(INCIDENTAL_MODE))
        .expect("add_with");
    drop(only_copy);
    assert_eq!(kind_of(poller.delete(number)), ErrorKind::NotFound);

    let (c, d) = unix_pair();
    let reused = duplicate_at(&c, number);
    drop(c);
    poller
        .add_with(number, Registration::server(3).with_mode(INCIDENTAL_MODE))
        .expect("the reused number is a new registration");
    send(&d, b"x");
    let seen = next_event_for(&mut poller, number);
    assert_eq!(seen.key, 3);

    // The other registration was not disturbed.
    send(&other_peer, b"y");
    assert_eq!(next_event_for(&mut poller, other.as_raw_fd()).key, 100);
    poller.delete(number).expect("delete the new registration");
    drop(reused);
    assert_usable(&mut poller);
}

backend_tests!(
    negative_fd_is_invalid_input,
    closed_fd_is_refused,
    #[cfg_attr(
        miri,
        ignore = "Miri's epoll cannot watch regular files or directories"
    )]
    regular_file,
    #[cfg_attr(
        miri,
        ignore = "Miri's epoll_ctl answers EFAULT, not Linux's EINVAL, for the epoll fd itself"
    )]
    own_fd_is_invalid_input,
    double_add_is_already_exists,
    unknown_fd_is_not_found,
    empty_interest_is_invalid_input,
    bad_capacity_is_invalid_input,
    negative_wait_is_invalid_input,
    delete_after_close_is_not_found,
);
