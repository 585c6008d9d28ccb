//! The fd names the tests use, on every platform: the standard library's own on Unix; on
//! Windows, where pollio names sockets, the same names over pollio's `RawSource`,
//! `BorrowedSource` and `AsSource`, so a test body reads the same on both.

#[cfg(unix)]
pub use std::os::fd::{AsFd, AsRawFd, RawFd};
#[cfg(windows)]
pub use windows::*;

#[cfg(windows)]
mod windows {
    use pollio::{AsSource, BorrowedSource, RawSource};

    pub type RawFd = RawSource;

    pub trait AsRawFd {
        fn as_raw_fd(&self) -> RawFd;
    }

    impl<T: AsSource + ?Sized> AsRawFd for T {
        fn as_raw_fd(&self) -> RawFd {
            self.as_raw_source()
        }
    }

    pub trait AsFd {
        fn as_fd(&self) -> BorrowedSource<'_>;
    }

    impl<T: AsSource + ?Sized> AsFd for T {
        fn as_fd(&self) -> BorrowedSource<'_> {
            self.as_source()
        }
    }
}
