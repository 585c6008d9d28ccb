//! wake: a wake-up followed by the wait it ends, on one thread and across two.

use super::backend::{label, Backend, Trigger, Wake};
use super::{measured_op, timed_ops, Contender, Make, Op};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// wake, same thread: wake, then a blocking wait that must return with no event. A lost
/// wake-up would block forever.
pub struct SameThread;

struct SameThreadContender<B: Backend> {
    backend: B,
    waker: B::Waker,
}

impl Make for SameThread {
    fn make<B: Backend>(&self) -> Box<dyn Contender> {
        let mut backend = B::new();
        let waker = backend.waker();
        Box::new(SameThreadContender { backend, waker })
    }
}

impl<B: Backend> Op for SameThreadContender<B> {
    #[inline]
    fn op(&mut self) {
        self.waker.wake();
        let events = self.backend.wait(None, |_| {});
        assert_eq!(events, 0, "only the wake-up happened");
    }
}

impl<B: Backend> Contender for SameThreadContender<B> {
    fn label(&self) -> String {
        label::<B>(Trigger::Level)
    }
    fn key(&self) -> &'static str {
        B::KEY
    }
    fn batch(&mut self, iters: u64) -> Duration {
        timed_ops(self, iters)
    }
}

/// wake-xthread: two threads each block in a wait on their own poller and wake the other's
/// in turn. One op is a round trip: two cross-thread wake-ups. Both threads are pinned to
/// different CPUs where the process may use two, so every wake-up crosses CPUs in every batch
/// (left alone, the scheduler sometimes puts both on one CPU, which costs a different amount).
pub struct CrossThread;

/// One side of the exchange: its poller, and the waker of the other side's poller.
struct Side<B: Backend> {
    backend: B,
    other: B::Waker,
}

struct CrossThreadContender<B: Backend> {
    /// The side that times the round trips, and its partner; lent to threads for each batch.
    sides: Option<(Side<B>, Side<B>)>,
}

impl Make for CrossThread {
    fn make<B: Backend>(&self) -> Box<dyn Contender> {
        let mut first = B::new();
        let mut second = B::new();
        let first_waker = first.waker();
        let second_waker = second.waker();
        let sides = (
            Side {
                backend: first,
                other: second_waker,
            },
            Side {
                backend: second,
                other: first_waker,
            },
        );
        Box::new(CrossThreadContender { sides: Some(sides) })
    }
}

/// Waits until woken: a wake-up is the only thing that can end the wait.
fn wait_woken<B: Backend>(backend: &mut B) {
    let events = backend.wait(None, |_| {});
    assert_eq!(events, 0, "only wake-ups happen");
}

impl<B: Backend> Op for Side<B> {
    /// Wake the partner, then wait for its answer.
    #[inline]
    fn op(&mut self) {
        self.other.wake();
        wait_woken(&mut self.backend);
    }
}

/// The first two CPUs this process may run on, if it may run on two. Linux only: elsewhere the
/// threads are left where the scheduler puts them.
#[cfg(target_os = "linux")]
fn two_cpus() -> Option<[usize; 2]> {
    // SAFETY: cpu_set_t is plain data, for which all zeroes is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: `set` is a live cpu_set_t of `size` bytes for the kernel to fill.
    if unsafe { libc::sched_getaffinity(0, size, &mut set) } != 0 {
        return None;
    }
    // SAFETY: CPU_ISSET reads the set filled above, for indices below its capacity.
    let mut cpus =
        (0..libc::CPU_SETSIZE as usize).filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) });
    Some([cpus.next()?, cpus.next()?])
}

#[cfg(not(target_os = "linux"))]
fn two_cpus() -> Option<[usize; 2]> {
    None
}

/// Pins the calling thread to `cpu`; a refusal only costs stability, so it is ignored.
#[cfg(target_os = "linux")]
fn pin_to(cpu: usize) {
    // SAFETY: as in two_cpus.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `cpu` is below CPU_SETSIZE (it came from two_cpus).
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: `set` is a live cpu_set_t of the size given.
    unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
}

#[cfg(not(target_os = "linux"))]
fn pin_to(_cpu: usize) {}

impl<B: Backend> Contender for CrossThreadContender<B> {
    fn label(&self) -> String {
        label::<B>(Trigger::Level)
    }
    fn key(&self) -> &'static str {
        B::KEY
    }
    fn batch(&mut self, iters: u64) -> Duration {
        let (mut timer, mut partner) = self.sides.take().expect("both sides");
        let cpus = two_cpus();
        let (started, on_start) = mpsc::channel();
        let partner_thread = thread::spawn(move || {
            if let Some(cpus) = cpus {
                pin_to(cpus[1]);
            }
            started.send(()).expect("start signal");
            for _ in 0..iters {
                wait_woken(&mut partner.backend);
                partner.other.wake();
            }
            partner
        });
        let timer_thread = thread::spawn(move || {
            if let Some(cpus) = cpus {
                pin_to(cpus[0]);
            }
            on_start.recv().expect("partner started");
            let start = Instant::now();
            for _ in 0..iters {
                measured_op(&mut timer);
            }
            (start.elapsed(), timer)
        });
        let (took, timer) = timer_thread.join().expect("timing thread");
        let partner = partner_thread.join().expect("partner thread");
        self.sides = Some((timer, partner));
        took
    }
}
