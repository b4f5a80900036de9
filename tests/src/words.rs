//! What a person reads on a page, and the checks that it is words, not ids: the visible
//! text of an HTML page (tags stripped, entities decoded, the attributes people read kept),
//! and the findings of [`scan`] — a raw rule id (`[requirement:travel_document]`), a
//! snake_case identifier (`until_on`), an untranslated message key (`field-until_on`,
//! `msg-…`), or a count without its plural form ("1 days", "1 jours").
//!
//! The crawler that applies them to every page of the demo is `tests/tests/words.rs`.

use std::collections::BTreeSet;

/// What kind of id showed through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `[word:word]` or `[snake_case]`: a rule id as the core names it.
    RuleId,
    /// `\b[a-z]+_[a-z_]+\b`: a field name, a vocabulary value, a route parameter.
    SnakeCase,
    /// A Fluent message key shown instead of its message.
    MessageKey,
    /// "1 days", "1 jours": a count without its plural rule.
    Plural,
    /// `GET /cases/{reference}`: a route pattern or a route placeholder.
    Route,
    /// `2026-12-02T10:00:00.123456789Z`, or a long run of digits: a time for machines.
    RawTime,
    /// `717095977062dd592319d212c9f7b973`: an internal id (16 hex digits or more).
    RawId,
    /// On a French page, a line that is the English text of a message whose French text
    /// differs: a message shown in the fallback language.
    English,
    /// On a French page, a line that is an English vocabulary value of the core
    /// (`read`, `summary`, `jurisdiction`): a value shown instead of its label.
    Vocabulary,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::RuleId => "raw rule id",
            Kind::SnakeCase => "snake_case identifier",
            Kind::MessageKey => "untranslated message key",
            Kind::Plural => "count without plural",
            Kind::Route => "route pattern",
            Kind::RawTime => "raw timestamp",
            Kind::RawId => "internal id",
            Kind::English => "English message on a French page",
            Kind::Vocabulary => "English vocabulary value on a French page",
        }
    }
}

/// One offending piece of text, with a little of what surrounds it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub kind: Kind,
    /// The offending token itself.
    pub token: String,
    /// The text around it (about 60 characters each side).
    pub context: String,
}

/// Attributes whose values a person reads (or hears, with a screen reader).
const READ_ATTRIBUTES: &[&str] = &["placeholder", "title", "aria-label", "alt"];

/// The text a person reads on `html`: text between tags (including the `<title>`), and
/// the values of [`READ_ATTRIBUTES`], with entities decoded. Each piece of text is kept
/// apart by a line break so that words of neighbouring cells do not run together.
/// Contents of `<script>` and `<style>` are not text (the pages have neither), nor is an
/// element marked `translate="no"`: a document shown verbatim, such as the return request
/// in the partner's own JSON format (what leaves the organisation, shown exactly).
pub fn visible_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..lt]));
        let after = &rest[lt..];
        if after.starts_with("<!--") {
            rest = after.find("-->").map_or("", |e| &after[e + 3..]);
            continue;
        }
        let Some(gt) = tag_end(after) else {
            rest = "";
            break;
        };
        let tag = &after[1..gt];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if !tag.starts_with('/') {
            for attr in READ_ATTRIBUTES {
                if let Some(v) = attribute(tag, attr) {
                    out.push('\n');
                    out.push_str(&decode_entities(&v));
                    out.push('\n');
                }
            }
        }
        out.push('\n');
        rest = &after[gt + 1..];
        let verbatim = attribute(tag, "translate").is_some_and(|v| v == "no");
        if (name == "script" || name == "style" || verbatim) && !tag.starts_with('/') {
            let close = format!("</{name}");
            rest = rest
                .to_ascii_lowercase()
                .find(&close)
                .map_or("", |i| &rest[i..]);
        }
    }
    out.push_str(&decode_entities(rest));
    out
}

/// The index of the `>` that ends the tag starting at `s[0] == '<'` (quotes respected).
fn tag_end(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// The value of attribute `name` in the inside of a tag (`a href="…" title="…"`).
pub fn attribute(tag: &str, name: &str) -> Option<String> {
    let mut i = 0;
    let bytes = tag.as_bytes();
    while let Some(pos) = tag[i..].find(name) {
        let start = i + pos;
        let end = start + name.len();
        i = end;
        let before_ok = start > 0 && bytes[start - 1].is_ascii_whitespace();
        let rest = tag[end..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let rest = rest[1..].trim_start();
        let value = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or(""),
            _ => rest
                .split(|c: char| c.is_ascii_whitespace() || c == '>')
                .next()
                .unwrap_or(""),
        };
        return Some(value.to_owned());
    }
    None
}

/// Decode the entities the templates produce (handlebars' escaping, a few named ones, and
/// numeric references).
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let Some(semi) = after.find(';').filter(|i| *i <= 10) else {
            out.push('&');
            rest = &after[1..];
            continue;
        };
        let entity = &after[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `href` of every `<a>` of a page, entities decoded.
pub fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("<a ") {
        let after = &rest[i..];
        let Some(gt) = tag_end(after) else { break };
        if let Some(h) = attribute(&after[1..gt], "href") {
            out.push(decode_entities(&h));
        }
        rest = &after[gt..];
    }
    out
}

/// The message keys of a Fluent file (lines `key = …`).
pub fn fluent_keys(src: &str) -> Vec<String> {
    src.lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_lowercase()))
        .filter_map(|l| l.split_once(" =").map(|(k, _)| k.trim().to_owned()))
        .collect()
}

/// What [`scan`] looks for, built once from the message files.
pub struct Checker {
    /// Every key of every message file.
    keys: BTreeSet<String>,
    /// The first segments of keys (`field`, `msg`, `return`…) shared by several keys:
    /// a word with such a prefix and a dash is a key built in code that has no message.
    prefixes: BTreeSet<String>,
    /// Vocabulary values of the core (enum values) that are not French words.
    vocabulary: BTreeSet<String>,
    /// English texts of messages whose French text is different.
    english: BTreeSet<String>,
}

impl Checker {
    /// From the sources of the message files.
    pub fn new(files: &[&str]) -> Self {
        let keys: BTreeSet<String> = files.iter().flat_map(|f| fluent_keys(f)).collect();
        let mut counts = std::collections::BTreeMap::<String, usize>::new();
        for k in &keys {
            if let Some((p, _)) = k.split_once('-') {
                *counts.entry(p.to_owned()).or_default() += 1;
            }
        }
        // `msg-` keys exist only in the languages that translate the English text.
        let mut prefixes: BTreeSet<String> = counts
            .into_iter()
            .filter(|(_, n)| *n >= 3)
            .map(|(p, _)| p)
            .collect();
        prefixes.insert("msg".into());
        Self {
            keys,
            prefixes,
            vocabulary: BTreeSet::new(),
            english: BTreeSet::new(),
        }
    }

    /// Also flag, on French pages, lines that are the English text of a message (from
    /// `english`, the English file) whose French text (in `french`) is different.
    pub fn with_english(mut self, english: &str, french: &str) -> Self {
        let values = |src: &str| -> std::collections::BTreeMap<String, String> {
            src.lines()
                .filter(|l| l.starts_with(|c: char| c.is_ascii_lowercase()))
                .filter_map(|l| l.split_once(" = "))
                .filter(|(_, v)| !v.contains('{') && !v.trim().is_empty())
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                .collect()
        };
        let fr = values(french);
        self.english = values(english)
            .into_iter()
            .filter(|(k, v)| v.chars().count() >= 4 && fr.get(k).is_some_and(|f| f != v))
            .map(|(_, v)| v)
            .collect();
        self
    }

    /// Also flag, on French pages, lines that are one of `values` (the core's vocabulary)
    /// unless the value is a word of the French messages (`french`: the French file).
    pub fn with_vocabulary(
        mut self,
        values: impl IntoIterator<Item = String>,
        french: &str,
    ) -> Self {
        let words: BTreeSet<String> = french
            .lines()
            .filter_map(|l| l.split_once(" = ").map(|(_, v)| v))
            .flat_map(|v| {
                v.split(|c: char| !c.is_alphanumeric() && c != '_')
                    .map(str::to_lowercase)
                    .collect::<Vec<_>>()
            })
            .collect();
        self.vocabulary = values.into_iter().filter(|v| !words.contains(v)).collect();
        self
    }

    /// Is `word` (lowercase, with dashes) a message key, or shaped like one?
    fn is_key(&self, word: &str) -> bool {
        if !word.contains('-') || word.starts_with('-') || word.ends_with('-') {
            return false;
        }
        if self.keys.contains(word) {
            return true;
        }
        // Keys built in code (`stage-{value}`, `field-{name}`) have no digits; data such as
        // a form version ("consent-form-2026-1") does.
        word.split_once('-').is_some_and(|(p, rest)| {
            self.prefixes.contains(p)
                && rest
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-' || c == '_')
        })
    }

    /// Every offending piece of `text` (visible text of a page in `lang`).
    pub fn scan(&self, text: &str, lang: &str) -> Vec<Finding> {
        let mut out = Vec::new();
        if lang == "fr" {
            for line in text.lines().map(str::trim) {
                if self.english.contains(line) {
                    out.push(Finding {
                        kind: Kind::English,
                        token: line.to_owned(),
                        context: line.to_owned(),
                    });
                }
                if self.vocabulary.contains(line) {
                    out.push(Finding {
                        kind: Kind::Vocabulary,
                        token: line.to_owned(),
                        context: line.to_owned(),
                    });
                }
            }
        }
        for (start, end) in routes(text) {
            out.push(Finding {
                kind: Kind::Route,
                token: text[start..end].to_owned(),
                context: text[start..end].to_owned(),
            });
        }
        for (start, end) in raw_times(text) {
            out.push(Finding {
                kind: Kind::RawTime,
                token: text[start..end].to_owned(),
                context: text[start..end].to_owned(),
            });
        }
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let context = |start: usize, end: usize| -> String {
            let from = floor_boundary(text, start.saturating_sub(60));
            let to = ceil_boundary(text, (end + 60).min(text.len()));
            text[from..to]
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        // Words: runs of letters, digits, '_' and '-'; a '[' also starts a rule id.
        let mut i = 0;
        while i < chars.len() {
            let (start, c) = chars[i];
            if c == '[' {
                // "[rule]" or "[rule:detail]"
                if let Some(close) = chars[i + 1..].iter().position(|(_, c)| *c == ']') {
                    let inner_end = chars[i + 1 + close].0;
                    let inner = &text[start + 1..inner_end];
                    if is_rule_id(inner) {
                        out.push(Finding {
                            kind: Kind::RuleId,
                            token: format!("[{inner}]"),
                            context: context(start, inner_end + 1),
                        });
                    }
                }
                i += 1;
                continue;
            }
            if !is_word_char(c) {
                i += 1;
                continue;
            }
            let mut j = i;
            while j < chars.len() && is_word_char(chars[j].1) {
                j += 1;
            }
            let end = chars.get(j).map_or(text.len(), |(b, _)| *b);
            let word = text[start..end].trim_matches(|c| c == '-' || c == '_');
            if is_hex_id(word) {
                out.push(Finding {
                    kind: Kind::RawId,
                    token: word.to_owned(),
                    context: context(start, end),
                });
            }
            if is_snake_case(word) {
                out.push(Finding {
                    kind: Kind::SnakeCase,
                    token: word.to_owned(),
                    context: context(start, end),
                });
            } else if self.is_key(word) {
                out.push(Finding {
                    kind: Kind::MessageKey,
                    token: word.to_owned(),
                    context: context(start, end),
                });
            }
            // "1 days", "1 jours"
            if word == "1" {
                let after = &text[end..];
                let next: String = after
                    .strip_prefix([' ', '\u{a0}'])
                    .unwrap_or("")
                    .chars()
                    .take_while(|c| c.is_alphabetic())
                    .collect();
                if matches!(next.as_str(), "days" | "jours") {
                    out.push(Finding {
                        kind: Kind::Plural,
                        token: format!("1 {next}"),
                        context: context(start, end + 1 + next.len()),
                    });
                }
            }
            i = j;
        }
        out
    }
}

/// `GET /…` (an HTTP method then a path) and `{placeholder}`: byte ranges in `text`.
fn routes(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for method in ["GET /", "POST /", "PUT /", "PATCH /", "DELETE /"] {
        let mut from = 0;
        while let Some(i) = text[from..].find(method) {
            let start = from + i;
            let end = text[start + method.len()..]
                .find(char::is_whitespace)
                .map_or(text.len(), |e| start + method.len() + e);
            out.push((start, end));
            from = end;
        }
    }
    let mut from = 0;
    while let Some(i) = text[from..].find('{') {
        let start = from + i;
        let Some(len) = text[start + 1..].find('}') else {
            break;
        };
        let inner = &text[start + 1..start + 1 + len];
        if !inner.is_empty() && inner.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            out.push((start, start + len + 2));
        }
        from = start + 1;
    }
    out
}

/// `YYYY-MM-DDTHH:MM` (RFC 3339 as machines write it) and runs of 13 digits or more
/// (seconds or nanoseconds since 1970): byte ranges in `text`.
fn raw_times(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() || (i > 0 && b[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let iso = j - i == 4
            && b.len() >= i + 16
            && b[i + 4] == b'-'
            && b[i + 7] == b'-'
            && b[i + 10] == b'T'
            && b[i + 11].is_ascii_digit()
            && b[i + 13] == b':';
        if iso {
            let end = text[i..]
                .find(|c: char| c.is_whitespace() || c == '<' || c == ')')
                .map_or(text.len(), |e| i + e);
            out.push((i, end));
            i = end;
        } else {
            if j - i >= 13 {
                out.push((i, j));
            }
            i = j;
        }
    }
    out
}

/// The vocabulary of the code in `dirs` (recursively, `.rs` files): every single-token
/// lowercase string literal that an `=>` arm gives (`Read => "read"` in `str_enum!`,
/// `World::Partner => "partner"` in an `as_str`).
pub fn vocabulary(dirs: &[std::path::PathBuf]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack: Vec<std::path::PathBuf> = dirs.to_vec();
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs")
                && let Ok(src) = std::fs::read_to_string(&p)
            {
                for part in src.split("=> \"").skip(1) {
                    if let Some((lit, _)) = part.split_once('"')
                        && !lit.is_empty()
                        && lit.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    {
                        out.insert(lit.to_owned());
                    }
                }
            }
        }
    }
    out
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// Sixteen hex digits or more, with both digits and letters: an id, not a word or a number.
pub fn is_hex_id(word: &str) -> bool {
    word.len() >= 16
        && word
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        && word.chars().any(|c| c.is_ascii_digit())
        && word.chars().any(|c| c.is_ascii_alphabetic())
}

/// `\b[a-z]+_[a-z_]+\b`: lowercase ASCII letters with an underscore after the first run.
pub fn is_snake_case(word: &str) -> bool {
    let Some((head, tail)) = word.split_once('_') else {
        return false;
    };
    !head.is_empty()
        && head.chars().all(|c| c.is_ascii_lowercase())
        && !tail.is_empty()
        && tail.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        && tail.chars().any(|c| c.is_ascii_lowercase())
}

/// `rule` or `rule:detail`, as the core names its rules (`requirement:travel_document`,
/// `trial_conflict`): lowercase words, one with an underscore or a colon.
pub fn is_rule_id(inner: &str) -> bool {
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    };
    match inner.split_once(':') {
        Some((a, b)) => ok(a) && ok(b),
        None => ok(inner) && inner.contains('_'),
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn checker() -> Checker {
        Checker::new(&[
            "field-until_on = Until\nfield-name = Name\nfield-reference = Reference\nstage-referred = Referred\nerror-home = Home\n",
        ])
    }

    fn kinds(text: &str) -> Vec<(Kind, String)> {
        checker()
            .scan(text, "en")
            .into_iter()
            .map(|f| (f.kind, f.token))
            .collect()
    }

    #[test]
    fn visible_text_strips_tags_keeps_read_attributes_and_decodes() {
        let html = r#"<html><head><title>Cases · Passerelle</title><style>a_b{}</style></head>
<body><!-- until_on --><p class="hint_x">Tom &amp; Jerry&#x27;s <b>day</b></p>
<input name="until_on" type="hidden" value="x_y"><input placeholder="Exact name&#x2026;">
<a href="/cases/X?scope=mine&amp;page=2" title="Go">next</a>
<pre translate="no">{"case_ref":"X"}</pre><p>after</p></body></html>"#;
        let t = visible_text(html);
        assert!(t.contains("Cases · Passerelle"), "{t}");
        assert!(t.contains("Tom & Jerry's"), "{t}");
        assert!(t.contains("Exact name…"), "{t}");
        assert!(t.contains("Go"), "{t}");
        assert!(t.contains("after"), "{t}");
        for hidden in ["until_on", "hint_x", "x_y", "a_b", "scope", "case_ref"] {
            assert!(!t.contains(hidden), "{hidden} in {t}");
        }
        assert_eq!(links(html), vec!["/cases/X?scope=mine&page=2".to_owned()]);
    }

    #[test]
    fn finds_rule_ids_snake_case_keys_and_missing_plurals() {
        assert_eq!(
            kinds("Refusé : [requirement:travel_document] missing"),
            vec![
                (Kind::RuleId, "[requirement:travel_document]".into()),
                (Kind::SnakeCase, "travel_document".into()),
            ]
        );
        assert_eq!(
            kinds("[trial_conflict] 2 hearings"),
            vec![
                (Kind::RuleId, "[trial_conflict]".into()),
                (Kind::SnakeCase, "trial_conflict".into()),
            ]
        );
        assert_eq!(
            kinds("until_on — is required"),
            vec![(Kind::SnakeCase, "until_on".into())]
        );
        assert_eq!(
            kinds("Summary: stage-referred and msg-is-required and field-birth-x"),
            vec![
                (Kind::MessageKey, "stage-referred".into()),
                (Kind::MessageKey, "msg-is-required".into()),
                (Kind::MessageKey, "field-birth-x".into()),
            ]
        );
        assert_eq!(kinds("1 days left"), vec![(Kind::Plural, "1 days".into())]);
        assert_eq!(
            kinds("Consent #717095977062dd592319d212c9f7b973 — English"),
            vec![(Kind::RawId, "717095977062dd592319d212c9f7b973".into())]
        );
        assert_eq!(
            kinds("encore 1 jours"),
            vec![(Kind::Plural, "1 jours".into())]
        );
    }

    #[test]
    fn finds_routes_raw_times_and_english_vocabulary_in_french() {
        assert_eq!(
            kinds("summary read GET /cases/{reference}/care"),
            vec![
                (Kind::Route, "GET /cases/{reference}/care".into()),
                (Kind::Route, "{reference}".into()),
            ]
        );
        assert_eq!(
            kinds("chargé (2026-12-02T10:00:00.123456789+00:00) 1764669600123456789"),
            vec![
                (Kind::RawTime, "2026-12-02T10:00:00.123456789+00:00".into()),
                (Kind::RawTime, "1764669600123456789".into()),
            ]
        );
        let c = checker().with_vocabulary(
            [
                "read".to_owned(),
                "identification".to_owned(),
                "jurisdiction".to_owned(),
            ],
            "section-identification = identification\naudit-x = lu\n",
        );
        let found: Vec<_> = c
            .scan(
                "Date\nread\n identification \njurisdiction\nalready read",
                "fr",
            )
            .into_iter()
            .map(|f| (f.kind, f.token))
            .collect();
        assert_eq!(
            found,
            vec![
                (Kind::Vocabulary, "read".into()),
                (Kind::Vocabulary, "jurisdiction".into()),
            ]
        );
        assert!(c.scan("read\njurisdiction", "en").is_empty());
        let c = checker().with_english(
            "nav-caseload = Cases\nsave = Save\nbrand = Passerelle\n",
            "nav-caseload = Dossiers\nsave = Enregistrer\nbrand = Passerelle\n",
        );
        let found: Vec<_> = c
            .scan("Dossiers\nCases\nPasserelle\nSave the date", "fr")
            .into_iter()
            .map(|f| (f.kind, f.token))
            .collect();
        assert_eq!(found, vec![(Kind::English, "Cases".into())]);
    }

    #[test]
    fn words_and_references_are_not_findings() {
        for ok in [
            "1 day left, 2 days left, 21 days, 11 days, encore 1 jour",
            "PSG-2026-0042 · consent-form-2026-1 · e-mail · re-trafficking · Saint-Étienne",
            "Follow-up; non-refoulement; [1]; [note]; 2026-05-01 10:00",
            "l'évaluation; aujourd'hui; Passerelle",
        ] {
            assert_eq!(kinds(ok), vec![], "{ok}");
        }
    }
}
