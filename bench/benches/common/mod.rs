//! The workloads, shared by the criterion benches (`pollers.rs`) and the paired runner
//! (`compare.rs`), and the implementations they compare: pollio, mio 1.x, polling 3.x and raw
//! epoll system calls (the floor); and pollio on its poll(2) backend where the number of
//! registered fds shows.
//!
//! A workload hands out one [`Contender`] per implementation. A contender times batches of
//! operations; each operation runs inside [`measured_op`], which is never inlined, so
//! `bench/counts.sh` can count the instructions of the operations alone. Every operation checks
//! its result (the key, fd or byte that came back), so a wrong answer cannot look fast.
//!
//! On Windows (`bench/windows.sh`, run under Wine) the sockets are loopback TCP pairs and the
//! lineup is pollio against polling, which is the baseline there: raw epoll is Linux only, mio
//! registers only its own socket types there (not a raw socket), and pollio has no poll(2)
//! backend there. See [`workloads`] for the workloads left out.

pub mod backend;
#[cfg(target_os = "linux")]
mod echo;
pub mod fds;
mod pingpong;
#[cfg(target_os = "linux")]
mod raw_epoll;
mod ready;
mod registration;
mod timeout;
mod wake;
#[cfg(unix)]
mod with_mio;
mod with_polling;
mod with_pollio;

use std::time::{Duration, Instant};

pub use backend::{Backend, Trigger};
#[cfg(target_os = "linux")]
pub use raw_epoll::RawEpoll;
#[cfg(unix)]
pub use with_mio::Mio;
pub use with_polling::Polling;
#[cfg(unix)]
pub use with_pollio::PollioPoll;
pub use with_pollio::{Pollio, PollioInto, PollioSeed};

/// What every ratio is taken to: the first contender of every workload.
#[cfg(target_os = "linux")]
pub const BASELINE: &str = "raw epoll";
/// What every ratio is taken to: the first contender of every workload.
#[cfg(not(target_os = "linux"))]
pub const BASELINE: &str = "polling";

/// One implementation set up for one workload.
pub trait Contender {
    /// The name shown in tables and criterion ids.
    fn label(&self) -> String;

    /// The implementation's [`Backend::KEY`].
    fn key(&self) -> &'static str;

    /// Runs `iters` checked operations and returns the time they took, setup excluded.
    fn batch(&mut self, iters: u64) -> Duration;

    /// The duration of every operation so far, for workloads that report a distribution.
    fn samples(&self) -> &[Duration] {
        &[]
    }
}

/// A workload: what one operation is and who competes.
pub struct Workload {
    /// Its name, as in the benchmark issue.
    pub name: &'static str,
    /// One line on what one operation does.
    pub about: &'static str,
    /// What the per-unit figures count: "op", "event", "request", ...
    pub unit: &'static str,
    /// Units in one operation (1,000 events in one ready-1k wait).
    pub units_per_op: u64,
    /// The smallest sensible batch.
    pub min_iters: u64,
    /// Makes the contenders; called only when the workload runs, so fds are not held longer.
    pub contenders: fn() -> Vec<Box<dyn Contender>>,
}

/// One operation of a workload.
pub trait Op {
    /// Runs and checks one operation.
    fn op(&mut self);
}

/// Runs one operation. Never inlined: `bench/counts.sh` counts instructions inside this
/// function only (`valgrind --tool=callgrind --toggle-collect=*measured_op*`).
#[inline(never)]
pub fn measured_op<T: Op>(target: &mut T) {
    target.op();
}

/// `iters` operations back to back, timed together.
pub fn timed_ops<T: Op>(target: &mut T, iters: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        measured_op(target);
    }
    start.elapsed()
}

/// Builds a workload's contender for any implementation.
pub trait Make {
    /// The contender for implementation `B`.
    fn make<B: Backend>(&self) -> Box<dyn Contender>;
}

/// The contenders of every implementation, the [`BASELINE`] first; `seed` adds pollio's seed
/// API. `edge_only_too` adds mio, whose registrations are always edge-triggered.
fn lineup(make: &impl Make, seed: bool, edge_only_too: bool) -> Vec<Box<dyn Contender>> {
    lineup_with(make, seed, edge_only_too, false)
}

/// [`lineup`], and pollio on its poll(2) backend if `poll_too`: for the workloads whose cost
/// depends on how many fds are registered (or on their being there at all).
fn lineup_with(
    make: &impl Make,
    seed: bool,
    edge_only_too: bool,
    poll_too: bool,
) -> Vec<Box<dyn Contender>> {
    let mut all = Vec::new();
    #[cfg(target_os = "linux")]
    all.push(make.make::<RawEpoll>());
    #[cfg(not(target_os = "linux"))]
    all.push(make.make::<Polling>());
    all.push(make.make::<Pollio>());
    all.push(make.make::<PollioInto>());
    if seed {
        all.push(make.make::<PollioSeed>());
    }
    #[cfg(unix)]
    if edge_only_too {
        all.push(make.make::<Mio>());
    }
    #[cfg(target_os = "linux")]
    all.push(make.make::<Polling>());
    #[cfg(unix)]
    if poll_too {
        all.push(make.make::<PollioPoll>());
    }
    #[cfg(not(unix))]
    let _ = (edge_only_too, poll_too);
    all
}

/// pingpong registers edge-triggered wherever the implementation can (mio can do nothing
/// else), so that every implementation asks the kernel for the same work: a level-triggered
/// registration also makes the next wait re-check the fd it just reported.
#[cfg(unix)]
const PINGPONG: Trigger = Trigger::Edge;
/// On Windows level-triggered: polling has no edge-triggered mode there, and pollio's is the
/// same as its level-triggered one.
#[cfg(windows)]
const PINGPONG: Trigger = Trigger::Level;

/// What pingpong-1 does.
#[cfg(unix)]
const PINGPONG_1: &str = "1 socketpair, edge-triggered: write 1 byte, wait, read 1 byte";
/// What pingpong-1 does.
#[cfg(windows)]
const PINGPONG_1: &str =
    "1 loopback TCP connection, level-triggered: write 1 byte, wait, read 1 byte";

/// The name of pingpong over [`pingpong::MANY`] registered descriptors, and what it does.
#[cfg(unix)]
const PINGPONG_MANY: (&str, &str) = (
    "pingpong-10k",
    "pingpong-1 over 10,000 registered descriptors (both ends of 5,000 socketpairs), round robin",
);
/// The name of pingpong over [`pingpong::MANY`] registered descriptors, and what it does.
#[cfg(windows)]
const PINGPONG_MANY: (&str, &str) = (
    "pingpong-1k",
    "pingpong-1 over 1,000 registered sockets (both ends of 500 loopback TCP connections), round robin",
);

/// The workloads of the benchmark issue, in its order.
///
/// On Windows three are left out: ready-1k-edge (polling has no edge-triggered mode there, and
/// pollio's equals its level-triggered one, which ready-1k measures), timeout-100us (waits
/// there take whole milliseconds, so it would time the system's timer, not the pollers) and
/// echo (its client is the raw-epoll backend).
pub fn workloads() -> Vec<Workload> {
    #[allow(unused_mut)] // Linux adds echo, Windows removes two; elsewhere the list stays.
    let mut all = vec![
        Workload {
            name: "wait0-empty",
            about: "wait(0) with one idle fd registered; no event comes back",
            unit: "op",
            units_per_op: 1,
            min_iters: 1_000,
            contenders: || lineup_with(&pingpong::Wait0, false, true, true),
        },
        Workload {
            name: "pingpong-1",
            about: PINGPONG_1,
            unit: "op",
            units_per_op: 1,
            min_iters: 1_000,
            contenders: || {
                lineup_with(&pingpong::PingPongSetup::new(1, PINGPONG), true, true, true)
            },
        },
        Workload {
            name: PINGPONG_MANY.0,
            about: PINGPONG_MANY.1,
            unit: "op",
            units_per_op: 1,
            min_iters: pingpong::MANY as u64,
            contenders: || lineup_with(&pingpong::PingPongSetup::new(pingpong::MANY, PINGPONG), false, true, true),
        },
        Workload {
            name: "ready-1k",
            about: "1,000 level-triggered fds with unread data; one wait returns all, every key visited",
            unit: "event",
            units_per_op: ready::FDS as u64,
            // Under Wine one such wait takes about 0.3 s (the 1,000 sockets are polled again
            // for every wait), so batches there are smaller.
            min_iters: if cfg!(windows) { 5 } else { 50 },
            contenders: || lineup_with(&ready::ReadySetup(Trigger::Level), true, false, true),
        },
        Workload {
            name: "ready-1k-edge",
            about: "ready-1k edge-triggered (mio's only mode): 1,000 new edges (untimed writes), then one wait",
            unit: "event",
            units_per_op: ready::FDS as u64,
            min_iters: 20,
            contenders: || lineup(&ready::ReadySetup(Trigger::Edge), false, true),
        },
        Workload {
            name: "churn",
            about: "register + deregister one descriptor",
            unit: "op",
            units_per_op: 1,
            min_iters: 1_000,
            contenders: || lineup_with(&registration::Churn, false, true, true),
        },
        Workload {
            name: "rearm",
            about: "oneshot fd with unread data: wait for its event, re-arm with modify (mio: edge + reregister)",
            unit: "op",
            units_per_op: 1,
            min_iters: 1_000,
            contenders: || lineup(&registration::Rearm, false, true),
        },
        Workload {
            name: "wake",
            about: "same thread: wake, then a blocking wait that returns with no event",
            unit: "op",
            units_per_op: 1,
            min_iters: 1_000,
            contenders: || lineup(&wake::SameThread, false, true),
        },
        Workload {
            name: "wake-xthread",
            about: "two threads on different CPUs wake each other's blocked wait in turn; one op is a round trip",
            unit: "round trip",
            units_per_op: 1,
            min_iters: 200,
            contenders: || lineup(&wake::CrossThread, false, true),
        },
        Workload {
            name: "timeout-100us",
            about: "a 100 µs timed wait with nothing ready (actual sleep in the timeout table)",
            unit: "wait",
            units_per_op: 1,
            min_iters: 20,
            contenders: || lineup(&timeout::Timed, false, true),
        },
    ];
    #[cfg(target_os = "linux")]
    all.push(Workload {
        name: "echo",
        about: "loopback TCP echo: edge-triggered server thread on the poller, 64 connections from a raw-epoll client thread",
        unit: "request",
        units_per_op: 1,
        min_iters: 2_000,
        contenders: || lineup(&echo::EchoSetup, false, true),
    });
    #[cfg(windows)]
    all.retain(|w| !matches!(w.name, "ready-1k-edge" | "timeout-100us"));
    all
}
