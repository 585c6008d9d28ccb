//! The OS error codes the error table promises, per platform: epoll's errno on Unix (kqueue
//! emulates it). On Windows the registration table is pollio's own, so a socket added twice
//! and an unknown socket are pollio's own errors (no OS code) of kinds `AlreadyExists` and
//! `NotFound`; `errno_of` reports those two as the stand-ins below.

#[cfg(unix)]
pub use libc::{EEXIST, ENOENT};

/// Stands for pollio's own `AlreadyExists` error on Windows (not an OS code).
#[cfg(windows)]
pub const EEXIST: i32 = -17;
/// Stands for pollio's own `NotFound` error on Windows (not an OS code).
#[cfg(windows)]
pub const ENOENT: i32 = -2;
