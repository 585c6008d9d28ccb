//! Timers: never early, counted when late, re-armable and cancellable, precise below a
//! millisecond, with keys and tokens like any registration.

use crate::support::{backend_of, PATIENCE};
use pollio::{Backend, Events, Poller, Registration, Timer};
use std::io;
use std::thread;
use std::time::{Duration, Instant};

/// One-shot timeouts checked for their lower bound, with how often each is tried.
const LOWER_BOUNDS: [(Duration, usize); 5] = [
    (Duration::from_micros(100), 20),
    (Duration::from_micros(999), 5),
    (Duration::from_millis(1), 5),
    (Duration::from_micros(1_500), 5),
    (Duration::from_millis(20), 2),
];

/// Waits (at most `PATIENCE`) for events that count at least one expiration of `timer`, and
/// returns how many they count.
fn fired<P: Poller>(poller: &P, timer: &Timer, events: &mut Events) -> u64 {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no timer event in {PATIENCE:?}");
        poller.poll_into(events, Some(left)).expect("poll_into");
        let count: u64 = events
            .iter()
            .map(|event| timer.expirations(event).expect("expirations"))
            .sum();
        if count > 0 {
            return count;
        }
    }
}

/// Expirations of `timer` reported within `window`.
fn fired_within<P: Poller>(poller: &P, timer: &Timer, window: Duration) -> u64 {
    let mut events = Events::new();
    let deadline = Instant::now() + window;
    let mut count = 0;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return count;
        }
        poller
            .poll_into(&mut events, Some(left))
            .expect("poll_into");
        for event in &events {
            count += timer.expirations(event).expect("expirations");
        }
    }
}

/// `set_after` never fires before its duration, and the event carries the key.
pub fn set_after_never_fires_early<P: Poller>() {
    let poller = P::new().expect("new");
    let timer = poller.timer(Registration::client(5)).expect("timer");
    let mut events = Events::new();
    for (after, tries) in LOWER_BOUNDS {
        for _ in 0..tries {
            let start = Instant::now();
            timer.set_after(after).expect("set_after");
            assert_eq!(fired(&poller, &timer, &mut events), 1);
            let waited = start.elapsed();
            assert!(waited >= after, "{after:?} fired after {waited:?}");
            assert_eq!(events.len(), 1, "{events:?}");
            assert_eq!(events[0].key(), 5);
            assert!(events[0].readiness().is_readable());
        }
    }
}

/// `set_at` never fires before its deadline; a deadline in the past fires at once.
pub fn set_at_never_fires_early<P: Poller>() {
    let poller = P::new().expect("new");
    let timer = poller.timer(Registration::client(6)).expect("timer");
    let mut events = Events::new();
    for (after, tries) in LOWER_BOUNDS {
        for _ in 0..tries {
            let deadline = Instant::now() + after;
            timer.set_at(deadline).expect("set_at");
            assert_eq!(fired(&poller, &timer, &mut events), 1);
            let now = Instant::now();
            assert!(now >= deadline, "fired {:?} early", deadline - now);
        }
    }
    let past = Instant::now().checked_sub(Duration::from_secs(1));
    timer
        .set_at(past.unwrap_or_else(Instant::now))
        .expect("set_at");
    assert_eq!(fired(&poller, &timer, &mut events), 1);
}

/// A 100 µs timer fires well before a millisecond has passed, where the kernel counts
/// nanoseconds (every platform but OpenBSD and DragonFly, which count milliseconds). On
/// Windows only the lower bound is checked: its waits take whole milliseconds, but a port's
/// wait may end sooner (Wine's does), and the timer then fires as soon as a wait sees it due.
pub fn fires_below_a_millisecond<P: Poller>() {
    let poller = P::new().expect("new");
    let timer = poller.timer(Registration::client(1)).expect("timer");
    let mut events = Events::new();
    let after = Duration::from_micros(100);
    // Noise only adds time: the shortest of several runs is a bound a busy machine keeps.
    let shortest = (0..20)
        .map(|_| {
            let start = Instant::now();
            timer.set_after(after).expect("set_after");
            fired(&poller, &timer, &mut events);
            start.elapsed()
        })
        .min()
        .expect("runs");
    assert!(shortest >= after, "{shortest:?}");
    if cfg!(any(target_os = "openbsd", target_os = "dragonfly")) {
        assert!(shortest >= Duration::from_millis(1), "{shortest:?}");
    } else if cfg!(not(windows)) {
        assert!(shortest < Duration::from_millis(1), "{shortest:?}");
    }
}

/// A periodic timer's expirations that elapse before a late wait are counted, never more
/// than the time allows.
pub fn periodic_counts_accumulate_across_a_late_wait<P: Poller>() {
    let poller = P::new().expect("new");
    let timer = poller.timer(Registration::client(2)).expect("timer");
    let period = Duration::from_millis(2);
    let start = Instant::now();
    timer.set_every(period).expect("set_every");
    // The loop is busy elsewhere: the condition under test, not synchronisation.
    thread::sleep(Duration::from_millis(30));
    let mut events = Events::new();
    let count = fired(&poller, &timer, &mut events);
    let most = start.elapsed().as_nanos() / period.as_nanos();
    assert!(count >= 2, "only {count} expirations counted after 30 ms");
    assert!(
        u128::from(count) <= most,
        "{count} expirations in {most} periods"
    );
    // It keeps firing.
    assert!(fired(&poller, &timer, &mut events) >= 1);
    timer.cancel().expect("cancel");
}

/// Setting a timer again replaces its expiry, both earlier and later.
pub fn rearm_replaces_the_expiry<P: Poller>() {
    let poller = P::new().expect("new");
    let timer = poller.timer(Registration::client(3)).expect("timer");
    let mut events = Events::new();
    timer
        .set_after(Duration::from_secs(3600))
        .expect("set_after");
    let start = Instant::now();
    timer.set_after(Duration::from_millis(1)).expect("earlier");
    assert_eq!(fired(&poller, &timer, &mut events), 1);
    assert!(start.elapsed() < PATIENCE);

    timer
        .set_after(Duration::from_millis(1))
        .expect("set_after");
    timer.set_after(Duration::from_secs(3600)).expect("later");
    assert_eq!(fired_within(&poller, &timer, Duration::from_millis(30)), 0);

    timer.set_every(Duration::from_millis(1)).expect("periodic");
    timer
        .set_after(Duration::from_millis(2))
        .expect("one-shot again");
    let mut events = Events::new();
    assert!(fired(&poller, &timer, &mut events) >= 1);
    assert_eq!(fired_within(&poller, &timer, Duration::from_millis(30)), 0);
}

/// A cancelled timer does not fire, and can be set again.
pub fn cancel_disarms<P: Poller>() {
    let poller = P::new().expect("new");
    let timer = poller.timer(Registration::client(4)).expect("timer");
    timer
        .set_after(Duration::from_millis(5))
        .expect("set_after");
    timer.cancel().expect("cancel");
    assert_eq!(fired_within(&poller, &timer, Duration::from_millis(30)), 0);

    timer
        .set_every(Duration::from_millis(1))
        .expect("set_every");
    let mut events = Events::new();
    assert!(fired(&poller, &timer, &mut events) >= 1);
    timer.cancel().expect("cancel periodic");
    assert_eq!(fired_within(&poller, &timer, Duration::from_millis(30)), 0);
    timer.cancel().expect("cancel twice");

    timer.set_after(Duration::ZERO).expect("set again");
    assert_eq!(fired(&poller, &timer, &mut events), 1);
}

/// Timers carry keys and tokens, each its own.
pub fn keys_and_tokens<P: Poller>() {
    let poller = P::new().expect("new");
    let token = 0x0123_4567_89ab_cdef;
    let keyed = poller.timer(Registration::server(11)).expect("keyed");
    let tokened = poller
        .timer(Registration::from_token(token))
        .expect("tokened");
    keyed.set_after(Duration::from_millis(1)).expect("set");
    tokened.set_after(Duration::from_millis(1)).expect("set");
    let (mut key_seen, mut token_seen) = (false, false);
    let mut events = Events::new();
    let deadline = Instant::now() + PATIENCE;
    while !(key_seen && token_seen) {
        assert!(
            Instant::now() < deadline,
            "key {key_seen}, token {token_seen}"
        );
        poller
            .poll_into(&mut events, Some(PATIENCE))
            .expect("poll_into");
        for event in &events {
            if event.token() == token {
                token_seen |= tokened.expirations(event).expect("count") == 1;
            } else {
                assert_eq!((event.kind(), event.key()), (pollio::EventKind::Server, 11));
                key_seen |= keyed.expirations(event).expect("count") == 1;
            }
        }
    }
}

/// A timer made and set from another thread while this one waits wakes that wait.
pub fn timer_from_another_thread_wakes_a_wait<P: Poller>() {
    let poller = P::new().expect("new");
    let registry = poller.registry().expect("registry");
    let maker = thread::spawn(move || -> io::Result<Timer> {
        let timer = registry.timer(Registration::client(21))?;
        timer.set_after(Duration::from_millis(20))?;
        Ok(timer)
    });
    let mut events = Events::new();
    let deadline = Instant::now() + PATIENCE;
    while events.is_empty() {
        assert!(
            Instant::now() < deadline,
            "no event from the other thread's timer"
        );
        poller
            .poll_into(&mut events, Some(PATIENCE))
            .expect("poll_into");
    }
    let timer = maker.join().expect("thread").expect("timer");
    assert_eq!(events[0].key(), 21);
    assert_eq!(timer.expirations(&events[0]).expect("count"), 1);
}

/// Dropping a timer deregisters it: an armed timer dropped does not fire.
pub fn drop_deregisters<P: Poller>() {
    let poller = P::new().expect("new");
    let timer = poller.timer(Registration::client(8)).expect("timer");
    timer
        .set_every(Duration::from_millis(1))
        .expect("set_every");
    drop(timer);
    let mut events = Events::new();
    let deadline = Instant::now() + Duration::from_millis(30);
    while Instant::now() < deadline {
        poller
            .poll_into(&mut events, Some(Duration::from_millis(10)))
            .expect("poll_into");
        assert!(events.is_empty(), "{events:?}");
    }
}

/// pollio's own refusals: a zero period, and the reserved token.
pub fn refusals<P: Poller>() {
    let poller = P::new().expect("new");
    let timer = poller.timer(Registration::client(1)).expect("timer");
    let err = timer.set_every(Duration::ZERO).expect_err("zero period");
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    let err = poller
        .timer(Registration::from_token(u64::MAX))
        .expect_err("reserved token");
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
}

/// An expiration nobody reads: epoll and kqueue report it once, as an edge; the poll(2) backend,
/// which reports edge-triggered fds as level-triggered ones, reports it on every wait until
/// `expirations` reads it, and then no more.
pub fn an_unread_expiration_repeats_only_on_poll<P: Poller>() {
    let poller = P::new().expect("new");
    let timer = poller.timer(Registration::client(12)).expect("timer");
    timer.set_after(Duration::ZERO).expect("set_after");
    let mut events = Events::new();
    let deadline = Instant::now() + PATIENCE;
    while events.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no timer event in {PATIENCE:?}");
        poller.poll_into(&mut events, Some(left)).expect("poll_into");
    }
    assert_eq!(events.iter().map(|e| e.key()).collect::<Vec<_>>(), [12]);
    let window = Some(Duration::from_millis(20));
    poller.poll_into(&mut events, window).expect("poll_into");
    if backend_of::<P>() == Backend::Poll {
        let again: Vec<u32> = events.iter().map(|e| e.key()).collect();
        assert_eq!(again, [12], "unread, so reported again");
        let event = events.iter().next().expect("the event");
        assert_eq!(timer.expirations(event).expect("expirations"), 1);
        poller.poll_into(&mut events, window).expect("poll_into");
    }
    assert!(events.is_empty(), "{events:?}");
}

backend_tests!(
    #[cfg_attr(miri, ignore = "Miri has no timerfd")]
    set_after_never_fires_early,
    #[cfg_attr(miri, ignore = "Miri has no timerfd")]
    set_at_never_fires_early,
    #[cfg_attr(miri, ignore = "Miri has no timerfd")]
    fires_below_a_millisecond,
    #[cfg_attr(miri, ignore = "Miri has no timerfd")]
    periodic_counts_accumulate_across_a_late_wait,
    #[cfg_attr(miri, ignore = "Miri has no timerfd")]
    rearm_replaces_the_expiry,
    #[cfg_attr(miri, ignore = "Miri has no timerfd")]
    cancel_disarms,
    #[cfg_attr(miri, ignore = "Miri has no timerfd")]
    keys_and_tokens,
    #[cfg_attr(miri, ignore = "Miri has no timerfd")]
    timer_from_another_thread_wakes_a_wait,
    #[cfg_attr(miri, ignore = "Miri has no timerfd")]
    drop_deregisters,
    #[cfg_attr(miri, ignore = "Miri has no timerfd")]
    refusals,
    #[cfg_attr(miri, ignore = "Miri has no timerfd")]
    an_unread_expiration_repeats_only_on_poll,
);
