//! 64-bit tokens: a registration's word of the caller's own, returned unchanged with its events.

use crate::errors::own_error_kind;
use crate::support::fd::{AsFd, AsRawFd};
use crate::support::{send, unix_pair, INCIDENTAL_MODE, PATIENCE};
use pollio::{Events, Mode, Poller, Registration};
use std::collections::HashMap;
use std::io::ErrorKind;
use std::time::{Duration, Instant};

/// Tokens that exercise every bit, including the ones pollio's own word layout gives a meaning.
const TOKENS: [u64; 6] = [
    0,
    1,
    0x7fff_ffff,
    0x8000_0000_0000_0000,
    0xdead_beef_cafe_f00d,
    u64::MAX - 1,
];

/// Waits until every registered pair reported, and returns the tokens seen, by count.
fn tokens_seen<P: Poller>(poller: &P, expected: usize) -> HashMap<u64, usize> {
    let mut events = Events::new();
    let mut seen = HashMap::new();
    let deadline = Instant::now() + PATIENCE;
    while seen.len() < expected {
        assert!(Instant::now() < deadline, "only {seen:x?} reported");
        poller
            .poll_into(&mut events, Some(Duration::from_millis(100)))
            .expect("poll_into");
        for event in &events {
            *seen.entry(event.token()).or_insert(0) += 1;
        }
    }
    seen
}

/// Every token comes back exactly as registered, through `poll_into` and `poll` alike.
pub fn tokens_come_back_unchanged<P: Poller>() {
    let mut poller = P::new().expect("new");
    let pairs: Vec<_> = TOKENS.iter().map(|_| unix_pair()).collect();
    for (token, (ours, peer)) in TOKENS.iter().zip(&pairs) {
        let reg = Registration::from_token(*token).with_mode(Mode::Edge);
        assert_eq!(reg.token(), Some(*token));
        poller.register(ours.as_fd(), reg).expect("register");
        send(peer, b"x");
    }
    let seen = tokens_seen(&poller, TOKENS.len());
    let mut tokens: Vec<u64> = seen.keys().copied().collect();
    tokens.sort_unstable();
    assert_eq!(tokens, TOKENS);
    assert!(seen.values().all(|&n| n == 1), "{seen:x?}");

    // The same through `poll`, after new data.
    for (_, peer) in &pairs {
        send(peer, b"y");
    }
    let mut again = Vec::new();
    let deadline = Instant::now() + PATIENCE;
    while again.len() < TOKENS.len() {
        assert!(Instant::now() < deadline, "only {again:x?} reported");
        let events = poller.poll(Some(Duration::from_millis(100))).expect("poll");
        again.extend(events.iter().map(|e| e.token()));
    }
    again.sort_unstable();
    assert_eq!(again, TOKENS);
}

/// `modify` replaces the token, and a registration without one keeps one opaque token for all
/// its events, with the fd, kind and key it was made with.
pub fn modify_replaces_the_token<P: Poller>() {
    let poller = P::new().expect("new");
    let (a, b) = unix_pair();
    let fd = a.as_raw_fd();
    poller
        .add_with(fd, Registration::from_token(41).with_mode(Mode::Edge))
        .expect("add_with");
    poller
        .modify(fd, Registration::from_token(42).with_mode(Mode::Edge))
        .expect("modify");
    send(&b, b"x");
    assert_eq!(
        tokens_seen(&poller, 1).into_keys().collect::<Vec<_>>(),
        [42]
    );

    let plain = Registration::server(7).with_mode(Mode::Edge);
    poller
        .modify(fd, plain)
        .expect("modify to fd, kind and key");
    let mut events = Events::new();
    let mut tokens = Vec::new();
    for _ in 0..2 {
        send(&b, b"x");
        poller
            .poll_into(&mut events, Some(PATIENCE))
            .expect("poll_into");
        assert_eq!(events.len(), 1);
        let event = &events[0];
        assert_eq!((event.fd(), event.key()), (fd, 7));
        assert_eq!(event.kind(), pollio::EventKind::Server);
        tokens.push(event.token());
    }
    assert_eq!(tokens[0], tokens[1], "one registration, one token");
}

/// `u64::MAX` marks the poller's wake-up event: a registration carrying it is refused with
/// pollio's own `InvalidInput`, by add and modify, and changes nothing.
pub fn the_reserved_token_is_refused<P: Poller>() {
    let poller = P::new().expect("new");
    let (a, _b) = unix_pair();
    let fd = a.as_raw_fd();
    let reserved = Registration::from_token(u64::MAX).with_mode(INCIDENTAL_MODE);
    assert_eq!(
        own_error_kind(poller.add_with(fd, reserved)),
        ErrorKind::InvalidInput
    );
    poller
        .add_with(fd, Registration::from_token(3).with_mode(INCIDENTAL_MODE))
        .expect("nothing was registered by the refused add");
    assert_eq!(
        own_error_kind(poller.modify(fd, reserved)),
        ErrorKind::InvalidInput
    );
    poller.delete(fd).expect("the registration is still there");
}

backend_tests!(
    tokens_come_back_unchanged,
    modify_replaces_the_token,
    the_reserved_token_is_refused,
);
