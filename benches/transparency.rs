//! Pay transparency on 10 million employee-period rows (issue 5's target: all regimes ≤ 3 s in memory on the
//! 2-core development machine): EU Art. 9(1)(a)–(g) on hourly and annual pay with Art. 10, the UK six
//! figures, Logib, and all three in one report, with the bench config `benches/transparency_10m.toml` on the
//! generator's payroll (833,334 employees × 12 months, seed 7: the same rows as
//! `benches/data/payroll_10m.parquet`). Rows are generated in memory so the bench measures the analysis.

use criterion::{criterion_group, criterion_main, Criterion};
use payequity::config::AuditConfig;
use payequity::synthetic::{generate, GeneratorOptions};
use payequity::transparency::{transparency, Regime, TransparencyOptions};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EMPLOYEES: usize = 833_334;

fn bench(c: &mut Criterion) {
    // The CLI's allocator settings.
    payequity::allocator::configure();
    let generated = generate(&GeneratorOptions { employees: EMPLOYEES, months: 12, seed: 7, ..Default::default() })
        .expect("generator");
    let frame = generated.payroll;
    let config = AuditConfig::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../../benches/transparency_10m.toml"))
        .expect("bench config");
    let options = config.transparency_options().expect("transparency options");
    let mut group = c.benchmark_group(format!("transparency_{}_rows", frame.height()));
    group.sample_size(10);
    for (name, regimes) in [
        ("eu", vec![Regime::Eu]),
        ("uk", vec![Regime::Uk]),
        ("logib", vec![Regime::Logib]),
        ("all", vec![Regime::Eu, Regime::Uk, Regime::Logib]),
    ] {
        let options = TransparencyOptions { regimes, ..options.clone() };
        group.bench_function(name, |b| b.iter(|| transparency(&frame, &options).expect("transparency")));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
