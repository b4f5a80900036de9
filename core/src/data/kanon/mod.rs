//! The k-anonymised statistics export (issue #14, point 2): one row per case, only
//! generalised quasi-identifiers, generalised and then suppressed until every combination
//! of values occurs at least `k` times. Pure: the export service reads the cases of the
//! organisations that opted in and calls [`anonymise`]; nothing here touches a database.
//!
//! # What the Counter-Trafficking Data Collaborative does (and what we could not find)
//!
//! - CTDC, *Global Dataset* (<https://www.ctdatacollaborative.org/global-dataset>): the
//!   downloadable dataset is k-anonymised with k = 11 and had about 47 000 observations
//!   when the complete dataset had about 80 000, i.e. roughly 40 % of the records did not
//!   survive; CTDC's own visualisations use the complete data.
//! - CTDC, *Data Codebook*, version 6, November 2017
//!   (<https://scribd.com/document/531370211/CTDC-codebook-v6-0>): names and identifying
//!   details are removed before the contributors' data are combined, then the combined data
//!   are k-anonymised (k = 11) by redacting the cases whose combination of values is shared
//!   by too few cases. The codebook's wording ("fewer than k-1 members", "no query returns
//!   fewer than 10 results") is ambiguous by one; we require **at least k** rows per
//!   combination, the stricter reading. Exploitation types and means of control are
//!   published as one 0/1 column per type.
//! - CTDC, *FAQs* (<http://ctdatacollaborative.org/fr/page/faqs>): the k-anonymised global
//!   victim dataset is downloadable, the visualisations run on aggregates of the complete
//!   data, and since September 2021 a global *synthetic* dataset is published as well.
//! - D. Edge, W. Yang, K. Lytvynets, H. Cook, C. Galez-Davis, H. Darnton, C. White,
//!   *Design of a Privacy-Preserving Data Platform for Collaboration Against Human
//!   Trafficking*, Microsoft Research and IOM, 2020 (arXiv:2005.05688,
//!   <https://www.scholarfeed.org/paper/2005.05688v2>): CTDC's move from k-anonymised
//!   microdata to "k-synthetic" data plus precomputed aggregates, because redaction lost
//!   too many records. Synthetic data is out of scope here.
//! - The age bands of the k-anonymised CTDC data are nine years wide at the young end
//!   ("9–17", "30–38"), as reported by a secondary analysis of it (PLOS ONE, 2023,
//!   <https://journals.plos.org/plosone/article?id=10.1371/journal.pone.0284762>).
//!
//! Not found in any of these: CTDC's generalisation hierarchies, the order in which it
//! generalises, whether it generalises at all before redacting, and any bound on how much
//! it redacts. The choices below are ours.
//!
//! # The method
//!
//! 1. Every quasi-identifier has a *hierarchy* of levels, each level a partition that
//!    merges whole classes of the level below (so a step never splits a group), the last
//!    level being `suppressed` (the attribute is dropped from the export):
//!    - age: five-year bands (0-4 … 15-17, 18-24, 25-29 … 60+), broad bands
//!      (0-9, 10-17, 18-29, 30-44, 45+), child or adult (0-17, 18+), suppressed. The
//!      boundary at 18 exists at every level: a band never mixes children and adults. An
//!      estimated age ([`Age::Range`]) takes the finest band that contains the whole range,
//!      or `unknown` if it straddles 18;
//!    - year of registration: the year, two years (2022-2023), the decade (2020-2029),
//!      suppressed;
//!    - citizenship and country of exploitation: the ISO 3166 alpha-2 code, the UN M49
//!      sub-region (the intermediate region for Sub-Saharan Africa and Latin America, e.g.
//!      "Western Africa", "Caribbean"), the M49 region (Africa, Americas, Asia, Europe,
//!      Oceania), suppressed; a code outside the table is `other`;
//!    - exploitation types (a set): the set, the set of groups (sexual exploitation; labour
//!      exploitation = forced labour, child labour, servitude; other exploitation, the
//!      Eurostat-style "other forms"), suppressed;
//!    - means of control (a set): the set, the set of groups (force or threats, economic,
//!      restriction of freedom, psychological or deception, other), suppressed;
//!    - gender: the gender, suppressed.
//!
//!    A set enters the combination as a whole (two cases match only if their sets are
//!    equal), which is what one 0/1 column per type amounts to. An empty set, a missing
//!    country or age, and the gender `unknown` are the value `unknown`, never dropped.
//! 2. A walk down the lattice of levels, in a fixed, documented order. It starts with
//!    every attribute suppressed (one group of all the rows: k-anonymous as soon as there
//!    are k rows), then, round after round, makes each attribute one level finer, in the
//!    order age, gender, year, exploitation, citizenship, country of exploitation, means
//!    of control, as long as the rows left in groups smaller than `k` stay within the
//!    suppression budget ([`Config::max_suppressed_percent`]). An attribute refused once
//!    is not tried again: making anything finer never shrinks a small group, so it would
//!    be refused again. The child/adult distinction comes first, so it is published
//!    whenever it can be at all; when the budget runs out, the attributes earlier in the
//!    order keep their detail. The result is locally minimal: no attribute could be one
//!    level finer within the budget. (A greedy walk up, taking the step that most reduces
//!    the rows in small groups, was tried first: with all rows unique at the finest
//!    levels every step ties, and on a skewed test population of 20 000 cases it dropped
//!    citizenship and removed more rows.) Every evaluation counts rows per combination,
//!    packed in a 128-bit key, in a hash map: O(rows), at most 24 evaluations.
//! 3. Record suppression: the rows still in groups smaller than `k` are removed (as CTDC
//!    redacts them), counted in the [`SuppressionReport`] but never described (their
//!    values are exactly what must not be published). With fewer than `k` cases in all,
//!    nothing is exported.
//!
//! The result is deterministic and does not depend on the order of the input: rows come
//! out sorted by their generalised values, so a row's position says nothing about when the
//! case was registered.
//!
//! # For the export service
//!
//! - One [`Record`] per case of an organisation that opted in; the age is the age at
//!   registration ([`crate::domain::age_on`]); a minor of unknown age is
//!   `Age::Range { from: 0, to: 17 }`, an adult of unknown age `Age::Range { from: 18, to:
//!   u8::MAX }`. Nothing else of the case goes in.
//! - Publish [`Export::rows`] as they are (do not re-sort by case or date), with the
//!   [`SuppressionReport`]; the exploitation and control sets can become one 0/1 column
//!   per label, CTDC-style.
//! - k-anonymity protects one export. Two exports whose populations differ by a few cases
//!   (e.g. the same query a week apart) can be subtracted from each other: export whole
//!   closed years or fixed periods, and audit every export.
//! - [`small_cell`] does no complementary suppression: a dashboard must not show a total
//!   next to all but one of its hidden parts.

use crate::domain::{Invalid, str_enum};
use crate::identification::{Control, Exploitation};
use serde::{Deserialize, Serialize};
use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

/// The smallest `k` the export accepts.
pub const MIN_K: usize = 5;
/// CTDC's `k`, the default.
pub const DEFAULT_K: usize = 11;
/// The default bound on record suppression, in percent of the input rows.
pub const DEFAULT_MAX_SUPPRESSED_PERCENT: u8 = 5;
/// The value of an attribute dropped from the export.
pub const SUPPRESSED: &str = "suppressed";
/// The value of an attribute that was not recorded.
pub const UNKNOWN: &str = "unknown";
/// A country outside the region table.
pub const OTHER: &str = "other";
/// The registration years a record may have.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2999;

str_enum!(
    /// Gender as recorded.
    Gender, "gender" {
        Female => "female",
        Male => "male",
        Other => "other",
        Unknown => "unknown",
    }
);

str_enum!(
    /// A quasi-identifier of the export.
    Attribute, "attribute" {
        Age => "age",
        RegistrationYear => "registration_year",
        Citizenship => "citizenship",
        CountryOfExploitation => "country_of_exploitation",
        Exploitation => "exploitation",
        MeansOfControl => "means_of_control",
        Gender => "gender",
    }
);

/// Number of attributes, and the most levels an attribute has.
const N: usize = 7;
const L: usize = 4;
const AGE: usize = 0;

impl Attribute {
    fn index(self) -> usize {
        match self {
            Attribute::Age => AGE,
            Attribute::RegistrationYear => 1,
            Attribute::Citizenship => 2,
            Attribute::CountryOfExploitation => 3,
            Attribute::Exploitation => 4,
            Attribute::MeansOfControl => 5,
            Attribute::Gender => 6,
        }
    }

    /// The names of the levels of the hierarchy, finest first; the last is `suppressed`.
    pub fn level_names(self) -> &'static [&'static str] {
        match self {
            Attribute::Age => &[
                "five_year_bands",
                "broad_bands",
                "child_or_adult",
                SUPPRESSED,
            ],
            Attribute::RegistrationYear => &["year", "two_years", "decade", SUPPRESSED],
            Attribute::Citizenship | Attribute::CountryOfExploitation => {
                &["country", "sub_region", "region", SUPPRESSED]
            }
            Attribute::Exploitation | Attribute::MeansOfControl => &["types", "groups", SUPPRESSED],
            Attribute::Gender => &["gender", SUPPRESSED],
        }
    }

    /// The top level (the attribute suppressed).
    pub fn top(self) -> u8 {
        // At most L levels, so this fits.
        (self.level_names().len() - 1) as u8
    }
}

/// The order in which attributes are made finer, most valuable first: the child/adult
/// distinction, then what state reporting is disaggregated by.
const PRIORITY: [Attribute; N] = [
    Attribute::Age,
    Attribute::Gender,
    Attribute::RegistrationYear,
    Attribute::Exploitation,
    Attribute::Citizenship,
    Attribute::CountryOfExploitation,
    Attribute::MeansOfControl,
];

/// A level per attribute: 0 is the finest, [`Attribute::top`] is suppressed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema,
)]
pub struct Levels {
    pub age: u8,
    pub registration_year: u8,
    pub citizenship: u8,
    pub country_of_exploitation: u8,
    pub exploitation: u8,
    pub means_of_control: u8,
    pub gender: u8,
}

impl Levels {
    /// Every attribute at its finest level.
    pub const FINEST: Levels = Levels {
        age: 0,
        registration_year: 0,
        citizenship: 0,
        country_of_exploitation: 0,
        exploitation: 0,
        means_of_control: 0,
        gender: 0,
    };

    /// Every attribute suppressed.
    pub fn top() -> Levels {
        let mut a = [0; N];
        for attr in Attribute::ALL {
            a[attr.index()] = attr.top();
        }
        Levels::from_array(a)
    }

    fn to_array(self) -> [u8; N] {
        [
            self.age,
            self.registration_year,
            self.citizenship,
            self.country_of_exploitation,
            self.exploitation,
            self.means_of_control,
            self.gender,
        ]
    }

    fn from_array(a: [u8; N]) -> Levels {
        Levels {
            age: a[0],
            registration_year: a[1],
            citizenship: a[2],
            country_of_exploitation: a[3],
            exploitation: a[4],
            means_of_control: a[5],
            gender: a[6],
        }
    }

    pub fn get(self, attribute: Attribute) -> u8 {
        self.to_array()[attribute.index()]
    }

    /// The same levels with one attribute at `level`.
    pub fn with(self, attribute: Attribute, level: u8) -> Levels {
        let mut a = self.to_array();
        a[attribute.index()] = level;
        Levels::from_array(a)
    }

    /// The name of the level of `attribute` (None if the level does not exist).
    pub fn name(self, attribute: Attribute) -> Option<&'static str> {
        attribute
            .level_names()
            .get(usize::from(self.get(attribute)))
            .copied()
    }
}

/// How far the export may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Config {
    /// Record suppression may remove at most this share of the input rows (percent,
    /// rounded down to whole rows); past it the attributes are generalised further.
    /// 0 means: generalise until nothing needs to be removed.
    pub max_suppressed_percent: u8,
    /// The least generalisation of each attribute (e.g. never publish the exact year):
    /// the search starts there and never goes finer.
    pub min_levels: Levels,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_suppressed_percent: DEFAULT_MAX_SUPPRESSED_PERCENT,
            min_levels: Levels::FINEST,
        }
    }
}

/// An ISO 3166-1 alpha-2 code (two letters, stored in capitals).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Country([u8; 2]);

impl Country {
    pub fn parse(s: &str) -> Result<Country, Invalid> {
        match s.trim().as_bytes() {
            &[a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Ok(Country([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            _ => Err(Invalid::new(
                "country",
                "must be an ISO 3166 alpha-2 code (two letters)",
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        // Two ASCII capitals by construction.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    /// 0..676.
    fn index(self) -> usize {
        usize::from(self.0[0] - b'A') * 26 + usize::from(self.0[1] - b'A')
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Age at registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Age {
    #[default]
    Unknown,
    /// Exact years.
    Years(u8),
    /// An estimate or a band recorded at the source, both ends included (e.g. a minor of
    /// unknown age: 0..=17).
    Range { from: u8, to: u8 },
}

impl From<Option<u8>> for Age {
    fn from(years: Option<u8>) -> Age {
        years.map_or(Age::Unknown, Age::Years)
    }
}

impl Age {
    /// The finest band the export can publish for this age (its first level: five years,
    /// 15-17 and 18-24 around majority), both ends included; `None` when unknown. What an
    /// erased case keeps instead of a birth date (`crate::erasure`): nothing finer than
    /// what the export itself would show at its finest level.
    pub fn finest_band(self) -> Option<(u8, u8)> {
        let band = |y: u8| {
            hierarchy::AGE_BANDS[0]
                .iter()
                .find(|&&(from, to, _)| from <= y && y <= to)
                .map_or((y, y), |&(from, to, _)| (from, to))
        };
        match self {
            Age::Unknown => None,
            Age::Years(y) => Some(band(y)),
            Age::Range { from, to } => {
                let (a, _) = band(from);
                let (_, b) = band(to);
                Some((a, b))
            }
        }
    }
}

/// One case, reduced to its quasi-identifiers. No free text, no dates, no references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub age: Age,
    /// Within [`YEARS`].
    pub registration_year: i32,
    pub citizenship: Option<Country>,
    pub country_of_exploitation: Option<Country>,
    pub exploitation: BTreeSet<Exploitation>,
    pub means_of_control: BTreeSet<Control>,
    pub gender: Gender,
}

/// One exported row: every value already in its generalised text form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
pub struct Row {
    pub age: &'static str,
    pub registration_year: String,
    pub citizenship: String,
    pub country_of_exploitation: String,
    /// The types or groups present (vocabulary order), or `["unknown"]`, or `["suppressed"]`.
    pub exploitation: Vec<&'static str>,
    pub means_of_control: Vec<&'static str>,
    pub gender: &'static str,
}

/// Why rows were removed; the counts add up to [`SuppressionReport::suppressed_rows`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, utoipa::ToSchema)]
pub struct SuppressedBy {
    /// Rows whose combination still occurred fewer than `k` times after generalisation.
    pub small_group: usize,
    /// Every row, when the population itself has fewer than `k` cases.
    pub population_below_k: usize,
}

/// The level chosen for one attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AttributeReport {
    pub attribute: Attribute,
    pub level: u8,
    pub level_name: &'static str,
    /// Cells of this attribute that read `suppressed` in the export.
    pub suppressed_cells: usize,
}

/// What the export removed. It never says which values the removed rows had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SuppressionReport {
    pub k: usize,
    pub input_rows: usize,
    pub output_rows: usize,
    pub suppressed_rows: usize,
    pub suppressed_by: SuppressedBy,
    /// The budget of [`Config::max_suppressed_percent`], in rows.
    pub max_suppressed_rows: usize,
    /// Distinct combinations in the export, and the size of the smallest (≥ k).
    pub groups: usize,
    pub smallest_group: Option<usize>,
    pub attributes: Vec<AttributeReport>,
}

impl SuppressionReport {
    /// input = output + suppressed, and the reasons sum to the suppressed rows.
    pub fn adds_up(&self) -> bool {
        self.input_rows == self.output_rows + self.suppressed_rows
            && self.suppressed_rows
                == self.suppressed_by.small_group + self.suppressed_by.population_below_k
    }
}

/// The k-anonymised export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Export {
    pub levels: Levels,
    /// Sorted by value, so that the order tells nothing.
    pub rows: Vec<Row>,
    pub report: SuppressionReport,
}

/// Anonymise `records` so that every combination of quasi-identifiers in the export
/// occurs at least `k` times (`k` ≥ [`MIN_K`]).
pub fn anonymise(records: &[Record], k: usize, config: &Config) -> Result<Export, Invalid> {
    if k < MIN_K {
        return Err(Invalid::new(
            "k",
            format!("must be at least {MIN_K} (got {k})"),
        ));
    }
    if config.max_suppressed_percent > 100 {
        return Err(Invalid::new(
            "max_suppressed_percent",
            "must be between 0 and 100",
        ));
    }
    let min = config.min_levels.to_array();
    for attr in Attribute::ALL {
        if min[attr.index()] > attr.top() {
            return Err(Invalid::new(
                "min_levels",
                format!("{attr} has levels 0 to {}", attr.top()),
            ));
        }
    }
    let table = country_table();
    let codes = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            check(r).map_err(|e| Invalid::new(e.field, format!("row {i}: {}", e.message)))?;
            Ok(codes_of(r, table))
        })
        .collect::<Result<Vec<Codes>, Invalid>>()?;

    let n = records.len();
    let budget = n * usize::from(config.max_suppressed_percent) / 100;
    if n < k {
        let levels = Levels::top();
        return Ok(Export {
            levels,
            rows: Vec::new(),
            report: report(k, n, 0, budget, levels, &[], n),
        });
    }

    let mut map = Map::default();
    let singles: Vec<Group> = codes.iter().map(|c| Group { codes: *c, rows: 1 }).collect();
    let base = regroup(&singles, &min, &mut map);
    drop(singles);
    let lv = search(&base, min, k, budget, &mut map);

    // After regroup, `map` takes a combination to its group.
    let groups = regroup(&base, &lv, &mut map);
    let size = |key: &u128| {
        map.get(key)
            .and_then(|&i| groups.get(i))
            .map_or(0, |g| g.rows)
    };
    let mut kept: Vec<(u128, usize)> = codes
        .iter()
        .enumerate()
        .map(|(i, c)| (key(c, &lv), i))
        .filter(|(key, _)| size(key) >= k)
        .collect();
    kept.sort_unstable_by_key(|&(key, _)| key);
    let rows: Vec<Row> = kept.iter().map(|&(_, i)| row_of(&codes[i], &lv)).collect();
    let sizes: Vec<usize> = groups.iter().map(|g| g.rows).filter(|&r| r >= k).collect();
    let levels = Levels::from_array(lv);
    Ok(Export {
        levels,
        report: report(k, n, n - rows.len(), budget, levels, &sizes, 0),
        rows,
    })
}

fn report(
    k: usize,
    n: usize,
    small_group: usize,
    budget: usize,
    levels: Levels,
    sizes: &[usize],
    population_below_k: usize,
) -> SuppressionReport {
    let output = n - small_group - population_below_k;
    SuppressionReport {
        k,
        input_rows: n,
        output_rows: output,
        suppressed_rows: small_group + population_below_k,
        suppressed_by: SuppressedBy {
            small_group,
            population_below_k,
        },
        max_suppressed_rows: budget,
        groups: sizes.len(),
        smallest_group: sizes.iter().copied().min(),
        attributes: Attribute::ALL
            .iter()
            .map(|&attribute| {
                let level = levels.get(attribute);
                AttributeReport {
                    attribute,
                    level,
                    level_name: levels.name(attribute).unwrap_or(SUPPRESSED),
                    suppressed_cells: if level >= attribute.top() { output } else { 0 },
                }
            })
            .collect(),
    }
}

fn check(r: &Record) -> Result<(), Invalid> {
    if !YEARS.contains(&r.registration_year) {
        return Err(Invalid::new(
            "registration_year",
            format!("must be between {} and {}", YEARS.start(), YEARS.end()),
        ));
    }
    if let Age::Range { from, to } = r.age
        && from > to
    {
        return Err(Invalid::new("age", "a range must not end before it starts"));
    }
    Ok(())
}

// ---- Dashboards -----------------------------------------------------------------------

/// A count on a dashboard that spans organisations: small counts are not shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CellValue {
    Count(u64),
    /// Fewer than this many (shown "< 11").
    Below(u64),
}

impl fmt::Display for CellValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CellValue::Count(n) => write!(f, "{n}"),
            CellValue::Below(t) => write!(f, "< {t}"),
        }
    }
}

/// Hide a count below `threshold` (raised to [`MIN_K`] if lower; 0 is hidden too, since
/// "nobody from X" is also a disclosure). Totals next to hidden cells can give them away:
/// the dashboard must not show a total together with all but one of its parts.
pub fn small_cell(count: u64, threshold: u64) -> CellValue {
    let threshold = threshold.max(MIN_K as u64);
    if count < threshold {
        CellValue::Below(threshold)
    } else {
        CellValue::Count(count)
    }
}

mod hierarchy;
mod search;

use hierarchy::*;
use search::*;

#[cfg(test)]
mod tests;
