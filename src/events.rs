//! `Events`: an event buffer the caller owns, filled by [`Poller::poll_into`].

use crate::{sys, Event};
use std::io;
use std::ops::Deref;

/// A buffer of [`Event`]s that the caller owns and reuses, filled by
/// [`Poller::poll_into`](crate::Poller::poll_into).
///
/// Because the events live apart from the poller, the loop over them can register, modify and
/// delete through the same poller, and several threads can wait on one poller at once, each
/// with its own `Events`. The buffer is allocated once, by the constructor; filling it
/// allocates nothing. It dereferences to `[Event]`.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use pollio::{Events, OsPoller, Poller, Registration};
/// use std::io::Write;
/// use std::os::fd::AsFd;
/// use std::os::unix::net::UnixStream;
/// use std::time::Duration;
///
/// let poller = OsPoller::new()?;
/// let mut events = Events::with_capacity(64)?;
/// let (a, mut b) = UnixStream::pair()?;
/// poller.register(a.as_fd(), Registration::client(1))?;
/// b.write_all(b"x")?;
///
/// poller.poll_into(&mut events, Some(Duration::from_secs(5)))?;
/// for event in &events {
///     // The events borrow `events`, not the poller.
///     poller.deregister(a.as_fd())?;
///     assert_eq!(event.key(), 1);
/// }
/// # Ok(())
/// # }
/// ```
pub struct Events {
    /// The kernel's event buffer: its capacity is the most events one wait returns.
    pub(crate) list: Vec<Event>,
}

impl Events {
    /// The capacity of [`Events::new`]: 1,024 events, as an `OsPoller`'s own buffer.
    pub const DEFAULT_CAPACITY: usize = 1024;

    /// The most events one wait can return: the kernel takes the buffer's length in bytes as a
    /// C `int`.
    pub(crate) const MAX_CAPACITY: usize = i32::MAX as usize / std::mem::size_of::<sys::RawEvent>();

    /// A buffer of [`DEFAULT_CAPACITY`](Self::DEFAULT_CAPACITY) events (12 to 32 KiB,
    /// depending on the platform). As for any `Vec`, a failed allocation aborts the process;
    /// [`with_capacity`](Self::with_capacity) reports it as an error instead.
    pub fn new() -> Events {
        Events {
            list: Vec::with_capacity(Self::DEFAULT_CAPACITY),
        }
    }

    /// A buffer that receives at most `capacity` events per wait; more ready events stay
    /// queued in the kernel for the next wait.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](io::ErrorKind::InvalidInput) for a capacity of 0 or more than the
    /// kernel accepts in one wait; [`OutOfMemory`](io::ErrorKind::OutOfMemory) if the buffer
    /// cannot be allocated.
    pub fn with_capacity(capacity: usize) -> io::Result<Events> {
        Ok(Events {
            list: event_buffer(capacity)?,
        })
    }

    /// The most events one wait stores here.
    pub fn capacity(&self) -> usize {
        self.list.capacity()
    }

    /// The events of the last wait, as a slice (also reachable through `Deref`).
    pub fn as_slice(&self) -> &[Event] {
        &self.list
    }

    /// Empties the buffer, keeping its capacity.
    pub fn clear(&mut self) {
        self.list.clear();
    }
}

/// An empty event buffer of exactly `capacity` entries, checked.
pub(crate) fn event_buffer(capacity: usize) -> io::Result<Vec<Event>> {
    if capacity == 0 || capacity > Events::MAX_CAPACITY {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("an event buffer holds 1..={} events", Events::MAX_CAPACITY),
        ));
    }
    let mut list = Vec::new();
    list.try_reserve_exact(capacity)
        .map_err(|_| out_of_memory())?;
    Ok(list)
}

#[cold]
pub(crate) fn out_of_memory() -> io::Error {
    io::Error::new(
        io::ErrorKind::OutOfMemory,
        "cannot allocate the event buffer",
    )
}

impl Default for Events {
    fn default() -> Events {
        Events::new()
    }
}

impl Deref for Events {
    type Target = [Event];

    fn deref(&self) -> &[Event] {
        &self.list
    }
}

impl<'a> IntoIterator for &'a Events {
    type Item = &'a Event;
    type IntoIter = std::slice::Iter<'a, Event>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("capacity", &self.capacity())
            .field("events", &self.as_slice())
            .finish()
    }
}
