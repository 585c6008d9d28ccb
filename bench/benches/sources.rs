//! Timers and signals as sources: pollio against a hand-written timerfd / signalfd loop (the
//! floor), and the timer design measurement (a timerfd per timer against one timerfd under a
//! heap).
//!
//! ```text
//! cargo bench -p pollio-bench --bench sources                      # timings
//! target/release/deps/sources-* --count WORKLOAD IMPL N            # N ops, for bench/sources.sh
//! target/release/deps/sources-* --design per-fd|heap N             # N timers, each phase timed
//! ```
//!
//! Workloads (one op each, every op checked):
//! - `timer-arm-cancel`: arm a timer 1 s ahead, then cancel it;
//! - `timer-fire`: arm a timer to fire at once, wait for its event, read its count;
//! - `signal`: raise `SIGUSR2` (blocked), wait for the source's event, read its count.
//!
//! Linux only: the floor is timerfd, signalfd and epoll.

use pollio::{Events, OsPoller, Poller, Registration, Signal, Timer};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The one function callgrind counts (`--toggle-collect=*measured_op*`).
#[inline(never)]
fn measured_op<R>(op: &mut impl FnMut() -> R) -> R {
    op()
}

fn check(rc: libc::c_int, what: &str) -> libc::c_int {
    assert!(rc >= 0, "{what}: {}", std::io::Error::last_os_error());
    rc
}

fn spec(d: Duration) -> libc::itimerspec {
    let ts = libc::timespec {
        tv_sec: d.as_secs() as libc::time_t,
        tv_nsec: d.subsec_nanos() as libc::c_long,
    };
    let zero = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    libc::itimerspec {
        it_interval: zero,
        it_value: ts,
    }
}

/// A timerfd registered edge-triggered in its own epoll: the floor.
struct RawTimer {
    epoll: libc::c_int,
    tfd: libc::c_int,
    events: Vec<libc::epoll_event>,
}

impl RawTimer {
    fn new() -> RawTimer {
        // SAFETY: plain fd-creating calls and one epoll_ctl with a live event.
        unsafe {
            let epoll = check(libc::epoll_create1(libc::EPOLL_CLOEXEC), "epoll_create1");
            let flags = libc::TFD_NONBLOCK | libc::TFD_CLOEXEC;
            let tfd = check(
                libc::timerfd_create(libc::CLOCK_MONOTONIC, flags),
                "timerfd",
            );
            let mut ev = libc::epoll_event {
                events: (libc::EPOLLIN | libc::EPOLLET) as u32,
                u64: 7,
            };
            check(
                libc::epoll_ctl(epoll, libc::EPOLL_CTL_ADD, tfd, &mut ev),
                "epoll_ctl",
            );
            RawTimer {
                epoll,
                tfd,
                events: vec![libc::epoll_event { events: 0, u64: 0 }; 64],
            }
        }
    }

    fn set(&self, d: Duration) {
        let s = spec(d);
        // SAFETY: `s` is live and read only.
        check(
            unsafe { libc::timerfd_settime(self.tfd, 0, &s, std::ptr::null_mut()) },
            "settime",
        );
    }

    fn wait_one(&mut self) -> u64 {
        // SAFETY: 64 writable slots.
        let n = unsafe { libc::epoll_wait(self.epoll, self.events.as_mut_ptr(), 64, -1) };
        assert_eq!(check(n, "epoll_wait"), 1);
        assert_eq!({ self.events[0].u64 }, 7);
        let mut count = 0u64;
        // SAFETY: 8 bytes into a live u64.
        let r = unsafe { libc::read(self.tfd, (&mut count as *mut u64).cast(), 8) };
        assert_eq!(r, 8);
        count
    }
}

struct RawSignal {
    epoll: libc::c_int,
    sfd: libc::c_int,
    events: Vec<libc::epoll_event>,
}

impl RawSignal {
    fn new(signo: libc::c_int) -> RawSignal {
        // SAFETY: the set is initialised before use; the fds are fresh.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, signo);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            let sfd = check(
                libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC),
                "signalfd",
            );
            let epoll = check(libc::epoll_create1(libc::EPOLL_CLOEXEC), "epoll_create1");
            let mut ev = libc::epoll_event {
                events: (libc::EPOLLIN | libc::EPOLLET) as u32,
                u64: 9,
            };
            check(
                libc::epoll_ctl(epoll, libc::EPOLL_CTL_ADD, sfd, &mut ev),
                "epoll_ctl",
            );
            RawSignal {
                epoll,
                sfd,
                events: vec![libc::epoll_event { events: 0, u64: 0 }; 64],
            }
        }
    }

    fn wait_one(&mut self) -> u64 {
        // SAFETY: 64 writable slots; one siginfo's worth of bytes into a live buffer.
        unsafe {
            let n = libc::epoll_wait(self.epoll, self.events.as_mut_ptr(), 64, -1);
            assert_eq!(check(n, "epoll_wait"), 1);
            assert_eq!({ self.events[0].u64 }, 9);
            let mut info: libc::signalfd_siginfo = std::mem::zeroed();
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            let r = libc::read(
                self.sfd,
                (&mut info as *mut libc::signalfd_siginfo).cast(),
                size,
            );
            assert_eq!(r as usize, size);
            1
        }
    }
}

fn raise(signo: libc::c_int) {
    // SAFETY: the signal is blocked in this (the only) thread.
    check(unsafe { libc::raise(signo) }, "raise");
}

/// A closure running one checked op of `workload` for `imp`.
fn workload(name: &str, imp: &str) -> Box<dyn FnMut() -> u64> {
    let far = Duration::from_secs(1);
    let now = Duration::from_nanos(1);
    match (name, imp) {
        ("timer-arm-cancel", "pollio") => {
            let poller = OsPoller::new().unwrap();
            let timer = poller.timer(Registration::client(7)).unwrap();
            Box::new(move || {
                let _keep = &poller;
                timer.set_after(far).unwrap();
                timer.cancel().unwrap();
                1
            })
        }
        ("timer-arm-cancel", "raw") => {
            let t = RawTimer::new();
            Box::new(move || {
                t.set(far);
                t.set(Duration::ZERO);
                1
            })
        }
        ("timer-fire", "pollio") => {
            let poller = OsPoller::new().unwrap();
            let timer = poller.timer(Registration::client(7)).unwrap();
            let mut events = Events::with_capacity(64).unwrap();
            Box::new(move || {
                timer.set_after(Duration::ZERO).unwrap();
                poller.poll_into(&mut events, None).unwrap();
                assert_eq!(events[0].key(), 7);
                timer.expirations(&events[0]).unwrap()
            })
        }
        ("timer-fire", "raw") => {
            let mut t = RawTimer::new();
            Box::new(move || {
                t.set(now);
                t.wait_one()
            })
        }
        ("signal", "pollio") => {
            let poller = OsPoller::new().unwrap();
            let signal: Signal = poller
                .signal(libc::SIGUSR2, Registration::client(9))
                .unwrap();
            let mut events = Events::with_capacity(64).unwrap();
            Box::new(move || {
                raise(libc::SIGUSR2);
                poller.poll_into(&mut events, None).unwrap();
                assert_eq!(events[0].key(), 9);
                signal.deliveries(&events[0]).unwrap()
            })
        }
        ("signal", "raw") => {
            let mut s = RawSignal::new(libc::SIGUSR2);
            Box::new(move || {
                raise(libc::SIGUSR2);
                s.wait_one()
            })
        }
        _ => panic!("unknown workload {name} or implementation {imp}"),
    }
}

const WORKLOADS: [&str; 3] = ["timer-arm-cancel", "timer-fire", "signal"];

/// One timerfd under a binary heap of deadlines, cancelled lazily: the alternative design.
struct HeapTimers {
    tfd: libc::c_int,
    heap: BinaryHeap<Reverse<(Duration, u32, u32)>>,
    generations: Vec<u32>,
    armed: Option<Duration>,
    settimes: u64,
}

impl HeapTimers {
    fn new() -> HeapTimers {
        let flags = libc::TFD_NONBLOCK | libc::TFD_CLOEXEC;
        // SAFETY: no pointers.
        let tfd = check(
            unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, flags) },
            "tfd",
        );
        HeapTimers {
            tfd,
            heap: BinaryHeap::new(),
            generations: Vec::new(),
            armed: None,
            settimes: 0,
        }
    }

    fn create(&mut self) -> u32 {
        self.generations.push(0);
        (self.generations.len() - 1) as u32
    }

    /// Arms `id` at `deadline` (on CLOCK_MONOTONIC); the timerfd only when it is the earliest.
    fn arm(&mut self, id: u32, deadline: Duration) {
        let generation = &mut self.generations[id as usize];
        *generation += 1;
        self.heap.push(Reverse((deadline, id, *generation)));
        if self.armed.map_or(true, |armed| deadline < armed) {
            let s = spec(deadline);
            // SAFETY: `s` is live and read only.
            check(
                unsafe {
                    libc::timerfd_settime(
                        self.tfd,
                        libc::TFD_TIMER_ABSTIME,
                        &s,
                        std::ptr::null_mut(),
                    )
                },
                "settime",
            );
            self.armed = Some(deadline);
            self.settimes += 1;
        }
    }

    /// Cancels lazily: the heap entry stays and is skipped when it comes up.
    fn cancel(&mut self, id: u32) {
        self.generations[id as usize] += 1;
    }
}

fn monotonic_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is live.
    check(
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) },
        "clock",
    );
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// N timers, each created, armed, re-armed and cancelled (and dropped); prints ns per timer
/// for each phase. The deadlines are 1 to 10 s ahead, in a scrambled order.
fn design(which: &str, n: usize) {
    let offset = |i: usize, round: usize| {
        let scrambled = (i.wrapping_mul(2_654_435_761) + round * 977) % 9_000_000;
        Duration::from_secs(1) + Duration::from_micros(scrambled as u64)
    };
    let mut phases: Vec<(&str, Duration)> = Vec::new();
    let mut timed = |name, f: &mut dyn FnMut()| {
        let start = Instant::now();
        f();
        phases.push((name, start.elapsed()));
    };
    match which {
        "per-fd" => {
            let poller = OsPoller::new().unwrap();
            let mut timers: Vec<Timer> = Vec::with_capacity(n);
            timed("create", &mut || {
                for i in 0..n {
                    timers.push(poller.timer(Registration::client(i as u32)).unwrap());
                }
            });
            timed("arm", &mut || {
                for (i, t) in timers.iter().enumerate() {
                    t.set_after(offset(i, 0)).unwrap();
                }
            });
            timed("re-arm", &mut || {
                for (i, t) in timers.iter().enumerate() {
                    t.set_after(offset(i, 1)).unwrap();
                }
            });
            timed("cancel", &mut || {
                for t in &timers {
                    t.cancel().unwrap();
                }
            });
            timed("drop", &mut || timers.clear());
        }
        "heap" => {
            let mut heap = HeapTimers::new();
            let mut ids = Vec::with_capacity(n);
            timed("create", &mut || {
                for _ in 0..n {
                    ids.push(heap.create());
                }
            });
            let base = monotonic_now();
            timed("arm", &mut || {
                for &id in &ids {
                    heap.arm(id, base + offset(id as usize, 0));
                }
            });
            timed("re-arm", &mut || {
                for &id in &ids {
                    heap.arm(id, base + offset(id as usize, 1));
                }
            });
            timed("cancel", &mut || {
                for &id in &ids {
                    heap.cancel(id);
                }
            });
            println!("heap: {} timerfd_settime calls in all", heap.settimes);
            black_box(&heap);
        }
        _ => panic!("--design per-fd|heap"),
    }
    for (name, took) in phases {
        println!(
            "{which} {name}: {:.0} ns per timer",
            took.as_nanos() as f64 / n as f64
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["--count", name, imp, n] => {
            let mut op = workload(name, imp);
            let n: u64 = n.parse().unwrap();
            let mut total = 0;
            for _ in 0..n {
                total += measured_op(&mut op);
            }
            assert!(total >= n, "{total} counted for {n} ops");
        }
        ["--design", which, n] => design(which, n.parse().unwrap()),
        // `cargo bench` passes --bench; anything else runs the timings.
        _ => {
            for name in WORKLOADS {
                for imp in ["raw", "pollio"] {
                    let mut op = workload(name, imp);
                    let mut best = Duration::MAX;
                    for _ in 0..20 {
                        let start = Instant::now();
                        for _ in 0..2_000 {
                            black_box(measured_op(&mut op));
                        }
                        best = best.min(start.elapsed() / 2_000);
                    }
                    println!(
                        "{name:17} {imp:7} {:>6} ns/op (best of 20 × 2,000)",
                        best.as_nanos()
                    );
                }
            }
            for which in ["per-fd", "heap"] {
                design(which, 10_000);
            }
        }
    }
}
