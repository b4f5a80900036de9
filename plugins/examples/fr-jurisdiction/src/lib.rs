//! Example jurisdiction plugin: France (the country of the demo's destination
//! organisations).
//!
//! Every rule cites what it encodes. Rules marked **DEMONSTRATION** are fictional: they
//! exist to show how a plugin changes what users see, and are NOT French law. The others
//! paraphrase real French provisions (CESEDA: Code de l'entrée et du séjour des étrangers
//! et du droit d'asile; CPP: Code de procédure pénale) as publicly available on
//! Légifrance; they are simplified and are not legal advice.
//!
//! Plugin API 0.2: besides the required hooks it exports the three optional ones,
//! `fund-rules`, `measure-deciders` and `reintegration-indicators`.

use passerelle_plugin_sdk::fund_rules::FundingAsk;
use passerelle_plugin_sdk::jurisdiction::{
    DecidingBody, DecisionRules, Guest, Measure, PersonFacts, Question, QuestionSet,
    ReturnRequirement, StatusBodies, TraffickingStatus, Transition, Verdict,
};
use passerelle_plugin_sdk::measure_deciders::MeasureBodies;
use passerelle_plugin_sdk::{API_VERSION, en_fr};

struct France;

/// The seed's §35 indicator questions (the same as Passerelle's defaults: a plugin
/// returns the whole set it wants), as (id, set, en, fr, en indicator, fr indicator).
const SEED_QUESTIONS: &[(&str, QuestionSet, &str, &str, &str, &str)] = &[
    (
        "t-work",
        QuestionSet::Trafficking,
        "What work do you do?",
        "Quel travail faites-vous ?",
        "The kind of work may reveal exploitation (purpose).",
        "Le type de travail peut révéler une exploitation (finalité).",
    ),
    (
        "t-paid",
        QuestionSet::Trafficking,
        "Are you paid?",
        "Êtes-vous payé·e ?",
        "No pay, or pay taken by someone else, suggests forced labour or debt bondage.",
        "L'absence de salaire, ou un salaire confisqué, évoque le travail forcé ou la servitude pour dettes.",
    ),
    (
        "t-leave-job",
        QuestionSet::Trafficking,
        "Are you free to leave your job?",
        "Êtes-vous libre de quitter votre travail ?",
        "Not being free to leave points to coercion (means).",
        "Ne pas être libre de partir indique une contrainte (moyen).",
    ),
    (
        "t-come-go",
        QuestionSet::Trafficking,
        "Are you free to come and go as you wish?",
        "Êtes-vous libre d'aller et venir comme vous le souhaitez ?",
        "Restricted movement is a method of control.",
        "La restriction des déplacements est une méthode de contrôle.",
    ),
    (
        "t-threats",
        QuestionSet::Trafficking,
        "Have you or your family been threatened?",
        "Vous-même ou votre famille avez-vous été menacés ?",
        "Threats are a means of trafficking.",
        "Les menaces sont un moyen de la traite.",
    ),
    (
        "t-conditions",
        QuestionSet::Trafficking,
        "What are your working or living conditions?",
        "Quelles sont vos conditions de travail ou de vie ?",
        "Degrading conditions may indicate exploitation or servitude.",
        "Des conditions dégradantes peuvent indiquer une exploitation ou une servitude.",
    ),
    (
        "t-sleep",
        QuestionSet::Trafficking,
        "Where do you sleep?",
        "Où dormez-vous ?",
        "Sleeping at the workplace or under guard suggests control.",
        "Dormir sur le lieu de travail ou sous surveillance suggère un contrôle.",
    ),
    (
        "t-eat",
        QuestionSet::Trafficking,
        "Where do you eat?",
        "Où mangez-vous ?",
        "Food given or withheld by the employer suggests dependency.",
        "Une nourriture fournie ou refusée par l'employeur suggère une dépendance.",
    ),
    (
        "t-permission",
        QuestionSet::Trafficking,
        "Must you ask permission to eat, sleep or go to the toilet?",
        "Devez-vous demander la permission pour manger, dormir ou aller aux toilettes ?",
        "Needing permission for basic needs is a strong sign of control.",
        "Devoir demander la permission pour ses besoins élémentaires est un signe fort de contrôle.",
    ),
    (
        "t-locks",
        QuestionSet::Trafficking,
        "Are there locks on doors and windows that you cannot open?",
        "Y a-t-il sur les portes et les fenêtres des verrous que vous ne pouvez pas ouvrir ?",
        "Confinement points to force or abduction.",
        "L'enfermement indique la force ou l'enlèvement.",
    ),
    (
        "t-documents",
        QuestionSet::Trafficking,
        "Have your identity papers or other documents been taken from you?",
        "Vous a-t-on pris vos papiers d'identité ou d'autres documents ?",
        "Withheld documents are a method of control.",
        "La confiscation des documents est une méthode de contrôle.",
    ),
    (
        "s-organiser",
        QuestionSet::Smuggling,
        "Who organised your journey?",
        "Qui a organisé votre voyage ?",
        "Someone who procured the crossing may be a smuggler.",
        "La personne qui a organisé le passage peut être un passeur.",
    ),
    (
        "s-arrival",
        QuestionSet::Smuggling,
        "How did you arrive here?",
        "Comment êtes-vous arrivé·e ici ?",
        "An irregular entry is an element of smuggling.",
        "Une entrée irrégulière est un élément du trafic de migrants.",
    ),
    (
        "s-transport",
        QuestionSet::Smuggling,
        "By what means of transport?",
        "Par quel moyen de transport ?",
        "Dangerous transport may mean other crimes against the person.",
        "Un transport dangereux peut révéler d'autres infractions contre la personne.",
    ),
    (
        "s-needs",
        QuestionSet::Smuggling,
        "How did you eat, drink, go to the toilet?",
        "Comment avez-vous mangé, bu, fait vos besoins ?",
        "Deprivation on the way may be a crime the person suffered.",
        "Des privations pendant le voyage peuvent être une infraction subie.",
    ),
    (
        "s-treatment",
        QuestionSet::Smuggling,
        "How were you treated?",
        "Comment avez-vous été traité·e ?",
        "Violence on the way makes the person a victim of other crimes (§25).",
        "Des violences pendant le voyage font de la personne une victime d'autres infractions (§25).",
    ),
    (
        "s-cost",
        QuestionSet::Smuggling,
        "How much did the journey cost?",
        "Combien a coûté le voyage ?",
        "A fee for the crossing is the smuggler's benefit.",
        "Le prix du passage est le profit du passeur.",
    ),
    (
        "s-other-costs",
        QuestionSet::Smuggling,
        "Did you have other costs to pay?",
        "Avez-vous eu d'autres frais à payer ?",
        "A debt still owed on arrival may turn smuggling into trafficking.",
        "Une dette encore due à l'arrivée peut transformer le trafic en traite.",
    ),
    (
        "s-documents",
        QuestionSet::Smuggling,
        "What documents did you need to travel?",
        "De quels documents aviez-vous besoin pour voyager ?",
        "False or borrowed documents suggest a procured irregular entry.",
        "Des documents faux ou prêtés suggèrent une entrée irrégulière organisée.",
    ),
    // DEMONSTRATION rule: an extra question on debts still owed to whoever organised the
    // journey. Debt bondage is a method of control in the Human Trafficking Case Data
    // Standard (HTCDS "DebtBondage") and the seed §35 lists "did you have other costs to
    // pay?"; asking it as a separate trafficking indicator is this example's choice, not
    // a French legal requirement.
    (
        "t-debt-organiser",
        QuestionSet::Trafficking,
        "Do you still owe money to the person who organised your journey, or to someone they sent?",
        "Devez-vous encore de l'argent à la personne qui a organisé votre voyage, ou à quelqu'un de sa part ?",
        "A debt to the organiser that grows or is repaid by work points to debt bondage (a means of trafficking).",
        "Une dette envers l'organisateur, qui augmente ou se rembourse par le travail, indique une servitude pour dettes (moyen de la traite).",
    ),
];

/// Trial protective measures: (id, en, fr, replaces presence).
const MEASURES: &[(&str, &str, &str, bool)] = &[
    // CPP art. 706-52: the hearing of a minor victim is recorded on video (the
    // recording may replace a new hearing). Applied here to all victims: the adult case
    // is a DEMONSTRATION extension.
    (
        "video_recorded_testimony",
        "Video recording of testimony before trial",
        "Enregistrement audiovisuel de l'audition avant le procès",
        true,
    ),
    // CPP art. 306: before the cour d'assises, the trial is held in camera as of right
    // when a civil-party victim of trafficking in human beings asks for it.
    (
        "in_camera",
        "Hearing in camera (of right if the victim asks)",
        "Huis clos (de droit si la victime le demande)",
        false,
    ),
    // CPP art. 706-62-1: a victim of trafficking whose life or safety would be endangered
    // may be heard without her identity appearing in the proceedings.
    (
        "identity_protection",
        "Identity kept out of the proceedings and the press",
        "Identité non révélée dans la procédure ni à la presse",
        false,
    ),
    // CPP art. 706-58: anonymous testimony (témoignage anonyme) for offences punishable
    // by at least three years' imprisonment, when testifying would seriously endanger
    // the witness or their family. Not in the defaults.
    (
        "anonymous_testimony",
        "Anonymous testimony",
        "Témoignage anonyme",
        false,
    ),
    // Directive 2011/36/EU art. 8 (non-punishment), binding on France.
    (
        "non_punishment",
        "Non-prosecution for acts the person was compelled to commit",
        "Non-poursuite des actes que la personne a été contrainte de commettre",
        false,
    ),
    // Seed §30; CESEDA art. R425-8 ff. let the administration provide protection and
    // accommodation in a secure shelter.
    (
        "physical_protection",
        "Physical protection of the person and of their family",
        "Protection physique de la personne et de sa famille",
        false,
    ),
    // DEMONSTRATION: no "live_video_link" and no "screens" in this catalogue, so that the
    // demo shows a catalogue different from the defaults. (French law does allow hearings
    // by videoconference, CPP art. 706-71; a real plugin would list it.)
];

fn measures() -> Vec<Measure> {
    MEASURES
        .iter()
        .map(|(id, en, fr, replaces)| Measure {
            id: (*id).into(),
            label: en_fr(en, fr),
            replaces_presence: *replaces,
        })
        .collect()
}

fn requirement(id: &str, en: &str, fr: &str) -> ReturnRequirement {
    ReturnRequirement {
        id: id.into(),
        label: en_fr(en, fr),
    }
}

impl Guest for France {
    fn api_version() -> String {
        API_VERSION.into()
    }

    fn questions() -> Result<Vec<Question>, String> {
        Ok(SEED_QUESTIONS
            .iter()
            .map(|(id, set, en, fr, ien, ifr)| Question {
                id: (*id).into(),
                set: *set,
                text: en_fr(en, fr),
                indicator: en_fr(ien, ifr),
            })
            .collect())
    }

    fn recovery_period_days(person: PersonFacts) -> Result<u32, String> {
        if person.child {
            // DEMONSTRATION rule: 45 days for a child. Not French law (a foreign minor
            // cannot be removed from France at all: CESEDA art. L611-3).
            Ok(45)
        } else {
            // CESEDA art. R425-1: a foreign national identified by the police as a
            // presumed victim is informed of a reflection period of thirty days
            // (Council of Europe Convention art. 13: at least 30 days).
            Ok(30)
        }
    }

    fn decision_rules() -> Result<DecisionRules, String> {
        Ok(DecisionRules {
            // Two steps: reasonable grounds, then conclusive grounds.
            two_steps: true,
            bodies: vec![
                // CESEDA art. R425-1 and R425-2: in France the police or gendarmerie
                // service that has grounds to consider a foreign national a victim
                // informs her of her rights: identification is theirs.
                StatusBodies {
                    status: TraffickingStatus::Presumed,
                    bodies: vec![DecidingBody::Police],
                },
                // DEMONSTRATION: France has no formal national referral mechanism (GRETA
                // has recommended one); the conclusive step by such a body is this
                // example's, modelled on the UK's two-step NRM.
                StatusBodies {
                    status: TraffickingStatus::Confirmed,
                    bodies: vec![DecidingBody::NationalReferralMechanism, DecidingBody::Court],
                },
                StatusBodies {
                    status: TraffickingStatus::NotAVictim,
                    bodies: vec![
                        DecidingBody::Police,
                        DecidingBody::NationalReferralMechanism,
                    ],
                },
            ],
            // DEMONSTRATION: a reasonable-grounds decision expected within 5 days of the
            // referral (the UK NRM's target of 5 working days), not a French deadline.
            reasonable_grounds_due_days: Some(5),
        })
    }

    fn protective_measures() -> Result<Vec<Measure>, String> {
        Ok(measures())
    }

    fn return_requirements(person: PersonFacts) -> Result<Vec<ReturnRequirement>, String> {
        let mut r = vec![
            // Seed §37: return must be voluntary, consent informed and recorded.
            requirement(
                "informed_consent",
                "Informed consent to return",
                "Consentement éclairé au retour",
            ),
            requirement(
                "risk_assessment",
                "Risk assessment",
                "Évaluation des risques",
            ),
            requirement(
                "travel_document",
                "Travel document (passport or laissez-passer)",
                "Document de voyage (passeport ou laissez-passer)",
            ),
            requirement(
                "reception_arranged",
                "Reception on arrival arranged",
                "Accueil à l'arrivée organisé",
            ),
            // The French Office for Immigration and Integration (OFII) runs the
            // voluntary return assistance programme (aide au retour volontaire).
            // Requiring its file before a return is a DEMONSTRATION rule.
            requirement(
                "ofii_return_assistance",
                "OFII voluntary return assistance file opened",
                "Dossier d'aide au retour volontaire de l'OFII ouvert",
            ),
        ];
        if !person.stateless {
            r.push(requirement(
                "citizenship_confirmed",
                "Citizenship confirmed by the origin state",
                "Nationalité confirmée par l'État d'origine",
            ));
        }
        if person.child {
            r.push(requirement(
                "best_interests_determination",
                "Best-interests determination",
                "Détermination de l'intérêt supérieur de l'enfant",
            ));
            // CPP art. 706-50: an ad hoc administrator (administrateur ad hoc) is
            // appointed for a minor victim whose interests are not fully protected by
            // her legal representatives.
            r.push(requirement(
                "ad_hoc_administrator",
                "Ad hoc administrator appointed",
                "Administrateur ad hoc désigné",
            ));
        }
        Ok(r)
    }

    fn follow_up_schedule_days(person: PersonFacts) -> Result<Vec<u32>, String> {
        // DEMONSTRATION schedule: an early visit at two weeks, then the defaults'
        // rhythm, and a last one at two years; closer visits for a child.
        if person.child {
            Ok(vec![14, 30, 60, 90, 180, 365, 730])
        } else {
            Ok(vec![14, 30, 90, 180, 365, 730])
        }
    }

    fn guard_transition(t: Transition) -> Result<Verdict, String> {
        let mut reasons = Vec::new();
        if t.to == "return_in_progress" {
            // Seed §37: return of a victim must be voluntary.
            if !t.flags.iter().any(|f| f == "consent_present") {
                reasons.push(
                    "A return needs the person's recorded, informed consent (seed §37).".to_owned(),
                );
            }
            // Non-refoulement (Council of Europe Convention art. 16 §2 and §7): no return
            // where the person is at risk.
            if t.flags.iter().any(|f| f == "risk_high") {
                reasons.push(
                    "The risk assessment is high: no return (non-refoulement); consider asylum."
                        .to_owned(),
                );
            }
            // CESEDA art. L611-3: a foreign minor cannot be subject to a removal order;
            // a child's return needs the ad hoc administrator (CPP art. 706-50).
            if t.facts.child && !t.flags.iter().any(|f| f == "guardian_appointed") {
                reasons.push(
                    "A child's return needs an ad hoc administrator (CPP art. 706-50).".to_owned(),
                );
            }
        }
        if reasons.is_empty() {
            Ok(Verdict::Allow)
        } else {
            Ok(Verdict::Refuse(reasons))
        }
    }
}

/// The stages before a return is under way (the core's vocabulary).
const BEFORE_RETURN: &[&str] = &["referred", "screening", "protection", "solution_planning"];

impl passerelle_plugin_sdk::fund_rules::Guest for France {
    fn fund_rules(ask: FundingAsk) -> Result<Verdict, String> {
        // DEMONSTRATION rule, not French law: the French state's own budget does not pay
        // for travel before the return is under way (the case at `return_in_progress`):
        // a ticket bought while the return is still being planned may be wasted. The
        // fund's own settings (categories, caps, balance…) are the core's rules, not this
        // hook's: it only adds refusals.
        if ask.source_kind == "state_budget"
            && ask.category == "travel"
            && BEFORE_RETURN.contains(&ask.stage.as_str())
        {
            return Ok(Verdict::Refuse(vec![
                "The French state budget pays for travel only once the return is under way \
                 (demonstration rule of the fr-jurisdiction example)."
                    .to_owned(),
            ]));
        }
        Ok(Verdict::Allow)
    }
}

impl passerelle_plugin_sdk::measure_deciders::Guest for France {
    fn measure_deciders() -> Result<Vec<MeasureBodies>, String> {
        // Measures not listed keep Passerelle's default deciders (a court or the
        // prosecution).
        Ok(vec![
            // CPP art. 706-58: anonymous testimony is authorised by the juge des libertés
            // et de la détention (a judge: a court), on a reasoned request by the
            // prosecutor or the investigating judge.
            MeasureBodies {
                measure_id: "anonymous_testimony".into(),
                bodies: vec![DecidingBody::Court],
            },
            // CPP art. 306: the court orders the hearing in camera (of right when the
            // civil-party victim of trafficking asks for it).
            MeasureBodies {
                measure_id: "in_camera".into(),
                bodies: vec![DecidingBody::Court],
            },
        ])
    }
}

/// The DEMONSTRATION indicator set for a child (see the file's header).
const CHILD_INDICATORS: &str = include_str!("child-indicators.toml");

impl passerelle_plugin_sdk::reintegration_indicators::Guest for France {
    fn reintegration_indicators(person: PersonFacts) -> Result<Option<String>, String> {
        // DEMONSTRATION: a child's reintegration is followed with a small set of its own;
        // an adult's with the configured default set (None).
        Ok(person.child.then(|| CHILD_INDICATORS.to_owned()))
    }
}

passerelle_plugin_sdk::jurisdiction::export_jurisdiction!(France);
passerelle_plugin_sdk::fund_rules::export_fund_rules!(France);
passerelle_plugin_sdk::measure_deciders::export_measure_deciders!(France);
passerelle_plugin_sdk::reintegration_indicators::export_reintegration_indicators!(France);
