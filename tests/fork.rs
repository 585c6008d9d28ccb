//! Pollers across `exec` and `fork`.
//!
//! - **exec**: the poller's descriptors (the epoll fd and the waker's eventfd) are
//!   close-on-exec, so a program started from this process does not inherit them.
//! - **fork** (Linux, epoll): a forked child's copy of an `OsPoller` refers to the *same* epoll
//!   instance as the parent's. Registrations made in the child are seen by the parent and the
//!   other way round, an edge-triggered event consumed by one process is gone for the other,
//!   and a wake from the child ends the parent's wait. Closing the child's copies of the fds
//!   (for instance when it exits) changes nothing for the parent. A child that *waits* on its
//!   copy can take the parent's pending wake event, after which the parent's `Waker` never
//!   wakes again (see `Waker`'s docs). A child that wants a poller of its own must create a
//!   new one. (kqueue descriptors are not inherited by fork children
//!   at all: there a child's copy of the poller is unusable.)
//!
//! Forking a multithreaded test process is delicate, so in the child these tests only make
//! system calls through pollio paths that neither allocate nor lock on success (registration,
//! a zero-timeout wait, a wake), then `_exit`.
//!
//! Linux only: it reads /proc and tests epoll's sharing across fork. Not under Miri, which
//! can neither fork nor start a program.
#![cfg(all(target_os = "linux", not(miri)))]

use pollio::{Mode, OsPoller, Poller, Registration};
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Forks; the child runs `child` and exits with the code it returns. Returns that code.
fn in_child(child: impl FnOnce() -> i32) -> i32 {
    // SAFETY: the child only runs `child`, which makes async-signal-safe calls, then _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let code = child();
        // SAFETY: _exit ends the child without running the parent's atexit handlers.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    loop {
        // SAFETY: waits for our own child; `status` is a live c_int.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        assert_eq!(
            err.kind(),
            std::io::ErrorKind::Interrupted,
            "waitpid: {err}"
        );
    }
    assert!(libc::WIFEXITED(status), "child died: status {status:#x}");
    libc::WEXITSTATUS(status)
}

/// Where each open descriptor of this process points.
fn fd_targets() -> Vec<(RawFd, String)> {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let fd = entry.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(entry.path()).ok()?;
            Some((fd, target.to_string_lossy().into_owned()))
        })
        .collect()
}

/// The descriptor table of a freshly exec'd shell, one `ls -l` line per fd.
fn child_fd_table() -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg("ls -l /proc/$$/fd")
        .output()
        .expect("run sh");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn poller_descriptors_are_closed_on_exec() {
    let _serial = serial();
    // Listing /proc/self/fd opens a descriptor of its own, so compare (fd, target) pairs.
    let before = fd_targets();
    let poller = OsPoller::new().unwrap();
    let _waker = poller.waker().unwrap();
    let ours: Vec<(RawFd, String)> = fd_targets()
        .into_iter()
        .filter(|entry| !before.contains(entry) && entry.1.starts_with("anon_inode:"))
        .collect();
    let names: Vec<&str> = ours.iter().map(|(_, target)| target.as_str()).collect();
    assert!(names.contains(&"anon_inode:[eventpoll]"), "{ours:?}");
    assert!(names.contains(&"anon_inode:[eventfd]"), "{ours:?}");
    assert!(ours.iter().any(|&(fd, _)| fd == poller.as_raw_fd()));

    // The check can fail: a copy of the epoll fd without close-on-exec shows up in the child.
    // SAFETY: dup of a live fd; the copy is closed below.
    let copy = unsafe { libc::dup(poller.as_raw_fd()) };
    assert!(copy >= 0);
    let table = child_fd_table();
    // SAFETY: `copy` is our own descriptor, closed once.
    unsafe { libc::close(copy) };
    let control = format!(" {copy} -> anon_inode:[eventpoll]");
    assert!(
        table.contains(&control),
        "the control copy was not seen:\n{table}"
    );

    let table = child_fd_table();
    for (fd, target) in &ours {
        let line = format!(" {fd} -> {target}");
        assert!(
            !table.contains(&line),
            "fd {fd} leaked into the child:\n{table}"
        );
    }
}

#[test]
fn a_forked_child_shares_the_epoll_instance() {
    let _serial = serial();
    let mut poller = OsPoller::new().unwrap();
    let (early, mut early_peer) = UnixStream::pair().unwrap();
    let (late, mut late_peer) = UnixStream::pair().unwrap();
    // Registered by the parent before the fork, ready, edge-triggered.
    poller
        .register(early.as_fd(), Registration::client(7).with_mode(Mode::Edge))
        .unwrap();
    early_peer.write_all(b"e").unwrap();
    let late_fd = late.as_raw_fd();

    let code = in_child(|| {
        // The parent's registration and its pending edge are visible here; taking the event
        // consumes it for the parent too.
        let events = match poller.poll(Some(Duration::ZERO)) {
            Ok(events) => events,
            Err(_) => return 10,
        };
        if events.len() != 1 || events[0].key() != 7 {
            return 11;
        }
        // A registration made in the child lands in the shared instance.
        if poller.add_with(late_fd, Registration::server(8)).is_err() {
            return 12;
        }
        0
    });
    assert_eq!(code, 0, "the child saw something else (code {code})");

    // The edge the child consumed is gone; the child's registration is here.
    assert!(poller.poll(Some(Duration::ZERO)).unwrap().is_empty());
    late_peer.write_all(b"l").unwrap();
    let events = poller.poll(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].fd(), events[0].key()), (late_fd, 8));
    // And the parent, not the child, now owns that registration's lifetime.
    poller.deregister(late.as_fd()).unwrap();
}

#[test]
fn a_wake_from_a_forked_child_ends_the_parents_wait() {
    let _serial = serial();
    let mut poller = OsPoller::new().unwrap();
    let waker = poller.waker().unwrap();
    let code = in_child(|| match waker.wake() {
        Ok(()) => 0,
        Err(_) => 1,
    });
    assert_eq!(code, 0);
    let start = Instant::now();
    assert!(poller
        .poll(Some(Duration::from_secs(10)))
        .unwrap()
        .is_empty());
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "the wake was lost"
    );
    // The parent's own waker still works after that.
    waker.wake().unwrap();
    let start = Instant::now();
    poller.poll(Some(Duration::from_secs(10))).unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "the wake was lost"
    );
}

/// The documented hazard: a child that waits on the inherited poller can take the parent's
/// pending wake event. The parent's waker still believes a wake is pending, so every later
/// `wake()` returns `Ok` without a system call and the parent's waits are no longer woken. A
/// new poller (and waker) in the parent works as usual.
#[test]
fn a_child_that_waits_can_take_the_parents_wake_for_good() {
    let _serial = serial();
    let mut poller = OsPoller::new().unwrap();
    let waker = poller.waker().unwrap();
    waker.wake().unwrap();
    // The child's copy of the poller is the same epoll instance: its wait takes the event.
    let code = in_child(|| match poller.poll(Some(Duration::ZERO)) {
        Ok(_) => 0,
        Err(_) => 1,
    });
    assert_eq!(code, 0);

    let timeout = Duration::from_millis(100);
    for _ in 0..3 {
        waker.wake().expect("wake() still returns Ok");
        let start = Instant::now();
        assert!(poller.poll(Some(timeout)).unwrap().is_empty());
        assert!(
            start.elapsed() >= timeout,
            "the parent's waker woke after all: update the fork notes"
        );
    }

    let mut fresh = OsPoller::new().unwrap();
    let fresh_waker = fresh.waker().unwrap();
    fresh_waker.wake().unwrap();
    let start = Instant::now();
    fresh.poll(Some(Duration::from_secs(10))).unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "a new poller's wake was lost"
    );
}
