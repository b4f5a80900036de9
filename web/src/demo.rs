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
    CheckInput, CitizenshipAnswerInput, CitizenshipInput, CounsellingInput, DocumentInput,
    LegInput, MoveInput, ReceptionInput, ReturnRequestInput, RiskInput,
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
    // Reads the k-anonymised statistics export and nothing else.
    (0, "mathis@mission.example", "Mathis Girard", "statistician"),
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
            // Mostly women, as in the trafficking the demo's stories tell; one in ten
            // not recorded.
            gender: Some(
                match i % 10 {
                    0..=6 => "female",
                    7 | 8 => "male",
                    _ => "unknown",
                }
                .into(),
            ),
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
            seed_identification(services, owner, r.as_str(), stage, i, None)
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
    // Last, so that the lists the seeding above picks its cases from are as they were.
    seed_homecomings(services, by_email, &org_ids, &rachid)
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
            record_open_checks(services, karim, reference, ReturnStage::Approved, -2).await?;
            for (who, to) in [(karim, "assessed"), (officer, "approved")] {
                move_to(services, who, reference, to, MoveInput::default()).await?;
            }
        }
    }
    Ok(())
}

/// Tick the jurisdiction's own checks (those not met by their own record) that the return
/// of `reference` needs for `stage`, done `days` from today, as `who`.
async fn record_open_checks(
    services: &Services,
    who: &Actor,
    reference: &str,
    stage: ReturnStage,
    days: i64,
) -> Result<(), passerelle_core::ServiceError> {
    let view = services.return_view(who, reference, "en", ROUTE).await?;
    for item in view
        .checklist
        .iter()
        .filter(|i| !i.met && i.needed_for == stage && !OWN_SECTION.contains(&i.id.as_str()))
    {
        services
            .record_check(
                who,
                reference,
                &CheckInput {
                    requirement: item.id.clone(),
                    done_on: Some(in_days(days)),
                    note: Some("Done with the person (fictional).".into()),
                },
                ROUTE,
            )
            .await?;
    }
    Ok(())
}

/// Move the return of `reference` to `to` as `who`, at its current version, with the
/// other fields of `input` (date, hand-over…).
async fn move_to(
    services: &Services,
    who: &Actor,
    reference: &str,
    to: &str,
    input: MoveInput,
) -> Result<(), passerelle_core::ServiceError> {
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
                ..input
            },
            "en",
            ROUTE,
        )
        .await?;
    Ok(())
}

/// A person of the demo world who went home and is followed up there by the origin
/// service of their country. Every name and text is invented.
struct Homecoming {
    /// The owning advocate (at the French NGO) and the origin service's follow-up officer.
    advocate: &'static str,
    officer: &'static str,
    /// The origin service (index in `ORGS`).
    origin: usize,
    name: &'static str,
    birth_date: &'static str,
    nationality: &'static str,
    languages: &'static str,
    /// The person's contact and place in France, then at home.
    contact_fr: &'static str,
    contact_home: &'static str,
    location_home: &'static str,
    findings: &'static str,
    embassy: &'static str,
    /// passport or laissez_passer.
    document: &'static str,
    flight_to: &'static str,
    /// Days since the arrival.
    arrived: i64,
    /// The visits due most recently that are not recorded yet (overdue).
    unrecorded: usize,
    /// Which recorded visit was missed: the last (else the second).
    missed_last: bool,
    missed_reason: &'static str,
    /// The second assessment is better than the first (else worse).
    better: bool,
    notes: [&'static str; 2],
    /// An open alert the follow-up officer raises: its details.
    alert: Option<&'static str>,
    /// Reintegration plan items: kind, provider, description, status.
    plan: &'static [(&'static str, &'static str, &'static str, &'static str)],
}

const HOMECOMINGS: &[Homecoming] = &[
    Homecoming {
        advocate: "karim@passage.example",
        officer: "chioma@edo-reintegration.example",
        origin: 5,
        name: "Osas Uwaifo",
        birth_date: "1996-04-18",
        nationality: "NG",
        languages: "English, Edo",
        contact_fr: "+33 6 61 22 33 44 (fictional)",
        contact_home: "+234 80 61 22 33 44 (fictional)",
        location_home: "Benin City (fictional address)",
        findings: "Mother and sister in Benin City willing to receive her; the debt claimed by the madam is disputed (fictional).",
        embassy: "Embassy of Nigeria, Paris (fictional)",
        document: "laissez_passer",
        flight_to: "Lagos",
        arrived: 200,
        unrecorded: 1,
        missed_last: false,
        missed_reason: "Fictional: the person was at a relative's in Lagos and did not answer the phone.",
        better: true,
        notes: [
            "Fictional: settling in with her mother; no income yet; sleeps badly.",
            "Fictional: started the tailoring course; feels safer and sees friends again.",
        ],
        alert: None,
        plan: &[
            (
                "training",
                "Benin City vocational centre (fictional)",
                "Six-month tailoring course, fees paid by the reintegration grant (fictional).",
                "in_progress",
            ),
            (
                "housing",
                "Edo Reintegration Service (fictional)",
                "Rent of a room near her mother's for the first year (fictional).",
                "done",
            ),
            (
                "psychosocial",
                "Edo Reintegration Service counsellor (fictional)",
                "Monthly counselling sessions (fictional).",
                "planned",
            ),
        ],
    },
    Homecoming {
        advocate: "amelie@passage.example",
        officer: "ioana@speranta.example",
        origin: 7,
        name: "Elena Dumitru",
        birth_date: "1999-09-03",
        nationality: "RO",
        languages: "Romanian",
        contact_fr: "+33 6 62 23 34 45 (fictional)",
        contact_home: "+40 72 62 23 34 45 (fictional)",
        location_home: "Iași (fictional address)",
        findings: "Parents in Iași willing to receive her; the recruiter lives in a nearby town (fictional).",
        embassy: "Embassy of Romania, Paris (fictional)",
        document: "passport",
        flight_to: "Iași",
        arrived: 100,
        unrecorded: 0,
        missed_last: true,
        missed_reason: "Fictional: nobody at the address; a neighbour said she had gone to Bucharest for work.",
        better: false,
        notes: [
            "Fictional: back with her parents; looking for work; hopeful.",
            "Fictional: no work found; owes money to an acquaintance; anxious.",
        ],
        alert: Some(
            "Fictional: she says a man linked to her former recruiter called her twice and offered her a job abroad.",
        ),
        plan: &[
            (
                "psychosocial",
                "Centrul Speranța counsellor (fictional)",
                "Weekly counselling sessions (fictional).",
                "in_progress",
            ),
            (
                "work",
                "Iași job placement programme (fictional)",
                "Help finding work in a bakery near her parents' (fictional).",
                "planned",
            ),
        ],
    },
];

/// Returned persons: each case opened and identified, its return taken through every
/// stage to the arrival months ago (with the hand-over to the origin service on a
/// reintegration consent), then followed up there: visits done and missed, two
/// assessments with their trend, a reintegration plan, and an alert on one case.
async fn seed_homecomings(
    services: &Services,
    by_email: impl Fn(&str) -> Option<Actor>,
    org_ids: &[i64],
    officer: &Actor,
) -> Result<(), passerelle_core::ServiceError> {
    let missing = |who: &str| {
        passerelle_core::ServiceError::Unexpected(anyhow::anyhow!("demo account {who} missing"))
    };
    for (n, h) in HOMECOMINGS.iter().enumerate() {
        let adv = by_email(h.advocate).ok_or_else(|| missing(h.advocate))?;
        let follow = by_email(h.officer).ok_or_else(|| missing(h.officer))?;
        let origin = *org_ids
            .get(h.origin)
            .ok_or_else(|| missing(ORGS[h.origin].0))?;
        let agency = *org_ids.get(3).ok_or_else(|| missing(ORGS[3].0))?;
        let reference =
            seed_returned(services, &adv, officer, agency, origin, h, 7 + 4 * n).await?;
        seed_follow_up(services, &follow, &reference, h).await?;
    }
    Ok(())
}

/// One returned person's case, up to the arrival `h.arrived` days ago. The dates follow
/// what the rules accept: everything before the departure is dated in the past, except
/// the itinerary's leg, which can only be booked for today or later, so that the
/// departure gives why the person left before it (`early_reason`).
async fn seed_returned(
    services: &Services,
    adv: &Actor,
    officer: &Actor,
    agency: i64,
    origin: i64,
    h: &Homecoming,
    i: usize,
) -> Result<String, passerelle_core::ServiceError> {
    let a = h.arrived;
    let language = h.languages.split(',').next().unwrap_or("English").trim();
    let mut person = PersonInput {
        name: h.name.into(),
        aliases: None,
        birth_date: Some(h.birth_date.into()),
        nationality: Some(h.nationality.into()),
        stateless: false,
        languages: Some(h.languages.into()),
        contact: Some(h.contact_fr.into()),
        location: Some("Lyon (fictional address)".into()),
        notes: Some("Invented case for the demonstration; no real person.".into()),
        is_minor: false,
        gender: Some("female".into()),
    };
    let created = services.create_case(adv, &person, None, ROUTE).await?;
    let reference = created.reference.as_str();
    let first_met = chrono::Utc::now().date_naive() - chrono::Duration::days(a + 90);
    seed_identification(
        services,
        adv,
        reference,
        Stage::Protection,
        i,
        Some(first_met),
    )
    .await?;
    let consent = |purpose: &str, days: i64| ConsentInput {
        purpose: purpose.into(),
        given_by: "person".into(),
        language: language.into(),
        form_version: "consent-form-2026-1".into(),
        consented_on: Some(in_days(days)),
        share_alert_details: false,
    };
    let k = services
        .record_consent(
            adv,
            reference,
            &consent("return_assistance", -a - 62),
            ROUTE,
        )
        .await?;
    services
        .request_return(
            adv,
            reference,
            &ReturnRequestInput {
                requested_by: "person".into(),
                consent_id: k.id,
                explained_by: format!("{} with an interpreter (fictional)", adv.display_name),
                destination_country: h.nationality.into(),
                agency_org_id: Some(agency),
                requested_on: Some(in_days(-a - 60)),
            },
            ROUTE,
        )
        .await?;
    services
        .assess_return(
            adv,
            reference,
            &RiskInput {
                persecution: "low".into(),
                re_trafficking: "medium".into(),
                findings: h.findings.into(),
                safety_plan: None,
                assessed_on: Some(in_days(-a - 58)),
            },
            ROUTE,
        )
        .await?;
    move_to(services, adv, reference, "assessed", MoveInput::default()).await?;
    let request = services
        .request_citizenship(
            adv,
            reference,
            &CitizenshipInput {
                authority: h.embassy.into(),
                sent_on: Some(in_days(-a - 57)),
                due_on: Some(in_days(-a - 27)),
            },
            ROUTE,
        )
        .await?;
    services
        .answer_citizenship(
            adv,
            reference,
            &request,
            &CitizenshipAnswerInput {
                answer: "confirmed".into(),
                answered_on: Some(in_days(-a - 40)),
            },
            ROUTE,
        )
        .await?;
    record_open_checks(services, adv, reference, ReturnStage::Approved, -a - 38).await?;
    move_to(
        services,
        officer,
        reference,
        "approved",
        MoveInput::default(),
    )
    .await?;
    services
        .add_travel_document(
            adv,
            reference,
            &DocumentInput {
                kind: h.document.into(),
                issued_by: h.embassy.into(),
                number: Some(format!("DEMO-{}-{}", h.nationality, 2611 + i)),
                valid_until: in_days(900),
            },
            ROUTE,
        )
        .await?;
    record_open_checks(
        services,
        adv,
        reference,
        ReturnStage::DocumentsReady,
        -a - 20,
    )
    .await?;
    move_to(
        services,
        adv,
        reference,
        "documents_ready",
        MoveInput::default(),
    )
    .await?;
    services
        .add_leg(
            adv,
            reference,
            &LegInput {
                travel_on: in_days(0),
                from: "Paris CDG".into(),
                to: h.flight_to.into(),
                escort: Some("Escort of Retour & Dignité (fictional)".into()),
            },
            ROUTE,
        )
        .await?;
    services
        .arrange_reception(
            adv,
            reference,
            &ReceptionInput {
                receiving_org_id: origin,
                reception_on: in_days(-a),
            },
            ROUTE,
        )
        .await?;
    record_open_checks(services, adv, reference, ReturnStage::TravelBooked, -a - 10).await?;
    move_to(
        services,
        adv,
        reference,
        "travel_booked",
        MoveInput::default(),
    )
    .await?;
    services
        .record_counselling(
            adv,
            reference,
            &CounsellingInput {
                counselled_on: Some(in_days(-a - 4)),
                counselled_by: format!("{} and an interpreter (fictional)", adv.display_name),
            },
            ROUTE,
        )
        .await?;
    let handover = services
        .record_consent(adv, reference, &consent("reintegration", -a - 4), ROUTE)
        .await?;
    move_to(
        services,
        adv,
        reference,
        "departed",
        MoveInput {
            on: Some(in_days(-a)),
            early_reason: Some(
                "Fictional: she took an earlier flight than the one in the itinerary, which was entered afterwards."
                    .into(),
            ),
            ..Default::default()
        },
    )
    .await?;
    move_to(
        services,
        adv,
        reference,
        "received",
        MoveInput {
            on: Some(in_days(-a)),
            handover_consent_id: Some(handover.id),
            handover_sections: vec!["person".into(), "services".into()],
            ..Default::default()
        },
    )
    .await?;
    // Back home, the person's contact and whereabouts are in her own country.
    let version = services
        .get_case(adv, reference, ROUTE)
        .await?
        .summary
        .version;
    person.contact = Some(h.contact_home.into());
    person.location = Some(h.location_home.into());
    services
        .update_person(adv, reference, version, &person, ROUTE)
        .await?;
    Ok(created.reference)
}

/// The follow-up of a returned person by the origin service's officer `follow`: the
/// visits due so far recorded done or missed (but the last `h.unrecorded`), two
/// assessments with their trend, the reintegration plan, and an alert if `h` has one.
async fn seed_follow_up(
    services: &Services,
    follow: &Actor,
    reference: &str,
    h: &Homecoming,
) -> Result<(), passerelle_core::ServiceError> {
    use passerelle_core::service::follow_up::{
        AlertInput, AssessmentInput, PlanItemInput, VisitInput,
    };
    let today = chrono::Utc::now().date_naive();
    let view = services.follow_up(follow, reference, ROUTE).await?;
    let due: Vec<_> = view.visits.iter().filter(|v| v.due_on <= today).collect();
    let recorded = due.len().saturating_sub(h.unrecorded);
    let missed = if h.missed_last {
        recorded.saturating_sub(1)
    } else {
        1
    };
    for (n, v) in due.iter().take(recorded).enumerate() {
        let on = (v.due_on + chrono::Duration::days(1 + (n % 3) as i64)).min(today);
        let input = if n == missed {
            VisitInput {
                change: "missed".into(),
                on: Some(on.to_string()),
                reason: Some(h.missed_reason.into()),
                ..Default::default()
            }
        } else {
            VisitInput {
                change: "done".into(),
                on: Some(on.to_string()),
                mode: Some(["in_person", "phone", "video"][n % 3].into()),
                visitor: Some(follow.display_name.clone()),
                ..Default::default()
            }
        };
        services
            .change_visit(follow, reference, &v.id, &input, ROUTE)
            .await?;
    }
    let config = services.indicator_set_for(follow, reference, ROUTE).await?;
    let first = answers_at(&config.indicators, if h.better { 0.5 } else { 0.75 });
    let second = moved(&config, &first, !h.better)?;
    let arrived = view.arrived_on;
    let days = (today - arrived).num_days();
    for (answers, on, note) in [
        (first, arrived + chrono::Duration::days(15), h.notes[0]),
        (second, today - chrono::Duration::days(days / 4), h.notes[1]),
    ] {
        services
            .add_assessment(
                follow,
                reference,
                &AssessmentInput {
                    assessed_on: Some(on.min(today).to_string()),
                    answers,
                    note: Some(note.into()),
                },
                ROUTE,
            )
            .await?;
    }
    for (kind, provider, description, status) in h.plan {
        services
            .add_plan_item(
                follow,
                reference,
                &PlanItemInput {
                    kind: (*kind).into(),
                    provider: (*provider).into(),
                    description: Some((*description).into()),
                    status: Some((*status).into()),
                    commitment_id: None,
                },
                ROUTE,
            )
            .await?;
    }
    if let Some(details) = h.alert {
        services
            .raise_alert(
                follow,
                reference,
                &AlertInput {
                    category: "trafficker_or_recruiter_contact".into(),
                    severity: "high".into(),
                    details: Some(details.into()),
                    owner_user_id: None,
                },
                ROUTE,
            )
            .await?;
    }
    Ok(())
}

/// An answer to every indicator of `set` near `level` (0–1): the scored option closest to
/// it (the better on a tie), or the number at that point of a numeric scale.
fn answers_at(
    set: &passerelle_core::follow_up::IndicatorSet,
    level: f64,
) -> passerelle_core::follow_up::Answers {
    use passerelle_core::follow_up::{Answer, Scale};
    set.indicators
        .iter()
        .filter_map(|ind| {
            let answer = match &ind.scale {
                Scale::Options { options } => options
                    .iter()
                    .filter_map(|o| o.score.map(|s| (s, o)))
                    .min_by(|a, b| {
                        (a.0 - level)
                            .abs()
                            .total_cmp(&(b.0 - level).abs())
                            .then(b.0.total_cmp(&a.0))
                    })
                    .map(|(_, o)| Answer::Choice {
                        option: o.id.clone(),
                    })?,
                Scale::Numeric {
                    min,
                    max,
                    higher_is_better,
                } => {
                    let at = if *higher_is_better {
                        level
                    } else {
                        1.0 - level
                    };
                    Answer::Number {
                        value: (min + at * (max - min)).round(),
                    }
                }
            };
            Some((ind.id.clone(), answer))
        })
        .collect()
}

/// The answer one step better (`down` false) or worse than `current` on the indicator's
/// scale; None at the end of the scale.
fn step(
    ind: &passerelle_core::follow_up::Indicator,
    current: &passerelle_core::follow_up::Answer,
    down: bool,
) -> Option<passerelle_core::follow_up::Answer> {
    use passerelle_core::follow_up::{Answer, Scale};
    match (&ind.scale, current) {
        (Scale::Options { options }, Answer::Choice { option }) => {
            let now = options.iter().find(|o| &o.id == option)?.score?;
            options
                .iter()
                .filter_map(|o| o.score.map(|s| (s, o)))
                .filter(|(s, _)| if down { *s < now } else { *s > now })
                .min_by(|a, b| (a.0 - now).abs().total_cmp(&(b.0 - now).abs()))
                .map(|(_, o)| Answer::Choice {
                    option: o.id.clone(),
                })
        }
        (
            Scale::Numeric {
                min,
                max,
                higher_is_better,
            },
            Answer::Number { value },
        ) => {
            let sign = if down == *higher_is_better { -1.0 } else { 1.0 };
            let next = (value + sign * (max - min) / 4.0).clamp(*min, *max);
            (next != *value).then_some(Answer::Number { value: next })
        }
        _ => None,
    }
}

/// The answers of a later assessment: `first`'s, moved one step at a time worse (`down`)
/// or better until the composite score has clearly moved (twice the trend's stable band),
/// never so far that an automatic alert (a low score, a sharp drop) is raised.
fn moved(
    config: &passerelle_core::follow_up::ReintegrationConfig,
    first: &passerelle_core::follow_up::Answers,
    down: bool,
) -> Result<passerelle_core::follow_up::Answers, passerelle_core::ServiceError> {
    use passerelle_core::follow_up::{automatic_alerts, score};
    let set = &config.indicators;
    let before = score(set, first)?;
    let mut answers = first.clone();
    for ind in &set.indicators {
        let Some(next) = answers.get(&ind.id).and_then(|a| step(ind, a, down)) else {
            continue;
        };
        let mut trial = answers.clone();
        trial.insert(ind.id.clone(), next);
        let scores = score(set, &trial)?;
        if !automatic_alerts(Some(&before), &scores, &config.alerts).is_empty() {
            continue;
        }
        answers = trial;
        let change = scores.composite.zip(before.composite).map(|(c, b)| c - b);
        if change.is_some_and(|d| d.abs() >= 2.0 * config.trend_epsilon) {
            break;
        }
    }
    Ok(answers)
}

/// Interviews, elements and determinations for the demo cases past referral: held today
/// and decided some days ago, or, with `on`, held that day and decided three days later.
async fn seed_identification(
    services: &Services,
    owner: &Actor,
    reference: &str,
    stage: Stage,
    i: usize,
    on: Option<chrono::NaiveDate>,
) -> Result<(), passerelle_core::ServiceError> {
    if stage == Stage::Referred {
        return Ok(());
    }
    let interview = services
        .start_interview(
            owner,
            reference,
            &InterviewInput {
                held_on: on.map(|d| d.to_string()),
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
        // The demo's stories are of exploitation in France.
        country_of_exploitation: Some("FR".into()),
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
    let base = on.map_or_else(
        || chrono::Utc::now().date_naive(),
        |d| d + chrono::Days::new(3),
    );
    // Some protected persons' recovery periods have run out (the decision on their stay
    // is overdue); the others are at various points of theirs.
    let days_ago = if on.is_some() {
        0
    } else if stage == Stage::Protection && i.is_multiple_of(3) {
        31 + i % 7
    } else {
        i % 28
    };
    let decided = base
        .checked_sub_days(chrono::Days::new(days_ago as u64))
        .unwrap_or(base);
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
                    decided_on: base.to_string(),
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
