//! churn (register + deregister) and rearm (oneshot re-armed with modify).

use super::backend::{label, Backend, Trigger};
use super::fds::{send_byte, Pair};
use super::{timed_ops, Contender, Make, Op};
use std::time::Duration;

const KEY: u32 = 7;

/// churn: register one descriptor and deregister it.
pub struct Churn;

struct ChurnContender<B> {
    backend: B,
    pair: Pair,
}

impl Make for Churn {
    fn make<B: Backend>(&self) -> Box<dyn Contender> {
        Box::new(ChurnContender {
            backend: B::new(),
            pair: Pair::new(),
        })
    }
}

impl<B: Backend> Op for ChurnContender<B> {
    /// Both calls panic if the kernel refuses them.
    #[inline]
    fn op(&mut self) {
        self.backend
            .register(self.pair.watched(), KEY, Trigger::Level);
        self.backend.deregister(self.pair.watched());
    }
}

impl<B: Backend> Contender for ChurnContender<B> {
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

/// rearm: a oneshot registration of an fd that stays readable; each op waits for its event
/// and re-arms it. mio has no oneshot: it re-registers its edge-triggered fd, which re-arms
/// the edge the same way (one `EPOLL_CTL_MOD`).
pub struct Rearm;

struct RearmContender<B> {
    backend: B,
    pair: Pair,
    id: u64,
}

impl Make for Rearm {
    fn make<B: Backend>(&self) -> Box<dyn Contender> {
        let pair = Pair::new();
        send_byte(&pair.peer, 1);
        let mut backend = B::new();
        backend.register(pair.watched(), KEY, Trigger::Oneshot);
        let id = B::id(pair.watched(), KEY);
        Box::new(RearmContender { backend, pair, id })
    }
}

impl<B: Backend> Op for RearmContender<B> {
    #[inline]
    fn op(&mut self) {
        let mut got = u64::MAX;
        let events = self.backend.wait(None, |id| got = id);
        assert!(events == 1 && got == self.id, "wrong event");
        self.backend
            .rearm(self.pair.watched(), KEY, Trigger::Oneshot);
    }
}

impl<B: Backend> Contender for RearmContender<B> {
    fn label(&self) -> String {
        label::<B>(Trigger::Oneshot)
    }
    fn key(&self) -> &'static str {
        B::KEY
    }
    fn batch(&mut self, iters: u64) -> Duration {
        timed_ops(self, iters)
    }
}
