//! Identification rules (seed §2, §21–29, §35): the elements of the Trafficking Protocol
//! and of smuggling, the suggested assessment with its plain-language explanation, the
//! separate determinations, and their consequences. Pure: no I/O.

use crate::domain::Invalid;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

macro_rules! vocab {
    ($(#[$m:meta])* $name:ident, $field:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $text),+ } }
            pub fn parse(s: &str) -> Result<Self, Invalid> {
                match s.trim() {
                    $($text => Ok($name::$variant),)+
                    other => Err(Invalid::new($field, format!(
                        "unknown value '{}'; expected one of: {}",
                        other.chars().take(40).collect::<String>(),
                        [$($text),+].join(", ")))),
                }
            }
        }
    };
}

vocab!(
    /// The act element (Protocol art. 3 a).
    Act, "acts" {
        Recruitment => "recruitment",
        Transportation => "transportation",
        Transfer => "transfer",
        Harbouring => "harbouring",
        Receipt => "receipt",
    }
);

vocab!(
    /// The means element; not required for a child.
    Means, "means" {
        Threat => "threat",
        Force => "force",
        Coercion => "coercion",
        Abduction => "abduction",
        Fraud => "fraud",
        Deception => "deception",
        AbuseOfPower => "abuse_of_power",
        AbuseOfVulnerability => "abuse_of_vulnerability",
        PaymentToControllingPerson => "payment_to_controlling_person",
    }
);

vocab!(
    /// Purpose: types of exploitation (HTCDS v2.0, plus forced criminality, HTCDS #28).
    Exploitation, "purposes" {
        ForcedLabour => "forced_labour",
        SexualExploitation => "sexual_exploitation",
        ChildLabour => "child_labour",
        ForcedMarriage => "forced_marriage",
        Servitude => "servitude",
        ForcedMilitaryByNonStateActors => "forced_military_by_non_state_actors",
        OrganRemoval => "organ_removal",
        ForcedBegging => "forced_begging",
        ForcedAdoption => "forced_adoption",
        Surrogacy => "surrogacy",
        ForcedCriminality => "forced_criminality",
        Other => "other",
    }
);

vocab!(
    /// Methods of control (HTCDS v2.0 vocabulary, abridged).
    Control, "controls" {
        DebtBondage => "debt_bondage",
        TakesEarnings => "takes_earnings",
        WithholdsDocuments => "withholds_documents",
        ThreatsLawEnforcement => "threats_law_enforcement",
        ThreatsToFamily => "threats_to_family",
        PhysicalAbuse => "physical_abuse",
        SexualAbuse => "sexual_abuse",
        PsychologicalAbuse => "psychological_abuse",
        RestrictsMovement => "restricts_movement",
        Isolation => "isolation",
        PsychoactiveSubstances => "psychoactive_substances",
        FalsePromises => "false_promises",
        Other => "other",
    }
);

vocab!(
    /// Elements of smuggling (Smuggling Protocol art. 3 a).
    SmugglingElement, "smuggling" {
        IrregularEntryProcured => "irregular_entry_procured",
        FinancialOrMaterialBenefit => "financial_or_material_benefit",
    }
);

/// What the caseworker found, from interviews and their own findings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Elements {
    #[serde(default)]
    pub acts: BTreeSet<Act>,
    #[serde(default)]
    pub means: BTreeSet<Means>,
    #[serde(default)]
    pub purposes: BTreeSet<Exploitation>,
    #[serde(default)]
    pub controls: BTreeSet<Control>,
    #[serde(default)]
    pub smuggling: BTreeSet<SmugglingElement>,
    /// Where the person was exploited: an ISO 3166-1 alpha-2 code (capitals), if known.
    /// Elements stored before it existed read as `None`.
    #[serde(default)]
    pub country_of_exploitation: Option<String>,
}

impl Elements {
    /// The same elements with the country of exploitation checked and written in
    /// capitals (empty is none).
    pub fn checked(&self) -> Result<Elements, Invalid> {
        let country = match self.country_of_exploitation.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(c) => Some(
                crate::domain::CountryCode::parse(c)
                    .map_err(|_| {
                        Invalid::new(
                            "country_of_exploitation",
                            "must be a two-letter ISO 3166-1 code such as FR",
                        )
                    })?
                    .as_str()
                    .to_owned(),
            ),
        };
        Ok(Elements {
            country_of_exploitation: country,
            ..self.clone()
        })
    }
}

/// One line of the explanation: a message key and the values it names, so that the page
/// can say it in the user's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Reason {
    pub key: &'static str,
    pub values: Vec<&'static str>,
    /// The reason in the reader's language (filled in by the web layer).
    pub text: String,
}

fn reason(key: &'static str, values: Vec<&'static str>) -> Reason {
    Reason {
        key,
        values,
        text: String::new(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Suggestion {
    /// Every element is present: a trained person may consider the decision.
    ElementsPresent,
    /// Some elements are present, others missing: keep identifying.
    Partial,
    /// No element recorded.
    NoElements,
}

/// The suggested assessment: never a decision, always with its reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Assessment {
    pub trafficking: Suggestion,
    pub trafficking_reasons: Vec<Reason>,
    pub smuggling: Suggestion,
    pub smuggling_reasons: Vec<Reason>,
    pub child: bool,
}

/// Derive the suggested assessment. For a child (under 18) the means are not needed;
/// once a means is used, the person's consent is irrelevant (§2).
pub fn assess(e: &Elements, child: bool) -> Assessment {
    let mut t = Vec::new();
    let act = !e.acts.is_empty();
    let means = !e.means.is_empty();
    let purpose = !e.purposes.is_empty();
    t.push(if act {
        reason(
            "id-act-present",
            e.acts.iter().map(|a| a.as_str()).collect(),
        )
    } else {
        reason("id-act-missing", vec![])
    });
    t.push(match (means, child) {
        (true, _) => reason(
            "id-means-present",
            e.means.iter().map(|m| m.as_str()).collect(),
        ),
        (false, true) => reason("id-means-not-needed-child", vec![]),
        (false, false) => reason("id-means-missing", vec![]),
    });
    t.push(if purpose {
        reason(
            "id-purpose-present",
            e.purposes.iter().map(|p| p.as_str()).collect(),
        )
    } else {
        reason("id-purpose-missing", vec![])
    });
    if !e.controls.is_empty() {
        t.push(reason(
            "id-controls-seen",
            e.controls.iter().map(|c| c.as_str()).collect(),
        ));
    }
    if means {
        t.push(reason("id-consent-irrelevant", vec![]));
    }
    let complete = act && purpose && (means || child);
    let trafficking = if complete {
        t.push(reason(
            if child {
                "id-trafficking-child-elements"
            } else {
                "id-trafficking-elements"
            },
            vec![],
        ));
        Suggestion::ElementsPresent
    } else if act || means || purpose || !e.controls.is_empty() {
        t.push(reason("id-trafficking-incomplete", vec![]));
        Suggestion::Partial
    } else {
        Suggestion::NoElements
    };

    let mut s = Vec::new();
    let entry = e
        .smuggling
        .contains(&SmugglingElement::IrregularEntryProcured);
    let benefit = e
        .smuggling
        .contains(&SmugglingElement::FinancialOrMaterialBenefit);
    s.push(reason(
        if entry {
            "id-entry-present"
        } else {
            "id-entry-missing"
        },
        vec![],
    ));
    s.push(reason(
        if benefit {
            "id-benefit-present"
        } else {
            "id-benefit-missing"
        },
        vec![],
    ));
    let smuggling = if entry && benefit {
        s.push(reason("id-smuggling-elements", vec![]));
        Suggestion::ElementsPresent
    } else if entry || benefit {
        Suggestion::Partial
    } else {
        Suggestion::NoElements
    };
    if smuggling == Suggestion::ElementsPresent && trafficking == Suggestion::ElementsPresent {
        s.push(reason("id-both", vec![]));
    }
    Assessment {
        trafficking,
        trafficking_reasons: t,
        smuggling,
        smuggling_reasons: s,
        child,
    }
}

vocab!(
    /// The trafficking determination (HTCDS status Possible / Actual / Not a victim, with
    /// the two steps of reasonable and conclusive grounds).
    TraffickingStatus, "status" {
        Possible => "possible",
        Presumed => "presumed",
        Confirmed => "confirmed",
        NotAVictim => "not_a_victim",
    }
);

vocab!(
    /// The smuggling determination: smuggled or not. The smuggled migrant is not a victim
    /// of smuggling, but may be a victim of other crimes, or a witness (§25, §36).
    SmugglingStatus, "status" {
        SmuggledMigrant => "smuggled_migrant",
        NotSmuggled => "not_smuggled",
    }
);

vocab!(
    /// Who decides (HTCDS organisation types, abridged).
    DecidingBody, "deciding_body" {
        Police => "police",
        Prosecution => "prosecution",
        Court => "court",
        ImmigrationAuthority => "immigration_authority",
        LabourInspectorate => "labour_inspectorate",
        NationalReferralMechanism => "national_referral_mechanism",
        Ngo => "ngo",
        Other => "other",
    }
);

vocab!(
    /// Who met the person for a screening interview (§27).
    InterviewerKind, "interviewer_kind" {
        Police => "police",
        BorderGuard => "border_guard",
        Immigration => "immigration",
        LabourInspector => "labour_inspector",
        Ngo => "ngo",
        Health => "health",
        SocialWorker => "social_worker",
        Consular => "consular",
        Other => "other",
    }
);

/// What a trafficking determination gives the person.
pub fn trafficking_consequences(status: TraffickingStatus) -> &'static [&'static str] {
    match status {
        TraffickingStatus::Presumed => &["recovery_reflection_period", "assistance"],
        TraffickingStatus::Confirmed => &["victim_status", "assistance"],
        TraffickingStatus::Possible | TraffickingStatus::NotAVictim => &[],
    }
}

/// A smuggled migrant who is a victim of other crimes or a witness gets protected-witness status.
pub fn protected_witness(
    status: SmugglingStatus,
    victim_of_other_crimes: bool,
    witness: bool,
) -> bool {
    status == SmugglingStatus::SmuggledMigrant && (victim_of_other_crimes || witness)
}

/// Which steps may follow which: a conclusive decision needs reasonable grounds first
/// when the jurisdiction has two steps.
pub fn may_decide(
    previous: Option<TraffickingStatus>,
    next: TraffickingStatus,
    two_steps: bool,
) -> Result<(), &'static str> {
    use TraffickingStatus::*;
    match (previous, next) {
        (_, Possible | NotAVictim | Presumed) => Ok(()),
        (Some(Presumed | Confirmed), Confirmed) => Ok(()),
        (_, Confirmed) if !two_steps => Ok(()),
        (_, Confirmed) => Err(
            "a conclusive-grounds decision needs a reasonable-grounds decision first in this jurisdiction",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(acts: &[Act], means: &[Means], purposes: &[Exploitation]) -> Elements {
        Elements {
            acts: acts.iter().copied().collect(),
            means: means.iter().copied().collect(),
            purposes: purposes.iter().copied().collect(),
            ..Default::default()
        }
    }

    fn keys(r: &[Reason]) -> Vec<&'static str> {
        r.iter().map(|x| x.key).collect()
    }

    #[test]
    fn every_combination_of_the_three_elements() {
        for mask in 0..8u8 {
            let (a, m, p) = (mask & 1 != 0, mask & 2 != 0, mask & 4 != 0);
            let e = el(
                if a { &[Act::Recruitment] } else { &[] },
                if m { &[Means::Deception] } else { &[] },
                if p {
                    &[Exploitation::ForcedLabour]
                } else {
                    &[]
                },
            );
            for child in [false, true] {
                let got = assess(&e, child);
                let complete = a && p && (m || child);
                let want = if complete {
                    Suggestion::ElementsPresent
                } else if a || m || p {
                    Suggestion::Partial
                } else {
                    Suggestion::NoElements
                };
                assert_eq!(
                    got.trafficking, want,
                    "act {a} means {m} purpose {p} child {child}"
                );
                let k = keys(&got.trafficking_reasons);
                assert!(k.contains(&if a {
                    "id-act-present"
                } else {
                    "id-act-missing"
                }));
                assert!(k.contains(&if p {
                    "id-purpose-present"
                } else {
                    "id-purpose-missing"
                }));
                let means_key = match (m, child) {
                    (true, _) => "id-means-present",
                    (false, true) => "id-means-not-needed-child",
                    (false, false) => "id-means-missing",
                };
                assert!(k.contains(&means_key), "{k:?}");
            }
        }
    }

    #[test]
    fn the_child_rule_drops_the_means() {
        let e = el(&[Act::Harbouring], &[], &[Exploitation::ForcedBegging]);
        assert_eq!(assess(&e, false).trafficking, Suggestion::Partial);
        let child = assess(&e, true);
        assert_eq!(child.trafficking, Suggestion::ElementsPresent);
        assert!(keys(&child.trafficking_reasons).contains(&"id-trafficking-child-elements"));
    }

    #[test]
    fn the_explanation_names_what_is_present() {
        let e = el(
            &[Act::Recruitment, Act::Transportation],
            &[Means::Deception],
            &[Exploitation::SexualExploitation],
        );
        let a = assess(&e, false);
        let act = a
            .trafficking_reasons
            .iter()
            .find(|r| r.key == "id-act-present")
            .map(|r| r.values.clone());
        assert_eq!(act, Some(vec!["recruitment", "transportation"]));
        assert!(keys(&a.trafficking_reasons).contains(&"id-consent-irrelevant"));
    }

    #[test]
    fn trafficking_and_smuggling_on_the_same_person() {
        let mut e = el(
            &[Act::Transportation],
            &[Means::Coercion],
            &[Exploitation::ForcedCriminality],
        );
        e.smuggling = [
            SmugglingElement::IrregularEntryProcured,
            SmugglingElement::FinancialOrMaterialBenefit,
        ]
        .into();
        let a = assess(&e, false);
        assert_eq!(a.trafficking, Suggestion::ElementsPresent);
        assert_eq!(a.smuggling, Suggestion::ElementsPresent);
        assert!(keys(&a.smuggling_reasons).contains(&"id-both"));
        // Smuggling alone is not trafficking.
        let only = Elements {
            smuggling: e.smuggling.clone(),
            ..Default::default()
        };
        let b = assess(&only, false);
        assert_eq!(
            (b.trafficking, b.smuggling),
            (Suggestion::NoElements, Suggestion::ElementsPresent)
        );
        let half = Elements {
            smuggling: [SmugglingElement::IrregularEntryProcured].into(),
            ..Default::default()
        };
        assert_eq!(assess(&half, false).smuggling, Suggestion::Partial);
    }

    #[test]
    fn the_country_of_exploitation_is_checked_and_old_elements_still_read() {
        let e = Elements {
            country_of_exploitation: Some(" fr ".into()),
            ..Default::default()
        };
        assert_eq!(
            e.checked().map(|e| e.country_of_exploitation),
            Ok(Some("FR".to_owned()))
        );
        for bad in ["France", "F1", "FRA"] {
            let e = Elements {
                country_of_exploitation: Some(bad.into()),
                ..Default::default()
            };
            assert_eq!(
                e.checked().err().map(|e| e.field),
                Some("country_of_exploitation"),
                "{bad}"
            );
        }
        let blank = Elements {
            country_of_exploitation: Some("  ".into()),
            ..Default::default()
        };
        assert_eq!(blank.checked().map(|e| e.country_of_exploitation), Ok(None));
        // Stored before the field existed.
        let old: Elements =
            serde_json::from_str(r#"{"acts":["recruitment"]}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(old.country_of_exploitation, None);
        assert!(old.acts.contains(&Act::Recruitment));
    }

    #[test]
    fn protected_witness_status() {
        assert!(protected_witness(
            SmugglingStatus::SmuggledMigrant,
            true,
            false
        ));
        assert!(protected_witness(
            SmugglingStatus::SmuggledMigrant,
            false,
            true
        ));
        assert!(!protected_witness(
            SmugglingStatus::SmuggledMigrant,
            false,
            false
        ));
        assert!(!protected_witness(SmugglingStatus::NotSmuggled, true, true));
    }

    #[test]
    fn conclusive_grounds_need_reasonable_grounds_in_two_steps() {
        use TraffickingStatus::*;
        assert!(may_decide(None, Confirmed, true).is_err());
        assert!(may_decide(Some(Possible), Confirmed, true).is_err());
        assert!(may_decide(Some(Presumed), Confirmed, true).is_ok());
        assert!(may_decide(None, Confirmed, false).is_ok());
        assert!(may_decide(None, Presumed, true).is_ok());
        assert_eq!(
            trafficking_consequences(Presumed),
            &["recovery_reflection_period", "assistance"]
        );
    }
}
