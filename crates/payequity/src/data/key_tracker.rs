//! The (employee_id, period) key check of streamed input in O(employees) memory: employees are known by a
//! 128-bit hash of their id, periods by a dense code, and each employee keeps a bitset of the periods seen.
//! Rows are offered in input order, so "later row of a key" means the same as in memory.

use std::collections::HashMap;
use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use polars::prelude::*;

use crate::data::column_codes;
use crate::Result;

/// Text of a key value; nulls are one value of their own (as in-memory key coding groups them).
const NULL_KEY: &str = "\u{0}null";

/// Employees and the periods seen for each.
#[derive(Debug, Default)]
pub struct KeyTracker {
    employees: HashMap<u128, u32, FixedState>,
    periods: HashMap<String, u32, FixedState>,
    seen: Vec<Vec<u64>>,
}

fn texts(column: &Column) -> Result<StringChunked> {
    Ok(column.cast(&DataType::String)?.str()?.clone())
}

/// Codes of a column's values in a global dictionary: the batch's distinct values are found by hashing
/// ([`column_codes`]), and only those are looked up (`lookup` gets each distinct value's text once).
pub(crate) fn global_codes(column: &Column, mut lookup: impl FnMut(Option<&str>) -> u32) -> Result<Vec<u32>> {
    let local = column_codes(column)?;
    let texts = texts(column)?;
    let mut global = vec![u32::MAX; local.count];
    for (row, &code) in local.codes.iter().enumerate() {
        let slot = &mut global[code as usize];
        if *slot == u32::MAX {
            *slot = lookup(texts.get(row));
        }
    }
    Ok(local.codes.iter().map(|&c| global[c as usize]).collect())
}

/// A 128-bit hash of an id (two independent 64-bit hashes): collisions among 10⁸ ids have a probability
/// below 10⁻²⁰.
fn id_hash(text: &str) -> u128 {
    let low = FixedState::with_seed(0x7061_7965_7175_6974).hash_one(text);
    let high = FixedState::with_seed(0x656d_706c_6f79_6565).hash_one(text);
    (u128::from(high) << 64) | u128::from(low)
}

impl KeyTracker {
    /// The employee index of every row (dense, in order of first appearance over all batches).
    pub fn employee_codes(&mut self, ids: &Column) -> Result<Vec<u32>> {
        let employees = &mut self.employees;
        let seen = &mut self.seen;
        global_codes(ids, |id| {
            let next = employees.len() as u32;
            let code = *employees.entry(id_hash(id.unwrap_or(NULL_KEY))).or_insert(next);
            if code == next {
                seen.push(Vec::new());
            }
            code
        })
    }

    /// The period code of every row.
    pub fn period_codes(&mut self, periods: &Column) -> Result<Vec<u32>> {
        let known = &mut self.periods;
        global_codes(periods, |p| {
            let p = p.unwrap_or(NULL_KEY);
            match known.get(p) {
                Some(code) => *code,
                None => {
                    let code = known.len() as u32;
                    known.insert(p.to_string(), code);
                    code
                }
            }
        })
    }

    /// True the first time (employee, period) is offered; false for every later row of the key.
    pub fn first_time(&mut self, employee: u32, period: u32) -> bool {
        let bits = &mut self.seen[employee as usize];
        let (word, bit) = ((period / 64) as usize, period % 64);
        if bits.len() <= word {
            bits.resize(word + 1, 0);
        }
        let was = bits[word] & (1 << bit) != 0;
        bits[word] |= 1 << bit;
        !was
    }

    /// The id hash of every employee, by employee code.
    pub fn employee_hashes(&self) -> Vec<u128> {
        let mut hashes = vec![0u128; self.employees.len()];
        for (hash, code) in &self.employees {
            hashes[*code as usize] = *hash;
        }
        hashes
    }

    /// Number of distinct employees seen.
    pub fn employees(&self) -> usize {
        self.employees.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_rows_of_a_key_are_not_first() {
        let mut tracker = KeyTracker::default();
        let ids = Column::new("id".into(), ["a", "b", "a", "a"]);
        let periods = Column::new("p".into(), ["1", "1", "2", "1"]);
        let e = tracker.employee_codes(&ids).unwrap();
        let p = tracker.period_codes(&periods).unwrap();
        assert_eq!(e, vec![0, 1, 0, 0]);
        let first: Vec<bool> = e.iter().zip(&p).map(|(e, p)| tracker.first_time(*e, *p)).collect();
        assert_eq!(first, vec![true, true, true, false]);
        // A second batch continues the codes.
        let e2 = tracker.employee_codes(&Column::new("id".into(), ["b", "c"])).unwrap();
        assert_eq!(e2, vec![1, 2]);
        assert_eq!(tracker.employees(), 3);
    }
}
