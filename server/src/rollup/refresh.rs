//! Answers worked out again in the background while the previous ones are
//! given (see [`super::held::Freshness::Recent`]): on one thread of their
//! own, one at a time, below the threads answering requests.
//!
//! While listens stream in, every kept answer goes stale with each batch and
//! is worked out again every quarter of a second, a few milliseconds each.
//! Worked out on the runtime's blocking threads, the refreshes of several
//! questions ran side by side on both cores at once, and the requests that
//! arrived meanwhile waited for a core: with one thread at a lower priority,
//! a request finds a core at once.

use std::sync::mpsc::{channel, Sender};
use std::sync::LazyLock;

/// Something to work out again.
type Refresh = Box<dyn FnOnce() + Send>;

/// How much lower than the thread that starts it the refreshing thread
/// runs (`nice` values, up to the lowest, 19).
const NICENESS: i32 = 10;

/// The thread that works answers out again, and how to hand it work.
pub struct Refresher {
    queue: Sender<Refresh>,
}

/// The one refresher of the process.
pub static REFRESHER: LazyLock<Refresher> = LazyLock::new(Refresher::start);

impl Refresher {
    fn start() -> Self {
        let (queue, work) = channel::<Refresh>();
        let started = std::thread::Builder::new()
            .name("refreshing".into())
            .spawn(move || {
                lower_priority();
                for refresh in work {
                    // A refresh that panics fails alone: the answer it was
                    // to replace goes stale and is worked out when asked.
                    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(refresh)).is_err() {
                        tracing::error!("working out an answer again panicked");
                    }
                }
            });
        if let Err(error) = started {
            tracing::error!(%error, "no thread to work out answers again: they are worked out when asked");
        }
        Self { queue }
    }

    /// Queues `refresh`, after those queued before it. Without the thread
    /// it is dropped: the answer then goes stale and is worked out when
    /// asked.
    pub fn refresh(&self, refresh: impl FnOnce() + Send + 'static) {
        let _ = self.queue.send(Box::new(refresh));
    }
}

/// Lowers the calling thread's scheduling priority by [`NICENESS`] (only
/// its own: on Linux a priority set for "the process" 0 is the calling
/// thread's).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: getpriority and setpriority only read and change the
        // calling thread's niceness; lowering it needs no privilege.
        let lowered = unsafe {
            let now = libc::getpriority(libc::PRIO_PROCESS, 0);
            libc::setpriority(libc::PRIO_PROCESS, 0, (now + NICENESS).min(19))
        };
        if lowered != 0 {
            tracing::debug!("the refreshing thread keeps its priority");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    #[test]
    fn refreshes_run_one_at_a_time_in_order_and_survive_a_panic() {
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let order = Arc::new(Mutex::new(Vec::new()));
        let (done, finished) = channel();
        REFRESHER.refresh(|| panic!("a refresh that fails"));
        for n in 0..8 {
            let (running, most, order) = (running.clone(), most.clone(), order.clone());
            let done = done.clone();
            REFRESHER.refresh(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(2));
                order.lock().unwrap().push(n);
                running.fetch_sub(1, Ordering::SeqCst);
                done.send(()).unwrap();
            });
        }
        for _ in 0..8 {
            finished
                .recv_timeout(Duration::from_secs(10))
                .expect("every refresh ran");
        }
        assert_eq!(most.load(Ordering::SeqCst), 1, "one at a time");
        assert_eq!(*order.lock().unwrap(), (0..8).collect::<Vec<_>>());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_refreshing_thread_runs_below_the_others() {
        // SAFETY: getpriority only reads the calling thread's niceness.
        let ours = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        let (told, niceness) = channel();
        REFRESHER.refresh(move || {
            // SAFETY: as above, on the refreshing thread.
            let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
            told.send(nice).unwrap();
        });
        let nice = niceness.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(nice, (ours + NICENESS).min(19));
    }
}
