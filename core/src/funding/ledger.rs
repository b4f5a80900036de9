//! The ledger: a fund's entries folded into balances and commitments, and the rule
//! deciding what may be appended (see the module doc of [`super`], "The ledger").

use super::*;

/// A fund's balances, derived from its entries. `pending` is the part of
/// `committed_unspent` that awaits approval (already reserved).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Balances {
    pub allocated: i64,
    pub committed_unspent: i64,
    pub pending: i64,
    pub spent: i64,
    /// allocated − committed_unspent − spent; never below zero.
    pub available: i64,
}

/// A commitment as its entries leave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CommitmentState {
    pub case_id: i64,
    pub category: CostCategory,
    pub purpose: CommitmentPurpose,
    /// The amount, with its corrections.
    pub amount: i64,
    pub spent: i64,
    pub released: i64,
    pub status: CommitmentStatus,
}

impl CommitmentState {
    /// What it still sets aside: nothing once refused.
    pub fn unspent(&self) -> i64 {
        if self.status == CommitmentStatus::Refused {
            0
        } else {
            self.amount - self.spent - self.released
        }
    }
    /// What the case uses from the fund through it (spent or still set aside).
    pub fn used(&self) -> i64 {
        if self.status == CommitmentStatus::Refused {
            0
        } else {
            self.amount - self.released
        }
    }
}

/// What the ledger remembers of an entry, for corrections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Posted {
    Allocation { amount: i64 },
    Commitment,
    Spending { commitment: EntryId, amount: i64 },
    Other(MovementKind),
}

/// What appending a movement would change.
struct Step {
    balances: Balances,
    posted: Posted,
    /// A commitment created (key None: the new entry) or changed.
    commitment: Option<(Option<EntryId>, CommitmentState)>,
    /// A corrected entry's new record.
    target: Option<(EntryId, Posted)>,
}

/// A fund's ledger: the fold of its entries, and the rule deciding what may be appended.
#[derive(Debug, Clone)]
pub struct Ledger {
    fund: String,
    currency: Currency,
    source: SourceKind,
    approval_threshold: Option<i64>,
    balances: Balances,
    entries: BTreeMap<EntryId, Posted>,
    commitments: BTreeMap<EntryId, CommitmentState>,
    last: Option<EntryId>,
}

impl Ledger {
    /// An empty ledger for this fund.
    pub fn new(fund: &Fund) -> Self {
        Self {
            fund: fund.name.clone(),
            currency: fund.currency,
            source: fund.source,
            approval_threshold: fund.approval_threshold,
            balances: Balances::default(),
            entries: BTreeMap::new(),
            commitments: BTreeMap::new(),
            last: None,
        }
    }

    /// Fold stored entries (in id order), checking the money invariants on each: a
    /// corrupted history is refused with the rule it breaks.
    pub fn replay(
        fund: &Fund,
        entries: impl IntoIterator<Item = (EntryId, Movement)>,
    ) -> Result<Self, FundRefusal> {
        let mut ledger = Ledger::new(fund);
        for (id, m) in entries {
            ledger.apply(id, &m)?;
        }
        Ok(ledger)
    }

    pub fn balances(&self) -> Balances {
        self.balances
    }

    pub fn commitment(&self, id: EntryId) -> Option<&CommitmentState> {
        self.commitments.get(&id)
    }

    pub fn commitments(&self) -> impl Iterator<Item = (EntryId, &CommitmentState)> {
        self.commitments.iter().map(|(id, c)| (*id, c))
    }

    /// What a case uses from this fund (commitments not refused: amount − released).
    pub fn case_usage(&self, case_id: i64) -> CaseUsage {
        let mut u = CaseUsage::default();
        for c in self.commitments.values().filter(|c| c.case_id == case_id) {
            u.total = u.total.saturating_add(c.used());
            let e = u.by_category.entry(c.category).or_insert(0);
            *e = e.saturating_add(c.used());
        }
        u
    }

    /// The fund's position for a case, for [`eligibility`] and [`offers`].
    pub fn standing(&self, case_id: i64) -> Standing {
        Standing {
            available: self.balances.available,
            usage: self.case_usage(case_id),
        }
    }

    /// The release of everything a commitment has unspent, with its exact amount.
    pub fn release_rest(&self, commitment: EntryId) -> Result<Movement, FundRefusal> {
        let c = self.open_commitment(commitment)?;
        if c.unspent() <= 0 {
            return Err(self.release_refusal(commitment, c.unspent(), 0));
        }
        Ok(Movement::Release {
            commitment,
            amount: c.unspent(),
        })
    }

    /// Do stored balances match the entries?
    pub fn check_balances(&self, stored: &Balances) -> Result<(), FundRefusal> {
        let b = self.balances;
        if *stored == b {
            return Ok(());
        }
        let c = self.currency;
        Err(FundRefusal::new(
            FundRule::BalanceMismatch,
            format!(
                "the stored balances of fund {} do not match its entries: stored {} available, the entries give {}",
                self.fund,
                format_minor(stored.available, c),
                format_minor(b.available, c)
            ),
        )
        .arg("fund", &self.fund)
        .money("stored_available", stored.available, c)
        .money("available", b.available, c)
        .arg("currency", c))
    }

    /// May this movement be appended now? The money invariants, then the rules that
    /// depend on the fund's current settings (approval threshold, origin, purpose).
    pub fn check_append(&self, m: &Movement) -> Result<(), FundRefusal> {
        self.step(m)?;
        self.policy(m)
    }

    /// Record an entry the store has kept under `id`, checking the money invariants
    /// only (not the fund's current settings: see the module doc).
    pub fn apply(&mut self, id: EntryId, m: &Movement) -> Result<(), FundRefusal> {
        if let Some(last) = self.last.filter(|l| id <= *l) {
            return Err(FundRefusal::new(
                FundRule::EntryOrder,
                format!("entry #{id} comes after entry #{last}: entries are appended in order"),
            )
            .arg("entry", id)
            .arg("last", last));
        }
        let s = self.step(m)?;
        self.balances = s.balances;
        if let Some((key, c)) = s.commitment {
            self.commitments.insert(key.unwrap_or(id), c);
        }
        if let Some((target, posted)) = s.target {
            self.entries.insert(target, posted);
        }
        self.entries.insert(id, s.posted);
        self.last = Some(id);
        Ok(())
    }

    /// [`check_append`](Self::check_append), then [`apply`](Self::apply).
    pub fn append(&mut self, id: EntryId, m: &Movement) -> Result<(), FundRefusal> {
        self.check_append(m)?;
        self.apply(id, m)
    }

    fn money(&self, minor: i64) -> String {
        format_minor(minor, self.currency)
    }

    fn positive(&self, amount: i64) -> Result<(), FundRefusal> {
        if amount > 0 && amount <= MAX_MINOR {
            return Ok(());
        }
        let message = if amount > 0 {
            format!("the amount is too large: at most {}", self.money(MAX_MINOR))
        } else {
            "the amount must be more than zero".to_owned()
        };
        Err(FundRefusal::new(FundRule::NonPositive, message)
            .money("amount", amount, self.currency)
            .arg("currency", self.currency))
    }

    fn overdraw(&self, amount: i64) -> FundRefusal {
        let available = self.balances.available;
        FundRefusal::new(
            FundRule::Overdraw,
            format!(
                "fund {} would go below zero: {} available, {} asked",
                self.fund,
                self.money(available),
                self.money(amount)
            ),
        )
        .arg("fund", &self.fund)
        .money("available", available, self.currency)
        .money("amount", amount, self.currency)
        .arg("currency", self.currency)
    }

    fn overspend(&self, id: EntryId, unspent: i64, amount: i64) -> FundRefusal {
        FundRefusal::new(
            FundRule::Overspend,
            format!(
                "commitment #{id} would be overspent: {} left on it, {} asked",
                self.money(unspent),
                self.money(amount)
            ),
        )
        .arg("commitment", id)
        .money("unspent", unspent, self.currency)
        .money("amount", amount, self.currency)
        .arg("currency", self.currency)
    }

    fn release_refusal(&self, id: EntryId, unspent: i64, amount: i64) -> FundRefusal {
        FundRefusal::new(
            FundRule::ReleaseMoreThanUnspent,
            format!(
                "commitment #{id} has {} unspent: {} cannot be released",
                self.money(unspent),
                self.money(amount)
            ),
        )
        .arg("commitment", id)
        .money("unspent", unspent, self.currency)
        .money("amount", amount, self.currency)
        .arg("currency", self.currency)
    }

    /// A commitment that exists and was not refused.
    fn open_commitment(&self, id: EntryId) -> Result<&CommitmentState, FundRefusal> {
        let c = self.commitments.get(&id).ok_or_else(|| {
            FundRefusal::new(
                FundRule::UnknownCommitment,
                format!("fund {} has no commitment #{id}", self.fund),
            )
            .arg("fund", &self.fund)
            .arg("commitment", id)
        })?;
        if c.status == CommitmentStatus::Refused {
            return Err(FundRefusal::new(
                FundRule::CommitmentClosed,
                format!("commitment #{id} was refused: nothing more is recorded against it"),
            )
            .arg("commitment", id));
        }
        Ok(c)
    }

    fn pending_only(&self, id: EntryId, c: &CommitmentState) -> Result<(), FundRefusal> {
        if c.status == CommitmentStatus::PendingApproval {
            return Ok(());
        }
        Err(FundRefusal::new(
            FundRule::NotPending,
            format!(
                "commitment #{id} is not awaiting approval: it is {}",
                c.status
            ),
        )
        .arg("commitment", id)
        .arg("status", c.status))
    }

    /// The money invariants: what appending `m` would leave, or why it may not.
    fn step(&self, m: &Movement) -> Result<Step, FundRefusal> {
        let mut b = self.balances;
        let posted_other = Posted::Other(m.kind());
        let step = match m {
            Movement::Allocation { amount, origin } => {
                self.positive(*amount)?;
                required("origin", &origin.reference)?;
                b.allocated = add(b.allocated, *amount)?;
                Step {
                    balances: b,
                    posted: Posted::Allocation { amount: *amount },
                    commitment: None,
                    target: None,
                }
            }
            Movement::Commitment {
                case_id,
                category,
                purpose,
                amount,
                status,
            } => {
                self.positive(*amount)?;
                if *status == CommitmentStatus::Refused {
                    return Err(FundRefusal::new(
                        FundRule::Approval,
                        "a commitment starts pending approval or approved, not refused",
                    ));
                }
                if *amount > b.available {
                    return Err(self.overdraw(*amount));
                }
                b.committed_unspent = add(b.committed_unspent, *amount)?;
                if *status == CommitmentStatus::PendingApproval {
                    b.pending = add(b.pending, *amount)?;
                }
                Step {
                    balances: b,
                    posted: Posted::Commitment,
                    commitment: Some((
                        None,
                        CommitmentState {
                            case_id: *case_id,
                            category: *category,
                            purpose: purpose.clone(),
                            amount: *amount,
                            spent: 0,
                            released: 0,
                            status: *status,
                        },
                    )),
                    target: None,
                }
            }
            Movement::Approval { commitment } | Movement::Refusal { commitment, .. } => {
                let c = self.open_commitment(*commitment)?;
                self.pending_only(*commitment, c)?;
                let mut c = c.clone();
                b.pending = sub(b.pending, c.unspent())?;
                if let Movement::Refusal { reason, .. } = m {
                    required("reason", reason)?;
                    b.committed_unspent = sub(b.committed_unspent, c.unspent())?;
                    c.status = CommitmentStatus::Refused;
                } else {
                    c.status = CommitmentStatus::Approved;
                }
                Step {
                    balances: b,
                    posted: posted_other,
                    commitment: Some((Some(*commitment), c)),
                    target: None,
                }
            }
            Movement::Spending {
                commitment,
                amount,
                invoice,
            } => {
                self.positive(*amount)?;
                required("invoice", invoice)?;
                let c = self.open_commitment(*commitment)?;
                if c.status == CommitmentStatus::PendingApproval {
                    return Err(FundRefusal::new(
                        FundRule::NotApproved,
                        format!(
                            "commitment #{commitment} awaits a fund manager's approval: nothing is spent on it before"
                        ),
                    )
                    .arg("commitment", commitment));
                }
                if *amount > c.unspent() {
                    return Err(self.overspend(*commitment, c.unspent(), *amount));
                }
                let mut c = c.clone();
                c.spent = add(c.spent, *amount)?;
                b.committed_unspent = sub(b.committed_unspent, *amount)?;
                b.spent = add(b.spent, *amount)?;
                Step {
                    balances: b,
                    posted: Posted::Spending {
                        commitment: *commitment,
                        amount: *amount,
                    },
                    commitment: Some((Some(*commitment), c)),
                    target: None,
                }
            }
            Movement::Release { commitment, amount } => {
                self.positive(*amount)?;
                let c = self.open_commitment(*commitment)?;
                if *amount > c.unspent() {
                    return Err(self.release_refusal(*commitment, c.unspent(), *amount));
                }
                let mut c = c.clone();
                c.released = add(c.released, *amount)?;
                b.committed_unspent = sub(b.committed_unspent, *amount)?;
                if c.status == CommitmentStatus::PendingApproval {
                    b.pending = sub(b.pending, *amount)?;
                }
                Step {
                    balances: b,
                    posted: posted_other,
                    commitment: Some((Some(*commitment), c)),
                    target: None,
                }
            }
            Movement::Correction { of, delta, reason } => {
                self.correction(b, *of, *delta, reason)?
            }
        };
        let mut b = step.balances;
        b.available = sub(sub(b.allocated, b.committed_unspent)?, b.spent)?;
        // Defence in depth: whatever the branch above, the invariants hold.
        if b.available < 0 {
            return Err(self.overdraw(sub(self.balances.available, b.available)?));
        }
        // (A new commitment, key None, starts with nothing spent: only an existing one,
        // with its own id, can be overspent.)
        if let Some((Some(id), c)) = &step.commitment
            && c.unspent() < 0
        {
            return Err(self.overspend(*id, 0, -c.unspent()));
        }
        Ok(Step {
            balances: b,
            ..step
        })
    }

    fn correction(
        &self,
        mut b: Balances,
        of: EntryId,
        delta: i64,
        reason: &str,
    ) -> Result<Step, FundRefusal> {
        required("reason", reason)?;
        if delta == 0 {
            return Err(FundRefusal::new(
                FundRule::EmptyCorrection,
                "a correction changes the amount: it cannot be zero",
            ));
        }
        if delta.unsigned_abs() > MAX_MINOR.unsigned_abs() {
            return Err(overflow());
        }
        let target = self.entries.get(&of).copied().ok_or_else(|| {
            FundRefusal::new(
                FundRule::UnknownEntry,
                format!("fund {} has no entry #{of}", self.fund),
            )
            .arg("fund", &self.fund)
            .arg("entry", of)
        })?;
        let below_zero = |amount: i64| {
            FundRefusal::new(
                FundRule::CorrectionBelowZero,
                format!(
                    "entry #{of} would go below zero: it is {}, the correction is {}",
                    self.money(amount),
                    self.money(delta)
                ),
            )
            .arg("entry", of)
            .money("amount", amount, self.currency)
            .money("delta", delta, self.currency)
            .arg("currency", self.currency)
        };
        let posted = Posted::Other(MovementKind::Correction);
        match target {
            Posted::Allocation { amount } => {
                let corrected = add(amount, delta)?;
                if corrected < 0 {
                    return Err(below_zero(amount));
                }
                if -delta > b.available {
                    return Err(self.overdraw(-delta));
                }
                b.allocated = add(b.allocated, delta)?;
                Ok(Step {
                    balances: b,
                    posted,
                    commitment: None,
                    target: Some((of, Posted::Allocation { amount: corrected })),
                })
            }
            Posted::Commitment => {
                let c = self.open_commitment(of)?;
                let corrected = add(c.amount, delta)?;
                let used = add(c.spent, c.released)?;
                if corrected < used {
                    return Err(FundRefusal::new(
                        FundRule::Overspend,
                        format!(
                            "commitment #{of} would be overspent: {} already spent or released, corrected amount {}",
                            self.money(used),
                            self.money(corrected)
                        ),
                    )
                    .arg("commitment", of)
                    .money("used", used, self.currency)
                    .money("amount", corrected, self.currency)
                    .arg("currency", self.currency));
                }
                if delta > b.available {
                    return Err(self.overdraw(delta));
                }
                let mut c = c.clone();
                c.amount = corrected;
                b.committed_unspent = add(b.committed_unspent, delta)?;
                if c.status == CommitmentStatus::PendingApproval {
                    b.pending = add(b.pending, delta)?;
                }
                Ok(Step {
                    balances: b,
                    posted,
                    commitment: Some((Some(of), c)),
                    target: None,
                })
            }
            Posted::Spending { commitment, amount } => {
                let corrected = add(amount, delta)?;
                if corrected < 0 {
                    return Err(below_zero(amount));
                }
                let c = self.open_commitment(commitment)?;
                if delta > c.unspent() {
                    return Err(self.overspend(commitment, c.unspent(), delta));
                }
                let mut c = c.clone();
                c.spent = add(c.spent, delta)?;
                b.spent = add(b.spent, delta)?;
                b.committed_unspent = sub(b.committed_unspent, delta)?;
                Ok(Step {
                    balances: b,
                    posted,
                    commitment: Some((Some(commitment), c)),
                    target: Some((
                        of,
                        Posted::Spending {
                            commitment,
                            amount: corrected,
                        },
                    )),
                })
            }
            Posted::Other(kind) => Err(FundRefusal::new(
                FundRule::NotCorrectable,
                format!(
                    "entry #{of} is a {kind}: only allocations, commitments and spendings are corrected (a wrong release is made good by a new commitment)"
                ),
            )
            .arg("entry", of)
            .arg("kind", kind)),
        }
    }

    /// The rules that depend on the fund's current settings.
    fn policy(&self, m: &Movement) -> Result<(), FundRefusal> {
        let threshold = self.approval_threshold;
        let threshold_words = |t: Option<i64>| match t {
            Some(t) => self.money(t),
            None => "none".to_owned(),
        };
        match m {
            Movement::Allocation { origin, .. } => origin_fits(&self.fund, self.source, origin),
            Movement::Commitment {
                category,
                purpose,
                amount,
                status,
                ..
            } => {
                check_purpose(*category, purpose)?;
                let pending = needs_approval(*amount, threshold);
                if pending == (*status == CommitmentStatus::PendingApproval) {
                    return Ok(());
                }
                let message = if pending {
                    format!(
                        "a commitment of {} is above fund {}'s approval threshold of {}: it awaits a fund manager's approval",
                        self.money(*amount),
                        self.fund,
                        threshold_words(threshold)
                    )
                } else {
                    format!(
                        "a commitment of {} is within fund {}'s approval threshold ({}): it is approved without waiting",
                        self.money(*amount),
                        self.fund,
                        threshold_words(threshold)
                    )
                };
                let r = FundRefusal::new(FundRule::Approval, message)
                    .arg("fund", &self.fund)
                    .money("amount", *amount, self.currency)
                    .arg("currency", self.currency);
                Err(match threshold {
                    Some(t) => r.money("threshold", t, self.currency),
                    None => r,
                })
            }
            Movement::Correction { of, delta, .. } if *delta > 0 => {
                let Some(c) = self.commitments.get(of) else {
                    return Ok(());
                };
                let corrected = c.amount.saturating_add(*delta);
                if c.status == CommitmentStatus::Approved && needs_approval(corrected, threshold) {
                    let r = FundRefusal::new(
                        FundRule::Approval,
                        format!(
                            "raising approved commitment #{of} to {} goes above fund {}'s approval threshold of {}: commit the difference separately, for a fund manager to approve",
                            self.money(corrected),
                            self.fund,
                            threshold_words(threshold)
                        ),
                    )
                    .arg("fund", &self.fund)
                    .arg("commitment", of)
                    .money("amount", corrected, self.currency)
                    .arg("currency", self.currency);
                    return Err(match threshold {
                        Some(t) => r.money("threshold", t, self.currency),
                        None => r,
                    });
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
