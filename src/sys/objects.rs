//! The seed API's view of a wait: the kernel's events as [`EventObject`]s.

use super::event_word;
use crate::{word, Event, EventObject};

// `word::object_bits` gives an EventObject's eight bytes; this is the size they fill.
const _: () = assert!(std::mem::size_of::<EventObject>() == std::mem::size_of::<u64>());

/// Replaces the contents of `objects` with the object of each of `events`, in order.
///
/// Allocates only when `objects` has room for fewer than `events.len()` objects; the poller
/// sizes it once for its largest wait, so this never allocates there.
///
/// Inlined into the seed `wait`, and so into its callers: no event and one event (the common
/// results of a wait) take a few instructions here, and more go to one shared loop.
#[inline(always)]
pub(crate) fn fill_objects(events: &[Event], objects: &mut Vec<EventObject>) {
    if objects.capacity() < events.len() {
        grow(objects, events.len());
    }
    let out = objects.as_mut_ptr();
    match events {
        [] => {}
        // SAFETY: the vector has room for one object.
        [event] => unsafe { write_object(out, event) },
        // SAFETY: the vector has room for `events.len()` objects.
        _ => unsafe { write_objects(out, events) },
    }
    // SAFETY: the first `events.len()` slots now hold valid EventObjects (see write_object),
    // and they are within the capacity.
    unsafe { objects.set_len(events.len()) };
}

/// Makes room for `len` objects in `objects`, dropping its contents.
#[cold]
#[inline(never)]
fn grow(objects: &mut Vec<EventObject>, len: usize) {
    objects.clear();
    objects.reserve_exact(len);
}

/// Writes the object of `event` to `out`.
///
/// It is one 8-byte store of [`word::object_bits`], where writing the struct field by field
/// takes two stores and a shift more.
///
/// # Safety
///
/// `out` must be valid for writing one `EventObject`.
#[inline(always)]
unsafe fn write_object(out: *mut EventObject, event: &Event) {
    let bits = word::object_bits(event_word(&event.0));
    // SAFETY: the caller gives 8 writable bytes (an EventObject's size, asserted above); the
    // write is unaligned because an EventObject is only 4-aligned. The bytes are a valid
    // EventObject: `object_bits` gives an fd, then a kind discriminant (0 or 1, the values of
    // `#[repr(u8)] EventKind`) at the kind's offset in `#[repr(C)] EventObject`, and zero
    // padding.
    unsafe { out.cast::<u64>().write_unaligned(bits) };
}

/// Writes the object of each of `events` to `out`, in order.
///
/// Out of line, so that callers of the seed `wait` carry one copy of the loop between them.
/// Sixteen events at a time: that spreads the loop's own four instructions over sixteen
/// conversions of three each, 3.25 instructions an event (LLVM unrolls a plain loop four
/// times, 4 an event; eight at a time is 3.5).
///
/// # Safety
///
/// `out` must be valid for writing `events.len()` `EventObject`s.
#[inline(never)]
unsafe fn write_objects(out: *mut EventObject, events: &[Event]) {
    let mut chunks = events.chunks_exact(16);
    let mut at = out;
    for chunk in &mut chunks {
        for event in chunk {
            // SAFETY: one slot per event, and the caller gives `events.len()` slots.
            unsafe {
                write_object(at, event);
                at = at.add(1);
            }
        }
    }
    for event in chunks.remainder() {
        // SAFETY: as above.
        unsafe {
            write_object(at, event);
            at = at.add(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventKind;
    use std::os::fd::RawFd;

    /// Events carrying `words`, in the backend's own format.
    fn events(words: &[u64]) -> Vec<Event> {
        words.iter().map(|&w| super::super::test_event(w)).collect()
    }

    #[test]
    fn objects_match_the_words() {
        let regs: [(RawFd, EventKind, u32); 5] = [
            (0, EventKind::Server, 0),
            (3, EventKind::Client, u32::MAX),
            (1023, EventKind::Server, 0x8000_0000),
            (i32::MAX - 1, EventKind::Client, 0xdead_beef),
            (i32::MAX - 1, EventKind::Server, 1),
        ];
        let words: Vec<u64> = regs
            .iter()
            .map(|&(f, k, key)| word::pack(f, k, key))
            .collect();
        let expected: Vec<EventObject> = regs
            .iter()
            .map(|&(fd, kind, _)| EventObject { fd, kind })
            .collect();
        let mut objects = vec![EventObject::client(99); 7];
        fill_objects(&events(&words), &mut objects);
        assert_eq!(objects, expected);

        // Fewer events than before: the old objects are gone, not kept past the new ones.
        fill_objects(&events(&words[1..2]), &mut objects);
        assert_eq!(objects, expected[1..2]);
        fill_objects(&[], &mut objects);
        assert!(objects.is_empty());
    }

    #[test]
    fn every_count_around_the_loops_chunks() {
        // 0 and 1 take the inline paths; the loop takes the rest in chunks of 8 and a
        // remainder.
        for n in 0..=33 {
            let regs: Vec<(RawFd, EventKind)> = (0..n)
                .map(|i| {
                    let kind = [EventKind::Server, EventKind::Client][i % 2];
                    (i as RawFd * 1000, kind)
                })
                .collect();
            let words: Vec<u64> = regs
                .iter()
                .map(|&(fd, kind)| word::pack(fd, kind, fd as u32))
                .collect();
            let mut objects = Vec::new();
            fill_objects(&events(&words), &mut objects);
            let expected: Vec<EventObject> = regs
                .iter()
                .map(|&(fd, kind)| EventObject { fd, kind })
                .collect();
            assert_eq!(objects, expected, "{n} events");
        }
    }
}
