//! What a registration names: a file descriptor on Unix, a socket on Windows.
//!
//! The poller's methods take a [`RawSource`] or a [`BorrowedSource`], which are the standard
//! library's own fd types on Unix (`RawFd`, `BorrowedFd`) and its socket types on Windows
//! (`RawSocket`, `BorrowedSocket`). Code written with these names and [`AsSource::as_source`]
//! builds on both; code written with `RawFd` and `as_fd()` keeps building on Unix, where the
//! names are the same types.

#[cfg(unix)]
use std::os::fd::{AsFd, BorrowedFd, RawFd};
#[cfg(windows)]
use std::os::windows::io::{AsRawSocket, AsSocket, BorrowedSocket, RawSocket};

/// The raw handle a registration names: [`RawFd`](https://doc.rust-lang.org/std/os/fd/type.RawFd.html) on Unix,
/// [`RawSocket`](https://doc.rust-lang.org/std/os/windows/io/type.RawSocket.html) on Windows.
#[cfg(unix)]
pub type RawSource = RawFd;
/// The raw handle a registration names: [`RawFd`](https://doc.rust-lang.org/std/os/fd/type.RawFd.html) on Unix,
/// [`RawSocket`](https://doc.rust-lang.org/std/os/windows/io/type.RawSocket.html) on Windows.
#[cfg(windows)]
pub type RawSource = RawSocket;

/// A borrowed handle that a registration names: [`BorrowedFd`](https://doc.rust-lang.org/std/os/fd/struct.BorrowedFd.html) on
/// Unix, [`BorrowedSocket`](https://doc.rust-lang.org/std/os/windows/io/struct.BorrowedSocket.html) on Windows.
#[cfg(unix)]
pub type BorrowedSource<'a> = BorrowedFd<'a>;
/// A borrowed handle that a registration names: [`BorrowedFd`](https://doc.rust-lang.org/std/os/fd/struct.BorrowedFd.html) on
/// Unix, [`BorrowedSocket`](https://doc.rust-lang.org/std/os/windows/io/struct.BorrowedSocket.html) on Windows.
#[cfg(windows)]
pub type BorrowedSource<'a> = BorrowedSocket<'a>;

/// Borrows what a poller can watch: `as_fd()` on Unix, `as_socket()` on Windows, under one
/// name.
///
/// Implemented for every type that implements `AsFd` (Unix) or `AsSocket` (Windows), such as
/// [`TcpStream`](std::net::TcpStream), [`TcpListener`](std::net::TcpListener) and
/// [`UdpSocket`](std::net::UdpSocket), so one program registers them on every platform:
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use pollio::{AsSource, EventObject, OsPoller, Poller, Registration};
/// use std::net::TcpListener;
///
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// listener.set_nonblocking(true)?;
/// let poller = OsPoller::new()?;
/// poller.register(listener.as_source(), Registration::server(0))?;
/// poller.deregister(listener.as_source())?;
///
/// // The seed API takes the raw value.
/// poller.add(EventObject::server(listener.as_raw_source()))?;
/// poller.delete(listener.as_raw_source())?;
/// # Ok(())
/// # }
/// ```
pub trait AsSource {
    /// Borrows the fd (Unix) or socket (Windows).
    fn as_source(&self) -> BorrowedSource<'_>;

    /// The raw fd (Unix) or socket (Windows), for the seed API's
    /// [`EventObject`](crate::EventObject) and the raw-handle methods such as
    /// [`Poller::delete`](crate::Poller::delete).
    fn as_raw_source(&self) -> RawSource {
        raw(self.as_source())
    }
}

#[cfg(unix)]
#[inline]
fn raw(source: BorrowedSource<'_>) -> RawSource {
    std::os::fd::AsRawFd::as_raw_fd(&source)
}

#[cfg(windows)]
#[inline]
fn raw(source: BorrowedSource<'_>) -> RawSource {
    source.as_raw_socket()
}

#[cfg(unix)]
impl<T: AsFd + ?Sized> AsSource for T {
    #[inline]
    fn as_source(&self) -> BorrowedSource<'_> {
        self.as_fd()
    }
}

#[cfg(windows)]
impl<T: AsSocket + ?Sized> AsSource for T {
    #[inline]
    fn as_source(&self) -> BorrowedSource<'_> {
        self.as_socket()
    }
}

/// The raw handle of a borrowed source, under the name the Unix code uses (`as_raw_fd`), so
/// the code shared by every platform reads the same on Windows.
#[cfg(windows)]
pub(crate) trait AsRawFd {
    fn as_raw_fd(&self) -> RawSocket;
}

#[cfg(windows)]
impl AsRawFd for BorrowedSocket<'_> {
    #[inline]
    fn as_raw_fd(&self) -> RawSocket {
        self.as_raw_socket()
    }
}
