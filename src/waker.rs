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
/// eventfd on Linux, one `kevent` on kqueue, one `write` to a pipe on the other poll(2)
/// systems); the rest are one atomic operation.
///
/// [`wake`](Self::wake) is async-signal-safe: it takes no lock and allocates nothing, so it may
/// be called from a signal handler.
///
/// # fork
///
/// On Linux a child created with `fork` shares the parent's epoll instance. If the child
/// *waits* on its copy of the poller while a wake is pending, it can take the wake event. The
/// parent's `Waker` still records a pending wake, so from then on every `wake()` returns `Ok`
/// without a system call and the parent's waits are never woken again. A child must not wait
/// on an inherited poller: it creates its own. A parent whose child did so needs a new poller
/// and waker. (Wakes *from* a child are fine: they end the parent's wait.) pollio does not
/// detect this case, because detecting it would cost every wait a system call.
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
    ///
    /// # Errors
    ///
    /// The OS error of the system call that makes the wake-up event pending (`write` to the
    /// eventfd, or `kevent`), which does not fail in practice. A wake that coalesces with one
    /// still pending makes no system call and cannot fail.
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
