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

use std::collections::HashSet;

use super::{Hub, RemoteWatch, SharedPresence};
use crate::service::{Doorbell, Person};

/// Prefix of the per-case channels.
const CHANNEL_PREFIX: &str = "beraad:case:";
/// Channel announcing changed moderation queues (payload: municipality id).
const MODERATION_CHANNEL: &str = "beraad:moderation";
/// Channel announcing a person whose access changed (payload: `s:ID` or `p:ID`).
const ACCESS_CHANNEL: &str = "beraad:access";

enum Watch {
    Add(i64),
    Remove(i64),
}

/// How long a viewer counts as present after its node last reported it.
const PRESENCE_TTL_MS: i64 = 5_000;

/// The Redis bus of one node.
pub struct RedisBus {
    hub: Weak<Hub>,
    /// Who watches which case on this node, to report.
    reported: std::sync::Mutex<std::collections::HashMap<i64, HashSet<(bool, i64)>>>,
    /// `(panelists, staff)` per case over all nodes, from the last exchange.
    totals: std::sync::Mutex<std::collections::HashMap<i64, (usize, usize)>>,
    publish_tx: mpsc::Sender<(String, String)>,
    watch_tx: mpsc::UnboundedSender<Watch>,
    subscribed: AtomicBool,
    /// Whether Redis answered the last once-a-second exchange in time (a hung Redis
    /// keeps its connections open but answers nothing).
    answering: AtomicBool,
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
            answering: AtomicBool::new(true),
            reported: Default::default(),
            totals: Default::default(),
        });
        tokio::spawn(publisher(client.clone(), publish_rx));
        tokio::spawn(presence_exchange(client.clone(), Arc::downgrade(&bus)));
        hub.set_shared_presence(bus.clone());
        tokio::spawn(subscriber(client, Arc::downgrade(&bus), watch_rx));
        hub.set_remote(bus.clone());
        Ok(bus)
    }

    /// Whether the subscription connection is up and Redis answered its last exchange
    /// within a second.
    pub fn is_connected(&self) -> bool {
        self.subscribed.load(Ordering::Acquire) && self.answering.load(Ordering::Acquire)
    }
}

impl Doorbell for RedisBus {
    fn ring(&self, case_id: i64, seq: i64) {
        if let Some(hub) = self.hub.upgrade() {
            hub.ring(case_id, seq);
        }
        // A full queue means Redis is slow or gone; the other nodes' sweeps will catch up.
        let _ = self
            .publish_tx
            .try_send((channel(case_id), seq.to_string()));
    }

    fn ring_moderation(&self, municipality_id: i64, post_id: i64) {
        if let Some(hub) = self.hub.upgrade() {
            hub.ring_moderation(municipality_id, post_id);
        }
        let _ = self.publish_tx.try_send((
            MODERATION_CHANNEL.to_owned(),
            format!("{municipality_id}:{post_id}"),
        ));
    }

    fn ring_person(&self, person: Person) {
        if let Some(hub) = self.hub.upgrade() {
            hub.ring_person(person);
        }
        let _ = self
            .publish_tx
            .try_send((ACCESS_CHANNEL.to_owned(), person.encode()));
    }
}

impl SharedPresence for RedisBus {
    fn report(&self, case_id: i64, people: &HashSet<(bool, i64)>) {
        self.reported
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(case_id, people.clone());
    }

    fn counts(&self, case_id: i64) -> Option<(usize, usize)> {
        self.totals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&case_id)
            .copied()
    }
}

/// How long one exchange with Redis may take before Redis counts as not answering.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(1);

/// Once a second: writes this node's viewers into per-case sorted sets (scored by time,
/// so a node that dies stops counting after a few seconds) and reads the totals back;
/// with no viewers here, a PING. An exchange that takes longer than a second marks Redis
/// as not answering (readiness reports the bus degraded) and opens a fresh connection.
async fn presence_exchange(client: redis::Client, bus: Weak<RedisBus>) {
    let mut conn = None;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let Some(bus) = bus.upgrade() else { return };
        let followed: HashSet<i64> = bus
            .hub
            .upgrade()
            .map(|h| h.followed().into_iter().collect())
            .unwrap_or_default();
        let reports: Vec<(i64, HashSet<(bool, i64)>)> = {
            let mut reported = bus.reported.lock().unwrap_or_else(|p| p.into_inner());
            reported.retain(|case_id, _| followed.contains(case_id));
            reported.iter().map(|(k, v)| (*k, v.clone())).collect()
        };
        if conn.is_none() {
            conn =
                tokio::time::timeout(EXCHANGE_TIMEOUT, client.get_multiplexed_async_connection())
                    .await
                    .ok()
                    .and_then(Result::ok);
        }
        let Some(c) = conn.as_mut() else {
            bus.answering.store(false, Ordering::Release);
            continue;
        };
        if reports.is_empty() {
            let pong = tokio::time::timeout(
                EXCHANGE_TIMEOUT,
                redis::cmd("PING").query_async::<String>(c),
            )
            .await;
            let ok = matches!(pong, Ok(Ok(_)));
            bus.answering.store(ok, Ordering::Release);
            if !ok {
                conn = None;
            }
            continue;
        }
        let now = chrono::Utc::now().timestamp_millis();
        let mut pipe = redis::pipe();
        for (case_id, people) in &reports {
            for kind in ["p", "s"] {
                let key = format!("beraad:presence:{case_id}:{kind}");
                for (is_staff, id) in people {
                    if *is_staff == (kind == "s") {
                        pipe.zadd(&key, id, now).ignore();
                    }
                }
                pipe.zrembyscore(&key, "-inf", now - PRESENCE_TTL_MS)
                    .ignore();
                pipe.expire(&key, 60).ignore();
                pipe.zcard(&key);
            }
        }
        let answer = tokio::time::timeout(EXCHANGE_TIMEOUT, pipe.query_async::<Vec<usize>>(c))
            .await
            .map_err(|_| "no answer within a second".to_owned())
            .and_then(|r| r.map_err(|e| e.to_string()));
        bus.answering.store(answer.is_ok(), Ordering::Release);
        match answer {
            Ok(cards) => {
                let mut totals = bus.totals.lock().unwrap_or_else(|p| p.into_inner());
                totals.clear();
                for ((case_id, _), pair) in reports.iter().zip(cards.chunks(2)) {
                    if let [p, s] = pair {
                        totals.insert(*case_id, (*p, *s));
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "redis presence exchange failed");
                bus.totals.lock().unwrap_or_else(|p| p.into_inner()).clear();
                conn = None;
            }
        }
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

async fn publisher(client: redis::Client, mut rx: mpsc::Receiver<(String, String)>) {
    let mut attempt = 0;
    let mut conn = None;
    while let Some((channel_name, value)) = rx.recv().await {
        if conn.is_none() {
            match client.get_multiplexed_async_connection().await {
                Ok(c) => {
                    attempt = 0;
                    metrics::counter!(crate::metrics::REDIS_CONNECTS, "connection" => "publish")
                        .increment(1);
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
            let started = std::time::Instant::now();
            let sent: redis::RedisResult<i64> = c.publish(&channel_name, value).await;
            let outcome = if sent.is_ok() { "ok" } else { "error" };
            metrics::histogram!(crate::metrics::REDIS_PUBLISH_DURATION, "outcome" => outcome)
                .record(started.elapsed().as_secs_f64());
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
        let mut followed: Vec<String> = hub.followed().into_iter().map(channel).collect();
        followed.push(MODERATION_CHANNEL.to_owned());
        followed.push(ACCESS_CHANNEL.to_owned());
        if let Err(e) = sink.subscribe(&followed).await {
            tracing::warn!(error = %e, "redis resubscribe failed");
            drop(hub);
            backoff(&mut attempt).await;
            continue;
        }
        attempt = 0;
        if let Some(b) = bus.upgrade() {
            b.subscribed.store(true, Ordering::Release);
        }
        metrics::counter!(crate::metrics::REDIS_CONNECTS, "connection" => "subscribe").increment(1);
        metrics::gauge!(crate::metrics::REDIS_SUBSCRIBED).set(1.0);
        tracing::info!(channels = followed.len(), "redis bus connected");
        // Rings may have been lost while disconnected: let every room look.
        hub.ring_all();
        drop(hub);
        loop {
            tokio::select! {
                msg = stream.next() => {
                    let Some(msg) = msg else { break };
                    if msg.get_channel_name() == ACCESS_CHANNEL {
                        let payload = msg.get_payload::<String>().unwrap_or_default();
                        if let (Some(person), Some(hub)) = (Person::decode(&payload), bus.upgrade().and_then(|b| b.hub.upgrade())) {
                            hub.ring_person(person);
                        }
                        continue;
                    }
                    if msg.get_channel_name() == MODERATION_CHANNEL {
                        let payload = msg.get_payload::<String>().unwrap_or_default();
                        let parsed = payload
                            .split_once(':')
                            .and_then(|(m, p)| Some((m.parse::<i64>().ok()?, p.parse::<i64>().ok()?)));
                        if let (Some((m, p)), Some(hub)) = (parsed, bus.upgrade().and_then(|b| b.hub.upgrade())) {
                            hub.ring_moderation(m, p);
                        }
                        continue;
                    }
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
        metrics::gauge!(crate::metrics::REDIS_SUBSCRIBED).set(0.0);
        tracing::warn!("redis bus disconnected; reconnecting");
        backoff(&mut attempt).await;
    }
}
