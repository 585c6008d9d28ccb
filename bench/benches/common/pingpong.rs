//! wait0-empty, pingpong-1 and pingpong-10k.

use super::backend::{label, Backend, Trigger};
use super::fds::{pairs, recv_byte, send_byte, End, Pair};
use super::{timed_ops, Contender, Make, Op};
use pollio::AsSource;
use std::rc::Rc;
use std::time::Duration;

/// Registered descriptors in pingpong-10k.
#[cfg(unix)]
pub const MANY: usize = 10_000;
/// Registered sockets in pingpong-1k, Windows's pingpong-10k: under Wine, making 5,000
/// loopback TCP pairs and registering 10,000 sockets took 39 s for one batch, and every
/// contender registers them again for every batch.
#[cfg(windows)]
pub const MANY: usize = 1_000;

/// wait0-empty: a zero-timeout wait on a poller whose one registered fd is idle.
pub struct Wait0;

struct Wait0Contender<B> {
    backend: B,
    _idle: Pair,
}

impl Make for Wait0 {
    fn make<B: Backend>(&self) -> Box<dyn Contender> {
        let idle = Pair::new();
        let mut backend = B::new();
        backend.register(idle.watched(), 1, Trigger::Level);
        Box::new(Wait0Contender {
            backend,
            _idle: idle,
        })
    }
}

impl<B: Backend> Op for Wait0Contender<B> {
    #[inline]
    fn op(&mut self) {
        let events = self.backend.wait(Some(Duration::ZERO), |_| {});
        assert_eq!(events, 0, "nothing is ready");
    }
}

impl<B: Backend> Contender for Wait0Contender<B> {
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

/// pingpong-N: the socketpairs every contender uses in turn. With one pair only its first end
/// is registered; with more, both ends are, so 10,000 registered descriptors fit in 10,000 fds
/// (the fd limit is often 20,000, too few for 10,000 pairs and their peers).
pub struct PingPongSetup {
    pairs: Rc<Vec<Pair>>,
    registered: usize,
    trigger: Trigger,
}

impl PingPongSetup {
    pub fn new(registered: usize, trigger: Trigger) -> PingPongSetup {
        let pair_count = if registered == 1 { 1 } else { registered / 2 };
        PingPongSetup {
            pairs: Rc::new(pairs(pair_count)),
            registered,
            trigger,
        }
    }
}

/// Descriptor `i` of the round robin and the one to write to so that it becomes readable.
fn endpoint(pairs: &[Pair], registered: usize, i: usize) -> (&End, &End) {
    if registered == 1 {
        return (&pairs[0].watched, &pairs[0].peer);
    }
    let pair = &pairs[i / 2];
    if i % 2 == 0 {
        (&pair.watched, &pair.peer)
    } else {
        (&pair.peer, &pair.watched)
    }
}

struct PingPong<B> {
    backend: B,
    pairs: Rc<Vec<Pair>>,
    registered: usize,
    trigger: Trigger,
    /// What the backend reports for each registered descriptor.
    ids: Vec<u64>,
    next: usize,
}

impl Make for PingPongSetup {
    fn make<B: Backend>(&self) -> Box<dyn Contender> {
        let ids = (0..self.registered)
            .map(|i| {
                B::id(
                    endpoint(&self.pairs, self.registered, i).0.as_source(),
                    i as u32,
                )
            })
            .collect();
        Box::new(PingPong {
            backend: B::new(),
            pairs: Rc::clone(&self.pairs),
            registered: self.registered,
            trigger: self.trigger,
            ids,
            next: 0,
        })
    }
}

impl<B: Backend> Op for PingPong<B> {
    #[inline]
    fn op(&mut self) {
        let i = self.next;
        self.next = if i + 1 == self.registered { 0 } else { i + 1 };
        let (watched, writer) = endpoint(&self.pairs, self.registered, i);
        let byte = i as u8;
        send_byte(writer, byte);
        let mut got = u64::MAX;
        let events = self.backend.wait(None, |id| got = id);
        assert!(events == 1 && got == self.ids[i], "wrong event for {i}");
        assert_eq!(recv_byte(watched), byte);
    }
}

impl<B: Backend> Contender for PingPong<B> {
    fn label(&self) -> String {
        label::<B>(self.trigger)
    }
    fn key(&self) -> &'static str {
        B::KEY
    }
    /// The descriptors are shared with the other contenders, so they are registered for the
    /// batch only (untimed): a descriptor watched by several pollers at once would make every
    /// write wake them all.
    fn batch(&mut self, iters: u64) -> Duration {
        let trigger = B::trigger_for(self.trigger);
        for i in 0..self.registered {
            let fd = endpoint(&self.pairs, self.registered, i).0.as_source();
            self.backend.register(fd, i as u32, trigger);
        }
        let took = timed_ops(self, iters);
        for i in 0..self.registered {
            let fd = endpoint(&self.pairs, self.registered, i).0.as_source();
            self.backend.deregister(fd);
        }
        took
    }
}
