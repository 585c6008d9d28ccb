//! The error table: each misuse returns its documented error, never panics, and leaves the
//! poller usable. What the kernel refuses comes back as the OS error itself, with the errno
//! epoll gives on every backend; only what no system call reports is pollio's own error.

use crate::support::errno::{EEXIST, ENOENT};
#[cfg(unix)]
use crate::support::fd::RawFd;
use crate::support::fd::{AsFd, AsRawFd};
use crate::support::{assert_usable, next_event_for, send, unix_pair, INCIDENTAL_MODE};
#[cfg(unix)]
use crate::support::{backend_of, duplicate_at, free_fd_number_for, TempFile};
#[cfg(unix)]
use pollio::Backend;
use pollio::{EventObject, Poller, Registration};
use std::io::{self, ErrorKind};

/// The errno of an error that must have happened. Every failure the kernel reports reaches
/// the caller as the OS error itself, so its kind is the one std derives from the errno. (On
/// Windows, the two registration-table errors are pollio's own: see `support::errno`.)
pub fn errno_of<T>(result: io::Result<T>) -> i32 {
    let Err(err) = result else {
        panic!("expected an error")
    };
    #[cfg(windows)]
    if err.raw_os_error().is_none() {
        match err.kind() {
            ErrorKind::AlreadyExists => return EEXIST,
            ErrorKind::NotFound => return ENOENT,
            _ => {}
        }
    }
    let errno = err
        .raw_os_error()
        .unwrap_or_else(|| panic!("not an OS error: {err:?}"));
    assert_eq!(
        err.kind(),
        io::Error::from_raw_os_error(errno).kind(),
        "{err:?}"
    );
    errno
}

/// The kind of one of pollio's own errors (a condition no system call reports), which carries
/// no errno.
pub fn own_error_kind<T>(result: io::Result<T>) -> ErrorKind {
    let Err(err) = result else {
        panic!("expected an error")
    };
    assert_eq!(err.raw_os_error(), None, "{err:?}");
    err.kind()
}

#[cfg(unix)]
/// Every registration entry point answers a negative fd with `EBADF`, as epoll_ctl does.
pub fn negative_fd_is_ebadf<P: Poller>() {
    let mut poller = P::new().expect("new");
    for fd in [-1, -2, RawFd::MIN] {
        let reg = Registration::client(1);
        assert_eq!(errno_of(poller.add(EventObject::client(fd))), libc::EBADF);
        assert_eq!(errno_of(poller.add_with(fd, reg)), libc::EBADF);
        assert_eq!(errno_of(poller.modify(fd, reg)), libc::EBADF);
        assert_eq!(errno_of(poller.delete(fd)), libc::EBADF);
    }
    assert_usable(&mut poller);
}

#[cfg(unix)]
/// An fd that is not open is `EBADF` for add, modify and delete alike: epoll checks the fd
/// before it looks for a registration.
pub fn closed_fd_is_ebadf<P: Poller>() {
    let mut poller = P::new().expect("new");
    let number = free_fd_number_for::<P>(0);
    let (a, _b) = unix_pair();
    drop(duplicate_at(&a, number));
    let reg = Registration::server(1);
    assert_eq!(
        errno_of(poller.add(EventObject::server(number))),
        libc::EBADF
    );
    assert_eq!(errno_of(poller.add_with(number, reg)), libc::EBADF);
    assert_eq!(errno_of(poller.modify(number, reg)), libc::EBADF);
    assert_eq!(errno_of(poller.delete(number)), libc::EBADF);
    assert_usable(&mut poller);
}

#[cfg(unix)]
/// epoll cannot poll regular files or directories (they are always ready) and says `EPERM`
/// for every operation on them; the poll(2) backend says the same. kqueue accepts them.
pub fn regular_file<P: Poller>() {
    if backend_of::<P>() == Backend::Kqueue {
        return regular_file_on_kqueue::<P>();
    }
    let mut poller = P::new().expect("new");
    let file = TempFile::with_contents(b"data");
    let fd = file.file.as_raw_fd();
    assert_eq!(errno_of(poller.add(EventObject::client(fd))), libc::EPERM);
    assert_eq!(
        errno_of(poller.register(file.file.as_fd(), Registration::client(1))),
        libc::EPERM
    );
    let dir = std::fs::File::open(std::env::temp_dir()).expect("open directory");
    assert_eq!(
        errno_of(poller.add_with(dir.as_raw_fd(), Registration::client(2))),
        libc::EPERM
    );
    assert_eq!(
        errno_of(poller.modify(fd, Registration::client(1))),
        libc::EPERM
    );
    assert_eq!(errno_of(poller.delete(fd)), libc::EPERM);
    assert_usable(&mut poller);
}

#[cfg(unix)]
/// kqueue accepts a regular file and reports it readable while there is data past the file
/// offset.
fn regular_file_on_kqueue<P: Poller>() {
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

#[cfg(unix)]
/// A poller cannot watch its own queue: `EINVAL` from every entry point, as epoll_ctl says.
pub fn own_fd_is_einval<P: Poller + AsRawFd>() {
    let mut poller = P::new().expect("new");
    let own = poller.as_raw_fd();
    let reg = Registration::client(1);
    assert_eq!(errno_of(poller.add(EventObject::server(own))), libc::EINVAL);
    assert_eq!(errno_of(poller.add_with(own, reg)), libc::EINVAL);
    assert_eq!(errno_of(poller.modify(own, reg)), libc::EINVAL);
    assert_eq!(errno_of(poller.delete(own)), libc::EINVAL);
    let registry = poller.registry().expect("registry");
    assert_eq!(errno_of(registry.add_with(own, reg)), libc::EINVAL);
    assert_usable(&mut poller);
}

/// Adding an fd twice is `EEXIST`, and the first registration stays as it was.
pub fn double_add_is_eexist<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (a, b) = unix_pair();
    let fd = a.as_raw_fd();
    poller
        .add_with(fd, Registration::client(1).with_mode(INCIDENTAL_MODE))
        .expect("add_with");
    let again = Registration::server(2).with_mode(INCIDENTAL_MODE);
    assert_eq!(errno_of(poller.add_with(fd, again)), EEXIST);
    // The seed add is level-triggered, which Miri's epoll rejects before it looks at the fd.
    if !cfg!(miri) {
        assert_eq!(errno_of(poller.add(EventObject::server(fd))), EEXIST);
    }
    assert_eq!(
        errno_of(poller.register(
            a.as_fd(),
            Registration::client(3).with_mode(INCIDENTAL_MODE)
        )),
        EEXIST
    );
    send(&b, b"x");
    assert_eq!(next_event_for(&mut poller, fd).key, 1);
    poller.delete(fd).expect("delete");
    assert_usable(&mut poller);
}

/// `modify` and `delete` of an open fd that was never added (or already deleted) are
/// `ENOENT`.
pub fn unknown_fd_is_enoent<P: Poller>() {
    let mut poller = P::new().expect("new");
    let (a, _b) = unix_pair();
    let fd = a.as_raw_fd();
    let reg = Registration::client(1).with_mode(INCIDENTAL_MODE);
    assert_eq!(errno_of(poller.modify(fd, reg)), ENOENT);
    assert_eq!(errno_of(poller.delete(fd)), ENOENT);
    assert_eq!(errno_of(poller.reregister(a.as_fd(), reg)), ENOENT);
    assert_eq!(errno_of(poller.deregister(a.as_fd())), ENOENT);
    poller.add_with(fd, reg).expect("add_with");
    poller.delete(fd).expect("delete");
    assert_eq!(errno_of(poller.delete(fd)), ENOENT);
    assert_eq!(errno_of(poller.modify(fd, reg)), ENOENT);
    assert_usable(&mut poller);
}

/// A capacity of 0, or more than the kernel accepts, is `InvalidInput`.
pub fn bad_capacity_is_invalid_input<P: Poller>() {
    assert_eq!(own_error_kind(P::with_capacity(0)), ErrorKind::InvalidInput);
    assert_eq!(
        own_error_kind(P::with_capacity(usize::MAX)),
        ErrorKind::InvalidInput
    );
    let mut poller = P::with_capacity(1).expect("capacity 1");
    assert_usable(&mut poller);
}

#[cfg(unix)]
/// Closing a registered fd ends its registration: `delete` then says `EBADF` (the fd is not
/// open), and a new file that gets the same number can be added and reports its own events.
pub fn delete_after_close_is_ebadf<P: Poller>() {
    let mut poller = P::new().expect("new");
    let number = free_fd_number_for::<P>(1);
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
    assert_eq!(errno_of(poller.delete(number)), libc::EBADF);

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
    #[cfg(unix)]
    negative_fd_is_ebadf,
    #[cfg(unix)]
    closed_fd_is_ebadf,
    #[cfg_attr(
        miri,
        ignore = "Miri's epoll cannot watch regular files or directories"
    )]
    #[cfg(unix)]
    regular_file,
    #[cfg_attr(
        miri,
        ignore = "Miri's epoll_ctl answers EFAULT, not Linux's EINVAL, for the epoll fd itself"
    )]
    #[cfg(unix)]
    own_fd_is_einval,
    double_add_is_eexist,
    unknown_fd_is_enoent,
    bad_capacity_is_invalid_input,
    #[cfg(unix)]
    delete_after_close_is_ebadf,
);
