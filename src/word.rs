//! The data word that travels through the kernel with every registration.
//!
//! epoll hands back a `u64` and kqueue a pointer-sized `udata` unchanged, so everything the
//! caller needs to recognise an event is packed into one 64-bit word at registration time and
//! unpacked when the event is read. That keeps the wait path free of locks, tables and
//! allocation.
//!
//! Layout, low bit first:
//!
//! | bits    | field                                                           |
//! |---------|-----------------------------------------------------------------|
//! | 0..=30  | fd (a valid fd is non-negative, so 31 bits hold all of them)    |
//! | 31      | kind: 0 = [`EventKind::Server`], 1 = [`EventKind::Client`]      |
//! | 32..=63 | the caller's 32-bit key                                         |
//!
//! The key fills the high half, so reading it is one load of that half. The kind sits in the
//! low half's sign bit, so the seed API's [`EventObject`](crate::EventObject) comes out of the
//! low half by a sign extension and one mask ([`object_bits`]).

#[cfg(windows)]
use crate::source::RawSource as RawFd;
use crate::EventKind;
#[cfg(unix)]
use std::os::fd::RawFd;

/// The word reserved for the poller's own wake-up source.
///
/// Its fd field is `0x7fff_ffff`; Linux caps descriptors below that (`fs.nr_open` is at most
/// 2,147,483,584) and so do the BSDs, so no registration can produce it.
pub(crate) const WAKE: u64 = u64::MAX;

/// The fd field.
const FD_MASK: u64 = 0x7fff_ffff;

/// The kind bit.
const KIND_SHIFT: u32 = 31;

/// Packs a registration into its kernel data word. `fd` must be non-negative.
#[inline]
pub(crate) const fn pack(fd: RawFd, kind: EventKind, key: u32) -> u64 {
    let kind_bit = match kind {
        EventKind::Server => 0,
        EventKind::Client => 1,
    };
    ((key as u64) << 32) | (kind_bit << KIND_SHIFT) | (fd as u64 & FD_MASK)
}

/// The fd stored in `word`.
#[inline]
pub(crate) const fn fd(word: u64) -> RawFd {
    (word & FD_MASK) as RawFd
}

/// The kind stored in `word`.
#[inline]
pub(crate) const fn kind(word: u64) -> EventKind {
    if (word >> KIND_SHIFT) & 1 == 0 {
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

/// The bytes of the [`EventObject`](crate::EventObject) for `word`, as a native-endian `u64`:
/// the fd in bytes 0..4 (native order), the kind's discriminant in byte 4, zero padding.
///
/// `EventObject` is `#[repr(C)]` over an `i32` and a `#[repr(u8)]` enum whose discriminants
/// are the kind bit's values, so writing these bytes over one is writing
/// `EventObject { fd: fd(word), kind: kind(word) }`. That makes the seed API's conversion one
/// 8-byte store per event instead of two field stores.
#[cfg(unix)]
#[inline]
pub(crate) const fn object_bits(word: u64) -> u64 {
    if cfg!(target_endian = "little") {
        object_bits_le(word)
    } else {
        object_bits_be(word)
    }
}

/// The byte of an `EventObject` that holds the kind, as a bit offset in a little-endian `u64`.
#[cfg(unix)]
const KIND_BYTE_LE: u32 = 32;

/// The same byte in a big-endian `u64`.
#[cfg(unix)]
const KIND_BYTE_BE: u32 = 24;

/// [`object_bits`] for little-endian targets.
#[cfg(unix)]
#[inline]
const fn object_bits_le(word: u64) -> u64 {
    // Sign-extending the low half copies the kind bit into bits 32..=63; the mask keeps the fd
    // and the copy at bit 32, the low bit of byte 4.
    (word as u32 as i32 as i64 as u64) & (FD_MASK | 1 << KIND_BYTE_LE)
}

/// [`object_bits`] for big-endian targets: the fd's bytes are the high half.
#[cfg(unix)]
#[inline]
const fn object_bits_be(word: u64) -> u64 {
    ((word & FD_MASK) << 32) | ((word >> KIND_SHIFT) & 1) << KIND_BYTE_BE
}

// The tests take fds as `i32` and `EventObject` as Unix lays it out.
#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::EventObject;

    const FDS: [RawFd; 6] = [0, 1, 1023, 0x4000_0000, i32::MAX - 64, i32::MAX - 1];
    const KEYS: [u32; 6] = [0, 1, 0x7fff_ffff, 0x8000_0000, 0xdead_beef, u32::MAX];
    const KINDS: [EventKind; 2] = [EventKind::Server, EventKind::Client];

    #[test]
    fn round_trips_extremes() {
        for fd in FDS {
            for kind in KINDS {
                for key in KEYS {
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

    #[test]
    fn fields_do_not_overlap() {
        // Each field set to all ones alone leaves the others at their zero value.
        let fd_only = pack(i32::MAX, EventKind::Server, 0);
        assert_eq!((kind(fd_only), key(fd_only)), (EventKind::Server, 0));
        let kind_only = pack(0, EventKind::Client, 0);
        assert_eq!((fd(kind_only), key(kind_only)), (0, 0));
        let key_only = pack(0, EventKind::Server, u32::MAX);
        assert_eq!((fd(key_only), kind(key_only)), (0, EventKind::Server));
    }

    #[test]
    fn wake_word_is_not_a_real_descriptor() {
        // Only fd 0x7fff_ffff, client, key u32::MAX packs to WAKE, and no kernel hands out
        // that fd.
        assert_eq!(pack(i32::MAX, EventKind::Client, u32::MAX), WAKE);
        assert_eq!(fd(WAKE), i32::MAX);
    }

    /// The bytes `object_bits` promises, in the byte order `order` gives an i32.
    fn expected_bytes(fd: RawFd, kind: EventKind, order: fn(i32) -> [u8; 4]) -> [u8; 8] {
        let f = order(fd);
        [f[0], f[1], f[2], f[3], kind as u8, 0, 0, 0]
    }

    #[test]
    fn object_bits_are_the_event_objects_bytes() {
        // EventObject's layout, which the bytes are written over: an i32 then a u8 that is the
        // kind's discriminant (repr(C) puts it at offset 4).
        assert_eq!(std::mem::size_of::<EventObject>(), 8);
        assert_eq!(std::mem::align_of::<EventObject>(), 4);
        assert_eq!((EventKind::Server as u8, EventKind::Client as u8), (0, 1));
        for fd in FDS {
            for kind in KINDS {
                for key in KEYS {
                    let w = pack(fd, kind, key);
                    let le = expected_bytes(fd, kind, i32::to_le_bytes);
                    let be = expected_bytes(fd, kind, i32::to_be_bytes);
                    assert_eq!(object_bits_le(w).to_le_bytes(), le, "{fd} {key}");
                    assert_eq!(object_bits_be(w).to_be_bytes(), be, "{fd} {key}");
                    let native = expected_bytes(fd, kind, i32::to_ne_bytes);
                    assert_eq!(object_bits(w).to_ne_bytes(), native, "{fd} {key}");
                }
            }
        }
    }
}
