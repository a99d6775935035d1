//! Weighted least squares through the moments kernel, for the parity test against statsmodels:
//! `ols_json FILE Y X1,X2,... [WEIGHT|-] [CLUSTER]` prints coefficients and classical, HC1 and cluster
//! covariances as JSON (a constant `_cons` is added as the first regressor).

use payequity::data::load_table;
use payequity::polars::prelude::*;
use payequity::stats::{ols, ClusterScores, Moments, ResidualMoments};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, y_name, x_names, rest @ ..] = args.as_slice() else {
        return Err("usage: ols_json FILE Y X1,X2,... [WEIGHT|-] [CLUSTER]".into());
    };
    let frame = load_table(file)?;
    let column = |name: &str| -> Result<Vec<f64>, Box<dyn std::error::Error>> {
        Ok(frame.column(name)?.cast(&DataType::Float64)?.f64()?.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    };
    let y = column(y_name)?;
    let xs: Vec<Vec<f64>> = x_names.split(',').map(column).collect::<Result<_, _>>()?;
    let w = match rest.first().map(String::as_str) {
        Some("-") | None => vec![1.0; y.len()],
        Some(name) => column(name)?,
    };
    let clusters: Option<Vec<String>> = rest
        .get(1)
        .map(|c| -> Result<Vec<String>, Box<dyn std::error::Error>> {
            let s = frame.column(c)?.cast(&DataType::String)?;
            Ok(s.str()?.iter().map(|v| v.unwrap_or("").to_string()).collect())
        })
        .transpose()?;
    let k = xs.len() + 1;
    let row = |i: usize| -> Vec<f64> { std::iter::once(1.0).chain(xs.iter().map(|x| x[i])).collect() };
    let mut moments = Moments::new(k);
    for i in 0..y.len() {
        moments.push(&row(i), y[i], w[i]);
    }
    // Through bytes and a merge, as moments from workers would arrive.
    let moments = Moments::from_bytes(&moments.to_bytes()?)?.merge(&Moments::new(k))?;
    let names: Vec<String> = std::iter::once("_cons".to_string()).chain(x_names.split(',').map(String::from)).collect();
    let fit = ols(&moments, &names)?;
    let mut residuals = ResidualMoments::new(k);
    let mut scores = ClusterScores::default();
    for i in 0..y.len() {
        residuals.push(&row(i), y[i], w[i], &fit.coefficients);
        if let Some(c) = &clusters {
            scores.push(&c[i], &row(i), y[i], w[i], &fit.coefficients);
        }
    }
    let json = serde_json::json!({
        "names": fit.names, "kept": fit.kept, "coefficients": fit.coefficients.to_vec(),
        "cov_classical": fit.covariance.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>(),
        "cov_hc1": fit.hc1(&residuals).outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>(),
        "cov_cluster": fit.cluster(&scores).map(|v| v.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>()),
        "r2": fit.r2, "rss": fit.rss, "warnings": fit.warnings,
    });
    println!("{json}");
    Ok(())
}
