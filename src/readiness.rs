//! The readiness the kernel reported for one event.

use crate::interest::write_flags;
use std::fmt;

/// What the kernel reported as ready for one event.
///
/// Readable and writable are reported on every platform; the other flags are hints a portable
/// program may use to skip a read that would only find end of stream or an error. Always be
/// ready for the I/O call itself to say `WouldBlock`, end of stream, or an error.
///
/// | Flag | epoll | kqueue | poll(2) | Windows (AFD) |
/// |------|-------|--------|---------|---------------|
/// | [`is_readable`](Readiness::is_readable) | `EPOLLIN` | `EVFILT_READ` | `POLLIN` | `RECEIVE`, `ACCEPT` or `DISCONNECT` (and a reset, with readable interest) |
/// | [`is_writable`](Readiness::is_writable) | `EPOLLOUT` | `EVFILT_WRITE` | `POLLOUT` | `SEND` (and a reset, with writable interest) |
/// | [`is_read_closed`](Readiness::is_read_closed) | `EPOLLRDHUP` or `EPOLLHUP` | `EV_EOF` on `EVFILT_READ` | `POLLRDHUP` or `POLLHUP` | `DISCONNECT`, `ABORT` or `CONNECT_FAIL` |
/// | [`is_write_closed`](Readiness::is_write_closed) | `EPOLLHUP`, or `EPOLLERR` | `EV_EOF` on `EVFILT_WRITE` | `POLLHUP` or `POLLERR` | `ABORT` or `CONNECT_FAIL` |
/// | [`is_error`](Readiness::is_error) | `EPOLLERR` | `EV_ERROR`, or `EV_EOF` with a socket error in `fflags` | `POLLERR` | `ABORT` or `CONNECT_FAIL` |
/// | [`is_priority`](Readiness::is_priority) | `EPOLLPRI` | never (kqueue has no separate priority readiness) | `POLLPRI` | `RECEIVE_EXPEDITED` |
/// | [`is_read_hang_up`](Readiness::is_read_hang_up) | `EPOLLRDHUP` | `EV_EOF` on `EVFILT_READ` | `POLLRDHUP` (Linux, Android, illumos; never elsewhere) | `DISCONNECT` or `ABORT` |
/// | [`is_hang_up`](Readiness::is_hang_up) | `EPOLLHUP` | `EV_EOF` on `EVFILT_WRITE` | `POLLHUP` | `ABORT` or `CONNECT_FAIL` (never for an orderly close) |
///
/// On Linux and Android poll(2)'s bits are epoll's, so the poll backend reports exactly what
/// epoll would for the same file.
///
/// # Half-closed, hung up, failed
///
/// The last three flags come straight from the kernel, one each, so a runtime can tell the
/// cases apart without another system call:
///
/// - the peer shut down its sending side (`shutdown(SHUT_WR)`, or it closed) but this side may
///   still write: [`is_read_hang_up`](Readiness::is_read_hang_up) without
///   [`is_hang_up`](Readiness::is_hang_up);
/// - the connection is closed in both directions: [`is_hang_up`](Readiness::is_hang_up)
///   (epoll also sets it for a socket that was never connected, see below);
/// - the connection failed (a refused or reset connect): [`is_error`](Readiness::is_error),
///   usually with a hang-up; `SO_ERROR` says why.
///
/// [`is_read_closed`](Readiness::is_read_closed) and
/// [`is_write_closed`](Readiness::is_write_closed) stay as the portable summaries they were.
/// epoll reports a read-side hang-up only for a registration with readable interest that is
/// not [exclusive](crate::Registration::with_exclusive); kqueue reports the hang-up flags
/// only on the filter the interest asked for.
///
/// # Unconnected sockets read as hung up
///
/// On epoll, a stream socket that is not connected and not listening (a fresh
/// `socket(AF_INET, SOCK_STREAM)` or `AF_UNIX` one, bound or not, whose `connect` has not
/// started) is reported as hung up: the kernel sets `EPOLLHUP`, which is reported whatever the
/// interest, so the event is [`is_read_closed`](Readiness::is_read_closed) and
/// [`is_write_closed`](Readiness::is_write_closed), plus
/// [`is_writable`](Readiness::is_writable) (`EPOLLOUT`) when writability was asked for, and
/// never readable. Observed on Linux 6.18, for a fresh TCP socket registered readable and
/// writable:
///
/// - level-triggered: `WRITABLE | READ_CLOSED | WRITE_CLOSED` on every wait (readable only:
///   `READ_CLOSED | WRITE_CLOSED`), so a loop that waits on such a socket spins;
/// - edge-triggered: the same flags once, then nothing.
///
/// Register a socket once its `connect` has started (while in progress it reports nothing;
/// when it completes, writable) or once it listens (nothing until a connection arrives). A
/// fresh UDP socket is not affected: it is only writable.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Readiness(u8);

impl Readiness {
    pub(crate) const READABLE: u8 = 1;
    pub(crate) const WRITABLE: u8 = 1 << 1;
    pub(crate) const READ_CLOSED: u8 = 1 << 2;
    pub(crate) const WRITE_CLOSED: u8 = 1 << 3;
    pub(crate) const ERROR: u8 = 1 << 4;
    pub(crate) const PRIORITY: u8 = 1 << 5;
    pub(crate) const READ_HANG_UP: u8 = 1 << 6;
    pub(crate) const HANG_UP: u8 = 1 << 7;

    /// Builds a readiness from the `Readiness::*` bit constants (backends only).
    pub(crate) const fn from_bits(bits: u8) -> Readiness {
        Readiness(bits)
    }

    /// Data, a connection or end of stream can be read without blocking.
    pub const fn is_readable(self) -> bool {
        self.0 & Self::READABLE != 0
    }

    /// Data can be written without blocking, or a connect finished.
    pub const fn is_writable(self) -> bool {
        self.0 & Self::WRITABLE != 0
    }

    /// The peer will send nothing more: a read would return end of stream.
    pub const fn is_read_closed(self) -> bool {
        self.0 & Self::READ_CLOSED != 0
    }

    /// Writing can no longer succeed: the peer is gone or the connection failed.
    pub const fn is_write_closed(self) -> bool {
        self.0 & Self::WRITE_CLOSED != 0
    }

    /// The fd has a pending error (for a socket, read it with `SO_ERROR`).
    pub const fn is_error(self) -> bool {
        self.0 & Self::ERROR != 0
    }

    /// Priority (out-of-band) data can be read.
    pub const fn is_priority(self) -> bool {
        self.0 & Self::PRIORITY != 0
    }

    /// The peer shut down its sending side: reads will reach end of stream, and this side may
    /// still be able to write (a half-closed connection). `EPOLLRDHUP`; kqueue's `EV_EOF` on
    /// the read filter.
    pub const fn is_read_hang_up(self) -> bool {
        self.0 & Self::READ_HANG_UP != 0
    }

    /// The connection is closed in both directions (or, on epoll, a stream socket was never
    /// connected). `EPOLLHUP`; kqueue's `EV_EOF` on the write filter.
    pub const fn is_hang_up(self) -> bool {
        self.0 & Self::HANG_UP != 0
    }
}

impl fmt::Debug for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flags = [
            (self.is_readable(), "READABLE"),
            (self.is_writable(), "WRITABLE"),
            (self.is_read_closed(), "READ_CLOSED"),
            (self.is_write_closed(), "WRITE_CLOSED"),
            (self.is_error(), "ERROR"),
            (self.is_priority(), "PRIORITY"),
            (self.is_read_hang_up(), "READ_HANG_UP"),
            (self.is_hang_up(), "HANG_UP"),
        ];
        write_flags(f, "NONE", &flags)
    }
}
