//! Notifications (issue 13): what kinds of event tell someone, which of them a person may
//! not turn off, how a failed delivery is retried, the stable `Message-ID` of each
//! notification, and what a mail may say. Pure: the service writes the rows in the
//! transaction of the change and the delivery worker sends them.
//!
//! A mail names the kind of event, the case's pseudonymous reference, the organisation and
//! a link to the page (which requires sign-in): never a name, a birth date, a place, a
//! testimony or a note. [`MailFacts`] has no field that could hold one.

use crate::domain::{Invalid, str_enum};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

str_enum!(
    /// What happened, for whom a notification is written.
    NotificationKind, "kind" {
        ReferralReceived => "referral_received",
        ReferralAnswered => "referral_answered",
        ShareReceived => "share_received",
        HandoverReceived => "handover_received",
        ReturnStageChanged => "return_stage_changed",
        CitizenshipNotConfirmed => "citizenship_not_confirmed",
        MeasureDecided => "measure_decided",
        FollowUpVisitMissed => "follow_up_visit_missed",
        AlertRaised => "alert_raised",
        FundLow => "fund_low",
        DeadlineDue => "deadline_due",
        AccountCreated => "account_created",
        Digest => "digest",
        PasswordReset => "password_reset",
    }
);

impl NotificationKind {
    /// The kinds a person chooses a delivery for (a digest is how others are delivered).
    pub fn choosable(self) -> bool {
        !matches!(
            self,
            NotificationKind::Digest
                | NotificationKind::PasswordReset
                | NotificationKind::AccountCreated
        )
    }

    /// Alerts and overdue legal deadlines cannot be turned off: they are how a person in
    /// danger, or a right about to lapse, reaches someone.
    pub fn mandatory(self) -> bool {
        matches!(
            self,
            NotificationKind::AlertRaised
                | NotificationKind::DeadlineDue
                | NotificationKind::AccountCreated
                | NotificationKind::PasswordReset
        )
    }
}

str_enum!(
    /// How a person wants a kind of notification by e-mail.
    Delivery, "delivery" {
        Immediately => "immediately",
        DailyDigest => "daily_digest",
        Off => "off",
    }
);

/// The delivery that applies: a mandatory kind is never off (it is sent at once when the
/// person asked for "off").
pub fn effective_delivery(kind: NotificationKind, chosen: Delivery) -> Delivery {
    if kind.mandatory() && chosen == Delivery::Off {
        Delivery::Immediately
    } else {
        chosen
    }
}

/// How failed deliveries are retried: exponential backoff from `first_delay_secs`,
/// doubling, capped at `max_delay_secs`, at most `max_attempts` attempts in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub first_delay_secs: i64,
    pub max_delay_secs: i64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            first_delay_secs: 30,
            max_delay_secs: 3600,
        }
    }
}

/// How far ahead the scheduler reminds: a stored deadline (recovery period, expected
/// decision) or a follow-up visit due within `deadline_days` (or overdue), and a hearing
/// that needs the person within `hearing_days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderWindows {
    pub deadline_days: i64,
    pub hearing_days: i64,
}

impl Default for ReminderWindows {
    fn default() -> Self {
        Self {
            deadline_days: 3,
            hearing_days: 7,
        }
    }
}

impl ReminderWindows {
    /// Check configured windows: from 1 to 60 days each.
    pub fn parse(deadline_days: i64, hearing_days: i64) -> Result<Self, Invalid> {
        for (field, v) in [
            ("remind_deadline_days", deadline_days),
            ("remind_hearing_days", hearing_days),
        ] {
            if !(1..=60).contains(&v) {
                return Err(Invalid::new(field, "must be from 1 to 60 days"));
            }
        }
        Ok(Self {
            deadline_days,
            hearing_days,
        })
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again at this time.
    RetryAt(DateTime<Utc>),
    /// Give up: the address is marked failing and shown to the administrator.
    GiveUp,
}

impl RetryPolicy {
    /// After attempt number `attempts` (1 for the first) failed at `now`. A permanent
    /// failure (the server refused the address for good, 5xx) is given up at once.
    pub fn after_failure(self, attempts: u32, permanent: bool, now: DateTime<Utc>) -> AfterFailure {
        if permanent || attempts >= self.max_attempts {
            return AfterFailure::GiveUp;
        }
        let exp = attempts.saturating_sub(1).min(30);
        let delay = self
            .first_delay_secs
            .saturating_mul(1_i64 << exp)
            .min(self.max_delay_secs);
        AfterFailure::RetryAt(now + Duration::seconds(delay))
    }
}

/// The `Message-ID` of a notification: stable (derived from its id), so that a message
/// sent twice after a crash between sending and marking it sent is recognisable as the
/// same message by the recipient's mail system.
pub fn message_id(notification_id: &str, domain: &str) -> String {
    format!("<{notification_id}@{domain}>")
}

/// Everything a mail says. Deliberately without any field for personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MailFacts {
    pub kind: NotificationKind,
    /// The case's pseudonymous reference, when the event is about a case.
    pub reference: Option<String>,
    /// The organisation the event comes from (its name).
    pub organisation: String,
    /// The page to open, an absolute URL to a page behind sign-in.
    pub link: String,
}

impl fmt::Display for MailFacts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.kind)?;
        if let Some(r) = &self.reference {
            write!(f, "{r} ")?;
        }
        write!(f, "({}) {}", self.organisation, self.link)
    }
}

/// A link kept on the deployment's own pages: a path, never an outside address, never a
/// query string (values in URLs could carry personal data).
pub fn safe_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('?')
        && !path.contains("://")
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_#.".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_and_overdue_deadlines_cannot_be_turned_off() {
        for k in NotificationKind::ALL {
            let d = effective_delivery(*k, Delivery::Off);
            assert_eq!(d == Delivery::Off, !k.mandatory(), "{k}");
        }
        assert_eq!(
            effective_delivery(NotificationKind::AlertRaised, Delivery::DailyDigest),
            Delivery::DailyDigest
        );
    }

    #[test]
    fn retries_back_off_exponentially_up_to_a_cap_then_give_up() {
        let p = RetryPolicy {
            max_attempts: 5,
            first_delay_secs: 10,
            max_delay_secs: 60,
        };
        let now = DateTime::<Utc>::from_timestamp(1_000_000, 0).unwrap_or_default();
        let at = |n| match p.after_failure(n, false, now) {
            AfterFailure::RetryAt(t) => (t - now).num_seconds(),
            AfterFailure::GiveUp => -1,
        };
        assert_eq!([at(1), at(2), at(3), at(4), at(5)], [10, 20, 40, 60, -1]);
        assert_eq!(p.after_failure(1, true, now), AfterFailure::GiveUp);
    }

    #[test]
    fn a_message_id_is_stable_and_links_stay_on_our_pages() {
        assert_eq!(
            message_id("ab12", "passerelle.example"),
            "<ab12@passerelle.example>"
        );
        assert_eq!(message_id("ab12", "x"), message_id("ab12", "x"));
        assert!(safe_path("/cases/PSG-2026-0001/follow-up#alerts"));
        for bad in [
            "https://evil.example/",
            "//evil",
            "/search?name=Joy",
            "cases",
            "/a b",
        ] {
            assert!(!safe_path(bad), "{bad}");
        }
    }

    #[test]
    fn reminder_windows_are_from_one_to_sixty_days() {
        assert_eq!(ReminderWindows::parse(3, 7), Ok(ReminderWindows::default()));
        assert_eq!(
            ReminderWindows::parse(0, 7).map_err(|e| e.field),
            Err("remind_deadline_days")
        );
        assert_eq!(
            ReminderWindows::parse(3, 61).map_err(|e| e.field),
            Err("remind_hearing_days")
        );
        assert!(ReminderWindows::parse(60, 1).is_ok());
    }
}
