//! ready-1k: one wait returns 1,000 ready descriptors and every key is visited.

use super::backend::{label, Backend, Trigger};
use super::fds::{pairs, send_byte, Pair};
use super::{measured_op, Contender, Make, Op};
use std::time::{Duration, Instant};

/// Ready descriptors per wait.
pub const FDS: usize = 1_000;

/// Edge-triggered batches read the accumulated bytes back every this many waits.
const DRAIN_EVERY: u64 = 32;

/// The trigger every contender registers with.
pub struct ReadySetup(pub Trigger);

struct Ready<B> {
    backend: B,
    pairs: Vec<Pair>,
    trigger: Trigger,
    /// The sum of the ids of all registered fds: what visiting every event must add up to.
    id_sum: u64,
}

impl Make for ReadySetup {
    fn make<B: Backend>(&self) -> Box<dyn Contender> {
        let mut backend = B::new();
        let pairs = pairs(FDS);
        let mut id_sum = 0;
        for (key, pair) in pairs.iter().enumerate() {
            backend.register(pair.watched(), key as u32, self.0);
            id_sum += B::id(pair.watched(), key as u32);
            if self.0 == Trigger::Level {
                // Level-triggered: the byte stays unread, so every wait reports the fd.
                send_byte(&pair.peer, 1);
            }
        }
        Box::new(Ready {
            backend,
            pairs,
            trigger: self.0,
            id_sum,
        })
    }
}

impl<B: Backend> Op for Ready<B> {
    #[inline]
    fn op(&mut self) {
        let mut sum = 0;
        let events = self.backend.wait(None, |id| sum += id);
        assert!(events == FDS && sum == self.id_sum, "{events} events");
    }
}

impl<B: Backend> Ready<B> {
    /// Reads back everything the edge-triggered batch wrote.
    fn drain(&self) {
        for pair in &self.pairs {
            super::fds::drain(&pair.watched);
        }
    }
}

impl<B: Backend> Contender for Ready<B> {
    fn label(&self) -> String {
        label::<B>(self.trigger)
    }
    fn key(&self) -> &'static str {
        B::KEY
    }
    fn batch(&mut self, iters: u64) -> Duration {
        if self.trigger == Trigger::Level {
            return super::timed_ops(self, iters);
        }
        // Edge-triggered: each wait needs 1,000 new edges, made by writes outside the timing.
        let mut took = Duration::ZERO;
        for i in 0..iters {
            for pair in &self.pairs {
                send_byte(&pair.peer, 1);
            }
            let start = Instant::now();
            measured_op(self);
            took += start.elapsed();
            if (i + 1) % DRAIN_EVERY == 0 || i + 1 == iters {
                self.drain();
            }
        }
        took
    }
}
