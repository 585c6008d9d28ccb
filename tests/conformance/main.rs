//! The conformance suite: pollio's behaviour, written once over `P: Poller` and run against
//! every backend the crate has.
//!
//! Each module holds generic test bodies and ends with `backend_tests!`, which stamps out one
//! `#[test]` per body and backend. On Linux they run against epoll; on macOS and the BSDs the
//! same bodies compile (and run) against kqueue. Tests that depend on one kernel's behaviour
//! say so in a `cfg` and assert the other kernel's behaviour beside it wherever there is one.
//!
//! On Windows (`ci/windows.sh`, under Wine) the bodies run against the AFD backend, over TCP
//! pairs where Unix uses socket pairs. The modules about signals and child exits are Unix
//! only, and each test whose subject Windows does otherwise says why in
//! `cfg_attr(windows, ignore = "…")`.
//!
//! Under Miri (`ci/miri.sh`), which emulates epoll, registrations whose mode a test is not
//! about use `support::INCIDENTAL_MODE` (edge-triggered there, the only mode Miri's epoll
//! accepts), and each test Miri cannot run says why in `cfg_attr(miri, ignore = "…")`.

/// Instantiates the listed generic test functions for every backend.
///
/// `backend_tests!(a, b)` creates `mod os_poller { #[test] fn a() { super::a::<OsPoller>() } … }`.
/// The `@backend` form instantiates them for one named poller type only. Attributes written
/// before a name go on its test, such as `#[cfg_attr(miri, ignore = "why")]` for a test Miri
/// cannot run.
macro_rules! backend_tests {
    ($($(#[$attr:meta])* $test:ident),* $(,)?) => {
        backend_tests!(@backend os_poller, pollio::OsPoller; $($(#[$attr])* $test),*);
    };
    (@backend $module:ident, $poller:ty; $($(#[$attr:meta])* $test:ident),* $(,)?) => {
        mod $module {
            $(
                #[test]
                $(#[$attr])*
                fn $test() {
                    super::$test::<$poller>();
                }
            )*
        }
    };
}

mod support;

// Signals and child-exit events, which pollio provides on Unix only so far.

mod buffer;
#[cfg(unix)]
mod children;
mod errors;
mod exclusive;
mod interests;
#[cfg(unix)]
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
#[cfg(unix)]
mod signal_sources;
mod threads;
mod timeouts;
mod timers;
mod tokens;
mod waker;
