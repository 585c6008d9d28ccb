//! The Windows system interface the Windows backend needs, declared by hand (pollio depends
//! on `libc` alone): the I/O completion port from kernel32, the AFD driver's poll request
//! through ntdll, and the base-socket query from ws2_32.
//!
//! AFD (the "ancillary function driver") is the kernel driver under Winsock. Its poll request,
//! `IOCTL_AFD_POLL`, is what `select` and `WSAPoll` use inside: it names sockets and the
//! conditions to wait for, and completes once one of them holds. Issued on a handle to the
//! driver that is associated with a completion port, its completion arrives on that port,
//! which is what lets one `GetQueuedCompletionStatusEx` wait on many sockets.

#![allow(non_camel_case_types, non_snake_case, clippy::upper_case_acronyms)]

use std::ffi::c_void;

pub(crate) type HANDLE = *mut c_void;
pub(crate) type NTSTATUS = i32;
pub(crate) type BOOL = i32;
pub(crate) type SOCKET = usize;

/// `IO_STATUS_BLOCK`: the status (a union with a pointer, hence pointer-sized) and the count
/// of bytes the request transferred.
#[repr(C)]
pub(crate) struct IO_STATUS_BLOCK {
    pub(crate) Status: isize,
    pub(crate) Information: usize,
}

#[repr(C)]
pub(crate) struct UNICODE_STRING {
    /// In bytes, without a terminating NUL.
    pub(crate) Length: u16,
    pub(crate) MaximumLength: u16,
    pub(crate) Buffer: *const u16,
}

#[repr(C)]
pub(crate) struct OBJECT_ATTRIBUTES {
    pub(crate) Length: u32,
    pub(crate) RootDirectory: HANDLE,
    pub(crate) ObjectName: *const UNICODE_STRING,
    pub(crate) Attributes: u32,
    pub(crate) SecurityDescriptor: *mut c_void,
    pub(crate) SecurityQualityOfService: *mut c_void,
}

/// One completion taken from a port by `GetQueuedCompletionStatusEx`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct OVERLAPPED_ENTRY {
    pub(crate) lpCompletionKey: usize,
    /// For a request made through ntdll, the `ApcContext` it was given.
    pub(crate) lpOverlapped: *mut c_void,
    pub(crate) Internal: usize,
    pub(crate) dwNumberOfBytesTransferred: u32,
}

/// One socket of a poll request: the socket, the `AFD_POLL_*` conditions asked for (in) or
/// found (out), and a status (out).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct AFD_POLL_HANDLE_INFO {
    pub(crate) Handle: HANDLE,
    pub(crate) Events: u32,
    pub(crate) Status: NTSTATUS,
}

/// A poll request, here always of one socket. The same buffer is given as input and output:
/// the driver writes back how many sockets are ready and what it found for each.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct AFD_POLL_INFO {
    /// In 100 ns units; `i64::MAX` waits until a condition holds or the request is cancelled.
    pub(crate) Timeout: i64,
    pub(crate) NumberOfHandles: u32,
    pub(crate) Exclusive: u32,
    pub(crate) Handles: [AFD_POLL_HANDLE_INFO; 1],
}

pub(crate) const IOCTL_AFD_POLL: u32 = 0x0001_2024;

/// Data (or a datagram) to receive.
pub(crate) const AFD_POLL_RECEIVE: u32 = 0x0001;
/// Out-of-band data to receive.
pub(crate) const AFD_POLL_RECEIVE_EXPEDITED: u32 = 0x0002;
/// Room to send.
pub(crate) const AFD_POLL_SEND: u32 = 0x0004;
/// The peer shut down its sending side (a FIN arrived).
pub(crate) const AFD_POLL_DISCONNECT: u32 = 0x0008;
/// The connection was reset or aborted.
pub(crate) const AFD_POLL_ABORT: u32 = 0x0010;
/// The socket was closed in this process.
pub(crate) const AFD_POLL_LOCAL_CLOSE: u32 = 0x0020;
/// A connection to accept.
pub(crate) const AFD_POLL_ACCEPT: u32 = 0x0080;
/// A connect failed.
pub(crate) const AFD_POLL_CONNECT_FAIL: u32 = 0x0100;

pub(crate) const STATUS_PENDING: NTSTATUS = 0x0000_0103;
pub(crate) const STATUS_CANCELLED: NTSTATUS = 0xC000_0120_u32 as NTSTATUS;

pub(crate) const SYNCHRONIZE: u32 = 0x0010_0000;
pub(crate) const FILE_SHARE_READ: u32 = 0x1;
pub(crate) const FILE_SHARE_WRITE: u32 = 0x2;
pub(crate) const FILE_OPEN: u32 = 1;
pub(crate) const FILE_SKIP_SET_EVENT_ON_HANDLE: u8 = 0x2;

pub(crate) const INFINITE: u32 = u32::MAX;
pub(crate) const WAIT_TIMEOUT: i32 = 258;

pub(crate) const SIO_BASE_HANDLE: u32 = 0x4800_0022;
pub(crate) const SIO_BSP_HANDLE_POLL: u32 = 0x4800_001D;
pub(crate) const SOCKET_ERROR: i32 = -1;

#[link(name = "kernel32")]
extern "system" {
    pub(crate) fn CreateIoCompletionPort(
        FileHandle: HANDLE,
        ExistingCompletionPort: HANDLE,
        CompletionKey: usize,
        NumberOfConcurrentThreads: u32,
    ) -> HANDLE;
    pub(crate) fn GetQueuedCompletionStatusEx(
        CompletionPort: HANDLE,
        lpCompletionPortEntries: *mut OVERLAPPED_ENTRY,
        ulCount: u32,
        ulNumEntriesRemoved: *mut u32,
        dwMilliseconds: u32,
        fAlertable: BOOL,
    ) -> BOOL;
    pub(crate) fn PostQueuedCompletionStatus(
        CompletionPort: HANDLE,
        dwNumberOfBytesTransferred: u32,
        dwCompletionKey: usize,
        lpOverlapped: *mut c_void,
    ) -> BOOL;
    pub(crate) fn SetFileCompletionNotificationModes(FileHandle: HANDLE, Flags: u8) -> BOOL;
    pub(crate) fn CloseHandle(hObject: HANDLE) -> BOOL;
}

#[link(name = "ntdll")]
extern "system" {
    pub(crate) fn NtCreateFile(
        FileHandle: *mut HANDLE,
        DesiredAccess: u32,
        ObjectAttributes: *const OBJECT_ATTRIBUTES,
        IoStatusBlock: *mut IO_STATUS_BLOCK,
        AllocationSize: *const i64,
        FileAttributes: u32,
        ShareAccess: u32,
        CreateDisposition: u32,
        CreateOptions: u32,
        EaBuffer: *const c_void,
        EaLength: u32,
    ) -> NTSTATUS;
    pub(crate) fn NtDeviceIoControlFile(
        FileHandle: HANDLE,
        Event: HANDLE,
        ApcRoutine: *const c_void,
        ApcContext: *mut c_void,
        IoStatusBlock: *mut IO_STATUS_BLOCK,
        IoControlCode: u32,
        InputBuffer: *const c_void,
        InputBufferLength: u32,
        OutputBuffer: *mut c_void,
        OutputBufferLength: u32,
    ) -> NTSTATUS;
    pub(crate) fn NtCancelIoFileEx(
        FileHandle: HANDLE,
        IoRequestToCancel: *mut IO_STATUS_BLOCK,
        IoStatusBlock: *mut IO_STATUS_BLOCK,
    ) -> NTSTATUS;
    pub(crate) fn RtlNtStatusToDosError(Status: NTSTATUS) -> u32;
}

#[link(name = "ws2_32")]
extern "system" {
    pub(crate) fn WSAIoctl(
        s: SOCKET,
        dwIoControlCode: u32,
        lpvInBuffer: *const c_void,
        cbInBuffer: u32,
        lpvOutBuffer: *mut c_void,
        cbOutBuffer: u32,
        lpcbBytesReturned: *mut u32,
        lpOverlapped: *mut c_void,
        lpCompletionRoutine: *const c_void,
    ) -> i32;
    pub(crate) fn WSAGetLastError() -> i32;
}

/// The Win32 error for an NTSTATUS, as an `io::Error`.
pub(crate) fn status_error(status: NTSTATUS) -> std::io::Error {
    // SAFETY: a pure conversion of a number to a number.
    let code = unsafe { RtlNtStatusToDosError(status) };
    std::io::Error::from_raw_os_error(code as i32)
}

/// Process rights: waiting on the process, and the least query right.
pub(crate) const SYNCHRONIZE_PROCESS: u32 = 0x0010_0000;
pub(crate) const PROCESS_QUERY_LIMITED_INFORMATION: u32 = 0x1000;
/// `RegisterWaitForSingleObject`: call back once, then stop waiting.
pub(crate) const WT_EXECUTEONLYONCE: u32 = 0x8;

/// A thread-pool wait's callback: its context, and whether the wait timed out.
pub(crate) type WAITORTIMERCALLBACK = unsafe extern "system" fn(*mut c_void, u8);

#[link(name = "kernel32")]
extern "system" {
    pub(crate) fn OpenProcess(
        dwDesiredAccess: u32,
        bInheritHandle: BOOL,
        dwProcessId: u32,
    ) -> HANDLE;
    pub(crate) fn RegisterWaitForSingleObject(
        phNewWaitObject: *mut HANDLE,
        hObject: HANDLE,
        Callback: WAITORTIMERCALLBACK,
        Context: *mut c_void,
        dwMilliseconds: u32,
        dwFlags: u32,
    ) -> BOOL;
    pub(crate) fn UnregisterWaitEx(WaitHandle: HANDLE, CompletionEvent: HANDLE) -> BOOL;
}
