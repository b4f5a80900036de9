//! Ports: what the core needs from outside, as traits. Adapters live elsewhere: the
//! store in `store`, the WASM plugin host in the `passerelle-plugins` crate (which
//! implements [`Jurisdiction`] and [`Partner`]); `core` never depends on them.
//!
//! Every port method returns `Result<_, PortError>`: a plugin can fail, and safety
//! decisions fail closed on an error, never silently falling back to a default.

use crate::funding::{Ask, CaseFacts, SourceKind};
use crate::identification::{DecidingBody, TraffickingStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A port failed: what to tell the user, and the detail for the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PortError {
    /// A sentence for the user, naming the plugin and what went wrong (no personal data).
    pub message: String,
    /// Machine-readable kind: domain, out_of_fuel, timeout, memory, trap, contract,
    /// incompatible_api, digest_mismatch, unavailable.
    pub kind: String,
}

impl PortError {
    pub fn new(kind: &str, message: impl Into<String>) -> Self {
        Self {
            kind: kind.to_owned(),
            message: message.into(),
        }
    }
}

/// Which question set a question belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuestionSetKind {
    Trafficking,
    Smuggling,
}

/// A screening question with, per language, its text and what an answer may indicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Question {
    /// Stable id, e.g. "t-paid"; answers are keyed by it.
    pub id: String,
    pub set: QuestionSetKind,
    /// Language code → question text.
    pub text: BTreeMap<String, String>,
    /// Language code → what an answer may indicate (an indicator, never a verdict).
    pub indicator: BTreeMap<String, String>,
}

impl Question {
    /// The text in `lang`, else English, else any.
    pub fn text_in(&self, lang: &str) -> &str {
        pick(&self.text, lang)
    }
    pub fn indicator_in(&self, lang: &str) -> &str {
        pick(&self.indicator, lang)
    }
}

fn pick<'a>(m: &'a BTreeMap<String, String>, lang: &str) -> &'a str {
    m.get(lang)
        .or_else(|| m.get("en"))
        .or_else(|| m.values().next())
        .map(String::as_str)
        .unwrap_or("")
}

/// Facts about a person that legal rules depend on. No names, no identifiers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonFacts {
    pub child: bool,
    pub stateless: bool,
    pub nationality: Option<String>,
}

/// How a jurisdiction decides trafficking: steps and who decides at each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRules {
    /// A reasonable-grounds decision must precede the conclusive one.
    pub two_steps: bool,
    /// Who may record each status; empty means any body.
    pub bodies: BTreeMap<String, Vec<DecidingBody>>,
    /// Days after the case is referred within which the reasonable-grounds decision is
    /// expected (None: no such deadline).
    pub reasonable_grounds_due_days: Option<u32>,
}

impl DecisionRules {
    pub fn bodies_for(&self, status: TraffickingStatus) -> Vec<DecidingBody> {
        self.bodies
            .get(status.as_str())
            .cloned()
            .unwrap_or_default()
    }
}

/// A trial protective measure the legal system allows (seed §30).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Measure {
    /// Stable id, e.g. "live_video_link".
    pub id: String,
    /// Language code → label.
    pub label: BTreeMap<String, String>,
    /// Whether granting it removes the need for the person to be present at a hearing.
    pub replaces_presence: bool,
    /// Who may decide on it (a court, the prosecution, ...): a decision names one of them.
    /// Plugins of API 0.1 cannot say it yet: their measures are decided by a court or the
    /// prosecution ([`Measure::DEFAULT_DECIDERS`]).
    #[serde(default)]
    pub decided_by: Vec<DecidingBody>,
}

impl Measure {
    /// Who decides a measure when the catalogue does not say.
    pub const DEFAULT_DECIDERS: &'static [DecidingBody] =
        &[DecidingBody::Court, DecidingBody::Prosecution];

    /// The bodies that may decide on this measure.
    pub fn deciders(&self) -> &[DecidingBody] {
        if self.decided_by.is_empty() {
            Self::DEFAULT_DECIDERS
        } else {
            &self.decided_by
        }
    }
}

/// A document or check required before a return may be approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReturnRequirement {
    pub id: String,
    pub label: BTreeMap<String, String>,
}

/// A proposed stage change, for the jurisdiction's guard. No personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub from: String,
    pub to: String,
    pub facts: PersonFacts,
    /// Facts the core already established, e.g. "consent_present", "risk_high".
    pub flags: Vec<String>,
}

/// The guard's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    Allow,
    Refuse(Vec<String>),
}

/// A request to pay from a fund, as a jurisdiction's extra funding rules see it
/// ([`Jurisdiction::fund_rules`]). Plain values and **no personal data**: no name, no
/// identifier, no date of birth, no reference. The strings are the core's vocabularies
/// (`as_str` of [`SourceKind`], [`CostCategory`](crate::funding::CostCategory),
/// [`Stage`](crate::domain::Stage), [`TraffickingStatus`]);
/// [`FundingAsk::new`] builds one from the funding rules' own types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundingAsk {
    /// The fund's source kind, e.g. "state_budget" ([`SourceKind`]).
    pub source_kind: String,
    /// The cost category, e.g. "travel" ([`CostCategory`](crate::funding::CostCategory)).
    pub category: String,
    /// The amount in minor units of `currency` (cents for EUR), as in the ledger.
    pub amount_minor: i64,
    /// ISO 4217 code, e.g. "EUR".
    pub currency: String,
    /// The case's stage, e.g. "return_in_progress" ([`Stage`](crate::domain::Stage)).
    pub stage: String,
    /// A child on the day of the request.
    pub child: bool,
    /// ISO 3166-1 alpha-2; None when unknown or stateless.
    pub nationality: Option<String>,
    /// The country of return (ISO 3166-1 alpha-2), when a return is planned.
    pub destination_country: Option<String>,
    /// The latest trafficking determination, e.g. "presumed" ([`TraffickingStatus`]).
    pub trafficking_status: Option<String>,
    /// A smuggled migrant with protected-witness status.
    pub protected_witness: bool,
}

impl FundingAsk {
    /// The request to pay `ask` from a fund of `source` for a case with `facts`.
    pub fn new(source: SourceKind, facts: &CaseFacts, ask: &Ask) -> Self {
        Self {
            source_kind: source.as_str().to_owned(),
            category: ask.category.as_str().to_owned(),
            amount_minor: ask.amount,
            currency: ask.currency.code().to_owned(),
            stage: facts.stage.as_str().to_owned(),
            child: facts.child,
            nationality: facts.nationality.as_ref().map(|c| c.as_str().to_owned()),
            destination_country: facts.destination.as_ref().map(|c| c.as_str().to_owned()),
            trafficking_status: facts.trafficking.map(|t| t.as_str().to_owned()),
            protected_witness: facts.protected_witness,
        }
    }
}

/// The legal system of a state: what identification, protection and return follow.
///
/// The last three methods are optional hooks (plugin API 0.2): their default
/// implementations say "nothing to add", so the built-in defaults and plugins of API 0.1
/// need nothing. A plugin that implements one and fails makes the call fail (fail closed),
/// never the default.
pub trait Jurisdiction: Send + Sync {
    /// Who this is, for messages: e.g. "built-in defaults" or "plugin fr-jurisdiction 1.0.0".
    fn describe(&self) -> String;
    /// The screening questions (replacing or extending the defaults).
    fn questions(&self) -> Result<Vec<Question>, PortError>;
    /// The recovery and reflection period, in days, from the reasonable-grounds decision.
    fn recovery_period_days(&self, person: &PersonFacts) -> Result<u32, PortError>;
    /// Decision steps and deciding bodies.
    fn decision_rules(&self) -> Result<DecisionRules, PortError>;
    /// The catalogue of trial protective measures.
    fn protective_measures(&self) -> Result<Vec<Measure>, PortError>;
    /// Documents and checks required before a return.
    fn return_requirements(
        &self,
        person: &PersonFacts,
    ) -> Result<Vec<ReturnRequirement>, PortError>;
    /// Days after arrival at which follow-up visits are due.
    fn follow_up_schedule_days(&self, person: &PersonFacts) -> Result<Vec<u32>, PortError>;
    /// A guard on stage transitions: allow, or refuse with reasons.
    fn guard_transition(&self, t: &Transition) -> Result<Verdict, PortError>;

    /// The jurisdiction's own funding rules, on top of the core's eligibility rules
    /// (`funding::eligibility`, which come first and explain themselves): allow, or refuse
    /// with reasons in the jurisdiction's words. It may refuse what the core allows, never
    /// allow what the core refuses. Default: [`Verdict::Allow`] (no rules of its own).
    fn fund_rules(&self, ask: &FundingAsk) -> Result<Verdict, PortError> {
        let _ = ask;
        Ok(Verdict::Allow)
    }

    /// A replacement for the reintegration indicator set for this person: the TOML text
    /// of a whole set, in the shape of `config/reintegration/rss.toml`, which the caller
    /// checks with [`crate::follow_up::parse_config`] before use. Default: `None` (the
    /// configured set).
    fn reintegration_indicators(&self, person: &PersonFacts) -> Result<Option<String>, PortError> {
        let _ = person;
        Ok(None)
    }

    /// Who decides on the measures of the catalogue: (measure id, the bodies that may
    /// decide on it), each measure at most once. A measure not listed keeps its
    /// `decided_by` (empty: [`Measure::DEFAULT_DECIDERS`]). The plugin host already puts
    /// these into the catalogue that [`Jurisdiction::protective_measures`] returns; this
    /// gives them alone. Default: empty.
    fn measure_deciders(&self) -> Result<Vec<(String, Vec<DecidingBody>)>, PortError> {
        Ok(Vec::new())
    }
}

/// What a partner organisation receives: the sections of a referral or return request
/// that the person consented to disclose. Names appear only when the "person" section
/// was named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartnerRequest {
    /// "referral" or "return_request".
    pub kind: String,
    pub reference: String,
    pub service: String,
    pub sections: Vec<String>,
    pub consent_language: String,
    pub consent_form_version: String,
    pub consented_on: String,
    pub child: bool,
    pub name: Option<String>,
    pub birth_date: Option<String>,
    pub nationality: Option<String>,
    pub stateless: bool,
    pub languages: Option<String>,
    pub destination_country: Option<String>,
    pub notes: Option<String>,
}

/// A partner plugin's answer to a request: its own format, or why it cannot take it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PartnerOutcome {
    /// The request in the partner's own JSON format.
    Formatted(String),
    /// Missing or invalid items, in the partner's words.
    Refused(Vec<String>),
}

/// A status update read back from the partner's format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerStatus {
    pub reference: String,
    /// e.g. "received", "accepted", "declined", "completed".
    pub status: String,
    pub note: Option<String>,
}

/// A partner organisation's formats and rules.
pub trait Partner: Send + Sync {
    fn describe(&self) -> String;
    fn format_request(&self, request: &PartnerRequest) -> Result<PartnerOutcome, PortError>;
    fn read_status(&self, update_json: &str) -> Result<PartnerStatus, PortError>;

    /// Optional hook (plugin API 0.2): the partner's own reintegration indicator set for
    /// this person, as [`Jurisdiction::reintegration_indicators`]: TOML text in the shape
    /// of `config/reintegration/rss.toml`, checked by the caller with
    /// [`crate::follow_up::parse_config`]. Default: `None` (the configured set).
    fn reintegration_indicators(&self, person: &PersonFacts) -> Result<Option<String>, PortError> {
        let _ = person;
        Ok(None)
    }
}

/// Where the core finds the jurisdiction of a country and the partner of an organisation.
/// The plugin registry implements it; [`BuiltIn`] gives the defaults everywhere.
pub trait Adapters: Send + Sync {
    /// The jurisdiction for an ISO 3166-1 alpha-2 country code.
    fn jurisdiction(&self, country: &str) -> std::sync::Arc<dyn Jurisdiction>;
    /// The partner adapter for an organisation, by its partner id, if one is configured.
    fn partner(&self, org_name: &str) -> Option<std::sync::Arc<dyn Partner>>;
}

/// The built-in defaults for every country, no partner adapters.
#[derive(Debug, Clone, Default)]
pub struct BuiltIn;

impl Adapters for BuiltIn {
    fn jurisdiction(&self, _country: &str) -> std::sync::Arc<dyn Jurisdiction> {
        std::sync::Arc::new(DefaultJurisdiction)
    }
    fn partner(&self, _org_name: &str) -> Option<std::sync::Arc<dyn Partner>> {
        None
    }
}

/// The defaults, from the seed (§35 questions; Council of Europe Convention art. 13:
/// a recovery and reflection period of at least 30 days). Used where no plugin serves
/// the jurisdiction.
#[derive(Debug, Clone, Default)]
pub struct DefaultJurisdiction;

/// (id, set, en text, fr text, en indicator, fr indicator)
type Q = (
    &'static str,
    QuestionSetKind,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const DEFAULT_QUESTIONS: &[Q] = &[
    (
        "t-work",
        QuestionSetKind::Trafficking,
        "What work do you do?",
        "Quel travail faites-vous ?",
        "The kind of work may reveal exploitation (purpose).",
        "Le type de travail peut révéler une exploitation (finalité).",
    ),
    (
        "t-paid",
        QuestionSetKind::Trafficking,
        "Are you paid?",
        "Êtes-vous payé·e ?",
        "No pay, or pay taken by someone else, suggests forced labour or debt bondage.",
        "L'absence de salaire, ou un salaire confisqué, évoque le travail forcé ou la servitude pour dettes.",
    ),
    (
        "t-leave-job",
        QuestionSetKind::Trafficking,
        "Are you free to leave your job?",
        "Êtes-vous libre de quitter votre travail ?",
        "Not being free to leave points to coercion (means).",
        "Ne pas être libre de partir indique une contrainte (moyen).",
    ),
    (
        "t-come-go",
        QuestionSetKind::Trafficking,
        "Are you free to come and go as you wish?",
        "Êtes-vous libre d'aller et venir comme vous le souhaitez ?",
        "Restricted movement is a method of control.",
        "La restriction des déplacements est une méthode de contrôle.",
    ),
    (
        "t-threats",
        QuestionSetKind::Trafficking,
        "Have you or your family been threatened?",
        "Vous-même ou votre famille avez-vous été menacés ?",
        "Threats are a means of trafficking.",
        "Les menaces sont un moyen de la traite.",
    ),
    (
        "t-conditions",
        QuestionSetKind::Trafficking,
        "What are your working or living conditions?",
        "Quelles sont vos conditions de travail ou de vie ?",
        "Degrading conditions may indicate exploitation or servitude.",
        "Des conditions dégradantes peuvent indiquer une exploitation ou une servitude.",
    ),
    (
        "t-sleep",
        QuestionSetKind::Trafficking,
        "Where do you sleep?",
        "Où dormez-vous ?",
        "Sleeping at the workplace or under guard suggests control.",
        "Dormir sur le lieu de travail ou sous surveillance suggère un contrôle.",
    ),
    (
        "t-eat",
        QuestionSetKind::Trafficking,
        "Where do you eat?",
        "Où mangez-vous ?",
        "Food given or withheld by the employer suggests dependency.",
        "Une nourriture fournie ou refusée par l'employeur suggère une dépendance.",
    ),
    (
        "t-permission",
        QuestionSetKind::Trafficking,
        "Must you ask permission to eat, sleep or go to the toilet?",
        "Devez-vous demander la permission pour manger, dormir ou aller aux toilettes ?",
        "Needing permission for basic needs is a strong sign of control.",
        "Devoir demander la permission pour ses besoins élémentaires est un signe fort de contrôle.",
    ),
    (
        "t-locks",
        QuestionSetKind::Trafficking,
        "Are there locks on doors and windows that you cannot open?",
        "Y a-t-il sur les portes et les fenêtres des verrous que vous ne pouvez pas ouvrir ?",
        "Confinement points to force or abduction.",
        "L'enfermement indique la force ou l'enlèvement.",
    ),
    (
        "t-documents",
        QuestionSetKind::Trafficking,
        "Have your identity papers or other documents been taken from you?",
        "Vous a-t-on pris vos papiers d'identité ou d'autres documents ?",
        "Withheld documents are a method of control.",
        "La confiscation des documents est une méthode de contrôle.",
    ),
    (
        "s-organiser",
        QuestionSetKind::Smuggling,
        "Who organised your journey?",
        "Qui a organisé votre voyage ?",
        "Someone who procured the crossing may be a smuggler.",
        "La personne qui a organisé le passage peut être un passeur.",
    ),
    (
        "s-arrival",
        QuestionSetKind::Smuggling,
        "How did you arrive here?",
        "Comment êtes-vous arrivé·e ici ?",
        "An irregular entry is an element of smuggling.",
        "Une entrée irrégulière est un élément du trafic de migrants.",
    ),
    (
        "s-transport",
        QuestionSetKind::Smuggling,
        "By what means of transport?",
        "Par quel moyen de transport ?",
        "Dangerous transport may mean other crimes against the person.",
        "Un transport dangereux peut révéler d'autres infractions contre la personne.",
    ),
    (
        "s-needs",
        QuestionSetKind::Smuggling,
        "How did you eat, drink, go to the toilet?",
        "Comment avez-vous mangé, bu, fait vos besoins ?",
        "Deprivation on the way may be a crime the person suffered.",
        "Des privations pendant le voyage peuvent être une infraction subie.",
    ),
    (
        "s-treatment",
        QuestionSetKind::Smuggling,
        "How were you treated?",
        "Comment avez-vous été traité·e ?",
        "Violence on the way makes the person a victim of other crimes (§25).",
        "Des violences pendant le voyage font de la personne une victime d'autres infractions (§25).",
    ),
    (
        "s-cost",
        QuestionSetKind::Smuggling,
        "How much did the journey cost?",
        "Combien a coûté le voyage ?",
        "A fee for the crossing is the smuggler's benefit.",
        "Le prix du passage est le profit du passeur.",
    ),
    (
        "s-other-costs",
        QuestionSetKind::Smuggling,
        "Did you have other costs to pay?",
        "Avez-vous eu d'autres frais à payer ?",
        "A debt still owed on arrival may turn smuggling into trafficking.",
        "Une dette encore due à l'arrivée peut transformer le trafic en traite.",
    ),
    (
        "s-documents",
        QuestionSetKind::Smuggling,
        "What documents did you need to travel?",
        "De quels documents aviez-vous besoin pour voyager ?",
        "False or borrowed documents suggest a procured irregular entry.",
        "Des documents faux ou prêtés suggèrent une entrée irrégulière organisée.",
    ),
];

impl Jurisdiction for DefaultJurisdiction {
    fn describe(&self) -> String {
        "built-in defaults".into()
    }

    fn questions(&self) -> Result<Vec<Question>, PortError> {
        Ok(DEFAULT_QUESTIONS
            .iter()
            .map(|(id, set, en, fr, ien, ifr)| Question {
                id: (*id).into(),
                set: *set,
                text: [
                    ("en".to_owned(), (*en).to_owned()),
                    ("fr".to_owned(), (*fr).to_owned()),
                ]
                .into(),
                indicator: [
                    ("en".to_owned(), (*ien).to_owned()),
                    ("fr".to_owned(), (*ifr).to_owned()),
                ]
                .into(),
            })
            .collect())
    }

    fn recovery_period_days(&self, _person: &PersonFacts) -> Result<u32, PortError> {
        Ok(30)
    }

    fn decision_rules(&self) -> Result<DecisionRules, PortError> {
        Ok(DecisionRules {
            two_steps: false,
            bodies: BTreeMap::new(),
            reasonable_grounds_due_days: None,
        })
    }

    fn protective_measures(&self) -> Result<Vec<Measure>, PortError> {
        Ok(DEFAULT_MEASURES
            .iter()
            .map(|(id, en, fr, replaces, deciders)| Measure {
                id: (*id).into(),
                label: [
                    ("en".to_owned(), (*en).to_owned()),
                    ("fr".to_owned(), (*fr).to_owned()),
                ]
                .into(),
                replaces_presence: *replaces,
                decided_by: deciders.to_vec(),
            })
            .collect())
    }

    fn return_requirements(
        &self,
        person: &PersonFacts,
    ) -> Result<Vec<ReturnRequirement>, PortError> {
        let mut ids: Vec<(&str, &str, &str)> = vec![
            (
                "informed_consent",
                "Informed consent to return",
                "Consentement éclairé au retour",
            ),
            (
                "risk_assessment",
                "Risk assessment",
                "Évaluation des risques",
            ),
            (
                "travel_document",
                "Travel document (passport or laissez-passer)",
                "Document de voyage (passeport ou laissez-passer)",
            ),
            (
                "reception_arranged",
                "Reception on arrival arranged",
                "Accueil à l'arrivée organisé",
            ),
        ];
        if !person.stateless {
            ids.push((
                "citizenship_confirmed",
                "Citizenship confirmed by the origin state",
                "Nationalité confirmée par l'État d'origine",
            ));
        }
        if person.child {
            ids.push((
                "best_interests_determination",
                "Best-interests determination",
                "Détermination de l'intérêt supérieur de l'enfant",
            ));
            ids.push(("guardian_appointed", "Guardian appointed", "Tuteur désigné"));
        }
        Ok(ids
            .into_iter()
            .map(|(id, en, fr)| ReturnRequirement {
                id: id.into(),
                label: [
                    ("en".to_owned(), en.to_owned()),
                    ("fr".to_owned(), fr.to_owned()),
                ]
                .into(),
            })
            .collect())
    }

    fn follow_up_schedule_days(&self, _person: &PersonFacts) -> Result<Vec<u32>, PortError> {
        Ok(vec![30, 90, 180, 365])
    }

    fn guard_transition(&self, _t: &Transition) -> Result<Verdict, PortError> {
        Ok(Verdict::Allow)
    }
}

/// (id, en, fr, replaces presence) — the seed's §30 list.
/// The §30 measures: id, English and French labels, whether granting it replaces the
/// person's presence, and who decides on it (the trial court rules on how testimony is
/// given; the prosecution decides not to prosecute a victim's compelled acts and, with the
/// police, on physical protection).
#[allow(clippy::type_complexity)]
const DEFAULT_MEASURES: &[(&str, &str, &str, bool, &[DecidingBody])] = &[
    (
        "video_recorded_testimony",
        "Video recording of testimony before trial",
        "Enregistrement vidéo du témoignage avant le procès",
        true,
        &[DecidingBody::Court, DecidingBody::Prosecution],
    ),
    (
        "live_video_link",
        "Live video link from the country of origin",
        "Liaison vidéo en direct depuis le pays d'origine",
        true,
        &[DecidingBody::Court],
    ),
    (
        "screens",
        "Screens so the person does not face the accused",
        "Paravents pour que la personne ne voie pas l'accusé",
        false,
        &[DecidingBody::Court],
    ),
    (
        "in_camera",
        "Testimony in camera",
        "Témoignage à huis clos",
        false,
        &[DecidingBody::Court],
    ),
    (
        "identity_protection",
        "Protection of identity from the press",
        "Protection de l'identité vis-à-vis de la presse",
        false,
        &[DecidingBody::Court],
    ),
    (
        "non_punishment",
        "Non-punishment for acts the person was compelled to commit",
        "Non-sanction des actes que la personne a été contrainte de commettre",
        false,
        &[DecidingBody::Prosecution, DecidingBody::Court],
    ),
    (
        "physical_protection",
        "Physical protection of the person and of their family",
        "Protection physique de la personne et de sa famille",
        false,
        &[DecidingBody::Prosecution, DecidingBody::Police],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    struct Minimal;

    impl Jurisdiction for Minimal {
        fn describe(&self) -> String {
            "minimal".into()
        }
        fn questions(&self) -> Result<Vec<Question>, PortError> {
            Err(PortError::new("domain", "not asked"))
        }
        fn recovery_period_days(&self, _: &PersonFacts) -> Result<u32, PortError> {
            Ok(30)
        }
        fn decision_rules(&self) -> Result<DecisionRules, PortError> {
            Err(PortError::new("domain", "not asked"))
        }
        fn protective_measures(&self) -> Result<Vec<Measure>, PortError> {
            Ok(vec![])
        }
        fn return_requirements(
            &self,
            _: &PersonFacts,
        ) -> Result<Vec<ReturnRequirement>, PortError> {
            Ok(vec![])
        }
        fn follow_up_schedule_days(&self, _: &PersonFacts) -> Result<Vec<u32>, PortError> {
            Ok(vec![])
        }
        fn guard_transition(&self, _: &Transition) -> Result<Verdict, PortError> {
            Ok(Verdict::Refuse(vec!["never".into()]))
        }
    }

    struct MinimalPartner;

    impl Partner for MinimalPartner {
        fn describe(&self) -> String {
            "minimal partner".into()
        }
        fn format_request(&self, _: &PartnerRequest) -> Result<PartnerOutcome, PortError> {
            Ok(PartnerOutcome::Refused(vec!["no".into()]))
        }
        fn read_status(&self, _: &str) -> Result<PartnerStatus, PortError> {
            Err(PortError::new("domain", "no"))
        }
    }

    fn ask() -> FundingAsk {
        use crate::domain::{CountryCode, Stage};
        use crate::funding::{CostCategory, Currency};
        let facts = CaseFacts {
            trafficking: Some(TraffickingStatus::Presumed),
            protected_witness: false,
            child: true,
            nationality: Some(CountryCode::parse("ng").unwrap()),
            destination: None,
            stage: Stage::SolutionPlanning,
        };
        let ask = Ask {
            category: CostCategory::Travel,
            amount: 125_050,
            currency: Currency::parse("EUR").unwrap(),
            on: chrono::NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
        };
        FundingAsk::new(SourceKind::StateBudget, &facts, &ask)
    }

    #[test]
    fn funding_ask_carries_the_core_vocabularies_and_no_personal_data() {
        assert_eq!(
            ask(),
            FundingAsk {
                source_kind: "state_budget".into(),
                category: "travel".into(),
                amount_minor: 125_050,
                currency: "EUR".into(),
                stage: "solution_planning".into(),
                child: true,
                nationality: Some("NG".into()),
                destination_country: None,
                trafficking_status: Some("presumed".into()),
                protected_witness: false,
            }
        );
    }

    /// The follow-up schedule comes from the port: the default jurisdiction's offsets
    /// become visits at 1, 3, 6 and 12 months after the arrival (the French example's own
    /// are shown over HTTP in tests/tests/follow_up.rs).
    #[test]
    fn the_follow_up_visits_come_from_the_jurisdictions_schedule() {
        let person = PersonFacts {
            child: false,
            stateless: false,
            nationality: Some("NG".into()),
        };
        let arrival = chrono::NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
        let days = DefaultJurisdiction
            .follow_up_schedule_days(&person)
            .unwrap();
        let visits = crate::follow_up::schedule(arrival, &days).unwrap();
        let on = |m: u32, d: u32| chrono::NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        assert_eq!(
            visits,
            vec![
                on(2, 14),
                on(4, 15),
                on(7, 14),
                chrono::NaiveDate::from_ymd_opt(2027, 1, 15).unwrap()
            ]
        );
        // A jurisdiction that gives no visit is refused by the rule (the server then
        // refuses the arrival, 503, rather than record it without a follow-up).
        let none = Minimal.follow_up_schedule_days(&person).unwrap();
        assert!(crate::follow_up::schedule(arrival, &none).is_err());
    }

    #[test]
    fn the_optional_hooks_default_to_nothing_to_add() {
        let person = PersonFacts {
            child: false,
            stateless: false,
            nationality: None,
        };
        for j in [&DefaultJurisdiction as &dyn Jurisdiction, &Minimal] {
            assert_eq!(j.fund_rules(&ask()).unwrap(), Verdict::Allow);
            assert_eq!(j.reintegration_indicators(&person).unwrap(), None);
            assert!(j.measure_deciders().unwrap().is_empty());
        }
        assert_eq!(
            MinimalPartner.reintegration_indicators(&person).unwrap(),
            None
        );
        // The built-in catalogue says who decides without the hook.
        let m = DefaultJurisdiction.protective_measures().unwrap();
        let link = m.iter().find(|m| m.id == "live_video_link").unwrap();
        assert_eq!(link.deciders(), &[DecidingBody::Court]);
    }

    #[test]
    fn defaults_hold_the_seed_questions_in_both_languages() {
        let q = DefaultJurisdiction.questions().unwrap();
        assert_eq!(
            q.iter()
                .filter(|q| q.set == QuestionSetKind::Trafficking)
                .count(),
            11
        );
        assert_eq!(
            q.iter()
                .filter(|q| q.set == QuestionSetKind::Smuggling)
                .count(),
            8
        );
        let mut ids: Vec<_> = q.iter().map(|q| q.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), q.len(), "ids are unique");
        for x in &q {
            assert!(!x.text_in("fr").is_empty() && !x.indicator_in("en").is_empty());
            assert_ne!(x.text_in("fr"), x.text_in("en"));
        }
        assert_eq!(
            q[1].text_in("de"),
            "Are you paid?",
            "unknown language falls back to English"
        );
        let facts = PersonFacts {
            child: true,
            stateless: false,
            nationality: None,
        };
        assert_eq!(
            DefaultJurisdiction.recovery_period_days(&facts).unwrap(),
            30
        );
    }
}
