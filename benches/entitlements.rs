//! Entitlement audit on 10 million worker-periods × 6 rules (issue 7's target: ≤ 5 s in memory on the
//! 2-core development machine), with `benches/entitlements_6rules.toml` on the generator's payroll
//! (833,334 employees × 12 months, seed 7), disparities by gender and contract type and the logit with
//! occupation as control. Rows are generated in memory so the bench measures the audit.

use criterion::{criterion_group, criterion_main, Criterion};
use payequity::entitlements::{audit_entitlements, EntitlementOptions, RuleSet};
use payequity::polars::prelude::*;
use payequity::synthetic::{generate, GeneratorOptions};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EMPLOYEES: usize = 833_334;

fn bench(c: &mut Criterion) {
    // The CLI's allocator settings.
    payequity::allocator::configure();
    let frame = generate(&GeneratorOptions { employees: EMPLOYEES, months: 12, seed: 7, ..Default::default() })
        .expect("generator")
        .payroll;
    let frame = with_allowances(frame);
    let rules = RuleSet::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../../benches/entitlements_6rules.toml"))
        .expect("bench rules");
    let options = EntitlementOptions {
        by: vec!["gender".into(), "contract_type".into()],
        controls: vec!["occupation".into()],
        ..Default::default()
    };
    let mut group = c.benchmark_group(format!("entitlements_{}_rows", frame.height()));
    group.sample_size(10);
    group.bench_function("six_rules", |b| b.iter(|| audit_entitlements(&frame, &rules, &options).expect("audit")));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

/// The paid columns of the bench's two extra allowances, paid as the rules say (a payroll mostly right).
fn with_allowances(frame: DataFrame) -> DataFrame {
    let icu = col("unit").eq(lit("ICU")).or(col("unit").eq(lit("COVID ward"))).or(col("unit").eq(lit("emergency")));
    frame
        .lazy()
        .with_columns([
            when(icu)
                .then((col("base_pay") * lit(0.05)).round(2, RoundMode::HalfAwayFromZero))
                .otherwise(lit(0.0))
                .alias("unsocial_paid"),
            (col("hazard_shifts").cast(DataType::Float64) * lit(12.0)).clip_max(lit(100.0)).alias("shift_paid"),
        ])
        .collect()
        .expect("paid columns")
}
