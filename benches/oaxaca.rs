//! Oaxaca-Blinder on 10 million generated rows × 20 numeric covariates (issue 4's target: ≤ 1 s in memory on
//! the 2-core development machine): twofold (pooled) + threefold + detailed terms with delta-method SEs, and
//! the same with a 12-level categorical added. Data are built in memory so the bench measures the analysis.

use criterion::{criterion_group, criterion_main, Criterion};
use payequity::decompose::{oaxaca, OaxacaOptions};
use payequity::polars::prelude::*;

const ROWS: usize = 10_000_000;
const COVARIATES: usize = 20;

/// Deterministic rows: group, 20 covariates, a 12-level grade, log pay linear in them (xorshift noise).
fn payroll(rows: usize) -> DataFrame {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut columns: Vec<Vec<f64>> = (0..COVARIATES).map(|_| Vec::with_capacity(rows)).collect();
    let mut gender = Vec::with_capacity(rows);
    let mut grade = Vec::with_capacity(rows);
    let mut y = Vec::with_capacity(rows);
    for _ in 0..rows {
        let male = next() < 0.3;
        let mut pay = 2.5 + if male { 0.1 } else { 0.0 };
        for (j, column) in columns.iter_mut().enumerate() {
            let x = next() * (1.0 + j as f64) + if male { 0.2 } else { 0.0 };
            pay += 0.01 * x / (1.0 + j as f64);
            column.push(x);
        }
        let g = (next() * 12.0) as u32;
        gender.push(if male { "M" } else { "F" });
        grade.push(format!("G{g:02}"));
        y.push(pay + 0.02 * g as f64 + 0.2 * (next() - 0.5));
    }
    let mut frame = df!("gender" => gender, "grade" => grade, "log_pay" => y).expect("valid frame");
    for (j, column) in columns.into_iter().enumerate() {
        frame.with_column(Column::new(format!("x{j:02}").into(), column)).expect("same height");
    }
    frame
}

fn bench(c: &mut Criterion) {
    let frame = payroll(ROWS);
    let options = OaxacaOptions {
        outcome: "log_pay".into(),
        group: "gender".into(),
        group_a: "M".into(),
        covariates: (0..COVARIATES).map(|j| format!("x{j:02}")).collect(),
        ..Default::default()
    };
    let mut group = c.benchmark_group("oaxaca_10M_x20");
    group.sample_size(10);
    group.bench_function("pooled_twofold_threefold_detailed_delta", |b| {
        b.iter(|| oaxaca(&frame, &options).expect("oaxaca"))
    });
    let with_grade = OaxacaOptions { categorical: vec!["grade".into()], ..options.clone() };
    group.bench_function("plus_12_level_categorical_yun", |b| b.iter(|| oaxaca(&frame, &with_grade).expect("oaxaca")));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
