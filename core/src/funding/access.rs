//! Who may do what with a fund (issue 11, point 4). Pure, like `domain::may`.
//!
//! - The **holder** organisation's fund managers manage its funds: create them, allocate
//!   money, open a fund to other organisations, approve or refuse commitments above the
//!   threshold, record spending, release and correct.
//! - Its auditors and administrators read everything of its funds (balances, entries,
//!   every commitment, reports); they change nothing.
//! - Caseworkers request commitments for the cases they work on, from a fund their
//!   organisation holds or that was opened to it, and release what their case no longer
//!   needs.
//! - An organisation a fund was opened to sees the fund (its name, currency, rules and
//!   what it has left) and **only the commitments of its own cases**. Any other
//!   organisation does not know the fund exists (404).

use crate::domain::Role;

/// How the caller's organisation relates to a fund.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FundRelation {
    Holder,
    /// The fund was opened to the caller's organisation.
    Opened,
    None,
}

impl FundRelation {
    pub fn of(actor_org: i64, holder_org: i64, opened: bool) -> Self {
        if actor_org == holder_org {
            FundRelation::Holder
        } else if opened {
            FundRelation::Opened
        } else {
            FundRelation::None
        }
    }
}

/// Something a user wants to do with a fund.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FundAction {
    /// See the fund: name, rules, balances.
    View,
    /// See every commitment and entry of the fund, and its reports.
    ViewAll,
    /// Create, edit, allocate, open to others, approve, refuse, spend, correct.
    Manage,
    /// Ask for money for a case.
    Request,
}

/// The rule, in one place. Deny by default; a system administrator runs the deployment
/// and sees no money of cases.
pub fn may_fund(role: Role, relation: FundRelation, action: FundAction) -> bool {
    use FundAction::*;
    match relation {
        FundRelation::None => false,
        FundRelation::Holder => match action {
            View => role.is_caseworker() || is_money_reader(role),
            ViewAll => is_money_reader(role),
            Manage => role == Role::FundManager,
            Request => role.is_caseworker(),
        },
        FundRelation::Opened => match action {
            View | Request => role.is_caseworker(),
            ViewAll | Manage => false,
        },
    }
}

fn is_money_reader(role: Role) -> bool {
    matches!(role, Role::FundManager | Role::Auditor | Role::OrgAdmin)
}

/// May this role create funds for its organisation?
pub fn may_create_fund(role: Role) -> bool {
    role == Role::FundManager
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_holder_manages_others_only_request_and_see_their_own() {
        use FundAction::*;
        let h = FundRelation::Holder;
        let o = FundRelation::Opened;
        assert!(may_fund(Role::FundManager, h, Manage));
        assert!(may_fund(Role::FundManager, h, ViewAll));
        assert!(
            !may_fund(Role::FundManager, o, Manage),
            "opened is not held"
        );
        assert!(may_fund(Role::Auditor, h, ViewAll) && !may_fund(Role::Auditor, h, Manage));
        assert!(may_fund(Role::Advocate, h, Request) && !may_fund(Role::Advocate, h, ViewAll));
        assert!(may_fund(Role::Advocate, o, Request) && may_fund(Role::Advocate, o, View));
        assert!(
            !may_fund(Role::Auditor, o, View),
            "another organisation's auditor"
        );
        for r in Role::ALL {
            for a in [View, ViewAll, Manage, Request] {
                assert!(!may_fund(*r, FundRelation::None, a), "{r} {a:?}");
                assert!(!may_fund(Role::SystemAdmin, h, a));
            }
        }
        assert_eq!(FundRelation::of(1, 1, true), h);
        assert_eq!(FundRelation::of(2, 1, true), o);
        assert_eq!(FundRelation::of(2, 1, false), FundRelation::None);
        assert!(may_create_fund(Role::FundManager) && !may_create_fund(Role::OrgAdmin));
    }
}
