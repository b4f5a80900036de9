//! The search for the finest levels that keep every group at k rows or more.

use super::*;

// ---- Search ---------------------------------------------------------------------------

/// An attribute's value at every level, as small integers: 0 is `suppressed` (the top
/// level), and within one level equal codes mean equal published values. The code at a
/// level is a function of the code at the level below (the hierarchies nest).
pub(super) type Codes = [[u16; L]; N];

/// Rows that share their codes at some levels (and so at every coarser level).
#[derive(Clone, Copy)]
pub(super) struct Group {
    pub(super) codes: Codes,
    pub(super) rows: usize,
}

/// The combination at `lv`, packed 16 bits per attribute.
pub(super) fn key(c: &Codes, lv: &[u8; N]) -> u128 {
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
pub(super) struct KeyHasher(u64);

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

pub(super) type Map = HashMap<u128, usize, BuildHasherDefault<KeyHasher>>;

/// Merge `groups` by their combination at `lv`.
pub(super) fn regroup(groups: &[Group], lv: &[u8; N], map: &mut Map) -> Vec<Group> {
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
pub(super) fn small_rows(groups: &[Group], lv: &[u8; N], k: usize, map: &mut Map) -> usize {
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
pub(super) fn search(
    base: &[Group],
    min: [u8; N],
    k: usize,
    budget: usize,
    map: &mut Map,
) -> [u8; N] {
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
