//! A multi-threaded echo server on pollio, in the two shapes a multi-threaded event loop
//! takes.
//!
//! ```text
//! cargo run --release --example mt_echo -- --shape per-thread --threads 2 --clients 64 --seconds 3
//! cargo run --release --example mt_echo -- --shape shared --threads 2 --clients 64 --seconds 3
//! ```
//!
//! **`per-thread`**: each thread has a poller of its own. The listening socket is registered
//! in every one of them, [exclusive](Registration::with_exclusive) (`EPOLLEXCLUSIVE`), so a
//! new connection wakes one waiting thread, not all of them. That thread accepts one
//! connection, registers it in its own poller and serves it for its whole life: connections
//! never move between threads and need no lock. An exclusive wake does not take turns, though:
//! it goes to the first poller, in the order the listener was added to them, that has a thread
//! waiting. So after each accept the thread deletes the listener from its poller and adds it
//! again, which sends the next connection to another waiting thread (see `go_last`). That
//! spreads connections that arrive apart; a burst that comes faster than a thread wakes up is
//! accepted by the thread that is already awake. Nothing moves work between threads later: a
//! thread with busier connections stays busier.
//!
//! **`shared`**: one poller, waited on by every thread at once through
//! [`Poller::poll_into`], each thread with its own [`Events`]. Connections are registered
//! [oneshot](Mode::Oneshot): an event goes to one thread and disarms the connection, so no
//! other thread sees it until the thread that handles it re-arms it with `modify`. One
//! connection is so handled by one thread at a time, while any idle thread can take the next
//! event of any connection. Connections live in a table indexed by their token, one `Mutex`
//! per slot, taken by the thread that handles the connection's event. Oneshot means no other
//! thread wants it, except one that gets the connection's next event before the re-arm, which
//! is made under the lock, has returned. The listener is oneshot too: the thread that gets its
//! event accepts every queued connection, then re-arms it.
//!
//! Both shapes read once per event and echo; a reply the socket does not take at once is kept
//! and the connection waits for writability until it is sent. `WouldBlock`, end of stream and
//! errors are handled per connection: a failing connection is closed, the server carries on.
//! When the measured run ends, a stop flag is set and every poller woken (in the shared shape
//! the one wake reaches one thread, which passes it on before it returns). At the end each
//! thread's share of the work is printed: who accepted, who handled the connections' events.

#[path = "common/load.rs"]
mod load;

use load::LoadConfig;
use pollio::{AsSource, Events, Interest, Mode, OsPoller, Poller, Registration, Waker};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;

const USAGE: &str = "\
usage: mt_echo [--shape per-thread|shared] [--threads N] [--events N]
               [--clients N [--seconds S]]

A multi-threaded echo server on 127.0.0.1 (ephemeral port).
Without --clients: serve until killed.

  --shape per-thread  one poller per thread, the listener registered exclusive
                      in each; a thread serves the connections it accepts (default)
  --shape shared      one poller that every thread waits on; connections
                      registered oneshot and re-armed after each event
  --threads N         server threads (default 2)
  --events N          the most events one wait returns to a thread (default 1024)
  --clients N         also run N client connections against the server, then print
                      requests per second and p50/p99 round-trip latency (and both
                      again as one `result:` line), and exit
  --seconds S         how long the clients run (default 3; decimals allowed)
  -h, --help          print this help";

/// The token of the listening socket; a connection's token is its index in the table.
/// (`u64::MAX` is pollio's own.)
const LISTENER: u64 = u64::MAX - 1;

/// The server's read buffer, one per thread.
const READ_BUF_LEN: usize = 16 * 1024;

/// The most connections the shared shape's table holds; more are refused (closed).
const MAX_CONNECTIONS: usize = 4096;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_args(&args) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("mt_echo: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("mt_echo: {message}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    PerThread,
    Shared,
}

#[derive(Debug)]
struct Options {
    shape: Shape,
    threads: usize,
    events: usize,
    load: Option<LoadConfig>,
}

/// The options, or `None` for `--help`.
fn parse_args(args: &[String]) -> Result<Option<Options>, String> {
    let (mut shape, mut threads, mut events) = (Shape::PerThread, 2, Events::DEFAULT_CAPACITY);
    let (mut clients, mut seconds) = (None, None);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--shape" => {
                shape = match load::value_of(arg, args.next())? {
                    "per-thread" => Shape::PerThread,
                    "shared" => Shape::Shared,
                    other => return Err(format!("--shape is per-thread or shared, not `{other}`")),
                }
            }
            "--threads" => threads = load::parse_count(arg, load::value_of(arg, args.next())?)?,
            "--events" => events = load::parse_count(arg, load::value_of(arg, args.next())?)?,
            "--clients" => {
                clients = Some(load::parse_count(arg, load::value_of(arg, args.next())?)?)
            }
            "--seconds" => seconds = Some(load::parse_seconds(load::value_of(arg, args.next())?)?),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if threads > 64 {
        // The share of work printed at the end records threads in a 64-bit mask.
        return Err("--threads is at most 64".to_string());
    }
    let load = LoadConfig::from_options(clients, seconds)?;
    Ok(Some(Options {
        shape,
        threads,
        events,
        load,
    }))
}

// ---------------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------------

/// Either shape, set up and ready to serve.
enum Server {
    PerThread(PerThread),
    Shared(SharedPoller),
}

impl Server {
    fn new(shape: Shape, listener: TcpListener, threads: usize) -> io::Result<Server> {
        Ok(match shape {
            Shape::PerThread => Server::PerThread(PerThread::new(listener, threads)?),
            Shape::Shared => Server::Shared(SharedPoller::new(listener)?),
        })
    }

    /// What ends the threads' waits: one waker per poller.
    fn wakers(&self) -> io::Result<Vec<Waker>> {
        match self {
            Server::PerThread(server) => server.pollers.iter().map(OsPoller::waker).collect(),
            Server::Shared(server) => Ok(vec![server.poller.waker()?]),
        }
    }

    /// Serves on `threads` threads until `stop` is set, then prints each thread's share.
    fn serve(self, threads: usize, events: usize, stop: &AtomicBool) -> Result<(), String> {
        let workers = thread::scope(|scope| {
            let mut handles = Vec::with_capacity(threads);
            for index in 0..threads {
                let server = &self;
                let worker = move || match server {
                    Server::PerThread(s) => s.worker(index, events, stop),
                    Server::Shared(s) => s.worker(index, events, stop),
                };
                let handle = thread::Builder::new()
                    .name(format!("worker-{index}"))
                    .spawn_scoped(scope, worker);
                handles.push(handle);
            }
            let mut results = Vec::with_capacity(threads);
            for (index, handle) in handles.into_iter().enumerate() {
                let result = match handle {
                    Err(e) => Err(format!("cannot start worker {index}: {e}")),
                    Ok(handle) => match handle.join() {
                        Ok(stats) => stats.map_err(|e| format!("worker {index}: {e}")),
                        Err(_) => Err(format!("worker {index} panicked")),
                    },
                };
                results.push(result);
            }
            results
        });
        let mut stats = Vec::with_capacity(threads);
        for worker in workers {
            stats.push(worker?);
        }
        match self {
            Server::PerThread(_) => print_per_thread(&stats),
            Server::Shared(server) => print_shared(&stats, &server.close_all()),
        }
        Ok(())
    }
}

fn run(options: Options) -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| {
            listener.set_nonblocking(true)?;
            Ok((listener.local_addr()?, listener))
        })
        .map_err(|e| format!("cannot listen: {e}"));
    let (addr, listener) = listener?;
    let server = Server::new(options.shape, listener, options.threads)
        .map_err(|e| format!("cannot set up the pollers: {e}"))?;
    let wakers = server
        .wakers()
        .map_err(|e| format!("cannot create a waker: {e}"))?;
    let shape = match options.shape {
        Shape::PerThread => "per-thread",
        Shape::Shared => "shared",
    };
    let threads = match options.threads {
        1 => "1 thread".to_string(),
        n => format!("{n} threads"),
    };
    println!("mt_echo server ({shape}, {threads}) listening on {addr}");

    let stop = Arc::new(AtomicBool::new(false));
    let server_stop = Arc::clone(&stop);
    let (threads, events) = (options.threads, options.events);
    let serve = move || server.serve(threads, events, &server_stop);
    let Some(config) = options.load else {
        return serve();
    };
    load::measure(addr, config, serve, move || {
        // Release: pairs with the Acquire loads in the workers' loops, which read the flag
        // after a wake ends their wait.
        stop.store(true, Ordering::Release);
        wakers.iter().try_for_each(Waker::wake)
    })
}

// ---------------------------------------------------------------------------------------------
// Shape 1: a poller per thread
// ---------------------------------------------------------------------------------------------

struct PerThread {
    listener: TcpListener,
    pollers: Vec<OsPoller>,
}

impl PerThread {
    fn new(listener: TcpListener, threads: usize) -> io::Result<PerThread> {
        let mut pollers = Vec::with_capacity(threads);
        for _ in 0..threads {
            let poller = OsPoller::new()?;
            // Exclusive: a new connection wakes one of the threads waiting, not every one.
            let exclusive = Registration::from_token(LISTENER).with_exclusive(true);
            poller.register(listener.as_source(), exclusive)?;
            pollers.push(poller);
        }
        Ok(PerThread { listener, pollers })
    }

    /// One thread: accepts on its own poller and serves what it accepted.
    fn worker(&self, index: usize, capacity: usize, stop: &AtomicBool) -> io::Result<Stats> {
        let poller = &self.pollers[index];
        let mut events = Events::with_capacity(capacity)?;
        let mut conns: Slab<Conn> = Slab::default();
        let mut buf = vec![0; READ_BUF_LEN];
        let mut stats = Stats::default();
        // Acquire: pairs with the Release store of the stop flag, made before the wake.
        while !stop.load(Ordering::Acquire) {
            poller.poll_into(&mut events, None)?;
            for event in &events {
                if event.token() == LISTENER {
                    if self.accept_one(poller, &mut conns, &mut stats) {
                        self.go_last(poller)?;
                    }
                    continue;
                }
                let key = event.token() as usize;
                let Some(conn) = conns.get_mut(key) else {
                    // Closed by an earlier event of the same wait.
                    continue;
                };
                stats.events += 1;
                let open = match conn.on_ready(&mut buf) {
                    None => false,
                    // Level-triggered: the registration changes only with the direction.
                    Some(interest) if interest == conn.interest => true,
                    Some(interest) => {
                        conn.interest = interest;
                        let level = Registration::from_token(key as u64).with_interest(interest);
                        rearm(poller, conn, level)
                    }
                };
                if !open {
                    if let Some(conn) = conns.remove(key) {
                        deregister(poller, &conn);
                    }
                }
            }
        }
        for conn in conns.drain() {
            deregister(poller, &conn);
        }
        Ok(stats)
    }

    /// Accepts one connection, if there is still one (another thread may have taken it);
    /// true if it did.
    fn accept_one(&self, poller: &OsPoller, conns: &mut Slab<Conn>, stats: &mut Stats) -> bool {
        let stream = match self.listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(e) => {
                report_accept_error(&e);
                return false;
            }
        };
        let key = conns.vacant_key();
        let reading = Registration::from_token(key as u64);
        // Registered before it is stored, so a stored connection is always registered.
        let registered =
            configure(&stream).and_then(|()| poller.register(stream.as_source(), reading));
        if let Err(e) = registered {
            eprintln!("mt_echo: cannot set up a connection: {e}");
            return false;
        }
        conns.insert(key, Conn::new(stream));
        stats.accepted += 1;
        true
    }

    /// Moves this thread to the back of the line for the listener's next exclusive wake.
    ///
    /// An exclusive wake does not take turns: it goes to the first poller, in the order the
    /// listener was added to them, that has a thread waiting in it. When connections arrive
    /// apart, every thread is waiting each time, so without this the first thread would
    /// accept them all and serve them alone. Deleting the listener from this poller and adding
    /// it again puts this poller last in that order. (An exclusive registration cannot be
    /// modified, only deleted and added again. kqueue has no exclusive wake: every thread
    /// wakes, and the ones that come too late find nothing to accept.)
    fn go_last(&self, poller: &OsPoller) -> io::Result<()> {
        poller.deregister(self.listener.as_source())?;
        let exclusive = Registration::from_token(LISTENER).with_exclusive(true);
        poller.register(self.listener.as_source(), exclusive)
    }
}

fn print_per_thread(stats: &[Stats]) {
    for (index, stats) in stats.iter().enumerate() {
        println!(
            "thread {index}: accepted {} connections, handled {} events",
            stats.accepted, stats.events
        );
    }
    println!("each connection was handled only by the thread that accepted it");
}

// ---------------------------------------------------------------------------------------------
// Shape 2: one poller, shared by every thread
// ---------------------------------------------------------------------------------------------

struct SharedPoller {
    listener: TcpListener,
    poller: OsPoller,
    /// Indexed by a connection's token.
    slots: Box<[Mutex<Option<Conn>>]>,
    /// The free slots' indices.
    free: Mutex<Vec<usize>>,
}

impl SharedPoller {
    fn new(listener: TcpListener) -> io::Result<SharedPoller> {
        let poller = OsPoller::new()?;
        poller.register(listener.as_source(), oneshot(LISTENER, Interest::READABLE))?;
        Ok(SharedPoller {
            listener,
            poller,
            slots: (0..MAX_CONNECTIONS).map(|_| Mutex::new(None)).collect(),
            // Reversed, so that `pop` hands out the low indices first.
            free: Mutex::new((0..MAX_CONNECTIONS).rev().collect()),
        })
    }

    /// One of the threads waiting on the shared poller.
    fn worker(&self, index: usize, capacity: usize, stop: &AtomicBool) -> io::Result<Stats> {
        let waker = self.poller.waker()?;
        let mut events = Events::with_capacity(capacity)?;
        let mut buf = vec![0; READ_BUF_LEN];
        let mut stats = Stats::default();
        // Acquire: pairs with the Release store of the stop flag, made before the wake.
        while !stop.load(Ordering::Acquire) {
            self.poller.poll_into(&mut events, None)?;
            for event in &events {
                if event.token() == LISTENER {
                    self.accept_all(index, &mut stats);
                    // Re-armed once the backlog is empty: meanwhile no other thread wakes
                    // for it. A failure here would leave the server deaf, so it is fatal.
                    self.poller.reregister(
                        self.listener.as_source(),
                        oneshot(LISTENER, Interest::READABLE),
                    )?;
                    continue;
                }
                self.on_conn_event(index, event.token() as usize, &mut buf, &mut stats);
            }
        }
        // A wake is taken by one waiting thread: pass the stop on to the next one.
        waker.wake()?;
        Ok(stats)
    }

    fn accept_all(&self, index: usize, stats: &mut Stats) {
        loop {
            let stream = match self.listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if is_transient_accept_error(&e) => continue,
                Err(e) => return report_accept_error(&e),
            };
            if let Err(e) = configure(&stream) {
                eprintln!("mt_echo: cannot configure a connection: {e}");
                continue;
            }
            let Some(key) = lock(&self.free).pop() else {
                eprintln!("mt_echo: {MAX_CONNECTIONS} connections already, refusing one");
                continue;
            };
            let mut slot = lock(&self.slots[key]);
            let conn = slot.insert(Conn::new(stream));
            conn.last_thread = index;
            // Registered while the slot is locked: an event that comes at once, to another
            // thread, waits for the lock and then finds the connection.
            let registered = self.poller.register(
                conn.stream.as_source(),
                oneshot(key as u64, Interest::READABLE),
            );
            if let Err(e) = registered {
                eprintln!("mt_echo: cannot register a connection: {e}");
                *slot = None;
                drop(slot);
                lock(&self.free).push(key);
                continue;
            }
            stats.accepted += 1;
        }
    }

    fn on_conn_event(&self, index: usize, key: usize, buf: &mut [u8], stats: &mut Stats) {
        let Some(slot) = self.slots.get(key) else {
            return;
        };
        let mut slot = lock(slot);
        // Oneshot: no other thread holds this connection's event, so the lock was free and no
        // event comes for a closed connection; the check is for safety's sake only.
        let Some(conn) = slot.as_mut() else {
            return;
        };
        stats.events += 1;
        if conn.last_thread != index {
            stats.handovers += 1;
            conn.last_thread = index;
        }
        conn.threads |= 1 << index;
        let open = match conn.on_ready(buf) {
            // Re-armed while the slot is locked, for the same reason as the registration.
            Some(interest) => rearm(&self.poller, conn, oneshot(key as u64, interest)),
            None => false,
        };
        if !open {
            if let Some(conn) = slot.take() {
                deregister(&self.poller, &conn);
                stats.closed.add(&conn);
            }
            drop(slot);
            lock(&self.free).push(key);
        }
    }

    /// Deregisters and closes the connections left once every thread has returned.
    fn close_all(&self) -> Closed {
        let mut closed = Closed::default();
        for slot in self.slots.iter() {
            if let Some(conn) = lock(slot).take() {
                deregister(&self.poller, &conn);
                closed.add(&conn);
            }
        }
        closed
    }
}

fn oneshot(token: u64, interest: Interest) -> Registration {
    Registration::from_token(token)
        .with_interest(interest)
        .with_mode(Mode::Oneshot)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock means a worker panicked; the scope reports that panic.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn print_shared(stats: &[Stats], left_open: &Closed) {
    let mut closed = *left_open;
    for (index, stats) in stats.iter().enumerate() {
        println!(
            "thread {index}: accepted {} connections, handled {} events, {} of them \
             for a connection whose previous event another thread handled",
            stats.accepted, stats.events, stats.handovers
        );
        closed.by_one += stats.closed.by_one;
        closed.by_several += stats.closed.by_several;
    }
    println!(
        "connections handled by one thread only: {}, by several threads: {}",
        closed.by_one, closed.by_several
    );
}

// ---------------------------------------------------------------------------------------------
// What both shapes share
// ---------------------------------------------------------------------------------------------

/// One accepted connection.
struct Conn {
    stream: TcpStream,
    /// Bytes read but not yet echoed, because the socket's send buffer was full.
    unsent: Vec<u8>,
    /// What the registration waits for (per-thread shape; shared re-arms every time).
    interest: Interest,
    /// The thread that handled the last event (shared shape).
    last_thread: usize,
    /// Every thread that handled an event, one bit each (shared shape).
    threads: u64,
}

impl Conn {
    fn new(stream: TcpStream) -> Conn {
        Conn {
            stream,
            unsent: Vec::new(),
            interest: Interest::READABLE,
            last_thread: 0,
            threads: 0,
        }
    }

    /// Handles readiness: sends the bytes left over, or reads once and echoes. Returns what
    /// to wait for next, or `None` to close the connection (end of stream or an error).
    fn on_ready(&mut self, buf: &mut [u8]) -> Option<Interest> {
        if !self.unsent.is_empty() {
            let sent = write_some(&mut self.stream, &self.unsent).ok()?;
            self.unsent.drain(..sent);
            return Some(self.waiting_for());
        }
        let n = match self.stream.read(buf) {
            Ok(0) => return None,
            Ok(n) => n,
            // A spurious event, or a signal: wait again.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                return Some(Interest::READABLE)
            }
            Err(_) => return None,
        };
        let sent = write_some(&mut self.stream, &buf[..n]).ok()?;
        // The send buffer is full: keep the rest, and read nothing more until it is sent.
        self.unsent.extend_from_slice(&buf[sent..n]);
        Some(self.waiting_for())
    }

    fn waiting_for(&self) -> Interest {
        if self.unsent.is_empty() {
            Interest::READABLE
        } else {
            Interest::WRITABLE
        }
    }
}

/// Changes or re-arms a connection's registration; false (close it) if the kernel refuses.
fn rearm(poller: &OsPoller, conn: &Conn, registration: Registration) -> bool {
    match poller.reregister(conn.stream.as_source(), registration) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("mt_echo: cannot re-arm a connection: {e}");
            false
        }
    }
}

/// Deregisters a connection before it is dropped (closed): pollio never closes fds.
fn deregister(poller: &OsPoller, conn: &Conn) {
    if let Err(e) = poller.deregister(conn.stream.as_source()) {
        eprintln!("mt_echo: cannot deregister a connection: {e}");
    }
}

/// Writes as much of `data` as the socket takes now. `Ok(0)` means it took nothing
/// (`WouldBlock`); an error means the connection is finished.
fn write_some(stream: &mut TcpStream, mut data: &[u8]) -> io::Result<usize> {
    let len = data.len();
    while !data.is_empty() {
        match stream.write(data) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(len - data.len())
}

fn configure(stream: &TcpStream) -> io::Result<()> {
    stream.set_nonblocking(true)?;
    // Each echo is one small write that should leave at once, not wait for Nagle.
    stream.set_nodelay(true)
}

fn is_transient_accept_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::Interrupted
    )
}

fn report_accept_error(e: &io::Error) {
    // A connection that died in the backlog is nothing to report; running out of fds or
    // memory is, and the listener being still ready means the next wait tries again.
    if !is_transient_accept_error(e) {
        eprintln!("mt_echo: accept failed: {e}");
    }
}

/// One thread's share of the work.
#[derive(Default)]
struct Stats {
    accepted: usize,
    /// Connection events handled.
    events: usize,
    /// Events whose connection's previous event another thread handled (shared shape).
    handovers: usize,
    /// The connections this thread closed (shared shape).
    closed: Closed,
}

/// How many threads handled the events of the connections closed.
#[derive(Default, Clone, Copy)]
struct Closed {
    by_one: usize,
    by_several: usize,
}

impl Closed {
    fn add(&mut self, conn: &Conn) {
        if conn.threads.count_ones() > 1 {
            self.by_several += 1;
        } else {
            self.by_one += 1;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Slab (per-thread shape)
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
    /// The key the next [`insert`](Self::insert) uses.
    fn vacant_key(&self) -> usize {
        self.free.last().copied().unwrap_or(self.slots.len())
    }

    /// Stores `value` under `key`, which comes from [`vacant_key`](Self::vacant_key).
    fn insert(&mut self, key: usize, value: T) {
        if self.free.last() == Some(&key) {
            self.free.pop();
            self.slots[key] = Some(value);
        } else {
            self.slots.push(Some(value));
        }
    }

    fn get_mut(&mut self, key: usize) -> Option<&mut T> {
        self.slots.get_mut(key)?.as_mut()
    }

    fn remove(&mut self, key: usize) -> Option<T> {
        let value = self.slots.get_mut(key)?.take()?;
        self.free.push(key);
        Some(value)
    }

    /// Takes every value out.
    fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        self.free.clear();
        self.slots.drain(..).flatten()
    }
}
