//! A small world of socket pairs and one poller, driven by a list of operations and checked
//! against the poll(2) oracle after every wait.
//!
//! The operations include nonsense on purpose (negative, closed and unopened fds, the poller's
//! own fd, a file epoll cannot poll, negative timeouts): each must fail with its documented
//! error (the kernel's errno where the kernel reports it) and leave the poller exactly as it
//! was, which later waits check. Empty interests are valid: a parked registration, which epoll
//! still reports for hang-up and error.
//!
//! The harness runs on one backend, epoll or poll(2); where they differ (the poll backend
//! reports edges as levels, and accepts `/dev/null`, which epoll cannot poll), it expects each
//! one's documented behaviour.

use super::oracle::{poll_state, Seen, Tracked};
use pollio::{Backend, EventKind, EventObject, OsPoller, Poller, Registration, Registry, Waker};
use std::io::{self, ErrorKind};
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// How many socket pairs exist at most.
pub const SLOTS: usize = 8;
/// A capacity no wait can fill: every slot plus the wake-up event.
pub const ROOMY: usize = 64;
/// How long a woken wait may take before the wake counts as lost.
const WOKEN_LIMIT: Duration = Duration::from_secs(5);
/// Bytes moved per send or receive call.
const CHUNK: usize = 64 * 1024;

/// Which entry point a registration goes through.
#[derive(Clone, Copy, Debug)]
pub enum Via {
    /// `Poller::add_with` / `modify` / `delete` with the raw fd.
    Poller,
    /// The same methods on a `Registry` handle.
    Registry,
    /// `Poller::register` / `reregister` / `deregister` with a `BorrowedFd`.
    Borrowed,
}

/// A registration call.
#[derive(Clone, Copy, Debug)]
pub enum Action {
    Add,
    Modify,
    Delete,
}

/// How a zero-timeout wait is made.
#[derive(Clone, Copy, Debug)]
pub enum WaitKind {
    /// `poll(Some(Duration::ZERO))`.
    Poll,
    /// The seed API's `wait(0)`.
    Seed,
    /// `wait_timeout(Some(Duration::ZERO))`.
    SeedTimeout,
    /// `poll` with a sub-millisecond timeout of this many nanoseconds (at most 100 µs).
    Precise(u32),
}

/// How long a wait that follows a wake may block if the wake were lost.
#[derive(Clone, Copy, Debug)]
pub enum LongWait {
    /// `poll(Some(5 s))`.
    Bounded,
    /// `poll(None)`.
    Forever,
    /// `poll(Some(Duration::MAX))`: must mean "block", not overflow into an error or a poll.
    Max,
    /// The seed API's `wait` with this negative timeout: every negative value blocks, as in
    /// pollio 0.1.3.
    SeedNegative(i32),
}

/// A descriptor no registration may accept.
#[derive(Clone, Copy, Debug)]
pub enum BadFd {
    /// A negative number.
    Negative(i32),
    /// A number far above any open descriptor.
    Unopened(i32),
    /// A descriptor that was just closed.
    Closed,
    /// The poller's own fd.
    Own,
    /// `/dev/null`, which epoll cannot poll.
    DevNull,
}

/// One step of a test case.
#[derive(Clone, Debug)]
pub enum Op {
    /// Creates a socket pair in `slot`, closing the one there first.
    Open { slot: usize },
    /// Closes both ends of the pair in `slot`, then checks the closed fd is refused.
    Close { slot: usize },
    /// Adds, modifies or deletes our end of `slot`.
    Register {
        slot: usize,
        action: Action,
        reg: Registration,
        via: Via,
    },
    /// The seed API's `add(EventObject)`.
    SeedAdd { slot: usize, kind: EventKind },
    /// The peer sends `len` bytes to our end.
    PeerWrite { slot: usize, len: usize },
    /// Our end receives up to `len` bytes.
    Read { slot: usize, len: usize },
    /// Our end sends until its buffer is full, so it stops being writable.
    Fill { slot: usize },
    /// The peer receives up to `len` bytes, making room for our end to write again.
    PeerRead { slot: usize, len: usize },
    /// The peer shuts down its write side: our end reads end of stream.
    PeerShutdown { slot: usize },
    /// Our end shuts down its write side.
    OwnShutdown { slot: usize },
    /// The peer's end is closed.
    PeerClose { slot: usize },
    /// A wait that does not block.
    Wait(WaitKind),
    /// A registration call with a descriptor that must be refused.
    Bad {
        fd: BadFd,
        action: Action,
        reg: Registration,
    },
    /// Wakes the poller `times` times (creating the waker on first use).
    Wake { times: u8 },
    /// Wakes the poller, then waits with a long timeout: the wait must end at once.
    WakeAndWait(LongWait),
    /// Replaces the poller with a new one of this capacity; registrations are gone.
    NewPoller { capacity: usize },
}

struct Slot {
    ours: UnixStream,
    peer: Option<UnixStream>,
    /// poll(2)'s answer after the last operation on this pair.
    state: u32,
    tracked: Option<Tracked>,
}

/// The poller under test, the socket pairs and the model of their registrations.
pub struct Harness {
    backend: Backend,
    poller: OsPoller,
    registry: Registry,
    waker: Option<Waker>,
    /// A wake was made and its event has not yet been taken by a wait: it holds a place in the
    /// kernel's buffer on the next wait.
    wake_pending: bool,
    capacity: usize,
    slots: Vec<Option<Slot>>,
    buf: Vec<u8>,
}

/// The number of descriptors this process has open.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd is readable")
        .count()
}

impl Harness {
    /// A harness whose poller, on `backend`, returns at most `capacity` events per wait.
    pub fn new(backend: Backend, capacity: usize) -> Result<Harness, String> {
        let poller = OsPoller::with_backend(backend, capacity)
            .map_err(|e| format!("new {backend} poller: {e}"))?;
        let mut harness = Harness {
            backend,
            registry: poller.registry().map_err(|e| format!("registry: {e}"))?,
            poller,
            waker: None,
            wake_pending: false,
            capacity,
            slots: (0..SLOTS).map(|_| None).collect(),
            buf: vec![0; CHUNK],
        };
        // Start with every pair open, so that most operations have something to act on.
        for slot in 0..SLOTS {
            harness.open(slot)?;
        }
        Ok(harness)
    }

    /// Runs `ops`, then one last wait; the first disagreement with the oracle is the error.
    pub fn run(&mut self, ops: &[Op]) -> Result<(), String> {
        for (i, op) in ops.iter().enumerate() {
            self.apply(op).map_err(|e| format!("op #{i} {op:?}: {e}"))?;
        }
        self.wait(WaitKind::Poll)
            .map_err(|e| format!("final wait: {e}"))
    }

    fn apply(&mut self, op: &Op) -> Result<(), String> {
        match *op {
            Op::Open { slot } => self.open(slot),
            Op::Close { slot } => self.close(slot),
            Op::Register {
                slot,
                action,
                reg,
                via,
            } => self.register(slot, action, reg, via),
            Op::SeedAdd { slot, kind } => self.seed_add(slot, kind),
            Op::PeerWrite { slot, len } => self.io(slot, |s, buf| {
                if let Some(peer) = &s.peer {
                    transfer(peer.as_raw_fd(), buf, len, Dir::Send);
                }
            }),
            Op::Read { slot, len } => self.io(slot, |s, buf| {
                transfer(s.ours.as_raw_fd(), buf, len, Dir::Receive);
            }),
            Op::Fill { slot } => self.io(slot, |s, buf| {
                transfer(s.ours.as_raw_fd(), buf, usize::MAX, Dir::Send);
            }),
            Op::PeerRead { slot, len } => self.io(slot, |s, buf| {
                if let Some(peer) = &s.peer {
                    transfer(peer.as_raw_fd(), buf, len, Dir::Receive);
                }
            }),
            Op::PeerShutdown { slot } => self.io(slot, |s, _| {
                if let Some(peer) = &s.peer {
                    let _ = peer.shutdown(Shutdown::Write);
                }
            }),
            Op::OwnShutdown { slot } => self.io(slot, |s, _| {
                let _ = s.ours.shutdown(Shutdown::Write);
            }),
            Op::PeerClose { slot } => self.io(slot, |s, _| s.peer = None),
            Op::Wait(kind) => self.wait(kind),
            Op::Bad { fd, action, reg } => self.bad(fd, action, reg),
            Op::Wake { times } => self.wake(times),
            Op::WakeAndWait(long) => self.wake_and_wait(long),
            Op::NewPoller { capacity } => self.new_poller(capacity),
        }
    }

    fn open(&mut self, slot: usize) -> Result<(), String> {
        self.close(slot)?;
        let (ours, peer) = UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
        let state = poll_state(ours.as_raw_fd());
        self.slots[slot] = Some(Slot {
            ours,
            peer: Some(peer),
            state,
            tracked: None,
        });
        Ok(())
    }

    /// Closes the pair; closing ends its registration, and its fd number is now refused.
    fn close(&mut self, slot: usize) -> Result<(), String> {
        let Some(old) = self.slots[slot].take() else {
            return Ok(());
        };
        let fd = old.ours.as_raw_fd();
        let reg = old.tracked.map_or(Registration::client(0), |t| t.reg);
        drop(old);
        // Nothing opens a descriptor between the close and these calls, so `fd` is closed.
        self.check_refused(fd, reg, NOT_OPEN)
    }

    fn register(
        &mut self,
        slot: usize,
        action: Action,
        reg: Registration,
        via: Via,
    ) -> Result<(), String> {
        let Some(s) = self.slots[slot].as_mut() else {
            return Ok(());
        };
        // A token names its slot in its low byte, so events map back to their pair whatever
        // the rest of the token is. Its low 31 bits are never a real fd number (they sit where
        // pollio's own word keeps the fd), so no token equals the word of a registration
        // without one; and a low byte below 0xff keeps it off u64::MAX.
        let reg = match reg.token() {
            Some(token) => reg.with_token((token & !0x7fff_ffff) | 0x7fff_ff00 | slot as u64),
            None => reg,
        };
        let registered = s.tracked.is_some();
        let expected = match action {
            Action::Add if registered => Err(Code::Os(libc::EEXIST)),
            Action::Modify | Action::Delete if !registered => Err(Code::Os(libc::ENOENT)),
            _ => Ok(()),
        };
        let fd = s.ours.as_raw_fd();
        let got = match via {
            Via::Poller => call(&self.poller, fd, action, reg),
            Via::Registry => call_registry(&self.registry, fd, action, reg),
            Via::Borrowed => {
                let borrowed = s.ours.as_fd();
                match action {
                    Action::Add => self.poller.register(borrowed, reg),
                    Action::Modify => self.poller.reregister(borrowed, reg),
                    Action::Delete => self.poller.deregister(borrowed),
                }
            }
        };
        expect(&got, &[expected])?;
        if got.is_ok() {
            let state = poll_state(fd);
            let edge_as_level = self.backend == Backend::Poll;
            match action {
                Action::Add => s.tracked = Some(Tracked::new(reg, state, edge_as_level)),
                Action::Modify => {
                    if let Some(t) = s.tracked.as_mut() {
                        t.modify(reg, state);
                    }
                }
                Action::Delete => s.tracked = None,
            }
        }
        Ok(())
    }

    fn seed_add(&mut self, slot: usize, kind: EventKind) -> Result<(), String> {
        let Some(s) = self.slots[slot].as_mut() else {
            return Ok(());
        };
        let fd = s.ours.as_raw_fd();
        let got = self.poller.add(EventObject { fd, kind });
        let expected = if s.tracked.is_some() {
            Err(Code::Os(libc::EEXIST))
        } else {
            Ok(())
        };
        expect(&got, &[expected])?;
        if got.is_ok() {
            // The seed add is documented as: readable, level-triggered, key 0.
            let edge_as_level = self.backend == Backend::Poll;
            let reg = Registration::new(kind, 0);
            s.tracked = Some(Tracked::new(reg, poll_state(fd), edge_as_level));
        }
        Ok(())
    }

    /// Runs one I/O step on the pair in `slot`, then records how readiness changed.
    fn io(&mut self, slot: usize, step: impl FnOnce(&mut Slot, &mut [u8])) -> Result<(), String> {
        let Some(s) = self.slots[slot].as_mut() else {
            return Ok(());
        };
        step(s, &mut self.buf);
        let after = poll_state(s.ours.as_raw_fd());
        if let Some(t) = s.tracked.as_mut() {
            t.changed(s.state, after);
        }
        s.state = after;
        Ok(())
    }

    /// True while a registration carries a token: its seed-API objects name no pair.
    fn tokens_live(&self) -> bool {
        self.slots
            .iter()
            .flatten()
            .any(|s| s.tracked.is_some_and(|t| t.reg.token().is_some()))
    }

    fn wait(&mut self, kind: WaitKind) -> Result<(), String> {
        // The seed API reports fd and kind only, which a token registration does not carry.
        let kind = match kind {
            WaitKind::Seed | WaitKind::SeedTimeout if self.tokens_live() => WaitKind::Poll,
            kind => kind,
        };
        let seen: io::Result<Vec<Seen>> = match kind {
            WaitKind::Poll => self
                .poller
                .poll(Some(Duration::ZERO))
                .map(|events| events.iter().map(Seen::of_event).collect()),
            WaitKind::Seed => self
                .poller
                .wait(0)
                .map(|objects| objects.iter().map(Seen::of_object).collect()),
            WaitKind::SeedTimeout => self
                .poller
                .wait_timeout(Some(Duration::ZERO))
                .map(|objects| objects.iter().map(Seen::of_object).collect()),
            WaitKind::Precise(nanos) => self
                .poller
                .poll(Some(Duration::from_nanos(u64::from(nanos % 100_001))))
                .map(|events| events.iter().map(Seen::of_event).collect()),
        };
        let seen = seen.map_err(|e| format!("wait failed: {e}"))?;
        self.check_wait(&seen)
    }

    /// Compares one wait's events with the oracle, then moves the model past the wait.
    fn check_wait(&mut self, seen: &[Seen]) -> Result<(), String> {
        if seen.len() > self.capacity {
            return Err(format!(
                "{} events from a poller of capacity {}",
                seen.len(),
                self.capacity
            ));
        }
        // A pending wake-up event takes a place in the kernel's buffer before it is filtered
        // out. It stays pending only when the fds' events took every place.
        let room = self.capacity - usize::from(self.wake_pending);
        let truncated = seen.len() >= room;
        self.wake_pending &= seen.len() == self.capacity;
        let mut reported = [false; SLOTS];
        for event in seen {
            let found = self.slots.iter().position(|s| {
                s.as_ref()
                    .is_some_and(|s| match s.tracked.map(|t| t.reg.token()) {
                        Some(Some(token)) => event.token == Some(token),
                        Some(None) => s.ours.as_raw_fd() == event.fd,
                        None => false,
                    })
            });
            let Some(i) = found else {
                return Err(format!(
                    "event for fd {} which is not registered: {event:?}",
                    event.fd
                ));
            };
            if std::mem::replace(&mut reported[i], true) {
                return Err(format!("fd {} reported twice in one wait", event.fd));
            }
            let s = self.slots[i].as_ref().expect("found above");
            let tracked = s.tracked.as_ref().expect("found above");
            event.check(tracked, poll_state(s.ours.as_raw_fd()))?;
        }
        for (i, slot) in self.slots.iter_mut().enumerate() {
            let Some(s) = slot.as_mut() else { continue };
            let state = poll_state(s.ours.as_raw_fd());
            s.state = state;
            let Some(t) = s.tracked.as_mut() else {
                continue;
            };
            if !reported[i] && !truncated && t.owed(state) {
                return Err(format!(
                    "fd {} not reported but owed an event: {t:?}, poll(2) shows {state:#x}",
                    s.ours.as_raw_fd()
                ));
            }
            t.after_wait(reported[i], state, truncated);
        }
        Ok(())
    }

    fn bad(&mut self, fd: BadFd, action: Action, reg: Registration) -> Result<(), String> {
        match fd {
            BadFd::Negative(n) => {
                let n = if n >= 0 { -1 - (n % 1000) } else { n };
                let got = call(&self.poller, n, action, reg);
                expect(&got, &[Err(Code::Os(libc::EBADF))])
            }
            BadFd::Unopened(n) => {
                // Far above the descriptor limit, so never open.
                let n = 1_000_000 + (n & 0x3fff_ffff) % 1_000_000_000;
                self.check_refused(n, reg, NOT_OPEN)
            }
            BadFd::Closed => {
                let (read, write) = pipe().map_err(|e| format!("pipe: {e}"))?;
                let fd = read.as_raw_fd();
                drop((read, write));
                self.check_refused(fd, reg, NOT_OPEN)
            }
            BadFd::Own => {
                let own = self.poller.as_raw_fd();
                let got = call(&self.poller, own, action, reg);
                expect(&got, &[refusal(reg, action, libc::EINVAL)])
            }
            BadFd::DevNull => {
                let null = std::fs::File::open("/dev/null").map_err(|e| e.to_string())?;
                let fd = null.as_raw_fd();
                let got = call(&self.poller, fd, action, reg);
                if self.backend != Backend::Poll {
                    // epoll refuses a file it cannot poll before it looks for a registration.
                    return expect(&got, &[refusal(reg, action, libc::EPERM)]);
                }
                // The poll backend cannot tell a character device without poll support from
                // one with it: it accepts the fd (which the model then deletes, so the poller
                // is as it was), and it was not registered before.
                let expected = match action {
                    _ if pollio_refuses(reg, action) => Err(Code::Own(ErrorKind::InvalidInput)),
                    Action::Add => Ok(()),
                    Action::Modify | Action::Delete => Err(Code::Os(libc::ENOENT)),
                };
                expect(&got, &[expected])?;
                if got.is_ok() {
                    self.poller
                        .delete(fd)
                        .map_err(|e| format!("delete of /dev/null: {e}"))?;
                }
                Ok(())
            }
        }
    }

    /// Add, modify and delete of an fd that is not open, through every entry point.
    fn check_refused(
        &mut self,
        fd: RawFd,
        reg: Registration,
        table: Refusals,
    ) -> Result<(), String> {
        const OWN: &[Result<(), Code>] = &[Err(Code::Own(ErrorKind::InvalidInput))];
        for action in [Action::Add, Action::Modify, Action::Delete] {
            let expected: &[Result<(), Code>] = match action {
                _ if pollio_refuses(reg, action) => OWN,
                Action::Add => table.add,
                Action::Modify => table.modify,
                Action::Delete => table.delete,
            };
            expect(&call(&self.poller, fd, action, reg), expected)
                .map_err(|e| format!("{action:?} of fd {fd}: {e}"))?;
            expect(&call_registry(&self.registry, fd, action, reg), expected)
                .map_err(|e| format!("registry {action:?} of fd {fd}: {e}"))?;
        }
        Ok(())
    }

    fn waker(&mut self) -> Result<Waker, String> {
        if self.waker.is_none() {
            self.waker = Some(self.poller.waker().map_err(|e| format!("waker: {e}"))?);
        }
        Ok(self.waker.clone().expect("just set"))
    }

    fn wake(&mut self, times: u8) -> Result<(), String> {
        let waker = self.waker()?;
        for _ in 0..times {
            waker.wake().map_err(|e| format!("wake: {e}"))?;
            self.wake_pending = true;
        }
        Ok(())
    }

    fn wake_and_wait(&mut self, long: LongWait) -> Result<(), String> {
        self.waker()?.wake().map_err(|e| format!("wake: {e}"))?;
        self.wake_pending = true;
        let long = match long {
            LongWait::SeedNegative(_) if self.tokens_live() => LongWait::Bounded,
            long => long,
        };
        let poller = &mut self.poller;
        let start = Instant::now();
        let seen: io::Result<Vec<Seen>> = watchdog(|| match long {
            LongWait::Bounded => poller
                .poll(Some(WOKEN_LIMIT))
                .map(|events| events.iter().map(Seen::of_event).collect()),
            LongWait::Forever => poller
                .poll(None)
                .map(|events| events.iter().map(Seen::of_event).collect()),
            LongWait::Max => poller
                .poll(Some(Duration::MAX))
                .map(|events| events.iter().map(Seen::of_event).collect()),
            LongWait::SeedNegative(timeout) => poller
                .wait(timeout.min(-1))
                .map(|objects| objects.iter().map(Seen::of_object).collect()),
        });
        let elapsed = start.elapsed();
        let seen = seen.map_err(|e| format!("woken wait failed: {e}"))?;
        if elapsed >= WOKEN_LIMIT {
            return Err(format!("woken wait took {elapsed:?}: the wake was lost"));
        }
        self.check_wait(&seen)
    }

    fn new_poller(&mut self, capacity: usize) -> Result<(), String> {
        let capacity = capacity.max(1);
        // Drop the old poller and its handles first: its fds must all be closed.
        self.waker = None;
        self.wake_pending = false;
        let poller = OsPoller::with_backend(self.backend, capacity)
            .map_err(|e| format!("new poller: {e}"))?;
        self.registry = poller.registry().map_err(|e| format!("registry: {e}"))?;
        self.poller = poller;
        self.capacity = capacity;
        for s in self.slots.iter_mut().flatten() {
            s.tracked = None;
        }
        Ok(())
    }
}

/// What each call on a descriptor that is not open must return.
#[derive(Clone, Copy)]
struct Refusals {
    add: &'static [Result<(), Code>],
    modify: &'static [Result<(), Code>],
    delete: &'static [Result<(), Code>],
}

/// Every call on an fd that is not open is `EBADF`, as epoll_ctl says: it checks the fd before
/// it looks for a registration.
const NOT_OPEN: Refusals = Refusals {
    add: &[Err(Code::Os(libc::EBADF))],
    modify: &[Err(Code::Os(libc::EBADF))],
    delete: &[Err(Code::Os(libc::EBADF))],
};

fn call(poller: &OsPoller, fd: RawFd, action: Action, reg: Registration) -> io::Result<()> {
    match action {
        Action::Add => poller.add_with(fd, reg),
        Action::Modify => poller.modify(fd, reg),
        Action::Delete => poller.delete(fd),
    }
}

fn call_registry(
    registry: &Registry,
    fd: RawFd,
    action: Action,
    reg: Registration,
) -> io::Result<()> {
    match action {
        Action::Add => registry.add_with(fd, reg),
        Action::Modify => registry.modify(fd, reg),
        Action::Delete => registry.delete(fd),
    }
}

/// Checks that `got` is one of the `allowed` outcomes.
/// Whether pollio's own checks of the registration refuse `action` (a reserved token); they
/// come before the kernel's, except that a negative fd is `EBADF` before anything else, and a
/// delete has no registration to check.
fn pollio_refuses(reg: Registration, action: Action) -> bool {
    matches!(action, Action::Add | Action::Modify) && reg.token() == Some(u64::MAX)
}

/// How a call with `reg` on a non-negative fd the kernel refuses with `errno` must fail.
fn refusal(reg: Registration, action: Action, errno: i32) -> Result<(), Code> {
    if pollio_refuses(reg, action) {
        Err(Code::Own(ErrorKind::InvalidInput))
    } else {
        Err(Code::Os(errno))
    }
}

/// An expected error: the OS error with this errno, or one of pollio's own errors (which carry
/// no errno) of this kind.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Code {
    Os(i32),
    Own(ErrorKind),
}

impl Code {
    fn of(err: &io::Error) -> Code {
        match err.raw_os_error() {
            Some(errno) => Code::Os(errno),
            None => Code::Own(err.kind()),
        }
    }
}

fn expect(got: &io::Result<()>, allowed: &[Result<(), Code>]) -> Result<(), String> {
    let outcome = got.as_ref().map(|_| ()).map_err(Code::of);
    if allowed.contains(&outcome) {
        Ok(())
    } else {
        Err(format!("got {got:?}, expected one of {allowed:?}"))
    }
}

enum Dir {
    Send,
    Receive,
}

/// Moves up to `len` bytes through `fd` without blocking; stops at the first short transfer,
/// `WouldBlock`, end of stream or error (all expected as the pair is shut and closed).
fn transfer(fd: RawFd, buf: &mut [u8], len: usize, dir: Dir) {
    let mut left = len;
    while left > 0 {
        let want = left.min(buf.len());
        let flags = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
        let n = match dir {
            // SAFETY: `buf` is valid for reads of `want <= buf.len()` bytes.
            Dir::Send => unsafe { libc::send(fd, buf.as_ptr().cast(), want, flags) },
            // SAFETY: `buf` is valid for writes of `want <= buf.len()` bytes.
            Dir::Receive => unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), want, flags) },
        };
        if n <= 0 {
            return;
        }
        left -= n as usize;
        if (n as usize) < want {
            return;
        }
    }
}

/// A pipe, both ends close-on-exec.
fn pipe() -> io::Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd)> {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 just opened both descriptors and nothing else owns them.
    Ok(unsafe {
        (
            std::os::fd::OwnedFd::from_raw_fd(fds[0]),
            std::os::fd::OwnedFd::from_raw_fd(fds[1]),
        )
    })
}

/// Runs `f` under a one-minute alarm: a lost wake would otherwise hang the test (or the fuzzer)
/// instead of failing it. SIGALRM's default action ends the process, which fails the run. A
/// timer rather than a watchdog thread keeps the fuzz target free of threads and allocation.
fn watchdog<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: alarm only arms or disarms this process's real-time timer.
    unsafe { libc::alarm(60) };
    let value = f();
    // SAFETY: as above.
    unsafe { libc::alarm(0) };
    value
}
