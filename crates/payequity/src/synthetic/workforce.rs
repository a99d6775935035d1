//! Workforce model of the generator: occupations (ISCO-08), units, contracts, pay components, and the
//! planted truths (within-job gap, equal-value pairs paid differently, hazard pay not paid).

use polars::prelude::*;
use rand_core::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{Error, Result};

/// An occupation of the generated workforce.
#[derive(Debug, Clone, Copy)]
pub struct Occupation {
    /// ISCO-08 unit group code.
    pub isco: &'static str,
    pub title: &'static str,
    /// Share of the workforce.
    pub share: f64,
    /// Probability that a worker is a woman.
    pub female_share: f64,
    /// Base hourly rate at zero tenure.
    pub base_rate: f64,
    /// Years of education (typical).
    pub education_years: f64,
    /// Logib skill level (1 = highest).
    pub skill_level: u8,
    /// Lowest pay band.
    pub band: u8,
    /// Job-evaluation points used to plant equal-value pairs.
    pub job_points: u32,
    /// Works in hospital units (else community or residential care).
    pub hospital: bool,
}

/// The occupations, with female shares and pay levels typical of health and care (WHO/ILO 2022).
pub const OCCUPATIONS: [Occupation; 11] = [
    Occupation {
        isco: "2211",
        title: "Generalist medical practitioners",
        share: 0.07,
        female_share: 0.45,
        base_rate: 38.0,
        education_years: 18.0,
        skill_level: 1,
        band: 8,
        job_points: 720,
        hospital: true,
    },
    Occupation {
        isco: "2212",
        title: "Specialist medical practitioners",
        share: 0.07,
        female_share: 0.35,
        base_rate: 50.0,
        education_years: 20.0,
        skill_level: 1,
        band: 9,
        job_points: 800,
        hospital: true,
    },
    Occupation {
        isco: "2221",
        title: "Nursing professionals",
        share: 0.23,
        female_share: 0.88,
        base_rate: 22.0,
        education_years: 16.0,
        skill_level: 2,
        band: 5,
        job_points: 520,
        hospital: true,
    },
    Occupation {
        isco: "2222",
        title: "Midwifery professionals",
        share: 0.04,
        female_share: 0.98,
        base_rate: 23.0,
        education_years: 16.0,
        skill_level: 2,
        band: 6,
        job_points: 540,
        hospital: true,
    },
    Occupation {
        isco: "3221",
        title: "Nursing associate professionals",
        share: 0.10,
        female_share: 0.85,
        base_rate: 16.0,
        education_years: 14.0,
        skill_level: 3,
        band: 4,
        job_points: 410,
        hospital: true,
    },
    Occupation {
        isco: "3253",
        title: "Community health workers",
        share: 0.06,
        female_share: 0.75,
        base_rate: 14.0,
        education_years: 12.0,
        skill_level: 3,
        band: 3,
        job_points: 360,
        hospital: false,
    },
    Occupation {
        isco: "5321",
        title: "Health care assistants",
        share: 0.17,
        female_share: 0.82,
        base_rate: 12.0,
        education_years: 11.0,
        skill_level: 4,
        band: 2,
        job_points: 330,
        hospital: true,
    },
    Occupation {
        isco: "5322",
        title: "Home-based personal care workers",
        share: 0.10,
        female_share: 0.88,
        base_rate: 11.5,
        education_years: 10.0,
        skill_level: 4,
        band: 2,
        job_points: 300,
        hospital: false,
    },
    Occupation {
        isco: "9112",
        title: "Cleaners and helpers in hospitals",
        share: 0.07,
        female_share: 0.75,
        base_rate: 11.2,
        education_years: 9.5,
        skill_level: 4,
        band: 1,
        job_points: 230,
        hospital: true,
    },
    Occupation {
        isco: "9621",
        title: "Porters",
        share: 0.04,
        female_share: 0.10,
        base_rate: 13.2,
        education_years: 10.0,
        skill_level: 4,
        band: 2,
        job_points: 290,
        hospital: true,
    },
    Occupation {
        isco: "5414",
        title: "Security guards",
        share: 0.03,
        female_share: 0.12,
        base_rate: 13.0,
        education_years: 10.0,
        skill_level: 4,
        band: 2,
        job_points: 300,
        hospital: true,
    },
];

/// Women's base rate relative to men's with otherwise equal characteristics (planted within-job gap).
const WITHIN_JOB_GAP: [(&str, f64); 3] = [("2211", 0.92), ("2212", 0.92), ("3221", 0.97)];
/// Management posts (Logib positions 2 and 3) pay this factor on the rate, to women and men alike.
const MANAGEMENT_PREMIUM: f64 = 1.10;
/// The planted glass ceiling: a woman reaches a management post with this factor on a man's probability
/// (0.08 + tenure/200) at the same tenure; the control population (`plant_disparity = false`) has 1.
const FEMALE_MANAGEMENT_ODDS: f64 = 0.5;
/// Hazard allowance per hazard hour, as a share of the base hourly rate, by risk level.
const HAZARD_RATE: [(&str, f64); 2] = [("high", 0.25), ("medium", 0.10)];
const STANDARD_MONTHLY_HOURS: f64 = 162.5; // 37.5 h/week × 52 / 12
const REMOTE_ALLOWANCE: f64 = 180.0; // per month at FTE 1
const HOSPITAL_UNITS: [&str; 5] = ["ICU", "COVID ward", "emergency", "general ward", "outpatient"];
const HOSPITAL_UNIT_SHARES: [f64; 5] = [0.12, 0.10, 0.15, 0.45, 0.18];

/// The largest workforce the generator draws (it holds every row in memory).
const MAX_EMPLOYEES: usize = 20_000_000;
/// The longest span in months (50 years).
const MAX_MONTHS: usize = 600;
/// The most rows of one generated file.
const MAX_ROWS: usize = 200_000_000;

/// Options of the generator.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GeneratorOptions {
    pub employees: usize,
    pub months: usize,
    pub seed: u64,
    pub start_year: i32,
    /// Plant the group disparities: hazard-pay non-payment more frequent for women and agency workers, and
    /// the glass ceiling (women reach management posts with half men's probability). `false` gives a
    /// control population: non-payment equally frequent for all (same overall rate), equal promotion odds.
    pub plant_disparity: bool,
}

impl Default for GeneratorOptions {
    fn default() -> Self {
        GeneratorOptions { employees: 5000, months: 12, seed: 2022, start_year: 2025, plant_disparity: true }
    }
}

/// The generated payroll (one row per employee × month) and its planted truths.
#[derive(Debug)]
pub struct Synthetic {
    pub payroll: DataFrame,
    pub truth: Value,
}

struct Draws(Pcg64);

impl Draws {
    fn uniform(&mut self) -> f64 {
        ((self.0.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
    fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }
    fn pick(&mut self, shares: &[f64]) -> usize {
        let total: f64 = shares.iter().sum();
        let mut u = self.uniform() * total;
        for (i, s) in shares.iter().enumerate() {
            if u < *s {
                return i;
            }
            u -= s;
        }
        shares.len() - 1
    }
    fn exponential(&mut self, mean: f64) -> f64 {
        -mean * self.uniform().ln()
    }
}

fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

struct Employee {
    id: String,
    occupation: Occupation,
    gender: &'static str,
    age: f64,
    education_years: f64,
    tenure_years: f64,
    grade: String,
    position: u8,
    unit: &'static str,
    facility: String,
    region: &'static str,
    contract: &'static str,
    fte: f64,
    rate: f64,
}

fn draw_employee(i: usize, d: &mut Draws, plant_disparity: bool) -> Employee {
    let occupation = OCCUPATIONS[d.pick(&OCCUPATIONS.map(|o| o.share))];
    let gender = if d.chance(0.003) {
        "X"
    } else if d.chance(occupation.female_share) {
        "F"
    } else {
        "M"
    };
    let min_age = 18.0 + occupation.education_years - 10.0;
    let age = (min_age + 2.0 + d.uniform() * (64.0 - min_age - 2.0)).floor();
    let education_years = (occupation.education_years + (d.uniform() * 3.0).floor() - 1.0).max(8.0);
    let max_tenure = (age - education_years - 6.0).max(0.0);
    let tenure_years = (d.exponential(7.0).min(max_tenure) * 10.0).round() / 10.0;
    let grade_step = (tenure_years / 8.0).floor().min(2.0) as u8;
    let grade = format!("B{}", occupation.band + grade_step);
    let ceiling = if gender == "F" && plant_disparity { FEMALE_MANAGEMENT_ODDS } else { 1.0 };
    let position = if d.chance((0.08 + tenure_years / 200.0) * ceiling) {
        2 + (d.uniform() * 2.0) as u8
    } else {
        4 + (d.uniform() * 2.0) as u8
    };
    let unit = if occupation.hospital {
        if occupation.isco == "5321" && d.chance(0.3) {
            "residential care"
        } else {
            HOSPITAL_UNITS[d.pick(&HOSPITAL_UNIT_SHARES)]
        }
    } else {
        "community"
    };
    let facility_index = 1 + (d.uniform() * 12.0) as usize;
    let facility = format!("F{facility_index:02}");
    let region = match facility_index {
        1..=7 => "urban",
        8..=10 => "rural",
        _ => "remote",
    };
    let contract = ["permanent", "fixed-term", "agency"][d.pick(&[0.75, 0.13, 0.12])];
    let fte = if gender == "F" {
        [1.0, 0.8, 0.6, 0.5][d.pick(&[0.5, 0.2, 0.2, 0.1])]
    } else {
        [1.0, 0.8, 0.6, 0.5][d.pick(&[0.8, 0.1, 0.05, 0.05])]
    };
    let mut rate = occupation.base_rate * (1.0 + 0.012 * tenure_years.min(25.0)) * (0.05 * d.normal()).exp();
    if contract == "agency" {
        rate *= 1.10;
    }
    if position <= 3 {
        rate *= MANAGEMENT_PREMIUM;
    }
    if gender == "F" {
        if let Some((_, factor)) = WITHIN_JOB_GAP.iter().find(|(isco, _)| *isco == occupation.isco) {
            rate *= factor;
        }
    }
    Employee {
        id: format!("E{:05}", i + 1),
        occupation,
        gender,
        age,
        education_years,
        tenure_years,
        grade,
        position,
        unit,
        facility,
        region,
        contract,
        fte,
        rate: cents(rate),
    }
}

/// Generates the payroll and its truths.
pub fn generate(options: &GeneratorOptions) -> Result<Synthetic> {
    if options.employees == 0 || options.months == 0 {
        return Err(Error::Invalid("generate needs at least one employee and one month".into()));
    }
    if options.employees > MAX_EMPLOYEES {
        return Err(Error::Invalid(format!(
            "generate: --employees {} is more than the {MAX_EMPLOYEES} the generator holds in memory; generate \
             several files with different --seed values for more",
            options.employees
        )));
    }
    if !(1900..=2200).contains(&options.start_year) || options.months > MAX_MONTHS {
        return Err(Error::Invalid(format!(
            "generate: --start-year must be within 1900..2200 and --months at most {MAX_MONTHS} (got {} and {})",
            options.start_year, options.months
        )));
    }
    if options.employees.saturating_mul(options.months) > MAX_ROWS {
        return Err(Error::Invalid(format!(
            "generate: {} employees × {} months is more than {MAX_ROWS} rows; lower one of them",
            options.employees, options.months
        )));
    }
    let mut d = Draws(Pcg64::seed_from_u64(options.seed));
    let employees: Vec<Employee> =
        (0..options.employees).map(|i| draw_employee(i, &mut d, options.plant_disparity)).collect();

    let n = options.employees * options.months;
    macro_rules! columns { ($($name:ident: $t:ty),*) => { $(let mut $name: Vec<$t> = Vec::with_capacity(n);)* } }
    columns!(employee_id: String, period: String, gender: String, age: f64, tenure_years: f64, education_years: f64,
        occupation: String, occupation_title: String, grade: String, skill_level: i64, position: i64, unit: String,
        facility: String, region: String, contract_type: String, fte: f64, hours_paid: f64, overtime_hours: f64,
        hazard_hours: f64, hazard_shifts: i64, risk_level: String, base_pay: f64, overtime_pay: f64,
        allowance_unsocial: f64, hazard_pay: f64, remote_allowance: f64, bonus: f64, full_pay: bool,
        payment_date: String, base_hourly_rate: f64, remoteness_tier: i64, days_worked: f64);

    let mut hazard_cases: Vec<Value> = Vec::new();
    let (mut hazard_eligible, mut hazard_expected_total, mut hazard_shortfall_total) = (0u64, 0.0, 0.0);
    let mut unpaid_leave_rows = 0u64;
    for m in 0..options.months {
        let year = options.start_year + (m / 12) as i32;
        let month = m % 12 + 1;
        let period_label = format!("{year}-{month:02}");
        for e in &employees {
            let unpaid_leave = d.chance(0.004);
            let reduced_pay = !unpaid_leave && d.chance(0.01);
            let hours = if unpaid_leave { 0.0 } else { (e.fte * STANDARD_MONTHLY_HOURS * 2.0).round() / 2.0 };
            let hospital_shift_work = e.occupation.hospital && e.unit != "outpatient";
            let ot_mean = if !hospital_shift_work {
                1.0
            } else if e.gender == "M" {
                9.0
            } else {
                6.0
            };
            let ot_hours = if unpaid_leave { 0.0 } else { (d.exponential(ot_mean) * e.fte).round() };
            let unsocial_hours =
                if hospital_shift_work && !unpaid_leave { (hours * (0.1 + 0.2 * d.uniform())).round() } else { 0.0 };
            let risk = match e.unit {
                "ICU" | "COVID ward" => "high",
                "emergency" => "medium",
                _ => "low",
            };
            let hazard_h = match risk {
                "high" if !unpaid_leave => (hours * (0.6 + 0.3 * d.uniform())).round(),
                "medium" if !unpaid_leave => (hours * (0.3 + 0.2 * d.uniform())).round(),
                _ => 0.0,
            };
            let base = cents(e.rate * hours * if reduced_pay { 0.5 } else { 1.0 });
            let overtime = cents(ot_hours * e.rate * 1.5);
            let unsocial = cents(unsocial_hours * e.rate * 0.3);
            let expected_hazard =
                HAZARD_RATE.iter().find(|(r, _)| *r == risk).map_or(0.0, |(_, share)| cents(hazard_h * e.rate * share));
            let mut paid_hazard = expected_hazard;
            if expected_hazard > 0.0 {
                hazard_eligible += 1;
                hazard_expected_total += expected_hazard;
                let p_not_paid = if options.plant_disparity {
                    0.02 + if e.contract == "agency" { 0.10 } else { 0.0 } + if e.gender == "F" { 0.04 } else { 0.0 }
                } else {
                    0.065
                };
                let status = if d.chance(p_not_paid) {
                    paid_hazard = 0.0;
                    Some("not_paid")
                } else if d.chance(0.02) {
                    paid_hazard = cents(expected_hazard * 0.5);
                    Some("underpaid")
                } else {
                    None
                };
                if let Some(status) = status {
                    let shortfall = cents(expected_hazard - paid_hazard);
                    hazard_shortfall_total += shortfall;
                    hazard_cases.push(json!({"employee_id": e.id, "period": period_label, "expected": expected_hazard,
                        "paid": paid_hazard, "shortfall": shortfall, "status": status}));
                }
            }
            let remote = if e.region == "remote" && !unpaid_leave { cents(REMOTE_ALLOWANCE * e.fte) } else { 0.0 };
            let bonus_amount = if e.occupation.skill_level == 1 && month == 3 && d.chance(0.6) {
                cents(2500.0 * (0.4 * d.normal()).exp() * if e.gender == "M" { 1.15 } else { 1.0 })
            } else if month == 12 && d.chance(0.05) {
                200.0
            } else {
                0.0
            };
            unpaid_leave_rows += u64::from(unpaid_leave);
            employee_id.push(e.id.clone());
            period.push(period_label.clone());
            gender.push(e.gender.into());
            age.push(e.age + (m / 12) as f64);
            tenure_years.push(e.tenure_years);
            education_years.push(e.education_years);
            occupation.push(e.occupation.isco.into());
            occupation_title.push(e.occupation.title.into());
            grade.push(e.grade.clone());
            skill_level.push(i64::from(e.occupation.skill_level));
            position.push(i64::from(e.position));
            unit.push(e.unit.into());
            facility.push(e.facility.clone());
            region.push(e.region.into());
            contract_type.push(e.contract.into());
            fte.push(e.fte);
            hours_paid.push(hours + ot_hours);
            overtime_hours.push(ot_hours);
            hazard_hours.push(hazard_h);
            hazard_shifts.push((hazard_h / 12.5).round() as i64);
            risk_level.push(risk.into());
            base_pay.push(base);
            overtime_pay.push(overtime);
            allowance_unsocial.push(unsocial);
            hazard_pay.push(paid_hazard);
            remote_allowance.push(remote);
            bonus.push(bonus_amount);
            full_pay.push(!reduced_pay && !unpaid_leave);
            payment_date.push(format!("{period_label}-28"));
            base_hourly_rate.push(e.rate);
            remoteness_tier.push(match e.region {
                "remote" => 2,
                "rural" => 1,
                _ => 0,
            });
            days_worked.push((hours / 7.5).round());
        }
    }
    // Planted data-quality problems: exact duplicate rows (a payroll export run twice for some workers).
    let duplicates = (options.employees / 200).max(1).min(n);
    let duplicate_rows: Vec<usize> = (0..duplicates).map(|_| (d.uniform() * n as f64) as usize).collect();

    let mut frame = df!(
        "employee_id" => employee_id, "period" => period, "gender" => gender, "age" => age,
        "tenure_years" => tenure_years, "education_years" => education_years, "occupation" => occupation,
        "occupation_title" => occupation_title, "grade" => grade, "skill_level" => skill_level,
        "position" => position, "unit" => unit, "facility" => facility, "region" => region,
        "contract_type" => contract_type, "fte" => fte, "hours_paid" => hours_paid,
        "overtime_hours" => overtime_hours, "hazard_hours" => hazard_hours, "hazard_shifts" => hazard_shifts,
        "risk_level" => risk_level, "base_pay" => base_pay, "overtime_pay" => overtime_pay,
        "allowance_unsocial" => allowance_unsocial, "hazard_pay" => hazard_pay,
        "remote_allowance" => remote_allowance, "bonus" => bonus, "full_pay" => full_pay,
        "payment_date" => payment_date, "base_hourly_rate" => base_hourly_rate,
        "remoteness_tier" => remoteness_tier, "days_worked" => days_worked
    )?;
    let idx = IdxCa::from_vec("idx".into(), duplicate_rows.iter().map(|&r| r as IdxSize).collect());
    let extra = frame.take(&idx)?;
    frame.vstack_mut(&extra)?;
    frame.rechunk_mut();

    let truth = json!({
        "generator": {"seed": options.seed, "employees": options.employees, "months": options.months,
                      "start_year": options.start_year, "plant_disparity": options.plant_disparity,
                      "payequity_version": crate::VERSION},
        "within_job_gap": WITHIN_JOB_GAP.iter().map(|(isco, f)| json!({"occupation": isco,
            "female_base_rate_factor": f, "gap_pct": 100.0 * (1.0 - f)})).collect::<Vec<_>>(),
        "glass_ceiling": {
            "management_positions": [2, 3],
            "management_premium_pct": 100.0 * (MANAGEMENT_PREMIUM - 1.0),
            "management_probability": "0.08 + tenure_years / 200 for men",
            "female_management_odds": if options.plant_disparity { FEMALE_MANAGEMENT_ODDS } else { 1.0 },
            "note": "management posts pay 10% more to anyone, but a woman reaches one with half a man's probability at the same tenure: the gap widens at the top of each job's pay, and controlling for position moves that part into composition"
        },
        "equal_value": [
            {"female_dominated": "5321", "male_dominated": "9621", "female_points": 330, "male_points": 290,
             "female_base_rate": 12.0, "male_base_rate": 13.2, "shortfall_pct": 100.0 * (1.0 - 12.0 / 13.2),
             "rule": "lower_value_higher_rate",
             "note": "health care assistants rated higher than porters but paid 9.1% less at equal tenure"},
            {"female_dominated": "5322", "male_dominated": "5414", "female_points": 300, "male_points": 300,
             "female_base_rate": 11.5, "male_base_rate": 13.0, "shortfall_pct": 100.0 * (1.0 - 11.5 / 13.0),
             "rule": "equal_value",
             "note": "home-based personal care workers rated equal to security guards but paid 11.5% less at equal tenure"}
        ],
        "occupations": OCCUPATIONS.iter().map(|o| json!({"isco": o.isco, "title": o.title, "share": o.share,
            "female_share": o.female_share, "base_rate": o.base_rate, "job_points": o.job_points})).collect::<Vec<_>>(),
        "pay_rules": {
            "base_pay": "rate × contracted hours (hours_paid − overtime_hours; × 0.5 in reduced-pay months, full_pay = false)",
            "overtime_pay": "overtime_hours × rate × 1.5",
            "allowance_unsocial": "unsocial hours × rate × 0.3 (hospital shift work)",
            "hazard_pay": "hazard_hours × rate × 0.25 when risk_level = high (ICU, COVID ward); × 0.10 when medium (emergency); rounded to cents",
            "remote_allowance": "180 × fte per month in the remote region (remoteness_tier 2), none in months of unpaid leave",
            "base_hourly_rate": "the worker's rate (column base_hourly_rate)",
            "days_worked": "contracted hours / 7.5, rounded",
            "rate": "occupation base rate × (1 + 0.012 × min(tenure, 25)) × lognormal(0, 0.05) × 1.10 for agency × 1.10 in management (positions 2, 3) × within-job factor for women"
        },
        "hazard_non_payment": {
            "probability": if options.plant_disparity {
                json!({"base": 0.02, "agency_extra": 0.10, "female_extra": 0.04, "underpaid_half": 0.02})
            } else {
                json!({"all": 0.065, "underpaid_half": 0.02})
            },
            "eligible_worker_periods": hazard_eligible,
            "expected_total": cents(hazard_expected_total),
            "shortfall_total": cents(hazard_shortfall_total),
            "cases": hazard_cases
        },
        "data_quality": {
            "duplicate_rows": duplicates,
            "duplicate_of_rows_0_based": duplicate_rows,
            "unpaid_leave_rows_with_zero_hours": unpaid_leave_rows,
            "other_gender_value": "X (about 0.3% of employees), kept as its own group"
        }
    });
    Ok(Synthetic { payroll: frame, truth })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_for_a_seed_and_shaped_as_documented() {
        let options = GeneratorOptions { employees: 200, months: 3, ..GeneratorOptions::default() };
        let a = generate(&options).unwrap();
        let b = generate(&options).unwrap();
        assert!(a.payroll.equals_missing(&b.payroll));
        assert_eq!(a.truth, b.truth);
        assert_eq!(a.payroll.height(), 200 * 3 + 1);
        let c = generate(&GeneratorOptions { seed: 7, ..options }).unwrap();
        assert!(!a.payroll.equals_missing(&c.payroll));
    }

    #[test]
    fn planted_hazard_shortfall_adds_up() {
        let s = generate(&GeneratorOptions { employees: 300, months: 2, ..GeneratorOptions::default() }).unwrap();
        let cases = s.truth["hazard_non_payment"]["cases"].as_array().unwrap();
        let total: f64 = cases.iter().map(|c| c["shortfall"].as_f64().unwrap()).sum();
        let planted = s.truth["hazard_non_payment"]["shortfall_total"].as_f64().unwrap();
        assert!((cents(total) - planted).abs() < 0.005);
    }
}
