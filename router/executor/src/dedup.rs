//! In-flight deduplication: concurrent callers with the same key share one future's result.
//!
//! The key must already contain everything that makes two requests distinguishable (operation,
//! variables, every forwarded header): sharing across different credentials would leak data.
//! The first caller to see the finished result removes the entry, so later identical requests
//! run afresh; this is coalescing of concurrent work, not a cache.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};

/// A deduplication key (a SHA-256 digest of the request's identity).
pub(crate) type DedupKey = [u8; 32];

struct Entry<T> {
    future: Shared<BoxFuture<'static, T>>,
    /// Callers currently waiting on `future` (the starter included).
    waiters: Arc<AtomicUsize>,
}

pub(crate) struct InFlight<T: Clone> {
    running: Mutex<HashMap<DedupKey, Entry<T>>>,
}

impl<T: Clone> Default for InFlight<T> {
    fn default() -> Self {
        Self {
            running: Mutex::new(HashMap::new()),
        }
    }
}

/// One caller's wait. However it ends (result or cancellation) the waiter count drops, and the
/// entry is removed once the result is out or nobody waits any more: an abandoned request must
/// not linger in the map (nor hand a stale result to a much later caller).
struct Waiting<'a, T: Clone> {
    in_flight: &'a InFlight<T>,
    key: DedupKey,
    future: Shared<BoxFuture<'static, T>>,
    waiters: Arc<AtomicUsize>,
    finished: bool,
}

impl<T: Clone> Drop for Waiting<'_, T> {
    fn drop(&mut self) {
        self.waiters.fetch_sub(1, Ordering::AcqRel);
        let mut running = self
            .in_flight
            .running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let remove = running.get(&self.key).is_some_and(|entry| {
            entry.future.ptr_eq(&self.future)
                && (self.finished || entry.waiters.load(Ordering::Acquire) == 0)
        });
        if remove {
            running.remove(&self.key);
        }
    }
}

impl<T: Clone + Send + Sync + 'static> InFlight<T> {
    /// Runs `start()` unless an identical request is running; returns the result and whether it
    /// was shared with (joined from) another caller.
    pub(crate) async fn run(
        &self,
        key: DedupKey,
        start: impl FnOnce() -> BoxFuture<'static, T>,
    ) -> (T, bool) {
        let (future, waiters, joined) = {
            let mut running = self.lock();
            match running.get(&key) {
                Some(entry) => {
                    entry.waiters.fetch_add(1, Ordering::AcqRel);
                    (entry.future.clone(), entry.waiters.clone(), true)
                }
                None => {
                    let future = start().shared();
                    let waiters = Arc::new(AtomicUsize::new(1));
                    running.insert(
                        key,
                        Entry {
                            future: future.clone(),
                            waiters: waiters.clone(),
                        },
                    );
                    (future, waiters, false)
                }
            }
        };
        let mut waiting = Waiting {
            in_flight: self,
            key,
            future: future.clone(),
            waiters,
            finished: false,
        };
        let result = future.await;
        waiting.finished = true;
        drop(waiting);
        (result, joined)
    }

    /// Requests in flight and the callers waiting on them.
    pub(crate) fn stats(&self) -> (usize, usize) {
        let running = self.lock();
        let waiters = running
            .values()
            .map(|entry| entry.waiters.load(Ordering::Relaxed))
            .sum();
        (running.len(), waiters)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<DedupKey, Entry<T>>> {
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn concurrent_identical_keys_share_one_run() {
        let in_flight = Arc::new(InFlight::<usize>::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let (release, wait) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let in_flight = in_flight.clone();
            let runs = runs.clone();
            let mut wait = wait.clone();
            tasks.push(tokio::spawn(async move {
                in_flight
                    .run([1; 32], move || {
                        async move {
                            let n = runs.fetch_add(1, Ordering::SeqCst);
                            let _ = wait.wait_for(|go| *go).await;
                            n + 41
                        }
                        .boxed()
                    })
                    .await
            }));
        }
        // On the single-threaded test runtime, yielding lets every task register or join
        // before the shared work is allowed to finish.
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
        release.send_replace(true);
        let mut joined = 0;
        for task in tasks {
            let (value, was_joined) = task.await.expect("task");
            assert_eq!(value, 41);
            joined += usize::from(was_joined);
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(joined, 9);
        assert_eq!(in_flight.len(), 0);
    }

    #[tokio::test]
    async fn abandoned_requests_leave_the_map() {
        let in_flight = InFlight::<u8>::default();
        {
            let never = in_flight.run([7; 32], || futures::future::pending().boxed());
            let mut never = Box::pin(never);
            // Poll once so the entry exists, then drop the only waiter.
            assert!(futures::poll!(never.as_mut()).is_pending());
            assert_eq!(in_flight.len(), 1);
        }
        assert_eq!(in_flight.len(), 0);
        let (value, joined) = in_flight.run([7; 32], || async { 9 }.boxed()).await;
        assert_eq!((value, joined), (9, false));
    }

    #[tokio::test]
    async fn different_keys_run_separately_and_entries_are_removed() {
        let in_flight = InFlight::<u8>::default();
        let (a, joined_a) = in_flight.run([1; 32], || async { 1 }.boxed()).await;
        let (b, joined_b) = in_flight.run([2; 32], || async { 2 }.boxed()).await;
        let (c, joined_c) = in_flight.run([1; 32], || async { 3 }.boxed()).await;
        assert_eq!((a, b, c), (1, 2, 3));
        assert!(!joined_a && !joined_b && !joined_c);
        assert_eq!(in_flight.len(), 0);
    }
}
