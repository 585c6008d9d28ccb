//! Model-based property test: random operations on a few socket pairs and one poller, checked
//! after every wait against what poll(2) says is ready (see `model/oracle.rs` for the rules).
//!
//! The CI size is 256 cases. The long run:
//!
//! ```text
//! PROPTEST_CASES=20000 cargo test --release --test model
//! ```
//!
//! A failing case is shrunk and saved to `model/proptest-regressions/model.txt` (the path below
//! is relative to this package, where cargo runs its tests), and every case saved there is
//! replayed first on each run; commit that file with the fix.
//!
//! This binary holds one test on purpose: the model reuses closed descriptor numbers and
//! expects no other thread of the process to open descriptors in the meantime.
//!
//! Every case runs twice: on epoll, and on the poll(2) backend, which the oracle checks
//! exactly for edge-triggered registrations too (it reports them as level-triggered).
//!
//! Linux only: the oracle encodes epoll's rules (event flags computed when an event is handed
//! out, `EPOLLRDHUP`, wake-ups on every readiness edge) and counts descriptors in /proc. Not
//! under Miri: the model registers in every mode, and Miri's epoll accepts edge-triggered
//! registrations only; nor does Miri have the poll(2) the oracle asks.
#![cfg(all(target_os = "linux", not(miri)))]

#[path = "model/harness.rs"]
mod harness;
#[path = "model/oracle.rs"]
mod oracle;

use harness::{Action, BadFd, Harness, LongWait, Op, Via, WaitKind, ROOMY, SLOTS};
use pollio::{Backend, EventKind, Interest, Mode, Registration};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// 256 cases unless `PROPTEST_CASES` says otherwise.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/model.txt",
        ))),
        ..ProptestConfig::default()
    }
}

fn slot() -> impl Strategy<Value = usize> {
    0..SLOTS
}

fn interest() -> impl Strategy<Value = Interest> {
    let bits = prop_oneof![1 => Just(0u8), 30 => 1u8..8];
    bits.prop_map(|bits| {
        let mut interest = Interest::NONE;
        for (bit, flag) in [
            (1, Interest::READABLE),
            (2, Interest::WRITABLE),
            (4, Interest::PRIORITY),
        ] {
            if bits & bit != 0 {
                interest |= flag;
            }
        }
        interest
    })
}

fn mode() -> impl Strategy<Value = Mode> {
    prop_oneof![
        Just(Mode::Level),
        Just(Mode::Edge),
        Just(Mode::Oneshot),
        Just(Mode::EdgeOneshot),
    ]
}

fn kind() -> impl Strategy<Value = EventKind> {
    prop_oneof![Just(EventKind::Server), Just(EventKind::Client)]
}

/// A 64-bit token for a quarter of the registrations; the harness puts the slot's number in
/// its low byte. `u64::MAX` is reserved, so none reaches it.
fn token() -> impl Strategy<Value = Option<u64>> {
    let value = prop_oneof![
        Just(0u64),
        Just(u64::MAX - 0xff),
        any::<u64>().prop_map(|t| t & !0xff),
    ];
    prop_oneof![3 => Just(None), 1 => value.prop_map(Some)]
}

fn registration() -> impl Strategy<Value = Registration> {
    let key = prop_oneof![Just(0u32), Just(u32::MAX), any::<u32>()];
    (kind(), key, interest(), mode(), token()).prop_map(|(kind, key, interest, mode, token)| {
        let reg = Registration::new(kind, key)
            .with_interest(interest)
            .with_mode(mode);
        match token {
            Some(token) => reg.with_token(token),
            None => reg,
        }
    })
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => Just(Action::Add),
        3 => Just(Action::Modify),
        1 => Just(Action::Delete),
    ]
}

fn via() -> impl Strategy<Value = Via> {
    prop_oneof![Just(Via::Poller), Just(Via::Registry), Just(Via::Borrowed)]
}

fn wait_kind() -> impl Strategy<Value = WaitKind> {
    prop_oneof![
        6 => Just(WaitKind::Poll),
        2 => Just(WaitKind::Seed),
        1 => Just(WaitKind::SeedTimeout),
        1 => (0u32..100_000).prop_map(WaitKind::Precise),
    ]
}

fn bad_fd() -> impl Strategy<Value = BadFd> {
    prop_oneof![
        prop_oneof![Just(-1), Just(-7), Just(i32::MIN), i32::MIN..0].prop_map(BadFd::Negative),
        prop_oneof![Just(999_999), Just(i32::MAX), any::<i32>()].prop_map(BadFd::Unopened),
        Just(BadFd::Closed),
        Just(BadFd::Own),
        Just(BadFd::DevNull),
    ]
}

fn long_wait() -> impl Strategy<Value = LongWait> {
    prop_oneof![
        Just(LongWait::Bounded),
        Just(LongWait::Forever),
        Just(LongWait::Max),
        prop_oneof![Just(-1), Just(-2), i32::MIN..0].prop_map(LongWait::SeedNegative),
    ]
}

fn len() -> impl Strategy<Value = usize> {
    prop_oneof![1usize..64, 1usize..300_000, Just(usize::MAX)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => slot().prop_map(|slot| Op::Open { slot }),
        1 => slot().prop_map(|slot| Op::Close { slot }),
        12 => (slot(), action(), registration(), via())
            .prop_map(|(slot, action, reg, via)| Op::Register { slot, action, reg, via }),
        1 => (slot(), kind()).prop_map(|(slot, kind)| Op::SeedAdd { slot, kind }),
        6 => (slot(), len()).prop_map(|(slot, len)| Op::PeerWrite { slot, len }),
        5 => (slot(), len()).prop_map(|(slot, len)| Op::Read { slot, len }),
        2 => slot().prop_map(|slot| Op::Fill { slot }),
        2 => (slot(), len()).prop_map(|(slot, len)| Op::PeerRead { slot, len }),
        1 => slot().prop_map(|slot| Op::PeerShutdown { slot }),
        1 => slot().prop_map(|slot| Op::OwnShutdown { slot }),
        1 => slot().prop_map(|slot| Op::PeerClose { slot }),
        14 => wait_kind().prop_map(Op::Wait),
        1 => (bad_fd(), action(), registration())
            .prop_map(|(fd, action, reg)| Op::Bad { fd, action, reg }),
        1 => (0u8..4).prop_map(|times| Op::Wake { times }),
        1 => long_wait().prop_map(Op::WakeAndWait),
        1 => prop_oneof![Just(ROOMY), 1usize..4].prop_map(|capacity| Op::NewPoller { capacity }),
    ]
}

fn capacity() -> impl Strategy<Value = usize> {
    prop_oneof![6 => Just(ROOMY), 1 => 1usize..4]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn waits_agree_with_poll(capacity in capacity(), ops in prop::collection::vec(op(), 1..160)) {
        for backend in [Backend::Epoll, Backend::Poll] {
            let before = harness::open_fds();
            let result = Harness::new(backend, capacity).and_then(|mut harness| harness.run(&ops));
            prop_assert!(result.is_ok(), "{backend}: {}", result.unwrap_err());
            prop_assert_eq!(harness::open_fds(), before, "{}: descriptors leaked", backend);
        }
    }
}
