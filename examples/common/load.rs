//! The load generator the echo examples share, and the harness that runs a server under it.
//!
//! Included by each example with `#[path = "common/load.rs"] mod load;` (a file in a
//! subfolder of `examples/` is not built as an example of its own).
//!
//! [`measure`] starts the server on a thread of its own and runs the clients on the calling
//! thread: `clients` connections driven by one pollio poller. The connections are opened one
//! after the other, each making one blocking round trip before the next is opened, so the
//! server accepts them one at a time, as it would connections that arrive spread out, not in
//! one burst (a multi-threaded server then spreads them over its threads). Then the clock
//! starts: each connection sends a 64-byte request, waits for the whole echo, checks it byte
//! for byte, records the round trip and sends the next one. After the measured time every
//! request still in flight must get its echo too (not counted), then the server is told to stop
//! and must return. Every step is bounded, so a server that is stuck, loses a wake-up or never
//! stops fails the run instead of hanging it:
//!
//! | step | limit |
//! |------|-------|
//! | connect, and the first round trip | [`CONNECT_LIMIT`] per connection |
//! | the echoes in flight when the time is up | [`DRAIN_LIMIT`] |
//! | the server's return once told to stop | [`STOP_LIMIT`] |
//!
//! A wrong echo, a connection error, a stuck or failing server, or a run in which no request
//! completed is an error; the example then exits with a non-zero status.

use pollio::{AsSource, Interest, OsPoller, Poller, Registration, Registry};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// Size of one request; small, so a run measures the event loop, not bandwidth.
pub const REQUEST_LEN: usize = 64;

/// The longest one connect, or the first round trip on a new connection, may take.
pub const CONNECT_LIMIT: Duration = Duration::from_secs(5);

/// The longest the requests in flight at the end of the run may wait for their echo.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(5);

/// The longest the server may take to return once told to stop.
pub const STOP_LIMIT: Duration = Duration::from_secs(5);

/// The duration of a run when `--seconds` is not given.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(3);

/// How many connections, for how long.
#[derive(Debug, Clone, Copy)]
pub struct LoadConfig {
    pub clients: usize,
    pub duration: Duration,
}

impl LoadConfig {
    /// The load asked for by `--clients` and `--seconds`, or `None` (serve until killed) when
    /// neither is given.
    pub fn from_options(
        clients: Option<usize>,
        duration: Option<Duration>,
    ) -> Result<Option<LoadConfig>, String> {
        match (clients, duration) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err("--seconds needs --clients".to_string()),
            (Some(clients), duration) => Ok(Some(LoadConfig {
                clients,
                duration: duration.unwrap_or(DEFAULT_DURATION),
            })),
        }
    }
}

/// The value after `option` on the command line.
pub fn value_of<'a>(option: &str, value: Option<&'a String>) -> Result<&'a str, String> {
    value
        .map(String::as_str)
        .ok_or_else(|| format!("{option} needs a value"))
}

/// A positive integer option, such as `--clients`.
pub fn parse_count(option: &str, value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{option} wants a positive integer, not `{value}`")),
    }
}

/// `--seconds`: a positive number of seconds, decimals allowed.
pub fn parse_seconds(value: &str) -> Result<Duration, String> {
    match value.parse::<f64>() {
        // The upper bound keeps Duration::from_secs_f64 from panicking on absurd values.
        Ok(s) if s > 0.0 && s <= 1e9 => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!("--seconds wants a positive number, not `{value}`")),
    }
}

// ---------------------------------------------------------------------------------------------
// The harness
// ---------------------------------------------------------------------------------------------

/// Runs `serve` on a new thread and the load against `addr` on this one; then calls `stop`,
/// which must make `serve` return, and prints the report.
///
/// `serve` is the server's whole life: it returns when `stop` tells it to, `Err` only if the
/// server as a whole failed (a failing connection is the server's own business).
pub fn measure<F, S>(addr: SocketAddr, config: LoadConfig, serve: F, stop: S) -> Result<(), String>
where
    F: FnOnce() -> Result<(), String> + Send + 'static,
    S: FnOnce() -> io::Result<()>,
{
    let (done, server_done) = mpsc::channel();
    thread::Builder::new()
        .name("server".to_string())
        .spawn(move || {
            // If `serve` panics, `done` is dropped unsent and the wait below says so.
            let _ = done.send(serve());
        })
        .map_err(|e| format!("cannot start the server thread: {e}"))?;

    let report = run_clients(addr, config);
    let mut errors = Vec::new();
    if let Err(e) = &report {
        errors.push(e.clone());
    }
    match stop() {
        Err(e) => errors.push(format!("cannot stop the server: {e}")),
        Ok(()) => match server_done.recv_timeout(STOP_LIMIT) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => errors.push(format!("server failed: {e}")),
            Err(RecvTimeoutError::Timeout) => {
                errors.push(format!("the server did not stop within {STOP_LIMIT:?}"))
            }
            Err(RecvTimeoutError::Disconnected) => {
                errors.push("the server thread panicked".to_string())
            }
        },
    }
    // Returning from main ends the process, a server thread that never stopped included.
    if !errors.is_empty() {
        return Err(errors.join("; "));
    }
    let report = report?;
    if report.latencies.is_empty() {
        // Connections that never get an answer mean the server is stuck, not slow.
        return Err(format!("no request completed in {:?}", config.duration));
    }
    report.print(config);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------------------------

/// What the clients measured.
struct Report {
    elapsed: Duration,
    /// Round trips of the completed requests, in nanoseconds.
    latencies: Vec<u64>,
    /// The clients' and the server's CPU times over `elapsed`, where the system tells them.
    cpu: Option<(CpuTimes, CpuTimes)>,
}

impl Report {
    /// Two lines for people, then one for scripts (`bench/runtime.sh` reads it), which also
    /// has the CPU times on Linux: the server's threads' time on a CPU per request, and the
    /// time the server's threads (summed) and the clients' thread were ready to run but
    /// waited for a CPU, in percent of the run.
    fn print(mut self, config: LoadConfig) {
        self.latencies.sort_unstable();
        let requests = self.latencies.len();
        let seconds = self.elapsed.as_secs_f64();
        let per_second = requests as f64 / seconds;
        let p50 = micros(percentile(&self.latencies, 50.0));
        let p99 = micros(percentile(&self.latencies, 99.0));
        println!(
            "{} clients, {seconds:.2} s: {requests} requests, {per_second:.0} requests/s",
            config.clients,
        );
        println!("round-trip latency: p50 {p50:.1} µs, p99 {p99:.1} µs");
        let mut cpu = String::new();
        if let Some((clients, server)) = self.cpu {
            let per_request = server.running as f64 / 1e3 / requests.max(1) as f64;
            let percent = |nanos: u64| nanos as f64 / 1e9 / seconds * 100.0;
            cpu = format!(
                " server_cpu_us_per_request={per_request:.2} server_cpu_wait_pct={:.0} \
                 client_cpu_wait_pct={:.0}",
                percent(server.waiting),
                percent(clients.waiting),
            );
        }
        println!(
            "result: clients={} seconds={seconds:.3} requests={requests} \
             requests_per_sec={per_second:.0} p50_us={p50:.1} p99_us={p99:.1}{cpu}",
            config.clients,
        );
    }
}

/// How long threads ran on a CPU, and how long they were ready to run but waited for one, in
/// nanoseconds (Linux's `/proc/<pid>/task/<tid>/schedstat`). On a machine shared with other
/// work, the waiting says how much of a run's time went to someone else.
#[derive(Clone, Copy, Default)]
struct CpuTimes {
    running: u64,
    waiting: u64,
}

impl CpuTimes {
    /// The calling thread's times (the clients'), and the sum of the times of this process's
    /// other threads (the server's); `None` where there is no schedstat to read.
    fn sample() -> Option<(CpuTimes, CpuTimes)> {
        // "<pid>/task/<tid>": the calling thread's own entry.
        let own = std::fs::read_link("/proc/thread-self").ok()?;
        let own = own.file_name()?;
        let (mut clients, mut server) = (CpuTimes::default(), CpuTimes::default());
        for task in std::fs::read_dir("/proc/self/task").ok()? {
            let Ok(task) = task else { continue };
            // A thread that ended meanwhile has no file any more: it is no longer counted.
            let Some(times) = CpuTimes::read(&task.path().join("schedstat")) else {
                continue;
            };
            let sum = if task.file_name() == own {
                &mut clients
            } else {
                &mut server
            };
            sum.running += times.running;
            sum.waiting += times.waiting;
        }
        Some((clients, server))
    }

    fn read(path: &std::path::Path) -> Option<CpuTimes> {
        let text = std::fs::read_to_string(path).ok()?;
        let mut fields = text.split_whitespace().map(str::parse::<u64>);
        Some(CpuTimes {
            running: fields.next()?.ok()?,
            waiting: fields.next()?.ok()?,
        })
    }

    fn since(self, earlier: CpuTimes) -> CpuTimes {
        CpuTimes {
            running: self.running.saturating_sub(earlier.running),
            waiting: self.waiting.saturating_sub(earlier.waiting),
        }
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

// ---------------------------------------------------------------------------------------------
// The clients
// ---------------------------------------------------------------------------------------------

/// Runs `config.clients` connections against `addr` from this thread, on a poller of its own,
/// for `config.duration`, then waits for the echoes still in flight. Any wrong echo or
/// connection error ends the run with an error: against a correct server on loopback neither
/// happens.
fn run_clients(addr: SocketAddr, config: LoadConfig) -> Result<Report, String> {
    let mut poller = OsPoller::new().map_err(|e| format!("client poller: {e}"))?;
    let registry = poller
        .registry()
        .map_err(|e| format!("client poller: {e}"))?;
    let mut clients = connect_all(addr, config.clients, &registry)?;
    // A first guess at the request count, so recording latencies rarely reallocates.
    let mut latencies = Vec::with_capacity(1 << 20);

    // The clock starts once every connection is up, so connecting is not counted.
    let cpu_at_start = CpuTimes::sample();
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
            let client = client_of(&mut clients, event.key())?;
            if let Progress::Echoed(round_trip) = client.on_event(&registry)? {
                latencies.push(u64::try_from(round_trip.as_nanos()).unwrap_or(u64::MAX));
                client.start_request(&registry)?;
            }
        }
    }
    // Requests still in flight at the deadline are not counted.
    let elapsed = start.elapsed();
    let cpu = match (cpu_at_start, CpuTimes::sample()) {
        (Some((clients, server)), Some((clients_now, server_now))) => {
            Some((clients_now.since(clients), server_now.since(server)))
        }
        _ => None,
    };
    drain(&mut poller, &registry, &mut clients)?;
    Ok(Report {
        elapsed,
        latencies,
        cpu,
    })
}

/// Waits for the echo of every request still in flight, starting no new one. A server that
/// stopped answering (stuck, or a connection whose wake-up it lost) fails here, within
/// [`DRAIN_LIMIT`], instead of passing with fewer requests.
fn drain(poller: &mut OsPoller, registry: &Registry, clients: &mut [Client]) -> Result<(), String> {
    let deadline = Instant::now() + DRAIN_LIMIT;
    let mut in_flight = clients.len();
    while in_flight > 0 {
        let now = Instant::now();
        if now >= deadline {
            let stuck: Vec<String> = clients
                .iter()
                .filter(|client| client.in_flight)
                .take(8)
                .map(|client| format!("client {} request {}", client.key, client.seq))
                .collect();
            return Err(format!(
                "{in_flight} of {} requests in flight at the end of the run got no echo \
                 within {DRAIN_LIMIT:?} (the server is stuck or lost a wake-up): {}",
                clients.len(),
                stuck.join(", ")
            ));
        }
        let events = poller
            .poll(Some(deadline - now))
            .map_err(|e| format!("client poll: {e}"))?;
        for event in events {
            let client = client_of(clients, event.key())?;
            if let Progress::Echoed(_) = client.on_event(registry)? {
                // Done: no more events for it (nor a read of bytes the server should not send).
                client.in_flight = false;
                in_flight -= 1;
                registry
                    .deregister(client.stream.as_source())
                    .map_err(|e| client.error("deregister", e))?;
            }
        }
    }
    Ok(())
}

fn client_of(clients: &mut [Client], key: u32) -> Result<&mut Client, String> {
    clients
        .get_mut(key as usize)
        .ok_or_else(|| format!("event for unknown client key {key}"))
}

fn connect_all(addr: SocketAddr, count: usize, registry: &Registry) -> Result<Vec<Client>, String> {
    let mut clients = Vec::with_capacity(count);
    for id in 0..count {
        let key = u32::try_from(id).map_err(|_| "too many clients".to_string())?;
        // Blocking calls keep setup simple; on loopback they take microseconds.
        let mut stream = TcpStream::connect_timeout(&addr, CONNECT_LIMIT)
            .map_err(|e| format!("client {id}: connect: {e}"))?;
        warm_up(&mut stream, key)?;
        registry
            .register(stream.as_source(), reading(key))
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
            in_flight: false,
            started: Instant::now(),
        });
    }
    Ok(clients)
}

/// One blocking round trip (request number 0) on a new connection, then non-blocking mode.
fn warm_up(stream: &mut TcpStream, key: u32) -> Result<(), String> {
    let error = |what: &str, e: io::Error| format!("client {key}: {what}: {e}");
    let mut request = [0; REQUEST_LEN];
    fill_request(&mut request, key, 0);
    stream
        .set_nodelay(true)
        .and_then(|()| stream.set_read_timeout(Some(CONNECT_LIMIT)))
        .and_then(|()| stream.set_write_timeout(Some(CONNECT_LIMIT)))
        .map_err(|e| error("configure", e))?;
    stream
        .write_all(&request)
        .map_err(|e| error("first request", e))?;
    let mut echo = [0; REQUEST_LEN];
    stream.read_exact(&mut echo).map_err(|e| match e.kind() {
        // What a read timeout says, depending on the platform.
        ErrorKind::WouldBlock | ErrorKind::TimedOut => {
            format!("client {key}: no first echo within {CONNECT_LIMIT:?}")
        }
        _ => error("first echo", e),
    })?;
    if echo != request {
        return Err(format!("wrong first echo on client {key}"));
    }
    stream
        .set_nonblocking(true)
        .map_err(|e| error("configure", e))
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
    /// True from the start of a request until its echo is complete.
    in_flight: bool,
    started: Instant,
}

/// What an event did for a client.
enum Progress {
    /// The request is not complete yet.
    Waiting,
    /// The echo is complete and correct, after this round trip.
    Echoed(Duration),
}

impl Client {
    /// Builds the next request and sends as much of it as the socket takes.
    fn start_request(&mut self, registry: &Registry) -> Result<(), String> {
        self.seq = self.seq.wrapping_add(1);
        fill_request(&mut self.request, self.key, self.seq);
        self.sent = 0;
        self.received = 0;
        self.in_flight = true;
        self.started = Instant::now();
        self.send(registry)
    }

    fn on_event(&mut self, registry: &Registry) -> Result<Progress, String> {
        if self.sent < REQUEST_LEN {
            self.send(registry)?;
            return Ok(Progress::Waiting);
        }
        self.receive()
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
            .reregister(self.stream.as_source(), registration)
            .map_err(|e| self.error("modify", e))?;
        self.registered_writable = want_writable;
        Ok(())
    }

    /// Reads the echo; once it is complete, checks it and returns the round trip.
    fn receive(&mut self) -> Result<Progress, String> {
        match self.stream.read(&mut self.echo[self.received..]) {
            Ok(0) => return Err(self.error("receive", "the server closed the connection")),
            Ok(n) => self.received += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                return Ok(Progress::Waiting)
            }
            Err(e) => return Err(self.error("receive", e)),
        }
        if self.received < REQUEST_LEN {
            return Ok(Progress::Waiting);
        }
        let round_trip = self.started.elapsed();
        if let Some(i) = (0..REQUEST_LEN).find(|&i| self.echo[i] != self.request[i]) {
            return Err(format!(
                "wrong echo on client {} for request {}: byte {i} is {:#04x}, sent {:#04x}",
                self.key, self.seq, self.echo[i], self.request[i]
            ));
        }
        Ok(Progress::Echoed(round_trip))
    }

    fn error(&self, what: &str, e: impl std::fmt::Display) -> String {
        format!("client {}: {what}: {e}", self.key)
    }
}

/// Writes as much of `data` as the socket takes now. `Ok(0)` means it took nothing
/// (`WouldBlock`).
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

fn reading(key: u32) -> Registration {
    Registration::client(key).with_interest(Interest::READABLE)
}

fn writing(key: u32) -> Registration {
    Registration::client(key).with_interest(Interest::WRITABLE)
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
