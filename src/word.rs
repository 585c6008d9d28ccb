//! The data word that travels through the kernel with every registration.
//!
//! epoll hands back a `u64` and kqueue a pointer-sized `udata` unchanged, so everything the
//! caller needs to recognise an event is packed into one 64-bit word at registration time and
//! unpacked when the event is read. That keeps the wait path free of locks, tables and
//! allocation.
//!
//! Layout, low bit first:
//!
//! | bits   | field                                                           |
//! |--------|-----------------------------------------------------------------|
//! | 0      | kind: 0 = [`EventKind::Server`], 1 = [`EventKind::Client`]      |
//! | 1..=31 | fd (a valid fd is non-negative, so 31 bits hold all of them)    |
//! | 32..=63| the caller's 32-bit key                                         |

use crate::EventKind;
use std::os::fd::RawFd;

/// The word reserved for the poller's own wake-up source.
///
/// Its fd field is `0x7fff_ffff`; Linux caps descriptors below that (`fs.nr_open` is at most
/// 2,147,483,584) and so do the BSDs, so no registration can produce it.
pub(crate) const WAKE: u64 = u64::MAX;

/// Packs a registration into its kernel data word. `fd` must be non-negative.
#[inline]
pub(crate) const fn pack(fd: RawFd, kind: EventKind, key: u32) -> u64 {
    let kind_bit = match kind {
        EventKind::Server => 0,
        EventKind::Client => 1,
    };
    ((key as u64) << 32) | ((fd as u32 as u64) << 1) | kind_bit
}

/// The fd stored in `word`.
#[inline]
pub(crate) const fn fd(word: u64) -> RawFd {
    ((word as u32) >> 1) as RawFd
}

/// The kind stored in `word`.
#[inline]
pub(crate) const fn kind(word: u64) -> EventKind {
    if word & 1 == 0 {
        EventKind::Server
    } else {
        EventKind::Client
    }
}

/// The caller's key stored in `word`.
#[inline]
pub(crate) const fn key(word: u64) -> u32 {
    (word >> 32) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_extremes() {
        for fd in [0, 1, 1023, i32::MAX - 64] {
            for kind in [EventKind::Server, EventKind::Client] {
                for key in [0, 1, 0xdead_beef, u32::MAX] {
                    let w = pack(fd, kind, key);
                    assert_eq!(
                        (super::fd(w), super::kind(w), super::key(w)),
                        (fd, kind, key)
                    );
                    assert_ne!(w, WAKE);
                }
            }
        }
    }
}
