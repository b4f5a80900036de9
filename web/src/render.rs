//! Handlebars templates: embedded with `include_str!`, strict mode, each overridable by a
//! file of the same name in `ui.templates_dir`. Strings come from the Fluent messages
//! through the `t` helper: `{{t "key"}}`, `{{t "key" n=count}}`.

use crate::i18n::I18n;
use fluent_bundle::{FluentArgs, FluentValue};
use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason,
};
use std::sync::Arc;

const TEMPLATES: &[(&str, &str)] = &[
    ("layout", include_str!("../templates/layout.hbs")),
    ("login", include_str!("../templates/login.hbs")),
    ("login_code", include_str!("../templates/login_code.hbs")),
    ("two_factor", include_str!("../templates/two_factor.hbs")),
    ("home", include_str!("../templates/home.hbs")),
    ("home_admin", include_str!("../templates/home_admin.hbs")),
    ("caseload", include_str!("../templates/caseload.hbs")),
    ("case_new", include_str!("../templates/case_new.hbs")),
    ("case", include_str!("../templates/case.hbs")),
    ("case_edit", include_str!("../templates/case_edit.hbs")),
    ("case_audit", include_str!("../templates/case_audit.hbs")),
    ("search", include_str!("../templates/search.hbs")),
    ("statistics", include_str!("../templates/statistics.hbs")),
    ("htcds", include_str!("../templates/htcds.hbs")),
    ("import", include_str!("../templates/import.hbs")),
    ("admin_orgs", include_str!("../templates/admin_orgs.hbs")),
    ("admin_users", include_str!("../templates/admin_users.hbs")),
    ("account", include_str!("../templates/account.hbs")),
    ("error", include_str!("../templates/error.hbs")),
    (
        "person_fields",
        include_str!("../templates/person_fields.hbs"),
    ),
    (
        "identification",
        include_str!("../templates/identification.hbs"),
    ),
    ("interview", include_str!("../templates/interview.hbs")),
    ("deadlines", include_str!("../templates/deadlines.hbs")),
    ("care", include_str!("../templates/care.hbs")),
    ("referrals", include_str!("../templates/referrals.hbs")),
    ("proceedings", include_str!("../templates/proceedings.hbs")),
    ("return", include_str!("../templates/return.hbs")),
    (
        "return_costs",
        include_str!("../templates/return_costs.hbs"),
    ),
    ("returns", include_str!("../templates/returns.hbs")),
    ("follow_up", include_str!("../templates/follow_up.hbs")),
    ("funds", include_str!("../templates/funds.hbs")),
    ("fund", include_str!("../templates/fund.hbs")),
    ("fund_report", include_str!("../templates/fund_report.hbs")),
    ("dashboard", include_str!("../templates/dashboard.hbs")),
    (
        "case_funding",
        include_str!("../templates/case_funding.hbs"),
    ),
    (
        "admin_plugins",
        include_str!("../templates/admin_plugins.hbs"),
    ),
    ("confirm", include_str!("../templates/confirm.hbs")),
    ("erase", include_str!("../templates/erase.hbs")),
    ("retention", include_str!("../templates/retention.hbs")),
    (
        "notifications",
        include_str!("../templates/notifications.hbs"),
    ),
    ("forgot", include_str!("../templates/forgot.hbs")),
    ("signin_link", include_str!("../templates/signin_link.hbs")),
    ("mail_text", include_str!("../templates/mail_text.hbs")),
    ("mail_html", include_str!("../templates/mail_html.hbs")),
];

/// Room for a page's body (a caseload page of 50 rows is about 20 kB since its cells carry
/// their column names for phones) and for the layout around it.
const BODY_CAPACITY: usize = 24 * 1024;
const LAYOUT_CAPACITY: usize = 4 * 1024;

pub struct Renderer {
    hb: Handlebars<'static>,
}

struct Translate(Arc<I18n>);

impl HelperDef for Translate {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let key = h
            .param(0)
            .and_then(|v| v.value().as_str())
            .ok_or_else(|| RenderError::from(RenderErrorReason::ParamNotFoundForIndex("t", 0)))?;
        let lang = ctx
            .data()
            .get("lang")
            .and_then(|v| v.as_str())
            .unwrap_or("en");
        // The common case (a column name repeated in every row for narrow screens): a word
        // formatted once at start-up, escaped straight into the page, nothing allocated.
        if h.hash().is_empty()
            && let Some(text) = self.0.fixed(lang, key)
        {
            write_escaped(out, text)?;
            return Ok(());
        }
        let mut args = FluentArgs::new();
        for (k, v) in h.hash() {
            let val: FluentValue = match v.value() {
                serde_json::Value::Number(n) => n
                    .as_f64()
                    .map(FluentValue::from)
                    .unwrap_or(FluentValue::None),
                serde_json::Value::String(s) => FluentValue::from(s.clone()),
                other => FluentValue::from(other.to_string()),
            };
            args.set(*k, val);
        }
        let s = self.0.t(
            lang,
            key,
            if h.hash().is_empty() {
                None
            } else {
                Some(&args)
            },
        );
        write_escaped(out, &s)?;
        Ok(())
    }
}

/// [`escape_html`] written into the output piece by piece, without building the escaped
/// text first.
fn write_escaped(out: &mut dyn Output, s: &str) -> std::io::Result<()> {
    let mut from = 0;
    for (i, b) in s.bytes().enumerate() {
        if let Some(e) = entity(b) {
            // The escaped characters are ASCII, so `i` and `i + 1` are character boundaries.
            if from < i {
                out.write(&s[from..i])?;
            }
            out.write(e)?;
            from = i + 1;
        }
    }
    if from < s.len() {
        out.write(&s[from..])?;
    }
    Ok(())
}

fn entity(b: u8) -> Option<&'static str> {
    Some(match b {
        b'<' => "&lt;",
        b'>' => "&gt;",
        b'"' => "&quot;",
        b'&' => "&amp;",
        b'\'' => "&#x27;",
        b'`' => "&#x60;",
        b'=' => "&#x3D;",
        _ => return None,
    })
}

/// The escaping of handlebars' default (`handlebars::html_escape`: `< > " & ' ` =`), in one
/// pass into a buffer sized up front, and a plain copy when nothing needs escaping. The
/// default pushes character by character into a growing string; on the caseload page it
/// was an eighth of the rendering. A property test checks that both give the same text.
pub fn escape_html(s: &str) -> String {
    let extra: usize = s.bytes().filter_map(entity).map(|e| e.len() - 1).sum();
    if extra == 0 {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + extra);
    let mut from = 0;
    for (i, b) in s.bytes().enumerate() {
        if let Some(e) = entity(b) {
            // The escaped characters are ASCII, so `i` and `i + 1` are character boundaries.
            out.push_str(&s[from..i]);
            out.push_str(e);
            from = i + 1;
        }
    }
    out.push_str(&s[from..]);
    out
}

/// `{{csrf_fields}}`: the hidden fields every form carries, the session's CSRF token
/// (`_csrf`) and the page the form is on (`_back`, where an error or an expired session
/// comes back to), both from the page's root data.
///
/// A helper, not a partial: handlebars gives a partial a deep copy of the context it is
/// called in (`merge_json` clones it even without parameters), so each form of a page, and
/// the layout's two forms, copied the whole page's data (in the layout, the rendered body
/// too).
fn csrf_fields(
    _: &Helper<'_>,
    _: &Handlebars<'_>,
    ctx: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let field = |name: &'static str| {
        ctx.data()
            .get(name)
            .and_then(|v| v.as_str())
            .ok_or_else(|| RenderError::from(RenderErrorReason::MissingVariable(Some(name.into()))))
    };
    let (token, back) = (field("csrf")?, field("path")?);
    out.write(r#"<input type="hidden" name="_csrf" value=""#)?;
    write_escaped(out, token)?;
    out.write(r#""><input type="hidden" name="_back" value=""#)?;
    write_escaped(out, back)?;
    out.write(r#"">"#)?;
    Ok(())
}

fn eq_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let a = h.param(0).map(|v| v.value());
    let b = h.param(1).map(|v| v.value());
    if a == b {
        out.write("true")?;
    }
    Ok(())
}

impl Renderer {
    pub fn new(i18n: Arc<I18n>, override_dir: &str) -> anyhow::Result<Self> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_escape_fn(escape_html);
        hb.register_helper("t", Box::new(Translate(i18n.clone())));
        for (name, kind) in crate::forms::NAMES {
            hb.register_helper(
                name,
                Box::new(crate::forms::FormHelper {
                    kind: *kind,
                    i18n: i18n.clone(),
                }),
            );
        }
        hb.register_helper("eq", Box::new(eq_helper));
        hb.register_helper("csrf_fields", Box::new(csrf_fields));
        for (name, src) in TEMPLATES {
            hb.register_template_string(name, *src)
                .map_err(|e| anyhow::anyhow!("template {name}: {e}"))?;
        }
        if !override_dir.trim().is_empty() {
            for (name, _) in TEMPLATES {
                let p = std::path::Path::new(override_dir).join(format!("{name}.hbs"));
                if p.exists() {
                    hb.register_template_file(name, &p)
                        .map_err(|e| anyhow::anyhow!("template override {}: {e}", p.display()))?;
                }
            }
        }
        Ok(Self { hb })
    }

    /// Render a mail template (no layout): `mail_text` (plain text, nothing escaped) or
    /// `mail_html`.
    pub fn mail(&self, name: &str, data: serde_json::Value) -> Result<String, RenderError> {
        self.hb.render(name, &data)
    }

    /// Render `name` with `data`, then wrap it in the layout. One context serves both, so
    /// the page's data is not copied (`Handlebars::render` would serialise it afresh each
    /// time: on the caseload, more work than the template itself).
    pub fn page(&self, name: &str, data: serde_json::Value) -> Result<String, RenderError> {
        let mut ctx = Context::from(data);
        // Buffers sized up front: growing a 20 kB page from empty cost a tenth of the
        // rendering in reallocations and copies.
        let mut body = Vec::with_capacity(BODY_CAPACITY);
        self.hb
            .render_with_context_to_write(name, &ctx, &mut body)?;
        let body = String::from_utf8(body).map_err(|e| RenderErrorReason::Other(e.to_string()))?;
        let mut page = Vec::with_capacity(body.len() + LAYOUT_CAPACITY);
        // A form sent back whose message the page did not show (the form is no longer on
        // the page: the proceeding was closed meanwhile, say): the layout shows it on top.
        let orphan = ctx
            .data()
            .get("form")
            .and_then(|f| f.get("message"))
            .filter(|m| m.as_str().is_some_and(|m| !m.is_empty()))
            .filter(|_| !body.contains(crate::forms::ALERT_CLASS))
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        if let Some(o) = ctx.data_mut().as_object_mut() {
            o.insert("body".into(), serde_json::Value::String(body));
            o.insert("form_orphan".into(), orphan);
        }
        self.hb
            .render_with_context_to_write("layout", &ctx, &mut page)?;
        String::from_utf8(page).map_err(|e| RenderErrorReason::Other(e.to_string()).into())
    }
}

#[cfg(test)]
mod tests {
    use super::escape_html;
    use proptest::prelude::*;

    #[test]
    fn every_form_carries_the_token_and_its_page_escaped_and_a_page_without_them_fails() {
        let mut hb = handlebars::Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_helper("csrf_fields", Box::new(super::csrf_fields));
        hb.register_template_string("f", "<form>{{csrf_fields}}</form>")
            .unwrap();
        let html = hb
            .render(
                "f",
                &serde_json::json!({"csrf": "t\"k", "path": "/cases?scope=org&page=2"}),
            )
            .unwrap();
        assert_eq!(
            html,
            r#"<form><input type="hidden" name="_csrf" value="t&quot;k"><input type="hidden" name="_back" value="/cases?scope&#x3D;org&amp;page&#x3D;2"></form>"#
        );
        assert!(hb.render("f", &serde_json::json!({"csrf": "t"})).is_err());
    }

    #[test]
    fn escapes_what_handlebars_escapes() {
        assert_eq!(
            escape_html(r#"<a href="x" title='y'>`Tom & Jerry` = é</a>"#),
            "&lt;a href&#x3D;&quot;x&quot; title&#x3D;&#x27;y&#x27;&gt;&#x60;Tom &amp; Jerry&#x60; &#x3D; é&lt;/a&gt;"
        );
        assert_eq!(escape_html("PSG-2026-0042"), "PSG-2026-0042");
        assert_eq!(escape_html(""), "");
    }

    proptest! {
        #[test]
        fn same_text_as_the_handlebars_default(s in "(\\PC|[<>\"&'`=])*") {
            prop_assert_eq!(escape_html(&s), handlebars::html_escape(&s));
            // The translation helper writes its words escaped piece by piece.
            let mut out = handlebars::StringOutput::new();
            super::write_escaped(&mut out, &s).unwrap();
            prop_assert_eq!(out.into_string().unwrap(), handlebars::html_escape(&s));
        }
    }
}
