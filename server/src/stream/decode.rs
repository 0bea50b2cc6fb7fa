//! The decoding stage: a thread that takes the messages from the consumer
//! as they arrive and decodes them, beside the counting loop and on the
//! other core (decoding the JSON was over half of reading a batch, and while
//! catching up the loop counted on one core with the other a fifth idle).
//!
//! It only decodes, in the order Kafka gives the messages: which of them
//! count, where a batch ends and what a control event ends stays with the
//! counting loop. Each message carries the number of the last move of the
//! fetching before it was taken (see [`super::moves`]), so the loop drops
//! one taken before its partition was sought or reassigned, as librdkafka
//! does with those still in its queue. The stage holds at most
//! [`CHUNKS_AHEAD`] chunks in its channel and one it waits to hand over,
//! so memory stays bounded however far behind counting is.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::{FutureExt, Stream, StreamExt};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::message::Message;
use tokio::sync::mpsc;

use super::batch::{Decoded, Incoming};
use super::consumer_events::ConsumerEvents;
use super::moves::{MoveNumber, Moves};

/// Most messages handed over at once: those already fetched when the
/// first arrived, so a backlog costs one hand-over per chunk, not per message.
const CHUNK: usize = 256;
/// Chunks waiting in the channel for the counting loop.
const CHUNKS_AHEAD: usize = 4;

/// What the stage hands over: each message read, or why reading failed, in order.
type Read = Result<Decoded, KafkaError>;

/// The counting loop's end of the decoding stage; the stage stops when it
/// is dropped.
pub struct Decoding {
    chunks: mpsc::Receiver<Vec<Read>>,
    ready: VecDeque<Read>,
    thread: std::thread::JoinHandle<()>,
}

impl Decoding {
    /// Starts reading `consumer`'s messages of `topic` on a thread of its
    /// own (the counting runtime has one thread, kept by the counting
    /// loop). The consumer's callbacks, rebalances among them, now run there.
    pub fn start(
        consumer: Arc<StreamConsumer<ConsumerEvents>>,
        topic: String,
    ) -> std::io::Result<Self> {
        Self::spawn(move |sender| {
            let messages = Stamped {
                messages: consumer.stream(),
                moves: consumer.context().moves(),
            };
            futures::executor::block_on(hand_over(messages, &topic, &sender));
        })
    }

    /// Runs `stage` on the stage's thread, handing over what it sends.
    fn spawn(
        stage: impl FnOnce(mpsc::Sender<Vec<Read>>) + Send + 'static,
    ) -> std::io::Result<Self> {
        let (sender, chunks) = mpsc::channel(CHUNKS_AHEAD);
        let thread = std::thread::Builder::new()
            .name("decoding".into())
            .spawn(move || stage(sender))?;
        Ok(Self {
            chunks,
            ready: VecDeque::new(),
            thread,
        })
    }

    /// The next message (or error) if one is there already.
    pub fn ready(&mut self) -> Option<Read> {
        if self.ready.is_empty() {
            if let Ok(chunk) = self.chunks.try_recv() {
                self.ready.extend(chunk);
            }
        }
        self.ready.pop_front()
    }

    /// Waits for the next message, or an error of reading; `None` when
    /// the stage ended (it ends only when stopped, or in a panic).
    /// Cancel-safe: nothing is lost when the wait is given up.
    pub async fn next(&mut self) -> Option<Read> {
        if self.ready.is_empty() {
            let chunk = self.chunks.recv().await?;
            self.ready.extend(chunk);
        }
        self.ready.pop_front()
    }

    /// Stops the stage and waits for it to let go of the consumer.
    pub fn stop(self) {
        drop(self.chunks);
        // It ends at once: it waits only for messages or room to hand them over.
        tokio::task::block_in_place(|| {
            if self.thread.join().is_err() {
                tracing::error!("the decoding stage ended in a panic");
            }
        });
    }
}

/// The consumer's messages, each with the number of the last move of the
/// fetching before it was taken.
struct Stamped<'a, S> {
    messages: S,
    moves: &'a Moves,
}

impl<S: Stream + Unpin> Stream for Stamped<'_, S> {
    type Item = (S::Item, MoveNumber);

    fn poll_next(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        // Polling takes a message without waiting (librdkafka's queue is
        // polled with no timeout), so a seek waits only that long, or for
        // a rebalance callback served by the poll.
        let (polled, taken) = this.moves.take(|| this.messages.poll_next_unpin(context));
        polled.map(|next| next.map(|message| (message, taken)))
    }
}

/// Reads, decodes and hands over messages until the counting loop is gone.
async fn hand_over<M: Message>(
    mut messages: impl Stream<Item = (KafkaResult<M>, MoveNumber)> + Unpin,
    topic: &str,
    sender: &mpsc::Sender<Vec<Read>>,
) {
    loop {
        let first = tokio::select! {
            biased;
            () = sender.closed() => return,
            first = messages.next() => first,
        };
        // The consumer's stream never ends; `None` would say it is gone.
        let Some(first) = first else { return };
        // An error ends a chunk; the counting loop waits a little after
        // each, and the stage waits for it once its chunks are full.
        if sender
            .send(fill(topic, first, &mut messages))
            .await
            .is_err()
        {
            return;
        }
    }
}

/// A chunk: `first`, then what was read already, up to [`CHUNK`] or an error.
fn fill<M: Message>(
    topic: &str,
    first: (KafkaResult<M>, MoveNumber),
    messages: &mut (impl Stream<Item = (KafkaResult<M>, MoveNumber)> + Unpin),
) -> Vec<Read> {
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut next = Some(first);
    while let Some((read, taken)) = next.take() {
        let failed = read.is_err();
        chunk.push(read.map(|message| decode(topic, &message, taken)));
        if failed || chunk.len() == CHUNK {
            break;
        }
        next = messages.next().now_or_never().flatten();
    }
    chunk
}

fn decode(topic: &str, message: &impl Message, taken: MoveNumber) -> Decoded {
    Incoming {
        topic,
        partition: message.partition(),
        offset: message.offset(),
        key: message.key(),
        payload: message.payload(),
    }
    .decode(taken)
}

#[cfg(test)]
mod tests {
    use rdkafka::message::{OwnedMessage, Timestamp};
    use rdkafka::types::RDKafkaErrorCode;

    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::event::TopicMessage;

    fn message(offset: i64, payload: &[u8]) -> KafkaResult<OwnedMessage> {
        Ok(OwnedMessage::new(
            Some(payload.to_vec()),
            Some(b"p1".to_vec()),
            "spotify_streams".into(),
            Timestamp::NotAvailable,
            2,
            offset,
            None,
        ))
    }

    fn listen() -> Vec<u8> {
        serde_json::to_vec(&TopicMessage::Listen {
            person: crate::accounts::PersonId("p1".into()),
            listen: crate::event::test_listen("a", "Artist", "2024-01-01T10:00:00Z", 1000, false),
            import: None,
        })
        .unwrap()
    }

    /// A stage reading `messages`, then waiting for more that never come;
    /// with how many it took from them.
    fn stage(messages: Vec<KafkaResult<OwnedMessage>>) -> (Decoding, Arc<AtomicUsize>) {
        let taken = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&taken);
        let decoding = Decoding::spawn(move |sender| {
            let messages = futures::stream::iter(messages)
                .map(move |message| {
                    counter.fetch_add(1, Ordering::SeqCst);
                    (message, MoveNumber::default())
                })
                .chain(futures::stream::pending());
            futures::executor::block_on(hand_over(Box::pin(messages), "spotify_streams", &sender));
        })
        .unwrap();
        (decoding, taken)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn messages_come_decoded_in_order_with_errors_in_their_place() {
        let payload = listen();
        let count = CHUNK * (CHUNKS_AHEAD + 2);
        let mut sent: Vec<KafkaResult<OwnedMessage>> = (0..count as i64)
            .map(|offset| message(offset, &payload))
            .collect();
        sent.insert(3, message(3, b"{not json"));
        sent.insert(
            5,
            Err(KafkaError::MessageConsumption(
                RDKafkaErrorCode::BrokerTransportFailure,
            )),
        );
        let (mut decoding, _) = stage(sent);
        let mut read = Vec::new();
        for _ in 0..count + 2 {
            read.push(decoding.next().await.expect("the stage runs"));
        }
        let offsets: Vec<Option<i64>> = read
            .iter()
            .map(|read| read.as_ref().ok().map(|decoded| decoded.offset))
            .collect();
        let mut expected: Vec<Option<i64>> = (0..count as i64).map(Some).collect();
        expected.insert(3, Some(3));
        expected.insert(5, None);
        assert_eq!(offsets, expected);
        let rejected = read[3].as_ref().unwrap();
        assert!(
            matches!(&rejected.message, Err(set_aside) if set_aside.letter.reason_kind == "not_json")
        );
        let listened = read[4].as_ref().unwrap();
        assert!(matches!(listened.message, Ok(TopicMessage::Listen { .. })));
        assert_eq!((listened.partition, listened.bytes), (2, payload.len()));
        assert!(decoding.ready().is_none(), "nothing more was sent");
        decoding.stop();
    }

    #[test]
    fn each_message_is_stamped_with_the_last_move_before_it_was_taken() {
        let moves = Moves::default();
        let payload = listen();
        let mut messages = Stamped {
            messages: futures::stream::iter([message(0, &payload), message(1, &payload)]),
            moves: &moves,
        };
        let first = messages.next().now_or_never().flatten().unwrap();
        moves.seek(2, || ());
        let second = messages.next().now_or_never().flatten().unwrap();
        let [before, after] = [first, second].map(|(message, taken)| {
            let message = message.unwrap();
            decode("spotify_streams", &message, taken)
        });
        assert!(moves.is_stale(before.partition, before.taken));
        assert!(!moves.is_stale(after.partition, after.taken));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn the_end_of_the_stage_is_not_taken_for_a_message_or_an_error() {
        let mut decoding = Decoding::spawn(|_sender| {}).unwrap();
        assert!(decoding.next().await.is_none());
        decoding.stop();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn it_runs_ahead_by_a_bounded_number_of_chunks_and_stops_when_asked() {
        let payload = listen();
        let count = CHUNK * (CHUNKS_AHEAD + 6);
        let sent = (0..count as i64)
            .map(|offset| message(offset, &payload))
            .collect();
        let (mut decoding, taken) = stage(sent);
        let first = decoding.next().await.expect("the stage runs").unwrap();
        assert_eq!(first.offset, 0);
        // The stage fills its chunks, then waits for room: the chunk handed
        // over, those the channel holds, and the one waiting for room.
        let most = CHUNK * (CHUNKS_AHEAD + 2);
        let waited = std::time::Instant::now();
        while taken.load(Ordering::SeqCst) < most && waited.elapsed().as_secs() < 20 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert_eq!(taken.load(Ordering::SeqCst), most, "no more taken ahead");
        let mut read = 1;
        while decoding
            .next()
            .await
            .is_some_and(|next| next.is_ok_and(|decoded| decoded.offset == read))
        {
            read += 1;
            if read == count as i64 {
                break;
            }
        }
        assert_eq!(read, count as i64, "every message came, in order");
        // Stopping ends the thread while it waits for messages.
        decoding.stop();
    }
}
