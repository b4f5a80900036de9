//! Template helpers for forms sent back after a failed POST (see `http::Refill`): the page
//! data's `form` says which form it is (`name`, and `key` for one of several forms of the
//! same kind), what was typed (`values`: field → list of values), what is wrong (`errors`:
//! field → message in the user's language), a message above the form (`message`) and
//! whether someone else saved first (`stale`: then `saved` shows what is saved now).
//!
//! Every helper takes the form's name first and the field second; a helper about another
//! form, or on a page that was not sent back, falls back to the page's own value:
//!
//! ```handlebars
//! {{form_alert "consent"}}
//! <label for="language">{{t "field-language"}}</label>
//! <input id="language" name="language" value="{{val "consent" "language" default}}"{{invalid "consent" "language"}}>
//! {{field_error "consent" "language"}}
//! <select name="purpose">{{#each purposes}}<option value="{{value}}"{{selected "consent" "purpose" value false}}>…{{/each}}</select>
//! <input type="checkbox" name="stateless"{{checked "person" "stateless" "on" person.stateless}}>
//! {{saved "person" "name" person.name}}
//! ```
//!
//! Per-record forms add `key=id`: `{{val "hearing" "notes" key=../id}}`.

use crate::i18n::I18n;
use crate::render::escape_html;
use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason,
};
use serde_json::{Map, Value};
use std::sync::Arc;

#[derive(Clone, Copy)]
pub enum Kind {
    /// `{{val form field fallback}}`: the typed value, else the fallback (escaped).
    Val,
    /// `{{checked form field value default}}`: ` checked` when that value was sent.
    Checked,
    /// `{{selected form field value default}}`: ` selected` when that value was sent.
    Selected,
    /// `{{invalid form field}}`: `aria-invalid` and `aria-describedby` of a wrong field.
    Invalid,
    /// `{{field_error form field}}`: the message beside a wrong field.
    FieldError,
    /// `{{form_alert form}}`: the form's message (a conflict, a refusal, a summary).
    Alert,
    /// `{{saved form field current}}`: when someone else saved first, what is saved now
    /// where it differs from what was typed.
    Saved,
}

pub struct FormHelper {
    pub kind: Kind,
    pub i18n: Arc<I18n>,
}

/// The class of a form's message; the renderer looks for it to know the page showed it.
pub const ALERT_CLASS: &str = "error form-alert";

pub const NAMES: &[(&str, Kind)] = &[
    ("val", Kind::Val),
    ("checked", Kind::Checked),
    ("selected", Kind::Selected),
    ("invalid", Kind::Invalid),
    ("field_error", Kind::FieldError),
    ("form_alert", Kind::Alert),
    ("saved", Kind::Saved),
];

/// A value as the text a form field holds.
fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => {
            if *b {
                "on".into()
            } else {
                String::new()
            }
        }
        other => other.to_string(),
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Number(n)) => n.as_f64().is_some_and(|x| x != 0.0),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(_)) => true,
    }
}

/// The sent-back form of the page, when it is the one this helper names.
fn this_form<'a>(h: &Helper<'_>, ctx: &'a Context) -> Option<&'a Map<String, Value>> {
    let name = h.param(0).and_then(|p| p.value().as_str())?;
    let key = h
        .hash_get("key")
        .map(|k| text(k.value()))
        .filter(|k| !k.is_empty());
    let form = ctx.data().get("form")?.as_object()?;
    let same_name = form.get("name").and_then(Value::as_str) == Some(name);
    let same_key = form.get("key").and_then(Value::as_str).map(str::to_owned) == key;
    (same_name && same_key).then_some(form)
}

/// The ids of a field's message: `err-<form>[-<key>]-<field>`.
fn error_id(h: &Helper<'_>, field: &str) -> String {
    let name = h.param(0).and_then(|p| p.value().as_str()).unwrap_or("");
    let key = h
        .hash_get("key")
        .map(|k| text(k.value()))
        .filter(|k| !k.is_empty());
    let id = match key {
        Some(k) => format!("err-{name}-{k}-{field}"),
        None => format!("err-{name}-{field}"),
    };
    // Ids hold what forms and fields are named with; anything else is dropped.
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect()
}

fn typed<'a>(form: &'a Map<String, Value>, field: &str) -> Vec<&'a str> {
    form.get("values")
        .and_then(|v| v.get(field))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn error_of<'a>(form: &'a Map<String, Value>, field: &str) -> Option<&'a str> {
    form.get("errors")
        .and_then(|e| e.get(field))
        .and_then(Value::as_str)
}

impl HelperDef for FormHelper {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let form = this_form(h, ctx);
        let field = h.param(1).map(|p| text(p.value())).unwrap_or_default();
        if field.is_empty() && !matches!(self.kind, Kind::Alert) {
            return Err(RenderError::from(RenderErrorReason::ParamNotFoundForIndex(
                "form helper",
                1,
            )));
        }
        match self.kind {
            Kind::Val => {
                // A field that was not sent at all (a version dropped after a conflict)
                // shows the page's own value.
                let v = match form.map(|f| typed(f, &field)) {
                    Some(t) if !t.is_empty() => t[0].to_owned(),
                    _ => h.param(2).map(|p| text(p.value())).unwrap_or_default(),
                };
                out.write(&escape_html(&v))?;
            }
            Kind::Checked | Kind::Selected => {
                let on = match form {
                    Some(f) => {
                        let value = h
                            .param(2)
                            .map(|p| text(p.value()))
                            .unwrap_or_else(|| "on".into());
                        typed(f, &field).contains(&value.as_str())
                    }
                    None => truthy(h.param(3).map(|p| p.value())),
                };
                if on {
                    out.write(if matches!(self.kind, Kind::Checked) {
                        " checked"
                    } else {
                        " selected"
                    })?;
                }
            }
            Kind::Invalid => {
                if form.and_then(|f| error_of(f, &field)).is_some() {
                    out.write(&format!(
                        " aria-invalid=\"true\" aria-describedby=\"{}\"",
                        error_id(h, &field)
                    ))?;
                }
            }
            Kind::FieldError => {
                if let Some(m) = form.and_then(|f| error_of(f, &field)) {
                    out.write(&format!(
                        "<p class=\"field-error\" id=\"{}\">{}</p>",
                        error_id(h, &field),
                        escape_html(m)
                    ))?;
                }
            }
            Kind::Alert => {
                if let Some(m) = form
                    .and_then(|f| f.get("message"))
                    .and_then(Value::as_str)
                    .filter(|m| !m.is_empty())
                {
                    out.write(&format!(
                        "<p class=\"{ALERT_CLASS}\" role=\"alert\" id=\"{}\">{}</p>",
                        error_id(h, "alert"),
                        escape_html(m)
                    ))?;
                }
            }
            Kind::Saved => {
                let Some(f) = form.filter(|f| f.get("stale") == Some(&Value::Bool(true))) else {
                    return Ok(());
                };
                let current = h.param(2).map(|p| p.value().clone()).unwrap_or(Value::Null);
                let now = text(&current);
                let mine = typed(f, &field)
                    .first()
                    .map(|s| (*s).to_owned())
                    .unwrap_or_default();
                if now.trim() != mine.trim() {
                    let lang = ctx
                        .data()
                        .get("lang")
                        .and_then(Value::as_str)
                        .unwrap_or("en");
                    let label = self.i18n.t(lang, "form-saved-now", None);
                    let shown = match current {
                        Value::Bool(b) => self.i18n.t(lang, if b { "yes" } else { "no" }, None),
                        _ if now.trim().is_empty() => "—".to_owned(),
                        _ => now,
                    };
                    out.write(&format!(
                        "<p class=\"saved\" id=\"{}\"><span>{}</span> {}</p>",
                        error_id(h, &format!("saved-{field}")),
                        escape_html(&label),
                        escape_html(&shown)
                    ))?;
                }
            }
        }
        Ok(())
    }
}
