//! mio 1.x over raw fds (`unix::SourceFd`). mio is edge-triggered only.

use super::backend::{Backend, Trigger, Wake, CAPACITY};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::Arc;
use std::time::Duration;

/// The token of mio's waker.
const WAKE_TOKEN: Token = Token(usize::MAX);

/// A mio `Poll` and its `Events`.
pub struct Mio {
    poll: Poll,
    events: Events,
    waker: Option<Arc<mio::Waker>>,
}

/// mio's waker, shared.
#[derive(Clone)]
pub struct MioWaker(Arc<mio::Waker>);

impl Wake for MioWaker {
    fn wake(&self) {
        self.0.wake().expect("mio wake");
    }
}

impl Backend for Mio {
    type Waker = MioWaker;
    const NAME: &'static str = "mio";
    const KEY: &'static str = "mio";

    fn new() -> Self {
        Mio {
            poll: Poll::new().expect("mio poll"),
            events: Events::with_capacity(CAPACITY),
            waker: None,
        }
    }

    /// Every mio registration is edge-triggered; a oneshot is emulated by re-registering.
    fn trigger_for(_wanted: Trigger) -> Trigger {
        Trigger::Edge
    }

    fn register(&mut self, fd: BorrowedFd<'_>, key: u32, _trigger: Trigger) {
        let raw = fd.as_raw_fd();
        self.poll
            .registry()
            .register(&mut SourceFd(&raw), Token(key as usize), Interest::READABLE)
            .expect("mio register");
    }

    fn rearm(&mut self, fd: BorrowedFd<'_>, key: u32, _trigger: Trigger) {
        let raw = fd.as_raw_fd();
        self.poll
            .registry()
            .reregister(&mut SourceFd(&raw), Token(key as usize), Interest::READABLE)
            .expect("mio reregister");
    }

    fn deregister(&mut self, fd: BorrowedFd<'_>) {
        let raw = fd.as_raw_fd();
        self.poll
            .registry()
            .deregister(&mut SourceFd(&raw))
            .expect("mio deregister");
    }

    #[inline]
    fn wait(&mut self, timeout: Option<Duration>, mut visit: impl FnMut(u64)) -> usize {
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => return 0,
            Err(err) => panic!("mio poll: {err}"),
        }
        let mut visited = 0;
        for event in self.events.iter() {
            let token = event.token();
            if token != WAKE_TOKEN {
                visit(token.0 as u64);
                visited += 1;
            }
        }
        visited
    }

    fn waker(&mut self) -> MioWaker {
        if let Some(waker) = &self.waker {
            return MioWaker(Arc::clone(waker));
        }
        let waker = Arc::new(mio::Waker::new(self.poll.registry(), WAKE_TOKEN).expect("mio waker"));
        self.waker = Some(Arc::clone(&waker));
        MioWaker(waker)
    }
}
