//! Turning the caller's timeout into what the kernel call takes.

use std::time::Duration;

/// A validated wait timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timeout {
    /// Block until something is ready.
    Forever,
    /// Whole milliseconds, `0..=i32::MAX`: every backend takes these in one call.
    Millis(i32),
    /// A duration with a sub-millisecond part, or too long for an `i32` of milliseconds.
    Precise(Duration),
}

impl Timeout {
    /// The seed API's `timeout_ms`: 0 polls, a positive value is milliseconds, and every
    /// negative value blocks, as it did in pollio 0.1.3 (which passed it to `epoll_wait`).
    #[inline]
    pub(crate) fn from_millis(timeout_ms: i32) -> Timeout {
        if timeout_ms < 0 {
            Timeout::Forever
        } else {
            Timeout::Millis(timeout_ms)
        }
    }

    /// `None` blocks; a duration too long for the kernel's `timespec` also blocks.
    #[inline]
    pub(crate) fn from_duration(timeout: Option<Duration>) -> Timeout {
        let Some(d) = timeout else {
            return Timeout::Forever;
        };
        if d.subsec_nanos() % 1_000_000 == 0 {
            if let Ok(ms) = i32::try_from(d.as_millis()) {
                return Timeout::Millis(ms);
            }
        }
        if d.as_secs() > i64::MAX as u64 {
            return Timeout::Forever;
        }
        Timeout::Precise(d)
    }

    /// The timeout as a duration; `None` blocks. (For the poll(2) backend; Windows converts
    /// timeouts its own way.)
    #[cfg(unix)]
    #[inline]
    pub(crate) fn duration(self) -> Option<Duration> {
        match self {
            Timeout::Forever => None,
            Timeout::Millis(ms) => Some(Duration::from_millis(u64::from(ms.unsigned_abs()))),
            Timeout::Precise(d) => Some(d),
        }
    }

    /// The timeout in whole milliseconds for a call that takes nothing finer, rounded up so a
    /// wait never ends early; -1 (block) when it does not fit in an `i32`.
    pub(crate) fn ceil_millis(self) -> i32 {
        match self {
            Timeout::Forever => -1,
            Timeout::Millis(ms) => ms,
            Timeout::Precise(d) => {
                let ms = d.as_nanos().div_ceil(1_000_000);
                i32::try_from(ms).unwrap_or(-1)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_values() {
        assert_eq!(Timeout::from_millis(0), Timeout::Millis(0));
        assert_eq!(Timeout::from_millis(5), Timeout::Millis(5));
        assert_eq!(Timeout::from_millis(i32::MAX), Timeout::Millis(i32::MAX));
        for negative in [-1, -2, -1000, i32::MIN] {
            assert_eq!(
                Timeout::from_millis(negative),
                Timeout::Forever,
                "{negative}"
            );
        }
    }

    #[test]
    fn durations() {
        assert_eq!(Timeout::from_duration(None), Timeout::Forever);
        assert_eq!(
            Timeout::from_duration(Some(Duration::ZERO)),
            Timeout::Millis(0)
        );
        assert_eq!(
            Timeout::from_duration(Some(Duration::from_millis(7))),
            Timeout::Millis(7)
        );
        let sub = Duration::from_micros(100);
        assert_eq!(Timeout::from_duration(Some(sub)), Timeout::Precise(sub));
        assert_eq!(
            Timeout::from_duration(Some(Duration::MAX)),
            Timeout::Forever
        );
        let long = Duration::from_secs(40 * 24 * 3600);
        assert_eq!(Timeout::from_duration(Some(long)), Timeout::Precise(long));
    }

    #[test]
    fn rounding_is_up_never_down() {
        let t = |d| Timeout::from_duration(Some(d)).ceil_millis();
        assert_eq!(t(Duration::from_nanos(1)), 1);
        assert_eq!(t(Duration::from_micros(100)), 1);
        assert_eq!(t(Duration::from_micros(1_001)), 2);
        assert_eq!(t(Duration::from_secs(40 * 24 * 3600)), -1);
        assert_eq!(Timeout::Forever.ceil_millis(), -1);
    }
}
