//! What code written for pollio 0.1.3 can observe, pinned so that it cannot drift again.
//!
//! 0.1.3 documented that system calls "surface as `std::io::Error` via `last_os_error()`", and
//! its `wait` handed any timeout to the kernel, where every negative value blocks. Code that
//! matches on `raw_os_error()`, or on the kind std derives from it, must keep working through a
//! `cargo update`; so the seed methods give exactly the errno epoll gives, on every backend.

use crate::errors::errno_of;
use crate::support::errno::{EEXIST, ENOENT};
use crate::support::fd::AsRawFd;
#[cfg(unix)]
use crate::support::fd::RawFd;
#[cfg(unix)]
use crate::support::{backend_of, duplicate_at, free_fd_number_for, TempFile};
use crate::support::{unix_pair, watchdog, BlockingThread, PATIENCE};
#[cfg(unix)]
use pollio::Backend;
use pollio::{EventObject, Poller};
use std::io::{self, ErrorKind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

/// The errno of a failed seed call, and its kind (on Unix, the one std derives from the errno).
fn os_error<T>(result: io::Result<T>) -> (i32, ErrorKind) {
    let kind = result.as_ref().err().map(io::Error::kind);
    (errno_of(result), kind.expect("an error"))
}

/// Adding an fd twice: `EEXIST`, `AlreadyExists`.
pub fn seed_double_add<P: Poller>() {
    let poller = P::new().expect("new");
    let (a, _b) = unix_pair();
    poller.add(EventObject::client(a.as_raw_fd())).expect("add");
    assert_eq!(
        os_error(poller.add(EventObject::server(a.as_raw_fd()))),
        (EEXIST, ErrorKind::AlreadyExists)
    );
}

/// Deleting an open fd that was never added: `ENOENT`, `NotFound`.
pub fn seed_delete_unknown<P: Poller>() {
    let poller = P::new().expect("new");
    let (a, _b) = unix_pair();
    assert_eq!(
        os_error(poller.delete(a.as_raw_fd())),
        (ENOENT, ErrorKind::NotFound)
    );
}

#[cfg(unix)]
/// A closed fd, for add and delete, and a negative one: `EBADF`.
pub fn seed_closed_and_negative_fds<P: Poller>() {
    let poller = P::new().expect("new");
    let number = free_fd_number_for::<P>(4);
    let (a, _b) = unix_pair();
    drop(duplicate_at(&a, number));
    let ebadf = io::Error::from_raw_os_error(libc::EBADF).kind();
    for fd in [number, -1, RawFd::MIN] {
        assert_eq!(
            os_error(poller.add(EventObject::client(fd))),
            (libc::EBADF, ebadf),
            "add({fd})"
        );
        assert_eq!(
            os_error(poller.delete(fd)),
            (libc::EBADF, ebadf),
            "delete({fd})"
        );
    }
}

/// A regular file: epoll refuses it with `EPERM`, `PermissionDenied`, for add and delete; so
/// does the poll(2) backend. kqueue polls it.
#[cfg(unix)]
pub fn seed_regular_file<P: Poller>() {
    if backend_of::<P>() == Backend::Kqueue {
        return seed_regular_file_on_kqueue::<P>();
    }
    let poller = P::new().expect("new");
    let file = TempFile::with_contents(b"data");
    let fd = file.file.as_raw_fd();
    let eperm = (libc::EPERM, ErrorKind::PermissionDenied);
    assert_eq!(os_error(poller.add(EventObject::client(fd))), eperm);
    assert_eq!(os_error(poller.delete(fd)), eperm);
}

#[cfg(unix)]
/// A regular file: kqueue polls it (readable until end of file), so add and delete succeed.
fn seed_regular_file_on_kqueue<P: Poller>() {
    let poller = P::new().expect("new");
    let file = TempFile::with_contents(b"data");
    let fd = file.file.as_raw_fd();
    poller.add(EventObject::client(fd)).expect("add");
    poller.delete(fd).expect("delete");
}

/// Every negative timeout blocks, as in 0.1.3: `wait(-2)` and `wait(i32::MIN)` return only
/// once another thread has woken the poller, and then `Ok` with no events.
pub fn seed_negative_timeouts_block<P: Poller>() {
    let _guard = watchdog("seed_negative_timeouts_block", 4 * PATIENCE);
    let mut poller = P::new().expect("new");
    let waker = poller.waker().expect("waker");
    for timeout in [-2, -1000, i32::MIN] {
        let woken = AtomicBool::new(false);
        let main = BlockingThread::current();
        thread::scope(|scope| {
            scope.spawn(|| {
                main.until_blocked();
                woken.store(true, Ordering::SeqCst);
                waker.wake().expect("wake");
            });
            let events = poller
                .wait(timeout)
                .expect("a negative timeout is not an error");
            assert!(events.is_empty(), "wait({timeout}): {events:?}");
            assert!(
                woken.load(Ordering::SeqCst),
                "wait({timeout}) returned before it was woken"
            );
        });
    }
}

backend_tests!(
    #[cfg_attr(
        miri,
        ignore = "the seed add is level-triggered, which Miri's epoll refuses"
    )]
    seed_double_add,
    seed_delete_unknown,
    #[cfg_attr(
        miri,
        ignore = "the seed add is level-triggered, which Miri's epoll refuses"
    )]
    #[cfg(unix)]
    seed_closed_and_negative_fds,
    #[cfg_attr(miri, ignore = "Miri's epoll cannot watch regular files")]
    #[cfg(unix)]
    seed_regular_file,
    seed_negative_timeouts_block,
);
