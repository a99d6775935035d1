//! Oaxaca-Blinder point estimates through the moments kernel, for the parity tests against statsmodels
//! and Stata: `oaxaca_json FILE Y X1,X2,... GROUP A_VALUE REFERENCE [W]` (REFERENCE: pooled, neumark,
//! cotton, reimers or weight; rows whose GROUP is not A_VALUE form group B). Prints JSON.

use payequity::data::load_table;
use payequity::decompose::{oaxaca_point, Reference};
use payequity::polars::prelude::*;
use payequity::stats::Moments;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, y_name, x_names, group, a_value, reference, rest @ ..] = args.as_slice() else {
        return Err("usage: oaxaca_json FILE Y X1,X2,... GROUP A_VALUE REFERENCE [W]".into());
    };
    let frame = load_table(file)?;
    let column = |name: &str| -> Result<Vec<f64>, Box<dyn std::error::Error>> {
        Ok(frame.column(name)?.cast(&DataType::Float64)?.f64()?.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    };
    let y = column(y_name)?;
    let xs: Vec<Vec<f64>> = x_names.split(',').map(column).collect::<Result<_, _>>()?;
    let g = column(group)?;
    let a_value: f64 = a_value.parse()?;
    let k = xs.len() + 1;
    let (mut a, mut b) = (Moments::new(k), Moments::new(k));
    for i in 0..y.len() {
        let row: Vec<f64> = std::iter::once(1.0).chain(xs.iter().map(|x| x[i])).collect();
        if g[i] == a_value {
            a.push(&row, y[i], 1.0)
        } else {
            b.push(&row, y[i], 1.0)
        }
    }
    let reference = match reference.as_str() {
        "pooled" => Reference::Pooled,
        "neumark" => Reference::Neumark,
        "cotton" => Reference::Cotton,
        "reimers" => Reference::Reimers,
        "weight" => Reference::Weight(rest.first().ok_or("weight needs W")?.parse()?),
        other => return Err(format!("unknown reference {other}").into()),
    };
    let names: Vec<String> = std::iter::once("_cons".to_string()).chain(x_names.split(',').map(String::from)).collect();
    println!("{}", serde_json::to_string(&oaxaca_point(&a, &b, &names, reference)?)?);
    Ok(())
}
