//! `Backend`: which kernel interface a poller is built on.

use std::fmt;

/// The kernel interface an [`OsPoller`](crate::OsPoller) waits with.
///
/// [`OsPoller::new`](crate::Poller::new) takes the platform's own: epoll on Linux and Android,
/// kqueue on macOS, iOS and the BSDs, poll(2) on the other Unix systems pollio supports, and
/// AFD polls on an I/O completion port on Windows.
/// [`OsPoller::with_backend`](crate::OsPoller::with_backend) picks one, which on Linux and
/// Android can also be [`Poll`](Backend::Poll); [`OsPoller::backend`](crate::OsPoller::backend)
/// tells which one a poller has.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use pollio::{Backend, OsPoller, Poller};
///
/// let poller = OsPoller::new()?;
/// if cfg!(any(target_os = "linux", target_os = "android")) {
///     assert_eq!(poller.backend(), Backend::Epoll);
///     let poll = OsPoller::with_backend(Backend::Poll, 64)?;
///     assert_eq!(poll.backend(), Backend::Poll);
/// }
/// # Ok(())
/// # }
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// epoll(7): Linux and Android.
    Epoll,
    /// kqueue(2): macOS, iOS, FreeBSD, NetBSD, OpenBSD and DragonFly.
    Kqueue,
    /// poll(2): the Unix systems without epoll or kqueue (illumos, Solaris, and the others
    /// the README lists), and on request Linux and Android. Its cost grows with the number of
    /// registered fds, and it reports edge-triggered registrations as level-triggered ones
    /// (see [`PollPoller`](struct.PollPoller.html)).
    Poll,
    /// Windows: AFD socket polls (`IOCTL_AFD_POLL`) completed on an I/O completion port, the
    /// approach mio and polling take (see the README's Windows section).
    Iocp,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Epoll => "epoll",
            Backend::Kqueue => "kqueue",
            Backend::Poll => "poll",
            Backend::Iocp => "iocp",
        })
    }
}
