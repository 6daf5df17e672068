//! What every resident is told and agrees to: the house rules, accepted once before
//! anything else, and the municipality's own contact (phone, e-mail, opening hours),
//! which panelist pages show and admins set. No axum, no sea-orm: the store does that.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AuditContext;
use super::Service;
use super::error::{Error, Result};
use super::policy::{self, Actor};
use crate::domain::{Role, text_length};
use crate::store::entities::municipality;
use crate::store::{audit, people};

/// A municipality's contact for residents.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct MunicipalContact {
    /// The municipality's name.
    pub name: String,
    /// Phone number, as residents dial it.
    pub phone: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// When someone answers, in plain words.
    pub hours: Option<String>,
}

impl MunicipalContact {
    /// The phone number as a `tel:` link wants it: digits and a leading `+` only.
    pub fn phone_link(&self) -> Option<String> {
        self.phone.as_ref().map(|p| {
            p.chars()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .collect()
        })
    }

    fn of(m: &municipality::Model) -> MunicipalContact {
        MunicipalContact {
            name: m.name.clone(),
            phone: m.contact_phone.clone(),
            email: m.contact_email.clone(),
            hours: m.contact_hours.clone(),
        }
    }
}

/// A new contact; an empty or absent field is cleared.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"phone": "030 286 00 00", "email": "wmo@utrecht.nl", "hours": "maandag tot en met vrijdag van 9.00 tot 17.00 uur"})))]
pub struct ContactInput {
    /// Phone number (digits, spaces, `+`, `-`, `(`, `)`; at most 30 characters).
    #[serde(default)]
    pub phone: Option<String>,
    /// E-mail address (at most 200 characters).
    #[serde(default)]
    pub email: Option<String>,
    /// Opening hours, e.g. "maandag tot en met vrijdag van 9.00 tot 17.00 uur" (at most
    /// 200 characters).
    #[serde(default)]
    pub hours: Option<String>,
}

fn cleaned(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|v| !v.is_empty())
}

impl ContactInput {
    /// Checks and tidies the fields (`invalid_contact` names the field that is wrong).
    fn checked(self) -> Result<ContactInput> {
        let phone = cleaned(self.phone);
        let email = cleaned(self.email);
        let hours = cleaned(self.hours);
        if phone.as_deref().is_some_and(|p| {
            text_length(p) > 30
                || p.chars().filter(char::is_ascii_digit).count() < 3
                || !p.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c))
        }) {
            return Err(Error::invalid(
                "invalid_contact_phone",
                "Vul een telefoonnummer in met cijfers (en eventueel +, -, haakjes of spaties), hoogstens 30 tekens.",
            ));
        }
        if email.as_deref().is_some_and(|e| {
            text_length(e) > 200
                || e.contains(' ')
                || e.split_once('@')
                    .is_none_or(|(local, domain)| local.is_empty() || !domain.contains('.'))
        }) {
            return Err(Error::invalid(
                "invalid_contact_email",
                "Vul een e-mailadres in zoals info@gemeente.nl.",
            ));
        }
        if hours.as_deref().is_some_and(|h| text_length(h) > 200) {
            return Err(Error::invalid(
                "invalid_contact_hours",
                "Beschrijf de openingstijden in hoogstens 200 tekens.",
            ));
        }
        Ok(ContactInput {
            phone,
            email,
            hours,
        })
    }
}

impl Service {
    /// The contact of the actor's own municipality: a panelist's, or `None` for staff
    /// (who may work for several).
    pub async fn my_contact(&self, actor: &Actor) -> Result<Option<MunicipalContact>> {
        match actor {
            Actor::Panelist(p) => Ok(people::municipality_by_id(
                self.store.db(),
                p.municipality_id,
            )
            .await?
            .map(|m| MunicipalContact::of(&m))),
            Actor::Staff(_) => Ok(None),
        }
    }

    /// A municipality's contact as its admins set it.
    pub async fn contact(&self, actor: &Actor, municipality: &str) -> Result<MunicipalContact> {
        let m = self.admin_municipality(actor, municipality).await?;
        Ok(MunicipalContact::of(&m))
    }

    /// Sets a municipality's contact (admins); audited.
    pub async fn set_contact(
        &self,
        actor: &Actor,
        municipality: &str,
        input: ContactInput,
        ctx: &AuditContext,
    ) -> Result<MunicipalContact> {
        let m = self.admin_municipality(actor, municipality).await?;
        let input = input.checked()?;
        let now = self.now();
        let tx = self.store.begin_write().await?;
        let saved = people::set_contact(
            &*tx,
            &m,
            input.phone.as_deref(),
            input.email.as_deref(),
            input.hours.as_deref(),
        )
        .await?;
        audit::append(
            &*tx,
            ctx.entry(
                Some(m.id),
                "municipality.contact",
                "municipality",
                m.slug.clone(),
                serde_json::json!({
                    "phone": saved.contact_phone.is_some(),
                    "email": saved.contact_email.is_some(),
                    "hours": saved.contact_hours.is_some(),
                }),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(MunicipalContact::of(&saved))
    }

    /// A municipality by slug, for its admins ([`policy::require_role`]).
    async fn admin_municipality(&self, actor: &Actor, slug: &str) -> Result<municipality::Model> {
        let m = people::municipality_by_slug(self.store.db(), slug)
            .await?
            .ok_or_else(|| Error::not_found("municipality_not_found"))?;
        policy::require_role(actor, m.id, Role::Admin, "municipality_not_found")?;
        Ok(m)
    }

    /// Whether the actor has accepted the house rules (staff need not).
    pub async fn house_rules_accepted(&self, actor: &Actor) -> Result<bool> {
        match actor {
            Actor::Panelist(p) => Ok(people::panelist_by_id(self.store.db(), p.id)
                .await?
                .is_some_and(|row| row.house_rules_accepted_at.is_some())),
            Actor::Staff(_) => Ok(true),
        }
    }

    /// Records that a panelist accepted the house rules (the first time only).
    pub async fn accept_house_rules(&self, actor: &Actor) -> Result<()> {
        let p = actor.panelist()?;
        let now = self.now();
        let tx = self.store.begin_write().await?;
        people::accept_house_rules(&*tx, p.id, now).await?;
        tx.commit().await?;
        Ok(())
    }
}
