//! Timers on Windows, kept by the poller itself: a table of deadlines that every wait consults.
//!
//! A wait never sleeps past the earliest deadline (the port's wait gets the shorter of the
//! caller's timeout and the time left to it), and each wait first fires the timers that are due:
//! it adds their expirations to their counts and reports one event for each, carrying the
//! registration's word, as a timerfd registered edge-triggered does on Linux. Setting or
//! cancelling a timer from another thread posts a completion to the port (at most one pending
//! at a time), so a blocked wait takes it and looks at the table again.
//!
//! Deadlines are kept to the nanosecond, but the port's wait takes whole milliseconds, rounded
//! up: a timer never fires early, and fires up to a millisecond (plus scheduling) late.

use super::afd::{PostQueuedCompletionStatus, HANDLE};
use super::{RawEvent, Selector};
use crate::timer::Expiry;
use crate::{Event, Registration};
use std::collections::{BTreeSet, HashMap};
use std::io;
use std::os::windows::io::RawSocket;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The completion key of the packets that make a wait look at the timers again.
pub(super) const TIMER_KEY: usize = 2;

/// The flag of a timer's event (no `AFD_POLL_*` condition uses it): readable, as a timerfd.
pub(super) const TIMER_EXPIRED: u32 = 1 << 31;

/// The timers of one poller, shared by the selector and every `TimerSource`.
pub(super) struct TimerTable {
    timers: Mutex<Timers>,
    /// Set by the first change after a wait took the last posted packet, cleared when a wait
    /// takes the packet: changes in between need no other packet.
    kicked: AtomicBool,
    /// The selector's completion port, which outlives every `TimerSource` (a `Timer` holds
    /// the poller's shared state).
    port: usize,
}

#[derive(Default)]
struct Timers {
    next_id: u64,
    states: HashMap<u64, TimerState>,
    /// The armed timers, earliest deadline first.
    deadlines: BTreeSet<(Instant, u64)>,
    /// Timers that expired since their last event: each gets one event, while a wait has room.
    due: Vec<u64>,
}

struct TimerState {
    word: u64,
    deadline: Option<Instant>,
    period: Option<Duration>,
    /// Expirations not yet read by `expirations`.
    count: u64,
    /// In `Timers::due`.
    due: bool,
}

impl TimerTable {
    pub(super) fn new(port: HANDLE) -> TimerTable {
        TimerTable {
            timers: Mutex::new(Timers::default()),
            kicked: AtomicBool::new(false),
            port: port as usize,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Timers> {
        // Every update leaves the table consistent before anything that could panic.
        self.timers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes a blocked wait look at the table again.
    fn kick(&self) -> io::Result<()> {
        // AcqRel: the Release half publishes the table change made before it (under the
        // mutex) to the wait whose swap in `taken_kick` reads this `true`; the Acquire half
        // pairs with that swap's Release, so a `false` read here means the wait has taken the
        // last packet and will not see this change without a new one.
        if self.kicked.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        // SAFETY: the port is open for as long as this table is reachable (see `port`); a
        // posted packet carries no buffer.
        let ok = unsafe {
            PostQueuedCompletionStatus(self.port as HANDLE, 0, TIMER_KEY, ptr::null_mut())
        };
        if ok == 0 {
            // No packet is coming: let the next change try again. Relaxed: nothing is
            // published through it, and the next swap reads it whatever the order.
            self.kicked.store(false, Ordering::Relaxed);
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// A wait took a packet posted by `kick`.
    pub(super) fn taken_kick(&self) {
        // AcqRel: pairs with the swap in `kick` (see there).
        self.kicked.swap(false, Ordering::AcqRel);
    }

    /// Fires the timers that are due and pushes one event for each expired timer while
    /// `events` has room; returns the time left to the earliest deadline, if any timer is armed.
    pub(super) fn fire(&self, events: &mut Vec<Event>) -> Option<Duration> {
        let mut timers = self.lock();
        if timers.states.is_empty() {
            return None;
        }
        let timers = &mut *timers;
        let now = Instant::now();
        while let Some(&(deadline, id)) = timers.deadlines.first() {
            if deadline > now {
                break;
            }
            timers.deadlines.pop_first();
            let state = timers
                .states
                .get_mut(&id)
                .expect("armed timers have a state");
            match state.period {
                None => {
                    state.count = state.count.saturating_add(1);
                    state.deadline = None;
                }
                Some(period) => {
                    // Every period that has ended by now counts, late waits included.
                    let steps = (now - deadline).as_nanos() / period.as_nanos() + 1;
                    state.count = state
                        .count
                        .saturating_add(u64::try_from(steps).unwrap_or(u64::MAX));
                    let advance = period.as_nanos().saturating_mul(steps);
                    let next = u64::try_from(advance)
                        .ok()
                        .and_then(|ns| deadline.checked_add(Duration::from_nanos(ns)));
                    state.deadline = next;
                    if let Some(next) = next {
                        timers.deadlines.insert((next, id));
                    }
                }
            }
            if !state.due {
                state.due = true;
                timers.due.push(id);
            }
        }
        while events.len() < events.capacity() {
            let Some(id) = timers.due.pop() else {
                break;
            };
            // A timer set again, cancelled or dropped since it expired is no longer due.
            let Some(state) = timers.states.get_mut(&id).filter(|state| state.due) else {
                continue;
            };
            state.due = false;
            events.push(Event(RawEvent {
                word: state.word,
                flags: TIMER_EXPIRED,
            }));
        }
        if !timers.due.is_empty() {
            return Some(Duration::ZERO); // more to report at once
        }
        timers
            .deadlines
            .first()
            .map(|&(deadline, _)| deadline.saturating_duration_since(now))
    }
}

/// One timer of the table.
pub(crate) struct TimerSource {
    table: Arc<TimerTable>,
    id: u64,
}

impl TimerSource {
    pub(crate) fn new(selector: &Selector, registration: Registration) -> io::Result<TimerSource> {
        let table = Arc::clone(&selector.timers);
        let mut timers = table.lock();
        let id = timers.next_id;
        // An odd number stands for the timer where a socket would be: socket handles are
        // multiples of four, so an event's `fd()` never names a socket for a timer.
        let word = registration.word_for((id << 1 | 1) as RawSocket, true)?;
        timers.next_id += 1;
        timers.states.insert(
            id,
            TimerState {
                word,
                deadline: None,
                period: None,
                count: 0,
                due: false,
            },
        );
        drop(timers);
        Ok(TimerSource { table, id })
    }

    /// Arms the timer, first at `first`, then every `period` if there is one; forgets
    /// expirations not read yet, as `timerfd_settime` does.
    pub(crate) fn arm(&self, first: Expiry, period: Option<Duration>) -> io::Result<()> {
        let deadline = match first {
            Expiry::After(after) => Instant::now().checked_add(after),
            Expiry::At(at) => Some(at),
        };
        self.set(deadline, period)
    }

    pub(crate) fn disarm(&self) -> io::Result<()> {
        self.set(None, None)
    }

    fn set(&self, deadline: Option<Instant>, period: Option<Duration>) -> io::Result<()> {
        {
            let mut guard = self.table.lock();
            let timers = &mut *guard;
            let state = timers
                .states
                .get_mut(&self.id)
                .expect("a live source has a state");
            if let Some(old) = state.deadline {
                timers.deadlines.remove(&(old, self.id));
            }
            // (A deadline too far to represent never comes: the timer stays unarmed.)
            state.deadline = deadline;
            state.period = period;
            state.count = 0;
            state.due = false;
            if let Some(deadline) = deadline {
                timers.deadlines.insert((deadline, self.id));
            }
        }
        self.table.kick()
    }

    /// Takes the count of expirations since the last call: 0 when there was none (the event
    /// was reported before a re-arm or a cancel).
    pub(crate) fn expirations(&self, _event: &Event) -> io::Result<u64> {
        let mut timers = self.table.lock();
        let state = timers
            .states
            .get_mut(&self.id)
            .expect("a live source has a state");
        Ok(std::mem::take(&mut state.count))
    }

    pub(crate) fn deregister(&self, _selector: &Selector) {
        let mut timers = self.table.lock();
        if let Some(state) = timers.states.remove(&self.id) {
            if let Some(deadline) = state.deadline {
                timers.deadlines.remove(&(deadline, self.id));
            }
        }
    }
}
