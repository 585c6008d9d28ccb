//! An echo server on pollio, with a built-in load generator.
//!
//! The server shows the patterns a real event loop needs:
//!
//! - a non-blocking [`TcpListener`] on 127.0.0.1 with an ephemeral port, registered as
//!   [`EventKind::Server`];
//! - accepted connections kept in a slab whose index is the [`Registration`] key, so an event
//!   leads straight to its connection with no map lookup;
//! - read and write readiness: a connection is registered readable; when an echo cannot be
//!   written in full, the unsent bytes are kept and the registration is switched to writable
//!   with `modify`, then back to readable once they are sent;
//! - end of stream, errors and `WouldBlock` handled per connection: a failing connection is
//!   deregistered and closed, the server carries on;
//! - a [`Waker`] that stops the loop from another thread.
//!
//! Run it:
//!
//! ```text
//! cargo run --release --example echo                              # serve until killed
//! cargo run --release --example echo -- --clients 64 --seconds 3  # serve and measure
//! ```
//!
//! With `--clients N` a client thread opens N connections to the server (driven by a second
//! pollio poller). Each connection sends a 64-byte request, waits for the whole echo, checks
//! it byte for byte, records the round trip and sends the next one. After `--seconds S` the
//! run stops and prints requests per second and the p50 / p99 round-trip latency. A wrong
//! echo, or any client error, fails the run with a non-zero exit status.

use pollio::{Event, EventKind, Interest, OsPoller, Poller, Registration, Registry, Waker};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const USAGE: &str = "\
usage: echo [--clients N [--seconds S]]

Without options: serve on 127.0.0.1 (ephemeral port) until killed.

  --clients N   also run N client connections against the server, then print
                requests per second and p50/p99 round-trip latency, and exit
  --seconds S   how long the clients run (default 3; decimals allowed)
  -h, --help    print this help";

/// Size of one client request; small, so the run measures the poller, not bandwidth.
const REQUEST_LEN: usize = 64;

/// Size of the server's read buffer, shared by all connections.
const READ_BUF_LEN: usize = 16 * 1024;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match parse_args(&args) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("echo: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match command {
        Command::Help => {
            println!("{USAGE}");
            Ok(())
        }
        Command::Serve => serve_forever(),
        Command::Bench(bench) => serve_and_measure(bench),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("echo: {message}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------------------

/// What the command line asks for.
#[derive(Debug)]
enum Command {
    Help,
    Serve,
    Bench(BenchConfig),
}

#[derive(Debug, Clone, Copy)]
struct BenchConfig {
    clients: usize,
    duration: Duration,
}

/// Parses the options by hand, to keep the crate free of extra dependencies.
fn parse_args(args: &[String]) -> Result<Command, String> {
    let mut clients = None;
    let mut seconds = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--clients" => clients = Some(parse_clients(value_of(arg, args.next())?)?),
            "--seconds" => seconds = Some(parse_seconds(value_of(arg, args.next())?)?),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    match (clients, seconds) {
        (None, None) => Ok(Command::Serve),
        (None, Some(_)) => Err("--seconds needs --clients".to_string()),
        (Some(clients), seconds) => Ok(Command::Bench(BenchConfig {
            clients,
            duration: seconds.unwrap_or(Duration::from_secs(3)),
        })),
    }
}

fn value_of<'a>(option: &str, value: Option<&'a String>) -> Result<&'a str, String> {
    value
        .map(String::as_str)
        .ok_or_else(|| format!("{option} needs a value"))
}

fn parse_clients(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("--clients wants a positive integer, not `{value}`")),
    }
}

fn parse_seconds(value: &str) -> Result<Duration, String> {
    match value.parse::<f64>() {
        // The upper bound keeps Duration::from_secs_f64 from panicking on absurd values.
        Ok(s) if s > 0.0 && s <= 1e9 => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!("--seconds wants a positive number, not `{value}`")),
    }
}

// ---------------------------------------------------------------------------------------------
// The two modes
// ---------------------------------------------------------------------------------------------

fn serve_forever() -> Result<(), String> {
    let (mut server, addr) = start_server()?;
    println!("echo server listening on {addr}");
    // Nothing ever sets this flag: the server runs until the process is killed.
    let stop = AtomicBool::new(false);
    server.run(&stop).map_err(|e| format!("server failed: {e}"))
}

fn serve_and_measure(config: BenchConfig) -> Result<(), String> {
    let (mut server, addr) = start_server()?;
    println!("echo server listening on {addr}");

    let stop = Arc::new(AtomicBool::new(false));
    let waker = server
        .waker()
        .map_err(|e| format!("cannot create a waker: {e}"))?;
    let client_stop = StopServerOnDrop {
        stop: Arc::clone(&stop),
        waker,
    };
    let clients = thread::Builder::new()
        .name("echo-clients".to_string())
        .spawn(move || {
            // Held for the whole run so the server stops however the clients end, even by a
            // panic; otherwise the server would wait forever for events that never come.
            let _stop_server = client_stop;
            run_clients(addr, config)
        })
        .map_err(|e| format!("cannot start the client thread: {e}"))?;

    let served = server.run(&stop);
    let report = clients
        .join()
        .map_err(|_| "the client thread panicked".to_string())?;
    served.map_err(|e| format!("server failed: {e}"))?;
    let report = report?;
    if report.latencies.is_empty() {
        // Connections that never get an answer mean the server is stuck, not slow.
        return Err(format!("no request completed in {:?}", config.duration));
    }
    report.print(config);
    Ok(())
}

fn start_server() -> Result<(Server, SocketAddr), String> {
    Server::bind().map_err(|e| format!("cannot start the server: {e}"))
}

/// Tells the server loop to stop when dropped: sets the flag, then wakes the blocked wait so
/// it sees the flag.
struct StopServerOnDrop {
    stop: Arc<AtomicBool>,
    waker: Waker,
}

impl Drop for StopServerOnDrop {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Err(e) = self.waker.wake() {
            eprintln!("echo: cannot wake the server: {e}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

/// The event loop: a poller and everything its events act on.
struct Server {
    poller: OsPoller,
    // Kept apart from `poller` because the events returned by `poll` borrow the poller; the
    // handlers reach the kernel through `conns.registry` meanwhile.
    conns: Connections,
}

impl Server {
    /// Binds the listener and registers it; returns the server and its address.
    fn bind() -> io::Result<(Server, SocketAddr)> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let poller = OsPoller::new()?;
        let registry = poller.registry()?;
        // The listener is told apart by its kind, so its key is free; 0 is as good as any.
        registry.register(listener.as_fd(), Registration::server(0))?;
        let conns = Connections {
            registry,
            listener,
            slab: Slab::default(),
            read_buf: vec![0; READ_BUF_LEN].into_boxed_slice(),
        };
        Ok((Server { poller, conns }, addr))
    }

    fn waker(&self) -> io::Result<Waker> {
        self.poller.waker()
    }

    /// Serves until `stop` is set (and the poller woken). Only a failing poller is an error;
    /// a failing connection is closed and the loop goes on.
    fn run(&mut self, stop: &AtomicBool) -> io::Result<()> {
        while !stop.load(Ordering::Acquire) {
            // A wake or a signal returns an empty slice: the loop condition then looks again.
            for event in self.poller.poll(None)? {
                match event.kind() {
                    EventKind::Server => self.conns.accept_all(),
                    EventKind::Client => self.conns.on_client_event(event),
                }
            }
        }
        Ok(())
    }
}

/// The listener and the accepted connections, indexed by their registration key.
struct Connections {
    registry: Registry,
    listener: TcpListener,
    slab: Slab<Connection>,
    /// One buffer for all reads: a connection only needs its own storage for bytes it could
    /// not send yet.
    read_buf: Box<[u8]>,
}

/// One accepted connection.
struct Connection {
    stream: TcpStream,
    /// Bytes read but not yet echoed, because the socket's send buffer was full.
    unsent: Vec<u8>,
}

/// What to do with a connection after handling its event.
enum Next {
    Keep,
    Close,
}

impl Connections {
    /// Accepts every pending connection: draining the backlog in one go keeps bursts of
    /// connects from costing one wait each.
    fn accept_all(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => self.add_connection(stream),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                // A connection that died in the backlog, or a signal: try the next one.
                Err(e) if is_transient_accept_error(&e) => continue,
                Err(e) => {
                    // Out of fds or memory: leave the rest in the backlog. The listener stays
                    // readable, so the next wait retries.
                    eprintln!("echo: accept failed: {e}");
                    return;
                }
            }
        }
    }

    fn add_connection(&mut self, stream: TcpStream) {
        if let Err(e) = configure(&stream) {
            eprintln!("echo: cannot configure a connection: {e}");
            return;
        }
        let Some(key) = self.slab.next_key() else {
            eprintln!("echo: no key left for a new connection");
            return;
        };
        // Registered before it is stored, so a connection in the slab is always registered;
        // on failure dropping the stream closes it.
        if let Err(e) = self.registry.register(stream.as_fd(), reading(key)) {
            eprintln!("echo: cannot register a connection: {e}");
            return;
        }
        let unsent = Vec::new();
        self.slab.insert(key, Connection { stream, unsent });
    }

    fn on_client_event(&mut self, event: &Event) {
        let key = event.key();
        let Some(conn) = self.slab.get_mut(key) else {
            // The connection was closed by an earlier event of the same wait.
            return;
        };
        // The I/O call itself reports end of stream and errors, so the readiness flags only
        // choose which side to try: a connection with unsent bytes is registered writable
        // only, and reads nothing until they are gone.
        let next = if conn.unsent.is_empty() {
            conn.echo(&mut self.read_buf, &self.registry, key)
        } else {
            conn.flush(&self.registry, key)
        };
        if let Next::Close = next {
            self.close(key);
        }
    }

    fn close(&mut self, key: u32) {
        if let Some(conn) = self.slab.remove(key) {
            // pollio never closes fds: deregister first, then dropping the stream closes it.
            if let Err(e) = self.registry.deregister(conn.stream.as_fd()) {
                eprintln!("echo: cannot deregister connection {key}: {e}");
            }
        }
    }
}

impl Connection {
    /// Reads what has arrived and writes it back. One read per event is enough: the
    /// registration is level-triggered, so anything left unread is reported again by the next
    /// wait, and the other connections get their turn meanwhile.
    fn echo(&mut self, buf: &mut [u8], registry: &Registry, key: u32) -> Next {
        let n = match self.stream.read(buf) {
            Ok(0) => return Next::Close, // end of stream: everything read was echoed already
            Ok(n) => n,
            // A stale or spurious event, or a signal: the next wait tells if there is more.
            Err(e) if is_retry(&e) => return Next::Keep,
            Err(_) => return Next::Close,
        };
        let data = &buf[..n];
        let sent = match write_some(&mut self.stream, data) {
            Ok(sent) => sent,
            Err(_) => return Next::Close,
        };
        if sent == n {
            return Next::Keep;
        }
        // The send buffer is full: keep the rest and wait until the socket is writable. Not
        // reading meanwhile is the back-pressure that stops a client which never reads from
        // making the server buffer without bound.
        self.unsent.extend_from_slice(&data[sent..]);
        switch(registry, &self.stream, writing(key))
    }

    /// Writes the unsent bytes; once they are all gone, goes back to reading.
    fn flush(&mut self, registry: &Registry, key: u32) -> Next {
        match write_some(&mut self.stream, &self.unsent) {
            Ok(sent) => {
                self.unsent.drain(..sent);
            }
            Err(_) => return Next::Close,
        }
        if !self.unsent.is_empty() {
            return Next::Keep;
        }
        // Release the memory: a connection that once stalled should not keep a big buffer.
        self.unsent = Vec::new();
        switch(registry, &self.stream, reading(key))
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

/// Changes what a connection waits for; a connection the kernel refuses to modify is closed.
fn switch(registry: &Registry, stream: &TcpStream, registration: Registration) -> Next {
    match registry.reregister(stream.as_fd(), registration) {
        Ok(()) => Next::Keep,
        Err(e) => {
            eprintln!("echo: cannot modify a registration: {e}");
            Next::Close
        }
    }
}

fn reading(key: u32) -> Registration {
    Registration::client(key).with_interest(Interest::READABLE)
}

fn writing(key: u32) -> Registration {
    Registration::client(key).with_interest(Interest::WRITABLE)
}

fn configure(stream: &TcpStream) -> io::Result<()> {
    stream.set_nonblocking(true)?;
    // Each echo is one small write that should leave at once, not wait for Nagle's algorithm.
    stream.set_nodelay(true)
}

fn is_retry(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted)
}

fn is_transient_accept_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::Interrupted
    )
}

// ---------------------------------------------------------------------------------------------
// Slab
// ---------------------------------------------------------------------------------------------

/// A vector of slots reused through a free list, so keys stay small and dense and a key leads
/// to its value with one index.
struct Slab<T> {
    slots: Vec<Option<T>>,
    free: Vec<u32>,
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
    /// The key the next [`insert`](Self::insert) will use, or `None` when every u32 key is
    /// taken (a server runs out of fds long before that).
    fn next_key(&self) -> Option<u32> {
        match self.free.last() {
            Some(&key) => Some(key),
            None => u32::try_from(self.slots.len()).ok(),
        }
    }

    /// Stores `value` under `key`, which must come from [`next_key`](Self::next_key).
    fn insert(&mut self, key: u32, value: T) {
        if self.free.last() == Some(&key) {
            self.free.pop();
            self.slots[key as usize] = Some(value);
        } else {
            debug_assert_eq!(key as usize, self.slots.len());
            self.slots.push(Some(value));
        }
    }

    fn get_mut(&mut self, key: u32) -> Option<&mut T> {
        self.slots.get_mut(key as usize)?.as_mut()
    }

    fn remove(&mut self, key: u32) -> Option<T> {
        let value = self.slots.get_mut(key as usize)?.take()?;
        self.free.push(key);
        Some(value)
    }
}

// ---------------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------------

/// What the clients measured.
struct Report {
    elapsed: Duration,
    /// Round trips of the completed requests, in nanoseconds.
    latencies: Vec<u64>,
}

impl Report {
    fn print(mut self, config: BenchConfig) {
        self.latencies.sort_unstable();
        let requests = self.latencies.len();
        let seconds = self.elapsed.as_secs_f64();
        println!(
            "{} clients, {:.2} s: {} requests, {:.0} requests/s",
            config.clients,
            seconds,
            requests,
            requests as f64 / seconds
        );
        println!(
            "round-trip latency: p50 {:.1} µs, p99 {:.1} µs",
            micros(percentile(&self.latencies, 50.0)),
            micros(percentile(&self.latencies, 99.0)),
        );
    }
}

/// The nearest-rank percentile of sorted values (0 when there are none).
fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn micros(nanos: u64) -> f64 {
    nanos as f64 / 1_000.0
}

/// Runs `config.clients` connections against `addr` from this thread, on a poller of its own,
/// for `config.duration`. Any wrong echo or connection error ends the run with an error:
/// against a correct server on loopback neither happens.
fn run_clients(addr: SocketAddr, config: BenchConfig) -> Result<Report, String> {
    let mut poller = OsPoller::new().map_err(|e| format!("client poller: {e}"))?;
    let registry = poller
        .registry()
        .map_err(|e| format!("client poller: {e}"))?;
    let mut clients = connect_all(addr, config.clients, &registry)?;
    // A first guess at the request count, so recording latencies rarely reallocates.
    let mut latencies = Vec::with_capacity(1 << 20);

    // The clock starts once every connection is up, so connecting is not counted.
    let start = Instant::now();
    let deadline = start + config.duration;
    for client in &mut clients {
        client.start_request(&registry)?;
    }
    loop {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        let events = poller
            .poll(Some(deadline - now))
            .map_err(|e| format!("client poll: {e}"))?;
        for event in events {
            let client = clients
                .get_mut(event.key() as usize)
                .ok_or_else(|| format!("event for unknown client key {}", event.key()))?;
            client.on_event(&registry, &mut latencies)?;
        }
    }
    // Requests still in flight at the deadline are not counted.
    Ok(Report {
        elapsed: start.elapsed(),
        latencies,
    })
}

fn connect_all(addr: SocketAddr, count: usize, registry: &Registry) -> Result<Vec<Client>, String> {
    let mut clients = Vec::with_capacity(count);
    for id in 0..count {
        let key = u32::try_from(id).map_err(|_| "too many clients".to_string())?;
        // Blocking connects keep setup simple; on loopback they take microseconds.
        let stream = TcpStream::connect(addr).map_err(|e| format!("client {id}: connect: {e}"))?;
        configure(&stream).map_err(|e| format!("client {id}: {e}"))?;
        registry
            .register(stream.as_fd(), reading(key))
            .map_err(|e| format!("client {id}: register: {e}"))?;
        clients.push(Client {
            key,
            stream,
            seq: 0,
            request: [0; REQUEST_LEN],
            echo: [0; REQUEST_LEN],
            sent: 0,
            received: 0,
            registered_writable: false,
            started: Instant::now(),
        });
    }
    Ok(clients)
}

/// One client connection: one request in flight at a time.
struct Client {
    key: u32,
    stream: TcpStream,
    /// Number of the request in flight; it goes into the request bytes so every request
    /// differs from the last and a stale or repeated echo cannot pass the check.
    seq: u32,
    request: [u8; REQUEST_LEN],
    echo: [u8; REQUEST_LEN],
    /// Bytes of `request` written so far.
    sent: usize,
    /// Bytes of `echo` read so far.
    received: usize,
    /// True while registered for writability (a request is partly sent), false while
    /// registered for readability.
    registered_writable: bool,
    started: Instant,
}

impl Client {
    /// Builds the next request and sends as much of it as the socket takes.
    fn start_request(&mut self, registry: &Registry) -> Result<(), String> {
        self.seq = self.seq.wrapping_add(1);
        fill_request(&mut self.request, self.key, self.seq);
        self.sent = 0;
        self.received = 0;
        self.started = Instant::now();
        self.send(registry)
    }

    fn on_event(&mut self, registry: &Registry, latencies: &mut Vec<u64>) -> Result<(), String> {
        if self.sent < REQUEST_LEN {
            return self.send(registry);
        }
        self.receive(registry, latencies)
    }

    /// Writes the rest of the request. A request that does not fit at once (it always does
    /// on loopback, but nothing promises it) waits for writability.
    fn send(&mut self, registry: &Registry) -> Result<(), String> {
        self.sent += write_some(&mut self.stream, &self.request[self.sent..])
            .map_err(|e| self.error("send", e))?;
        let want_writable = self.sent < REQUEST_LEN;
        // In the common case the request went out in one go and the registration is already
        // readable: no system call to change it.
        if want_writable == self.registered_writable {
            return Ok(());
        }
        let registration = if want_writable {
            writing(self.key)
        } else {
            reading(self.key)
        };
        registry
            .reregister(self.stream.as_fd(), registration)
            .map_err(|e| self.error("modify", e))?;
        self.registered_writable = want_writable;
        Ok(())
    }

    /// Reads the echo; once it is complete, checks it, records the round trip and starts the
    /// next request.
    fn receive(&mut self, registry: &Registry, latencies: &mut Vec<u64>) -> Result<(), String> {
        match self.stream.read(&mut self.echo[self.received..]) {
            Ok(0) => return Err(self.error("receive", "the server closed the connection")),
            Ok(n) => self.received += n,
            Err(e) if is_retry(&e) => return Ok(()),
            Err(e) => return Err(self.error("receive", e)),
        }
        if self.received < REQUEST_LEN {
            return Ok(());
        }
        let round_trip = self.started.elapsed();
        if let Some(i) = (0..REQUEST_LEN).find(|&i| self.echo[i] != self.request[i]) {
            return Err(format!(
                "wrong echo on client {} for request {}: byte {i} is {:#04x}, sent {:#04x}",
                self.key, self.seq, self.echo[i], self.request[i]
            ));
        }
        latencies.push(u64::try_from(round_trip.as_nanos()).unwrap_or(u64::MAX));
        self.start_request(registry)
    }

    fn error(&self, what: &str, e: impl std::fmt::Display) -> String {
        format!("client {}: {what}: {e}", self.key)
    }
}

/// Fills a request with bytes that depend on the client and the request number, so an echo
/// sent to the wrong connection or out of order is caught.
fn fill_request(request: &mut [u8; REQUEST_LEN], key: u32, seq: u32) {
    request[..4].copy_from_slice(&key.to_le_bytes());
    request[4..8].copy_from_slice(&seq.to_le_bytes());
    let mut x = (u64::from(key) << 32 | u64::from(seq)) ^ 0x9e37_79b9_7f4a_7c15;
    for byte in &mut request[8..] {
        // xorshift: cheap bytes that differ everywhere between requests.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *byte = x as u8;
    }
}
