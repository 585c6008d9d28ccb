//! polling 3.x. Its default mode is oneshot; level and edge go through `add_with_mode`.

use super::backend::{Backend, Trigger, Wake, CAPACITY};
use polling::{Event, Events, PollMode, Poller};
use pollio::{AsSource, BorrowedSource};
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

/// A shared `polling::Poller` (its `notify` is the waker) and its `Events`.
pub struct Polling {
    poller: Arc<Poller>,
    events: Events,
}

/// `Poller::notify` on a shared poller.
#[derive(Clone)]
pub struct PollingWaker(Arc<Poller>);

impl Wake for PollingWaker {
    fn wake(&self) {
        self.0.notify().expect("polling notify");
    }
}

fn mode(trigger: Trigger) -> PollMode {
    match trigger {
        Trigger::Level => PollMode::Level,
        Trigger::Edge => PollMode::Edge,
        Trigger::Oneshot => PollMode::Oneshot,
    }
}

impl Backend for Polling {
    type Waker = PollingWaker;
    const NAME: &'static str = "polling";
    const KEY: &'static str = "polling";

    fn new() -> Self {
        let capacity = NonZeroUsize::new(CAPACITY).expect("capacity > 0");
        Polling {
            poller: Arc::new(Poller::new().expect("polling poller")),
            events: Events::with_capacity(capacity),
        }
    }

    fn register(&mut self, fd: BorrowedSource<'_>, key: u32, trigger: Trigger) {
        // SAFETY: every workload deregisters its fds, or drops the poller, before closing them.
        unsafe {
            self.poller
                .add_with_mode(
                    fd.as_raw_source(),
                    Event::readable(key as usize),
                    mode(trigger),
                )
                .expect("polling add");
        }
    }

    fn rearm(&mut self, fd: BorrowedSource<'_>, key: u32, trigger: Trigger) {
        self.poller
            .modify_with_mode(fd, Event::readable(key as usize), mode(trigger))
            .expect("polling modify");
    }

    fn deregister(&mut self, fd: BorrowedSource<'_>) {
        self.poller.delete(fd).expect("polling delete");
    }

    #[inline]
    fn wait(&mut self, timeout: Option<Duration>, mut visit: impl FnMut(u64)) -> usize {
        // polling appends to `events`, so they are cleared first as its documentation says.
        self.events.clear();
        self.poller
            .wait(&mut self.events, timeout)
            .expect("polling wait");
        let mut visited = 0;
        for event in self.events.iter() {
            visit(event.key as u64);
            visited += 1;
        }
        visited
    }

    fn waker(&mut self) -> PollingWaker {
        PollingWaker(Arc::clone(&self.poller))
    }
}
