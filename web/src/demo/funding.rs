//! The demo world's money: one fund of each of the five kinds of source (seed §32), with
//! allocations, commitments and spending on demo cases, one fund close to exhausted, one
//! commitment waiting for approval and one refused.

use passerelle_core::service::cases::Scope;
use passerelle_core::service::funding::{
    AllocationInput, CommitmentInput, FundInput, RefusalInput, SpendingInput,
};
use passerelle_core::{Actor, ServiceError, Services};

const ROUTE: &str = "demo seed";

struct DemoFund {
    name: &'static str,
    source: &'static str,
    categories: &'static [&'static str],
    beneficiaries: &'static [&'static str],
    destinations: &'static [&'static str],
    allocated: i64,
    origin: &'static str,
    threshold: Option<i64>,
    low: Option<i64>,
}

const FUNDS: &[DemoFund] = &[
    DemoFund {
        name: "Fonds d'aide aux victimes de la traite (État, démo)",
        source: "state_budget",
        categories: &[
            "shelter",
            "medical",
            "psychological",
            "legal",
            "interpretation",
            "counselling",
        ],
        beneficiaries: &["victim_reasonable_grounds", "protected_witness"],
        destinations: &[],
        allocated: 5_000_000,
        origin: "Programme 137, action 15 (fictional)",
        threshold: Some(150_000),
        low: Some(500_000),
    },
    DemoFund {
        name: "Avoirs criminels confisqués — rapatriement (démo)",
        source: "confiscated_assets",
        categories: &["travel", "escort", "documents"],
        beneficiaries: &["victim_reasonable_grounds"],
        destinations: &[],
        allocated: 1_200_000,
        origin: "Ordonnance AGRASC 2026-0412 (fictional)",
        threshold: Some(100_000),
        low: None,
    },
    DemoFund {
        name: "Contribution Textiles du Rhône (démo)",
        source: "business_contribution",
        categories: &["reintegration", "counselling", "other"],
        beneficiaries: &[],
        destinations: &[],
        allocated: 200_000,
        origin: "Textiles du Rhône SAS (fictional)",
        threshold: None,
        low: Some(50_000),
    },
    DemoFund {
        name: "Part des droits de titres de séjour des travailleurs (démo)",
        source: "permit_fees",
        categories: &["shelter", "interpretation", "legal"],
        beneficiaries: &["victim_reasonable_grounds"],
        destinations: &[],
        allocated: 800_000,
        origin: "Arrêté du 3 mars 2026, art. 4 (fictional)",
        threshold: None,
        low: None,
    },
    DemoFund {
        name: "Programme bilatéral France–Nigeria de retour (démo)",
        source: "intergovernmental_programme",
        categories: &["travel", "escort", "documents", "reintegration"],
        beneficiaries: &[],
        destinations: &["NG"],
        allocated: 3_000_000,
        origin: "Accord FR-NG 2025/7 (fictional)",
        threshold: Some(200_000),
        low: None,
    },
];

/// Seed the funds. `holders` are the fund managers who create each fund (by index of
/// [`FUNDS`]); `open_to` the organisation each is opened to (the advocates' NGO).
pub(super) async fn seed(
    services: &Services,
    holders: [&Actor; 5],
    open_to: i64,
    advocate: &Actor,
) -> Result<(), ServiceError> {
    let mut ids = Vec::new();
    for (f, manager) in FUNDS.iter().zip(holders) {
        let v = services
            .create_fund(
                manager,
                &FundInput {
                    name: f.name.into(),
                    source: f.source.into(),
                    currency: "EUR".into(),
                    valid_from: Some("2026-01-01".into()),
                    valid_until: Some("2027-12-31".into()),
                    approval_threshold_minor: f.threshold,
                    low_balance_minor: f.low,
                    categories: f.categories.iter().map(|c| (*c).into()).collect(),
                    beneficiaries: f.beneficiaries.iter().map(|c| (*c).into()).collect(),
                    destinations: f.destinations.iter().map(|c| (*c).into()).collect(),
                    ..Default::default()
                },
                ROUTE,
            )
            .await?;
        services
            .allocate(
                manager,
                &v.id,
                &AllocationInput {
                    amount_minor: f.allocated,
                    currency: "EUR".into(),
                    origin: f.origin.into(),
                    on: Some("2026-01-15".into()),
                },
                ROUTE,
            )
            .await?;
        if manager.org_id != open_to {
            services.open_fund(manager, &v.id, open_to, ROUTE).await?;
        }
        ids.push(v.id);
    }
    // Commitments on the advocate's protected persons: shelter and legal aid from the
    // state's fund (one spent in part, one waiting for approval, one refused), and
    // counselling from the business contribution, which leaves it close to exhausted.
    let protected = services
        .caseload(
            advocate,
            Scope::Mine,
            Some(passerelle_core::domain::Stage::Protection),
            1,
            6,
            ROUTE,
        )
        .await?;
    let ask = |reference: &str, category: &str, amount: i64, what: &str| CommitmentInput {
        reference: reference.into(),
        category: category.into(),
        purpose: "other".into(),
        record_id: None,
        description: Some(what.into()),
        amount_minor: amount,
        currency: "EUR".into(),
        on: None,
    };
    for (n, c) in protected.items.iter().enumerate().take(3) {
        let commitment = services
            .commit(
                advocate,
                &ids[0],
                &ask(
                    &c.reference,
                    "shelter",
                    90_000,
                    "shelter, one month (fictional)",
                ),
                ROUTE,
            )
            .await?;
        if n == 0 {
            services
                .spend(
                    holders[0],
                    &ids[0],
                    &commitment.id,
                    &SpendingInput {
                        amount_minor: 45_000,
                        currency: "EUR".into(),
                        invoice: "Foyer Les Tilleuls, invoice 2026-0117 (fictional)".into(),
                        on: None,
                    },
                    ROUTE,
                )
                .await?;
        }
    }
    if let Some(c) = protected.items.first() {
        // Above the threshold: waits for the fund manager.
        services
            .commit(
                advocate,
                &ids[0],
                &ask(
                    &c.reference,
                    "legal",
                    180_000,
                    "lawyer for the civil party (fictional)",
                ),
                ROUTE,
            )
            .await?;
    }
    if let Some(c) = protected.items.get(1) {
        let pending = services
            .commit(
                advocate,
                &ids[0],
                &ask(
                    &c.reference,
                    "psychological",
                    160_000,
                    "a year of therapy (fictional)",
                ),
                ROUTE,
            )
            .await?;
        services
            .refuse_commitment(
                holders[0],
                &ids[0],
                &pending.id,
                &RefusalInput {
                    reason: "not eligible: this fund pays therapy only once the health insurance's cover is used up, and it is not (fictional rule)".into(),
                },
                ROUTE,
            )
            .await?;
    }
    if let Some(c) = protected.items.get(2) {
        services
            .commit(
                advocate,
                &ids[2],
                &ask(
                    &c.reference,
                    "counselling",
                    165_000,
                    "job counselling course (fictional)",
                ),
                ROUTE,
            )
            .await?;
    }
    Ok(())
}
