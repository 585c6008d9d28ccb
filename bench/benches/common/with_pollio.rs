//! pollio through its rich API (`poll` → `&[Event]` with keys), through `poll_into` (events in
//! a caller-owned `Events`, the main loop for new code), through the 0.1.3 seed API
//! (`add` / `wait(i32)` → `&[EventObject]`), and its rich API on the poll(2) backend.

use super::backend::{Backend, Trigger, Wake, CAPACITY};
use pollio::Registration;
use pollio::{AsSource, BorrowedSource, EventKind, EventObject, Events, Mode, OsPoller, Poller};
#[cfg(unix)]
use pollio::{Backend as Kernel, PollPoller};
use std::time::Duration;

/// pollio's `Registration` / `poll` API.
pub struct Pollio {
    poller: OsPoller,
}

fn mode(trigger: Trigger) -> Mode {
    match trigger {
        Trigger::Level => Mode::Level,
        Trigger::Edge => Mode::Edge,
        Trigger::Oneshot => Mode::Oneshot,
    }
}

fn new_poller() -> OsPoller {
    OsPoller::with_capacity(CAPACITY).expect("pollio poller")
}

impl Wake for pollio::Waker {
    fn wake(&self) {
        pollio::Waker::wake(self).expect("pollio wake");
    }
}

impl Backend for Pollio {
    type Waker = pollio::Waker;
    const NAME: &'static str = "pollio";
    const KEY: &'static str = "pollio";

    fn new() -> Self {
        Pollio {
            poller: new_poller(),
        }
    }

    fn register(&mut self, fd: BorrowedSource<'_>, key: u32, trigger: Trigger) {
        let registration = Registration::client(key).with_mode(mode(trigger));
        self.poller
            .register(fd, registration)
            .expect("pollio register");
    }

    fn rearm(&mut self, fd: BorrowedSource<'_>, key: u32, trigger: Trigger) {
        let registration = Registration::client(key).with_mode(mode(trigger));
        self.poller
            .reregister(fd, registration)
            .expect("pollio reregister");
    }

    fn deregister(&mut self, fd: BorrowedSource<'_>) {
        self.poller.deregister(fd).expect("pollio deregister");
    }

    #[inline]
    fn wait(&mut self, timeout: Option<Duration>, mut visit: impl FnMut(u64)) -> usize {
        let events = self.poller.poll(timeout).expect("pollio poll");
        for event in events {
            visit(event.key().into());
        }
        events.len()
    }

    fn waker(&mut self) -> pollio::Waker {
        self.poller.waker().expect("pollio waker")
    }
}

/// pollio's `poll_into`: the same registrations as [`Pollio`], waits through `&self` into a
/// caller-owned [`Events`] of the same capacity.
pub struct PollioInto {
    rich: Pollio,
    events: Events,
}

impl Backend for PollioInto {
    type Waker = pollio::Waker;
    const NAME: &'static str = "pollio poll_into";
    const KEY: &'static str = "pollio-into";

    fn new() -> Self {
        PollioInto {
            rich: Pollio::new(),
            events: Events::with_capacity(CAPACITY).expect("pollio events"),
        }
    }

    fn register(&mut self, fd: BorrowedSource<'_>, key: u32, trigger: Trigger) {
        self.rich.register(fd, key, trigger);
    }

    fn rearm(&mut self, fd: BorrowedSource<'_>, key: u32, trigger: Trigger) {
        self.rich.rearm(fd, key, trigger);
    }

    fn deregister(&mut self, fd: BorrowedSource<'_>) {
        self.rich.deregister(fd);
    }

    #[inline]
    fn wait(&mut self, timeout: Option<Duration>, mut visit: impl FnMut(u64)) -> usize {
        let n = self
            .rich
            .poller
            .poll_into(&mut self.events, timeout)
            .expect("pollio poll_into");
        for event in &self.events {
            visit(event.key().into());
        }
        n
    }

    fn waker(&mut self) -> pollio::Waker {
        self.rich.waker()
    }
}

/// pollio's seed API: `add(EventObject)`, `wait(i32)`; level-triggered, events carry the fd.
pub struct PollioSeed {
    poller: OsPoller,
}

impl Backend for PollioSeed {
    type Waker = pollio::Waker;
    const NAME: &'static str = "pollio wait(i32)";
    const KEY: &'static str = "pollio-seed";

    fn new() -> Self {
        PollioSeed {
            poller: new_poller(),
        }
    }

    fn trigger_for(_wanted: Trigger) -> Trigger {
        Trigger::Level
    }

    fn register(&mut self, fd: BorrowedSource<'_>, _key: u32, _trigger: Trigger) {
        let object = EventObject::client(fd.as_raw_source());
        self.poller.add(object).expect("pollio add");
    }

    fn rearm(&mut self, _fd: BorrowedSource<'_>, _key: u32, _trigger: Trigger) {
        unreachable!("the seed API has no modify");
    }

    fn deregister(&mut self, fd: BorrowedSource<'_>) {
        self.poller
            .delete(fd.as_raw_source())
            .expect("pollio delete");
    }

    #[inline]
    fn wait(&mut self, timeout: Option<Duration>, mut visit: impl FnMut(u64)) -> usize {
        let timeout_ms = match timeout {
            None => -1,
            Some(d) => d.as_nanos().div_ceil(1_000_000) as i32,
        };
        let objects = self.poller.wait(timeout_ms).expect("pollio wait");
        for object in objects {
            debug_assert_eq!(object.kind, EventKind::Client);
            visit(object.fd as u64);
        }
        objects.len()
    }

    fn id(fd: BorrowedSource<'_>, _key: u32) -> u64 {
        fd.as_raw_source() as u64
    }

    fn waker(&mut self) -> pollio::Waker {
        self.poller.waker().expect("pollio waker")
    }
}

/// pollio's `Registration` / `poll` API on the poll(2) backend (`PollPoller`), which reports
/// edge-triggered registrations as level-triggered ones: every wait hands the kernel every
/// registered fd. Unix only: Windows has no poll(2) backend.
#[cfg(unix)]
pub struct PollioPoll {
    /// [`Pollio`]'s code over an `OsPoller` made on the poll(2) backend.
    rich: Pollio,
}

#[cfg(unix)]
impl Backend for PollioPoll {
    type Waker = pollio::Waker;
    const NAME: &'static str = "pollio on poll(2)";
    const KEY: &'static str = "pollio-poll";

    fn new() -> Self {
        let poller = PollPoller::with_capacity(CAPACITY).expect("pollio poll poller");
        assert_eq!(poller.backend(), Kernel::Poll);
        PollioPoll {
            rich: Pollio {
                poller: poller.into_inner(),
            },
        }
    }

    fn trigger_for(wanted: Trigger) -> Trigger {
        match wanted {
            Trigger::Edge => Trigger::Level,
            other => other,
        }
    }

    fn register(&mut self, fd: BorrowedSource<'_>, key: u32, trigger: Trigger) {
        self.rich.register(fd, key, trigger);
    }

    fn rearm(&mut self, fd: BorrowedSource<'_>, key: u32, trigger: Trigger) {
        self.rich.rearm(fd, key, trigger);
    }

    fn deregister(&mut self, fd: BorrowedSource<'_>) {
        self.rich.deregister(fd);
    }

    #[inline]
    fn wait(&mut self, timeout: Option<Duration>, visit: impl FnMut(u64)) -> usize {
        self.rich.wait(timeout, visit)
    }

    fn waker(&mut self) -> pollio::Waker {
        self.rich.waker()
    }
}
