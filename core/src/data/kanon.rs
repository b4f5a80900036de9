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

// ---- Search ---------------------------------------------------------------------------

/// An attribute's value at every level, as small integers: 0 is `suppressed` (the top
/// level), and within one level equal codes mean equal published values. The code at a
/// level is a function of the code at the level below (the hierarchies nest).
type Codes = [[u16; L]; N];

/// Rows that share their codes at some levels (and so at every coarser level).
#[derive(Clone, Copy)]
struct Group {
    codes: Codes,
    rows: usize,
}

/// The combination at `lv`, packed 16 bits per attribute.
fn key(c: &Codes, lv: &[u8; N]) -> u128 {
    c.iter()
        .zip(lv)
        .enumerate()
        .fold(0, |key, (a, (codes, &l))| {
            key | u128::from(codes[usize::from(l)]) << (16 * a)
        })
}

/// A multiply-fold hash for the packed keys (SipHash is several times slower here, and
/// the keys come from our own data).
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u128(&mut self, v: u128) {
        let lo = v as u64;
        let hi = (v >> 64) as u64;
        let x = lo.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ hi.rotate_left(32);
        let m = u128::from(x) * 0xd6e8_feb8_6659_fd93;
        self.0 = (m as u64) ^ ((m >> 64) as u64);
    }
}

type Map = HashMap<u128, usize, BuildHasherDefault<KeyHasher>>;

/// Merge `groups` by their combination at `lv`.
fn regroup(groups: &[Group], lv: &[u8; N], map: &mut Map) -> Vec<Group> {
    map.clear();
    let mut out: Vec<Group> = Vec::new();
    for g in groups {
        match map.entry(key(&g.codes, lv)) {
            Entry::Occupied(e) => {
                if let Some(o) = out.get_mut(*e.get()) {
                    o.rows += g.rows;
                }
            }
            Entry::Vacant(e) => {
                e.insert(out.len());
                out.push(*g);
            }
        }
    }
    out
}

/// Rows in combinations of fewer than `k` rows at `lv`.
fn small_rows(groups: &[Group], lv: &[u8; N], k: usize, map: &mut Map) -> usize {
    map.clear();
    for g in groups {
        *map.entry(key(&g.codes, lv)).or_insert(0) += g.rows;
    }
    map.values().filter(|&&rows| rows < k).sum()
}

/// The levels: start with every attribute suppressed (k-anonymous when there are at
/// least k rows), then, in rounds, make each attribute one level finer in [`PRIORITY`]
/// order as long as the rows in small groups stay within `budget`. `base` is grouped at
/// `min`.
fn search(base: &[Group], min: [u8; N], k: usize, budget: usize, map: &mut Map) -> [u8; N] {
    let mut lv = Levels::top().to_array();
    // Making an attribute finer never shrinks a small group, so a refusal stands whatever
    // is made finer afterwards: a refused attribute is not tried again.
    let mut refused = [false; N];
    loop {
        let mut finer_somewhere = false;
        for attr in PRIORITY {
            let a = attr.index();
            if refused[a] || lv[a] <= min[a] {
                continue;
            }
            let mut finer = lv;
            finer[a] -= 1;
            if small_rows(base, &finer, k, map) <= budget {
                lv = finer;
                finer_somewhere = true;
            } else {
                refused[a] = true;
            }
        }
        if !finer_somewhere {
            return lv;
        }
    }
}

// ---- Hierarchies ----------------------------------------------------------------------

const CODE_SUPPRESSED: u16 = 0;
const CODE_UNKNOWN: u16 = 1;

fn codes_of(r: &Record, table: &CountryTable) -> Codes {
    use std::array::from_fn;
    [
        from_fn(|l| age_code(r.age, l)),
        from_fn(|l| year_code(r.registration_year, l)),
        from_fn(|l| country_code(r.citizenship, l, table)),
        from_fn(|l| country_code(r.country_of_exploitation, l, table)),
        from_fn(|l| exploitation_code(&r.exploitation, l)),
        from_fn(|l| control_code(&r.means_of_control, l)),
        from_fn(|l| gender_code(r.gender, l)),
    ]
}

fn row_of(c: &Codes, lv: &[u8; N]) -> Row {
    let at = |a: usize| (usize::from(lv[a]), c[a][usize::from(lv[a])]);
    Row {
        age: age_label(at(0).1),
        registration_year: year_label(at(1).0, at(1).1),
        citizenship: country_label(at(2).0, at(2).1),
        country_of_exploitation: country_label(at(3).0, at(3).1),
        exploitation: exploitation_label(at(4).0, at(4).1),
        means_of_control: control_label(at(5).0, at(5).1),
        gender: gender_label(at(6).1),
    }
}

/// One record at given levels (what [`anonymise`] would publish for it).
#[cfg(test)]
fn generalise(r: &Record, levels: Levels) -> Row {
    row_of(&codes_of(r, country_table()), &levels.to_array())
}

/// Age bands per level: (from, to, label). Each band of a level is a union of bands of
/// the level below, and 17/18 is a boundary at every level.
const AGE_BANDS: [&[(u8, u8, &str)]; 3] = [
    &[
        (0, 4, "0-4"),
        (5, 9, "5-9"),
        (10, 14, "10-14"),
        (15, 17, "15-17"),
        (18, 24, "18-24"),
        (25, 29, "25-29"),
        (30, 34, "30-34"),
        (35, 39, "35-39"),
        (40, 44, "40-44"),
        (45, 49, "45-49"),
        (50, 54, "50-54"),
        (55, 59, "55-59"),
        (60, u8::MAX, "60+"),
    ],
    &[
        (0, 9, "0-9"),
        (10, 17, "10-17"),
        (18, 29, "18-29"),
        (30, 44, "30-44"),
        (45, u8::MAX, "45+"),
    ],
    &[(0, 17, "0-17"), (18, u8::MAX, "18+")],
];

/// Bands of all levels, numbered across levels (2 + position), so that a band chosen at a
/// coarser level for an estimated age keeps its code at every level.
fn age_band_code(level: usize, years: u8) -> u16 {
    let offset: usize = AGE_BANDS[..level].iter().map(|b| b.len()).sum();
    let bands = AGE_BANDS[level];
    let i = bands
        .iter()
        .position(|&(from, to, _)| from <= years && years <= to)
        .unwrap_or(bands.len() - 1);
    // Fewer than 30 bands in all.
    (2 + offset + i) as u16
}

fn age_code(age: Age, level: usize) -> u16 {
    if level >= AGE_BANDS.len() {
        return CODE_SUPPRESSED;
    }
    let (from, to) = match age {
        Age::Unknown => return CODE_UNKNOWN,
        Age::Years(y) => (y, y),
        Age::Range { from, to } => (from, to),
    };
    (level..AGE_BANDS.len())
        .map(|l| (age_band_code(l, from), age_band_code(l, to)))
        .find(|(a, b)| a == b)
        .map_or(CODE_UNKNOWN, |(a, _)| a)
}

fn age_label(code: u16) -> &'static str {
    match code {
        CODE_SUPPRESSED => SUPPRESSED,
        CODE_UNKNOWN => UNKNOWN,
        c => AGE_BANDS
            .iter()
            .flat_map(|b| b.iter())
            .nth(usize::from(c) - 2)
            .map_or(UNKNOWN, |&(_, _, label)| label),
    }
}

fn year_code(year: i32, level: usize) -> u16 {
    let start = match level {
        0 => year,
        1 => year - year.rem_euclid(2),
        2 => year - year.rem_euclid(10),
        _ => return CODE_SUPPRESSED,
    };
    // Years are checked to lie in YEARS, so 1 ..= 1100.
    (start - YEARS.start() + 1) as u16
}

fn year_label(level: usize, code: u16) -> String {
    if code == CODE_SUPPRESSED {
        return SUPPRESSED.into();
    }
    let start = i32::from(code) - 1 + YEARS.start();
    match level {
        0 => start.to_string(),
        1 => format!("{start}-{}", start + 1),
        _ => format!("{start}-{}", start + 9),
    }
}

/// The five UN M49 regions.
const REGIONS: [&str; 5] = ["Africa", "Americas", "Asia", "Europe", "Oceania"];

/// UN M49 sub-regions (intermediate regions for Sub-Saharan Africa and Latin America and
/// the Caribbean), their region (index into [`REGIONS`]), and their members. Taiwan and
/// Kosovo (user-assigned XK) are placed where statistics usually place them.
const SUB_REGIONS: [(&str, usize, &str); 22] = [
    ("Northern Africa", 0, "DZ EG EH LY MA SD TN"),
    (
        "Eastern Africa",
        0,
        "BI DJ ER ET IO KE KM MG MU MW MZ RE RW SC SO SS TF TZ UG YT ZM ZW",
    ),
    ("Middle Africa", 0, "AO CD CF CG CM GA GQ ST TD"),
    ("Southern Africa", 0, "BW LS NA SZ ZA"),
    (
        "Western Africa",
        0,
        "BF BJ CI CV GH GM GN GW LR ML MR NE NG SH SL SN TG",
    ),
    (
        "Caribbean",
        1,
        "AG AI AW BB BL BQ BS CU CW DM DO GD GP HT JM KN KY LC MF MQ MS PR SX TC TT VC VG VI",
    ),
    ("Central America", 1, "BZ CR GT HN MX NI PA SV"),
    (
        "South America",
        1,
        "AR BO BR BV CL CO EC FK GF GS GY PE PY SR UY VE",
    ),
    ("Northern America", 1, "BM CA GL PM US"),
    ("Central Asia", 2, "KG KZ TJ TM UZ"),
    ("Eastern Asia", 2, "CN HK JP KP KR MN MO TW"),
    ("South-eastern Asia", 2, "BN ID KH LA MM MY PH SG TH TL VN"),
    ("Southern Asia", 2, "AF BD BT IN IR LK MV NP PK"),
    (
        "Western Asia",
        2,
        "AE AM AZ BH CY GE IL IQ JO KW LB OM PS QA SA SY TR YE",
    ),
    ("Eastern Europe", 3, "BG BY CZ HU MD PL RO RU SK UA"),
    (
        "Northern Europe",
        3,
        "AX DK EE FI FO GB GG IE IM IS JE LT LV NO SE SJ",
    ),
    (
        "Southern Europe",
        3,
        "AD AL BA ES GI GR HR IT ME MK MT PT RS SI SM VA XK",
    ),
    ("Western Europe", 3, "AT BE CH DE FR LI LU MC NL"),
    ("Australia and New Zealand", 4, "AU CC CX HM NF NZ"),
    ("Melanesia", 4, "FJ NC PG SB VU"),
    ("Micronesia", 4, "FM GU KI MH MP NR PW UM"),
    ("Polynesia", 4, "AS CK NU PF PN TK TO TV WF WS"),
];

/// Sub-region of every alpha-2 code (index into [`SUB_REGIONS`]), `NONE` if not listed.
type CountryTable = [u8; 26 * 26];
const NONE: u8 = u8::MAX;

fn country_table() -> &'static CountryTable {
    static TABLE: OnceLock<CountryTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [NONE; 26 * 26];
        for (i, (_, _, members)) in SUB_REGIONS.iter().enumerate() {
            for code in members.split_whitespace() {
                if let Ok(c) = Country::parse(code) {
                    // 22 sub-regions.
                    t[c.index()] = i as u8;
                }
            }
        }
        t
    })
}

fn sub_region(c: Country, table: &CountryTable) -> Option<usize> {
    match table[c.index()] {
        NONE => None,
        i => Some(usize::from(i)),
    }
}

const CODE_OTHER: u16 = 2;

fn country_code(c: Option<Country>, level: usize, table: &CountryTable) -> u16 {
    if level >= 3 {
        return CODE_SUPPRESSED;
    }
    let Some(c) = c else {
        return CODE_UNKNOWN;
    };
    // At most 2 + 676.
    let code = |i: usize| (3 + i) as u16;
    match (level, sub_region(c, table)) {
        (0, _) => code(c.index()),
        (_, None) => CODE_OTHER,
        (1, Some(s)) => code(s),
        (_, Some(s)) => code(SUB_REGIONS[s].1),
    }
}

fn country_label(level: usize, code: u16) -> String {
    let i = usize::from(code).wrapping_sub(3);
    match (level, code) {
        (_, CODE_SUPPRESSED) => SUPPRESSED.into(),
        (_, CODE_UNKNOWN) => UNKNOWN.into(),
        (_, CODE_OTHER) => OTHER.into(),
        (0, _) => {
            // i < 676, so both are capital letters.
            let letters = [b'A' + (i / 26) as u8, b'A' + (i % 26) as u8];
            String::from_utf8_lossy(&letters).into_owned()
        }
        (1, _) => SUB_REGIONS.get(i).map_or(OTHER, |s| s.0).into(),
        _ => REGIONS.get(i).map_or(OTHER, |r| *r).into(),
    }
}

// Sets are bit masks in vocabulary order; they must fit the 16 bits of a code.
const _: () = assert!(Exploitation::ALL.len() < 16 && Control::ALL.len() < 16);

fn mask<T: Copy + PartialEq>(all: &[T], set: impl Iterator<Item = T>) -> u16 {
    set.fold(0, |m, x| {
        m | all.iter().position(|y| *y == x).map_or(0, |i| 1 << i)
    })
}

fn labels(names: &[&'static str], mask: u16) -> Vec<&'static str> {
    if mask == 0 {
        return vec![UNKNOWN];
    }
    names
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect()
}

const EXPLOITATION_GROUPS: [&str; 3] = [
    "sexual_exploitation",
    "labour_exploitation",
    "other_exploitation",
];

/// Eurostat-style: sexual, labour, and other forms (begging, criminality, marriage, …).
fn exploitation_group(e: Exploitation) -> usize {
    use Exploitation::*;
    match e {
        SexualExploitation => 0,
        ForcedLabour | ChildLabour | Servitude => 1,
        ForcedMarriage
        | ForcedMilitaryByNonStateActors
        | OrganRemoval
        | ForcedBegging
        | ForcedAdoption
        | Surrogacy
        | ForcedCriminality
        | Other => 2,
    }
}

fn exploitation_code(set: &BTreeSet<Exploitation>, level: usize) -> u16 {
    match level {
        0 => mask(Exploitation::ALL, set.iter().copied()),
        1 => set.iter().fold(0, |m, e| m | 1 << exploitation_group(*e)),
        _ => CODE_SUPPRESSED,
    }
}

fn exploitation_label(level: usize, code: u16) -> Vec<&'static str> {
    match level {
        0 => {
            let names: Vec<&'static str> = Exploitation::ALL.iter().map(|e| e.as_str()).collect();
            labels(&names, code)
        }
        1 => labels(&EXPLOITATION_GROUPS, code),
        _ => vec![SUPPRESSED],
    }
}

const CONTROL_GROUPS: [&str; 5] = [
    "force_or_threats",
    "economic",
    "restriction_of_freedom",
    "psychological_or_deception",
    "other_control",
];

fn control_group(c: Control) -> usize {
    use Control::*;
    match c {
        PhysicalAbuse
        | SexualAbuse
        | ThreatsLawEnforcement
        | ThreatsToFamily
        | PsychoactiveSubstances => 0,
        DebtBondage | TakesEarnings => 1,
        WithholdsDocuments | RestrictsMovement | Isolation => 2,
        PsychologicalAbuse | FalsePromises => 3,
        Other => 4,
    }
}

fn control_code(set: &BTreeSet<Control>, level: usize) -> u16 {
    match level {
        0 => mask(Control::ALL, set.iter().copied()),
        1 => set.iter().fold(0, |m, c| m | 1 << control_group(*c)),
        _ => CODE_SUPPRESSED,
    }
}

fn control_label(level: usize, code: u16) -> Vec<&'static str> {
    match level {
        0 => {
            let names: Vec<&'static str> = Control::ALL.iter().map(|c| c.as_str()).collect();
            labels(&names, code)
        }
        1 => labels(&CONTROL_GROUPS, code),
        _ => vec![SUPPRESSED],
    }
}

fn gender_code(g: Gender, level: usize) -> u16 {
    match level {
        // Four genders.
        0 => 1 + Gender::ALL.iter().position(|x| *x == g).unwrap_or(3) as u16,
        _ => CODE_SUPPRESSED,
    }
}

fn gender_label(code: u16) -> &'static str {
    match code {
        CODE_SUPPRESSED => SUPPRESSED,
        c => Gender::ALL
            .get(usize::from(c) - 1)
            .map_or(UNKNOWN, |g| g.as_str()),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn c(code: &str) -> Option<Country> {
        Country::parse(code).ok()
    }

    fn case(age: u8, year: i32, cit: &str, coe: &str) -> Record {
        Record {
            age: Age::Years(age),
            registration_year: year,
            citizenship: c(cit),
            country_of_exploitation: c(coe),
            exploitation: [Exploitation::SexualExploitation].into(),
            means_of_control: [Control::DebtBondage].into(),
            gender: Gender::Female,
        }
    }

    fn at(level: u8) -> Levels {
        let mut a = [0; N];
        for attr in Attribute::ALL {
            a[attr.index()] = level.min(attr.top());
        }
        Levels::from_array(a)
    }

    fn value(row: &Row, a: Attribute) -> String {
        match a {
            Attribute::Age => row.age.to_string(),
            Attribute::RegistrationYear => row.registration_year.clone(),
            Attribute::Citizenship => row.citizenship.clone(),
            Attribute::CountryOfExploitation => row.country_of_exploitation.clone(),
            Attribute::Exploitation => row.exploitation.join(";"),
            Attribute::MeansOfControl => row.means_of_control.join(";"),
            Attribute::Gender => row.gender.to_string(),
        }
    }

    fn counts<'a>(rows: impl Iterator<Item = &'a Row>) -> BTreeMap<&'a Row, usize> {
        let mut m = BTreeMap::new();
        for r in rows {
            *m.entry(r).or_insert(0) += 1;
        }
        m
    }

    /// Rows in small groups, computed the slow way from the published text.
    fn naive_small(records: &[Record], levels: Levels, k: usize) -> usize {
        let rows: Vec<Row> = records.iter().map(|r| generalise(r, levels)).collect();
        counts(rows.iter()).values().filter(|&&n| n < k).sum()
    }

    fn band(label: &str) -> Option<(u8, u8)> {
        AGE_BANDS
            .iter()
            .flat_map(|b| b.iter())
            .find(|b| b.2 == label)
            .map(|b| (b.0, b.1))
    }

    #[test]
    fn age_bands_at_each_level() {
        let label = |age: Age, level: u8| {
            generalise(
                &Record {
                    age,
                    ..case(0, 2023, "NG", "IT")
                },
                at(level),
            )
            .age
        };
        let y = Age::Years;
        assert_eq!(
            [0, 4, 5, 14, 15, 17, 18, 24, 25, 59, 60, 101].map(|a| label(y(a), 0)),
            [
                "0-4", "0-4", "5-9", "10-14", "15-17", "15-17", "18-24", "18-24", "25-29", "55-59",
                "60+", "60+"
            ]
        );
        assert_eq!(
            [9, 10, 17, 18, 29, 30, 44, 45, 90].map(|a| label(y(a), 1)),
            [
                "0-9", "10-17", "10-17", "18-29", "18-29", "30-44", "30-44", "45+", "45+"
            ]
        );
        assert_eq!(
            [0, 17, 18, 255].map(|a| label(y(a), 2)),
            ["0-17", "0-17", "18+", "18+"]
        );
        assert_eq!(label(y(30), 3), SUPPRESSED);
        assert_eq!(label(Age::Unknown, 0), UNKNOWN);
        assert_eq!(label(Age::Unknown, 2), UNKNOWN);
        assert_eq!(label(Age::Unknown, 3), SUPPRESSED);
        assert_eq!(label(None.into(), 1), UNKNOWN);
        assert_eq!(label(Some(12).into(), 0), "10-14");
    }

    #[test]
    fn estimated_ages_take_the_finest_band_that_holds_them() {
        let label = |from, to, level| {
            let r = Record {
                age: Age::Range { from, to },
                ..case(0, 2023, "NG", "IT")
            };
            generalise(&r, at(level)).age
        };
        assert_eq!(label(15, 17, 0), "15-17");
        assert_eq!(label(20, 27, 0), "18-29");
        assert_eq!(label(20, 27, 1), "18-29");
        assert_eq!(label(20, 50, 0), "18+");
        // A minor of unknown age stays a child at every level.
        assert_eq!([0, 1, 2].map(|l| label(0, 17, l)), ["0-17"; 3]);
        // Straddling 18 is not a band.
        assert_eq!([0, 1, 2].map(|l| label(16, 19, l)), [UNKNOWN; 3]);
    }

    #[test]
    fn years() {
        let label =
            |year, level| generalise(&case(30, year, "NG", "IT"), at(level)).registration_year;
        assert_eq!(
            [0, 1, 2, 3].map(|l| label(2023, l)),
            ["2023", "2022-2023", "2020-2029", SUPPRESSED]
        );
        assert_eq!(label(2020, 1), "2020-2021");
        assert_eq!(label(2019, 2), "2010-2019");
        assert_eq!(label(1900, 0), "1900");
        assert_eq!(label(2999, 2), "2990-2999");
    }

    #[test]
    fn countries_regions_and_unknowns() {
        let labels = |code: Option<Country>| {
            [0, 1, 2, 3].map(|l| {
                let r = Record {
                    citizenship: code,
                    ..case(30, 2023, "NG", "IT")
                };
                generalise(&r, at(l)).citizenship
            })
        };
        assert_eq!(
            labels(c("FR")),
            ["FR", "Western Europe", "Europe", SUPPRESSED]
        );
        assert_eq!(
            labels(c("ng")),
            ["NG", "Western Africa", "Africa", SUPPRESSED]
        );
        assert_eq!(
            labels(c("VN")),
            ["VN", "South-eastern Asia", "Asia", SUPPRESSED]
        );
        assert_eq!(labels(c("HT")), ["HT", "Caribbean", "Americas", SUPPRESSED]);
        assert_eq!(
            labels(c("US")),
            ["US", "Northern America", "Americas", SUPPRESSED]
        );
        assert_eq!(
            labels(c("UA")),
            ["UA", "Eastern Europe", "Europe", SUPPRESSED]
        );
        assert_eq!(
            labels(c("ER")),
            ["ER", "Eastern Africa", "Africa", SUPPRESSED]
        );
        assert_eq!(labels(c("SY")), ["SY", "Western Asia", "Asia", SUPPRESSED]);
        assert_eq!(labels(c("ZZ")), ["ZZ", OTHER, OTHER, SUPPRESSED]);
        assert_eq!(labels(None), [UNKNOWN, UNKNOWN, UNKNOWN, SUPPRESSED]);
        for bad in ["", "F", "FRA", "1A", "é"] {
            assert_eq!(
                Country::parse(bad).map_err(|e| e.field),
                Err("country"),
                "{bad}"
            );
        }
        assert_eq!(c(" fr ").map(|c| c.to_string()), Some("FR".into()));
    }

    #[test]
    fn the_region_table_is_a_partition() {
        let mut seen = BTreeMap::new();
        for (name, region, members) in SUB_REGIONS {
            assert!(region < REGIONS.len(), "{name}");
            for code in members.split_whitespace() {
                let parsed = Country::parse(code).map(|c| c.to_string());
                assert_eq!(parsed.as_deref(), Ok(code), "{name}");
                assert_eq!(seen.insert(code, name), None, "{code} in two sub-regions");
            }
        }
        // Every ISO 3166-1 code but Antarctica's (checked against iso-codes), and Kosovo.
        assert_eq!(seen.len(), 249);
    }

    #[test]
    fn exploitation_and_control_groups() {
        let r = Record {
            exploitation: [Exploitation::SexualExploitation, Exploitation::ForcedLabour].into(),
            means_of_control: [
                Control::WithholdsDocuments,
                Control::DebtBondage,
                Control::TakesEarnings,
            ]
            .into(),
            ..case(30, 2023, "NG", "IT")
        };
        let g = |l| generalise(&r, at(l));
        assert_eq!(g(0).exploitation, ["forced_labour", "sexual_exploitation"]);
        assert_eq!(
            g(1).exploitation,
            ["sexual_exploitation", "labour_exploitation"]
        );
        assert_eq!(g(2).exploitation, [SUPPRESSED]);
        assert_eq!(
            g(0).means_of_control,
            ["debt_bondage", "takes_earnings", "withholds_documents"]
        );
        assert_eq!(
            g(1).means_of_control,
            ["economic", "restriction_of_freedom"]
        );
        assert_eq!(g(2).means_of_control, [SUPPRESSED]);
        let empty = Record {
            exploitation: BTreeSet::new(),
            means_of_control: BTreeSet::new(),
            ..r
        };
        assert_eq!(generalise(&empty, at(0)).exploitation, [UNKNOWN]);
        assert_eq!(generalise(&empty, at(1)).means_of_control, [UNKNOWN]);
        let begging = Record {
            exploitation: [Exploitation::ForcedBegging].into(),
            ..empty
        };
        assert_eq!(
            generalise(&begging, at(1)).exploitation,
            ["other_exploitation"]
        );
        assert_eq!(
            generalise(&case(30, 2023, "NG", "IT"), at(0)).gender,
            "female"
        );
        assert_eq!(
            generalise(&case(30, 2023, "NG", "IT"), at(1)).gender,
            SUPPRESSED
        );
    }

    #[test]
    fn k_below_five_and_bad_config_are_refused() {
        let pop = vec![case(30, 2023, "NG", "IT"); 20];
        for k in 0..MIN_K {
            assert_eq!(
                anonymise(&pop, k, &Config::default()).map_err(|e| e.field),
                Err("k")
            );
        }
        assert!(anonymise(&pop, MIN_K, &Config::default()).is_ok());
        let too_much = Config {
            max_suppressed_percent: 101,
            ..Config::default()
        };
        assert_eq!(
            anonymise(&pop, 11, &too_much).map_err(|e| e.field),
            Err("max_suppressed_percent")
        );
        let no_level = Config {
            min_levels: Levels::FINEST.with(Attribute::Gender, 2),
            ..Config::default()
        };
        assert_eq!(
            anonymise(&pop, 11, &no_level).map_err(|e| e.field),
            Err("min_levels")
        );
        let mut bad = pop.clone();
        bad[3].registration_year = 1850;
        assert_eq!(
            anonymise(&bad, 11, &Config::default()).map_err(|e| e.field),
            Err("registration_year")
        );
        bad[3].registration_year = 2020;
        bad[3].age = Age::Range { from: 30, to: 20 };
        assert_eq!(
            anonymise(&bad, 11, &Config::default()).map_err(|e| e.field),
            Err("age")
        );
    }

    /// Six identical cases and one that differs only in its means of control, k = 5.
    fn six_and_one(control: Control) -> Vec<Record> {
        let mut pop = vec![case(25, 2023, "NG", "IT"); 6];
        pop.push(Record {
            means_of_control: [control].into(),
            ..case(25, 2023, "NG", "IT")
        });
        pop
    }

    #[test]
    fn hand_checked_generalisation() {
        // Debt bondage and taking earnings are both "economic": one step makes one group of 7.
        let e = anonymise(&six_and_one(Control::TakesEarnings), 5, &Config::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(e.levels, Levels::FINEST.with(Attribute::MeansOfControl, 1));
        let row = Row {
            age: "25-29",
            registration_year: "2023".into(),
            citizenship: "NG".into(),
            country_of_exploitation: "IT".into(),
            exploitation: vec!["sexual_exploitation"],
            means_of_control: vec!["economic"],
            gender: "female",
        };
        assert_eq!(e.rows, vec![row; 7]);
        let r = &e.report;
        assert_eq!((r.input_rows, r.output_rows, r.suppressed_rows), (7, 7, 0));
        assert_eq!(
            (r.groups, r.smallest_group, r.max_suppressed_rows),
            (1, Some(7), 0)
        );
        let controls = &r.attributes[Attribute::MeansOfControl.index()];
        assert_eq!(
            (controls.level_name, controls.suppressed_cells),
            ("groups", 0)
        );
    }

    #[test]
    fn hand_checked_attribute_suppression() {
        // Physical abuse is another group: only dropping the means of control helps.
        let e = anonymise(&six_and_one(Control::PhysicalAbuse), 5, &Config::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(e.levels, Levels::FINEST.with(Attribute::MeansOfControl, 2));
        assert!(
            e.rows
                .iter()
                .all(|r| r.means_of_control == [SUPPRESSED] && r.citizenship == "NG")
        );
        assert_eq!(e.rows.len(), 7);
        let controls = &e.report.attributes[Attribute::MeansOfControl.index()];
        assert_eq!(
            (controls.level_name, controls.suppressed_cells),
            (SUPPRESSED, 7)
        );
        assert_eq!(
            e.report.attributes[Attribute::Gender.index()].suppressed_cells,
            0
        );
    }

    #[test]
    fn hand_checked_record_suppression_within_budget() {
        // 1 row of 7 is within 20 %: nothing is generalised, the odd case is removed.
        let config = Config {
            max_suppressed_percent: 20,
            ..Config::default()
        };
        let e = anonymise(&six_and_one(Control::TakesEarnings), 5, &config)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(e.levels, Levels::FINEST);
        assert_eq!(e.rows.len(), 6);
        assert!(
            e.rows
                .iter()
                .all(|r| r.means_of_control == ["debt_bondage"])
        );
        let r = &e.report;
        assert_eq!(
            (
                r.suppressed_rows,
                r.suppressed_by.small_group,
                r.max_suppressed_rows
            ),
            (1, 1, 1)
        );
        assert!(r.adds_up());
    }

    #[test]
    fn fewer_than_k_cases_export_nothing() {
        let pop = vec![case(25, 2023, "NG", "IT"); 10];
        let e = anonymise(&pop, 11, &Config::default()).unwrap_or_else(|e| panic!("{e}"));
        assert!(e.rows.is_empty());
        assert_eq!(e.levels, Levels::top());
        assert_eq!(
            e.report.suppressed_by,
            SuppressedBy {
                small_group: 0,
                population_below_k: 10
            }
        );
        assert!(e.report.adds_up());
        let none = anonymise(&[], 11, &Config::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((none.rows.len(), none.report.suppressed_rows), (0, 0));
    }

    #[test]
    fn children_and_adults_are_never_merged_age_is_dropped_instead() {
        let mut pop = vec![case(17, 2023, "NG", "IT"); 6];
        pop.extend(vec![case(18, 2023, "NG", "IT"); 6]);
        let e = anonymise(&pop, 11, &Config::default()).unwrap_or_else(|e| panic!("{e}"));
        // Child/adult would leave two groups of 6: refused, and everything else is finest.
        assert_eq!(e.levels, Levels::FINEST.with(Attribute::Age, 3));
        assert_eq!(e.rows.len(), 12);
        assert!(
            e.rows
                .iter()
                .all(|r| r.age == SUPPRESSED && r.registration_year == "2023")
        );
    }

    #[test]
    fn when_the_budget_runs_out_citizenship_keeps_its_detail_before_the_country_of_exploitation() {
        // Either country alone splits 10 cases into 5 + 5; both together make groups of 2 and 3.
        let mut pop = Vec::new();
        for (cit, coe, n) in [
            ("NG", "IT", 3),
            ("NG", "DE", 2),
            ("RO", "IT", 2),
            ("RO", "DE", 3),
        ] {
            pop.extend(vec![case(25, 2023, cit, coe); n]);
        }
        let e = anonymise(&pop, 5, &Config::default()).unwrap_or_else(|e| panic!("{e}"));
        // Italy and Germany are in different sub-regions, but both in Europe.
        assert_eq!(
            e.levels,
            Levels::FINEST.with(Attribute::CountryOfExploitation, 2)
        );
        assert_eq!(e.rows.len(), 10);
        assert!(e.rows.iter().all(|r| r.country_of_exploitation == "Europe"));
        assert_eq!(e.rows.iter().filter(|r| r.citizenship == "NG").count(), 5);
    }

    #[test]
    fn minimum_levels_are_kept_even_when_finer_would_do() {
        let pop = vec![case(25, 2023, "NG", "IT"); 20];
        let config = Config {
            min_levels: Levels::FINEST.with(Attribute::RegistrationYear, 2),
            ..Config::default()
        };
        let e = anonymise(&pop, 11, &config).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(e.levels, config.min_levels);
        assert!(e.rows.iter().all(|r| r.registration_year == "2020-2029"));
    }

    #[test]
    fn small_cells_on_dashboards() {
        assert_eq!(small_cell(10, 11), CellValue::Below(11));
        assert_eq!(small_cell(10, 11).to_string(), "< 11");
        assert_eq!(small_cell(0, 11).to_string(), "< 11");
        assert_eq!(small_cell(11, 11), CellValue::Count(11));
        assert_eq!(small_cell(1234, 11).to_string(), "1234");
        // Never below 5.
        assert_eq!(small_cell(4, 1), CellValue::Below(5));
        assert_eq!(small_cell(5, 0), CellValue::Count(5));
    }

    #[test]
    fn a_large_skewed_population_is_anonymised() {
        // Not a benchmark (no timing): 20 000 cases of a deterministic, skewed mix, to make
        // sure the search works on realistic sizes and keeps most rows.
        let codes = [
            "NG", "RO", "VN", "UA", "BR", "ER", "SY", "PH", "AL", "MA", "CN", "IN", "ZZ",
        ];
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |m: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Skewed: the minimum of two draws favours small values.
            (x as usize % m).min((x >> 32) as usize % m)
        };
        let pop: Vec<Record> = (0..20_000)
            .map(|_| Record {
                age: if next(10) == 0 {
                    Age::Unknown
                } else {
                    Age::Years(10 + next(50) as u8)
                },
                registration_year: 2015 + next(10) as i32,
                citizenship: c(codes[next(codes.len())]),
                country_of_exploitation: c(["IT", "DE", "FR", "GB", "US", "TH"][next(6)]),
                exploitation: [Exploitation::ALL[next(Exploitation::ALL.len())]].into(),
                means_of_control: (0..next(3))
                    .map(|_| Control::ALL[next(Control::ALL.len())])
                    .collect(),
                gender: Gender::ALL[next(4)],
            })
            .collect();
        let e = anonymise(&pop, DEFAULT_K, &Config::default()).unwrap_or_else(|e| panic!("{e}"));
        assert!(counts(e.rows.iter()).values().all(|&n| n >= DEFAULT_K));
        assert!(e.report.adds_up());
        assert!(e.report.suppressed_rows <= 1000, "{:?}", e.report);
    }

    fn record() -> impl Strategy<Value = Record> {
        let age = prop_oneof![
            Just(Age::Unknown),
            (0u8..=90).prop_map(Age::Years),
            (0u8..=80, 0u8..=12).prop_map(|(from, d)| Age::Range { from, to: from + d }),
        ];
        let country = prop::option::weighted(
            0.9,
            prop::sample::select(vec![
                "NG", "RO", "VN", "UA", "BR", "US", "IT", "FR", "ZZ", "ER", "SY",
            ]),
        )
        .prop_map(|c| c.and_then(|c| Country::parse(c).ok()));
        (
            age,
            2010i32..=2025,
            country.clone(),
            country,
            prop::collection::btree_set(prop::sample::select(Exploitation::ALL.to_vec()), 0..3),
            prop::collection::btree_set(prop::sample::select(Control::ALL.to_vec()), 0..4),
            prop::sample::select(Gender::ALL.to_vec()),
        )
            .prop_map(
                |(age, year, cit, coe, exploitation, means_of_control, gender)| Record {
                    age,
                    registration_year: year,
                    citizenship: cit,
                    country_of_exploitation: coe,
                    exploitation,
                    means_of_control,
                    gender,
                },
            )
    }

    /// Random (mostly unique), replicated templates (groups of every size), and identical.
    fn population() -> impl Strategy<Value = Vec<Record>> {
        prop_oneof![
            prop::collection::vec(record(), 0..200),
            prop::collection::vec((record(), 1usize..30), 1..12).prop_map(|t| {
                t.into_iter()
                    .flat_map(|(r, n)| std::iter::repeat_n(r, n))
                    .collect()
            }),
            (record(), 0usize..40).prop_map(|(r, n)| vec![r; n]),
        ]
    }

    fn config() -> impl Strategy<Value = Config> {
        (0u8..=100, prop::array::uniform7(0u8..=3)).prop_map(|(pct, min)| {
            let mut a = [0; N];
            for attr in Attribute::ALL {
                a[attr.index()] = min[attr.index()].min(attr.top()) / 2;
            }
            Config {
                max_suppressed_percent: pct,
                min_levels: Levels::from_array(a),
            }
        })
    }

    proptest! {
        #[test]
        fn every_combination_occurs_at_least_k_times_and_the_report_adds_up(
            pop in population(), k in 5usize..=15, config in config(),
        ) {
            let e = anonymise(&pop, k, &config).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let groups = counts(e.rows.iter());
            prop_assert!(groups.values().all(|&n| n >= k), "{groups:?}");
            let r = &e.report;
            prop_assert!(r.adds_up());
            prop_assert_eq!(r.input_rows, pop.len());
            prop_assert_eq!(r.output_rows, e.rows.len());
            prop_assert!(r.output_rows <= r.input_rows);
            prop_assert_eq!(r.groups, groups.len());
            prop_assert_eq!(r.smallest_group, groups.values().copied().min());
            prop_assert_eq!(r.attributes.len(), N);
            for a in &r.attributes {
                prop_assert_eq!(a.level, e.levels.get(a.attribute));
                prop_assert!(a.level >= config.min_levels.get(a.attribute));
                let suppressed = e.rows.iter().filter(|row| value(row, a.attribute) == SUPPRESSED).count();
                prop_assert_eq!(a.suppressed_cells, suppressed);
            }
            // Rows come sorted by value (their packed codes): equal rows are adjacent.
            let runs = e.rows.windows(2).filter(|w| w[0] != w[1]).count() + usize::from(!e.rows.is_empty());
            prop_assert_eq!(runs, groups.len());
        }

        #[test]
        fn the_export_is_the_generalised_input_minus_exactly_its_small_groups(
            pop in population(), k in 5usize..=15, config in config(),
        ) {
            let e = anonymise(&pop, k, &config).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let generalised: Vec<Row> = pop.iter().map(|r| generalise(r, e.levels)).collect();
            let want: BTreeMap<&Row, usize> =
                counts(generalised.iter()).into_iter().filter(|&(_, n)| n >= k).collect();
            prop_assert_eq!(counts(e.rows.iter()), want);
        }

        #[test]
        fn suppression_stays_within_budget_and_levels_are_locally_minimal(
            pop in population(), k in 5usize..=15, config in config(),
        ) {
            let e = anonymise(&pop, k, &config).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let r = &e.report;
            prop_assert_eq!(r.max_suppressed_rows, pop.len() * usize::from(config.max_suppressed_percent) / 100);
            if pop.len() < k {
                prop_assert_eq!(r.suppressed_by.population_below_k, pop.len());
                prop_assert!(e.rows.is_empty());
            } else {
                prop_assert!(r.suppressed_rows <= r.max_suppressed_rows, "{r:?}");
                prop_assert_eq!(r.suppressed_by.population_below_k, 0);
                // No attribute could be one level finer within the budget.
                for a in Attribute::ALL {
                    let l = e.levels.get(*a);
                    if l > config.min_levels.get(*a) {
                        let finer = e.levels.with(*a, l - 1);
                        prop_assert!(naive_small(&pop, finer, k) > r.max_suppressed_rows, "{a}");
                    }
                }
            }
        }

        #[test]
        fn the_input_order_does_not_matter(
            (pop, shuffled) in population().prop_flat_map(|p| (Just(p.clone()), Just(p).prop_shuffle())),
            k in 5usize..=15,
        ) {
            let a = anonymise(&pop, k, &Config::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let b = anonymise(&shuffled, k, &Config::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(a, b);
        }

        #[test]
        fn identical_populations_need_no_generalisation(r in record(), n in 0usize..40, k in 5usize..=15) {
            let e = anonymise(&vec![r; n], k, &Config::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            if n >= k {
                prop_assert_eq!(e.levels, Levels::FINEST);
                prop_assert_eq!(e.rows.len(), n);
            } else {
                prop_assert!(e.rows.is_empty());
            }
            prop_assert!(e.report.adds_up());
        }

        #[test]
        fn k_below_five_is_refused(pop in population(), k in 0usize..5) {
            prop_assert_eq!(anonymise(&pop, k, &Config::default()).map_err(|e| e.field), Err("k"));
        }

        #[test]
        fn hierarchies_nest_so_a_step_never_splits_a_group(a in record(), b in record()) {
            for attr in Attribute::ALL {
                for level in 0..attr.top() {
                    let same = |l| value(&generalise(&a, at(l)), *attr) == value(&generalise(&b, at(l)), *attr);
                    prop_assert!(!same(level) || same(level + 1), "{attr} level {level}");
                }
                // The top level is the same for everyone.
                prop_assert_eq!(value(&generalise(&a, at(attr.top())), *attr), value(&generalise(&b, at(attr.top())), *attr));
            }
        }

        #[test]
        fn an_age_band_never_mixes_children_and_adults(r in record(), level in 0u8..3) {
            let label = generalise(&r, at(level)).age;
            if label != UNKNOWN {
                let (from, to) = band(label).ok_or_else(|| TestCaseError::fail(label))?;
                prop_assert!(to <= 17 || from >= 18, "{label}");
                let (lo, hi) = match r.age {
                    Age::Years(y) => (y, y),
                    Age::Range { from, to } => (from, to),
                    Age::Unknown => return Err(TestCaseError::fail("unknown age got a band")),
                };
                prop_assert!(from <= lo && hi <= to, "{label} for {:?}", r.age);
            }
        }
    }
}
