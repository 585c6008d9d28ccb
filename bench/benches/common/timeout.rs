//! timeout-100us: how long a 100 µs timed wait with nothing ready really takes.

use super::backend::{label, Backend, Trigger};
use super::{measured_op, Contender, Make, Op};
use std::time::{Duration, Instant};

/// The timeout asked for.
pub const TIMEOUT: Duration = Duration::from_micros(100);

/// A poller with nothing registered, waited on with a 100 µs timeout.
pub struct Timed;

struct TimedContender<B> {
    backend: B,
    samples: Vec<Duration>,
}

impl Make for Timed {
    fn make<B: Backend>(&self) -> Box<dyn Contender> {
        Box::new(TimedContender {
            backend: B::new(),
            samples: Vec::new(),
        })
    }
}

impl<B: Backend> Op for TimedContender<B> {
    #[inline]
    fn op(&mut self) {
        let events = self.backend.wait(Some(TIMEOUT), |_| {});
        assert_eq!(events, 0, "nothing is registered");
    }
}

impl<B: Backend> Contender for TimedContender<B> {
    fn label(&self) -> String {
        label::<B>(Trigger::Level)
    }
    fn key(&self) -> &'static str {
        B::KEY
    }
    fn batch(&mut self, iters: u64) -> Duration {
        let mut took = Duration::ZERO;
        for _ in 0..iters {
            let start = Instant::now();
            measured_op(self);
            let slept = start.elapsed();
            assert!(
                slept >= TIMEOUT,
                "returned after {slept:?}, before its timeout"
            );
            self.samples.push(slept);
            took += slept;
        }
        took
    }
    fn samples(&self) -> &[Duration] {
        &self.samples
    }
}
