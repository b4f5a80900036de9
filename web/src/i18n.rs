//! Messages from Fluent files, one per language: a new language is a new file.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::collections::HashMap;
use unic_langid::LanguageIdentifier;

/// (code, name shown in the switcher, Fluent source)
const LANGUAGES: &[(&str, &str, &str)] = &[
    ("en", "English", include_str!("../i18n/en.ftl")),
    ("fr", "Français", include_str!("../i18n/fr.ftl")),
];

pub struct I18n {
    bundles: Vec<(&'static str, &'static str, FluentBundle<FluentResource>)>,
    /// Per language, every message without arguments, formatted once: pages ask for the
    /// same words hundreds of times (a table's column names are repeated in each row for
    /// narrow screens), and a lookup is much cheaper than formatting.
    fixed: Vec<(&'static str, HashMap<String, String>)>,
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
        let mut fixed = Vec::new();
        for (code, _, b) in &bundles {
            let mut words = HashMap::new();
            for key in Self::source_keys(code) {
                if let Some(p) = b.get_message(&key).and_then(|m| m.value()) {
                    let mut errs = vec![];
                    let text = b.format_pattern(p, None, &mut errs).into_owned();
                    // A message that needs arguments is formatted each time it is asked for.
                    if errs.is_empty() {
                        words.insert(key, text);
                    }
                }
            }
            fixed.push((*code, words));
        }
        let default = LANGUAGES
            .iter()
            .map(|(c, _, _)| *c)
            .find(|c| *c == default)
            .unwrap_or("en");
        Ok(Self {
            bundles,
            fixed,
            default,
        })
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

    /// A message without arguments in `lang`, as formatted at start-up (`None` when it
    /// needs arguments or is missing in that language).
    pub fn fixed(&self, lang: &str, key: &str) -> Option<&str> {
        self.fixed
            .iter()
            .find(|(c, _)| *c == lang)
            .and_then(|(_, w)| w.get(key))
            .map(String::as_str)
    }

    /// Translate `key` in `lang`, falling back to English, then to the key itself.
    pub fn t(&self, lang: &str, key: &str, args: Option<&FluentArgs<'_>>) -> String {
        if args.is_none()
            && let Some(text) = self.fixed(lang, key)
        {
            return text.to_owned();
        }
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

    /// The message keys of `lang`'s file (a test checks every language has every key).
    pub fn keys(&self, lang: &str) -> Vec<String> {
        Self::source_keys(lang)
    }

    fn source_keys(lang: &str) -> Vec<String> {
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

    /// The lines of each message in `src` (its first line and the indented ones after it).
    fn blocks(src: &str) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for line in src.lines() {
            if line.starts_with(|c: char| c.is_ascii_lowercase())
                && let Some((k, _)) = line.split_once(" =")
            {
                out.push((k.trim().to_owned(), line.to_owned()));
            } else if (line.starts_with(' ') || line.starts_with('}'))
                && let Some(last) = out.last_mut()
            {
                last.1.push('\n');
                last.1.push_str(line);
            }
        }
        out
    }

    /// Variables that hold words, never a count (a fund's name, a country, a date): a
    /// word after them agrees with nothing. Every other variable is taken for a count.
    const TEXT_VARS: &[&str] = &[
        "dimension",
        "fund",
        "currency",
        "date",
        "values",
        "org",
        "name",
        "country",
        "purpose",
        "id",
        "from",
        "to",
        "court",
        "case_stage",
        "version",
        "value",
        "statuses",
        "stage",
        "service",
        "reason",
        "on",
        "number",
        "next",
        "language",
        "label",
        "kind",
        "giver",
        "form",
        "email",
        "departure",
        "category",
        "column",
        "character",
        "today",
        "message",
        "reference",
        "allowed",
    ];

    /// A count shown next to a noun must go through a plural selector: no `{ $n } days`
    /// outside a `[one]`/`*[other]` variant, no "(s)". Words that never agree with a
    /// count ("3 of 5", "3 sur 5") may follow a placeable, and any word may follow a
    /// variable that holds words ([`TEXT_VARS`]).
    #[test]
    fn counts_next_to_words_use_plural_selectors() {
        const NOT_COUNTED: &[&str] = &["of", "sur"];
        let mut bad = Vec::new();
        for (code, _, src) in LANGUAGES {
            for (key, block) in blocks(src) {
                for line in block.lines() {
                    let t = line.trim_start();
                    if t.starts_with('[') || t.starts_with("*[") {
                        continue;
                    }
                    if t.contains("(s)") {
                        bad.push(format!("{code} {key}: {t}"));
                    }
                    for (i, _) in t.match_indices("{ $") {
                        let Some(end) = t[i..].find('}') else {
                            continue;
                        };
                        let var = t[i + 3..i + end].trim();
                        if TEXT_VARS.contains(&var) {
                            continue;
                        }
                        let after = &t[i + end + 1..];
                        let word: String = after
                            .strip_prefix(' ')
                            .unwrap_or("")
                            .chars()
                            .take_while(|c| c.is_alphabetic())
                            .collect();
                        if !word.is_empty() && !NOT_COUNTED.contains(&word.as_str()) {
                            bad.push(format!("{code} {key}: {t}"));
                        }
                    }
                }
            }
        }
        assert!(
            bad.is_empty(),
            "counts without plural forms:\n{}",
            bad.join("\n")
        );
    }

    /// Every message with variables, formatted with each variable at 1 (and at 0 in French,
    /// where 0 is singular too), reads "1 day", never "1 days" or "1 jours".
    #[test]
    fn one_of_anything_is_singular() {
        let i = I18n::load("en").unwrap();
        // French nouns that end in -s in the singular.
        const SINGULAR_S: &[&str] = &["mois", "fois", "pays", "cas", "temps", "avis"];
        let mut bad = Vec::new();
        for (code, _, src) in LANGUAGES {
            for (key, block) in blocks(src) {
                let vars: Vec<String> = block
                    .split('$')
                    .skip(1)
                    .map(|v| {
                        v.chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                            .collect::<String>()
                    })
                    .filter(|v| !v.is_empty())
                    .collect();
                if vars.is_empty() {
                    continue;
                }
                let counts: &[i64] = if *code == "fr" { &[0, 1] } else { &[1] };
                for n in counts {
                    let mut args = FluentArgs::new();
                    for v in &vars {
                        if TEXT_VARS.contains(&v.as_str()) {
                            args.set(v.clone(), FluentValue::from("Zed"));
                        } else {
                            args.set(v.clone(), FluentValue::from(*n));
                        }
                    }
                    let text = i.t(code, &key, Some(&args));
                    let needle = format!("{n} ");
                    for (at, _) in text.match_indices(&needle) {
                        if at > 0 && text[..at].ends_with(|c: char| c.is_ascii_digit()) {
                            continue;
                        }
                        let word: String = text[at + needle.len()..]
                            .chars()
                            .take_while(|c| c.is_alphabetic())
                            .collect();
                        let plural = (word.ends_with('s') && !word.ends_with("ss"))
                            || (*code == "fr" && word.ends_with('x'));
                        if plural && !SINGULAR_S.contains(&word.as_str()) && word != "of" {
                            bad.push(format!("{code} {key} with {n}: {text}"));
                        }
                    }
                }
            }
        }
        assert!(
            bad.is_empty(),
            "plural forms for a count of one:\n{}",
            bad.join("\n")
        );
    }

    #[test]
    fn words_formatted_once_are_the_words_formatted_each_time() {
        let i = I18n::load("en").unwrap();
        let mut cached = 0;
        for (code, _, b) in &i.bundles {
            for key in i.keys(code) {
                let Some(p) = b.get_message(&key).and_then(|m| m.value()) else {
                    continue;
                };
                let mut errs = vec![];
                let fresh = b.format_pattern(p, None, &mut errs).into_owned();
                if errs.is_empty() {
                    cached += 1;
                    assert_eq!(i.t(code, &key, None), fresh, "{code} {key}");
                }
            }
        }
        assert!(cached > 500, "{cached}");
        // Messages with arguments are still formatted with them.
        assert_eq!(i.t1("en", "caseload-count", "n", 1), "One case");
        assert_eq!(i.t1("fr", "caseload-count", "n", 3), "3 dossiers");
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
