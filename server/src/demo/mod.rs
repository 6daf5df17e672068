//! Demo data a newcomer can use at once: municipalities `utrecht` and `zoetermeer`, one
//! panel each, eight anonymised cases in Dutch (some open, some closed with a sample
//! discussion, some scheduled), staff accounts and panelist codes. Everything is written
//! through the service layer, with a hand-set clock so the discussions have a history.

use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Deserialize;

use crate::domain::Role;
use crate::domain::secrets::{format_invite_code, hash_invite_code};
use crate::service::cases::{FrameItem, NewCase, Schedule, TrailStep};
use crate::service::clock::ManualClock;
use crate::service::draws::{DrawFeature, DrawRequest, FeatureTargets};
use crate::service::policy::{Actor, PanelistActor};
use crate::service::posts::{NewPostInput, WeighingInput};
use crate::service::profile::ProfileInput;
use crate::service::{AuditContext, Service, ServiceSettings};
use crate::store::{Store, people};

/// Password of every demo staff account. Demo only: never use demo data in production.
pub const DEMO_PASSWORD: &str = "beraad-demo-2026";

const CASES_JSON: &str = include_str!("cases.json");

/// Panelists per demo panel.
const PANELISTS: usize = 12;
/// Seats in the draw of a scheduled demo case.
const DRAWN_SEATS: u32 = 8;

#[derive(Deserialize)]
struct DemoCase {
    municipality: String,
    title: String,
    domain: String,
    provision: String,
    outcome: String,
    summary: String,
    situation: String,
    decision: String,
    considerations: Vec<String>,
    frame: Vec<FrameItem>,
    trail: Vec<DemoTrailStep>,
    questions: Vec<String>,
    status: String,
    sample_discussion: Vec<DemoPost>,
}

#[derive(Deserialize)]
struct DemoTrailStep {
    days_before_open: i64,
    step: String,
    text: String,
}

#[derive(Deserialize)]
struct DemoPost {
    author: usize,
    #[serde(default)]
    verdict: Option<String>,
    body: String,
    #[serde(default)]
    replies: Vec<DemoPost>,
}

/// Logins created by the seed, to print at start.
pub struct DemoSummary {
    /// `(municipality, role, e-mail)` of every staff account.
    pub staff: Vec<(String, Role, String)>,
    /// `(panel, code)` of some panelist codes.
    pub codes: Vec<(String, String)>,
}

impl DemoSummary {
    /// Text for the terminal.
    pub fn render(&self, url: Option<&str>) -> String {
        let mut out = String::from("\nDemo-gegevens / demo data\n");
        if let Some(url) = url {
            out.push_str(&format!("  Open {url} in uw browser.\n"));
        }
        out.push_str(&format!("  Medewerkers (wachtwoord: {DEMO_PASSWORD}):\n"));
        for (m, role, email) in &self.staff {
            out.push_str(&format!("    {m:<11} {:<10} {email}\n", role.as_str()));
        }
        out.push_str("  Panelleden (code uit de brief):\n");
        for (panel, code) in &self.codes {
            out.push_str(&format!("    {panel:<11} {code}\n"));
        }
        out
    }
}

/// The fixed demo code of panelist `n` (0-based) of a municipality.
fn demo_code(municipality: &str, n: usize) -> String {
    const TAIL: &[u8] = b"23456789ABCDEFGH";
    let prefix = if municipality == "utrecht" {
        "UTRECHTPANEL"
    } else {
        "ZTMEERPANELD"
    };
    format!("{prefix}{}", TAIL[n % TAIL.len()] as char)
}

/// Seeds the demo into an empty database; `None` if it already holds data.
pub async fn seed(store: &Store) -> anyhow::Result<Option<DemoSummary>> {
    if people::count_municipalities(store.db()).await? > 0 {
        return Ok(None);
    }
    let cases: Vec<DemoCase> = serde_json::from_str(CASES_JSON).context("demo cases")?;
    let now = Utc::now();
    let clock = Arc::new(ManualClock::new(now));
    // The seed writes a whole history at once: the per-panelist limits do not apply.
    let settings = ServiceSettings {
        rate_limits: crate::service::ratelimit::RateLimits::unlimited(),
        ..ServiceSettings::default()
    };
    let service = Service::new(store.clone(), clock.clone(), settings);
    let ctx = AuditContext::cli();
    let mut summary = DemoSummary {
        staff: Vec::new(),
        codes: Vec::new(),
    };
    let mut rng = StdRng::seed_from_u64(2026);

    for (slug, name, phone) in [
        ("utrecht", "Gemeente Utrecht", "030 000 00 00"),
        ("zoetermeer", "Gemeente Zoetermeer", "079 000 00 00"),
    ] {
        service.create_municipality(slug, name).await?;
        // A made-up number and address: the demo sends nobody to a real desk.
        let m = people::municipality_by_slug(store.db(), slug)
            .await?
            .context("demo municipality")?;
        people::set_contact(
            store.db(),
            &m,
            Some(phone),
            Some(&format!("panel@{slug}.demo")),
            Some("maandag tot en met vrijdag van 9.00 tot 17.00 uur"),
        )
        .await?;
        let panel_name = format!("Bewonerspanel {}", &name["Gemeente ".len()..]);
        service.create_panel(slug, slug, &panel_name).await?;
        let codes: Vec<String> = (0..PANELISTS).map(|n| demo_code(slug, n)).collect();
        service
            .create_panelists_with_codes(slug, &codes, &ctx)
            .await?;
        for code in codes.iter().take(3) {
            summary
                .codes
                .push((slug.to_owned(), format_invite_code(code)));
        }
        for (role, local) in [
            (Role::Admin, "beheer"),
            (Role::Moderator, "moderator"),
            (Role::Analyst, "analist"),
        ] {
            let email = format!("{local}@{slug}.demo");
            let display = format!("{} ({})", local, &name["Gemeente ".len()..]);
            service
                .create_staff(slug, &email, &display, role, DEMO_PASSWORD, &ctx)
                .await?;
            summary.staff.push((slug.to_owned(), role, email));
        }
        seed_profiles(&service, slug, &ctx).await?;
    }

    for case in cases {
        seed_case(&service, &clock, now, case, &mut rng).await?;
    }
    clock.set(now);
    Ok(Some(summary))
}

/// Most demo panelists share a profile, so the analysis shows splits by group (and
/// suppresses the small ones); two do not consent.
async fn seed_profiles(
    service: &Service,
    municipality: &str,
    ctx: &AuditContext,
) -> anyhow::Result<()> {
    const AGES: [&str; 4] = ["65-74", "50-64", "75+", "35-49"];
    const DISTRICTS: [&str; 2] = ["Noord", "Centrum"];
    const WMO: [&str; 3] = ["zelf", "geen", "naaste"];
    for (n, actor) in panelists_of(service, municipality)
        .await?
        .iter()
        .enumerate()
    {
        let input = if n % 6 == 5 {
            ProfileInput::default()
        } else {
            ProfileInput {
                consent: true,
                age_band: Some(AGES[n % AGES.len()].into()),
                district: Some(DISTRICTS[n % DISTRICTS.len()].into()),
                wmo_experience: Some(WMO[n % WMO.len()].into()),
            }
        };
        service.set_profile(actor, input, ctx).await?;
    }
    Ok(())
}

async fn panelists_of(service: &Service, municipality: &str) -> anyhow::Result<Vec<Actor>> {
    let db = service.store.db();
    let panel = people::panel_by_slug(db, municipality)
        .await?
        .context("demo panel")?;
    let mut out = Vec::new();
    for n in 0..PANELISTS {
        let p = people::panelist_by_code_hash(db, &hash_invite_code(&demo_code(municipality, n)))
            .await?
            .context("demo panelist")?;
        out.push(Actor::Panelist(PanelistActor {
            id: p.id,
            panel_id: panel.id,
            municipality_id: panel.municipality_id,
            pseudonym: p.pseudonym,
            suspended_until: None,
            suspended_reason: None,
        }));
    }
    Ok(out)
}

async fn seed_case(
    service: &Service,
    clock: &ManualClock,
    now: DateTime<Utc>,
    case: DemoCase,
    rng: &mut StdRng,
) -> anyhow::Result<()> {
    let db = service.store.db();
    let admin_email = format!("beheer@{}.demo", case.municipality);
    let admin_id = people::staff_by_email(db, &admin_email)
        .await?
        .context("demo admin")?
        .id;
    let admin = Actor::Staff(service.staff_actor(admin_id).await?.context("demo admin")?);
    let ctx = AuditContext::cli();

    // When the case opens and closes, relative to now.
    let (opens_at, closes_at) = match case.status.as_str() {
        "closed" => (now - Duration::days(30), now - Duration::days(2)),
        "open" => (now - Duration::days(4), now + Duration::days(14)),
        _ => (now + Duration::days(7), now + Duration::days(28)),
    };
    clock.set(opens_at.min(now) - Duration::hours(1));
    let trail = case
        .trail
        .into_iter()
        .map(|t| TrailStep {
            date: Some(
                (opens_at - Duration::days(t.days_before_open))
                    .format("%Y-%m-%d")
                    .to_string(),
            ),
            step: t.step,
            text: t.text,
        })
        .collect();
    let created = service
        .create_case(
            &admin,
            NewCase {
                municipality: case.municipality.clone(),
                title: case.title,
                domain: case.domain,
                provision: case.provision,
                outcome: case.outcome,
                summary: case.summary,
                situation: case.situation,
                decision: case.decision,
                considerations: case.considerations,
                frame: case.frame,
                trail,
                questions: case.questions,
                panels: vec![case.municipality.clone()],
                moderation_mode: None,
                min_length: None,
                max_length: None,
                max_depth: None,
                allow_links: None,
                hide_tallies_until_reacted: None,
                hold_first_post: None,
            },
            &ctx,
        )
        .await?;
    service
        .schedule_case(
            &admin,
            created.id,
            Schedule {
                opens_at,
                closes_at: Some(closes_at),
                // The demo texts have no findings (a unit test of `case_text` checks).
                confirm_findings: false,
            },
            &ctx,
        )
        .await?;
    if case.status == "scheduled" {
        // A scheduled case goes before a drawn part of the panel, balanced on the pool's
        // own make-up, so the demo shows a draw and its report.
        let pool = service.pool_profile(Some(&admin), created.id).await?;
        let feature = DrawFeature::WmoExperience;
        let shares = pool
            .iter()
            .filter(|p| p.feature == feature)
            .map(|p| (p.value.clone(), p.share))
            .collect();
        service
            .make_draw(
                Some(&admin),
                created.id,
                DrawRequest {
                    size: DRAWN_SEATS,
                    seed: format!("demo {}", created.id),
                    tolerance: 1,
                    features: vec![FeatureTargets { feature, shares }],
                },
                &ctx,
            )
            .await?;
        return Ok(());
    }
    clock.set(opens_at);
    service.apply_due_transitions().await?;

    let panelists = panelists_of(service, &case.municipality).await?;
    let speaking_until = if case.status == "closed" {
        closes_at
    } else {
        now
    };
    let span = (speaking_until - opens_at).num_minutes().max(60);
    let steps = case
        .sample_discussion
        .iter()
        .map(count_posts)
        .sum::<usize>()
        .max(1) as i64;
    let mut at = opens_at;
    let mut post_ids = Vec::new();
    for reaction in &case.sample_discussion {
        seed_post(
            service,
            clock,
            &panelists,
            created.id,
            None,
            reaction,
            &mut at,
            span / (steps + 1),
            &mut post_ids,
        )
        .await?;
    }
    // Panelists weigh each other's arguments.
    clock.set(at + Duration::minutes(5));
    for (post_id, author) in &post_ids {
        for (n, actor) in panelists.iter().enumerate() {
            if n == *author || !rng.gen_bool(0.6) {
                continue;
            }
            let value = *["agree", "agree", "disagree", "pass"]
                .choose(rng)
                .unwrap_or(&"pass");
            service
                .weigh_post(
                    actor,
                    *post_id,
                    WeighingInput {
                        value: value.into(),
                    },
                )
                .await?;
        }
    }
    if case.status == "closed" {
        clock.set(closes_at);
        service.apply_due_transitions().await?;
    }
    Ok(())
}

fn count_posts(p: &DemoPost) -> usize {
    1 + p.replies.iter().map(count_posts).sum::<usize>()
}

#[allow(clippy::too_many_arguments)]
async fn seed_post(
    service: &Service,
    clock: &ManualClock,
    panelists: &[Actor],
    case_id: i64,
    parent: Option<i64>,
    post: &DemoPost,
    at: &mut DateTime<Utc>,
    step_minutes: i64,
    ids: &mut Vec<(i64, usize)>,
) -> anyhow::Result<()> {
    *at += Duration::minutes(step_minutes.max(1));
    clock.set(*at);
    let author = post.author.saturating_sub(1) % panelists.len();
    let stored = service
        .create_post(
            &panelists[author],
            case_id,
            NewPostInput {
                verdict: if parent.is_none() {
                    post.verdict.clone()
                } else {
                    None
                },
                body: post.body.clone(),
                parent_id: parent,
            },
            None,
        )
        .await
        .with_context(|| format!("demo post in case {case_id}"))?;
    ids.push((stored.id, author));
    for reply in &post.replies {
        Box::pin(seed_post(
            service,
            clock,
            panelists,
            case_id,
            Some(stored.id),
            reply,
            at,
            step_minutes,
            ids,
        ))
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::secrets::plausible_invite_code;

    #[test]
    fn demo_codes_are_valid_and_distinct() {
        let mut all = Vec::new();
        for m in ["utrecht", "zoetermeer"] {
            for n in 0..PANELISTS {
                let c = demo_code(m, n);
                assert!(plausible_invite_code(&c), "{c}");
                all.push(c);
            }
        }
        let before = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), before);
    }

    #[test]
    fn demo_cases_parse() {
        let cases: Vec<DemoCase> = serde_json::from_str(CASES_JSON).expect("cases.json");
        assert_eq!(cases.len(), 8);
    }
}
