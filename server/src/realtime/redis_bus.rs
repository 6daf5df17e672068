//! The bus between nodes: Redis pub/sub. A commit rings the local room at once and
//! publishes `seq` on channel `beraad:case:ID`; every node subscribes once per case it
//! follows and rings its own room. Redis may drop messages or restart: rooms read from
//! the database anyway, and after a reconnect every room is rung, so nothing is lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use redis::AsyncCommands;
use tokio::sync::mpsc;

use super::{Hub, RemoteWatch};
use crate::service::Doorbell;

/// Prefix of the per-case channels.
const CHANNEL_PREFIX: &str = "beraad:case:";

enum Watch {
    Add(i64),
    Remove(i64),
}

/// The Redis bus of one node.
pub struct RedisBus {
    hub: Weak<Hub>,
    publish_tx: mpsc::Sender<(i64, i64)>,
    watch_tx: mpsc::UnboundedSender<Watch>,
    subscribed: AtomicBool,
}

impl RedisBus {
    /// Starts the bus for `hub` on the Redis at `url`. Fails at once only for a
    /// malformed URL; an unreachable Redis is retried in the background (and reported by
    /// [`RedisBus::is_connected`]).
    pub fn start(url: &str, hub: &Arc<Hub>) -> anyhow::Result<Arc<RedisBus>> {
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("BERAAD_REDIS_URL is not a valid Redis URL: {e}"))?;
        let (publish_tx, publish_rx) = mpsc::channel(4096);
        let (watch_tx, watch_rx) = mpsc::unbounded_channel();
        let bus = Arc::new(RedisBus {
            hub: Arc::downgrade(hub),
            publish_tx,
            watch_tx,
            subscribed: AtomicBool::new(false),
        });
        tokio::spawn(publisher(client.clone(), publish_rx));
        tokio::spawn(subscriber(client, Arc::downgrade(&bus), watch_rx));
        hub.set_remote(bus.clone());
        Ok(bus)
    }

    /// Whether the subscription connection is up.
    pub fn is_connected(&self) -> bool {
        self.subscribed.load(Ordering::Acquire)
    }
}

impl Doorbell for RedisBus {
    fn ring(&self, case_id: i64, seq: i64) {
        if let Some(hub) = self.hub.upgrade() {
            hub.ring(case_id, seq);
        }
        // A full queue means Redis is slow or gone; the other nodes' sweeps will catch up.
        let _ = self.publish_tx.try_send((case_id, seq));
    }
}

impl RemoteWatch for RedisBus {
    fn watch(&self, case_id: i64) {
        let _ = self.watch_tx.send(Watch::Add(case_id));
    }

    fn unwatch(&self, case_id: i64) {
        let _ = self.watch_tx.send(Watch::Remove(case_id));
    }
}

fn channel(case_id: i64) -> String {
    format!("{CHANNEL_PREFIX}{case_id}")
}

async fn backoff(attempt: &mut u32) {
    let ms = (100u64 << (*attempt).min(5)).min(3000);
    *attempt += 1;
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

async fn publisher(client: redis::Client, mut rx: mpsc::Receiver<(i64, i64)>) {
    let mut attempt = 0;
    let mut conn = None;
    while let Some((case_id, seq)) = rx.recv().await {
        if conn.is_none() {
            match client.get_multiplexed_async_connection().await {
                Ok(c) => {
                    attempt = 0;
                    conn = Some(c);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "redis publish connection failed");
                    backoff(&mut attempt).await;
                    continue;
                }
            }
        }
        if let Some(c) = conn.as_mut() {
            let sent: redis::RedisResult<i64> = c.publish(channel(case_id), seq).await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, "redis publish failed; reconnecting");
                conn = None;
            }
        }
    }
}

async fn subscriber(
    client: redis::Client,
    bus: Weak<RedisBus>,
    mut watch_rx: mpsc::UnboundedReceiver<Watch>,
) {
    let mut attempt = 0;
    loop {
        let Some(hub) = bus.upgrade().and_then(|b| b.hub.upgrade()) else {
            return;
        };
        let pubsub = match client.get_async_pubsub().await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "redis subscription connection failed");
                drop(hub);
                backoff(&mut attempt).await;
                continue;
            }
        };
        let (mut sink, mut stream) = pubsub.split();
        let followed: Vec<String> = hub.followed().into_iter().map(channel).collect();
        if !followed.is_empty()
            && let Err(e) = sink.subscribe(&followed).await
        {
            tracing::warn!(error = %e, "redis resubscribe failed");
            drop(hub);
            backoff(&mut attempt).await;
            continue;
        }
        attempt = 0;
        if let Some(b) = bus.upgrade() {
            b.subscribed.store(true, Ordering::Release);
        }
        tracing::info!(channels = followed.len(), "redis bus connected");
        // Rings may have been lost while disconnected: let every room look.
        hub.ring_all();
        drop(hub);
        loop {
            tokio::select! {
                msg = stream.next() => {
                    let Some(msg) = msg else { break };
                    let case_id = msg.get_channel_name().strip_prefix(CHANNEL_PREFIX).and_then(|s| s.parse::<i64>().ok());
                    let seq = msg.get_payload::<i64>().ok();
                    if let (Some(case_id), Some(seq)) = (case_id, seq)
                        && let Some(hub) = bus.upgrade().and_then(|b| b.hub.upgrade())
                    {
                        hub.ring(case_id, seq);
                    }
                }
                cmd = watch_rx.recv() => {
                    let result = match cmd {
                        None => return,
                        Some(Watch::Add(id)) => sink.subscribe(channel(id)).await,
                        Some(Watch::Remove(id)) => sink.unsubscribe(channel(id)).await,
                    };
                    if let Err(e) = result {
                        tracing::warn!(error = %e, "redis (un)subscribe failed");
                        break;
                    }
                }
            }
        }
        if let Some(b) = bus.upgrade() {
            b.subscribed.store(false, Ordering::Release);
        }
        tracing::warn!("redis bus disconnected; reconnecting");
        backoff(&mut attempt).await;
    }
}
