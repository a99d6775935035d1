//! Raw gaps by group on 10 million generated rows (the skeleton issue's speed target: ≤ 1 s on the 2-core
//! development machine). Data are built in memory so the bench measures the analysis, not file reading.

use criterion::{criterion_group, criterion_main, Criterion};
use payequity::gap::{gap, GapOptions};
use payequity::polars::prelude::*;

const ROWS: usize = 10_000_000;
const OCCUPATIONS: [&str; 10] = ["2211", "2212", "2221", "2222", "3221", "3253", "5321", "5322", "9112", "9621"];

/// A deterministic payroll: gender, occupation, pay and hours (xorshift noise, no RNG crate needed).
fn payroll(rows: usize) -> DataFrame {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut gender = Vec::with_capacity(rows);
    let mut occupation = Vec::with_capacity(rows);
    let mut pay = Vec::with_capacity(rows);
    let mut hours = Vec::with_capacity(rows);
    for _ in 0..rows {
        let o = (next() * 10.0) as usize;
        let female = next() < 0.75;
        let h = 80.0 + (next() * 90.0).round();
        let rate = 12.0 + 3.0 * o as f64 + 4.0 * next() - if female { 1.5 } else { 0.0 };
        gender.push(if female { "F" } else { "M" });
        occupation.push(OCCUPATIONS[o]);
        pay.push(rate * h);
        hours.push(h);
    }
    df!("gender" => gender, "occupation" => occupation, "pay" => pay, "hours" => hours).expect("valid frame")
}

fn bench(c: &mut Criterion) {
    let frame = payroll(ROWS);
    let mut options = GapOptions::default();
    options.columns.pay = vec!["pay".into()];
    options.columns.hours = Some("hours".into());
    options.by = vec!["occupation".into()];
    let mut group = c.benchmark_group("gap_by_group_10M");
    group.sample_size(10);
    group.bench_function("mean_median_ci_bootstrap1000", |b| b.iter(|| gap(&frame, &options).expect("gap")));
    let mut no_bootstrap = options.clone();
    no_bootstrap.bootstrap_reps = 0;
    group.bench_function("mean_median_ci_no_bootstrap", |b| b.iter(|| gap(&frame, &no_bootstrap).expect("gap")));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
