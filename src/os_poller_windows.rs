//! Windows: the poller's handle is its I/O completion port.

use super::OsPoller;
use std::os::windows::io::{AsRawHandle, RawHandle};

/// The poller's I/O completion port. Unlike an epoll or kqueue fd, it cannot be registered in
/// another poller.
impl AsRawHandle for OsPoller {
    fn as_raw_handle(&self) -> RawHandle {
        self.shared().selector.as_raw_fd()
    }
}
