//! A small bounded multi-producer, single-consumer queue for the per-connection outbox and the
//! per-view inboxes.
//!
//! Every idle connection owns one outbox and every joined view one inbox, so their fixed size
//! is paid per connection. `tokio::sync::mpsc` preallocates a 32-slot block and a cache-padded
//! 512-byte channel for each (0.8 KiB for an inbox, 1.3 KiB for the outbox); this queue is a
//! mutex around a `VecDeque` that grows on demand (about 0.2 KiB with its first slots). The
//! queues see a handful of messages per user action, so an uncontended mutex costs nothing
//! measurable. The API mirrors the subset of tokio's that the runtime uses, including its
//! error types.

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};

pub(crate) use tokio::sync::mpsc::error::{SendError, TrySendError};

struct State<T> {
    queue: VecDeque<T>,
    cap: usize,
    senders: usize,
    receiver_alive: bool,
    /// The receiver waiting for a message.
    rx_waker: Option<Waker>,
    /// Senders waiting for room.
    tx_wakers: Vec<Waker>,
}

struct Shared<T> {
    state: Mutex<State<T>>,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // No code panics while holding the lock; recover the state anyway.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Sends into a queue; cheap to clone.
pub(crate) struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// Receives from a queue.
pub(crate) struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

/// A queue holding at most `cap` messages (`cap` >= 1).
pub(crate) fn channel<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            cap: cap.max(1),
            senders: 1,
            receiver_alive: true,
            rx_waker: None,
            tx_wakers: Vec::new(),
        }),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

impl<T> Sender<T> {
    /// Queues `value`, waiting for room; fails once the receiver is gone.
    pub(crate) async fn send(&self, value: T) -> Result<(), SendError<T>> {
        let mut value = Some(value);
        poll_fn(|cx| {
            let mut state = self.shared.lock();
            let Some(v) = value.take() else {
                return Poll::Ready(Ok(()));
            };
            if !state.receiver_alive {
                return Poll::Ready(Err(SendError(v)));
            }
            if state.queue.len() < state.cap {
                state.queue.push_back(v);
                let waker = state.rx_waker.take();
                drop(state);
                if let Some(waker) = waker {
                    waker.wake();
                }
                return Poll::Ready(Ok(()));
            }
            value = Some(v);
            if !state.tx_wakers.iter().any(|w| w.will_wake(cx.waker())) {
                state.tx_wakers.push(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }

    /// Queues `value` if there is room right now.
    pub(crate) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let mut state = self.shared.lock();
        if !state.receiver_alive {
            return Err(TrySendError::Closed(value));
        }
        if state.queue.len() >= state.cap {
            return Err(TrySendError::Full(value));
        }
        state.queue.push_back(value);
        let waker = state.rx_waker.take();
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Whether the receiver is gone.
    pub(crate) fn is_closed(&self) -> bool {
        !self.shared.lock().receiver_alive
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.senders -= 1;
        let waker = if state.senders == 0 {
            state.rx_waker.take()
        } else {
            None
        };
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// The next message if one is queued, without waiting.
    pub(crate) fn try_recv(&mut self) -> Option<T> {
        let mut state = self.shared.lock();
        let value = state.queue.pop_front()?;
        let wakers = std::mem::take(&mut state.tx_wakers);
        drop(state);
        for waker in wakers {
            waker.wake();
        }
        Some(value)
    }

    /// The next message; `None` once every sender is gone and the queue is empty.
    pub(crate) async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| {
            let mut state = self.shared.lock();
            if let Some(v) = state.queue.pop_front() {
                let wakers = std::mem::take(&mut state.tx_wakers);
                drop(state);
                for waker in wakers {
                    waker.wake();
                }
                return Poll::Ready(Some(v));
            }
            if state.senders == 0 {
                return Poll::Ready(None);
            }
            if !state
                .rx_waker
                .as_ref()
                .is_some_and(|w| w.will_wake(cx.waker()))
            {
                state.rx_waker = Some(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.receiver_alive = false;
        let queued = std::mem::take(&mut state.queue);
        let wakers = std::mem::take(&mut state.tx_wakers);
        drop(state);
        // Queued messages and waiting senders are released outside the lock.
        drop(queued);
        for waker in wakers {
            waker.wake();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn delivers_in_order_and_ends_when_senders_are_gone() {
        let (tx, mut rx) = channel(4);
        let tx2 = tx.clone();
        tx.send(1).await.unwrap();
        tx2.try_send(2).unwrap();
        drop(tx);
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(2));
        drop(tx2);
        assert_eq!(rx.recv().await, None);
    }

    #[tokio::test]
    async fn full_queue_refuses_try_send_and_makes_send_wait() {
        let (tx, mut rx) = channel(2);
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        assert!(matches!(tx.try_send(3), Err(TrySendError::Full(3))));
        let sender = tokio::spawn({
            let tx = tx.clone();
            async move { tx.send(3).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!sender.is_finished(), "send must wait for room");
        assert_eq!(rx.recv().await, Some(1));
        sender.await.unwrap().unwrap();
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, Some(3));
    }

    #[tokio::test]
    async fn a_dropped_receiver_fails_senders_including_waiting_ones() {
        let (tx, rx) = channel(1);
        tx.try_send(1).unwrap();
        let waiting = tokio::spawn({
            let tx = tx.clone();
            async move { tx.send(2).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!tx.is_closed());
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(waiting.await.unwrap(), Err(SendError(2)));
        assert!(matches!(tx.try_send(3), Err(TrySendError::Closed(3))));
        assert_eq!(tx.send(4).await, Err(SendError(4)));
    }

    #[tokio::test]
    async fn a_waiting_receiver_wakes_on_send_and_on_last_sender_drop() {
        let (tx, mut rx) = channel::<u8>(8);
        let reader = tokio::spawn(async move {
            let first = rx.recv().await;
            let second = rx.recv().await;
            (first, second)
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        tx.send(7).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(tx);
        assert_eq!(reader.await.unwrap(), (Some(7), None));
    }

    #[test]
    fn an_idle_queue_is_small() {
        // The point of this module: what an idle connection pays per queue.
        assert!(std::mem::size_of::<Shared<[u8; 24]>>() <= 128);
    }
}
