//! Live delivery of case events to WebSocket connections on this node. One *room* per
//! followed case reads the case's event log from the database (the truth) whenever its
//! doorbell rings and fans each event out to the connections in it, filtered per reader.
//! The bus (in-process, or Redis between nodes) only rings doorbells; a missed ring is
//! made good by the next one or by the once-a-second sweep of log heads.
//!
//! This module knows sockets only as bounded queues of ready-made text frames; the
//! socket handling itself lives in `http::ws`.

pub mod redis_bus;
mod room;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{Notify, mpsc};

use crate::service::live::Reader;
use crate::service::{Doorbell, Person, Service};

/// Tuning of the hub.
#[derive(Clone, Copy, Debug)]
pub struct HubSettings {
    /// Frames queued per connection before it counts as too slow.
    pub outbox_capacity: usize,
    /// How often every room compares its position with the log's head (the safety net
    /// under the bus: a ring lost on Redis costs at most this long).
    pub sweep_interval: Duration,
}

impl Default for HubSettings {
    fn default() -> Self {
        HubSettings {
            outbox_capacity: 512,
            sweep_interval: Duration::from_secs(1),
        }
    }
}

/// What a connection shares with the rooms it is in.
#[derive(Debug, Default)]
pub struct ConnControl {
    /// Set when the connection fell too far behind; it must resync.
    pub lagging: AtomicBool,
    /// Woken when `lagging` is set.
    pub wake: Notify,
}

impl ConnControl {
    /// Marks the connection as too slow and wakes it so it can close.
    pub fn mark_lagging(&self) {
        if !self.lagging.swap(true, Ordering::AcqRel) {
            self.wake.notify_one();
        }
    }
}

/// A connection joining a room.
pub struct Member {
    /// Connection id (unique on this node).
    pub conn_id: u64,
    /// Who reads.
    pub reader: Reader,
    /// Whether the reader sees the verdicts of others' reactions (as checked at
    /// subscription; the room keeps it right as the reader's own reaction comes and goes).
    pub sees_verdicts: bool,
    /// Identity for presence: `(is_staff, id)`.
    pub person: (bool, i64),
    /// The connection's outbox.
    pub outbox: mpsc::Sender<Utf8Bytes>,
    /// The connection's control block.
    pub control: Arc<ConnControl>,
    /// Last sequence number the client has seen.
    pub after: i64,
    /// Epoch the client's position belongs to, if it sent one.
    pub epoch: Option<String>,
}

enum RoomCmd {
    Join(Box<Member>),
    Leave(u64),
    Shutdown,
}

struct RoomHandle {
    cmds: mpsc::UnboundedSender<RoomCmd>,
    notify: Arc<Notify>,
    delivered: Arc<AtomicI64>,
    members: usize,
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct HubStats {
    /// Open WebSocket connections.
    pub connections: AtomicI64,
    /// Frames handed to connection outboxes.
    pub deliveries: AtomicU64,
    /// Events read from the log and fanned out.
    pub events: AtomicU64,
    /// Connections told to resync because they fell behind.
    pub resyncs: AtomicU64,
}

/// Something outside this node that must know which cases the node follows (the Redis
/// bus subscribes to their channels).
pub trait RemoteWatch: Send + Sync + 'static {
    /// The node follows `case_id` now.
    fn watch(&self, case_id: i64);
    /// The node no longer follows `case_id`.
    fn unwatch(&self, case_id: i64);
}

/// Presence shared between nodes: each room reports who watches here, and reads the
/// count over all nodes.
pub trait SharedPresence: Send + Sync + 'static {
    /// The people `(is_staff, id)` watching `case_id` on this node now.
    fn report(&self, case_id: i64, people: &std::collections::HashSet<(bool, i64)>);
    /// `(panelists, staff)` watching `case_id` on all nodes, as last known.
    fn counts(&self, case_id: i64) -> Option<(usize, usize)>;
}

/// A connection following the moderation queues of a municipality.
pub struct ModWatcher {
    /// Connection id.
    pub conn_id: u64,
    /// Municipality slug (for the topic name).
    pub slug: String,
    /// The connection's outbox.
    pub outbox: mpsc::Sender<Utf8Bytes>,
}

/// The rooms of this node.
pub struct Hub {
    service: Arc<Service>,
    settings: HubSettings,
    rooms: Mutex<HashMap<i64, RoomHandle>>,
    remote: OnceLock<Arc<dyn RemoteWatch>>,
    presence: OnceLock<Arc<dyn SharedPresence>>,
    /// Connections following a municipality's moderation queues.
    moderators: Mutex<HashMap<i64, Vec<ModWatcher>>>,
    /// People whose access changed; every connection listens and checks its own again.
    access: tokio::sync::broadcast::Sender<Person>,
    next_conn: AtomicU64,
    /// Counters.
    pub stats: HubStats,
}

impl Hub {
    /// A hub over the service. Connect a bus with [`Service::set_doorbell`]: the
    /// in-process one is [`Hub::local_bell`].
    pub fn new(service: Arc<Service>, settings: HubSettings) -> Arc<Hub> {
        Arc::new(Hub {
            service,
            settings,
            rooms: Mutex::new(HashMap::new()),
            remote: OnceLock::new(),
            presence: OnceLock::new(),
            moderators: Mutex::new(HashMap::new()),
            access: tokio::sync::broadcast::channel(256).0,
            next_conn: AtomicU64::new(1),
            stats: HubStats::default(),
        })
    }

    /// The in-process bus: a commit on this node rings this hub directly.
    pub fn local_bell(self: &Arc<Self>) -> Arc<dyn Doorbell> {
        Arc::new(LocalBell(Arc::downgrade(self)))
    }

    /// Connects a remote bus that must follow what this node follows.
    pub fn set_remote(&self, remote: Arc<dyn RemoteWatch>) {
        let _ = self.remote.set(remote);
    }

    /// Shares presence with other nodes.
    pub fn set_shared_presence(&self, presence: Arc<dyn SharedPresence>) {
        let _ = self.presence.set(presence);
    }

    /// Presence shared between nodes, if any.
    pub fn shared_presence(&self) -> Option<&Arc<dyn SharedPresence>> {
        self.presence.get()
    }

    /// Tells this node's connections that a person's access changed.
    pub fn ring_person(&self, person: Person) {
        let _ = self.access.send(person);
    }

    /// Announcements of changed access, for one connection to listen to. A receiver that
    /// falls behind (`Lagged`) must check its access anyway.
    pub fn access_changes(&self) -> tokio::sync::broadcast::Receiver<Person> {
        self.access.subscribe()
    }

    /// A fresh connection id.
    pub fn next_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Capacity of each connection's outbox.
    pub fn settings_outbox(&self) -> usize {
        self.settings.outbox_capacity
    }

    /// The service.
    pub fn service(&self) -> &Arc<Service> {
        &self.service
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, RoomHandle>> {
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Rings the room of a case whose log grew (no-op if nobody here follows it).
    pub fn ring(&self, case_id: i64, seq: i64) {
        if let Some(room) = self.lock().get(&case_id)
            && seq > room.delivered.load(Ordering::Acquire)
        {
            room.notify.notify_one();
        }
    }

    /// Rings every room (after the bus reconnected and may have missed rings).
    pub fn ring_all(&self) {
        for room in self.lock().values() {
            room.notify.notify_one();
        }
    }

    /// Adds a connection to a case's room, opening the room if needed.
    pub fn join(self: &Arc<Self>, case_id: i64, member: Member) {
        let mut rooms = self.lock();
        let room = rooms.entry(case_id).or_insert_with(|| {
            let (cmds, rx) = mpsc::unbounded_channel();
            let notify = Arc::new(Notify::new());
            let delivered = Arc::new(AtomicI64::new(i64::MAX));
            tokio::spawn(room::run(
                self.clone(),
                case_id,
                rx,
                notify.clone(),
                delivered.clone(),
            ));
            if let Some(r) = self.remote.get() {
                r.watch(case_id);
            }
            RoomHandle {
                cmds,
                notify,
                delivered,
                members: 0,
            }
        });
        room.members += 1;
        let _ = room.cmds.send(RoomCmd::Join(Box::new(member)));
    }

    /// Removes a connection from a case's room, closing the room when it empties.
    pub fn leave(&self, case_id: i64, conn_id: u64) {
        let mut rooms = self.lock();
        let Some(room) = rooms.get_mut(&case_id) else {
            return;
        };
        let _ = room.cmds.send(RoomCmd::Leave(conn_id));
        room.members = room.members.saturating_sub(1);
        if room.members == 0 {
            let _ = room.cmds.send(RoomCmd::Shutdown);
            rooms.remove(&case_id);
            if let Some(r) = self.remote.get() {
                r.unwatch(case_id);
            }
        }
    }

    /// Adds a moderator's connection to a municipality's queue updates.
    pub fn watch_moderation(&self, municipality_id: i64, watcher: ModWatcher) {
        self.moderators
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(municipality_id)
            .or_default()
            .push(watcher);
    }

    /// Removes a connection from a municipality's queue updates.
    pub fn unwatch_moderation(&self, municipality_id: i64, conn_id: u64) {
        let mut all = self.moderators.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(list) = all.get_mut(&municipality_id) {
            list.retain(|w| w.conn_id != conn_id);
            if list.is_empty() {
                all.remove(&municipality_id);
            }
        }
    }

    /// Sends the municipality's current queue sizes, and the post that changed, to the
    /// moderators following them on this node.
    pub fn ring_moderation(self: &Arc<Self>, municipality_id: i64, post_id: i64) {
        let watching = self
            .moderators
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(&municipality_id);
        if !watching {
            return;
        }
        let hub = self.clone();
        tokio::spawn(async move {
            let counts =
                match crate::store::moderation::counts(hub.service.store.db(), municipality_id)
                    .await
                {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(error = %e, "moderation counts failed");
                        return;
                    }
                };
            let all = hub.moderators.lock().unwrap_or_else(|p| p.into_inner());
            for w in all.get(&municipality_id).into_iter().flatten() {
                let msg = frame(&serde_json::json!({
                    "type": "moderation", "topic": format!("moderation:{}", w.slug),
                    "pending": counts.0, "flagged": counts.1, "post_id": post_id,
                }));
                let _ = w.outbox.try_send(msg);
            }
        });
    }

    /// Cases followed on this node.
    pub fn followed(&self) -> Vec<i64> {
        self.lock().keys().copied().collect()
    }

    /// Number of rooms.
    pub fn room_count(&self) -> usize {
        self.lock().len()
    }

    /// Compares every room's position with the log heads in the database and rings the
    /// rooms that are behind: the safety net for rings lost on the bus.
    pub async fn sweep(&self) {
        let followed = self.followed();
        if followed.is_empty() {
            return;
        }
        match self.service.log_heads(&followed).await {
            Ok(heads) => {
                for (case_id, head) in heads {
                    self.ring(case_id, head);
                }
            }
            Err(e) => tracing::warn!(error = %e, "sweep of log heads failed"),
        }
    }

    /// Runs [`Hub::sweep`] every `every` until the process ends.
    pub fn spawn_sweeper(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let hub = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(hub) = hub.upgrade() else { break };
                hub.sweep().await;
            }
        })
    }
}

/// Starts live delivery for a service: the hub, its sweeper, and the bus (Redis when
/// `redis_url` is given, else in-process).
pub fn start(
    service: Arc<Service>,
    redis_url: Option<&str>,
) -> anyhow::Result<(Arc<Hub>, Option<Arc<redis_bus::RedisBus>>)> {
    start_with(service, redis_url, HubSettings::default())
}

/// [`start`] with explicit hub settings.
pub fn start_with(
    service: Arc<Service>,
    redis_url: Option<&str>,
    settings: HubSettings,
) -> anyhow::Result<(Arc<Hub>, Option<Arc<redis_bus::RedisBus>>)> {
    let hub = Hub::new(service.clone(), settings);
    let redis = match redis_url {
        Some(url) => {
            let bus = redis_bus::RedisBus::start(url, &hub)?;
            service.set_doorbell(bus.clone());
            Some(bus)
        }
        None => {
            service.set_doorbell(hub.local_bell());
            None
        }
    };
    hub.spawn_sweeper(settings.sweep_interval);
    Ok((hub, redis))
}

/// The in-process bus: a commit rings this node's room directly.
struct LocalBell(Weak<Hub>);

impl Doorbell for LocalBell {
    fn ring(&self, case_id: i64, seq: i64) {
        if let Some(hub) = self.0.upgrade() {
            hub.ring(case_id, seq);
        }
    }

    fn ring_moderation(&self, municipality_id: i64, post_id: i64) {
        if let Some(hub) = self.0.upgrade() {
            hub.ring_moderation(municipality_id, post_id);
        }
    }

    fn ring_person(&self, person: Person) {
        if let Some(hub) = self.0.upgrade() {
            hub.ring_person(person);
        }
    }
}

/// A small server message as a text frame.
pub fn frame(value: &serde_json::Value) -> Utf8Bytes {
    Utf8Bytes::from(value.to_string())
}
