//! The conformance suite: pollio's behaviour, written once over `P: Poller` and run against
//! every backend the crate has.
//!
//! Each module holds generic test bodies and ends with `backend_tests!`, which stamps out one
//! `#[test]` per body and backend. On Linux and Android they run against epoll (`os_poller`)
//! and poll(2) (`poll_poller`); on macOS and the BSDs the same bodies compile (and run)
//! against kqueue, and on the poll-only systems against poll(2). Tests that depend on one
//! backend's behaviour ask [`support::backend_of`] which one they run on and assert each
//! backend's behaviour side by side.
//!
//! On Windows (`ci/windows.sh`, under Wine) the bodies run against the AFD backend, over TCP
//! pairs where Unix uses socket pairs. The modules about signals and child exits are Unix
//! only, and each test whose subject Windows does otherwise says why in
//! `cfg_attr(windows, ignore = "…")`.
//!
//! Under Miri (`ci/miri.sh`), which emulates epoll but not poll(2), only `os_poller` is built;
//! registrations whose mode a test is not about use `support::INCIDENTAL_MODE` (edge-triggered
//! there, the only mode Miri's epoll accepts), and each test Miri cannot run says why in
//! `cfg_attr(miri, ignore = "…")`.

/// Instantiates the listed generic test functions for every backend.
///
/// `backend_tests!(a, b)` creates `mod os_poller { #[test] fn a() { super::a::<OsPoller>() } … }`,
/// and on Linux and Android the same `mod poll_poller` for `PollPoller`. The `@backend` form
/// instantiates them for one named poller type only. Attributes written before a name go on
/// its test, such as `#[cfg_attr(miri, ignore = "why")]` for a test Miri cannot run.
macro_rules! backend_tests {
    ($($(#[$attr:meta])* $test:ident),* $(,)?) => {
        backend_tests!(@backend os_poller, pollio::OsPoller; $($(#[$attr])* $test),*);
        #[cfg(all(any(target_os = "linux", target_os = "android"), not(miri)))]
        backend_tests!(@backend poll_poller, pollio::PollPoller; $($(#[$attr])* $test),*);
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

mod buffer;
#[cfg(unix)]
mod closed_fds;
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
mod threads;
mod timeouts;
mod tokens;
mod waker;

// Timers, signals and child exits: where poll(2) is the only backend there are no such sources,
// and one test checks that each is `Unsupported` instead.
#[cfg(any(
    target_os = "illumos",
    target_os = "solaris",
    target_os = "haiku",
    target_os = "hurd",
    target_os = "nto",
    target_os = "redox",
    target_os = "cygwin",
))]
mod no_sources;

/// Its items, everywhere but where poll(2) is the only backend.
macro_rules! where_sources_exist {
    ($($item:item)*) => {$(
        #[cfg(not(any(
            target_os = "illumos",
            target_os = "solaris",
            target_os = "haiku",
            target_os = "hurd",
            target_os = "nto",
            target_os = "redox",
            target_os = "cygwin",
        )))]
        $item
    )*};
}

where_sources_exist! {
    // Child exits are tested with Unix commands, and Windows has no signals.
    #[cfg(unix)]
    mod children;
    #[cfg(unix)]
    mod signal_sources;
    mod timers;
}
