//! Child-exit events on Windows: a process handle waited on by the system thread pool, whose
//! callback posts a completion carrying the registration's word to the poller's port.
//!
//! Nothing is added to the wait path: the completion is one more packet on the port. The word
//! travels in the packet itself, so no memory is shared with a packet still queued when the
//! source is dropped; such a packet (the process exited just before the drop) still makes its
//! event, as an event already taken from the kernel would on Unix.

use super::afd::*;
use super::{RawEvent, Selector};
use crate::{Event, Registration};
use std::ffi::c_void;
use std::io;
use std::os::windows::io::RawSocket;
use std::ptr;

/// The completion key of a child's exit.
pub(super) const CHILD_KEY: usize = 3;

/// The flag of a child-exit event (no `AFD_POLL_*` condition uses it): readable, as a pidfd.
pub(super) const CHILD_EXITED: u32 = 1 << 30;

/// The event for a completion posted by `exited`.
pub(super) fn exit_event(done: &OVERLAPPED_ENTRY) -> Event {
    Event(RawEvent {
        word: done.lpOverlapped as usize as u64,
        flags: CHILD_EXITED,
    })
}

/// What the callback needs: the port and the word. Boxed; freed once the wait is unregistered
/// (which waits for a running callback to finish).
struct Context {
    port: usize,
    word: u64,
}

pub(crate) struct ChildSource {
    process: HANDLE,
    wait: HANDLE,
    context: *mut Context,
}

// SAFETY: the handles are kernel objects usable from any thread; the context is only read, by
// the callback, until `deregister` frees it after unregistering the wait.
unsafe impl Send for ChildSource {}
// SAFETY: as for Send; `deregister` is the only method and takes the handles by value once.
unsafe impl Sync for ChildSource {}

impl ChildSource {
    pub(crate) fn new(
        selector: &Selector,
        pid: u32,
        registration: Registration,
    ) -> io::Result<ChildSource> {
        // An odd number stands for the process where a socket would be (socket handles are
        // multiples of four).
        let word = registration.word_for((u64::from(pid) << 1 | 1) as RawSocket, true)?;
        // SAFETY: no pointers; a failure returns null and sets the last error.
        let process = unsafe {
            OpenProcess(
                SYNCHRONIZE_PROCESS | PROCESS_QUERY_LIMITED_INFORMATION,
                0,
                pid,
            )
        };
        if process.is_null() {
            // ERROR_INVALID_PARAMETER for a process that does not exist.
            return Err(io::Error::last_os_error());
        }
        let context = Box::into_raw(Box::new(Context {
            port: selector.port as usize,
            word,
        }));
        let mut wait: HANDLE = ptr::null_mut();
        // SAFETY: `wait` is a live local for the new wait's handle; the process handle is
        // open; `context` stays allocated until the wait is unregistered (see `deregister`),
        // and `exited` has the callback's signature.
        let ok = unsafe {
            RegisterWaitForSingleObject(
                &mut wait,
                process,
                exited,
                context.cast(),
                INFINITE,
                WT_EXECUTEONLYONCE,
            )
        };
        if ok == 0 {
            let err = io::Error::last_os_error();
            // SAFETY: no wait was registered, so nothing else holds the context or the
            // handle, both owned here.
            unsafe {
                drop(Box::from_raw(context));
                CloseHandle(process);
            }
            return Err(err);
        }
        Ok(ChildSource {
            process,
            wait,
            context,
        })
    }

    pub(crate) fn deregister(&self, _selector: &Selector) {
        // SAFETY: `wait` and `process` are this source's and used once more here (the
        // source is being dropped). INVALID_HANDLE_VALUE makes the call wait for a running
        // callback, after which nothing reads the context, which is freed once.
        unsafe {
            UnregisterWaitEx(self.wait, usize::MAX as HANDLE);
            CloseHandle(self.process);
            drop(Box::from_raw(self.context));
        }
    }
}

/// The thread pool's callback when the process has exited: posts the exit to the port.
unsafe extern "system" fn exited(context: *mut c_void, _timed_out: u8) {
    // SAFETY: the context is a live `Context` until the wait is unregistered, which waits for
    // this callback to return.
    let context = unsafe { &*context.cast::<Context>() };
    // SAFETY: the port outlives every source (a `ChildExit` holds the poller's shared state);
    // the packet carries the word in its pointer-sized field, no buffer. A failure cannot be
    // reported from here; the event is lost then.
    unsafe {
        PostQueuedCompletionStatus(
            context.port as HANDLE,
            0,
            CHILD_KEY,
            context.word as usize as *mut c_void,
        )
    };
}
