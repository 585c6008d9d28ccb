//! An async echo server on a small single-threaded executor made of std and pollio alone.
//!
//! ```text
//! cargo run --release --example async_echo                              # serve until killed
//! cargo run --release --example async_echo -- --clients 64 --seconds 3  # serve and measure
//! ```
//!
//! One task accepts connections and spawns one task per connection, which reads and writes
//! back until end of stream:
//!
//! ```ignore
//! async fn echo(stream: TcpStream) {
//!     let mut buf = [0; 4096];
//!     while let Ok(n @ 1..) = stream.read(&mut buf).await {
//!         if stream.write_all(&buf[..n]).await.is_err() {
//!             break;
//!         }
//!     }
//! }
//! ```
//!
//! With `--clients N` the shared load generator (`examples/common/load.rs`) measures it as it
//! measures `examples/echo.rs`, and fails the run on a wrong echo or a stuck server.
//!
//! # Design
//!
//! - **Tasks.** A task is a boxed future in a slab; its index is its id. Its waker, made once
//!   per task through [`std::task::Wake`], pushes the id onto the run queue.
//! - **The reactor.** One [`OsPoller`] and a slab of I/O sources, whose index is the source's
//!   token: the 64-bit word its events carry. A source's slot holds the wakers of the tasks
//!   waiting to read from it and to write to it.
//! - **Parked, then armed on demand.** A socket is registered when it is created, with its
//!   token and [`Interest::NONE`]: it is known to the kernel but asks for nothing. When an I/O
//!   call says `WouldBlock`, the future stores its task's waker in the slot and arms the
//!   registration with `reregister`, for exactly the directions that have a waiter. A socket
//!   that never has to wait costs no system call beyond its I/O, its registration and its
//!   deregistration.
//! - **The loop.** Poll every task whose id is in the queue; then wait on the poller, blocking
//!   only if no task is ready, and wake the stored wakers of each event's token.
//!
//! # Oneshot, not edge
//!
//! The registrations are [`Mode::Oneshot`]: an armed registration reports one event and is
//! disarmed until the next `reregister`. That keeps the reactor stateless:
//!
//! - an armed registration means that a task waits on it, so every event has someone to
//!   wake; a socket nobody waits on reports nothing, not even the data that arrives while its
//!   task is busy writing;
//! - nothing can be lost between `WouldBlock` and the arm: an armed oneshot registration is
//!   level-triggered, so readiness that came in between is reported by the arm itself;
//! - an event disarms the whole registration, so the reactor wakes every waiter of the token,
//!   and a task that still gets `WouldBlock` simply arms it again.
//!
//! The price is one `epoll_ctl` (or `kevent`) per wait. Edge-triggered registrations are armed
//! once and save that call, but their events come whether or not a task waits, so each source
//! must remember readiness that arrived while no waker was stored, and clear it exactly when
//! an I/O call says `WouldBlock`: more state and more ways to lose a wake-up than an example
//! should carry. `bench/runtime.sh` measures what the extra call costs against `echo`.
//!
//! Parked registrations are oneshot too: epoll reports a hang-up or an error even for an fd
//! registered with no interest, and a level-triggered one would report a reset socket nobody
//! waits on at every wait; oneshot reports it once, and the reactor drops an event that has no
//! waiter.
//!
//! Everything runs on one thread (`Rc`, `RefCell`). The run queue alone is shared, because
//! `Wake` makes wakers `Send + Sync`: a waker may be sent to another thread and woken there,
//! so it also wakes the poller when the executor is asleep in it. A task runs until it has to
//! wait: a peer that sends without pause keeps its task running, where a production runtime
//! gives each task a budget.

#[path = "common/load.rs"]
mod load;

use load::LoadConfig;
use pollio::{AsSource, BorrowedSource, Events, Interest, Mode, OsPoller, Poller, Registration};
use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::io::{self, ErrorKind, Read, Write};
use std::pin::Pin;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

const USAGE: &str = "\
usage: async_echo [--clients N [--seconds S]]

An echo server on a single-threaded async executor (std and pollio only):
one task accepts, one task per connection echoes.
Without options: serve on 127.0.0.1 (ephemeral port) until killed.

  --clients N   also run N client connections against the server, then print
                requests per second and p50/p99 round-trip latency (and both
                again as one `result:` line), and exit
  --seconds S   how long the clients run (default 3; decimals allowed)
  -h, --help    print this help";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let load = match parse_args(&args) {
        Ok(Some(load)) => load,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("async_echo: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(load) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("async_echo: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `None` for `--help`; otherwise the load to run, `None` inside for none.
fn parse_args(args: &[String]) -> Result<Option<Option<LoadConfig>>, String> {
    let (mut clients, mut seconds) = (None, None);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--clients" => {
                clients = Some(load::parse_count(arg, load::value_of(arg, args.next())?)?)
            }
            "--seconds" => seconds = Some(load::parse_seconds(load::value_of(arg, args.next())?)?),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    LoadConfig::from_options(clients, seconds).map(Some)
}

/// Serves until killed (no load) or until the load generator's run ends.
fn run(load: Option<LoadConfig>) -> Result<(), String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| Ok((listener.local_addr()?, listener)));
    let (addr, listener) = listener.map_err(|e| format!("cannot listen: {e}"))?;
    // Made here so that the waker can stop the runtime from this thread.
    let poller = OsPoller::new().map_err(|e| format!("cannot create a poller: {e}"))?;
    let waker = poller
        .waker()
        .map_err(|e| format!("cannot create a waker: {e}"))?;
    println!("async_echo server listening on {addr}");

    let stop = Arc::new(AtomicBool::new(false));
    let server_stop = Arc::clone(&stop);
    let serve = move || serve(poller, listener, &server_stop).map_err(|e| e.to_string());
    let Some(config) = load else {
        return serve();
    };
    load::measure(addr, config, serve, move || {
        // Release: pairs with the Acquire load in `Runtime::run`, which reads the flag after
        // the wake ends its wait.
        stop.store(true, Ordering::Release);
        waker.wake()
    })
}

/// The server: a runtime on `poller`, one task accepting on `listener`, until `stop` is set.
fn serve(poller: OsPoller, listener: std::net::TcpListener, stop: &AtomicBool) -> io::Result<()> {
    let runtime = Runtime::new(poller)?;
    let listener = TcpListener::new(listener, &runtime)?;
    runtime.spawn(accept_loop(listener, runtime.clone()));
    runtime.run(stop)
}

async fn accept_loop(listener: TcpListener, runtime: Runtime) {
    loop {
        match listener.accept().await {
            Ok(stream) => runtime.spawn(echo(stream)),
            // A connection that died in the backlog, or a signal: try the next one.
            Err(e) if is_transient_accept_error(&e) => continue,
            Err(e) => {
                // Out of fds or memory. The listener is still readable, so looping would not
                // wait; stop accepting, keep serving the connections there are.
                eprintln!("async_echo: accept failed, no longer accepting: {e}");
                return;
            }
        }
    }
}

/// Echoes until end of stream or an error, then drops (deregisters and closes) the stream.
async fn echo(stream: TcpStream) {
    let mut buf = [0; 4096];
    while let Ok(n @ 1..) = stream.read(&mut buf).await {
        if stream.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
}

fn is_transient_accept_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::Interrupted
    )
}

// ---------------------------------------------------------------------------------------------
// The executor
// ---------------------------------------------------------------------------------------------

/// The executor and its reactor. Clones share them; none leaves the thread that made it.
#[derive(Clone)]
struct Runtime(Rc<Executor>);

struct Executor {
    reactor: Rc<Reactor>,
    tasks: RefCell<Slab<Task>>,
    queue: Arc<RunQueue>,
}

/// A spawned future, and the waker that puts its id back in the run queue.
struct Task {
    /// `None` while the future is being polled: a task that spawns another borrows the slab.
    future: Option<Pin<Box<dyn Future<Output = ()>>>>,
    waker: Waker,
}

impl Runtime {
    fn new(poller: OsPoller) -> io::Result<Runtime> {
        let queue = Arc::new(RunQueue {
            state: Mutex::new(QueueState::default()),
            poller: poller.waker()?,
        });
        let reactor = Rc::new(Reactor {
            poller,
            sources: RefCell::new(Slab::default()),
        });
        let tasks = RefCell::new(Slab::default());
        Ok(Runtime(Rc::new(Executor {
            reactor,
            tasks,
            queue,
        })))
    }

    fn spawn(&self, future: impl Future<Output = ()> + 'static) {
        let queue = &self.0.queue;
        let id = self.0.tasks.borrow_mut().insert_with(|id| Task {
            future: Some(Box::pin(future)),
            waker: Waker::from(Arc::new(TaskWaker {
                id,
                queue: Arc::clone(queue),
            })),
        });
        queue.push(id);
    }

    /// Runs the tasks until `stop` is set (and the poller woken), then drops them all.
    fn run(&self, stop: &AtomicBool) -> io::Result<()> {
        let result = self.run_until(stop);
        // The accept task holds the runtime (to spawn) and the runtime holds the task: a cycle
        // of `Rc`s that would never be dropped. Dropping the tasks here breaks it; their
        // futures drop their sockets, which deregister and close.
        let tasks = std::mem::take(&mut *self.0.tasks.borrow_mut());
        drop(tasks);
        result
    }

    fn run_until(&self, stop: &AtomicBool) -> io::Result<()> {
        let (queue, reactor) = (&self.0.queue, &self.0.reactor);
        let mut ready = Vec::new();
        let mut events = Events::new();
        loop {
            queue.take(&mut ready);
            for id in ready.drain(..) {
                self.poll_task(id);
            }
            // Acquire: pairs with the Release store of whoever stops the runtime, before its
            // wake.
            if stop.load(Ordering::Acquire) {
                return Ok(());
            }
            // Block only when no task is ready; otherwise just collect the events there are.
            let idle = queue.sleep_if_idle();
            let timeout = if idle { None } else { Some(Duration::ZERO) };
            let waited = reactor.poller.poll_into(&mut events, timeout);
            // Awake before the events wake their tasks: those wakes must not wake the poller.
            queue.wake_up();
            waited?;
            reactor.dispatch(&events);
        }
    }

    fn poll_task(&self, id: usize) {
        let taken = self.0.tasks.borrow_mut().get_mut(id).and_then(|task| {
            let future = task.future.take()?;
            Some((future, task.waker.clone()))
        });
        // The task finished: a wake can come after the end. (A finished task's id is reused
        // by the next spawn, so a late wake may also poll a newer task once for nothing:
        // futures allow spurious polls.)
        let Some((mut future, waker)) = taken else {
            return;
        };
        let done = future
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_ready();
        let mut tasks = self.0.tasks.borrow_mut();
        if done {
            let task = tasks.remove(id);
            drop(tasks);
            drop(task);
        } else if let Some(task) = tasks.get_mut(id) {
            task.future = Some(future);
        }
    }
}

/// The ids of the tasks to poll, pushed by wakers from any thread.
struct RunQueue {
    state: Mutex<QueueState>,
    /// Ends the executor's wait in the poller when a task is woken meanwhile.
    poller: pollio::Waker,
}

#[derive(Default)]
struct QueueState {
    ready: Vec<usize>,
    /// True while the executor blocks in the poller with nothing else to do.
    sleeping: bool,
}

impl RunQueue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // A panic never happens while the lock is held; a poisoned queue is still a queue.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, id: usize) {
        let sleeping = {
            let mut state = self.lock();
            state.ready.push(id);
            state.sleeping
        };
        // Only a wake from another thread can find the executor asleep: the executor's own
        // wakes happen while it runs. The lock orders this against `sleep_if_idle`: either
        // the executor sees the id before it sleeps, or this sees it asleep and wakes it.
        if sleeping {
            if let Err(e) = self.poller.wake() {
                eprintln!("async_echo: cannot wake the executor: {e}");
            }
        }
    }

    /// Swaps the queued ids into `ready` (empty), keeping both vectors' capacity.
    fn take(&self, ready: &mut Vec<usize>) {
        std::mem::swap(&mut self.lock().ready, ready);
    }

    /// Marks the executor asleep if no task is ready; true if it may block.
    fn sleep_if_idle(&self) -> bool {
        let mut state = self.lock();
        state.sleeping = state.ready.is_empty();
        state.sleeping
    }

    fn wake_up(&self) {
        self.lock().sleeping = false;
    }
}

struct TaskWaker {
    id: usize,
    queue: Arc<RunQueue>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.queue.push(self.id);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.queue.push(self.id);
    }
}

// ---------------------------------------------------------------------------------------------
// The reactor
// ---------------------------------------------------------------------------------------------

struct Reactor {
    poller: OsPoller,
    /// Indexed by token: the tasks waiting on each registered socket.
    sources: RefCell<Slab<Waiters>>,
}

#[derive(Default)]
struct Waiters {
    reader: Option<Waker>,
    writer: Option<Waker>,
}

#[derive(Clone, Copy)]
enum Direction {
    Read,
    Write,
}

impl Reactor {
    /// Registers `fd` parked, under a new token.
    fn add(&self, fd: BorrowedSource<'_>) -> io::Result<usize> {
        let token = self
            .sources
            .borrow_mut()
            .insert_with(|_| Waiters::default());
        let parked = registration(token, Interest::NONE);
        if let Err(e) = self.poller.register(fd, parked) {
            self.sources.borrow_mut().remove(token);
            return Err(e);
        }
        Ok(token)
    }

    fn remove(&self, fd: BorrowedSource<'_>, token: usize) {
        // pollio never closes fds: deregister here, the socket's own drop closes it.
        if let Err(e) = self.poller.deregister(fd) {
            eprintln!("async_echo: cannot deregister a socket: {e}");
        }
        self.sources.borrow_mut().remove(token);
    }

    /// Stores `waker` as the waiter for `direction`, and arms the registration for every
    /// direction that has a waiter.
    fn wait_for(
        &self,
        fd: BorrowedSource<'_>,
        token: usize,
        direction: Direction,
        waker: &Waker,
    ) -> io::Result<()> {
        let interest = {
            let mut sources = self.sources.borrow_mut();
            let Some(waiters) = sources.get_mut(token) else {
                return Err(io::Error::new(ErrorKind::NotFound, "unregistered source"));
            };
            let slot = match direction {
                Direction::Read => &mut waiters.reader,
                Direction::Write => &mut waiters.writer,
            };
            if !slot.as_ref().is_some_and(|stored| stored.will_wake(waker)) {
                *slot = Some(waker.clone());
            }
            let mut interest = Interest::NONE;
            if waiters.reader.is_some() {
                interest |= Interest::READABLE;
            }
            if waiters.writer.is_some() {
                interest |= Interest::WRITABLE;
            }
            interest
        };
        self.poller.reregister(fd, registration(token, interest))
    }

    /// Wakes the tasks waiting on the tokens of `events`.
    fn dispatch(&self, events: &Events) {
        for event in events {
            let Ok(token) = usize::try_from(event.token()) else {
                continue;
            };
            // The event disarmed the whole registration: wake every waiter, reader and
            // writer; a task that still gets `WouldBlock` arms it again. No waiter: a parked
            // socket's hang-up or error, which its task's next I/O call reports.
            let waiters = match self.sources.borrow_mut().get_mut(token) {
                Some(waiters) => std::mem::take(waiters),
                None => continue,
            };
            // Waking only queues the task ids: no task runs, and nothing borrows `sources`.
            for waker in [waiters.reader, waiters.writer].into_iter().flatten() {
                waker.wake();
            }
        }
    }
}

/// A oneshot registration for `token`: parked with [`Interest::NONE`], armed otherwise.
fn registration(token: usize, interest: Interest) -> Registration {
    Registration::from_token(token as u64)
        .with_interest(interest)
        .with_mode(Mode::Oneshot)
}

// ---------------------------------------------------------------------------------------------
// Async sockets
// ---------------------------------------------------------------------------------------------

/// A non-blocking socket registered in the reactor; deregistered when dropped.
struct Async<T: AsSource> {
    io: T,
    token: usize,
    reactor: Rc<Reactor>,
}

impl<T: AsSource> Async<T> {
    fn new(io: T, reactor: &Rc<Reactor>) -> io::Result<Async<T>> {
        let token = reactor.add(io.as_source())?;
        let reactor = Rc::clone(reactor);
        Ok(Async { io, token, reactor })
    }

    /// Calls `op` until it does not say `WouldBlock`. When it does, the task's waker is stored
    /// and the registration armed, and the future is pending until an event wakes it.
    fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            match op(&self.io) {
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                result => return Poll::Ready(result),
            }
        }
        let armed = self
            .reactor
            .wait_for(self.io.as_source(), self.token, direction, cx.waker());
        match armed {
            Ok(()) => Poll::Pending,
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl<T: AsSource> Drop for Async<T> {
    fn drop(&mut self) {
        self.reactor.remove(self.io.as_source(), self.token);
    }
}

struct TcpListener(Async<std::net::TcpListener>);

impl TcpListener {
    fn new(listener: std::net::TcpListener, runtime: &Runtime) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener(Async::new(listener, &runtime.0.reactor)?))
    }

    /// The next connection, registered (parked) in the same runtime.
    async fn accept(&self) -> io::Result<TcpStream> {
        let accept = |cx: &mut Context<'_>| self.0.poll_io(cx, Direction::Read, |l| l.accept());
        let (stream, _) = poll_fn(accept).await?;
        stream.set_nonblocking(true)?;
        // Each echo is one small write that should leave at once, not wait for Nagle.
        stream.set_nodelay(true)?;
        Ok(TcpStream(Async::new(stream, &self.0.reactor)?))
    }
}

struct TcpStream(Async<std::net::TcpStream>);

impl TcpStream {
    async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.0.poll_io(cx, Direction::Read, |mut s| s.read(buf))).await
    }

    async fn write_all(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let write =
                |cx: &mut Context<'_>| self.0.poll_io(cx, Direction::Write, |mut s| s.write(data));
            match poll_fn(write).await? {
                0 => return Err(ErrorKind::WriteZero.into()),
                n => data = &data[n..],
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Slab
// ---------------------------------------------------------------------------------------------

/// A vector of slots reused through a free list: keys stay small and dense, and a key leads
/// to its value with one index.
struct Slab<T> {
    slots: Vec<Option<T>>,
    free: Vec<usize>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<T> Slab<T> {
    /// Stores the value `make` builds from its key; returns the key.
    fn insert_with(&mut self, make: impl FnOnce(usize) -> T) -> usize {
        let key = self.free.pop().unwrap_or(self.slots.len());
        let value = Some(make(key));
        match self.slots.get_mut(key) {
            Some(slot) => *slot = value,
            None => self.slots.push(value),
        }
        key
    }

    fn get_mut(&mut self, key: usize) -> Option<&mut T> {
        self.slots.get_mut(key)?.as_mut()
    }

    fn remove(&mut self, key: usize) -> Option<T> {
        let value = self.slots.get_mut(key)?.take()?;
        self.free.push(key);
        Some(value)
    }
}
