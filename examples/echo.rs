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
//! With `--clients N` the load generator of `examples/common/load.rs` opens N connections to
//! the server (driven by a second pollio poller). Each connection sends a 64-byte request,
//! waits for the whole echo, checks it byte for byte, records the round trip and sends the next
//! one. After `--seconds S` the run stops and prints requests per second and the p50 / p99
//! round-trip latency, then the same as one `result: ...` line for scripts. A wrong echo, any
//! client error, or a server that stops answering fails the run with a non-zero exit status.

#[path = "common/load.rs"]
mod load;

use load::LoadConfig;
use pollio::{
    AsSource, Event, EventKind, Interest, OsPoller, Poller, Registration, Registry, Waker,
};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const USAGE: &str = "\
usage: echo [--clients N [--seconds S]]

Without options: serve on 127.0.0.1 (ephemeral port) until killed.

  --clients N   also run N client connections against the server, then print
                requests per second and p50/p99 round-trip latency (and both
                again as one `result:` line), and exit
  --seconds S   how long the clients run (default 3; decimals allowed)
  -h, --help    print this help";

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
    Bench(LoadConfig),
}

/// Parses the options by hand, to keep the crate free of extra dependencies.
fn parse_args(args: &[String]) -> Result<Command, String> {
    let mut clients = None;
    let mut seconds = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--clients" => {
                clients = Some(load::parse_count(arg, load::value_of(arg, args.next())?)?)
            }
            "--seconds" => seconds = Some(load::parse_seconds(load::value_of(arg, args.next())?)?),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(match LoadConfig::from_options(clients, seconds)? {
        None => Command::Serve,
        Some(config) => Command::Bench(config),
    })
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

fn serve_and_measure(config: LoadConfig) -> Result<(), String> {
    let (mut server, addr) = start_server()?;
    println!("echo server listening on {addr}");

    // The load generator stops the server when the run ends, however it ends: it sets the
    // flag, then wakes the blocked wait so that the loop sees the flag.
    let stop = Arc::new(AtomicBool::new(false));
    let waker = server
        .waker()
        .map_err(|e| format!("cannot create a waker: {e}"))?;
    let server_stop = Arc::clone(&stop);
    let serve = move || server.run(&server_stop).map_err(|e| e.to_string());
    load::measure(addr, config, serve, move || {
        // Release: pairs with the Acquire load in `Server::run`, which reads the flag after
        // the wake ends its wait.
        stop.store(true, Ordering::Release);
        waker.wake()
    })
}

fn start_server() -> Result<(Server, SocketAddr), String> {
    Server::bind().map_err(|e| format!("cannot start the server: {e}"))
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
        registry.register(listener.as_source(), Registration::server(0))?;
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
        if let Err(e) = self.registry.register(stream.as_source(), reading(key)) {
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
            if let Err(e) = self.registry.deregister(conn.stream.as_source()) {
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
    match registry.reregister(stream.as_source(), registration) {
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
