//! Arbitrary bytes decoded into operations on socket pairs and a poller, run by the same harness
//! as the model test and checked against the same poll(2) oracle. Every input also checks that
//! no descriptor leaks. The first byte picks the capacity (its low three bits) and the backend
//! (bit 3: epoll or poll(2)).

#![no_main]

#[path = "../../model/tests/model/harness.rs"]
mod harness;
#[path = "../../model/tests/model/oracle.rs"]
mod oracle;

use harness::{Action, BadFd, Harness, LongWait, Op, Via, WaitKind, ROOMY, SLOTS};
use libfuzzer_sys::fuzz_target;
use pollio::{Backend, EventKind, Interest, Mode, Registration};

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let first = input.byte();
    let capacity = match first % 8 {
        0 => 1,
        1 => 2,
        2 => 3,
        _ => ROOMY,
    };
    let backend = if first & 8 == 0 {
        Backend::Epoll
    } else {
        Backend::Poll
    };
    let mut ops = Vec::new();
    while !input.0.is_empty() && ops.len() < 512 {
        ops.push(input.op());
    }
    let before = harness::open_fds();
    let result = Harness::new(backend, capacity).and_then(|mut harness| harness.run(&ops));
    if let Err(err) = result {
        panic!("{err}");
    }
    assert_eq!(harness::open_fds(), before, "descriptors leaked");
});

/// The bytes not decoded yet; reads past the end give zeros.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        let Some((&first, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        first
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }

    fn slot(&mut self) -> usize {
        usize::from(self.byte()) % SLOTS
    }

    fn len(&mut self) -> usize {
        match self.byte() {
            255 => usize::MAX,
            n => usize::from(n) * usize::from(self.byte()) * 16 + 1,
        }
    }

    fn action(&mut self) -> Action {
        match self.byte() % 3 {
            0 => Action::Add,
            1 => Action::Modify,
            _ => Action::Delete,
        }
    }

    /// Kind, interest (possibly empty), mode and key; the key is a full 32-bit word when the
    /// high bit of the first byte is set, and a token comes with it when bit 6 is.
    fn registration(&mut self) -> Registration {
        let b = self.byte();
        let kind = if b & 1 == 0 {
            EventKind::Server
        } else {
            EventKind::Client
        };
        let mut interest = Interest::NONE;
        for (bit, flag) in [
            (2, Interest::READABLE),
            (4, Interest::WRITABLE),
            (8, Interest::PRIORITY),
        ] {
            if b & bit != 0 {
                interest |= flag;
            }
        }
        let mode = match (b >> 4) & 3 {
            0 => Mode::Level,
            1 => Mode::Edge,
            2 => Mode::Oneshot,
            _ => Mode::EdgeOneshot,
        };
        let key = if b & 0x80 != 0 {
            self.u32()
        } else {
            u32::from(self.byte())
        };
        let reg = Registration::new(kind, key)
            .with_interest(interest)
            .with_mode(mode);
        // A 64-bit token when bit 6 is set; the harness fits the slot into it.
        if b & 0x40 != 0 {
            let token = u64::from(self.u32()) << 32 | u64::from(self.u32());
            reg.with_token(token)
        } else {
            reg
        }
    }

    fn op(&mut self) -> Op {
        match self.byte() % 22 {
            0 | 1 => Op::Open { slot: self.slot() },
            2 => Op::Close { slot: self.slot() },
            3..=6 => Op::Register {
                slot: self.slot(),
                action: self.action(),
                reg: self.registration(),
                via: match self.byte() % 3 {
                    0 => Via::Poller,
                    1 => Via::Registry,
                    _ => Via::Borrowed,
                },
            },
            7 => Op::SeedAdd {
                slot: self.slot(),
                kind: if self.byte() & 1 == 0 {
                    EventKind::Server
                } else {
                    EventKind::Client
                },
            },
            8 => Op::PeerWrite {
                slot: self.slot(),
                len: self.len(),
            },
            9 => Op::Read {
                slot: self.slot(),
                len: self.len(),
            },
            10 => Op::Fill { slot: self.slot() },
            11 => Op::PeerRead {
                slot: self.slot(),
                len: self.len(),
            },
            12 => Op::PeerShutdown { slot: self.slot() },
            13 => Op::OwnShutdown { slot: self.slot() },
            14 => Op::PeerClose { slot: self.slot() },
            15 | 16 => Op::Wait(match self.byte() % 8 {
                0..=3 => WaitKind::Poll,
                4 | 5 => WaitKind::Seed,
                6 => WaitKind::SeedTimeout,
                _ => WaitKind::Precise(self.u32()),
            }),
            17 => Op::WakeAndWait(LongWait::SeedNegative(self.u32() as i32)),
            18 => Op::Bad {
                fd: match self.byte() % 5 {
                    0 => BadFd::Negative(self.u32() as i32),
                    1 => BadFd::Unopened(self.u32() as i32),
                    2 => BadFd::Closed,
                    3 => BadFd::Own,
                    _ => BadFd::DevNull,
                },
                action: self.action(),
                reg: self.registration(),
            },
            19 => Op::Wake {
                times: self.byte() % 8,
            },
            20 => Op::WakeAndWait(match self.byte() % 4 {
                0 => LongWait::Bounded,
                1 => LongWait::Forever,
                2 => LongWait::Max,
                _ => LongWait::SeedNegative(-1),
            }),
            _ => Op::NewPoller {
                capacity: match self.byte() % 4 {
                    0 => 1,
                    1 => 2,
                    2 => 3,
                    _ => ROOMY,
                },
            },
        }
    }
}
