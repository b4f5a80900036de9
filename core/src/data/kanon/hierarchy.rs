//! The generalisation hierarchies: age bands, years, regions, groups of types.

use super::*;

// ---- Hierarchies ----------------------------------------------------------------------

pub(super) const CODE_SUPPRESSED: u16 = 0;
pub(super) const CODE_UNKNOWN: u16 = 1;

pub(super) fn codes_of(r: &Record, table: &CountryTable) -> Codes {
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

pub(super) fn row_of(c: &Codes, lv: &[u8; N]) -> Row {
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
pub(super) fn generalise(r: &Record, levels: Levels) -> Row {
    row_of(&codes_of(r, country_table()), &levels.to_array())
}

/// Age bands per level: (from, to, label). Each band of a level is a union of bands of
/// the level below, and 17/18 is a boundary at every level.
pub(super) const AGE_BANDS: [&[(u8, u8, &str)]; 3] = [
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
pub(super) fn age_band_code(level: usize, years: u8) -> u16 {
    let offset: usize = AGE_BANDS[..level].iter().map(|b| b.len()).sum();
    let bands = AGE_BANDS[level];
    let i = bands
        .iter()
        .position(|&(from, to, _)| from <= years && years <= to)
        .unwrap_or(bands.len() - 1);
    // Fewer than 30 bands in all.
    (2 + offset + i) as u16
}

pub(super) fn age_code(age: Age, level: usize) -> u16 {
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

pub(super) fn age_label(code: u16) -> &'static str {
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

pub(super) fn year_code(year: i32, level: usize) -> u16 {
    let start = match level {
        0 => year,
        1 => year - year.rem_euclid(2),
        2 => year - year.rem_euclid(10),
        _ => return CODE_SUPPRESSED,
    };
    // Years are checked to lie in YEARS, so 1 ..= 1100.
    (start - YEARS.start() + 1) as u16
}

pub(super) fn year_label(level: usize, code: u16) -> String {
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
pub(super) const REGIONS: [&str; 5] = ["Africa", "Americas", "Asia", "Europe", "Oceania"];

/// UN M49 sub-regions (intermediate regions for Sub-Saharan Africa and Latin America and
/// the Caribbean), their region (index into [`REGIONS`]), and their members. Taiwan and
/// Kosovo (user-assigned XK) are placed where statistics usually place them.
pub(super) const SUB_REGIONS: [(&str, usize, &str); 22] = [
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
pub(super) type CountryTable = [u8; 26 * 26];
pub(super) const NONE: u8 = u8::MAX;

pub(super) fn country_table() -> &'static CountryTable {
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

pub(super) fn sub_region(c: Country, table: &CountryTable) -> Option<usize> {
    match table[c.index()] {
        NONE => None,
        i => Some(usize::from(i)),
    }
}

pub(super) const CODE_OTHER: u16 = 2;

pub(super) fn country_code(c: Option<Country>, level: usize, table: &CountryTable) -> u16 {
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

pub(super) fn country_label(level: usize, code: u16) -> String {
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

pub(super) fn mask<T: Copy + PartialEq>(all: &[T], set: impl Iterator<Item = T>) -> u16 {
    set.fold(0, |m, x| {
        m | all.iter().position(|y| *y == x).map_or(0, |i| 1 << i)
    })
}

pub(super) fn labels(names: &[&'static str], mask: u16) -> Vec<&'static str> {
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

pub(super) const EXPLOITATION_GROUPS: [&str; 3] = [
    "sexual_exploitation",
    "labour_exploitation",
    "other_exploitation",
];

/// Eurostat-style: sexual, labour, and other forms (begging, criminality, marriage, …).
pub(super) fn exploitation_group(e: Exploitation) -> usize {
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

pub(super) fn exploitation_code(set: &BTreeSet<Exploitation>, level: usize) -> u16 {
    match level {
        0 => mask(Exploitation::ALL, set.iter().copied()),
        1 => set.iter().fold(0, |m, e| m | 1 << exploitation_group(*e)),
        _ => CODE_SUPPRESSED,
    }
}

pub(super) fn exploitation_label(level: usize, code: u16) -> Vec<&'static str> {
    match level {
        0 => {
            let names: Vec<&'static str> = Exploitation::ALL.iter().map(|e| e.as_str()).collect();
            labels(&names, code)
        }
        1 => labels(&EXPLOITATION_GROUPS, code),
        _ => vec![SUPPRESSED],
    }
}

pub(super) const CONTROL_GROUPS: [&str; 5] = [
    "force_or_threats",
    "economic",
    "restriction_of_freedom",
    "psychological_or_deception",
    "other_control",
];

pub(super) fn control_group(c: Control) -> usize {
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

pub(super) fn control_code(set: &BTreeSet<Control>, level: usize) -> u16 {
    match level {
        0 => mask(Control::ALL, set.iter().copied()),
        1 => set.iter().fold(0, |m, c| m | 1 << control_group(*c)),
        _ => CODE_SUPPRESSED,
    }
}

pub(super) fn control_label(level: usize, code: u16) -> Vec<&'static str> {
    match level {
        0 => {
            let names: Vec<&'static str> = Control::ALL.iter().map(|c| c.as_str()).collect();
            labels(&names, code)
        }
        1 => labels(&CONTROL_GROUPS, code),
        _ => vec![SUPPRESSED],
    }
}

pub(super) fn gender_code(g: Gender, level: usize) -> u16 {
    match level {
        // Four genders.
        0 => 1 + Gender::ALL.iter().position(|x| *x == g).unwrap_or(3) as u16,
        _ => CODE_SUPPRESSED,
    }
}

pub(super) fn gender_label(code: u16) -> &'static str {
    match code {
        CODE_SUPPRESSED => SUPPRESSED,
        c => Gender::ALL
            .get(usize::from(c) - 1)
            .map_or(UNKNOWN, |g| g.as_str()),
    }
}
