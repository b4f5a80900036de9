//! Ledger entries: the movements of a fund's money and what a commitment pays for.

use super::*;

str_enum!(
    /// What a commitment pays for: a planned service, a shelter placement, a return (its
    /// travel, escort or documents), an item of a reintegration plan, or something else,
    /// described.
    PurposeKind, "purpose" {
        Service => "service",
        Placement => "placement",
        Return => "return",
        ReintegrationItem => "reintegration_item",
        Other => "other",
    }
);

str_enum!(
    /// Where a commitment stands.
    CommitmentStatus, "status" {
        PendingApproval => "pending_approval",
        Approved => "approved",
        Refused => "refused",
    }
);

str_enum!(
    /// The kinds of ledger entry (the stored `kind`).
    MovementKind, "kind" {
        Allocation => "allocation",
        Commitment => "commitment",
        Approval => "approval",
        Refusal => "refusal",
        Spending => "spending",
        Release => "release",
        Correction => "correction",
    }
);

/// The id of a ledger entry (assigned by the store, strictly increasing).
pub type EntryId = i64;

/// What a commitment pays for: a kind and, except for `other`, the record it pays
/// (the service, placement, return or reintegration plan item), with a description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CommitmentPurpose {
    pub kind: PurposeKind,
    /// The id of the record it pays (a service, placement, return or plan item).
    pub record_id: Option<String>,
    pub description: String,
}

/// Does a purpose fit the category it is committed under? A return pays its travel,
/// escort or documents; a placement is shelter; every purpose but `other` names its
/// record; `other` is described.
pub fn check_purpose(
    category: CostCategory,
    purpose: &CommitmentPurpose,
) -> Result<(), FundRefusal> {
    use CostCategory::{Documents, Escort, Shelter, Travel};
    let refuse = |message: String| {
        Err(FundRefusal::new(FundRule::Purpose, message)
            .arg("purpose", purpose.kind)
            .arg("category", category))
    };
    match purpose.kind {
        PurposeKind::Return if !matches!(category, Travel | Escort | Documents) => refuse(format!(
            "a return's commitment pays its travel, escort or documents, not {category}"
        )),
        PurposeKind::Placement if category != Shelter => refuse(format!(
            "a placement's commitment pays shelter, not {category}"
        )),
        PurposeKind::Other if purpose.description.trim().is_empty() => {
            refuse("describe what the commitment pays for".to_owned())
        }
        k if k != PurposeKind::Other && purpose.record_id.is_none() => {
            refuse(format!("a commitment for a {k} names the {k} it pays for"))
        }
        _ => Ok(()),
    }
}

/// One ledger entry. Amounts are positive minor units of the fund's currency, except a
/// correction's delta, which is signed and not zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Movement {
    /// Money put into the fund.
    Allocation { amount: i64, origin: Origin },
    /// Money set aside for a case, a category and a purpose; `status` is
    /// `pending_approval` exactly when [`needs_approval`], else `approved`.
    Commitment {
        case_id: i64,
        category: CostCategory,
        purpose: CommitmentPurpose,
        amount: i64,
        status: CommitmentStatus,
    },
    /// A fund manager approves a pending commitment.
    Approval { commitment: EntryId },
    /// A fund manager refuses a pending commitment: its money goes back to the fund.
    Refusal { commitment: EntryId, reason: String },
    /// An invoice paid from an approved commitment.
    Spending {
        commitment: EntryId,
        amount: i64,
        invoice: String,
    },
    /// Unspent money of a commitment given back to the fund.
    Release { commitment: EntryId, amount: i64 },
    /// A correction of an allocation, commitment or spending by a signed amount.
    Correction {
        of: EntryId,
        delta: i64,
        reason: String,
    },
}

impl Movement {
    pub fn kind(&self) -> MovementKind {
        match self {
            Movement::Allocation { .. } => MovementKind::Allocation,
            Movement::Commitment { .. } => MovementKind::Commitment,
            Movement::Approval { .. } => MovementKind::Approval,
            Movement::Refusal { .. } => MovementKind::Refusal,
            Movement::Spending { .. } => MovementKind::Spending,
            Movement::Release { .. } => MovementKind::Release,
            Movement::Correction { .. } => MovementKind::Correction,
        }
    }
}
