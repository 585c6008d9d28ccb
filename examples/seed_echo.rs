//! An echo server on the pollio 0.1.3 API (`add`, `delete`, `wait`), serving clients that run
//! in threads of the same process, so it checks itself and exits on its own:
//!
//! ```sh
//! cargo run --example seed_echo
//! ```
//!
//! It exits with status 0 once every client got every reply back, and with an error if a reply
//! is wrong or nothing happens for `IDLE_LIMIT_MS`.

use pollio::{AsSource, EventKind, EventObject, OsPoller, Poller, RawSource};
use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

const CLIENTS: usize = 4;
const MESSAGES: usize = 50;
/// The longest the server waits for an event before it gives up: an example must not hang.
const IDLE_LIMIT_MS: i32 = 5_000;

fn main() -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("local_addr: {e}"))?;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| thread::spawn(move || run_client(id, addr)))
        .collect();

    serve(&listener, CLIENTS).map_err(|e| format!("server: {e}"))?;

    for client in clients {
        client
            .join()
            .map_err(|_| "a client panicked".to_string())??;
    }
    println!("seed_echo: {CLIENTS} clients, {MESSAGES} messages each, every reply checked");
    Ok(())
}

/// Serves connections until `expected` of them have ended.
fn serve(listener: &TcpListener, expected: usize) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let mut poller = OsPoller::new()?;
    poller.add(EventObject::server(listener.as_raw_source()))?;

    // pollio never closes fds: the streams live here, and a connection is closed by deleting
    // its fd from the poller and then dropping its stream.
    let mut conns: HashMap<RawSource, TcpStream> = HashMap::new();
    let mut buf = [0u8; 4096];
    let mut ended = 0;
    // `wait` returns a slice that borrows the poller, and the loop body calls `add` and
    // `delete`: copy the events out first. The vector is reused, so once it has grown to the
    // largest batch, waiting allocates nothing.
    let mut events: Vec<EventObject> = Vec::new();
    while ended < expected {
        events.clear();
        events.extend_from_slice(poller.wait(IDLE_LIMIT_MS)?);
        if events.is_empty() {
            // A timeout (or a signal, which this program does not expect).
            return Err(io::Error::new(
                ErrorKind::TimedOut,
                format!("no event in {IDLE_LIMIT_MS} ms with {ended} of {expected} clients done"),
            ));
        }
        for event in &events {
            match event.kind {
                EventKind::Server => accept(listener, &poller, &mut conns)?,
                EventKind::Client => {
                    if !echo(event.fd, &poller, &mut conns, &mut buf)? {
                        ended += 1;
                    }
                }
            }
        }
    }
    assert!(conns.is_empty(), "every connection was deleted and closed");
    Ok(())
}

/// Accepts one connection and adds it as a client. Registrations made with `add` are
/// level-triggered: a connection still queued is reported again by the next wait.
fn accept(
    listener: &TcpListener,
    poller: &OsPoller,
    conns: &mut HashMap<RawSource, TcpStream>,
) -> io::Result<()> {
    let stream = match listener.accept() {
        Ok((stream, _)) => stream,
        Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
        Err(e) => return Err(e),
    };
    stream.set_nonblocking(true)?;
    poller.add(EventObject::client(stream.as_raw_source()))?;
    conns.insert(stream.as_raw_source(), stream);
    Ok(())
}

/// Reads what arrived on `fd` and writes it back. Returns `false` once the connection has
/// ended (end of stream, or an error) and is deleted and closed.
fn echo(
    fd: RawSource,
    poller: &OsPoller,
    conns: &mut HashMap<RawSource, TcpStream>,
    buf: &mut [u8],
) -> io::Result<bool> {
    // An fd this loop no longer holds: nothing to do.
    let Some(stream) = conns.get_mut(&fd) else {
        return Ok(true);
    };
    let done = match stream.read(buf) {
        Ok(0) => true,
        // The seed API waits for readability only. These clients keep one short message in
        // flight, so the reply always fits in the send buffer; a server whose peers may fall
        // behind needs writable interest (`Registration`, see examples/echo.rs).
        Ok(n) => stream.write_all(&buf[..n]).is_err(),
        Err(e) => e.kind() != ErrorKind::WouldBlock,
    };
    if done {
        // Delete first, then close by dropping the stream.
        poller.delete(fd)?;
        conns.remove(&fd);
    }
    Ok(!done)
}

/// One client: sends numbered messages one at a time and checks that each comes back whole.
fn run_client(id: usize, addr: SocketAddr) -> Result<(), String> {
    let fail = |what: &str, e: io::Error| format!("client {id}: {what}: {e}");
    let mut stream = TcpStream::connect(addr).map_err(|e| fail("connect", e))?;
    // A server that stops answering fails the client instead of hanging it.
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| fail("set_read_timeout", e))?;
    for n in 0..MESSAGES {
        let message = format!("client {id} message {n}\n");
        stream
            .write_all(message.as_bytes())
            .map_err(|e| fail("write", e))?;
        let mut reply = vec![0u8; message.len()];
        stream.read_exact(&mut reply).map_err(|e| fail("read", e))?;
        if reply != message.as_bytes() {
            return Err(format!(
                "client {id}: sent {message:?}, got back {:?}",
                String::from_utf8_lossy(&reply)
            ));
        }
    }
    // Dropping the stream ends it: the server reads end of stream, deletes and closes.
    Ok(())
}
