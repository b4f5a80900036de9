//! Reintegration assessments: the indicator set (configuration) and its scoring.

use super::*;

// ---------------------------------------------------------------------------------------
// 3. Assessments: the indicator set and its scoring
// ---------------------------------------------------------------------------------------

str_enum!(
    /// The three dimensions of reintegration the RSS measures.
    Dimension, "dimension" {
        Economic => "economic",
        Social => "social",
        Psychosocial => "psychosocial",
    }
);

/// One answer option of an indicator. `score` is on 0–1; an option without a score
/// ("don't know", "prefer not to answer", "not applicable") leaves the indicator
/// unanswered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerOption {
    pub id: String,
    #[serde(default)]
    pub score: Option<f64>,
    /// Language code → label.
    pub label: BTreeMap<String, String>,
}

fn default_true() -> bool {
    true
}

/// How an indicator is answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scale {
    /// A choice among options, each with its own score.
    Options { options: Vec<AnswerOption> },
    /// A number from `min` to `max`, mapped linearly onto 0–1 (1 at `max`, or at `min`
    /// when `higher_is_better` is false).
    Numeric {
        min: f64,
        max: f64,
        #[serde(default = "default_true")]
        higher_is_better: bool,
    },
}

/// One indicator of the set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Indicator {
    /// Stable id; answers are keyed by it.
    pub id: String,
    pub dimension: Dimension,
    /// Weight within its dimension (relative; re-normalised over the answered ones).
    pub weight: f64,
    /// Language code → question.
    pub question: BTreeMap<String, String>,
    /// The name of the scale in the configuration.
    pub scale_id: String,
    pub scale: Scale,
}

impl Indicator {
    /// The question in `lang`, else English, else any.
    pub fn question_in(&self, lang: &str) -> &str {
        self.question
            .get(lang)
            .or_else(|| self.question.get("en"))
            .or_else(|| self.question.values().next())
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// The weight of each dimension in the composite (relative).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DimensionWeights {
    pub economic: f64,
    pub social: f64,
    pub psychosocial: f64,
}

impl DimensionWeights {
    pub fn get(&self, d: Dimension) -> f64 {
        match d {
            Dimension::Economic => self.economic,
            Dimension::Social => self.social,
            Dimension::Psychosocial => self.psychosocial,
        }
    }
}

/// A validated indicator set: what an assessment asks and how it is scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IndicatorSet {
    pub id: String,
    pub version: String,
    /// Where the set comes from, in words (shown with the scores).
    pub source: String,
    pub dimension_weights: DimensionWeights,
    pub indicators: Vec<Indicator>,
}

impl IndicatorSet {
    pub fn indicator(&self, id: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.id == id)
    }
}

/// The thresholds of the automatic alerts (configuration).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertThresholds {
    /// A dimension score strictly below this raises a `low_score` alert.
    pub low_score: f64,
    pub low_score_severity: Severity,
    /// A fall of at least this since the previous assessment raises a `sharp_drop` alert.
    pub sharp_drop: f64,
    pub sharp_drop_severity: Severity,
    /// This many missed visits since the last visit that took place raise a
    /// `missed_visits_no_contact` alert.
    pub missed_visits: u32,
    pub missed_visits_severity: Severity,
}

/// Rules for visits (configuration).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitRules {
    /// Days after its due date before a planned visit counts as overdue.
    pub grace_days: u32,
}

/// Everything `config/reintegration/rss.toml` holds, validated.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ReintegrationConfig {
    pub indicators: IndicatorSet,
    pub alerts: AlertThresholds,
    pub visits: VisitRules,
    /// A change within ± this is "stable".
    pub trend_epsilon: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSet {
    id: String,
    version: String,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScoring {
    trend_epsilon: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    id: String,
    dimension: Dimension,
    weight: f64,
    scale: String,
    question: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    set: RawSet,
    dimension_weights: DimensionWeights,
    scoring: RawScoring,
    alerts: AlertThresholds,
    visits: VisitRules,
    scales: BTreeMap<String, Scale>,
    indicators: Vec<RawIndicator>,
}

/// The largest configuration accepted (a plugin may send one).
pub const MAX_CONFIG_BYTES: usize = 256 * 1024;
const MAX_INDICATORS: usize = 200;

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn unit(x: f64) -> bool {
    x.is_finite() && (0.0..=1.0).contains(&x)
}

fn check_scale(name: &str, scale: &Scale) -> Result<(), Invalid> {
    match scale {
        Scale::Options { options } => {
            if options.len() < 2 {
                return Err(Invalid::new(
                    "scales",
                    format!("scale '{name}' needs at least two options"),
                ));
            }
            let mut ids = BTreeSet::new();
            for o in options {
                if !valid_id(&o.id) || !ids.insert(o.id.as_str()) {
                    return Err(Invalid::new(
                        "scales",
                        format!(
                            "scale '{name}': option id '{}' is invalid or repeated",
                            o.id
                        ),
                    ));
                }
                if let Some(s) = o.score
                    && !unit(s)
                {
                    return Err(Invalid::new(
                        "scales",
                        format!("scale '{name}': option '{}' has a score outside 0–1", o.id),
                    ));
                }
                if !o.label.contains_key("en") {
                    return Err(Invalid::new(
                        "scales",
                        format!("scale '{name}': option '{}' has no English label", o.id),
                    ));
                }
            }
            if options.iter().all(|o| o.score.is_none()) {
                return Err(Invalid::new(
                    "scales",
                    format!("scale '{name}' has no scored option"),
                ));
            }
        }
        Scale::Numeric { min, max, .. } => {
            if !(min.is_finite() && max.is_finite() && min < max) {
                return Err(Invalid::new(
                    "scales",
                    format!("scale '{name}': min must be below max"),
                ));
            }
        }
    }
    Ok(())
}

fn check_weight(field: &'static str, what: &str, w: f64, allow_zero: bool) -> Result<(), Invalid> {
    let ok = w.is_finite() && w <= 1000.0 && (w > 0.0 || (allow_zero && w == 0.0));
    if ok {
        Ok(())
    } else {
        Err(Invalid::new(
            field,
            format!("{what}: the weight must be a number above 0 and at most 1000"),
        ))
    }
}

/// Read and check an indicator set with its thresholds from TOML (the shape of
/// `config/reintegration/rss.toml`). Every value is checked: unknown keys, repeated ids,
/// a scale that does not exist, a score outside 0–1, a weight not above 0, a dimension
/// without indicators, a threshold outside 0–1 are all refused, naming what is wrong.
pub fn parse_config(text: &str) -> Result<ReintegrationConfig, Invalid> {
    if text.len() > MAX_CONFIG_BYTES {
        return Err(Invalid::new(
            "config",
            format!("at most {MAX_CONFIG_BYTES} bytes"),
        ));
    }
    let raw: RawConfig = toml::from_str(text).map_err(|e| Invalid::new("config", e.to_string()))?;
    for (field, v) in [("set.id", &raw.set.id), ("set.version", &raw.set.version)] {
        if v.trim().is_empty() {
            return Err(Invalid::new("set", format!("{field} is required")));
        }
    }
    for (name, scale) in &raw.scales {
        check_scale(name, scale)?;
    }
    for d in Dimension::ALL {
        check_weight(
            "dimension_weights",
            d.as_str(),
            raw.dimension_weights.get(*d),
            true,
        )?;
    }
    if Dimension::ALL
        .iter()
        .all(|d| raw.dimension_weights.get(*d) == 0.0)
    {
        return Err(Invalid::new(
            "dimension_weights",
            "at least one dimension must count in the composite",
        ));
    }
    if raw.indicators.is_empty() || raw.indicators.len() > MAX_INDICATORS {
        return Err(Invalid::new(
            "indicators",
            format!("between 1 and {MAX_INDICATORS} indicators are needed"),
        ));
    }
    let mut ids = BTreeSet::new();
    let mut indicators = Vec::with_capacity(raw.indicators.len());
    for r in raw.indicators {
        if !valid_id(&r.id) || !ids.insert(r.id.clone()) {
            return Err(Invalid::new(
                "indicators",
                format!("indicator id '{}' is invalid or repeated", r.id),
            ));
        }
        check_weight("indicators", &r.id, r.weight, false)?;
        if r.question.get("en").is_none_or(|q| q.trim().is_empty()) {
            return Err(Invalid::new(
                "indicators",
                format!("indicator '{}' has no English question", r.id),
            ));
        }
        let scale = raw.scales.get(&r.scale).cloned().ok_or_else(|| {
            Invalid::new(
                "indicators",
                format!("indicator '{}' uses the unknown scale '{}'", r.id, r.scale),
            )
        })?;
        indicators.push(Indicator {
            id: r.id,
            dimension: r.dimension,
            weight: r.weight,
            question: r.question,
            scale_id: r.scale,
            scale,
        });
    }
    for d in Dimension::ALL {
        if !indicators.iter().any(|i| i.dimension == *d) {
            return Err(Invalid::new(
                "indicators",
                format!("the {d} dimension has no indicator"),
            ));
        }
    }
    let a = raw.alerts;
    if !unit(a.low_score) {
        return Err(Invalid::new("alerts", "low_score must be within 0–1"));
    }
    if !(unit(a.sharp_drop) && a.sharp_drop > 0.0) {
        return Err(Invalid::new(
            "alerts",
            "sharp_drop must be above 0, at most 1",
        ));
    }
    if !(1..=12).contains(&a.missed_visits) {
        return Err(Invalid::new("alerts", "missed_visits must be from 1 to 12"));
    }
    if raw.visits.grace_days > 90 {
        return Err(Invalid::new("visits", "grace_days must be at most 90"));
    }
    let eps = raw.scoring.trend_epsilon;
    if !(eps.is_finite() && (0.0..0.5).contains(&eps)) {
        return Err(Invalid::new(
            "scoring",
            "trend_epsilon must be at least 0 and below 0.5",
        ));
    }
    Ok(ReintegrationConfig {
        indicators: IndicatorSet {
            id: raw.set.id,
            version: raw.set.version,
            source: raw.set.source,
            dimension_weights: raw.dimension_weights,
            indicators,
        },
        alerts: a,
        visits: raw.visits,
        trend_epsilon: eps,
    })
}

/// The text of the default configuration shipped with Passerelle.
pub const DEFAULT_CONFIG_TOML: &str = include_str!("../../../config/reintegration/rss.toml");

/// The default configuration (`config/reintegration/rss.toml`), checked.
pub fn default_config() -> Result<ReintegrationConfig, Invalid> {
    parse_config(DEFAULT_CONFIG_TOML)
}

/// An answer to one indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Answer {
    /// The id of one of the indicator's options.
    Choice { option: String },
    /// A number on the indicator's numeric scale.
    Number { value: f64 },
    /// Asked, but no answer (don't know, refused): scored as unanswered.
    NoAnswer,
}

/// Indicator id → answer. Indicators left out are unanswered.
pub type Answers = BTreeMap<String, Answer>;

/// The score of one dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DimensionScore {
    pub dimension: Dimension,
    /// On 0–1; `None` when none of its indicators was answered.
    pub score: Option<f64>,
    pub answered: u32,
    pub total: u32,
    /// The share of the dimension's weight that was answered (0–1).
    pub weight_coverage: f64,
}

/// The scores of one assessment. Stored with the assessment (so that a later change of
/// the indicator set does not rewrite history) and compared with the next one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Scores {
    pub set_id: String,
    pub set_version: String,
    pub economic: DimensionScore,
    pub social: DimensionScore,
    pub psychosocial: DimensionScore,
    /// On 0–1, over the dimensions that have a score; `None` when none has.
    pub composite: Option<f64>,
    /// The share of the dimension weights behind the composite (0–1).
    pub composite_coverage: f64,
    pub answered: u32,
    pub total: u32,
}

impl Scores {
    pub fn get(&self, d: Dimension) -> &DimensionScore {
        match d {
            Dimension::Economic => &self.economic,
            Dimension::Social => &self.social,
            Dimension::Psychosocial => &self.psychosocial,
        }
    }
    /// Every indicator was answered.
    pub fn complete(&self) -> bool {
        self.answered == self.total
    }
}

/// The value of one answer on 0–1, `None` when it counts as unanswered; an answer outside
/// the indicator's scale is an error naming the indicator.
fn answer_value(ind: &Indicator, answer: &Answer) -> Result<Option<f64>, Invalid> {
    match (&ind.scale, answer) {
        (_, Answer::NoAnswer) => Ok(None),
        (Scale::Options { options }, Answer::Choice { option }) => options
            .iter()
            .find(|o| o.id == *option)
            .map(|o| o.score)
            .ok_or_else(|| {
                Invalid::new(
                    "answers",
                    format!(
                        "'{}' is not an answer to '{}'; expected one of: {}",
                        option.chars().take(40).collect::<String>(),
                        ind.id,
                        options
                            .iter()
                            .map(|o| o.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            }),
        (
            Scale::Numeric {
                min,
                max,
                higher_is_better,
            },
            Answer::Number { value },
        ) => {
            if !(value.is_finite() && (*min..=*max).contains(value)) {
                return Err(Invalid::new(
                    "answers",
                    format!("the answer to '{}' must be from {min} to {max}", ind.id),
                ));
            }
            let up = (value - min) / (max - min);
            Ok(Some(if *higher_is_better { up } else { 1.0 - up }))
        }
        (Scale::Options { .. }, Answer::Number { .. }) => Err(Invalid::new(
            "answers",
            format!(
                "'{}' is answered by choosing an option, not a number",
                ind.id
            ),
        )),
        (Scale::Numeric { .. }, Answer::Choice { .. }) => Err(Invalid::new(
            "answers",
            format!("'{}' is answered with a number, not an option", ind.id),
        )),
    }
}

/// Score an assessment: one score per dimension and a composite, all on 0–1, over the
/// answered indicators (see the module documentation). An answer to an unknown indicator,
/// or outside its indicator's scale, is an error naming the indicator.
pub fn score(set: &IndicatorSet, answers: &Answers) -> Result<Scores, Invalid> {
    if let Some(unknown) = answers.keys().find(|k| set.indicator(k.as_str()).is_none()) {
        return Err(Invalid::new(
            "answers",
            format!(
                "'{}' is not an indicator of the set '{}'",
                unknown.chars().take(64).collect::<String>(),
                set.id
            ),
        ));
    }
    // Per dimension: Σ weight·value, Σ answered weight, Σ weight, answered, total.
    let mut acc: BTreeMap<&'static str, (f64, f64, f64, u32, u32)> = BTreeMap::new();
    for ind in &set.indicators {
        let e = acc.entry(ind.dimension.as_str()).or_default();
        e.2 += ind.weight;
        e.4 += 1;
        if let Some(a) = answers.get(&ind.id)
            && let Some(v) = answer_value(ind, a)?
        {
            e.0 += ind.weight * v;
            e.1 += ind.weight;
            e.3 += 1;
        }
    }
    let dim = |d: Dimension| {
        let (sum, answered_w, total_w, answered, total) =
            acc.get(d.as_str()).copied().unwrap_or_default();
        DimensionScore {
            dimension: d,
            score: (answered_w > 0.0).then(|| (sum / answered_w).clamp(0.0, 1.0)),
            answered,
            total,
            weight_coverage: if total_w > 0.0 {
                answered_w / total_w
            } else {
                0.0
            },
        }
    };
    let (economic, social, psychosocial) = (
        dim(Dimension::Economic),
        dim(Dimension::Social),
        dim(Dimension::Psychosocial),
    );
    let w = &set.dimension_weights;
    let (mut sum, mut used, mut all) = (0.0, 0.0, 0.0);
    for ds in [&economic, &social, &psychosocial] {
        let dw = w.get(ds.dimension);
        all += dw;
        if let Some(s) = ds.score {
            sum += dw * s;
            used += dw;
        }
    }
    let answered = economic.answered + social.answered + psychosocial.answered;
    let total = economic.total + social.total + psychosocial.total;
    Ok(Scores {
        set_id: set.id.clone(),
        set_version: set.version.clone(),
        composite: (used > 0.0).then(|| (sum / used).clamp(0.0, 1.0)),
        composite_coverage: if all > 0.0 { used / all } else { 0.0 },
        economic,
        social,
        psychosocial,
        answered,
        total,
    })
}

str_enum!(
    /// Which way a score moved between two assessments.
    Direction, "direction" {
        Up => "up",
        Down => "down",
        Stable => "stable",
    }
);

/// The change of one score between two assessments.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Delta {
    pub previous: Option<f64>,
    pub current: Option<f64>,
    /// `current - previous`; `None` when either is missing.
    pub delta: Option<f64>,
    pub direction: Option<Direction>,
}

fn delta(previous: Option<f64>, current: Option<f64>, epsilon: f64) -> Delta {
    let d = previous.zip(current).map(|(p, c)| c - p);
    Delta {
        previous,
        current,
        delta: d,
        direction: d.map(|d| {
            if d.abs() <= epsilon + SLACK {
                Direction::Stable
            } else if d > 0.0 {
                Direction::Up
            } else {
                Direction::Down
            }
        }),
    }
}

/// The trend between the previous assessment and this one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Trend {
    pub economic: Delta,
    pub social: Delta,
    pub psychosocial: Delta,
    pub composite: Delta,
    /// Both were scored with the same indicator set and version; when not, the deltas are
    /// still given but compare different questionnaires.
    pub same_indicator_set: bool,
}

/// Per dimension and composite: the change, and whether it is up, down or stable (a change
/// within ± `epsilon`, inclusive, is stable).
pub fn trend(previous: &Scores, current: &Scores, epsilon: f64) -> Trend {
    let d = |dim: Dimension| delta(previous.get(dim).score, current.get(dim).score, epsilon);
    Trend {
        economic: d(Dimension::Economic),
        social: d(Dimension::Social),
        psychosocial: d(Dimension::Psychosocial),
        composite: delta(previous.composite, current.composite, epsilon),
        same_indicator_set: previous.set_id == current.set_id
            && previous.set_version == current.set_version,
    }
}
