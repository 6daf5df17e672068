//! One room: the live followers of one case on this node. A single task owns the room,
//! so joins, leaves and deliveries happen in one order: a joining client gets its
//! backlog and then every later event, with no gap and no duplicate.
//!
//! A room keeps no rendered events: a backlog is read from the log and rendered anew,
//! so a resume shows each post as it is now (a replay of frames rendered before an
//! edit, hide, redaction or withdrawal would re-send the old text).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use serde_json::json;
use tokio::sync::{Notify, mpsc};

use super::{Hub, Member, RoomCmd, frame};
use crate::service::live::{Access, LiveEvent, Reader};

/// Events read from the log per query.
const PAGE: u64 = 256;

struct RoomEvent {
    seq: i64,
    full: Utf8Bytes,
    restricted: Option<Utf8Bytes>,
    no_verdict: Option<Utf8Bytes>,
    access: Access,
}

impl RoomEvent {
    fn from_live(e: LiveEvent) -> Self {
        RoomEvent {
            seq: e.seq,
            full: Utf8Bytes::from(e.full),
            restricted: e.restricted.map(Utf8Bytes::from),
            no_verdict: e.no_verdict.map(Utf8Bytes::from),
            access: e.access,
        }
    }

    /// The frame a reader gets (`sees_verdicts`: whether they read others' verdicts).
    fn for_reader(&self, reader: Reader, sees_verdicts: bool) -> &Utf8Bytes {
        match (&self.restricted, &self.no_verdict) {
            (Some(r), _) if !self.access.full_for(reader) => r,
            (_, Some(n)) if !sees_verdicts && reader != Reader::Panelist(self.access.author_id) => {
                n
            }
            _ => &self.full,
        }
    }
}

struct Joined {
    member: Member,
    /// Last sequence number sent to this member.
    pos: i64,
}

struct Room {
    hub: Arc<Hub>,
    case_id: i64,
    topic: String,
    epoch: String,
    last: i64,
    members: Vec<Joined>,
    presence_sent: (usize, usize),
    delivered: Arc<AtomicI64>,
}

pub(super) async fn run(
    hub: Arc<Hub>,
    case_id: i64,
    mut cmds: mpsc::UnboundedReceiver<RoomCmd>,
    notify: Arc<Notify>,
    delivered: Arc<AtomicI64>,
) {
    let head = loop {
        match hub.service().log_head(case_id).await {
            Ok(h) => break h,
            Err(e) => {
                tracing::warn!(case.id = case_id, error = %e, "room cannot read the log head; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    };
    delivered.store(head.seq, Ordering::Release);
    let mut room = Room {
        hub,
        case_id,
        topic: format!("case:{case_id}"),
        epoch: head.epoch,
        last: head.seq,
        members: Vec::new(),
        presence_sent: (0, 0),
        delivered,
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            cmd = cmds.recv() => match cmd {
                None | Some(RoomCmd::Shutdown) => break,
                Some(RoomCmd::Join(m)) => room.join(*m).await,
                Some(RoomCmd::Leave(conn_id)) => room.members.retain(|j| j.member.conn_id != conn_id),
            },
            _ = notify.notified() => room.pump().await,
            _ = tick.tick() => room.push_presence(),
        }
    }
}

impl Room {
    /// Reads every event after `last` from the log and delivers it.
    async fn pump(&mut self) {
        loop {
            let batch = match self
                .hub
                .service()
                .live_events(self.case_id, self.last, PAGE)
                .await
            {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(case.id = self.case_id, error = %e, "room cannot read events");
                    return;
                }
            };
            let n = batch.len() as u64;
            let now = self.hub.service().now();
            for live in batch {
                // From commit to fan-out on this node: the bus, the sweep, the read.
                let lag = (now - live.at).num_milliseconds().max(0) as f64 / 1000.0;
                metrics::histogram!(crate::metrics::DELIVERY_LAG).record(lag);
                let event = RoomEvent::from_live(live);
                self.deliver(&event);
                self.last = event.seq;
            }
            self.delivered.store(self.last, Ordering::Release);
            if n < PAGE {
                break;
            }
        }
    }

    fn deliver(&mut self, event: &RoomEvent) {
        let stats = &self.hub.stats;
        stats.events.fetch_add(1, Ordering::Relaxed);
        let mut sent = 0u64;
        let mut dropped = false;
        for j in &mut self.members {
            if event.seq <= j.pos {
                continue;
            }
            let m = &mut j.member;
            if m.outbox
                .try_send(event.for_reader(m.reader, m.sees_verdicts).clone())
                .is_err()
            {
                m.control.mark_lagging();
                dropped = true;
                continue;
            }
            m.sees_verdicts = event.access.sees_verdicts_after(m.reader, m.sees_verdicts);
            j.pos = event.seq;
            sent += 1;
        }
        stats.deliveries.fetch_add(sent, Ordering::Relaxed);
        if dropped {
            self.drop_lagging();
        }
    }

    fn drop_lagging(&mut self) {
        let before = self.members.len();
        self.members
            .retain(|j| !j.member.control.lagging.load(Ordering::Acquire));
        let gone = (before - self.members.len()) as u64;
        self.hub.stats.resyncs.fetch_add(gone, Ordering::Relaxed);
    }

    async fn join(&mut self, member: Member) {
        // Catch up with the log first, so the acknowledgement's head is current.
        self.pump().await;
        let error = |code: &str, message: &str| {
            frame(&json!({"type": "error", "code": code, "topic": self.topic, "message": message}))
        };
        if member.epoch.as_deref().is_some_and(|e| e != self.epoch) || member.after > self.last {
            let _ = member.outbox.try_send(error(
                "resync_required",
                "Uw positie hoort niet bij deze casus; laad de discussie opnieuw.",
            ));
            return;
        }
        let backlog = (self.last - member.after) as usize;
        if backlog + 2 > self.hub.settings.outbox_capacity {
            let _ = member.outbox.try_send(error(
                "resync_required",
                "U loopt te ver achter; laad de discussie opnieuw.",
            ));
            return;
        }
        let ack = frame(&json!({
            "type": "subscribed", "topic": self.topic, "head": self.last, "epoch": self.epoch,
        }));
        if member.outbox.try_send(ack).is_err() {
            member.control.mark_lagging();
            return;
        }
        if backlog > 0 && !self.send_backlog(&member).await {
            member.control.mark_lagging();
            return;
        }
        let (panelists, staff) = self.presence_counts_with(&member);
        let _ = member
            .outbox
            .try_send(self.presence_frame(panelists, staff));
        self.members.push(Joined {
            pos: self.last,
            member,
        });
    }

    /// Sends the events after the member's position up to `last`, read from the log and
    /// rendered from each post's current state.
    async fn send_backlog(&self, member: &Member) -> bool {
        let mut pos = member.after;
        while pos < self.last {
            let batch = match self
                .hub
                .service()
                .live_events(self.case_id, pos, PAGE)
                .await
            {
                Ok(b) if !b.is_empty() => b,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(case.id = self.case_id, error = %e, "backlog read failed");
                    return false;
                }
            };
            for live in batch {
                if live.seq > self.last {
                    return true;
                }
                pos = live.seq;
                let e = RoomEvent::from_live(live);
                if member
                    .outbox
                    .try_send(e.for_reader(member.reader, member.sees_verdicts).clone())
                    .is_err()
                {
                    return false;
                }
            }
        }
        true
    }

    fn presence_counts_with(&self, extra: &Member) -> (usize, usize) {
        let mut people: HashSet<(bool, i64)> =
            self.members.iter().map(|j| j.member.person).collect();
        people.insert(extra.person);
        let here = count(&people);
        match self
            .hub
            .shared_presence()
            .and_then(|s| s.counts(self.case_id))
        {
            // The shared count may not include the newcomer yet.
            Some(all) => (all.0.max(here.0), all.1.max(here.1)),
            None => here,
        }
    }

    fn presence_frame(&self, panelists: usize, staff: usize) -> Utf8Bytes {
        frame(
            &json!({"type": "presence", "topic": self.topic, "panelists": panelists, "staff": staff}),
        )
    }

    /// Sends presence to everyone when it changed since the last push (at most once a
    /// second, driven by the room's tick).
    fn push_presence(&mut self) {
        let people: HashSet<(bool, i64)> = self.members.iter().map(|j| j.member.person).collect();
        // With several nodes, the people here are reported and the count is theirs
        // and the other nodes' together (as of the last exchange).
        let counts = match self.hub.shared_presence() {
            Some(shared) => {
                shared.report(self.case_id, &people);
                shared
                    .counts(self.case_id)
                    .unwrap_or_else(|| count(&people))
            }
            None => count(&people),
        };
        if counts == self.presence_sent {
            return;
        }
        self.presence_sent = counts;
        let msg = self.presence_frame(counts.0, counts.1);
        for j in &self.members {
            // Presence is best effort: a full outbox skips it rather than resync.
            let _ = j.member.outbox.try_send(msg.clone());
        }
    }
}

fn count(people: &HashSet<(bool, i64)>) -> (usize, usize) {
    let staff = people.iter().filter(|(is_staff, _)| *is_staff).count();
    (people.len() - staff, staff)
}
