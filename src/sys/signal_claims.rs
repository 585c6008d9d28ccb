//! Which signals pollio's signal sources hold, process-wide, shared by both backends.
//!
//! A signal source changes state that belongs to the whole process (the signal mask on Linux,
//! the disposition on kqueue). Two sources of one signal, in one poller or two, must not undo
//! each other: the first claim saves what was there and makes the change, the last release
//! puts it back, and the ones in between only count.

use std::io;
use std::sync::{Mutex, PoisonError};

/// Claimed signals: the signal, how many sources hold it, and what the first claim saved.
pub(crate) struct Claims<T> {
    table: Mutex<Vec<(libc::c_int, usize, T)>>,
}

impl<T> Claims<T> {
    pub(crate) const fn new() -> Claims<T> {
        Claims {
            table: Mutex::new(Vec::new()),
        }
    }

    /// Claims `signo`; `first` runs for the first claim only, and its error fails the claim.
    pub(crate) fn claim(
        &self,
        signo: libc::c_int,
        first: impl FnOnce() -> io::Result<T>,
    ) -> io::Result<()> {
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = table.iter_mut().find(|entry| entry.0 == signo) {
            entry.1 += 1;
            return Ok(());
        }
        let saved = first()?;
        table.push((signo, 1, saved));
        Ok(())
    }

    /// Releases one claim of `signo`; `last` gets what the first claim saved when this was
    /// the last one.
    pub(crate) fn release(&self, signo: libc::c_int, last: impl FnOnce(T)) {
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(i) = table.iter().position(|entry| entry.0 == signo) else {
            return;
        };
        table[i].1 -= 1;
        if table[i].1 == 0 {
            let (_, _, saved) = table.swap_remove(i);
            last(saved);
        }
    }
}

/// `EINVAL`, as sigaction(2) answers, for the two signals no program can catch: no kernel
/// reports them to a poller, and signalfd would accept them silently and never report them.
pub(crate) fn check_catchable(signo: libc::c_int) -> io::Result<()> {
    if signo == libc::SIGKILL || signo == libc::SIGSTOP {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    Ok(())
}
