//! The ledger: the life of a commitment, its invariants, corrections, approval, replay.

use super::*;

fn purpose(kind: PurposeKind) -> CommitmentPurpose {
    CommitmentPurpose {
        kind,
        record_id: Some("7".into()),
        description: "Paris–Lagos".into(),
    }
}
fn commit(case_id: i64, category: CostCategory, amount: i64) -> Movement {
    Movement::Commitment {
        case_id,
        category,
        purpose: purpose(PurposeKind::Return),
        amount,
        status: if needs_approval(amount, fund().approval_threshold) {
            CommitmentStatus::PendingApproval
        } else {
            CommitmentStatus::Approved
        },
    }
}

/// A ledger and the id the store would give the next entry.
struct Book {
    ledger: Ledger,
    next: EntryId,
}

impl Book {
    fn new() -> Self {
        Book {
            ledger: Ledger::new(&fund()),
            next: 1,
        }
    }
    /// Append; the new entry's id.
    fn add(&mut self, m: Movement) -> Result<EntryId, FundRefusal> {
        let id = self.next;
        self.ledger.append(id, &m)?;
        self.next += 1;
        Ok(id)
    }
    fn ok(&mut self, m: Movement) -> EntryId {
        self.add(m.clone())
            .unwrap_or_else(|e| panic!("{m:?} refused: {e}"))
    }
    fn refused(&mut self, m: Movement) -> FundRefusal {
        let before = self.ledger.balances();
        let r = self
            .add(m.clone())
            .err()
            .unwrap_or_else(|| panic!("{m:?} was accepted"));
        assert_eq!(self.ledger.balances(), before, "a refusal changes nothing");
        r
    }
    fn b(&self) -> Balances {
        self.ledger.balances()
    }
}

fn bal(allocated: i64, committed_unspent: i64, pending: i64, spent: i64) -> Balances {
    Balances {
        allocated,
        committed_unspent,
        pending,
        spent,
        available: allocated - committed_unspent - spent,
    }
}

#[test]
fn the_life_of_a_commitment() {
    let mut k = Book::new();
    k.ok(alloc(500_000));
    let c = k.ok(commit(1, CostCategory::Travel, 200_000));
    assert_eq!(k.b(), bal(500_000, 200_000, 200_000, 0), "pending reserves");
    let r = k.refused(spend(c, 1_000));
    assert_eq!(r.rule, FundRule::NotApproved);
    k.ok(Movement::Approval { commitment: c });
    assert_eq!(k.b(), bal(500_000, 200_000, 0, 0));
    k.ok(spend(c, 120_000));
    k.ok(spend(c, 30_000));
    assert_eq!(k.b(), bal(500_000, 50_000, 0, 150_000));
    let rest = k.ledger.release_rest(c).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rest, release(c, 50_000));
    k.ok(rest);
    assert_eq!(k.b(), bal(500_000, 0, 0, 150_000));
    assert_eq!(k.b().available, 350_000);
    let state = k.ledger.commitment(c).cloned();
    assert_eq!(
        state.map(|s| (s.amount, s.spent, s.released, s.unspent(), s.status)),
        Some((200_000, 150_000, 50_000, 0, CommitmentStatus::Approved))
    );
    assert_eq!(
        k.ledger.release_rest(c).map_err(|r| r.rule),
        Err(FundRule::ReleaseMoreThanUnspent)
    );
}

#[test]
fn a_fund_never_goes_below_zero() {
    let mut k = Book::new();
    let r = k.refused(commit(1, CostCategory::Travel, 1));
    assert_eq!(r.rule, FundRule::Overdraw);
    k.ok(alloc(10_000));
    let r = k.refused(commit(1, CostCategory::Travel, 10_001));
    assert_eq!(
        r.message,
        "fund Retours NG would go below zero: 100.00 EUR available, 100.01 EUR asked"
    );
    assert_eq!(
        (r.get("available"), r.get("amount")),
        (Some("100.00"), Some("100.01"))
    );
    k.ok(commit(1, CostCategory::Travel, 10_000));
    assert_eq!(k.b().available, 0);
}

#[test]
fn a_pending_commitment_reserves_so_approval_cannot_overdraw() {
    let mut k = Book::new();
    k.ok(alloc(300_000));
    let big = k.ok(commit(1, CostCategory::Travel, 200_000));
    assert_eq!(
        k.ledger.commitment(big).map(|c| c.status),
        Some(CommitmentStatus::PendingApproval)
    );
    k.ok(commit(2, CostCategory::Travel, 90_000));
    assert_eq!(
        k.refused(commit(3, CostCategory::Travel, 20_000)).rule,
        FundRule::Overdraw,
        "the pending 2000.00 is not promised twice"
    );
    k.ok(Movement::Approval { commitment: big });
    assert_eq!(k.b(), bal(300_000, 290_000, 0, 0));
    assert_eq!(
        k.refused(Movement::Approval { commitment: big }).rule,
        FundRule::NotPending
    );
}

#[test]
fn a_refused_commitment_gives_its_money_back_and_is_closed() {
    let mut k = Book::new();
    k.ok(alloc(300_000));
    let c = k.ok(commit(1, CostCategory::Travel, 200_000));
    let r = k.refused(Movement::Refusal {
        commitment: c,
        reason: " ".into(),
    });
    assert_eq!(
        (r.rule, r.get("field")),
        (FundRule::Required, Some("reason"))
    );
    k.ok(Movement::Refusal {
        commitment: c,
        reason: "another fund pays".into(),
    });
    assert_eq!(k.b(), bal(300_000, 0, 0, 0));
    for m in [
        Movement::Approval { commitment: c },
        spend(c, 1),
        release(c, 1),
        correct(c, 1),
        Movement::Refusal {
            commitment: c,
            reason: "again".into(),
        },
    ] {
        let r = k.refused(m);
        assert_eq!(r.rule, FundRule::CommitmentClosed);
        assert_eq!(
            r.message,
            format!("commitment #{c} was refused: nothing more is recorded against it")
        );
    }
    assert_eq!(k.ledger.case_usage(1).total, 0);
}

#[test]
fn a_commitment_is_never_overspent() {
    let mut k = Book::new();
    k.ok(alloc(100_000));
    let c = k.ok(commit(1, CostCategory::Escort, 40_000));
    k.ok(spend(c, 25_000));
    let r = k.refused(spend(c, 15_001));
    assert_eq!(
        r.message,
        format!("commitment #{c} would be overspent: 150.00 EUR left on it, 150.01 EUR asked")
    );
    assert_eq!(r.rule, FundRule::Overspend);
    k.ok(spend(c, 15_000));
    assert_eq!(k.refused(spend(c, 1)).rule, FundRule::Overspend);
    let r = k.refused(release(c, 1));
    assert_eq!(r.rule, FundRule::ReleaseMoreThanUnspent);
    assert_eq!(
        r.message,
        format!("commitment #{c} has 0.00 EUR unspent: 0.01 EUR cannot be released")
    );
}

#[test]
fn references_must_exist_and_amounts_be_positive() {
    let mut k = Book::new();
    let a = k.ok(alloc(100_000));
    let r = k.refused(spend(99, 1));
    assert_eq!(r.rule, FundRule::UnknownCommitment);
    assert_eq!(r.message, "fund Retours NG has no commitment #99");
    assert_eq!(k.refused(spend(a, 1)).rule, FundRule::UnknownCommitment);
    assert_eq!(
        k.refused(Movement::Approval { commitment: a }).rule,
        FundRule::UnknownCommitment
    );
    for m in [alloc(0), alloc(-5), alloc(MAX_MINOR + 1)] {
        assert_eq!(k.refused(m).rule, FundRule::NonPositive);
    }
    let c = k.ok(commit(1, CostCategory::Travel, 1_000));
    for m in [
        spend(c, 0),
        release(c, -1),
        commit(1, CostCategory::Travel, 0),
    ] {
        assert_eq!(k.refused(m).rule, FundRule::NonPositive);
    }
    let r = k.refused(Movement::Spending {
        commitment: c,
        amount: 10,
        invoice: "".into(),
    });
    assert_eq!(
        (r.rule, r.get("field")),
        (FundRule::Required, Some("invoice"))
    );
    let r = k.refused(Movement::Allocation {
        amount: 10,
        origin: Origin {
            kind: OriginKind::ProgrammeAgreement,
            reference: "".into(),
        },
    });
    assert_eq!(r.rule, FundRule::Required);
}

#[test]
fn corrections_of_allocations_keep_the_fund_above_zero() {
    let mut k = Book::new();
    let a = k.ok(alloc(100_000));
    k.ok(commit(1, CostCategory::Travel, 70_000));
    assert_eq!(k.refused(correct(a, -30_001)).rule, FundRule::Overdraw);
    k.ok(correct(a, -30_000));
    assert_eq!(k.b(), bal(70_000, 70_000, 0, 0));
    k.ok(correct(a, 5_000));
    // Corrections add up: the allocation is now 75 000.
    let r = k.refused(correct(a, -75_001));
    assert_eq!(r.rule, FundRule::CorrectionBelowZero);
    assert!(
        r.message
            .starts_with(&format!("entry #{a} would go below zero: it is 750.00 EUR"))
    );
    assert_eq!(k.refused(correct(a, 0)).rule, FundRule::EmptyCorrection);
    assert_eq!(k.refused(correct(404, 1)).rule, FundRule::UnknownEntry);
    let r = k.refused(Movement::Correction {
        of: a,
        delta: 1,
        reason: "".into(),
    });
    assert_eq!(r.rule, FundRule::Required);
}

#[test]
fn corrections_of_commitments_and_spendings_keep_every_invariant() {
    let mut k = Book::new();
    k.ok(alloc(100_000));
    let c = k.ok(commit(1, CostCategory::Travel, 50_000));
    let s = k.ok(spend(c, 30_000));
    // A commitment cannot drop below what is spent or released...
    let r = k.refused(correct(c, -20_001));
    assert_eq!(r.rule, FundRule::Overspend);
    assert_eq!(
        r.message,
        format!(
            "commitment #{c} would be overspent: 300.00 EUR already spent or released, corrected amount 299.99 EUR"
        )
    );
    // ...nor rise beyond what the fund has.
    assert_eq!(k.refused(correct(c, 50_001)).rule, FundRule::Overdraw);
    k.ok(correct(c, -10_000));
    assert_eq!(k.b(), bal(100_000, 10_000, 0, 30_000));
    // A spending cannot rise beyond its commitment's unspent part, nor below zero.
    assert_eq!(k.refused(correct(s, 10_001)).rule, FundRule::Overspend);
    assert_eq!(
        k.refused(correct(s, -30_001)).rule,
        FundRule::CorrectionBelowZero
    );
    // A lower invoice gives the money back to the commitment, not to the fund.
    k.ok(correct(s, -5_000));
    assert_eq!(k.b(), bal(100_000, 15_000, 0, 25_000));
    assert_eq!(k.ledger.commitment(c).map(|c| c.unspent()), Some(15_000));
    // Decisions, releases and corrections are not corrected.
    let rel = k.ok(release(c, 1_000));
    let fix = k.ok(correct(s, 1));
    for target in [rel, fix] {
        let r = k.refused(correct(target, 1));
        assert_eq!(r.rule, FundRule::NotCorrectable, "{target}");
    }
}

#[test]
fn approval_follows_the_threshold_and_cannot_be_bypassed() {
    let mut k = Book::new();
    k.ok(alloc(1_000_000));
    let wrong_status = |amount: i64, status: CommitmentStatus| Movement::Commitment {
        case_id: 1,
        category: CostCategory::Travel,
        purpose: purpose(PurposeKind::Return),
        amount,
        status,
    };
    let r = k.refused(wrong_status(100_001, CommitmentStatus::Approved));
    assert_eq!(r.rule, FundRule::Approval);
    assert_eq!(
        r.message,
        "a commitment of 1000.01 EUR is above fund Retours NG's approval threshold of 1000.00 EUR: it awaits a fund manager's approval"
    );
    assert_eq!(r.get("threshold"), Some("1000.00"));
    assert_eq!(
        k.refused(wrong_status(100_000, CommitmentStatus::PendingApproval))
            .rule,
        FundRule::Approval
    );
    assert_eq!(
        k.refused(wrong_status(10, CommitmentStatus::Refused)).rule,
        FundRule::Approval
    );
    // An approved commitment is not raised above the threshold by a correction...
    let c = k.ok(commit(1, CostCategory::Travel, 90_000));
    let r = k.refused(correct(c, 10_001));
    assert_eq!(r.rule, FundRule::Approval);
    assert!(r.message.contains("commit the difference separately"));
    k.ok(correct(c, 10_000));
    // ...but a pending one may be, it still awaits approval.
    let p = k.ok(commit(2, CostCategory::Travel, 150_000));
    k.ok(correct(p, 50_000));
    assert_eq!(k.b().pending, 200_000);
    // With no threshold, nothing waits.
    let mut open = fund();
    open.approval_threshold = None;
    let mut l = Ledger::new(&open);
    let res = l
        .append(1, &alloc(1_000_000))
        .and_then(|()| l.check_append(&wrong_status(900_000, CommitmentStatus::Approved)));
    assert_eq!(res, Ok(()));
}

#[test]
fn origins_and_purposes_must_fit() {
    let mut k = Book::new();
    let r = k.refused(Movement::Allocation {
        amount: 10,
        origin: Origin {
            kind: OriginKind::CourtOrder,
            reference: "24/0193".into(),
        },
    });
    assert_eq!(r.rule, FundRule::Origin);
    assert_eq!(
        r.message,
        "an allocation to fund Retours NG (intergovernmental_programme) names the programme agreement"
    );
    k.ok(alloc(100_000));
    let with = |category: CostCategory, purpose: CommitmentPurpose| Movement::Commitment {
        case_id: 1,
        category,
        purpose,
        amount: 100,
        status: CommitmentStatus::Approved,
    };
    let mut no_record = purpose(PurposeKind::Service);
    no_record.record_id = None;
    let mut undescribed = purpose(PurposeKind::Other);
    undescribed.description = " ".into();
    for (category, p, says) in [
        (
            CostCategory::Medical,
            purpose(PurposeKind::Return),
            "a return's commitment pays its travel, escort or documents, not medical",
        ),
        (
            CostCategory::Travel,
            purpose(PurposeKind::Placement),
            "a placement's commitment pays shelter, not travel",
        ),
        (
            CostCategory::Medical,
            no_record,
            "a commitment for a service names the service it pays for",
        ),
        (
            CostCategory::Other,
            undescribed,
            "describe what the commitment pays for",
        ),
    ] {
        let r = k.refused(with(category, p));
        assert_eq!((r.rule, r.message.as_str()), (FundRule::Purpose, says));
    }
    let mut other = purpose(PurposeKind::Other);
    other.record_id = None;
    k.ok(with(CostCategory::Other, other));
    k.ok(with(CostCategory::Shelter, purpose(PurposeKind::Placement)));
    k.ok(with(CostCategory::Documents, purpose(PurposeKind::Return)));
}

#[test]
fn replay_checks_the_history_but_not_todays_settings() {
    let mut k = Book::new();
    k.ok(alloc(500_000));
    let c = k.ok(commit(1, CostCategory::Travel, 90_000));
    k.ok(spend(c, 40_000));
    let history = vec![
        (1, alloc(500_000)),
        (2, commit(1, CostCategory::Travel, 90_000)),
        (3, spend(c, 40_000)),
    ];
    // The threshold was lowered since: the approved 900.00 stays valid history.
    let mut stricter = fund();
    stricter.approval_threshold = Some(10_000);
    let replayed = Ledger::replay(&stricter, history.clone()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(replayed.balances(), k.b());
    assert_eq!(replayed.check_balances(&k.b()), Ok(()));
    // ...but new entries follow it.
    assert_eq!(
        replayed
            .check_append(&commit(1, CostCategory::Travel, 20_000))
            .map_err(|r| r.rule),
        Err(FundRule::Approval)
    );
    // A corrupted history is refused with the rule it breaks.
    let mut bad = history.clone();
    bad.push((4, spend(c, 50_001)));
    assert_eq!(
        Ledger::replay(&fund(), bad)
            .map(|l| l.balances())
            .map_err(|r| r.rule),
        Err(FundRule::Overspend)
    );
    // Ids going backwards (the order check comes before any other).
    let mut shuffled = history.clone();
    shuffled[1].0 = 5;
    assert_eq!(
        Ledger::replay(&fund(), shuffled)
            .map(|l| l.balances())
            .map_err(|r| r.rule),
        Err(FundRule::EntryOrder)
    );
    let mut repeated = history;
    repeated[2].0 = 2;
    assert_eq!(
        Ledger::replay(&fund(), repeated)
            .map(|l| l.balances())
            .map_err(|r| r.rule),
        Err(FundRule::EntryOrder)
    );
}

#[test]
fn stored_balances_are_checked_against_the_entries() {
    let mut k = Book::new();
    k.ok(alloc(500_000));
    let mut stored = k.b();
    assert_eq!(k.ledger.check_balances(&stored), Ok(()));
    stored.available += 1;
    let r = k.ledger.check_balances(&stored).err();
    assert_eq!(r.as_ref().map(|r| r.rule), Some(FundRule::BalanceMismatch));
    assert_eq!(
        r.map(|r| r.message),
        Some("the stored balances of fund Retours NG do not match its entries: stored 5000.01 EUR available, the entries give 5000.00 EUR".to_owned())
    );
}

#[test]
fn case_usage_counts_what_is_set_aside_or_spent_for_the_case() {
    let mut k = Book::new();
    k.ok(alloc(1_000_000));
    let a = k.ok(commit(1, CostCategory::Travel, 80_000));
    let b = k.ok(commit(1, CostCategory::Escort, 30_000));
    let pending = k.ok(commit(1, CostCategory::Travel, 150_000));
    let other_case = k.ok(commit(2, CostCategory::Travel, 50_000));
    k.ok(spend(a, 60_000));
    k.ok(release(a, 20_000));
    k.ok(spend(b, 10_000));
    k.ok(spend(other_case, 50_000));
    let u = k.ledger.case_usage(1);
    assert_eq!(u.total, 60_000 + 30_000 + 150_000, "pending counts");
    assert_eq!(u.category(CostCategory::Travel), 210_000);
    assert_eq!(u.category(CostCategory::Escort), 30_000);
    assert_eq!(u.category(CostCategory::Medical), 0);
    k.ok(Movement::Refusal {
        commitment: pending,
        reason: "too much".into(),
    });
    assert_eq!(k.ledger.case_usage(1).total, 90_000);
    assert_eq!(k.ledger.case_usage(3), CaseUsage::default());
    // The standing feeds the eligibility caps: escort cap is 500.00 for a case.
    let st = k.ledger.standing(1);
    assert_eq!(st.available, k.b().available);
    let r = check(&fund(), &st, &facts(), &ask(CostCategory::Escort, 20_001));
    assert_eq!(rules(&r), [FundRule::CategoryCap]);
    assert_eq!(k.ledger.commitments().count(), 4);
}

#[test]
fn movements_have_a_stored_kind_and_serialise_tagged() {
    assert_eq!(spend(1, 5).kind().as_str(), "spending");
    assert_eq!(correct(1, 5).kind(), MovementKind::Correction);
    let v = serde_json::to_value(release(3, 5)).unwrap_or_default();
    assert_eq!(v["kind"], "release");
    assert_eq!(v["commitment"], 3);
    let back: Result<Movement, _> = serde_json::from_value(v);
    assert_eq!(back.ok(), Some(release(3, 5)));
}
