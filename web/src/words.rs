//! Words, not ids: what pages show in place of the core's rule ids, field names, audit
//! routes and vocabulary values, each from the message files in the reader's language.
//!
//! - A refusal (`returns::Refusal`) is said by its rule: `rule-<rule>` (or
//!   `rule-<rule>-<variant>`), with its arguments, stages and other vocabulary values
//!   turned into their labels first. A rule without a message falls back to its English
//!   message translated as a whole ([`Page::translate`]).
//! - An audit row says its section, its action and where it was done ("the services and
//!   shelter page", "the API: the case"), from the route pattern it recorded.
//!
//! The JSON API keeps the rule ids and the English messages: machines read them.

use crate::http::Page;
use fluent_bundle::{FluentArgs, FluentValue};
use passerelle_core::returns::Refusal;
use passerelle_core::service::RulesRefused;
use std::collections::BTreeMap;

/// The message key of a refusal: `rule-<rule>` (the part before `:` of `requirement:…`),
/// with `-<variant>` when the rule has several messages.
pub fn refusal_key(rule: &str, args: &BTreeMap<String, String>) -> String {
    let rule = rule.split(':').next().unwrap_or(rule);
    match args.get("variant") {
        Some(v) => format!("rule-{rule}-{v}"),
        None => format!("rule-{rule}"),
    }
}

/// Arguments for a message: vocabulary values become their labels in `page`'s language
/// (return stages, case stages, closing reasons and statuses), counts stay numbers (for
/// plural rules), everything else is shown as given (a checklist item's label).
fn fluent_args<'a>(page: &Page, args: &'a BTreeMap<String, String>) -> FluentArgs<'a> {
    let mut out = FluentArgs::new();
    for (name, value) in args {
        let v: FluentValue = match name.as_str() {
            "from" | "next" | "stage" | "to" => page.t(&format!("return-stage-{value}")).into(),
            "case_stage" => page.t(&format!("stage-{value}")).into(),
            "reason" => page.t(&format!("closing-reason-{value}")).into(),
            "statuses" => value
                .split(',')
                .map(|s| page.t(&format!("closing-status-{s}")))
                .collect::<Vec<_>>()
                .join(" / ")
                .into(),
            "n" => value
                .parse::<f64>()
                .map(FluentValue::from)
                .unwrap_or_else(|_| value.as_str().into()),
            _ => value.as_str().into(),
        };
        out.set(name.clone(), v);
    }
    out
}

/// `key` with `args` in `page`'s language, or None when no language has the message.
fn message(page: &Page, key: &str, args: &BTreeMap<String, String>) -> Option<String> {
    let a = fluent_args(page, args);
    let text = page.state.i18n.t(page.lang, key, Some(&a));
    (text != key).then_some(text)
}

/// One refusal in the reader's language.
pub fn refusal(page: &Page, r: &Refusal) -> String {
    message(page, &refusal_key(&r.rule, &r.args), &r.args)
        .unwrap_or_else(|| page.translate(&r.message))
}

/// What was refused and why, in the reader's language: "The return cannot move to
/// “Approved”: the person's consent … ; a risk assessment …".
pub fn rules_refused(page: &Page, r: &RulesRefused) -> String {
    let what = message(page, &format!("refused-{}", r.action), &r.args)
        .unwrap_or_else(|| page.translate(&r.what));
    let why: Vec<String> = r.refusals.iter().map(|x| refusal(page, x)).collect();
    format!(
        "{what}{}{}",
        page.t("colon"),
        why.join(&page.t("list-separator"))
    )
}

/// Whose rules apply, as `Jurisdiction::describe` names them ("built-in defaults",
/// "plugin fr-jurisdiction 1.0.0", "fr-jurisdiction (not available)"), in words.
pub fn jurisdiction(page: &Page, describe: &str) -> String {
    use passerelle_core::ports::Jurisdiction;
    if describe == passerelle_core::ports::DefaultJurisdiction.describe() {
        return page.t("jurisdiction-builtin");
    }
    let mut args = FluentArgs::new();
    let key = if let Some((id, version)) = describe
        .strip_prefix("plugin ")
        .and_then(|r| r.rsplit_once(' '))
    {
        args.set("id", id.to_owned());
        args.set("version", version.to_owned());
        "jurisdiction-plugin"
    } else if let Some(id) = describe.strip_suffix(" (not available)") {
        args.set("id", id.to_owned());
        "jurisdiction-unavailable"
    } else {
        return describe.to_owned();
    };
    page.state.i18n.t(page.lang, key, Some(&args))
}

/// A consent as people tell consents apart: its purpose, who gave it, in which language
/// and when ("Shelter — The person (English, 2026-12-02)"), never its internal id.
pub fn consent_label(page: &Page, c: &passerelle_core::service::cases::ConsentView) -> String {
    format!(
        "{} — {} ({}, {})",
        page.t(&format!("purpose-{}", c.purpose.as_str())),
        page.t(&format!("giver-{}", c.given_by.as_str())),
        c.language,
        c.consented_at.format("%Y-%m-%d")
    )
}

/// The name of a route pattern recorded in the audit log ("GET /cases/{reference}/care"):
/// the page, form or API endpoint in words.
pub fn route(page: &Page, recorded: &str) -> String {
    let Some((method, path)) = recorded
        .split_once(' ')
        .filter(|(m, p)| m.chars().all(|c| c.is_ascii_uppercase()) && p.starts_with('/'))
    else {
        // Not a request: the demo seeding, a command.
        let key = format!("audit-origin-{}", slug_words(recorded));
        let name = page.t(&key);
        return if name == key {
            page.t("audit-origin-other")
        } else {
            name
        };
    };
    let (api, path) = match path.strip_prefix("/api/v1") {
        Some(rest) => (true, rest),
        None => (false, path),
    };
    let slug = route_slug(path);
    // A method-specific name first ("route-post-cases": the new case form), then the
    // path's.
    let name = [
        format!("route-{}-{slug}", method.to_ascii_lowercase()),
        format!("route-{slug}"),
    ]
    .into_iter()
    .map(|k| (page.t(&k), k))
    .find(|(t, k)| t != k)
    .map_or_else(|| page.t("route-other"), |(t, _)| t);
    let via = match (api, method) {
        (true, _) => "audit-via-api",
        (false, "GET") => "audit-via-page",
        (false, _) => "audit-via-form",
    };
    page.state.i18n.t1(page.lang, via, "name", name)
}

/// A time recorded as RFC 3339 ("2026-12-02T16:38:02.330594793+00:00"), as people read
/// it: "2026-12-02 16:38 UTC". Anything else is returned as it is.
pub fn time(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M UTC")
                .to_string()
        })
        .unwrap_or_else(|_| rfc3339.to_owned())
}

/// `english` with its first ISO date (`2026-05-01`) written `DATE`, and that date: the
/// message key of "is before the departure (2026-05-01)" does not depend on the date.
pub fn date_out(english: &str) -> (String, Option<String>) {
    let b = english.as_bytes();
    for i in 0..b.len().saturating_sub(9) {
        let d = &b[i..i + 10];
        let shaped = d.iter().enumerate().all(|(j, c)| match j {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        });
        let alone = (i == 0 || !b[i - 1].is_ascii_alphanumeric())
            && b.get(i + 10).is_none_or(|c| !c.is_ascii_alphanumeric());
        if shaped && alone {
            let date = english[i..i + 10].to_owned();
            return (
                format!("{}DATE{}", &english[..i], &english[i + 10..]),
                Some(date),
            );
        }
    }
    (english.to_owned(), None)
}

/// The key part of a route: its literal segments joined by `-`, each placeholder written
/// `one` ("/cases/{reference}/consents/{id}/withdraw" → "cases-one-consents-one-withdraw").
pub fn route_slug(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| if s.starts_with('{') { "one" } else { s })
        .collect();
    if parts.is_empty() {
        "home".to_owned()
    } else {
        parts.join("-").replace('.', "-")
    }
}

/// Lowercase words joined by `-` ("demo seed" → "demo-seed").
fn slug_words(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_slugs_name_each_pattern_once() {
        assert_eq!(route_slug("/cases"), "cases");
        assert_eq!(route_slug("/cases/{reference}"), "cases-one");
        assert_eq!(route_slug("/cases/{reference}/care"), "cases-one-care");
        assert_eq!(
            route_slug("/cases/{reference}/consents/{id}/withdraw"),
            "cases-one-consents-one-withdraw"
        );
        assert_eq!(route_slug("/"), "home");
        assert_eq!(slug_words("demo seed"), "demo-seed");
    }

    #[test]
    fn a_date_in_a_message_is_an_argument() {
        assert_eq!(
            date_out("is before the departure (2026-05-01)"),
            (
                "is before the departure (DATE)".to_owned(),
                Some("2026-05-01".to_owned())
            )
        );
        assert_eq!(
            crate::http::message_key(&date_out("is before the departure (2026-05-01)").0),
            "msg-is-before-the-departure-date"
        );
        assert_eq!(
            date_out("PSG-2026-0042"),
            ("PSG-2026-0042".to_owned(), None)
        );
    }

    #[test]
    fn times_read_as_minutes_in_utc() {
        assert_eq!(
            time("2026-12-02T16:38:02.330594793+00:00"),
            "2026-12-02 16:38 UTC"
        );
        assert_eq!(time("2026-12-02T17:38:02+01:00"), "2026-12-02 16:38 UTC");
        assert_eq!(time("not a time"), "not a time");
    }

    #[test]
    fn refusal_keys_follow_the_rule_and_its_variant() {
        let none = BTreeMap::new();
        assert_eq!(refusal_key("consent", &none), "rule-consent");
        assert_eq!(
            refusal_key("requirement:travel_document", &none),
            "rule-requirement"
        );
        let v: BTreeMap<String, String> = [("variant".to_owned(), "cancel".to_owned())].into();
        assert_eq!(refusal_key("stage_order", &v), "rule-stage_order-cancel");
    }
}

/// Every field name the code can put in an `Invalid` (for the test that each has a label):
/// the first string literal of each call to `Invalid::new` and to every function taking a
/// `field: &'static str`, and the field of each `str_enum!`, in the `.rs` files under
/// `dirs`.
#[cfg(test)]
pub fn field_names_in(dirs: &[std::path::PathBuf]) -> std::collections::BTreeSet<String> {
    let mut sources = Vec::new();
    let mut stack = dirs.to_vec();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs")
                && let Ok(s) = std::fs::read_to_string(&p)
            {
                sources.push(s);
            }
        }
    }
    // Functions with a `field: &'static str` parameter.
    let mut takers: Vec<String> = vec!["Invalid::new".into()];
    for src in &sources {
        for (i, _) in src.match_indices("fn ") {
            let rest = &src[i + 3..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let Some(open) = rest.find('(') else { continue };
            let Some(close) = rest[open..].find(')') else {
                continue;
            };
            // `new` is `Invalid::new`, counted above; other `new`s take no field.
            if !name.is_empty()
                && name != "new"
                && rest[open..open + close].contains("field: &'static str")
            {
                takers.push(name);
            }
        }
    }
    let mut out = std::collections::BTreeSet::new();
    let first_literal = |args: &str| -> Option<String> {
        let mut depth = 0i32;
        for (i, c) in args.char_indices() {
            match c {
                '(' => depth += 1,
                ')' if depth == 0 => return None,
                ')' => depth -= 1,
                '"' => {
                    let lit: String = args[i + 1..].chars().take_while(|c| *c != '"').collect();
                    return Some(lit);
                }
                _ => {}
            }
        }
        None
    };
    for src in &sources {
        for t in &takers {
            let call = format!("{t}(");
            for (i, _) in src.match_indices(&call) {
                // Not the definition itself, nor a longer name ending the same way.
                let before = src[..i].chars().next_back();
                if src[..i].ends_with("fn ")
                    || before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    continue;
                }
                if let Some(lit) = first_literal(&src[i + call.len()..])
                    && !lit.is_empty()
                    && lit
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                {
                    out.insert(lit);
                }
            }
        }
        // str_enum!( … Name, "field" {
        for line in src.lines() {
            let l = line.trim();
            if let Some((ident, rest)) = l.split_once(", \"")
                && ident.chars().all(|c| c.is_ascii_alphanumeric())
                && ident.starts_with(|c: char| c.is_ascii_uppercase())
                && let Some(field) = rest.strip_suffix("\" {")
            {
                out.insert(field.to_owned());
            }
        }
    }
    out
}

#[cfg(test)]
mod field_labels {
    use super::field_names_in;
    use crate::i18n::I18n;

    #[test]
    fn every_field_name_the_code_can_name_has_a_label_in_every_language() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let fields = field_names_in(&[root.join("core/src"), root.join("web/src")]);
        // The collector must see the fields it is meant to see, or it proves nothing.
        for known in [
            "until_on",
            "birth_date",
            "stage",
            "to_org_id",
            "due_on",
            "early_reason",
        ] {
            assert!(fields.contains(known), "{known} not collected: {fields:?}");
        }
        let i18n = I18n::load("en").unwrap_or_else(|e| panic!("{e}"));
        let mut missing = Vec::new();
        for (lang, _) in i18n.languages() {
            let keys = i18n.keys(lang);
            for f in &fields {
                let key = format!("field-{f}");
                if !keys.contains(&key) {
                    missing.push(format!("{lang}: {key}"));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "fields without a label:\n{}",
            missing.join("\n")
        );
    }
}

#[cfg(test)]
mod vocabulary {
    use super::{refusal_key, route_slug};
    use crate::i18n::I18n;
    use passerelle_core::closing::{ClosingReason, ClosingStatus, check_closing};
    use passerelle_core::domain::{AuditAction, Section, Stage};
    use passerelle_core::returns::{
        ConsentState, Refusal, Requirement, ReturnFacts, ReturnStage, RiskFacts, RiskLevel,
        check_move,
    };

    /// The keys missing from some language, among `keys`.
    fn missing(keys: impl IntoIterator<Item = String>) -> Vec<String> {
        let i18n = I18n::load("en").unwrap_or_else(|e| panic!("{e}"));
        let keys: Vec<String> = keys.into_iter().collect();
        let mut out = Vec::new();
        for (lang, _) in i18n.languages() {
            let have = i18n.keys(lang);
            out.extend(
                keys.iter()
                    .filter(|k| !have.contains(k))
                    .map(|k| format!("{lang}: {k}")),
            );
        }
        out
    }

    #[test]
    fn every_deadline_kind_audit_section_action_and_closing_value_has_words() {
        let keys = passerelle_core::deadlines::KINDS
            .iter()
            .map(|k| format!("deadline-{k}"))
            .chain(
                Section::ALL
                    .iter()
                    .map(|s| format!("audit-section-{}", s.as_str())),
            )
            .chain(
                AuditAction::ALL
                    .iter()
                    .map(|a| format!("audit-action-{}", a.as_str())),
            )
            .chain(
                ClosingReason::ALL
                    .iter()
                    .map(|r| format!("closing-reason-{}", r.as_str())),
            )
            .chain(
                ClosingStatus::ALL
                    .iter()
                    .map(|s| format!("closing-status-{}", s.as_str())),
            )
            .chain(
                ReturnStage::ALL
                    .iter()
                    .map(|s| format!("return-stage-{}", s.as_str())),
            )
            .chain(
                [
                    passerelle_plugins::World::Jurisdiction,
                    passerelle_plugins::World::Partner,
                ]
                .iter()
                .map(|w| format!("plugin-world-{}", w.as_str())),
            );
        let m = missing(keys);
        assert!(m.is_empty(), "no words for:\n{}", m.join("\n"));
    }

    /// Facts that break every rule of a return move at once, one at a time relaxed.
    fn facts(stage: ReturnStage) -> Vec<ReturnFacts> {
        let base = ReturnFacts {
            stage,
            consent: ConsentState::Missing,
            child: true,
            requested_by_person: false,
            in_recovery_period: true,
            risk: None,
            guardian_appointed: false,
            best_interests_determined: false,
            trial_conflicts: 2,
            requirements: ["informed_consent", "travel_document", "reception_arranged"]
                .iter()
                .map(|id| Requirement {
                    id: (*id).into(),
                    label: (*id).into(),
                    met: false,
                })
                .collect(),
            itinerary_legs: 0,
            legs_without_escort: 1,
            counselled: false,
        };
        let mut withdrawn = base.clone();
        withdrawn.consent = ConsentState::Withdrawn;
        withdrawn.risk = Some(RiskFacts {
            persecution: RiskLevel::High,
            re_trafficking: RiskLevel::High,
            safety_plan: false,
        });
        vec![base, withdrawn]
    }

    #[test]
    fn every_rule_that_refuses_a_move_or_a_closing_has_a_message() {
        let mut refusals: Vec<Refusal> = Vec::new();
        for from in ReturnStage::ALL {
            for to in ReturnStage::ALL {
                for f in facts(*from) {
                    refusals.extend(check_move(*to, &f));
                }
            }
        }
        for stage in Stage::ALL {
            for reason in ClosingReason::ALL {
                for status in ClosingStatus::ALL {
                    refusals.extend(check_closing(*stage, *reason, *status).err());
                }
            }
        }
        let mut keys: Vec<String> = refusals
            .iter()
            .map(|r| refusal_key(&r.rule, &r.args))
            .collect();
        keys.sort();
        keys.dedup();
        // The rules the issue names, so that the facts above keep reaching them.
        for rule in [
            "rule-stage_order",
            "rule-stage_order-cancel",
            "rule-consent",
            "rule-consent-withdrawn",
            "rule-requirement",
            "rule-trial_conflict",
            "rule-non_refoulement",
            "rule-closing_status",
            "rule-not_identified_stage",
        ] {
            assert!(
                keys.iter().any(|k| k == rule),
                "{rule} not produced: {keys:?}"
            );
        }
        let m = missing(
            keys.into_iter()
                .chain(["refused-return_move", "refused-close_case"].map(String::from)),
        );
        assert!(m.is_empty(), "rules without a message:\n{}", m.join("\n"));
    }

    /// Every route registered in `src/routes` (`.route("…"` or a `const` path), as a path.
    fn registered_routes() -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes");
        let mut out = Vec::new();
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let Ok(src) = std::fs::read_to_string(&p) else {
                    continue;
                };
                for (i, _) in src.match_indices(".route(") {
                    let arg = src[i + 7..].trim_start();
                    if let Some(lit) = arg.strip_prefix('"') {
                        out.push(lit.chars().take_while(|c| *c != '"').collect());
                    } else {
                        let ident: String = arg
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                            .collect();
                        let def = format!("const {ident}: &str = \"");
                        if let Some(j) = src.find(&def) {
                            out.push(
                                src[j + def.len()..]
                                    .chars()
                                    .take_while(|c| *c != '"')
                                    .collect(),
                            );
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn every_registered_route_has_a_name() {
        let routes = registered_routes();
        for known in [
            "/cases/{reference}/care",
            "/cases/{reference}/return",
            "/me",
        ] {
            assert!(
                routes.iter().any(|r| r == known),
                "{known} not found: {routes:?}"
            );
        }
        let mut keys: Vec<String> = routes
            .iter()
            .map(|r| format!("route-{}", route_slug(r)))
            .collect();
        keys.sort();
        keys.dedup();
        let m = missing(keys);
        assert!(m.is_empty(), "routes without a name:\n{}", m.join("\n"));
    }
}
