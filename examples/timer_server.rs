//! A small status server driven by timers and signals: it counts ticks of a periodic timer,
//! tells every client that connects how many there have been, and shuts down cleanly on
//! `SIGINT` or `SIGTERM`.
//!
//! Everything is an event of one poller: the listening socket, the periodic [`Timer`], the two
//! [`Signal`] sources and, with `--shutdown-after S`, a one-shot timer that sends the process
//! `SIGTERM` `S` seconds after it has connected to itself once and read the reply, so the
//! example exits by itself (CI runs it that way), and non-zero if anything went wrong.
//!
//! ```text
//! cargo run --example timer_server                          # serve until Ctrl-C
//! cargo run --example timer_server -- --shutdown-after 1    # serve one second, then SIGTERM
//! ```
//!
//! The signal sources are made first, before any thread exists: on Linux their signals must
//! be blocked in every thread (see [`Signal`]).
//!
//! Unix only: on Windows, which has no signals, it builds but says so and exits with an
//! error.

use pollio::{AsSource, Events, OsPoller, Poller, Registration, Signal};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const LISTENER: u32 = 0;
const TICK: u32 = 1;
const INTERRUPT: u32 = 2;
const TERMINATE: u32 = 3;
const SELF_TERM: u32 = 4;
const SELF_CLIENT: u32 = 5;

const TICK_PERIOD: Duration = Duration::from_millis(100);

fn main() -> ExitCode {
    let shutdown_after = match parse_args() {
        Ok(arg) => arg,
        Err(usage) => {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    };
    match serve(shutdown_after) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("timer_server: {err}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args() -> Result<Option<Duration>, String> {
    let usage = "usage: timer_server [--shutdown-after SECONDS]".to_string();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => Ok(None),
        [flag, secs] if flag == "--shutdown-after" => secs
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| Some(Duration::from_secs_f64(s)))
            .ok_or(usage),
        _ => Err(usage),
    }
}

fn serve(shutdown_after: Option<Duration>) -> io::Result<()> {
    let poller = OsPoller::new()?;
    // First, while this is the only thread.
    let interrupt = poller.signal(libc::SIGINT, Registration::client(INTERRUPT))?;
    let terminate = poller.signal(libc::SIGTERM, Registration::client(TERMINATE))?;

    let listener = TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    poller.register(listener.as_source(), Registration::server(LISTENER))?;
    println!("serving tick counts on {}", listener.local_addr()?);

    let start = Instant::now();
    let tick = poller.timer(Registration::client(TICK))?;
    tick.set_every(TICK_PERIOD)?;

    let self_term = poller.timer(Registration::client(SELF_TERM))?;
    let mut self_client = None;
    if shutdown_after.is_some() {
        // One client of our own: the reply is checked when it arrives.
        let client = TcpStream::connect(listener.local_addr()?)?;
        client.set_nonblocking(true)?;
        poller.register(client.as_source(), Registration::client(SELF_CLIENT))?;
        self_client = Some((client, Vec::new()));
    }

    let (mut ticks, mut served) = (0u64, 0u64);
    let mut events = Events::new();
    let reason = 'serve: loop {
        poller.poll_into(&mut events, None)?;
        for event in &events {
            match event.key() {
                LISTENER => served += accept_all(&listener, ticks)?,
                TICK => ticks += tick.expirations(event)?,
                INTERRUPT if deliveries(&interrupt, event)? => break 'serve "SIGINT",
                TERMINATE if deliveries(&terminate, event)? => break 'serve "SIGTERM",
                SELF_TERM if self_term.expirations(event)? > 0 => terminate_self()?,
                SELF_CLIENT => {
                    if let (Some((client, reply)), Some(after)) = (&mut self_client, shutdown_after)
                    {
                        // Once the reply is in, the countdown to our own SIGTERM starts.
                        if read_reply(client, reply)? {
                            poller.deregister(client.as_source())?;
                            self_term.set_after(after)?;
                        }
                    }
                }
                _ => {}
            }
        }
    };

    // Graceful shutdown: stop accepting, then let every source go (dropping each deregisters
    // it, and the signal sources put back the signal mask or action they changed).
    poller.deregister(listener.as_source())?;
    tick.cancel()?;
    let elapsed = start.elapsed();
    println!("{reason}: shut down after {elapsed:.2?}: {ticks} ticks, {served} clients served");
    if shutdown_after.is_some() {
        check_run(
            reason,
            ticks,
            elapsed,
            served,
            self_client.map(|(_, reply)| reply),
        )?;
    }
    Ok(())
}

/// Sends this process `SIGTERM`, which arrives as an event of the `SIGTERM` source.
#[cfg(unix)]
fn terminate_self() -> io::Result<()> {
    // SAFETY: kill with our own pid and a valid signal number; SIGTERM is blocked (Linux) or
    // ignored (kqueue) while its source exists, so it arrives as an event, not as the default
    // action.
    if unsafe { libc::kill(libc::getpid(), libc::SIGTERM) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Never called: making the signal sources fails first on Windows.
#[cfg(not(unix))]
fn terminate_self() -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

/// Whether the event stands for at least one delivery (0 means it was taken already).
fn deliveries(signal: &Signal, event: &pollio::Event) -> io::Result<bool> {
    Ok(signal.deliveries(event)? > 0)
}

/// Accepts every waiting client and writes it the tick count; returns how many it served.
fn accept_all(listener: &TcpListener, ticks: u64) -> io::Result<u64> {
    let mut served = 0;
    loop {
        match listener.accept() {
            Ok((mut stream, _)) => {
                // A reply this small fits in a fresh socket's send buffer.
                stream.write_all(format!("ticks {ticks}\n").as_bytes())?;
                served += 1;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(served),
            Err(e) => return Err(e),
        }
    }
}

/// Reads what has come of the reply; true once the whole of it (one line) is in.
fn read_reply(client: &mut TcpStream, reply: &mut Vec<u8>) -> io::Result<bool> {
    let mut buf = [0u8; 64];
    loop {
        match client.read(&mut buf) {
            Ok(0) => return Ok(reply.ends_with(b"\n")),
            Ok(n) => reply.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(reply.ends_with(b"\n")),
            Err(e) => return Err(e),
        }
    }
}

/// What a `--shutdown-after` run must have done.
fn check_run(
    reason: &str,
    ticks: u64,
    elapsed: Duration,
    served: u64,
    reply: Option<Vec<u8>>,
) -> io::Result<()> {
    let fail = |why: String| Err(io::Error::new(ErrorKind::Other, why));
    if reason != "SIGTERM" {
        return fail(format!("stopped by {reason}, expected its own SIGTERM"));
    }
    // Never more ticks than periods elapsed (timers do not fire early).
    let most = (elapsed.as_nanos() / TICK_PERIOD.as_nanos()) as u64;
    if ticks > most {
        return fail(format!("{ticks} ticks in {elapsed:?}"));
    }
    let reply = String::from_utf8(reply.unwrap_or_default()).unwrap_or_default();
    if served != 1 || !reply.starts_with("ticks ") {
        return fail(format!("served {served}, own client read {reply:?}"));
    }
    Ok(())
}
