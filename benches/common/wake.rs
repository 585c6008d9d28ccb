//! wake: a wake-up followed by the wait it ends, on one thread and across two.

use super::backend::{label, Backend, Trigger, Wake};
use super::{timed_ops, Contender, Make, Op};
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

/// wake-xthread: this thread and a partner each block in a wait on their own poller and wake
/// the other's in turn. One op is a round trip: two cross-thread wake-ups.
pub struct CrossThread;

struct CrossThreadContender<B: Backend> {
    backend: B,
    waker: B::Waker,
    /// The partner's poller, lent to its thread for each batch.
    partner: Option<B>,
    partner_waker: B::Waker,
}

impl Make for CrossThread {
    fn make<B: Backend>(&self) -> Box<dyn Contender> {
        let mut backend = B::new();
        let waker = backend.waker();
        let mut partner = B::new();
        let partner_waker = partner.waker();
        Box::new(CrossThreadContender {
            backend,
            waker,
            partner: Some(partner),
            partner_waker,
        })
    }
}

/// Waits until woken: a wait may also end early for a signal, with no event either way.
fn wait_woken<B: Backend>(backend: &mut B) {
    let events = backend.wait(None, |_| {});
    assert_eq!(events, 0, "only wake-ups happen");
}

impl<B: Backend> Op for CrossThreadContender<B> {
    #[inline]
    fn op(&mut self) {
        self.partner_waker.wake();
        wait_woken(&mut self.backend);
    }
}

impl<B: Backend> Contender for CrossThreadContender<B> {
    fn label(&self) -> String {
        label::<B>(Trigger::Level)
    }
    fn key(&self) -> &'static str {
        B::KEY
    }
    fn batch(&mut self, iters: u64) -> Duration {
        let mut partner = self.partner.take().expect("partner poller");
        let waker = self.waker.clone();
        let (started, on_start) = mpsc::channel();
        let thread = thread::spawn(move || {
            started.send(()).expect("start signal");
            for _ in 0..iters {
                wait_woken(&mut partner);
                waker.wake();
            }
            partner
        });
        on_start.recv().expect("partner started");
        let start = Instant::now();
        for _ in 0..iters {
            super::measured_op(self);
        }
        let took = start.elapsed();
        self.partner = Some(thread.join().expect("partner thread"));
        took
    }
}
