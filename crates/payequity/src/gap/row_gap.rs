//! The raw gap of streamed rows that are their own units (no employee id, no sampling weights), in memory
//! that does not grow with the row count: mean moments per cell and gender in the first pass, exact medians
//! and the order-statistic bootstrap of the median by radix selection ([`RankSelection`]) over two or three
//! more passes.
//!
//! Each pass validates every batch again with [`crate::data::prepare`] (validation within a row is
//! deterministic, and without an employee id there are no checks across rows), so every pass sees the same
//! valid rows; the ledger is taken from the first. The cells' statistics are published by the same
//! [`crate::gap`] code as in memory, so medians, counts and the ledger agree exactly and means to
//! summation order (1e-12 relative).

use std::collections::HashMap;

use foldhash::fast::FixedState;
use polars::prelude::*;

use super::unit_partial::merge_ledger;
use super::units::shift_rows;
use crate::data::{combined_codes, prepare, Ledger, Measure, Unit, COL_GENDER, COL_HOURS, COL_PAY, FEMALE, MALE};
use crate::gap::{cell_seed, publish, GapCells, GapFacts};
use crate::gap::{CellStats, GapOptions, GapResult, GenderStats, GroupKey};
use crate::scale::{stream_pass, Batch, Progress, Source, StreamOptions};
use crate::stats::{bootstrap_ranks, mix64, MeanMoments, RankSelection};
use crate::{Error, Result};

/// Bits counted per radix pass: 2¹² buckets (32 KiB) per cell and gender.
const RADIX_BITS: u32 = 12;
/// Share of the memory limit for the values collected in a pass (8 bytes each, over all cells).
const COLLECT_SHARE: u64 = 16;

/// The 0-based ranks of one median (the lower middle order statistic, and the upper one for even n).
type RankPair = (usize, Option<usize>);
/// Per cell, per gender: the median's ranks, then each bootstrap replicate's.
type BreakdownRanks = Vec<Vec<Vec<RankPair>>>;

/// One gender group of a cell: its mean moments, and its order statistics when medians are published.
#[derive(Debug, Clone)]
struct Group {
    moments: MeanMoments,
    selection: Option<RankSelection>,
}

impl Group {
    fn empty(with_medians: bool) -> Group {
        Group { moments: MeanMoments::default(), selection: with_medians.then(|| RankSelection::new(RADIX_BITS, 0)) }
    }

    /// Adds a value: to the moments in the first pass, to the order statistics in every pass.
    fn add(&mut self, value: f64, first_pass: bool) {
        if first_pass {
            self.moments.push(value, 1.0);
        }
        if let Some(selection) = &mut self.selection {
            selection.add(value);
        }
    }
}

/// The cells of one breakdown (the whole population is a breakdown by no column), coded as batches arrive.
#[derive(Debug)]
struct Breakdown {
    columns: Vec<String>,
    with_medians: bool,
    code_of: HashMap<Vec<Option<String>>, u32, FixedState>,
    keys: Vec<Vec<Option<String>>>,
    /// Per cell, per gender label.
    groups: Vec<Vec<Group>>,
}

impl Breakdown {
    fn new(columns: Vec<String>, with_medians: bool) -> Breakdown {
        Breakdown { columns, with_medians, code_of: HashMap::default(), keys: Vec::new(), groups: Vec::new() }
    }

    /// The cell of every row of `frame` (new cells are added in the first pass only).
    fn cells(&mut self, frame: &DataFrame, first_pass: bool) -> Result<Vec<u32>> {
        if self.columns.is_empty() {
            if self.groups.is_empty() {
                self.keys.push(Vec::new());
                self.groups.push(Vec::new());
            }
            return Ok(vec![0; frame.height()]);
        }
        let refs: Vec<&Column> = self.columns.iter().map(|c| frame.column(c)).collect::<PolarsResult<_>>()?;
        let local = combined_codes(&refs, frame.height())?;
        let texts: Vec<StringChunked> =
            refs.iter().map(|c| Ok(c.cast(&DataType::String)?.str()?.clone())).collect::<Result<_>>()?;
        let mut global = vec![u32::MAX; local.count];
        for (row, &code) in local.codes.iter().enumerate() {
            if global[code as usize] != u32::MAX {
                continue;
            }
            let key: Vec<Option<String>> = texts.iter().map(|t| t.get(row).map(String::from)).collect();
            let next = self.keys.len() as u32;
            let cell = match self.code_of.get(&key) {
                Some(&cell) => cell,
                None if first_pass => {
                    self.code_of.insert(key.clone(), next);
                    self.keys.push(key);
                    self.groups.push(Vec::new());
                    next
                }
                None => return Err(Error::Invalid("internal: a cell appeared after the first pass".into())),
            };
            global[code as usize] = cell;
        }
        Ok(local.codes.iter().map(|&c| global[c as usize]).collect())
    }

    fn group(&mut self, cell: u32, gender: u32) -> &mut Group {
        let groups = &mut self.groups[cell as usize];
        while groups.len() <= gender as usize {
            groups.push(Group::empty(self.with_medians));
        }
        &mut groups[gender as usize]
    }

    fn selections(&mut self) -> impl Iterator<Item = &mut RankSelection> {
        self.groups.iter_mut().flatten().filter_map(|g| g.selection.as_mut())
    }

    fn group_key(&self, cell: usize) -> GroupKey {
        self.columns.iter().cloned().zip(self.keys[cell].iter().cloned()).collect()
    }
}

/// The state of a streamed gap over row units; see the module docs.
#[derive(Debug)]
pub(crate) struct RowGap<'o> {
    options: &'o GapOptions,
    keep: Vec<String>,
    /// Values that may be collected in a pass, over all cells.
    collect_budget: u64,
    pass: usize,
    ledger: Ledger,
    measure: Option<Measure>,
    labels: Vec<String>,
    overall: Breakdown,
    by: Breakdown,
    factors: Option<Breakdown>,
    /// Per breakdown (overall, by), cell and gender: the ranks of the median and of each replicate.
    ranks: Vec<BreakdownRanks>,
}

impl<'o> RowGap<'o> {
    pub(crate) fn new(options: &'o GapOptions, stream: &StreamOptions) -> RowGap<'o> {
        let factors = options.factors.clone().unwrap_or_else(|| options.by.clone());
        let mut keep: Vec<String> = options.by.clone();
        keep.extend(factors.iter().filter(|f| !options.by.contains(f)).cloned());
        let factor_breakdown =
            (!factors.is_empty() && factors != options.by).then(|| Breakdown::new(factors.clone(), false));
        RowGap {
            options,
            keep,
            collect_budget: stream.memory_limit / COLLECT_SHARE / 8,
            pass: 1,
            ledger: Ledger::new(0),
            measure: None,
            labels: vec![FEMALE.to_string(), MALE.to_string()],
            overall: Breakdown::new(Vec::new(), true),
            by: Breakdown::new(options.by.clone(), true),
            factors: factor_breakdown,
            ranks: Vec::new(),
        }
    }

    /// True when every median and replicate is resolved.
    pub(crate) fn is_done(&self) -> bool {
        self.pass > 1
            && [&self.overall, &self.by]
                .iter()
                .all(|b| b.groups.iter().flatten().all(|g| g.selection.as_ref().is_none_or(|s| s.is_done())))
    }

    /// Adds one batch to the current pass.
    pub(crate) fn update(&mut self, batch: &Batch) -> Result<()> {
        let prepared = prepare(&batch.frame, &self.options.prepare_spec(&self.keep, false))
            .map_err(|e| shift_rows(e, batch.offset))?;
        let first_pass = self.pass == 1;
        if first_pass {
            merge_ledger(&mut self.ledger, &prepared.ledger);
            self.measure = Some(prepared.measure);
        }
        let frame = &prepared.frame;
        let pay = frame.column(COL_PAY)?.f64()?.rechunk();
        let y: Vec<f64> = match prepared.measure {
            Measure::Hourly => {
                let hours = frame.column(COL_HOURS)?.f64()?.rechunk();
                pay.into_no_null_iter().zip(hours.into_no_null_iter()).map(|(p, h)| p / h).collect()
            }
            Measure::Pay => pay.into_no_null_iter().collect(),
        };
        let batch_labels: Vec<u32> = prepared.gender_labels.iter().map(|l| self.label_index(l)).collect();
        let genders: Vec<u32> =
            frame.column(COL_GENDER)?.u32()?.into_no_null_iter().map(|g| batch_labels[g as usize]).collect();
        let overall = self.overall.cells(frame, first_pass)?;
        let by = self.by.cells(frame, first_pass)?;
        let factors = match &mut self.factors {
            Some(f) if first_pass => Some(f.cells(frame, true)?),
            _ => None,
        };
        let has_by = !self.by.columns.is_empty();
        for (i, (&value, &gender)) in y.iter().zip(&genders).enumerate() {
            self.overall.group(overall[i], gender).add(value, first_pass);
            if has_by {
                self.by.group(by[i], gender).add(value, first_pass);
            }
            if let (Some(breakdown), Some(cells)) = (&mut self.factors, &factors) {
                breakdown.group(cells[i], gender).moments.push(value, 1.0);
            }
        }
        Ok(())
    }

    fn label_index(&mut self, label: &str) -> u32 {
        match self.labels.iter().position(|l| l == label) {
            Some(i) => i as u32,
            None => {
                self.labels.push(label.to_string());
                (self.labels.len() - 1) as u32
            }
        }
    }

    /// Ends a pass: after the first, the ranks of every median and replicate are set (they depend only on
    /// each group's count and seed); then every selection narrows or resolves.
    pub(crate) fn end_pass(&mut self) -> Result<()> {
        if self.pass == 1 {
            self.sort_labels();
            self.ranks = vec![self.target(true), self.target(false)];
            let groups: u64 =
                [&self.overall, &self.by].iter().map(|b| b.groups.iter().map(Vec::len).sum::<usize>() as u64).sum();
            let limit = (self.collect_budget / groups.max(1)).max(1 << 8);
            for selection in self.overall.selections().chain(self.by.selections()) {
                selection.set_collect_limit(limit);
            }
        }
        for selection in self.overall.selections().chain(self.by.selections()) {
            selection.refine()?;
        }
        self.pass += 1;
        Ok(())
    }

    /// Gender labels as in memory: F, M, then the other values sorted; every cell gets a group per label.
    fn sort_labels(&mut self) {
        let mut labels = self.labels[..2].to_vec();
        let mut others = self.labels[2..].to_vec();
        others.sort();
        labels.extend(others);
        let order: Vec<usize> = labels.iter().map(|l| self.labels.iter().position(|m| m == l).unwrap_or(0)).collect();
        for breakdown in [&mut self.overall, &mut self.by].into_iter().chain(self.factors.as_mut()) {
            let with_medians = breakdown.with_medians;
            for groups in &mut breakdown.groups {
                let mut old: Vec<Option<Group>> = std::mem::take(groups).into_iter().map(Some).collect();
                *groups = order
                    .iter()
                    .map(|&i| old.get_mut(i).and_then(Option::take).unwrap_or_else(|| Group::empty(with_medians)))
                    .collect();
            }
        }
        self.labels = labels;
    }

    /// The ranks each group needs (the median's and every replicate's), set on its selection.
    fn target(&mut self, overall: bool) -> BreakdownRanks {
        let options = self.options;
        let breakdown = if overall { &mut self.overall } else { &mut self.by };
        let mut all = Vec::new();
        for cell in 0..breakdown.groups.len() {
            let seed = if overall { mix64(options.seed) } else { cell_seed(options, &breakdown.group_key(cell)) };
            let mut per_gender = Vec::new();
            for (g, group) in breakdown.groups[cell].iter_mut().enumerate() {
                let n = group.moments.n as usize;
                let gender_seed = mix64(seed ^ (g as u64).wrapping_mul(0xA076_1D64_78BD_642F));
                let mut ranks = vec![median_ranks(n)];
                ranks.extend(bootstrap_ranks(n, options.bootstrap_reps, gender_seed));
                if let Some(selection) = &mut group.selection {
                    let flat: Vec<u64> =
                        ranks.iter().flat_map(|(a, b)| std::iter::once(*a).chain(*b)).map(|r| r as u64).collect();
                    selection.target(&flat);
                }
                per_gender.push(ranks);
            }
            all.push(per_gender);
        }
        all
    }

    /// The gap document.
    pub(crate) fn finish(self) -> Result<GapResult> {
        let overall = self
            .cells(&self.overall, &self.ranks[0])
            .pop()
            .map(|(_, c)| c)
            .unwrap_or(CellStats { groups: empty_groups(&self.labels) });
        let mut by = if self.options.by.is_empty() { Vec::new() } else { self.cells(&self.by, &self.ranks[1]) };
        by.sort_by(|a, b| a.0.values().cmp(b.0.values()));
        let factors = self.factors.as_ref().map(|f| {
            let mut cells = self.cells(f, &[]);
            cells.sort_by(|a, b| a.0.values().cmp(b.0.values()));
            cells
        });
        let warnings = self.ledger.warnings();
        let facts = GapFacts {
            ledger: self.ledger,
            warnings,
            measure: self.measure.or(self.options.measure).unwrap_or(Measure::Pay),
            unit: Unit::Row,
            weighted: false,
        };
        crate::gap::compute::finite(publish(facts, GapCells { overall, by, factors }, self.options))
    }

    /// Each cell's statistics: women and men always, other values when present.
    fn cells(&self, breakdown: &Breakdown, ranks: &[Vec<Vec<RankPair>>]) -> Vec<(GroupKey, CellStats)> {
        (0..breakdown.groups.len())
            .map(|cell| {
                let groups = (0..self.labels.len())
                    .filter_map(|g| {
                        let group = breakdown.groups[cell].get(g);
                        let n = group.map_or(0, |x| x.moments.n);
                        if g >= 2 && n == 0 {
                            return None;
                        }
                        let moments = group.map(|x| x.moments).unwrap_or_default();
                        let value = |r: usize| {
                            group.and_then(|x| x.selection.as_ref()).and_then(|s| s.value(r as u64)).unwrap_or(f64::NAN)
                        };
                        let resolve = |(lower, upper): RankPair| match upper {
                            None => value(lower),
                            Some(upper) => 0.5 * (value(lower) + value(upper)),
                        };
                        let wanted = ranks.get(cell).and_then(|c| c.get(g));
                        let (median, replicates) = match wanted {
                            Some(r) if breakdown.with_medians && n > 0 => {
                                (Some(resolve(r[0])), r[1..].iter().map(|&p| resolve(p)).collect())
                            }
                            _ => (None, Vec::new()),
                        };
                        Some(GenderStats { label: self.labels[g].clone(), moments, median, replicates })
                    })
                    .collect();
                (breakdown.group_key(cell), CellStats { groups })
            })
            .collect()
    }
}

/// Women and men with no units.
fn empty_groups(labels: &[String]) -> Vec<GenderStats> {
    labels[..2]
        .iter()
        .map(|l| GenderStats {
            label: l.clone(),
            moments: MeanMoments::default(),
            median: None,
            replicates: Vec::new(),
        })
        .collect()
}

/// The 0-based ranks of the median of n values: the middle one, or the two middle ones for even n.
fn median_ranks(n: usize) -> RankPair {
    if n % 2 == 1 || n == 0 {
        (n / 2, None)
    } else {
        (n / 2 - 1, Some(n / 2))
    }
}

/// The raw gap of streamed row units: the plan of passes (moments and counts, then narrowing until every
/// rank is resolved).
pub(crate) fn row_gap_source(
    source: &Source,
    options: &GapOptions,
    wanted: &[String],
    stream: &StreamOptions,
    progress: &dyn Progress,
) -> Result<GapResult> {
    let mut state = RowGap::new(options, stream);
    loop {
        let pass = state.pass;
        let what = if pass == 1 { "moments and counts" } else { "exact medians" };
        stream_pass(source, wanted, stream, progress, (pass, pass.max(3), what), |batch| state.update(batch))?;
        state.end_pass()?;
        if state.is_done() {
            return state.finish();
        }
    }
}
