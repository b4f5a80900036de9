//! Plain domain types and rules: no I/O, no database, testable on their own.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A parse error for a domain value: names the field and says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

macro_rules! str_enum {
    ($(#[$m:meta])* $name:ident, $field:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(s: &str) -> Result<Self, Invalid> {
                match s.trim() {
                    $($text => Ok($name::$variant),)+
                    other => Err(Invalid::new($field, format!(
                        "unknown value '{}'; expected one of: {}",
                        other.chars().take(40).collect::<String>(),
                        [$($text),+].join(", ")
                    ))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use str_enum;

str_enum!(
    /// The kinds of organisation that share a deployment.
    OrgKind, "kind" {
        Shelter => "shelter",
        VictimAdvocacy => "victim_advocacy",
        ReturnAgency => "return_agency",
        OriginService => "origin_service",
        LawEnforcement => "law_enforcement",
        StateAuthority => "state_authority",
    }
);

str_enum!(
    /// What a user does inside their organisation.
    Role, "role" {
        Advocate => "advocate",
        ShelterCoordinator => "shelter_coordinator",
        ReturnOfficer => "return_officer",
        FollowUpOfficer => "follow_up_officer",
        OrgAdmin => "org_admin",
        SystemAdmin => "system_admin",
        Auditor => "auditor",
        FundManager => "fund_manager",
        // System-wide: the k-anonymised statistics export over every organisation that
        // opted in, and nothing else (no case, no person).
        Statistician => "statistician",
    }
);

str_enum!(
    /// The care track of a case (domain.md, "The path of a case").
    Stage, "stage" {
        Referred => "referred",
        Screening => "screening",
        Protection => "protection",
        SolutionPlanning => "solution_planning",
        ReturnInProgress => "return_in_progress",
        Returned => "returned",
        FollowUp => "follow_up",
        Closed => "closed",
    }
);

str_enum!(
    /// Why a case is disclosed to another organisation. A consent covers one purpose.
    Purpose, "purpose" {
        Shelter => "shelter",
        Medical => "medical",
        Psychological => "psychological",
        LegalAid => "legal_aid",
        Interpretation => "interpretation",
        Counselling => "counselling",
        ReturnAssistance => "return_assistance",
        Reintegration => "reintegration",
        CriminalProceedings => "criminal_proceedings",
        Other => "other",
    }
);

str_enum!(
    /// Who gave a consent.
    ConsentGiver, "given_by" {
        Person => "person",
        Guardian => "guardian",
        LegalRepresentative => "legal_representative",
    }
);

str_enum!(
    /// A part of a case file. Access is decided per section.
    Section, "section" {
        Summary => "summary",
        Person => "person",
        Consents => "consents",
        Shares => "shares",
        Audit => "audit",
        Caseload => "caseload",
        Identification => "identification",
        Referrals => "referrals",
        Services => "services",
        Placement => "placement",
        Deadlines => "deadlines",
        Proceedings => "proceedings",
        Return => "return",
        Funding => "funding",
        FollowUp => "follow_up",
        FollowUpAlerts => "follow_up_alerts",
    }
);

impl Section {
    fn bit(self) -> u32 {
        let i = Section::ALL.iter().position(|s| *s == self).unwrap_or(0);
        1 << i
    }
    /// The sections a referral may open to its receiver.
    pub const REFERABLE: &'static [Section] = &[
        Section::Person,
        Section::Identification,
        Section::Services,
        Section::Placement,
        Section::Return,
    ];
}

/// What happened on a case that moves it along the care track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseEvent {
    /// A screening interview was started.
    InterviewStarted,
    /// A reasonable-grounds or conclusive trafficking decision was recorded.
    IdentifiedAsVictim,
    /// A smuggled migrant was given protected-witness status.
    ProtectedWitness,
    /// The person asked to return (a durable solution is being planned).
    ReturnRequested,
    /// A return officer approved the return.
    ReturnApproved,
    /// An approved return was cancelled before departure.
    ReturnCancelled,
    /// The person arrived and was received in the country of return.
    Arrived,
    /// The origin-country organisation began reintegration follow-up.
    FollowUpStarted,
    /// The case was closed with an outcome.
    Closed,
}

impl Stage {
    /// The position of the stage on the care track (referred 0 … closed 7).
    pub fn rank(self) -> usize {
        Stage::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }
}

/// The stage a case moves to after `event` (domain.md, "The path of a case"), or `None`
/// when it stays where it is. The track only moves forward: an event that belongs to an
/// earlier stage than the case has reached changes nothing (a new interview during a
/// return does not send the case back to screening). The only step back is a cancelled
/// return, which leaves `return_in_progress` for `solution_planning`. A closed case
/// never moves.
pub fn stage_after(current: Stage, event: CaseEvent) -> Option<Stage> {
    use CaseEvent as E;
    if current == Stage::Closed {
        return None;
    }
    let forward = |to: Stage| (to.rank() > current.rank()).then_some(to);
    match event {
        E::InterviewStarted => forward(Stage::Screening),
        E::IdentifiedAsVictim | E::ProtectedWitness => forward(Stage::Protection),
        E::ReturnRequested => forward(Stage::SolutionPlanning),
        E::ReturnApproved => forward(Stage::ReturnInProgress),
        E::ReturnCancelled => {
            (current == Stage::ReturnInProgress).then_some(Stage::SolutionPlanning)
        }
        E::Arrived => forward(Stage::Returned),
        // Follow-up is what comes after the return, never a shortcut to it.
        E::FollowUpStarted => (current == Stage::Returned).then_some(Stage::FollowUp),
        E::Closed => Some(Stage::Closed),
    }
}

/// A set of sections (what a share or referral opens to another organisation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sections(u32);

impl Sections {
    pub fn of(list: &[Section]) -> Self {
        Self(list.iter().fold(0, |acc, s| acc | s.bit()))
    }
    pub fn has(self, s: Section) -> bool {
        self.0 & s.bit() != 0
    }
    pub fn union(self, other: Sections) -> Self {
        Self(self.0 | other.0)
    }
    pub fn list(self) -> Vec<Section> {
        Section::ALL
            .iter()
            .copied()
            .filter(|s| self.has(*s))
            .collect()
    }
    /// Parse "person,services" (from storage or a form); unknown names are an error.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let mut out = Sections::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let sec = Section::parse(part)
                .map_err(|_| Invalid::new("sections", format!("unknown section '{part}'")))?;
            if !Section::REFERABLE.contains(&sec) {
                return Err(Invalid::new(
                    "sections",
                    format!("the section '{part}' cannot be opened to another organisation"),
                ));
            }
            out = out.union(Sections::of(&[sec]));
        }
        Ok(out)
    }
    pub fn to_csv(self) -> String {
        self.list()
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

str_enum!(
    /// What was done, for the audit log.
    AuditAction, "action" {
        Read => "read",
        Create => "create",
        Update => "update",
        Search => "search",
        Withdraw => "withdraw",
        End => "end",
        Export => "export",
        Refused => "refused",
        // A person's data erased (`crate::erasure`), and why: on their request, or once
        // the retention period after closing was over.
        EraseOnRequest => "erase_on_request",
        EraseAfterRetention => "erase_after_retention",
        // The keys (`crate::keys`): a master key's wrapping added or removed, a
        // re-encryption started and finished. No case, no personal data.
        KeyRotate => "key_rotate",
        KeyRetire => "key_retire",
        KeyReencryptStart => "key_reencrypt_start",
        KeyReencryptDone => "key_reencrypt_done",
    }
);

impl Role {
    /// Roles that work on case files (as opposed to administering or auditing).
    pub fn is_caseworker(self) -> bool {
        matches!(
            self,
            Role::Advocate | Role::ShelterCoordinator | Role::ReturnOfficer | Role::FollowUpOfficer
        )
    }
}

/// How a user relates to a case, from the point of view of their organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The user's organisation owns the case.
    Owner,
    /// The case was shared with (or referred to) the user's organisation on an active
    /// consent, opening these sections; `advocate` when the user is the person's
    /// assigned advocate from another organisation; `agency` when the user's
    /// organisation is the return agency of a live return of the case.
    SharedWith {
        sections: Sections,
        advocate: bool,
        agency: bool,
    },
    /// Neither: the case does not exist for this user.
    None,
}

impl Relation {
    /// A plain share (issue 2): the summary and the person.
    pub fn shared() -> Self {
        Relation::SharedWith {
            sections: Sections::of(&[Section::Summary, Section::Person]),
            advocate: false,
            agency: false,
        }
    }
}

/// Something a user wants to do with a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseAction {
    ViewSection(Section),
    EditPerson,
    ManageConsent,
    Share,
    Assign,
    /// Record interviews, elements and determinations.
    EditIdentification,
    /// Refer to another organisation.
    Refer,
    /// Plan or record services (a provider organisation: only its own).
    EditServices,
    /// Record a shelter placement.
    EditPlacement,
    /// Record proceedings, hearings and protective measures.
    EditProceedings,
    /// Work on a return: consent, assessment, citizenship, travel, stages.
    EditReturn,
    /// Approve a return (a return officer's decision).
    ApproveReturn,
    /// Close the case with an outcome.
    Close,
    /// Follow-up after return: visits, assessments, the reintegration plan, alerts.
    EditFollowUp,
}

impl CaseAction {
    /// The section of the case this action reads or changes (for the audit log).
    pub fn section(self) -> Section {
        match self {
            CaseAction::ViewSection(s) => s,
            CaseAction::EditPerson => Section::Person,
            CaseAction::ManageConsent => Section::Consents,
            CaseAction::Share => Section::Shares,
            CaseAction::Assign => Section::Summary,
            CaseAction::EditIdentification => Section::Identification,
            CaseAction::Refer => Section::Referrals,
            CaseAction::EditServices => Section::Services,
            CaseAction::EditPlacement => Section::Placement,
            CaseAction::EditProceedings => Section::Proceedings,
            CaseAction::EditReturn | CaseAction::ApproveReturn => Section::Return,
            CaseAction::Close => Section::Summary,
            CaseAction::EditFollowUp => Section::FollowUp,
        }
    }
    /// Does the action change the case (refused on a closed case)?
    pub fn is_edit(self) -> bool {
        !matches!(self, CaseAction::ViewSection(_))
    }
}

/// The access rule, in one place. Deny by default.
///
/// - A system administrator never sees case data: they run the deployment, not cases.
///   Nor does a statistician: they see only the k-anonymised statistics export.
/// - In the owning organisation, caseworkers see the case and the person; advocates and
///   shelter coordinators edit the person; advocates record consent and share; the
///   organisation administrator and the auditor see the summary and the audit trail
///   but not the person.
/// - In an organisation the case was shared with (on an active consent), caseworkers see
///   the summary and the sections the share or referral opened (a share opens the
///   person, and the proceedings too when its purpose is criminal proceedings); they
///   change nothing, except services and placements their referral asked of them.
/// - The person's advocate from another organisation sees and records identification,
///   deadlines, services, placements and proceedings.
pub fn may(role: Role, relation: Relation, action: CaseAction) -> bool {
    use CaseAction::*;
    use Section as S;
    if matches!(role, Role::SystemAdmin | Role::Statistician) {
        return false;
    }
    match relation {
        Relation::None => false,
        Relation::Owner => match action {
            ViewSection(S::Summary | S::Caseload) => {
                role.is_caseworker() || matches!(role, Role::OrgAdmin | Role::Auditor)
            }
            ViewSection(S::Audit) => {
                matches!(role, Role::OrgAdmin | Role::Auditor | Role::Advocate)
            }
            ViewSection(S::Funding) => {
                role.is_caseworker()
                    || matches!(role, Role::OrgAdmin | Role::Auditor | Role::FundManager)
            }
            // The follow-up in full is the follow-up service's (an origin-country service
            // that owns the case); the owner's other caseworkers see what the alerts say
            // (category and severity; the service checks the reintegration consent).
            ViewSection(S::FollowUp) => role == Role::FollowUpOfficer,
            EditFollowUp => role == Role::FollowUpOfficer,
            ViewSection(_) => role.is_caseworker(),
            EditPerson | EditServices | EditPlacement => {
                matches!(role, Role::Advocate | Role::ShelterCoordinator)
            }
            ManageConsent | Share | Refer | EditIdentification | EditProceedings => {
                role == Role::Advocate
            }
            Assign => matches!(role, Role::Advocate | Role::OrgAdmin),
            EditReturn => matches!(role, Role::Advocate | Role::ReturnOfficer),
            ApproveReturn => role == Role::ReturnOfficer,
            // The owner's advocates close a case; so do its follow-up officers (a case an
            // origin-country service owns).
            Close => matches!(role, Role::Advocate | Role::FollowUpOfficer),
        },
        Relation::SharedWith {
            sections,
            advocate,
            agency,
        } => {
            let advocate = advocate && role == Role::Advocate;
            let agency_officer = agency && role == Role::ReturnOfficer;
            match action {
                ViewSection(S::Summary | S::Caseload) => role.is_caseworker(),
                ViewSection(
                    S::Identification
                    | S::Deadlines
                    | S::Services
                    | S::Placement
                    | S::Proceedings
                    | S::Return,
                ) if advocate => true,
                ViewSection(S::Deadlines) => false,
                // The follow-up service the case was handed over to on arrival; the
                // person's advocate from another organisation sees the alerts.
                ViewSection(S::FollowUp) => role.is_caseworker() && sections.has(S::FollowUp),
                ViewSection(S::FollowUpAlerts) => {
                    advocate || (role.is_caseworker() && sections.has(S::FollowUp))
                }
                EditFollowUp => role == Role::FollowUpOfficer && sections.has(S::FollowUp),
                // The follow-up service closes the case after follow-up.
                Close => role == Role::FollowUpOfficer && sections.has(S::FollowUp),
                // The money of a case it works on: what its own funds pay.
                ViewSection(S::Funding) => {
                    role.is_caseworker()
                        && (advocate
                            || agency_officer
                            || sections.has(S::Services)
                            || sections.has(S::Placement))
                }
                ViewSection(
                    s @ (S::Person
                    | S::Identification
                    | S::Services
                    | S::Placement
                    | S::Proceedings
                    | S::Return),
                ) => role.is_caseworker() && sections.has(s),
                ViewSection(_) => false,
                EditIdentification | EditProceedings => advocate,
                EditReturn => advocate || agency_officer,
                ApproveReturn => agency_officer,
                EditServices => role.is_caseworker() && sections.has(S::Services),
                EditPlacement => role == Role::ShelterCoordinator && sections.has(S::Placement),
                EditPerson | ManageConsent | Share | Assign | Refer => false,
            }
        }
    }
}

/// May this role create cases?
pub fn may_create_case(role: Role) -> bool {
    matches!(role, Role::Advocate | Role::ShelterCoordinator)
}

/// A role that may administer users, and for which organisations.
pub fn may_administer_users(
    actor_role: Role,
    actor_org: i64,
    target_org: i64,
    new_role: Role,
) -> bool {
    match actor_role {
        Role::SystemAdmin => true,
        // The system-wide roles are the system administrator's to give.
        Role::OrgAdmin => actor_org == target_org && !new_role.is_system_wide(),
        _ => false,
    }
}

impl Role {
    /// Roles that are not confined to their organisation: a system administrator runs
    /// the deployment, a statistician reads the statistics export over every
    /// organisation that opted in. Only a system administrator gives them.
    pub fn is_system_wide(self) -> bool {
        matches!(self, Role::SystemAdmin | Role::Statistician)
    }
}

/// Which page of a list to return: `page` counts from 1, `per_page` from 1 to
/// [`Paging::MAX_PER_PAGE`]. Out-of-range values are an error, never silently changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: u64,
    pub per_page: u64,
}

impl Paging {
    pub const MAX_PER_PAGE: u64 = 200;
    pub const DEFAULT_PER_PAGE: u64 = 50;

    pub fn parse(page: Option<u64>, per_page: Option<u64>) -> Result<Self, Invalid> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(Self::DEFAULT_PER_PAGE);
        if page < 1 {
            return Err(Invalid::new("page", "must be at least 1"));
        }
        if !(1..=Self::MAX_PER_PAGE).contains(&per_page) {
            return Err(Invalid::new(
                "per_page",
                format!("must be between 1 and {}", Self::MAX_PER_PAGE),
            ));
        }
        // Far past any list: refuse rather than overflow the offset.
        if page > 1_000_000 {
            return Err(Invalid::new("page", "must be at most 1000000"));
        }
        Ok(Self { page, per_page })
    }
    pub fn offset(self) -> u64 {
        (self.page - 1) * self.per_page
    }
    /// How many pages `total` items fill.
    pub fn pages(self, total: u64) -> u64 {
        total.div_ceil(self.per_page)
    }
    /// This page of a list held in memory.
    pub fn slice<T>(self, all: Vec<T>) -> Vec<T> {
        let start = usize::try_from(self.offset()).unwrap_or(usize::MAX);
        let n = usize::try_from(self.per_page).unwrap_or(usize::MAX);
        all.into_iter().skip(start).take(n).collect()
    }
}

impl Default for Paging {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: Self::DEFAULT_PER_PAGE,
        }
    }
}

/// ISO 3166-1 alpha-2 country code, upper case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountryCode(String);

impl CountryCode {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s = s.trim().to_ascii_uppercase();
        if s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(s))
        } else {
            Err(Invalid::new(
                "country",
                "must be a two-letter ISO 3166-1 code such as FR or NG",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user's e-mail address, normalised to lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s = s.trim().to_lowercase();
        let ok = s.len() <= 254
            && s.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            })
            && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(Self(s))
        } else {
            Err(Invalid::new("email", "is not a valid e-mail address"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: at least 8 characters, at most 128, no composition rules (OWASP ASVS 6.2).
pub struct NewPassword(secrecy::SecretString);

impl NewPassword {
    pub const MIN: usize = 8;
    pub const MAX: usize = 128;
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let n = s.chars().count();
        if n < Self::MIN {
            Err(Invalid::new(
                "password",
                format!("must have at least {} characters", Self::MIN),
            ))
        } else if n > Self::MAX {
            Err(Invalid::new(
                "password",
                format!("must have at most {} characters", Self::MAX),
            ))
        } else {
            Ok(Self(secrecy::SecretString::from(s.to_owned())))
        }
    }
    pub fn secret(&self) -> &secrecy::SecretString {
        &self.0
    }
}

/// A non-empty line of text with a maximum length (names, labels).
pub fn parse_line(field: &'static str, s: &str, max: usize) -> Result<String, Invalid> {
    let t = s.trim();
    if t.is_empty() {
        return Err(Invalid::new(field, "is required"));
    }
    if t.chars().count() > max {
        return Err(Invalid::new(
            field,
            format!("must have at most {max} characters"),
        ));
    }
    if t.chars().any(|c| c.is_control()) {
        return Err(Invalid::new(field, "must not contain control characters"));
    }
    Ok(t.to_owned())
}

/// Optional free text with a maximum length; empty becomes None.
pub fn parse_optional_text(
    field: &'static str,
    s: Option<&str>,
    max: usize,
) -> Result<Option<String>, Invalid> {
    match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) if t.chars().count() > max => Err(Invalid::new(
            field,
            format!("must have at most {max} characters"),
        )),
        Some(t) => Ok(Some(t.to_owned())),
    }
}

/// The pseudonymous case reference, e.g. `PSG-2026-0042`: the only identifier shown outside a case page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRef(String);

impl CaseRef {
    pub fn new(year: i32, number: i64) -> Self {
        Self(format!("PSG-{year:04}-{number:04}"))
    }
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let bad = || Invalid::new("reference", "must look like PSG-2026-0042");
        let rest = s.strip_prefix("PSG-").ok_or_else(bad)?;
        let (year, number) = rest.split_once('-').ok_or_else(bad)?;
        if year.len() == 4
            && year.bytes().all(|b| b.is_ascii_digit())
            && (4..=9).contains(&number.len())
            && number.bytes().all(|b| b.is_ascii_digit())
        {
            Ok(Self(s.to_owned()))
        } else {
            Err(bad())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CaseRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Age in whole years at `on`.
pub fn age_on(birth: chrono::NaiveDate, on: chrono::NaiveDate) -> i32 {
    use chrono::Datelike;
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// A person is a child if under 18 on `today`, or, with no date of birth, if flagged as a minor.
/// When in doubt about age the child rules apply (presumption of minority).
pub fn is_child(
    birth: Option<chrono::NaiveDate>,
    minor_flag: bool,
    today: chrono::NaiveDate,
) -> bool {
    match birth {
        Some(b) => age_on(b, today) < 18 || minor_flag,
        None => minor_flag,
    }
}

/// Is a consent usable for a share with this purpose right now?
pub fn consent_covers(
    consent_purpose: Purpose,
    withdrawn: bool,
    share_purpose: Purpose,
) -> Result<(), &'static str> {
    if withdrawn {
        Err("this consent was withdrawn; a new consent is needed before the case can be shared")
    } else if consent_purpose != share_purpose {
        Err("the consent was given for another purpose; record a consent for this purpose first")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn system_admin_never_sees_case_data() {
        for rel in [Relation::Owner, Relation::shared()] {
            for s in Section::ALL {
                assert!(!may(Role::SystemAdmin, rel, CaseAction::ViewSection(*s)));
            }
        }
    }

    /// A statistician sees no case and no person, however the case relates to their
    /// organisation, and does nothing to one; only a system administrator names one.
    #[test]
    fn a_statistician_sees_no_case_and_no_person() {
        let every = Relation::SharedWith {
            sections: Sections::of(Section::ALL),
            advocate: true,
            agency: true,
        };
        let actions = [
            CaseAction::EditPerson,
            CaseAction::ManageConsent,
            CaseAction::Share,
            CaseAction::Assign,
            CaseAction::EditIdentification,
            CaseAction::Refer,
            CaseAction::EditServices,
            CaseAction::EditPlacement,
            CaseAction::EditProceedings,
            CaseAction::EditReturn,
            CaseAction::ApproveReturn,
            CaseAction::Close,
            CaseAction::EditFollowUp,
        ];
        for rel in [Relation::Owner, Relation::shared(), every, Relation::None] {
            for s in Section::ALL {
                assert!(
                    !may(Role::Statistician, rel, CaseAction::ViewSection(*s)),
                    "{s}"
                );
            }
            for a in actions {
                assert!(!may(Role::Statistician, rel, a), "{a:?}");
            }
        }
        // The same relation opens the case to a caseworker: the role alone refuses.
        assert!(may(
            Role::Advocate,
            every,
            CaseAction::ViewSection(Section::Person)
        ));
        assert!(!may_create_case(Role::Statistician));
        assert!(!Role::Statistician.is_caseworker());
        assert!(!may_administer_users(
            Role::OrgAdmin,
            1,
            1,
            Role::Statistician
        ));
        assert!(!may_administer_users(
            Role::Statistician,
            1,
            1,
            Role::Advocate
        ));
        assert!(may_administer_users(
            Role::SystemAdmin,
            1,
            2,
            Role::Statistician
        ));
    }

    #[test]
    fn shared_organisation_reads_but_never_writes() {
        for r in Role::ALL {
            assert!(!may(*r, Relation::shared(), CaseAction::EditPerson));
            assert!(!may(*r, Relation::shared(), CaseAction::Share));
            assert!(!may(*r, Relation::shared(), CaseAction::ManageConsent));
            assert!(!may(
                *r,
                Relation::shared(),
                CaseAction::ViewSection(Section::Audit)
            ));
        }
        assert!(may(
            Role::ReturnOfficer,
            Relation::shared(),
            CaseAction::ViewSection(Section::Person)
        ));
    }

    /// After return: the follow-up service (a reintegration hand-over opens `follow_up`)
    /// reads and records the follow-up and sees no other section than those handed over;
    /// the owner's advocate reads only what the alerts say; closing after follow-up is the
    /// follow-up officer's too.
    #[test]
    fn the_follow_up_is_the_follow_up_services_and_the_destination_reads_its_alerts() {
        let handed = Relation::SharedWith {
            sections: Sections::of(&[Section::Summary, Section::Services, Section::FollowUp]),
            advocate: false,
            agency: false,
        };
        let view = |role, rel, s| may(role, rel, CaseAction::ViewSection(s));
        assert!(view(Role::FollowUpOfficer, handed, Section::FollowUp));
        assert!(view(Role::FollowUpOfficer, handed, Section::FollowUpAlerts));
        assert!(may(Role::FollowUpOfficer, handed, CaseAction::EditFollowUp));
        assert!(may(Role::FollowUpOfficer, handed, CaseAction::Close));
        for s in [
            Section::Person,
            Section::Identification,
            Section::Proceedings,
            Section::Audit,
        ] {
            assert!(!view(Role::FollowUpOfficer, handed, s), "{s}");
        }
        // Not without the hand-over, and not another role of the same organisation.
        assert!(!view(
            Role::FollowUpOfficer,
            Relation::shared(),
            Section::FollowUp
        ));
        assert!(!may(
            Role::FollowUpOfficer,
            Relation::shared(),
            CaseAction::EditFollowUp
        ));
        assert!(!may(Role::Advocate, handed, CaseAction::EditFollowUp));
        assert!(!may(Role::ShelterCoordinator, handed, CaseAction::Close));
        // The destination side: the alerts, not the follow-up; nothing to record.
        assert!(view(
            Role::Advocate,
            Relation::Owner,
            Section::FollowUpAlerts
        ));
        assert!(!view(Role::Advocate, Relation::Owner, Section::FollowUp));
        assert!(!may(
            Role::Advocate,
            Relation::Owner,
            CaseAction::EditFollowUp
        ));
        let cross = Relation::SharedWith {
            sections: Sections::of(&[Section::Summary]),
            advocate: true,
            agency: false,
        };
        assert!(view(Role::Advocate, cross, Section::FollowUpAlerts));
        assert!(!view(Role::Advocate, cross, Section::FollowUp));
        // An origin-country service that owns the case follows it up itself.
        assert!(view(
            Role::FollowUpOfficer,
            Relation::Owner,
            Section::FollowUp
        ));
        assert!(may(
            Role::FollowUpOfficer,
            Relation::Owner,
            CaseAction::EditFollowUp
        ));
        // The follow-up section is never opened by a share or referral form.
        assert!(Sections::parse("follow_up").is_err());
    }

    #[test]
    fn no_relation_means_nothing() {
        for r in Role::ALL {
            for s in Section::ALL {
                assert!(!may(*r, Relation::None, CaseAction::ViewSection(*s)));
            }
        }
    }

    #[test]
    fn auditor_sees_trail_not_person() {
        assert!(may(
            Role::Auditor,
            Relation::Owner,
            CaseAction::ViewSection(Section::Audit)
        ));
        assert!(!may(
            Role::Auditor,
            Relation::Owner,
            CaseAction::ViewSection(Section::Person)
        ));
    }

    #[test]
    fn org_admin_cannot_grant_system_admin_or_other_orgs() {
        assert!(may_administer_users(Role::OrgAdmin, 1, 1, Role::Advocate));
        assert!(!may_administer_users(Role::OrgAdmin, 1, 2, Role::Advocate));
        assert!(!may_administer_users(
            Role::OrgAdmin,
            1,
            1,
            Role::SystemAdmin
        ));
        assert!(!may_administer_users(Role::Advocate, 1, 1, Role::Advocate));
        assert!(may_administer_users(
            Role::SystemAdmin,
            1,
            2,
            Role::SystemAdmin
        ));
    }

    #[test]
    fn child_rule_uses_birth_date_and_flag() {
        let today = d(2026, 11, 27);
        assert!(is_child(Some(d(2008, 11, 28)), false, today));
        assert!(!is_child(Some(d(2008, 11, 27)), false, today));
        assert!(is_child(None, true, today));
        assert!(!is_child(None, false, today));
    }

    #[test]
    fn case_ref_round_trips_and_rejects_garbage() {
        let r = CaseRef::new(2026, 42);
        assert_eq!(r.as_str(), "PSG-2026-0042");
        assert!(CaseRef::parse("PSG-2026-0042").is_ok());
        for bad in [
            "",
            "PSG-26-0042",
            "psg-2026-0042",
            "PSG-2026-42",
            "PSG-2026-00x2",
            "PSG-2026-0042/../x",
        ] {
            assert!(CaseRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn consent_must_match_purpose_and_be_active() {
        assert!(consent_covers(Purpose::Shelter, false, Purpose::Shelter).is_ok());
        assert!(consent_covers(Purpose::Shelter, true, Purpose::Shelter).is_err());
        assert!(consent_covers(Purpose::Medical, false, Purpose::Shelter).is_err());
    }

    #[test]
    fn value_parsers_explain_themselves() {
        assert!(CountryCode::parse("fr").is_ok());
        assert!(CountryCode::parse("FRA").is_err());
        assert!(Email::parse("A@B.org").is_ok_and(|e| e.as_str() == "a@b.org"));
        assert!(Email::parse("nope").is_err());
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse(&"x".repeat(64)).is_ok());
        let e = Stage::parse("flying")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("referred"), "{e}");
    }

    #[test]
    fn the_care_track_follows_what_happened() {
        use CaseEvent as E;
        let mut s = Stage::Referred;
        for (event, expected) in [
            (E::InterviewStarted, Stage::Screening),
            (E::IdentifiedAsVictim, Stage::Protection),
            (E::ReturnRequested, Stage::SolutionPlanning),
            (E::ReturnApproved, Stage::ReturnInProgress),
            (E::Arrived, Stage::Returned),
            (E::FollowUpStarted, Stage::FollowUp),
            (E::Closed, Stage::Closed),
        ] {
            s = stage_after(s, event).unwrap_or(s);
            assert_eq!(s, expected, "{event:?}");
        }
        // A smuggled migrant given protected-witness status is protected too.
        assert_eq!(
            stage_after(Stage::Screening, E::ProtectedWitness),
            Some(Stage::Protection)
        );
        // Follow-up only after the return.
        assert_eq!(stage_after(Stage::Protection, E::FollowUpStarted), None);
        assert_eq!(stage_after(Stage::FollowUp, E::FollowUpStarted), None);
        // A decision straight from referral skips screening.
        assert_eq!(
            stage_after(Stage::Referred, E::IdentifiedAsVictim),
            Some(Stage::Protection)
        );
    }

    #[test]
    fn the_care_track_never_moves_back_but_for_a_cancelled_return() {
        use CaseEvent as E;
        assert_eq!(stage_after(Stage::Protection, E::InterviewStarted), None);
        assert_eq!(stage_after(Stage::Returned, E::IdentifiedAsVictim), None);
        assert_eq!(
            stage_after(Stage::SolutionPlanning, E::ReturnRequested),
            None
        );
        assert_eq!(
            stage_after(Stage::ReturnInProgress, E::ReturnCancelled),
            Some(Stage::SolutionPlanning)
        );
        assert_eq!(
            stage_after(Stage::SolutionPlanning, E::ReturnCancelled),
            None
        );
        assert_eq!(stage_after(Stage::Returned, E::ReturnCancelled), None);
        for e in [
            E::InterviewStarted,
            E::Arrived,
            E::Closed,
            E::ReturnCancelled,
        ] {
            assert_eq!(stage_after(Stage::Closed, e), None, "{e:?}");
        }
        // Closing is possible from anywhere before.
        for s in Stage::ALL.iter().filter(|s| **s != Stage::Closed) {
            assert_eq!(stage_after(*s, E::Closed), Some(Stage::Closed));
        }
    }

    #[test]
    fn paging_refuses_what_it_would_otherwise_change() {
        assert_eq!(Paging::parse(None, None), Ok(Paging::default()));
        assert_eq!(
            Paging::parse(Some(0), None).err().map(|e| e.field),
            Some("page")
        );
        for bad in [0, 201, 10_000] {
            assert_eq!(
                Paging::parse(None, Some(bad)).err().map(|e| e.field),
                Some("per_page")
            );
        }
        let p = Paging::parse(Some(3), Some(2)).unwrap_or_default();
        assert_eq!(p.offset(), 4);
        assert_eq!(p.pages(5), 3);
        assert_eq!(p.slice((0..10).collect::<Vec<_>>()), vec![4, 5]);
        assert!(p.slice(vec![1, 2]).is_empty());
    }

    proptest::proptest! {
        #[test]
        fn stage_parse_is_inverse_of_as_str(i in 0usize..8) {
            let s = Stage::ALL[i];
            proptest::prop_assert_eq!(Stage::parse(s.as_str()), Ok(s));
        }
    }
}
