//! A panelist's consented profile: age band, district and own experience with the Wmo.
//! Sharing is voluntary and only with consent; withdrawing consent erases the answers.
//! The district is free text that no moderator sees first, so personal data in it is
//! refused ([`refuse_personal_data`], also used for a flag's note).
//! Staff never see one person's profile, only splits of verdicts by group in which every
//! group under five people is suppressed (see [`super::analysis`]).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{Error, Result};
use super::{AuditContext, Service};
use crate::domain::screening::{self, Reason};
use crate::domain::{AgeBand, WmoExperience};
use crate::store::{audit, people};

/// What a panelist shared about themselves.
#[derive(Clone, Debug, Default, Serialize, ToSchema, PartialEq, Eq)]
pub struct ProfileView {
    /// Whether the panelist agreed that these answers are used in the analysis.
    pub consent: bool,
    /// `18-34`, `35-49`, `50-64`, `65-74` or `75+`.
    #[schema(value_type = Option<AgeBand>)]
    pub age_band: Option<String>,
    /// Their district (wijk), in their own words.
    pub district: Option<String>,
    /// `zelf`, `naaste` or `geen`.
    #[schema(value_type = Option<WmoExperience>)]
    pub wmo_experience: Option<String>,
}

/// A new profile. Without consent every answer is dropped.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"consent": true, "age_band": "65-74", "district": "Overvecht", "wmo_experience": "naaste"})))]
pub struct ProfileInput {
    /// Consent to use the answers in the analysis.
    pub consent: bool,
    /// Age band (empty or absent: not shared).
    #[serde(default)]
    #[schema(schema_with = crate::domain::optional_word::<AgeBand>)]
    pub age_band: Option<String>,
    /// District (at most 80 characters; empty or absent: not shared).
    #[serde(default)]
    #[schema(max_length = 80)]
    pub district: Option<String>,
    /// Own experience with the Wmo (empty or absent: not shared).
    #[serde(default)]
    #[schema(schema_with = crate::domain::optional_word::<WmoExperience>)]
    pub wmo_experience: Option<String>,
}

/// The longest district name accepted.
const MAX_DISTRICT: usize = 80;

fn shared(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Refuses a short text a panelist writes that is stored without a moderator's look
/// ([`screening::refusal`]): personal data with `code` and `message` (which say what the
/// field is for and never repeat the text), direction controls with `direction_control`.
pub(super) fn refuse_personal_data(
    text: &str,
    code: &'static str,
    message: &'static str,
) -> Result<()> {
    match screening::refusal(text) {
        None => Ok(()),
        Some(Reason::DirectionControl) => Err(Error::invalid(
            "direction_control",
            Reason::DirectionControl.message(),
        )),
        Some(_) => Err(Error::invalid(code, message)),
    }
}

impl Service {
    /// The signed-in panelist's own profile.
    pub async fn profile(&self, actor: &super::policy::Actor) -> Result<ProfileView> {
        let p = actor.panelist()?;
        let row = people::panelist_by_id(self.store.db(), p.id)
            .await?
            .ok_or_else(Error::unauthenticated)?;
        Ok(ProfileView {
            consent: row.profile_consent,
            age_band: row.age_band,
            district: row.district,
            wmo_experience: row.wmo_experience,
        })
    }

    /// Stores the signed-in panelist's profile; without consent it erases it.
    pub async fn set_profile(
        &self,
        actor: &super::policy::Actor,
        input: ProfileInput,
        ctx: &AuditContext,
    ) -> Result<ProfileView> {
        let p = actor.panelist()?;
        // Every answer is checked, with consent or without, so a wrong word is refused
        // rather than silently dropped; an empty answer means "not shared".
        let word = |v: &Option<String>| v.clone().filter(|w| !w.is_empty());
        if let Some(a) = word(&input.age_band)
            && AgeBand::parse(&a).is_none()
        {
            return Err(Error::invalid(
                "invalid_age_band",
                format!("Kies een leeftijdsgroep uit: {}.", AgeBand::expected()),
            ));
        }
        if let Some(w) = word(&input.wmo_experience)
            && WmoExperience::parse(&w).is_none()
        {
            return Err(Error::invalid(
                "invalid_wmo_experience",
                format!("Kies een antwoord uit: {}.", WmoExperience::expected()),
            ));
        }
        if input
            .district
            .as_deref()
            .is_some_and(|d| d.chars().count() > MAX_DISTRICT)
        {
            return Err(Error::invalid(
                "district_too_long",
                format!("De naam van de wijk is hoogstens {MAX_DISTRICT} tekens."),
            ));
        }
        let (age_band, district, wmo_experience) = if input.consent {
            (
                word(&input.age_band),
                shared(input.district),
                word(&input.wmo_experience),
            )
        } else {
            (None, None, None)
        };
        if let Some(d) = &district {
            refuse_personal_data(
                d,
                "district_personal_data",
                "Vul bij wijk alleen de naam van uw wijk in, zonder straat, huisnummer, \
                 postcode of andere persoonsgegevens.",
            )?;
        }
        let now = self.now();
        let tx = self.store.begin_write().await?;
        let row = people::panelist_by_id(&*tx, p.id)
            .await?
            .ok_or_else(Error::unauthenticated)?;
        let row = people::set_profile(
            &*tx,
            &row,
            input.consent,
            age_band,
            district,
            wmo_experience,
        )
        .await?;
        // The answers themselves stay out of the audit log.
        audit::append(
            &*tx,
            ctx.entry(
                Some(p.municipality_id),
                if input.consent {
                    "profile.update"
                } else {
                    "profile.erase"
                },
                "panelist",
                p.id.to_string(),
                serde_json::json!({}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(ProfileView {
            consent: row.profile_consent,
            age_band: row.age_band,
            district: row.district,
            wmo_experience: row.wmo_experience,
        })
    }
}
