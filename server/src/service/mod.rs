//! The service layer: every rule of Beraad, shared by the HTTP API, the WebSocket and the
//! command line. It takes an [`Actor`](policy::Actor), checks access through
//! [`policy`], validates input, writes through the [`store`](crate::store) in one
//! transaction per change (with the case event in it), and returns plain views.
//! It must not depend on axum.

pub mod analysis;
pub mod audit;
pub mod auth;
pub mod case_text;
pub mod cases;
pub mod clock;
pub mod draws;
pub mod error;
pub mod export;
pub mod invitations;
pub mod limits;
pub mod live;
pub mod moderation;
pub mod notices;
pub mod notifications;
pub mod panels;
pub mod policy;
pub mod posts;
pub mod privacy;
pub mod profile;
pub mod ratelimit;
pub mod retention;
pub mod visits;

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use error::{Error, Result};

use self::clock::Clock;
use self::limits::{LoginLimits, LoginThrottle};
use self::policy::Actor;
use crate::store::Store;
use crate::store::audit::NewAuditEntry;

/// Settings the services follow.
#[derive(Clone, Debug)]
pub struct ServiceSettings {
    /// How long a session lives without use.
    pub session_ttl: chrono::Duration,
    /// Login throttles.
    pub login_limits: LoginLimits,
    /// Rates of posts, replies, weighings and flags per actor.
    pub rate_limits: ratelimit::RateLimits,
}

impl Default for ServiceSettings {
    fn default() -> Self {
        ServiceSettings {
            session_ttl: chrono::Duration::hours(12),
            login_limits: LoginLimits::default(),
            rate_limits: ratelimit::RateLimits::default(),
        }
    }
}

/// Told after every commit that appended a case event, so live viewers hear of it.
/// The database stays the truth: a lost ring only delays delivery until the next one
/// or the next sweep.
pub trait Doorbell: Send + Sync + 'static {
    /// Case `case_id`'s log has grown to `seq`.
    fn ring(&self, case_id: i64, seq: i64);
    /// The moderation queues of a municipality changed, at post `post_id`.
    fn ring_moderation(&self, municipality_id: i64, post_id: i64);
    /// What `person` may read changed (a role revoked, a suspension, a session ended):
    /// their open connections on every node check their access again at once.
    fn ring_person(&self, person: Person);
}

/// A person whose access can change while they are connected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Person {
    /// A staff member, by id.
    Staff(i64),
    /// A panelist, by id.
    Panelist(i64),
}

impl Person {
    /// The person an actor is.
    pub fn of(actor: &policy::Actor) -> Person {
        match actor {
            policy::Actor::Staff(s) => Person::Staff(s.id),
            policy::Actor::Panelist(p) => Person::Panelist(p.id),
        }
    }

    /// Wire form between nodes: `s:ID` or `p:ID`.
    pub fn encode(self) -> String {
        match self {
            Person::Staff(id) => format!("s:{id}"),
            Person::Panelist(id) => format!("p:{id}"),
        }
    }

    /// Reads [`Person::encode`]'s form.
    pub fn decode(text: &str) -> Option<Person> {
        let (kind, id) = text.split_once(':')?;
        let id = id.parse().ok()?;
        match kind {
            "s" => Some(Person::Staff(id)),
            "p" => Some(Person::Panelist(id)),
            _ => None,
        }
    }
}

/// `Service` entry point, cheap to share behind an `Arc`.
pub struct Service {
    /// The database.
    pub store: Store,
    /// Time source.
    pub clock: Arc<dyn Clock>,
    /// Settings.
    pub settings: ServiceSettings,
    login_throttle: LoginThrottle,
    action_limiter: Arc<dyn ratelimit::ActionLimiter>,
    doorbell: std::sync::OnceLock<Arc<dyn Doorbell>>,
    notify: notifications::NotifyState,
}

impl Service {
    /// A service over `store` telling time by `clock`.
    pub fn new(store: Store, clock: Arc<dyn Clock>, settings: ServiceSettings) -> Self {
        let login_throttle = LoginThrottle::new(settings.login_limits);
        let action_limiter = Arc::new(ratelimit::LocalLimiter::new(settings.rate_limits));
        Service {
            store,
            clock,
            settings,
            login_throttle,
            action_limiter,
            doorbell: std::sync::OnceLock::new(),
            notify: notifications::NotifyState::default(),
        }
    }

    /// Connects the real-time layer (once, at start).
    pub fn set_doorbell(&self, doorbell: Arc<dyn Doorbell>) {
        let _ = self.doorbell.set(doorbell);
    }

    /// Replaces the limiter of posts, replies, weighings and flags (e.g. by a
    /// [`ratelimit::RedisLimiter`] shared between nodes), before the service is shared.
    pub fn set_action_limiter(&mut self, l: Arc<dyn ratelimit::ActionLimiter>) {
        self.action_limiter = l;
    }

    /// Counts one `action` by `actor` (keyed by [`Actor::scope`]); fails with
    /// `rate_limited` when over the limit, before anything is stored.
    pub async fn check_rate(&self, action: ratelimit::LimitedAction, actor: &Actor) -> Result<()> {
        let key = actor.scope();
        self.action_limiter.check(action, &key).await
    }

    /// Announces, after commit, that a case's log grew to `seq`.
    pub fn ring(&self, case_id: i64, seq: i64) {
        if let Some(d) = self.doorbell.get() {
            d.ring(case_id, seq);
        }
    }

    /// Announces, after commit, that a municipality's moderation queues changed at a post.
    pub fn ring_moderation(&self, municipality_id: i64, post_id: i64) {
        if let Some(d) = self.doorbell.get() {
            d.ring_moderation(municipality_id, post_id);
        }
    }

    /// Announces, after commit, that a person's access changed, so their open
    /// connections check it again now rather than at the next periodic check.
    pub fn ring_person(&self, person: Person) {
        if let Some(d) = self.doorbell.get() {
            d.ring_person(person);
        }
    }

    /// Now, by the service's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Periodic upkeep: opens and closes cases that are due, forgets expired sessions,
    /// old idempotency records and idle throttle state.
    pub async fn housekeeping(&self) -> Result<()> {
        let now = self.now();
        self.apply_due_transitions().await?;
        self.notification_upkeep().await?;
        self.apply_retention_everywhere().await?;
        crate::store::sessions::purge_expired(self.store.db(), now).await?;
        crate::store::idempotency::purge(self.store.db(), now - chrono::Duration::hours(24))
            .await?;
        self.login_throttle.shrink();
        self.action_limiter.shrink();
        Ok(())
    }
}

/// Who did something and from where, for audit entries.
#[derive(Clone, Debug)]
pub struct AuditContext {
    actor_kind: &'static str,
    actor_id: Option<i64>,
    origin: Option<String>,
}

impl AuditContext {
    /// An actor acting over the network from `ip`.
    pub fn new(actor: &Actor, ip: Option<IpAddr>) -> Self {
        let (kind, id) = actor.audit_identity();
        AuditContext {
            actor_kind: kind,
            actor_id: Some(id),
            origin: ip.map(|i| i.to_string()),
        }
    }

    /// An operator at the command line.
    pub fn cli() -> Self {
        AuditContext {
            actor_kind: "operator",
            actor_id: None,
            origin: Some("cli".into()),
        }
    }

    /// The server itself (scheduled transitions).
    pub fn system() -> Self {
        AuditContext {
            actor_kind: "system",
            actor_id: None,
            origin: None,
        }
    }

    /// The same context without the person: a panelist acting on their own data (leaving
    /// the panel) is logged as "a panelist", without their id or address. Staff stay
    /// accountable and keep both.
    pub fn without_panelist(&self) -> Self {
        if self.actor_kind == "panelist" {
            AuditContext {
                actor_kind: self.actor_kind,
                actor_id: None,
                origin: None,
            }
        } else {
            self.clone()
        }
    }

    /// An entry for a successful action.
    pub fn entry(
        &self,
        municipality_id: Option<i64>,
        action: &'static str,
        object_type: &'static str,
        object_id: String,
        detail: serde_json::Value,
    ) -> NewAuditEntry {
        NewAuditEntry {
            municipality_id,
            actor_kind: self.actor_kind,
            actor_id: self.actor_id,
            action,
            object_type,
            object_id: Some(object_id),
            result: "ok",
            origin: self.origin.clone(),
            detail,
        }
    }
}
