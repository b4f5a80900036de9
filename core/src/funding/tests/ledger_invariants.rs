//! The ledger invariants, over any sequence of movements.

use super::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Alloc(i64),
    Commit(i64, usize, i64, bool),
    Approve(usize),
    Refuse(usize),
    Spend(usize, i64),
    Release(usize, i64),
    ReleaseRest(usize),
    Correct(usize, i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (1i64..300_000).prop_map(Op::Alloc),
        4 => (0i64..3, 0usize..CostCategory::ALL.len(), 1i64..200_000, prop::bool::weighted(0.1))
            .prop_map(|(c, k, a, flip)| Op::Commit(c, k, a, flip)),
        2 => any::<usize>().prop_map(Op::Approve),
        1 => any::<usize>().prop_map(Op::Refuse),
        4 => (any::<usize>(), 1i64..80_000).prop_map(|(i, a)| Op::Spend(i, a)),
        2 => (any::<usize>(), 1i64..100_000).prop_map(|(i, a)| Op::Release(i, a)),
        1 => any::<usize>().prop_map(Op::ReleaseRest),
        3 => (any::<usize>(), -150_000i64..150_000).prop_map(|(i, d)| Op::Correct(i, d)),
    ]
}

fn movement(op: &Op, ledger: &Ledger, ids: &[EntryId]) -> Option<Movement> {
    // Point at an existing entry (any kind), or now and then at none.
    let pick = |i: usize| {
        if ids.is_empty() || i.is_multiple_of(17) {
            1_000_000
        } else {
            ids[i % ids.len()]
        }
    };
    // Mostly a commitment, sometimes any entry or none.
    let commitments: Vec<EntryId> = ledger.commitments().map(|(id, _)| id).collect();
    let pick_commitment = |i: usize| {
        if commitments.is_empty() || i.is_multiple_of(5) {
            pick(i / 5)
        } else {
            commitments[i % commitments.len()]
        }
    };
    Some(match *op {
        Op::Alloc(a) => alloc(a),
        Op::Commit(case_id, k, amount, flip) => {
            let category = CostCategory::ALL[k];
            let pending = needs_approval(amount, fund().approval_threshold) != flip;
            Movement::Commitment {
                case_id,
                category,
                purpose: CommitmentPurpose {
                    kind: PurposeKind::Other,
                    record_id: None,
                    description: "test".into(),
                },
                amount,
                status: if pending {
                    CommitmentStatus::PendingApproval
                } else {
                    CommitmentStatus::Approved
                },
            }
        }
        Op::Approve(i) => Movement::Approval {
            commitment: pick_commitment(i),
        },
        Op::Refuse(i) => Movement::Refusal {
            commitment: pick_commitment(i),
            reason: "no".into(),
        },
        Op::Spend(i, a) => spend(pick_commitment(i), a),
        Op::Release(i, a) => release(pick_commitment(i), a),
        Op::ReleaseRest(i) => return ledger.release_rest(pick_commitment(i)).ok(),
        Op::Correct(i, d) => correct(pick(i), d),
    })
}

/// The balances recomputed from the accepted entries alone, without the ledger.
fn recompute(entries: &[(EntryId, Movement)]) -> (Balances, BTreeMap<EntryId, (i64, i64, i64)>) {
    let kind_of: BTreeMap<EntryId, &Movement> = entries.iter().map(|(id, m)| (*id, m)).collect();
    // Per commitment: amount, spent, released.
    let mut c: BTreeMap<EntryId, (i64, i64, i64)> = BTreeMap::new();
    let mut pending: BTreeSet<EntryId> = BTreeSet::new();
    let mut refused: BTreeSet<EntryId> = BTreeSet::new();
    let (mut allocated, mut spent) = (0i64, 0i64);
    for (id, m) in entries {
        match m {
            Movement::Allocation { amount, .. } => allocated += amount,
            Movement::Commitment { amount, status, .. } => {
                c.insert(*id, (*amount, 0, 0));
                if *status == CommitmentStatus::PendingApproval {
                    pending.insert(*id);
                }
            }
            Movement::Approval { commitment } => {
                pending.remove(commitment);
            }
            Movement::Refusal { commitment, .. } => {
                pending.remove(commitment);
                refused.insert(*commitment);
            }
            Movement::Spending {
                commitment, amount, ..
            } => {
                spent += amount;
                c.entry(*commitment).or_default().1 += amount;
            }
            Movement::Release { commitment, amount } => {
                c.entry(*commitment).or_default().2 += amount;
            }
            Movement::Correction { of, delta, .. } => match kind_of.get(of) {
                Some(Movement::Allocation { .. }) => allocated += delta,
                Some(Movement::Commitment { .. }) => c.entry(*of).or_default().0 += delta,
                Some(Movement::Spending { commitment, .. }) => {
                    spent += delta;
                    c.entry(*commitment).or_default().1 += delta;
                }
                other => panic!("a correction of {other:?} was accepted"),
            },
        }
    }
    let open = |id: &EntryId| !refused.contains(id);
    let unspent = |(a, s, r): &(i64, i64, i64)| a - s - r;
    let committed_unspent: i64 = c
        .iter()
        .filter(|(id, _)| open(id))
        .map(|(_, v)| unspent(v))
        .sum();
    let pending: i64 = c
        .iter()
        .filter(|(id, _)| pending.contains(id))
        .map(|(_, v)| unspent(v))
        .sum();
    c.retain(|id, _| open(id));
    (
        Balances {
            allocated,
            committed_unspent,
            pending,
            spent,
            available: allocated - committed_unspent - spent,
        },
        c,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn any_sequence_keeps_the_ledger_invariants(ops in prop::collection::vec(op(), 1..80)) {
        let mut ledger = Ledger::new(&fund());
        let mut accepted: Vec<(EntryId, Movement)> = Vec::new();
        let mut ids: Vec<EntryId> = Vec::new();
        for (n, op) in ops.iter().enumerate() {
            let Some(m) = movement(op, &ledger, &ids) else { continue };
            let id = i64::try_from(n).unwrap_or(i64::MAX) * 2 + 1;
            let before = ledger.balances();
            match ledger.check_append(&m) {
                Ok(()) => {
                    let applied = ledger.apply(id, &m);
                    prop_assert_eq!(applied, Ok(()), "{:?}", m);
                    accepted.push((id, m));
                    ids.push(id);
                }
                Err(_) => prop_assert_eq!(ledger.balances(), before),
            }
            let b = ledger.balances();
            prop_assert_eq!(b.available, b.allocated - b.committed_unspent - b.spent);
            prop_assert!(b.available >= 0, "{:?}", b);
            prop_assert!(b.spent >= 0 && b.allocated >= 0);
            prop_assert!(b.committed_unspent >= b.pending && b.pending >= 0, "{:?}", b);
            for (cid, c) in ledger.commitments() {
                prop_assert!(c.spent >= 0 && c.released >= 0, "#{}: {:?}", cid, c);
                prop_assert!(c.spent + c.released <= c.amount, "#{} overspent: {:?}", cid, c);
                prop_assert!(c.unspent() >= 0);
                if c.status == CommitmentStatus::PendingApproval {
                    prop_assert_eq!(c.spent, 0, "spent before approval");
                }
            }
        }
        // The balances are the sums of the entries, recomputed independently.
        let (want, per_commitment) = recompute(&accepted);
        prop_assert_eq!(ledger.balances(), want);
        for (cid, (amount, spent, released)) in &per_commitment {
            let c = ledger.commitment(*cid);
            prop_assert_eq!(c.map(|c| (c.amount, c.spent, c.released)), Some((*amount, *spent, *released)));
        }
        // What the cases use adds up to what is set aside plus what is spent.
        let used: i64 = (0..3).map(|case| ledger.case_usage(case).total).sum();
        prop_assert_eq!(used, want.committed_unspent + want.spent);
        // Replaying the stored entries gives the same balances.
        let replayed = Ledger::replay(&fund(), accepted.clone()).map(|l| l.balances());
        prop_assert_eq!(replayed, Ok(want));
    }
}
