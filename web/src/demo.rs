//! `serve --demo`: a fictional world, seeded into an empty database only.
//! Every name, place and story here is invented.

use passerelle_core::domain::{Purpose, Stage};
use passerelle_core::identification::{
    Act, Control, Elements, Exploitation, Means, SmugglingElement,
};
use passerelle_core::returns::ReturnStage;
use passerelle_core::service::admin::{NewOrg, NewUser};
use passerelle_core::service::cases::{ConsentInput, PersonInput};
use passerelle_core::service::identification::{
    InterviewInput, SmugglingDecisionInput, TraffickingDecisionInput,
};
use passerelle_core::service::referrals::{PlacementInput, ReferralInput};
use passerelle_core::service::returns::{
    CheckInput, CitizenshipAnswerInput, CitizenshipInput, MoveInput, ReturnRequestInput, RiskInput,
};

/// Checklist items met by their own record (consent, risk assessment, citizenship,
/// documents, reception, a child's safeguards), not by a tick.
const OWN_SECTION: &[&str] = &[
    "informed_consent",
    "risk_assessment",
    "citizenship_confirmed",
    "travel_document",
    "reception_arranged",
    "guardian_appointed",
    "best_interests_determination",
];
use passerelle_core::service::trial::{
    DepartureInput, HearingInput, MeasureDecisionInput, MeasureRequestInput, ProceedingInput,
};
use passerelle_core::{Actor, Services};

mod funding;

pub const DEMO_PASSWORD: &str = "passerelle-demo";
const ROUTE: &str = "demo seed";

/// (name, kind, country)
const ORGS: &[(&str, &str, &str)] = &[
    (
        "Mission nationale anti-traite (démo)",
        "state_authority",
        "FR",
    ),
    ("Association Passage", "victim_advocacy", "FR"),
    ("Foyer Les Tilleuls", "shelter", "FR"),
    ("Retour & Dignité", "return_agency", "FR"),
    ("Brigade anti-traite de Lyon", "law_enforcement", "FR"),
    ("Edo Reintegration Service", "origin_service", "NG"),
    ("Edo State Anti-Trafficking Desk", "state_authority", "NG"),
    ("Centrul Speranța", "origin_service", "RO"),
];

/// (org index, e-mail, display name, role)
const USERS: &[(usize, &str, &str, &str)] = &[
    (
        0,
        "admin@passerelle.example",
        "Camille Admin",
        "system_admin",
    ),
    (0, "fatou@mission.example", "Fatou Diallo", "fund_manager"),
    (1, "amelie@passage.example", "Amélie Durand", "advocate"),
    (1, "karim@passage.example", "Karim Benali", "advocate"),
    (1, "olivia@passage.example", "Olivia Martin", "org_admin"),
    (1, "paul@passage.example", "Paul Lefèvre", "auditor"),
    (1, "ines@passage.example", "Inès Carpentier", "fund_manager"),
    (
        2,
        "sophie@tilleuls.example",
        "Sophie Garnier",
        "shelter_coordinator",
    ),
    (2, "nadia@tilleuls.example", "Nadia Roux", "advocate"),
    (
        3,
        "rachid@retour.example",
        "Rachid Haddad",
        "return_officer",
    ),
    (3, "lea@retour.example", "Léa Moreau", "org_admin"),
    (3, "hugo@retour.example", "Hugo Blanc", "fund_manager"),
    (4, "julien@brigade.example", "Julien Petit", "org_admin"),
    (
        5,
        "chioma@edo-reintegration.example",
        "Chioma Okafor",
        "follow_up_officer",
    ),
    (6, "emeka@edo-desk.example", "Emeka Nwosu", "org_admin"),
    (
        7,
        "ioana@speranta.example",
        "Ioana Popescu",
        "follow_up_officer",
    ),
];

const FIRST: &[&str] = &[
    "Blessing", "Joy", "Precious", "Esther", "Favour", "Mercy", "Gift", "Osas", "Ivie", "Efe",
    "Ana", "Maria", "Elena", "Ioana", "Daniel", "Mihai", "Linh", "Thu", "Hoa", "Minh", "Aïssata",
    "Fatou", "Mariam", "Samuel", "Peace",
];
const LAST: &[&str] = &[
    "Osagie",
    "Omoregie",
    "Igbinedion",
    "Ehigie",
    "Aigbe",
    "Obaseki",
    "Popa",
    "Ionescu",
    "Stan",
    "Dumitru",
    "Nguyen",
    "Tran",
    "Pham",
    "Diallo",
    "Traoré",
    "Keita",
    "Okoro",
    "Eze",
    "Uwaifo",
    "Edosa",
];
const LANGS: &[(&str, &str)] = &[
    ("NG", "English, Edo"),
    ("NG", "English, Pidgin"),
    ("RO", "Romanian"),
    ("VN", "Vietnamese"),
    ("GN", "French, Pular"),
    ("ML", "Bambara, French"),
];
const CITIES: &[&str] = &[
    "Lyon",
    "Villeurbanne",
    "Grenoble",
    "Saint-Étienne",
    "Vénissieux",
];
/// After a return the person lives in their country again: (country, city, phone prefix).
const HOME_PLACES: &[(&str, &str, &str)] = &[
    ("NG", "Benin City", "+234 80"),
    ("RO", "Iași", "+40 72"),
    ("VN", "Hà Tĩnh", "+84 91"),
    ("GN", "Conakry", "+224 62"),
    ("ML", "Bamako", "+223 76"),
];

/// The origin-country service of the demo world in a country, if there is one (index in
/// `ORGS`): a follow-up share goes only to the service of the person's own country.
fn origin_service_of(country: Option<&str>) -> Option<usize> {
    ORGS.iter()
        .position(|(_, kind, c)| *kind == "origin_service" && Some(*c) == country)
}

pub struct DemoAccount {
    pub email: &'static str,
    pub role: &'static str,
    pub org: &'static str,
}

/// Seed the demo world into an empty database; on a demo database already seeded, do
/// nothing; on any other database, refuse.
pub async fn seed(services: &Services) -> anyhow::Result<Vec<DemoAccount>> {
    let accounts: Vec<DemoAccount> = USERS
        .iter()
        .map(|(o, e, _, r)| DemoAccount {
            email: e,
            role: r,
            org: ORGS[*o].0,
        })
        .collect();
    if services
        .is_demo()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        return Ok(accounts);
    }
    if !services
        .is_empty()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        anyhow::bail!(
            "this database already holds data that is not the demo world; demo seeding is refused. Run the demo with another --data-dir"
        );
    }
    services
        .mark_demo()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let e = |e: passerelle_core::ServiceError| anyhow::anyhow!("demo seeding: {e}");
    let mut org_ids = Vec::new();
    for (name, kind, country) in ORGS {
        org_ids.push(
            services
                .create_org(
                    None,
                    NewOrg {
                        name,
                        kind,
                        country,
                    },
                )
                .await
                .map_err(e)?
                .id,
        );
    }
    let mut actors: Vec<Actor> = Vec::new();
    for (o, email, name, role) in USERS {
        let u = services
            .create_user(
                None,
                NewUser {
                    org_id: org_ids[*o],
                    email,
                    display_name: name,
                    role,
                    password: DEMO_PASSWORD,
                },
            )
            .await
            .map_err(e)?;
        actors.push(Actor {
            user_id: u.id,
            org_id: u.org_id,
            role: u.role,
            display_name: u.display_name,
            email: u.email,
        });
    }
    let by_email = |m: &str| actors.iter().find(|a| a.email == m).cloned();
    let (Some(amelie), Some(karim), Some(nadia)) = (
        by_email("amelie@passage.example"),
        by_email("karim@passage.example"),
        by_email("nadia@tilleuls.example"),
    ) else {
        anyhow::bail!("demo seeding: demo advocates missing");
    };
    // The stages placed directly. None is "return in progress": a case reaches it only
    // through a real return, approved (see `seed_trial_and_return`), so that its return
    // page shows that return.
    let stages = [
        Stage::Referred,
        Stage::Screening,
        Stage::Screening,
        Stage::Protection,
        Stage::Protection,
        Stage::Protection,
        Stage::SolutionPlanning,
        Stage::SolutionPlanning,
        Stage::Returned,
        Stage::FollowUp,
        Stage::Closed,
    ];
    for i in 0..50usize {
        let owner = match i % 10 {
            0..=5 => &amelie,
            6..=8 => &karim,
            _ => &nadia,
        };
        let (nat, langs) = LANGS[i % LANGS.len()];
        let minor = i % 9 == 4;
        let year = if minor {
            2010 + (i % 6)
        } else {
            1985 + (i * 7) % 20
        };
        let stage = stages[i % stages.len()];
        // Once returned, the person's contact and whereabouts are in their own country.
        let home = matches!(stage, Stage::Returned | Stage::FollowUp)
            .then(|| HOME_PLACES.iter().find(|(c, _, _)| *c == nat))
            .flatten();
        let input = PersonInput {
            name: format!(
                "{} {}",
                FIRST[(i * 7) % FIRST.len()],
                LAST[(i * 11) % LAST.len()]
            ),
            aliases: (i % 4 == 0).then(|| FIRST[(i * 3 + 1) % FIRST.len()].to_owned()),
            birth_date: Some(format!("{year}-{:02}-{:02}", 1 + i % 12, 1 + (i * 5) % 28)),
            nationality: (i % 17 != 3).then(|| nat.to_owned()),
            stateless: i % 17 == 3,
            languages: Some(langs.into()),
            contact: Some(format!(
                "{} {:02} {:02} {:02} {:02} (fictional)",
                home.map_or("+33 6", |h| h.2),
                10 + i,
                20 + i % 50,
                30 + i % 40,
                40 + i % 30
            )),
            location: Some(format!(
                "{} (fictional address)",
                home.map_or(CITIES[i % CITIES.len()], |h| h.1)
            )),
            notes: Some("Invented case for the demonstration; no real person.".into()),
            is_minor: minor,
        };
        let created = services
            .create_case(owner, &input, None, ROUTE)
            .await
            .map_err(e)?;
        let r =
            passerelle_core::domain::CaseRef::parse(&created.reference).map_err(|x| e(x.into()))?;
        services.place_demo_case(&r, stage).await.map_err(e)?;
        // Shares on consent: shelter for protected persons, return agency for returns,
        // once returned the origin-country service of the person's own country (none
        // for a stateless person, nor where the demo world has no such service).
        let share_to = match stage {
            Stage::Protection if owner.org_id != org_ids[2] => Some((org_ids[2], Purpose::Shelter)),
            Stage::ReturnInProgress | Stage::SolutionPlanning => {
                Some((org_ids[3], Purpose::ReturnAssistance))
            }
            Stage::Returned | Stage::FollowUp => origin_service_of(input.nationality.as_deref())
                .map(|o| (org_ids[o], Purpose::Reintegration)),
            _ => None,
        };
        if let Some((org, purpose)) = share_to
            && owner.role == passerelle_core::domain::Role::Advocate
        {
            let consent = services
                .record_consent(
                    owner,
                    r.as_str(),
                    &ConsentInput {
                        purpose: purpose.as_str().into(),
                        given_by: if minor { "guardian" } else { "person" }.into(),
                        language: langs.split(',').next().unwrap_or("English").trim().into(),
                        form_version: "consent-form-2026-1".into(),
                        consented_on: None,
                        share_alert_details: false,
                    },
                    ROUTE,
                )
                .await
                .map_err(e)?;
            services
                .share_case(
                    owner,
                    r.as_str(),
                    org,
                    purpose.as_str(),
                    Some(&consent.id),
                    ROUTE,
                )
                .await
                .map_err(e)?;
        }
        if owner.role == passerelle_core::domain::Role::Advocate {
            seed_identification(services, owner, r.as_str(), stage, i)
                .await
                .map_err(e)?;
        }
    }
    // A shelter referral answered by the shelter, with a placement.
    if let Some(sophie) = by_email("sophie@tilleuls.example") {
        let candidates = services
            .caseload(
                &amelie,
                passerelle_core::service::cases::Scope::Mine,
                Some(Stage::Protection),
                1,
                3,
                ROUTE,
            )
            .await
            .map_err(e)?;
        for c in candidates.items.iter().take(2) {
            let consent = services
                .record_consent(
                    &amelie,
                    &c.reference,
                    &ConsentInput {
                        purpose: "shelter".into(),
                        given_by: "person".into(),
                        language: "English".into(),
                        form_version: "consent-form-2026-1".into(),
                        consented_on: None,
                        share_alert_details: false,
                    },
                    ROUTE,
                )
                .await
                .map_err(e)?;
            let id = services
                .refer(
                    &amelie,
                    &c.reference,
                    &ReferralInput {
                        to_org_id: org_ids[2],
                        service: "shelter".into(),
                        sections: vec!["services".into(), "placement".into()],
                        consent_id: Some(consent.id),
                    },
                    ROUTE,
                )
                .await
                .map_err(e)?;
            services
                .answer_referral(&sophie, &id.id, true, None, ROUTE)
                .await
                .map_err(e)?;
            services
                .add_placement(
                    &sophie,
                    &c.reference,
                    &PlacementInput {
                        shelter_org_id: org_ids[2],
                        location: "Foyer Les Tilleuls, room 4 (fictional)".into(),
                        from_on: chrono::Utc::now().date_naive().to_string(),
                        until_on: None,
                    },
                    ROUTE,
                )
                .await
                .map_err(e)?;
        }
    }
    let Some(rachid) = by_email("rachid@retour.example") else {
        anyhow::bail!("demo seeding: the return agency's officer is missing");
    };
    seed_trial_and_return(services, &amelie, &karim, &rachid, org_ids[3])
        .await
        .map_err(e)?;
    let (Some(fatou), Some(hugo), Some(ines)) = (
        by_email("fatou@mission.example"),
        by_email("hugo@retour.example"),
        by_email("ines@passage.example"),
    ) else {
        anyhow::bail!("demo seeding: demo fund managers missing");
    };
    funding::seed(
        services,
        [&fatou, &hugo, &ines, &fatou, &hugo],
        org_ids[1],
        &amelie,
    )
    .await
    .map_err(e)?;
    Ok(accounts)
}

fn in_days(n: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(n)).to_string()
}

/// Proceedings for two protected persons (one with a departure that conflicts with a
/// trial session, one whose conflict a granted live link cleared), a return requested
/// with an overdue citizenship request, and a return approved by the agency's officer
/// (its case is then, truly, at "return in progress").
async fn seed_trial_and_return(
    services: &Services,
    amelie: &Actor,
    karim: &Actor,
    officer: &Actor,
    agency_org_id: i64,
) -> Result<(), passerelle_core::ServiceError> {
    use passerelle_core::service::cases::Scope;
    let protected = services
        .caseload(amelie, Scope::Mine, Some(Stage::Protection), 1, 5, ROUTE)
        .await?;
    for (n, c) in protected.items.iter().skip(2).take(2).enumerate() {
        let reference = c.reference.as_str();
        let pid = services
            .add_proceeding(
                amelie,
                reference,
                &ProceedingInput {
                    court: "Tribunal judiciaire de Lyon (fictional)".into(),
                    jurisdiction: "Lyon".into(),
                    case_number: format!("DEMO-26/{:04}", 310 + n),
                    charges: vec!["trafficking".into(), "related_offence".into()],
                    person_role: "victim_witness".into(),
                    prosecutor: Some("Parquet de Lyon, JIRS (fictional)".into()),
                    investigator: Some("Brigade anti-traite (fictional)".into()),
                },
                ROUTE,
            )
            .await?;
        services
            .add_hearing(
                amelie,
                reference,
                &pid,
                &HearingInput {
                    kind: "deposition".into(),
                    held_on: in_days(12),
                    testimony_required: true,
                    presence_required: false,
                    notes: None,
                },
                ROUTE,
            )
            .await?;
        let trial = services
            .add_hearing(
                amelie,
                reference,
                &pid,
                &HearingInput {
                    kind: "trial_session".into(),
                    held_on: in_days(75),
                    testimony_required: true,
                    presence_required: false,
                    notes: Some("Three days booked by the court (fictional).".into()),
                },
                ROUTE,
            )
            .await?;
        services
            .set_planned_departure(
                amelie,
                reference,
                &DepartureInput {
                    departure_on: Some(in_days(40)),
                    note: Some("The person asked to go home before the trial.".into()),
                },
                ROUTE,
            )
            .await?;
        if n == 1 {
            let mid = services
                .request_measure(
                    amelie,
                    reference,
                    &pid,
                    &MeasureRequestInput {
                        measure: "video_recorded_testimony".into(),
                        hearing_id: Some(trial),
                        requested_on: Some(in_days(-6)),
                    },
                    ROUTE,
                )
                .await?;
            services
                .decide_measure(
                    amelie,
                    reference,
                    &mid,
                    &MeasureDecisionInput {
                        decision: "grant".into(),
                        decided_on: Some(in_days(-1)),
                        reason: None,
                        authority: Some("court".into()),
                        decision_reference: Some("Ordonnance 26/117 (fictional)".into()),
                    },
                    ROUTE,
                )
                .await?;
        }
    }
    let planning = services
        .caseload(
            karim,
            Scope::Mine,
            Some(Stage::SolutionPlanning),
            1,
            2,
            ROUTE,
        )
        .await?;
    for (n, c) in planning.items.iter().enumerate() {
        let reference = c.reference.as_str();
        let approved = n == 1;
        // Home is the person's country of nationality.
        let destination = services
            .get_case(karim, reference, ROUTE)
            .await?
            .person
            .and_then(|p| p.person.nationality)
            .unwrap_or_else(|| "NG".to_owned());
        let consent = services
            .record_consent(
                karim,
                reference,
                &ConsentInput {
                    purpose: "return_assistance".into(),
                    given_by: "person".into(),
                    language: "English".into(),
                    form_version: "return-consent-2026-1".into(),
                    consented_on: None,
                    share_alert_details: false,
                },
                ROUTE,
            )
            .await?;
        services
            .request_return(
                karim,
                reference,
                &ReturnRequestInput {
                    requested_by: "person".into(),
                    consent_id: consent.id,
                    explained_by: "Karim Benali with an interpreter (fictional)".into(),
                    destination_country: destination,
                    agency_org_id: Some(agency_org_id),
                    requested_on: Some(in_days(if approved { -12 } else { -45 })),
                },
                ROUTE,
            )
            .await?;
        services
            .assess_return(
                karim,
                reference,
                &RiskInput {
                    persecution: "low".into(),
                    re_trafficking: if approved { "low" } else { "medium" }.into(),
                    findings: "Family in the home town willing to receive; debt to the recruiter unresolved (fictional).".into(),
                    safety_plan: None,
                    assessed_on: Some(in_days(if approved { -10 } else { -40 })),
                },
                ROUTE,
            )
            .await?;
        let request = services
            .request_citizenship(
                karim,
                reference,
                &CitizenshipInput {
                    authority: "Embassy of the country of origin, Paris (fictional)".into(),
                    sent_on: Some(in_days(if approved { -9 } else { -38 })),
                    due_on: Some(in_days(if approved { 21 } else { -8 })),
                },
                ROUTE,
            )
            .await?;
        if approved {
            // Confirmed, assessed by the advocate, approved by the agency's officer.
            services
                .answer_citizenship(
                    karim,
                    reference,
                    &request,
                    &CitizenshipAnswerInput {
                        answer: "confirmed".into(),
                        answered_on: Some(in_days(-3)),
                    },
                    ROUTE,
                )
                .await?;
            // The jurisdiction's own checks needed for approval (a plugin may add some),
            // done by the advocate.
            let view = services.return_view(karim, reference, "en", ROUTE).await?;
            for item in view.checklist.iter().filter(|i| {
                !i.met
                    && i.needed_for == ReturnStage::Approved
                    && !OWN_SECTION.contains(&i.id.as_str())
            }) {
                services
                    .record_check(
                        karim,
                        reference,
                        &CheckInput {
                            requirement: item.id.clone(),
                            done_on: Some(in_days(-2)),
                            note: Some("Done with the person (fictional).".into()),
                        },
                        ROUTE,
                    )
                    .await?;
            }
            for (who, to) in [(karim, "assessed"), (officer, "approved")] {
                let version = services
                    .return_view(who, reference, "en", ROUTE)
                    .await?
                    .version;
                services
                    .move_return(
                        who,
                        reference,
                        &MoveInput {
                            to: to.into(),
                            version,
                            ..Default::default()
                        },
                        "en",
                        ROUTE,
                    )
                    .await?;
            }
        }
    }
    Ok(())
}

/// Interviews, elements and determinations for the demo cases past referral.
async fn seed_identification(
    services: &Services,
    owner: &Actor,
    reference: &str,
    stage: Stage,
    i: usize,
) -> Result<(), passerelle_core::ServiceError> {
    if stage == Stage::Referred {
        return Ok(());
    }
    let interview = services
        .start_interview(
            owner,
            reference,
            &InterviewInput {
                held_on: None,
                interviewer_kind: if i.is_multiple_of(3) { "police" } else { "ngo" }.into(),
                language: "English".into(),
                interpreter: i.is_multiple_of(2),
                mode: Some("all".into()),
                sets: vec![],
            },
            ROUTE,
        )
        .await?;
    let answers: std::collections::BTreeMap<String, String> = [
        (
            "t-work",
            "Cleaning and cooking in a private house (invented).",
        ),
        (
            "t-paid",
            "No. The madam keeps the money for a debt (invented).",
        ),
        (
            "t-documents",
            "Yes, my passport was taken on arrival (invented).",
        ),
        (
            "s-cost",
            "I was told the journey was free, to be repaid later (invented).",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    services
        .answer_interview(owner, reference, &interview, &answers, ROUTE)
        .await?;
    if stage == Stage::Screening {
        return Ok(());
    }
    let elements = Elements {
        acts: [Act::Recruitment, Act::Transportation].into(),
        means: [Means::Deception].into(),
        purposes: [if i.is_multiple_of(2) {
            Exploitation::Servitude
        } else {
            Exploitation::SexualExploitation
        }]
        .into(),
        controls: [Control::DebtBondage, Control::WithholdsDocuments].into(),
        smuggling: if i.is_multiple_of(5) {
            [
                SmugglingElement::IrregularEntryProcured,
                SmugglingElement::FinancialOrMaterialBenefit,
            ]
            .into()
        } else {
            Default::default()
        },
    };
    services
        .set_elements(owner, reference, 1, &elements, None, ROUTE)
        .await?;
    let today = chrono::Utc::now().date_naive();
    // Some protected persons' recovery periods have run out (the decision on their stay
    // is overdue); the others are at various points of theirs.
    let days_ago = if stage == Stage::Protection && i.is_multiple_of(3) {
        31 + i % 7
    } else {
        i % 28
    };
    let decided = today
        .checked_sub_days(chrono::Days::new(days_ago as u64))
        .unwrap_or(today);
    services
        .decide_trafficking(
            owner,
            reference,
            &TraffickingDecisionInput {
                status: "presumed".into(),
                deciding_body: "police".into(),
                decided_on: decided.to_string(),
                basis: "Screening interview and the advocate's findings (invented).".into(),
            },
            ROUTE,
        )
        .await?;
    if i.is_multiple_of(5) {
        services
            .decide_smuggling(
                owner,
                reference,
                &SmugglingDecisionInput {
                    status: "smuggled_migrant".into(),
                    victim_of_other_crimes: true,
                    witness: false,
                    deciding_body: "prosecution".into(),
                    decided_on: today.to_string(),
                    basis: "Account of the journey (invented).".into(),
                },
                ROUTE,
            )
            .await?;
    }
    Ok(())
}

pub async fn is_demo(services: &Services) -> anyhow::Result<bool> {
    services.is_demo().await.map_err(|e| anyhow::anyhow!("{e}"))
}

pub fn banner(accounts: &[DemoAccount], bind: &str, plugins: &str) {
    println!();
    println!("== Passerelle demo: a fictional world (no real person) ==");
    println!("{plugins}");
    println!(
        "Open http://{bind}/ and sign in with one of these accounts; every password is: {DEMO_PASSWORD}"
    );
    for a in accounts {
        println!("  {:<36} {:<20} {}", a.email, a.role, a.org);
    }
    println!();
}
