//! echo: a loopback TCP echo server on each poller, driven by one client over 64 connections.
//!
//! The server thread is the contender: it waits on the implementation under test,
//! edge-triggered (mio's only mode, so every implementation asks the kernel for the same
//! work), and echoes what it reads. The client is
//! the same for everyone (the raw-epoll backend), runs on the thread that times the batch, keeps
//! one 64-byte request in flight on every connection and checks every reply byte for byte.

use super::backend::{label, Backend, Trigger};
use super::raw_epoll::RawEpoll;
use super::{Contender, Make};
use std::io::{ErrorKind, Read, Write};
use std::marker::PhantomData;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Client connections.
pub const CONNECTIONS: usize = 64;

/// How the server registers its connections.
const SERVER_TRIGGER: Trigger = Trigger::Edge;

/// Bytes in one request and its reply.
const MESSAGE: usize = 64;

/// Makes an echo contender: connections plus a server thread.
pub struct EchoSetup;

struct Echo<B> {
    client: Client,
    server: Option<JoinHandle<()>>,
    _backend: PhantomData<fn() -> B>,
}

impl Make for EchoSetup {
    fn make<B: Backend>(&self) -> Box<dyn Contender> {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let mut clients = Vec::with_capacity(CONNECTIONS);
        let mut accepted = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            let client = TcpStream::connect(addr).expect("connect");
            let (server_side, _) = listener.accept().expect("accept");
            for stream in [&client, &server_side] {
                stream.set_nonblocking(true).expect("nonblocking");
                stream.set_nodelay(true).expect("nodelay");
            }
            clients.push(client);
            accepted.push(server_side);
        }
        let server = thread::spawn(move || serve::<B>(accepted));
        Box::new(Echo::<B> {
            client: Client::new(clients),
            server: Some(server),
            _backend: PhantomData,
        })
    }
}

impl<B: Backend> Contender for Echo<B> {
    fn label(&self) -> String {
        label::<B>(SERVER_TRIGGER)
    }
    fn key(&self) -> &'static str {
        B::KEY
    }
    fn batch(&mut self, iters: u64) -> Duration {
        self.client.run(iters)
    }
}

impl<B> Drop for Echo<B> {
    /// Closing the client ends every connection, and with them the server thread.
    fn drop(&mut self) {
        self.client.streams.clear();
        if let Some(server) = self.server.take() {
            // A server that panicked has already reported why.
            let _ = server.join();
        }
    }
}

/// The server: echo until every connection is closed by the client.
fn serve<B: Backend>(streams: Vec<TcpStream>) {
    let mut backend = B::new();
    for (key, stream) in streams.iter().enumerate() {
        backend.register(stream.as_fd(), key as u32, SERVER_TRIGGER);
    }
    let mut streams: Vec<Option<TcpStream>> = streams.into_iter().map(Some).collect();
    let mut open = streams.len();
    let mut ready = Vec::with_capacity(CONNECTIONS);
    let mut buf = [0u8; 4096];
    while open > 0 {
        ready.clear();
        backend.wait(None, |id| ready.push(id as usize));
        for &key in &ready {
            let Some(stream) = streams[key].as_mut() else {
                continue;
            };
            if !echo(stream, &mut buf) {
                backend.deregister(stream.as_fd());
                streams[key] = None;
                open -= 1;
            }
        }
    }
}

/// Echoes what is there to read; false once the peer has closed. Reads until a short read,
/// which on a stream socket means the buffer is empty: enough for an edge-triggered poller.
fn echo(stream: &mut TcpStream, buf: &mut [u8]) -> bool {
    loop {
        let n = match stream.read(buf) {
            Ok(0) => return false,
            Ok(n) => n,
            Err(err) if err.kind() == ErrorKind::WouldBlock => return true,
            Err(err) if err.kind() == ErrorKind::ConnectionReset => return false,
            Err(err) => panic!("server read: {err}"),
        };
        // One request per connection is in flight, so its reply always fits the send buffer.
        stream.write_all(&buf[..n]).expect("server write");
        if n < buf.len() {
            return true;
        }
    }
}

/// The load generator, the same for every contender.
struct Client {
    poller: RawEpoll,
    streams: Vec<TcpStream>,
    /// Per connection: the number of the request in flight and the reply bytes received.
    sequence: Vec<u64>,
    received: Vec<usize>,
    reply: Vec<[u8; MESSAGE]>,
}

/// Request `sequence` on connection `conn`: both numbers, then a pattern.
fn request(conn: usize, sequence: u64) -> [u8; MESSAGE] {
    let mut message = [0u8; MESSAGE];
    message[..8].copy_from_slice(&(conn as u64).to_le_bytes());
    message[8..16].copy_from_slice(&sequence.to_le_bytes());
    for (i, byte) in message[16..].iter_mut().enumerate() {
        *byte = (sequence as u8).wrapping_add(i as u8);
    }
    message
}

impl Client {
    fn new(streams: Vec<TcpStream>) -> Client {
        let mut poller = <RawEpoll as Backend>::new();
        for (key, stream) in streams.iter().enumerate() {
            poller.register(stream.as_fd(), key as u32, Trigger::Level);
        }
        let n = streams.len();
        Client {
            poller,
            streams,
            sequence: vec![0; n],
            received: vec![0; n],
            reply: vec![[0; MESSAGE]; n],
        }
    }

    fn send(&mut self, conn: usize) {
        self.sequence[conn] += 1;
        let message = request(conn, self.sequence[conn]);
        self.streams[conn]
            .write_all(&message)
            .expect("client write");
    }

    /// Reads what arrived on `conn`; true when a whole, correct reply is in.
    fn receive(&mut self, conn: usize) -> bool {
        let have = self.received[conn];
        let n = match self.streams[conn].read(&mut self.reply[conn][have..]) {
            Ok(0) => panic!("server closed connection {conn}"),
            Ok(n) => n,
            Err(err) if err.kind() == ErrorKind::WouldBlock => return false,
            Err(err) => panic!("client read: {err}"),
        };
        self.received[conn] += n;
        if self.received[conn] < MESSAGE {
            return false;
        }
        self.received[conn] = 0;
        assert!(
            self.reply[conn] == request(conn, self.sequence[conn]),
            "wrong reply on connection {conn}"
        );
        true
    }

    /// Completes `total` requests and returns how long they took.
    fn run(&mut self, total: u64) -> Duration {
        let start = Instant::now();
        let mut sent = 0;
        for conn in 0..self.streams.len() {
            if sent < total {
                self.send(conn);
                sent += 1;
            }
        }
        let mut done = 0;
        let mut ready = Vec::with_capacity(CONNECTIONS);
        while done < total {
            ready.clear();
            self.poller.wait(None, |id| ready.push(id as usize));
            for &conn in &ready {
                if self.receive(conn) {
                    done += 1;
                    if sent < total {
                        self.send(conn);
                        sent += 1;
                    }
                }
            }
        }
        start.elapsed()
    }
}
