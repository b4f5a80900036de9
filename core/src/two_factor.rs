//! Two-factor sign-in (issue 15, point 1): TOTP codes (RFC 6238: HMAC-SHA-1, six digits,
//! thirty-second steps, as every authenticator application reads them), recovery codes,
//! and who must have a second factor. Pure: the use cases are in
//! `crate::service::two_factor`.
//!
//! - **A code is used once.** [`accepted_step`] answers the time step a code matches
//!   (the current one, or one step before or after for a clock that drifts) only if it
//!   is later than the last step accepted for the account: the same code, or an older
//!   one, is refused even within its thirty seconds.
//! - **Recovery codes** are ten random codes of ten base32 characters (50 bits each),
//!   shown once at enrolment, kept as keyed hashes, each usable once instead of a code.
//! - **Who must** ([`required`]): system administrators, organisation administrators,
//!   fund managers, and the roles that see other organisations' data (auditors, who see
//!   a country's dashboards, and statisticians); every user of an organisation that
//!   requires it. The roles are configurable (`[security] two_factor_roles`).

use crate::domain::Role;
use totp_rs::{Algorithm, TOTP};

/// Seconds per time step (RFC 6238's recommended value).
pub const STEP_SECONDS: u64 = 30;
/// Digits of a code.
pub const DIGITS: usize = 6;
/// Bytes of a secret: 160 bits, as RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;
/// Recovery codes made at enrolment.
pub const RECOVERY_CODES: usize = 10;
/// The issuer shown in the authenticator application.
pub const ISSUER: &str = "Passerelle";

/// The roles that must have a second factor by default.
pub const DEFAULT_ROLES: &[Role] = &[
    Role::SystemAdmin,
    Role::OrgAdmin,
    Role::FundManager,
    Role::Auditor,
    Role::Statistician,
];

/// Must this user sign in with a second factor?
pub fn required(role: Role, roles: &[Role], organisation_requires_all: bool) -> bool {
    organisation_requires_all || roles.contains(&role)
}

fn totp(secret: &[u8], account: &str) -> Option<TOTP> {
    // The account name may not hold ':' (the label's separator).
    let account = account.replace(':', " ");
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP_SECONDS,
        secret.to_vec(),
        Some(ISSUER.to_owned()),
        account,
    )
    .ok()
}

/// The `otpauth://` address the QR code holds, and the secret in base32 for typing it.
pub fn enrolment(secret: &[u8], account: &str) -> Option<(String, String)> {
    let t = totp(secret, account)?;
    Some((t.get_url(), t.get_secret_base32()))
}

/// The code of one time step (for tests, and nothing else: a code is never shown).
pub fn code_at(secret: &[u8], unix_seconds: u64) -> Option<String> {
    Some(totp(secret, "")?.generate(unix_seconds))
}

/// The code an authenticator application shows at `unix_seconds` for a secret given in
/// base32 (as the enrolment shows it): what the tests type, as a user would.
pub fn code_for_base32(secret: &str, unix_seconds: u64) -> Option<String> {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .ok()?;
    code_at(&bytes, unix_seconds)
}

/// The digits of what was typed, spaces and dashes removed; `None` unless six digits.
pub fn normalise_code(typed: &str) -> Option<String> {
    let digits: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    (digits.len() == DIGITS && digits.chars().all(|c| c.is_ascii_digit())).then_some(digits)
}

/// The time step `code` matches at `unix_seconds` (one step of drift either way), if it
/// is later than `last_step`, the last one accepted: each code is accepted once.
pub fn accepted_step(
    secret: &[u8],
    code: &str,
    unix_seconds: u64,
    last_step: Option<i64>,
) -> Option<i64> {
    let code = normalise_code(code)?;
    let t = totp(secret, "")?;
    let now = (unix_seconds / STEP_SECONDS) as i64;
    // The latest step first: a code of the next step is not taken for an older one.
    for step in [now + 1, now, now - 1] {
        if step < 0 || last_step.is_some_and(|last| step <= last) {
            continue;
        }
        let expected = t.generate(step as u64 * STEP_SECONDS);
        if constant_eq(expected.as_bytes(), code.as_bytes()) {
            return Some(step);
        }
    }
    None
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

const BASE32: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A recovery code from ten random bytes: ten characters of an alphabet without 0/O or
/// 1/I, written `XXXXX-XXXXX`.
pub fn recovery_code(random: &[u8; 10]) -> String {
    let chars: String = random
        .iter()
        .map(|b| BASE32[(*b as usize) % 32] as char)
        .collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

/// A recovery code as typed, made comparable: upper case, without spaces or dashes;
/// `None` unless ten characters of the alphabet.
pub fn normalise_recovery(typed: &str) -> Option<String> {
    let s: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (s.len() == 10 && s.bytes().all(|b| BASE32.contains(&b))).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B: the SHA-1 secret "12345678901234567890"; its eight-digit
    /// codes end in the six digits read here.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_are_those_of_rfc_6238() {
        assert_eq!(code_at(RFC_SECRET, 59).unwrap(), "287082");
        assert_eq!(code_at(RFC_SECRET, 1_111_111_109).unwrap(), "081804");
        assert_eq!(code_at(RFC_SECRET, 1_234_567_890).unwrap(), "005924");
        assert_eq!(code_at(RFC_SECRET, 2_000_000_000).unwrap(), "279037");
    }

    #[test]
    fn a_code_is_accepted_once_within_one_step_of_drift() {
        let t = 1_700_000_000u64;
        let now = (t / STEP_SECONDS) as i64;
        let code = code_at(RFC_SECRET, t).unwrap();
        assert_eq!(accepted_step(RFC_SECRET, &code, t, None), Some(now));
        // Used: the same code is refused, even in its step.
        assert_eq!(accepted_step(RFC_SECRET, &code, t, Some(now)), None);
        // One step of drift either way is accepted; two are not.
        let before = code_at(RFC_SECRET, t - 30).unwrap();
        assert_eq!(accepted_step(RFC_SECRET, &before, t, None), Some(now - 1));
        let after = code_at(RFC_SECRET, t + 30).unwrap();
        assert_eq!(accepted_step(RFC_SECRET, &after, t, None), Some(now + 1));
        let old = code_at(RFC_SECRET, t - 60).unwrap();
        assert_eq!(accepted_step(RFC_SECRET, &old, t, None), None);
        // After a later code, an earlier one of the window is refused.
        assert_eq!(accepted_step(RFC_SECRET, &before, t, Some(now + 1)), None);
        // Typed with a space: the same code.
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(accepted_step(RFC_SECRET, &spaced, t, None), Some(now));
        assert_eq!(accepted_step(RFC_SECRET, "12345", t, None), None);
        assert_eq!(accepted_step(RFC_SECRET, "abcdef", t, None), None);
    }

    #[test]
    fn recovery_codes_read_back_however_they_are_typed() {
        let c = recovery_code(&[0, 1, 2, 3, 4, 31, 32, 33, 200, 255]);
        assert_eq!(c.len(), 11);
        assert_eq!(c.as_bytes()[5], b'-');
        let n = normalise_recovery(&c.to_lowercase().replace('-', " ")).unwrap();
        assert_eq!(n, c.replace('-', ""));
        assert_eq!(normalise_recovery("OOOOO-11111"), None);
        assert_eq!(normalise_recovery("ABC"), None);
    }

    #[test]
    fn administrators_and_cross_organisation_roles_must_have_one() {
        for r in DEFAULT_ROLES {
            assert!(required(*r, DEFAULT_ROLES, false));
        }
        assert!(!required(Role::Advocate, DEFAULT_ROLES, false));
        assert!(required(Role::Advocate, DEFAULT_ROLES, true));
        assert!(!required(Role::OrgAdmin, &[], false));
    }

    #[test]
    fn the_enrolment_address_names_the_issuer_and_the_account() {
        let (url, b32) = enrolment(RFC_SECRET, "admin@ngo.test").unwrap();
        assert!(
            url.starts_with("otpauth://totp/Passerelle:admin%40ngo.test?"),
            "{url}"
        );
        assert!(url.contains(&format!("secret={b32}")), "{url}");
        assert!(url.contains("issuer=Passerelle"), "{url}");
    }
}
