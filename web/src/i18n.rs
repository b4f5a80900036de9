//! Messages from Fluent files, one per language: a new language is a new file.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// (code, name shown in the switcher, Fluent source)
const LANGUAGES: &[(&str, &str, &str)] = &[
    ("en", "English", include_str!("../i18n/en.ftl")),
    ("fr", "Français", include_str!("../i18n/fr.ftl")),
];

pub struct I18n {
    bundles: Vec<(&'static str, &'static str, FluentBundle<FluentResource>)>,
    default: &'static str,
}

impl I18n {
    pub fn load(default: &str) -> anyhow::Result<Self> {
        let mut bundles = Vec::new();
        for (code, name, src) in LANGUAGES {
            let id: LanguageIdentifier = code
                .parse()
                .map_err(|e| anyhow::anyhow!("language {code}: {e:?}"))?;
            let res = FluentResource::try_new((*src).to_owned())
                .map_err(|(_, errs)| anyhow::anyhow!("messages {code}.ftl: {errs:?}"))?;
            let mut b = FluentBundle::new_concurrent(vec![id]);
            b.set_use_isolating(false);
            b.add_resource(res)
                .map_err(|errs| anyhow::anyhow!("messages {code}.ftl: {errs:?}"))?;
            bundles.push((*code, *name, b));
        }
        let default = LANGUAGES
            .iter()
            .map(|(c, _, _)| *c)
            .find(|c| *c == default)
            .unwrap_or("en");
        Ok(Self { bundles, default })
    }

    pub fn languages(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.bundles.iter().map(|(c, n, _)| (*c, *n))
    }

    pub fn supports(&self, code: &str) -> bool {
        self.bundles.iter().any(|(c, _, _)| *c == code)
    }

    /// Pick the language: an explicit choice (cookie) if supported, else the first
    /// supported one in Accept-Language, else the default.
    pub fn negotiate(&self, chosen: Option<&str>, accept_language: Option<&str>) -> &'static str {
        if let Some(c) = chosen
            && let Some((code, _, _)) = self.bundles.iter().find(|(code, _, _)| *code == c)
        {
            return code;
        }
        if let Some(al) = accept_language {
            let mut prefs: Vec<(f32, String)> = al
                .split(',')
                .filter_map(|part| {
                    let mut it = part.trim().split(';');
                    let tag = it.next()?.trim().to_ascii_lowercase();
                    let q = it
                        .find_map(|p| {
                            p.trim()
                                .strip_prefix("q=")
                                .and_then(|v| v.parse::<f32>().ok())
                        })
                        .unwrap_or(1.0);
                    Some((q, tag))
                })
                .collect();
            prefs.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
            for (_, tag) in prefs {
                let primary = tag.split('-').next().unwrap_or("");
                if let Some((code, _, _)) =
                    self.bundles.iter().find(|(code, _, _)| *code == primary)
                {
                    return code;
                }
            }
        }
        self.default
    }

    /// Translate `key` in `lang`, falling back to English, then to the key itself.
    pub fn t(&self, lang: &str, key: &str, args: Option<&FluentArgs<'_>>) -> String {
        for code in [lang, "en"] {
            if let Some((_, _, b)) = self.bundles.iter().find(|(c, _, _)| *c == code)
                && let Some(msg) = b.get_message(key)
                && let Some(p) = msg.value()
            {
                let mut errs = vec![];
                return b.format_pattern(p, args, &mut errs).into_owned();
            }
        }
        key.to_owned()
    }

    pub fn t1(
        &self,
        lang: &str,
        key: &str,
        name: &'static str,
        value: impl Into<FluentValue<'static>>,
    ) -> String {
        let mut a = FluentArgs::new();
        a.set(name, value.into());
        self.t(lang, key, Some(&a))
    }

    /// One line of an assessment's explanation (`identification::Reason`) in `lang`: its
    /// message, with the vocabulary values it names as their labels.
    pub fn reason(&self, lang: &str, key: &str, values: &[&str]) -> String {
        let labels: Vec<String> = values
            .iter()
            .map(|v| {
                // Values are vocabulary ids; find their label in any of the vocabularies.
                ["act", "means", "exploitation", "control"]
                    .iter()
                    .map(|p| format!("{p}-{v}"))
                    .map(|k| (k.clone(), self.t(lang, &k, None)))
                    .find(|(k, t)| k != t)
                    .map(|(_, t)| t)
                    .unwrap_or_else(|| (*v).to_owned())
            })
            .collect();
        self.t1(lang, key, "values", labels.join(", "))
    }

    /// Does `key` exist in English? (Used by a test that checks every language has every key.)
    pub fn keys(&self, lang: &str) -> Vec<String> {
        let src = LANGUAGES
            .iter()
            .find(|(c, _, _)| *c == lang)
            .map(|(_, _, s)| *s)
            .unwrap_or("");
        src.lines()
            .filter_map(|l| {
                let l = l.trim_end();
                if l.starts_with(char::is_alphabetic) {
                    l.split_once(" =").map(|(k, _)| k.trim().to_owned())
                } else {
                    None
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_english_key() {
        let i = I18n::load("en").unwrap();
        let en = i.keys("en");
        assert!(en.len() > 50, "{}", en.len());
        for (code, _) in i.languages() {
            let keys = i.keys(code);
            let missing: Vec<_> = en.iter().filter(|k| !keys.contains(k)).collect();
            assert!(missing.is_empty(), "{code} lacks {missing:?}");
        }
    }

    #[test]
    fn negotiation_prefers_choice_then_header() {
        let i = I18n::load("en").unwrap();
        assert_eq!(i.negotiate(Some("fr"), Some("en-GB")), "fr");
        assert_eq!(
            i.negotiate(Some("xx"), Some("de;q=1, fr-CA;q=0.8, en;q=0.5")),
            "fr"
        );
        assert_eq!(i.negotiate(None, Some("de")), "en");
        assert_eq!(i.negotiate(None, None), "en");
        assert_eq!(i.t("fr", "nav-caseload", None), "Dossiers");
        assert_eq!(i.t("fr", "no-such-key", None), "no-such-key");
    }
}
