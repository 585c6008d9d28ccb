//! One waiting thread's side of the poll(2) backend: its list of pollfds, built from the table
//! when the table changed, and the loop around poll(2).

use super::notify::NotifyFd;
use super::table::{Interrupt, Table};
use super::{new_event, Selector};
use crate::{word, Event};
use std::io;
use std::mem::MaybeUninit;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The index of the waiter's interrupt in its pollfds.
const INTERRUPT: usize = 0;
/// The index of the waker's descriptor (-1, which poll(2) skips, until there is a waker).
const WAKE: usize = 1;
/// The index of the first registration.
const FIRST: usize = 2;

/// What a waiter knows of the registration behind each of its pollfds.
#[derive(Clone, Copy)]
struct Polled {
    word: u64,
    /// The registration's `Entry::made`.
    made: u64,
    oneshot: bool,
}

impl Polled {
    /// The place of the interrupt and the waker, which are not registrations.
    const NONE: Polled = Polled {
        word: 0,
        made: 0,
        oneshot: false,
    };
}

/// A waiting thread's own state: reused from wait to wait, so waiting allocates nothing once
/// the list has room for every registration.
pub(super) struct Waiter {
    interrupt: Arc<Interrupt>,
    /// The waker's descriptor, as of the last rebuild.
    wake: Option<Arc<NotifyFd>>,
    pollfds: Vec<libc::pollfd>,
    /// `polled[i]` describes `pollfds[i]`.
    polled: Vec<Polled>,
    /// The table generation the lists were built from.
    generation: u64,
    /// Where the next look at the ready pollfds starts: after the last one reported when the
    /// buffer was full, so that level-triggered fds that stay ready take turns, as on epoll's
    /// ready list.
    cursor: usize,
}

impl Waiter {
    pub(super) fn new(interrupt: Arc<Interrupt>) -> Waiter {
        Waiter {
            interrupt,
            wake: None,
            pollfds: Vec::new(),
            polled: Vec::new(),
            // No table has this generation yet (it counts up from 0), so the first wait builds
            // the lists.
            generation: u64::MAX,
            cursor: FIRST,
        }
    }

    /// Waits until something is ready for the caller, the timeout expires or a signal
    /// arrives. A change to the table interrupts poll(2); the loop then polls the new table
    /// for the time left, and returns only with events, on a wake, or at the deadline.
    pub(super) fn wait(
        &mut self,
        selector: &Selector,
        events: &mut Vec<Event>,
        timeout: Option<Duration>,
    ) -> io::Result<()> {
        let deadline = Deadline::new(timeout);
        loop {
            // SeqCst store, then SeqCst load: see `Table::changed`, which does the mirror
            // image (store the generation, then swap `armed`).
            self.interrupt.armed.store(true, Ordering::SeqCst);
            if selector.generation.load(Ordering::SeqCst) != self.generation {
                if let Err(err) = self.rebuild(&selector.lock()) {
                    self.interrupt.armed.store(false, Ordering::Relaxed);
                    return Err(err);
                }
            }
            let polled = poll(&mut self.pollfds, deadline.remaining());
            // Relaxed: it publishes nothing. A change that still sees `true` rings once too
            // often, and the next wait drains that ring.
            self.interrupt.armed.store(false, Ordering::Relaxed);
            match polled {
                // The time given ran out; `passed` below says whether it was the last of it.
                Ok(0) => {}
                Ok(ready) => {
                    self.collect(selector, events, ready as usize);
                    if !events.is_empty() {
                        return Ok(());
                    }
                }
                // A signal: "nothing ready", so the caller's loop runs again.
                Err(err) if err.kind() == io::ErrorKind::Interrupted => return Ok(()),
                Err(err) => return Err(err),
            }
            if deadline.passed() {
                return Ok(());
            }
        }
    }

    /// Builds the pollfds from the table: the interrupt, the waker, then every armed
    /// registration. Allocates only when there are more registrations than ever before.
    fn rebuild(&mut self, table: &Table) -> io::Result<()> {
        let needed = FIRST + table.entries.len();
        self.pollfds.clear();
        self.polled.clear();
        if self.pollfds.capacity() < needed || self.polled.capacity() < needed {
            self.pollfds.try_reserve(needed).map_err(|_| out_of_memory())?;
            self.polled.try_reserve(needed).map_err(|_| out_of_memory())?;
        }
        self.wake.clone_from(&table.wake);
        let wake = self.wake.as_ref().map_or(-1, |wake| wake.polled());
        for fd in [self.interrupt.fd.polled(), wake] {
            self.pollfds.push(pollfd(fd, libc::POLLIN));
            self.polled.push(Polled::NONE);
        }
        for (&fd, entry) in &table.entries {
            if entry.armed {
                self.pollfds.push(pollfd(fd, entry.events));
                self.polled.push(Polled {
                    word: entry.word,
                    made: entry.made,
                    oneshot: entry.oneshot,
                });
            }
        }
        self.generation = table.generation;
        Ok(())
    }

    /// Turns the `ready` pollfds with `revents` into events, at most the buffer's capacity.
    ///
    /// Level and edge registrations are reported straight from the list while the table has
    /// not changed since it was built. The table's lock is taken only for what needs it: a
    /// oneshot event, which is claimed (disarmed) under the lock so that one waiter alone
    /// reports it; an fd that was closed (`POLLNVAL`), whose registration closing ended; and
    /// every event when the table changed during the wait, which is checked against the
    /// registration as it is now.
    fn collect(&mut self, selector: &Selector, events: &mut Vec<Event>, ready: usize) {
        let mut left = ready;
        if self.pollfds[INTERRUPT].revents != 0 {
            // The change it announces is picked up by the next turn of the loop.
            self.interrupt.fd.drain();
            left -= 1;
        }
        if self.pollfds[WAKE].revents != 0 {
            left -= 1;
            // Every waiter polls the waker's descriptor; the one whose read empties it takes
            // the wake (a buffer has room for at least one event, and this is the first).
            if self.wake.as_ref().is_some_and(|wake| wake.drain()) {
                events.push(new_event(word::WAKE, libc::POLLIN));
            }
        }
        // Relaxed: the table is only read under its lock; this compares numbers, and a change
        // that happened before this wait was asked for is seen (coherence).
        let current = selector.generation.load(Ordering::Relaxed) == self.generation;
        let len = self.pollfds.len();
        let start = if self.cursor < len { self.cursor } else { FIRST };
        if current {
            match self.report_plain(start, events, left) {
                Plain::AllDone => return,
                Plain::Full(at) => {
                    // This one goes first next time.
                    self.cursor = at;
                    return;
                }
                Plain::SomeNeedTheLock => {}
            }
        }
        let mut table = selector.lock();
        for i in (start..len).chain(FIRST..start) {
            if left == 0 {
                break;
            }
            let revents = self.pollfds[i].revents;
            if revents == 0 {
                continue;
            }
            left -= 1;
            let polled = self.polled[i];
            let closed = revents & libc::POLLNVAL != 0;
            if current && !closed && !polled.oneshot {
                // Reported by `report_plain`.
                continue;
            }
            if events.len() == events.capacity() {
                self.cursor = i;
                break;
            }
            if closed {
                self.closed(&mut table, selector, i);
            } else if self.claim(&mut table, selector, i) {
                events.push(new_event(polled.word, revents));
            }
        }
    }

    /// Reports the ready level and edge registrations, in the order `collect` looks at them,
    /// without the lock (the table has not changed since the list was built). A oneshot
    /// registration, and an fd that was closed, are left for `collect` to do under the lock.
    fn report_plain(&self, start: usize, events: &mut Vec<Event>, ready: usize) -> Plain {
        let filled = events.len();
        let (plain, added) = self.write_plain(start, events.spare_capacity_mut(), ready);
        // SAFETY: `write_plain` initialised the first `added` slots of the spare capacity,
        // which follow the `filled` events already there.
        unsafe { events.set_len(filled + added) };
        plain
    }

    /// `report_plain`'s loop: writes the events to `out`, the buffer's free slots, and returns
    /// how many it wrote. Writing in place, rather than through `Vec::push` (whose growth path
    /// made the loop keep its values on the stack), and walking the two lists together, took
    /// ready-1k from 52 instructions an event to 29.
    fn write_plain(
        &self,
        start: usize,
        out: &mut [MaybeUninit<Event>],
        ready: usize,
    ) -> (Plain, usize) {
        let mut left = ready;
        let mut added = 0;
        let mut deferred = false;
        'ranges: for (from, end) in [(start, self.pollfds.len()), (FIRST, start)] {
            let mut pairs = self.pollfds[from..end].iter().zip(&self.polled[from..end]);
            for (pollfd, polled) in pairs.by_ref() {
                if pollfd.revents == 0 {
                    continue;
                }
                if pollfd.revents & libc::POLLNVAL != 0 || polled.oneshot {
                    deferred = true;
                } else if let Some(slot) = out.get_mut(added) {
                    slot.write(new_event(polled.word, pollfd.revents));
                    added += 1;
                } else {
                    // The pair just taken is the one that did not fit.
                    return (Plain::Full(end - pairs.len() - 1), added);
                }
                left -= 1;
                if left == 0 {
                    break 'ranges;
                }
            }
        }
        let plain = if deferred {
            Plain::SomeNeedTheLock
        } else {
            Plain::AllDone
        };
        (plain, added)
    }

    /// Whether the registration behind `pollfds[i]` is still the one polled and armed; a
    /// oneshot one is disarmed, so no other waiter reports it too.
    fn claim(&mut self, table: &mut Table, selector: &Selector, i: usize) -> bool {
        let polled = self.polled[i];
        let Some(entry) = table.entries.get_mut(&self.pollfds[i].fd) else {
            return false;
        };
        if entry.made != polled.made || !entry.armed {
            return false;
        }
        if polled.oneshot {
            entry.armed = false;
            self.changed(table, selector, i);
        }
        true
    }

    /// `pollfds[i]` was closed, which ended its registration (if the table still has that
    /// one, and not a newer one for the same number).
    fn closed(&mut self, table: &mut Table, selector: &Selector, i: usize) {
        let fd = self.pollfds[i].fd;
        if table
            .entries
            .get(&fd)
            .is_some_and(|entry| entry.made == self.polled[i].made)
        {
            table.entries.remove(&fd);
            self.changed(table, selector, i);
        }
        // Not polled again by this list, whatever the table says now.
        self.pollfds[i].fd = -1;
    }

    /// This waiter changed the table by dropping `pollfds[i]` from it. If the list was current
    /// before, it is made current again by dropping that pollfd (poll(2) skips negative fds),
    /// instead of being rebuilt on the next wait.
    fn changed(&mut self, table: &mut Table, selector: &Selector, i: usize) {
        let before = table.generation;
        let after = table.changed(&selector.generation);
        if self.generation == before {
            self.generation = after;
            self.pollfds[i].fd = -1;
        }
    }
}

/// A pollfd asking for `events`.
fn pollfd(fd: libc::c_int, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

#[cold]
fn out_of_memory() -> io::Error {
    io::Error::new(
        io::ErrorKind::OutOfMemory,
        "cannot allocate the list of descriptors to poll",
    )
}

/// What `report_plain` left to do.
enum Plain {
    /// Every ready registration was reported.
    AllDone,
    /// The buffer filled up before the registration at this index.
    Full(usize),
    /// Some need the table's lock: oneshot ones, or closed fds.
    SomeNeedTheLock,
}

/// When a wait that may poll several times must end.
struct Deadline {
    /// `None` blocks.
    total: Option<Duration>,
    /// When the wait started, for timeouts that are neither zero nor infinite.
    start: Option<Instant>,
}

impl Deadline {
    fn new(total: Option<Duration>) -> Deadline {
        let start = match total {
            Some(d) if !d.is_zero() => Some(Instant::now()),
            _ => None,
        };
        Deadline { total, start }
    }

    /// The time left; `None` blocks.
    fn remaining(&self) -> Option<Duration> {
        let total = self.total?;
        Some(match self.start {
            Some(start) => total.saturating_sub(start.elapsed()),
            None => total,
        })
    }

    fn passed(&self) -> bool {
        self.remaining().is_some_and(|left| left.is_zero())
    }
}

/// The longest timeout handed to the kernel; longer ones block, as the kqueue backend and
/// FreeBSD treat them, so no kernel is asked for deadline arithmetic near its limits (or
/// handed a `time_t` that overflows on a 32-bit target).
const MAX_SECS: u64 = i32::MAX as u64;

/// ppoll(2): poll(2) with a `timespec`, so a sub-millisecond timeout is kept.
#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "haiku",
    target_os = "hurd",
    target_os = "cygwin",
))]
fn poll(pollfds: &mut [libc::pollfd], timeout: Option<Duration>) -> io::Result<libc::c_int> {
    let timespec = timeout.filter(|d| d.as_secs() <= MAX_SECS).map(|d| {
        // SAFETY: all-zero bytes are a valid timespec. Set field by field, because on some
        // 32-bit targets (OpenHarmony's, musl's) it has private padding.
        let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
        ts.tv_sec = d.as_secs() as libc::time_t;
        ts.tv_nsec = d.subsec_nanos() as _;
        ts
    });
    let timeout_ptr = timespec
        .as_ref()
        .map_or(std::ptr::null(), |ts| ts as *const libc::timespec);
    // SAFETY: `pollfds` is a live, writable array of its length; `timeout_ptr` is null or
    // points to `timespec`, which lives across the call; a null signal mask leaves the mask
    // alone.
    super::super::syscall!(ppoll(
        pollfds.as_mut_ptr(),
        pollfds.len() as libc::nfds_t,
        timeout_ptr,
        std::ptr::null(),
    ))
}

/// poll(2), whose timeout is whole milliseconds: rounded up, so a wait never ends early.
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "haiku",
    target_os = "hurd",
    target_os = "cygwin",
)))]
fn poll(pollfds: &mut [libc::pollfd], timeout: Option<Duration>) -> io::Result<libc::c_int> {
    let ms = match timeout {
        // Longer than an int of milliseconds (24.8 days): that much, then the loop polls again.
        Some(d) if d.as_secs() <= MAX_SECS => {
            i32::try_from(d.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX)
        }
        _ => -1,
    };
    // SAFETY: `pollfds` is a live, writable array of its length.
    super::super::syscall!(poll(
        pollfds.as_mut_ptr(),
        pollfds.len() as libc::nfds_t,
        ms
    ))
}
