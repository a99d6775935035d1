//! Stable-toolchain mutation fuzzing of the three parsers that read untrusted text (issue 18): the payroll
//! loader (CSV, Parquet, Arrow IPC), the audit config parser, and the rule files with their SQL expressions.
//!
//! Each target starts from real inputs (the demo payroll, its config, the shipped rule sets), mutates them
//! (bit flips, interesting bytes, dictionary tokens, deletions, duplications, splices) and runs the parser,
//! and what follows it when the parse succeeds (the gap on a loaded table, every option block of a config,
//! compiling and running a rule set on a small payroll). An error is a pass; a panic is a failure, and the
//! input is saved under `target/fuzz-failures/` for a regression test.
//!
//! `make test` runs each target for `PAYEQUITY_FUZZ_SECONDS` (default 2); `docs/security.md` records the
//! 10-minute runs (`PAYEQUITY_FUZZ_SECONDS=600 cargo test --release -p payequity --test fuzz -- --nocapture`).
//! `PAYEQUITY_FUZZ_SEED` fixes the seed (default: the clock, printed).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use payequity::config::AuditConfig;
use payequity::data::{load_table, table_schema, write_table};
use payequity::entitlements::{audit_entitlements, EntitlementOptions, RuleSet};
use payequity::gap::{gap, GapOptions};
use polars::prelude::*;

/// The allocator of the CLI and the Python module: it reserves address space lazily, so an impossible buffer
/// length in a damaged Arrow IPC file becomes polars' "expected buffer of len …" error instead of an abort
/// (with the system allocator, polars 0.55 aborts on it; see docs/security.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The message of the last panic (the hook runs before the unwind reaches [`fuzz`]).
static LAST_PANIC: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// xorshift64*: a small, seedable generator (the fuzzer needs speed and reproducibility, not quality).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const INTERESTING_BYTES: &[u8] =
    b"\"',;\n\r\t\0=+-@[]{}()<>|\\/.0123456789eE\x1b\x7f\xc3\xa9\xe2\x80\xae\xff#$%&*^~`!?:_ ";

/// Tokens that reach parser corners: numbers at the edges, TOML syntax, SQL keywords and functions.
const DICTIONARY: &[&str] = &[
    "NaN",
    "inf",
    "-inf",
    "1e308",
    "-1e308",
    "1e-320",
    "0",
    "-0",
    "18446744073709551615",
    "9223372036854775808",
    "007",
    "\"\"",
    "''",
    "true",
    "false",
    "null",
    "NULL",
    "[[rule]]",
    "[ruleset]",
    "[columns]",
    "[gap]",
    "[transparency]",
    "[equal_value]",
    "[entitlements]",
    " = ",
    "= [",
    "]",
    "{ ",
    " }",
    "\"\"\"",
    "'''",
    " AND ",
    " OR ",
    " NOT ",
    " IN (",
    " BETWEEN ",
    " LIKE '%",
    " IS NULL",
    "CASE WHEN ",
    " THEN ",
    " ELSE ",
    " END",
    "CAST(",
    " AS DOUBLE)",
    "SELECT ",
    " FROM ",
    "read_csv('/etc/passwd')",
    "EXISTS (",
    "((((((((",
    "))))))))",
    "COALESCE(",
    "ABS(",
    "ROUND(",
    "1/0",
    "/ 0",
    "%",
    "||",
    "::",
    "$1",
    "?",
    ";",
    "--",
    "/*",
    "*/",
    "2025-12",
    "202512",
    "Dec 2025",
    "2025-02-30",
    "9999-12-31",
    "\u{202e}",
    "=cmd|' /C calc'!A0",
];

/// One to eight random mutations of `seed`, sometimes spliced with `other`.
fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(data.len() + 1);
        match rng.below(8) {
            0 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
            1 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] = INTERESTING_BYTES[rng.below(INTERESTING_BYTES.len())];
            }
            2 => {
                let token = DICTIONARY[rng.below(DICTIONARY.len())].as_bytes();
                data.splice(at..at, token.iter().copied());
            }
            3 if !data.is_empty() => {
                let end = (at + 1 + rng.below(64)).min(data.len());
                let start = at.min(end);
                data.drain(start..end);
            }
            4 if !data.is_empty() => {
                let start = rng.below(data.len());
                let end = (start + 1 + rng.below(256)).min(data.len());
                let copy = data[start..end].to_vec();
                data.splice(at.min(data.len())..at.min(data.len()), copy);
            }
            5 if !other.is_empty() => {
                let start = rng.below(other.len());
                let end = (start + 1 + rng.below(512)).min(other.len());
                data.truncate(at.min(data.len()));
                data.extend_from_slice(&other[start..end]);
            }
            6 => data.truncate(at),
            _ => {
                let token = DICTIONARY[rng.below(DICTIONARY.len())].as_bytes();
                let end = (at + token.len()).min(data.len());
                data.splice(at.min(end)..end, token.iter().copied());
            }
        }
    }
    data
}

/// Seconds one input may run before the watchdog calls it a hang (a loaded table's gap in a debug build takes
/// well under a second).
const HANG_SECONDS: u64 = 20;

fn budget() -> Duration {
    let seconds = std::env::var("PAYEQUITY_FUZZ_SECONDS").ok().and_then(|s| s.parse::<f64>().ok()).unwrap_or(2.0);
    Duration::from_secs_f64(seconds.max(0.0))
}

fn seed() -> u64 {
    std::env::var("PAYEQUITY_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64) | 1
    })
}

/// Runs `target` on mutations of `seeds` for the time budget; panics are saved and reported.
fn fuzz(name: &str, seeds: &[Vec<u8>], mut target: impl FnMut(&[u8])) {
    let seed = seed();
    let mut rng = Rng(seed);
    let started = Instant::now();
    let (mut runs, mut failures) = (0u64, Vec::new());
    let folder = root().join("target").join("fuzz-failures");
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        *LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()) = format!("{location}: {message}");
    }));
    // A watchdog: an input that runs for more than HANG_SECONDS is saved and the process stops (a hang is a
    // failure like a panic, but cannot be unwound).
    let current = std::sync::Arc::new(std::sync::Mutex::new((Instant::now(), Vec::<u8>::new(), false)));
    let watched = std::sync::Arc::clone(&current);
    let hang_path = folder.join(format!("{name}-{seed}-hang.bin"));
    let target_name = name.to_string();
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_secs(1));
        let state = watched.lock().unwrap_or_else(|e| e.into_inner());
        if state.2 {
            return;
        }
        if state.0.elapsed() > Duration::from_secs(HANG_SECONDS) {
            let _ = std::fs::create_dir_all(hang_path.parent().expect("a folder"));
            let _ = std::fs::write(&hang_path, &state.1);
            println!("fuzz {target_name}: an input ran for over {HANG_SECONDS} s, saved as {}", hang_path.display());
            std::process::exit(3);
        }
    });
    while started.elapsed() < budget() || runs == 0 {
        let base = &seeds[rng.below(seeds.len())];
        let other = &seeds[rng.below(seeds.len())];
        let input =
            if runs < seeds.len() as u64 { seeds[runs as usize].clone() } else { mutate(&mut rng, base, other) };
        runs += 1;
        {
            let mut state = current.lock().unwrap_or_else(|e| e.into_inner());
            state.0 = Instant::now();
            state.1.clear();
            state.1.extend_from_slice(&input);
        }
        if catch_unwind(AssertUnwindSafe(|| target(&input))).is_err() {
            std::fs::create_dir_all(&folder).expect("target/ is writable");
            let path = folder.join(format!("{name}-{seed}-{runs}.bin"));
            std::fs::write(&path, &input).expect("target/ is writable");
            let message = LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()).clone();
            println!("fuzz {name}: panic on {}: {}", path.display(), message.chars().take(300).collect::<String>());
            failures.push(path);
        }
    }
    current.lock().unwrap_or_else(|e| e.into_inner()).2 = true;
    std::panic::set_hook(quiet);
    println!(
        "fuzz {name}: {runs} inputs in {:.0} s (seed {seed}), {} panic(s)",
        started.elapsed().as_secs_f64(),
        failures.len()
    );
    assert!(failures.is_empty(), "fuzz {name}: inputs that panicked, saved as {failures:?}");
}

/// The first 60 rows of the demo payroll (every column).
fn demo_head() -> DataFrame {
    load_table(root().join("datasets/demo/payroll.parquet")).expect("demo payroll").head(Some(60))
}

fn file_bytes(frame: &DataFrame, extension: &str) -> Vec<u8> {
    let dir = tempdir();
    let path = dir.join(format!("seed.{extension}"));
    write_table(&mut frame.clone(), &path).expect("writes the seed");
    let bytes = std::fs::read(&path).expect("reads the seed");
    let _ = std::fs::remove_dir_all(dir);
    bytes
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("payequity-fuzz-{}-{}", std::process::id(), seed()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn fuzz_payroll_loader() {
    let head = demo_head();
    let dir = tempdir();
    for extension in ["csv", "parquet", "arrow"] {
        let seeds = vec![file_bytes(&head, extension), file_bytes(&head.head(Some(3)), extension)];
        let path = dir.join(format!("input.{extension}"));
        fuzz(&format!("loader-{extension}"), &seeds, |bytes| {
            std::fs::write(&path, bytes).expect("temp file");
            let _ = table_schema(&path);
            if let Ok(frame) = load_table(&path) {
                let _ = gap(&frame, &GapOptions { by: vec!["occupation".into()], ..GapOptions::default() });
            }
        });
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn fuzz_config_parser() {
    let text = std::fs::read(root().join("datasets/demo/audit.toml")).expect("demo config");
    let seeds = vec![text, b"[columns]\ngender = \"sex\"\n[gap]\nby = [\"unit\"]\nmin_cell = 5\n".to_vec()];
    fuzz("config", &seeds, |bytes| {
        let Ok(text) = std::str::from_utf8(bytes) else { return };
        if let Ok(config) = AuditConfig::from_toml(text, "fuzz.toml") {
            let _ = config.gap_options();
            let _ = config.transparency_options();
            let _ = config.equal_value_options();
            let _ = config.entitlement_options();
            let _ = config.oaxaca_options();
        }
    });
}

#[test]
fn fuzz_rule_files_and_expressions() {
    let folder = root().join("datasets/rules");
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&folder)
        .expect("rules folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| std::fs::read(p).expect("rule file"))
        .collect();
    seeds.sort();
    // Small rule files whose `when` is most of the text, so mutations land in the SQL expression.
    for when in [
        "hazard_hours > 0 AND risk_level IN ('high', 'medium')",
        "CASE WHEN fte >= 0.5 THEN overtime_hours ELSE 0 END > 1",
        "COALESCE(remoteness_tier, 0) BETWEEN 1 AND 2 OR occupation LIKE 'nurs%'",
    ] {
        seeds.push(
            format!(
                "[ruleset]\nname = \"f\"\nperiod = \"month\"\n[[rule]]\nid = \"r\"\nkind = \"hazard\"\nwhen = \
                 \"{when}\"\namount = {{ multiplier = 0.25, rate = \"base_hourly_rate\", hours = \"hazard_hours\" }}\n\
                 paid = \"hazard_pay\"\n"
            )
            .into_bytes(),
        );
    }
    let payroll = demo_head();
    let options = EntitlementOptions { logit: false, min_cell: 1, ..EntitlementOptions::default() };
    fuzz("rules", &seeds, |bytes| {
        let Ok(text) = std::str::from_utf8(bytes) else { return };
        if let Ok(rules) = RuleSet::from_toml(text, "fuzz.toml") {
            let _ = audit_entitlements(&payroll, &rules, &options);
        }
    });
}
