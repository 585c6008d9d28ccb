//! The cross-thread wake-up handle.

use crate::registry::Shared;
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Makes a blocked wait return, from any thread.
///
/// Get one from [`Poller::waker`](crate::Poller::waker); clone it freely. The woken wait
/// returns `Ok` with whatever events are ready, possibly none: the wake itself is not
/// reported as an event, so keep your own record (a queue, a flag) of why you woke it.
///
/// Wakes coalesce: however many wakes happen before a wait returns, they cause one early
/// return. Only the first wake after a wait returned makes a system call (one `write` to an
/// eventfd on Linux, one `kevent` on kqueue); the rest are one atomic operation.
///
/// [`wake`](Self::wake) is async-signal-safe: it takes no lock and allocates nothing, so it may
/// be called from a signal handler.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use pollio::{OsPoller, Poller};
///
/// let mut poller = OsPoller::new()?;
/// let waker = poller.waker()?;
/// std::thread::spawn(move || waker.wake());
/// // Returns once the other thread has woken it.
/// let events = poller.poll(None)?;
/// assert!(events.is_empty());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Waker {
    shared: Arc<Shared>,
}

impl Waker {
    pub(crate) fn new(shared: Arc<Shared>) -> Waker {
        Waker { shared }
    }

    /// Makes the current or next wait on the poller return.
    pub fn wake(&self) -> io::Result<()> {
        let shared = &*self.shared;
        // Release: pairs with the Acquire swap that clears the flag in `Shared::take_wake`, so
        // whatever the caller did before waking (pushing work) is visible to the waiter when
        // this wake is skipped (see there). Nothing is read through this swap, so it needs
        // no Acquire.
        if shared.notified.swap(true, Ordering::Release) {
            return Ok(());
        }
        let Some(source) = shared.wake_source.get() else {
            return Ok(());
        };
        source.notify(&shared.selector).map_err(|err| {
            // No event is coming for this wake: let the next one try the system call again.
            // Relaxed: it publishes nothing, and the next wake's swap reads it whatever order.
            shared.notified.store(false, Ordering::Relaxed);
            err
        })
    }
}

impl std::fmt::Debug for Waker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waker").finish_non_exhaustive()
    }
}
