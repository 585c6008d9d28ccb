//! The conformance suite: pollio's behaviour, written once over `P: Poller` and run against
//! every backend the crate has.
//!
//! Each module holds generic test bodies and ends with `backend_tests!`, which stamps out one
//! `#[test]` per body and backend. On Linux and Android they run against epoll (`os_poller`)
//! and poll(2) (`poll_poller`); on macOS and the BSDs the same bodies compile (and run)
//! against kqueue, and on the poll-only systems against poll(2). Tests that depend on one
//! backend's behaviour ask [`support::backend_of`] which one they run on and assert each
//! backend's behaviour side by side.

/// Instantiates the listed generic test functions for every backend.
///
/// `backend_tests!(a, b)` creates `mod os_poller { #[test] fn a() { super::a::<OsPoller>() } … }`,
/// and on Linux and Android the same `mod poll_poller` for `PollPoller`. The `@backend` form
/// instantiates them for one named poller type only.
macro_rules! backend_tests {
    ($($test:ident),* $(,)?) => {
        backend_tests!(@backend os_poller, pollio::OsPoller; $($test),*);
        #[cfg(any(target_os = "linux", target_os = "android"))]
        backend_tests!(@backend poll_poller, pollio::PollPoller; $($test),*);
    };
    (@backend $module:ident, $poller:ty; $($test:ident),* $(,)?) => {
        mod $module {
            $(
                #[test]
                fn $test() {
                    super::$test::<$poller>();
                }
            )*
        }
    };
}

mod support;

mod buffer;
mod closed_fds;
mod errors;
mod exclusive;
mod interests;
mod interrupts;
mod io_safety;
mod modes;
mod parked;
mod readiness;
mod registration;
mod seed;
mod seed_contract;
mod seed_only;
mod shared_waits;
mod threads;
mod timeouts;
mod tokens;
mod waker;
