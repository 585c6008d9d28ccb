//! The one interface every benchmarked poller is driven through.
//!
//! Each implementation is written the way its own documentation shows, so a workload measures
//! what a user of that crate would get; the trait only gives the workloads one shape to call.

use pollio::BorrowedSource;
use std::time::Duration;

/// Events one wait can return, for every implementation.
pub const CAPACITY: usize = 1024;

/// How a registration reports readiness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// Reported on every wait while the fd is ready.
    Level,
    /// Reported once per new readiness.
    Edge,
    /// Reported once, then disabled until re-armed.
    Oneshot,
}

/// A handle that ends a wait from another thread.
pub trait Wake: Clone + Send + 'static {
    /// Makes the current or next wait of the owning poller return.
    fn wake(&self);
}

/// A poller as the workloads use it. Failures panic: a benchmark that silently skipped an
/// error could look fast while doing nothing.
pub trait Backend: Sized + Send + 'static {
    /// The wake handle.
    type Waker: Wake;

    /// The name shown in tables and criterion ids.
    const NAME: &'static str;

    /// A one-word name for the command line (`compare --count WORKLOAD KEY ITERS`).
    const KEY: &'static str;

    /// A poller with room for [`CAPACITY`] events per wait.
    fn new() -> Self;

    /// The trigger this implementation uses when a workload asks for `wanted`: mio is
    /// edge-triggered only, and the seed API is level-triggered only.
    fn trigger_for(wanted: Trigger) -> Trigger {
        wanted
    }

    /// Registers `fd` for readability with `key` and the trigger `trigger_for(trigger)`.
    fn register(&mut self, fd: BorrowedSource<'_>, key: u32, trigger: Trigger);

    /// Replaces the registration of `fd` (for oneshot: re-arms it).
    fn rearm(&mut self, fd: BorrowedSource<'_>, key: u32, trigger: Trigger);

    /// Removes `fd`.
    fn deregister(&mut self, fd: BorrowedSource<'_>);

    /// One wait. Calls `visit` with the id of every event (its key, or its fd for an API that
    /// returns fds, see [`id`](Self::id)); the wake-up event is not visited. Returns the number
    /// of events visited.
    fn wait(&mut self, timeout: Option<Duration>, visit: impl FnMut(u64)) -> usize;

    /// What `wait` passes to `visit` for `fd` registered with `key`.
    fn id(fd: BorrowedSource<'_>, key: u32) -> u64 {
        let _ = fd;
        u64::from(key)
    }

    /// A wake handle for this poller.
    fn waker(&mut self) -> Self::Waker;
}

/// The label of an implementation in a workload that asks for `wanted`: its name, with the
/// trigger it really uses when that differs.
pub fn label<B: Backend>(wanted: Trigger) -> String {
    match B::trigger_for(wanted) {
        actual if actual == wanted => B::NAME.to_string(),
        Trigger::Edge => format!("{} (edge)", B::NAME),
        actual => format!("{} ({actual:?})", B::NAME).to_lowercase(),
    }
}
