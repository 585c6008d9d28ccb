//! Which backend a generic test body runs on, for the assertions that differ by backend.

#[cfg(unix)]
use super::fds::free_fd_number;
use pollio::{Backend, OsPoller, Poller};
#[cfg(unix)]
use std::os::fd::RawFd;

/// The backend of the poller type `P`: `PollPoller`'s is poll(2), every other type's is what
/// `OsPoller::new` uses on this platform.
pub fn backend_of<P: Poller>() -> Backend {
    // By name: `PollPoller` does not exist on the kqueue systems.
    if std::any::type_name::<P>().ends_with("::PollPoller") {
        return Backend::Poll;
    }
    OsPoller::new().expect("new").backend()
}

/// True when `P` reports edge-triggered registrations as level-triggered ones (poll(2)).
pub fn edge_is_level<P: Poller>() -> bool {
    backend_of::<P>() == Backend::Poll
}

/// [`free_fd_number`] for a test body running on `P`: the two backends of one platform run
/// the same bodies at the same time, so each gets its own range of slots.
#[cfg(unix)]
pub fn free_fd_number_for<P: Poller>(slot: RawFd) -> RawFd {
    const PER_BACKEND: RawFd = 32;
    let backend = RawFd::from(backend_of::<P>() == Backend::Poll);
    free_fd_number(backend * PER_BACKEND + slot)
}
