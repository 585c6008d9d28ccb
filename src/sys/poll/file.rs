//! What the poll(2) backend learns of a file from fstat(2): whether epoll would poll it, and
//! which file it is.

use super::super::syscall;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::RawFd;


/// The file an fd refers to: its device and inode numbers. Two open fds have the same
/// `FileId` when they name the same file; a socket, pipe or FIFO has one of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct FileId {
    device: u64,
    inode: u64,
}

/// The file `fd` names, checked as epoll checks it: `EBADF` if `fd` is not open, `EPERM` for a
/// regular file, directory or block device, which epoll refuses (it cannot poll them) and
/// poll(2) would report as always ready.
pub(super) fn pollable_file(fd: RawFd) -> io::Result<FileId> {
    let status = status(fd)?;
    let kind = status.st_mode & libc::S_IFMT;
    if kind == libc::S_IFREG || kind == libc::S_IFDIR || kind == libc::S_IFBLK {
        return Err(io::Error::from_raw_os_error(libc::EPERM));
    }
    Ok(FileId {
        device: status.st_dev as u64,
        inode: status.st_ino as u64,
    })
}

/// fstat(2) of `fd`; fstat64 on 32-bit glibc, where plain fstat fails with `EOVERFLOW` for a
/// 64-bit inode number.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn status(fd: RawFd) -> io::Result<libc::stat64> {
    let mut status = MaybeUninit::<libc::stat64>::uninit();
    // SAFETY: fstat64 writes one `struct stat64` into the live, properly aligned buffer; any
    // fd number is safe to ask about.
    syscall!(fstat64(fd, status.as_mut_ptr()))?;
    // SAFETY: fstat64 succeeded, so it initialised the whole struct.
    Ok(unsafe { status.assume_init() })
}

/// fstat(2) of `fd`.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn status(fd: RawFd) -> io::Result<libc::stat> {
    let mut status = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes one `struct stat` into the live, properly aligned buffer; any fd
    // number is safe to ask about.
    syscall!(fstat(fd, status.as_mut_ptr()))?;
    // SAFETY: fstat succeeded, so it initialised the whole struct.
    Ok(unsafe { status.assume_init() })
}
