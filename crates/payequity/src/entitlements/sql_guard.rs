//! The allow-list of the SQL expressions a rule (or a scenario's `where`) may contain, checked before polars
//! sees the text: columns, literals, arithmetic, comparison and logical operators, `CASE`, `BETWEEN`, `IN`
//! over a list, `LIKE`, `IS [NOT] NULL`, `CAST`, and the named scalar functions of [`ALLOWED_FUNCTIONS`].
//! Nothing that reads data from elsewhere can pass: no subquery, `FROM`, `EXISTS`, table function or any
//! function outside the list (polars' `read_csv('/etc/passwd')` would read the file). Size and nesting are
//! bounded so that a hostile rule cannot exhaust the stack or the CPU, and the error never echoes more than
//! the offending construct's kind.

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, FunctionArguments, ObjectName, Query, TableFactor, UnaryOperator, Visit, Visitor};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

/// The longest expression text accepted (characters).
pub const MAX_SQL_CHARS: usize = 4_000;
/// The most tokens an expression may have (a 5,000-term `OR` chain is refused before it is parsed).
pub const MAX_SQL_TOKENS: usize = 1_000;
/// The deepest nesting of sub-expressions accepted.
pub const MAX_SQL_DEPTH: usize = 64;

/// The scalar functions a rule may call (lower case).
pub const ALLOWED_FUNCTIONS: &[&str] = &[
    "abs",
    "ceil",
    "ceiling",
    "floor",
    "round",
    "trunc",
    "sign",
    "sqrt",
    "cbrt",
    "exp",
    "ln",
    "log",
    "log2",
    "log10",
    "power",
    "pow",
    "mod",
    "least",
    "greatest",
    "coalesce",
    "nullif",
    "ifnull",
    "lower",
    "upper",
    "length",
    "char_length",
    "character_length",
    "octet_length",
    "trim",
    "ltrim",
    "rtrim",
    "left",
    "right",
    "substr",
    "substring",
    "concat",
    "starts_with",
    "ends_with",
    "strpos",
    "replace",
    "reverse",
    "initcap",
    "date_part",
    "date",
    "strftime",
    "if",
    "iif",
];

/// Checks `text` against the allow-list; `Err` carries a message that names the construct refused (never
/// data read from anywhere).
pub fn check_sql_expression(text: &str) -> std::result::Result<(), String> {
    if text.chars().count() > MAX_SQL_CHARS {
        return Err(format!(
            "the expression has {} characters; at most {MAX_SQL_CHARS} are accepted (split the rule)",
            text.chars().count()
        ));
    }
    let dialect = GenericDialect {};
    let tokens = sqlparser::tokenizer::Tokenizer::new(&dialect, text)
        .tokenize()
        .map_err(|e| format!("it does not parse: {}", e.message))?;
    let significant = tokens.iter().filter(|t| !matches!(t, Token::Whitespace(_))).count();
    if significant > MAX_SQL_TOKENS {
        return Err(format!(
            "the expression has {significant} terms and operators; at most {MAX_SQL_TOKENS} are accepted (use \
             IN (...) for long lists of values)"
        ));
    }
    let mut parser = Parser::new(&dialect)
        .with_recursion_limit(MAX_SQL_DEPTH)
        .try_with_sql(text)
        .map_err(|e| format!("it does not parse: {e}"))?;
    let expr = parser.parse_expr().map_err(|e| format!("it does not parse: {e}"))?;
    let next = parser.peek_token().token;
    if next != Token::EOF {
        return Err(format!(
            "only one expression is accepted; it continues with `{}` (a rule takes no SELECT, FROM, alias or ;)",
            clip(&next.to_string())
        ));
    }
    let mut guard = Guard { depth: 0 };
    match expr.visit(&mut guard) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(reason) => Err(reason),
    }
}

/// An expression as echoed in a message: at most 200 characters (then `…`), control characters dropped.
pub fn shown(text: &str) -> String {
    let mut out: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    if text.chars().filter(|c| !c.is_control()).nth(200).is_some() {
        out.push('…');
    }
    out
}

/// A token shown in a message: at most 40 characters, control characters dropped.
fn clip(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(40).collect()
}

struct Guard {
    depth: usize,
}

impl Visitor for Guard {
    type Break = String;

    fn pre_visit_query(&mut self, _query: &Query) -> ControlFlow<String> {
        ControlFlow::Break("subqueries (SELECT, FROM) are not allowed in a rule expression".into())
    }

    fn pre_visit_relation(&mut self, _relation: &ObjectName) -> ControlFlow<String> {
        ControlFlow::Break("tables are not allowed in a rule expression".into())
    }

    fn pre_visit_table_factor(&mut self, _table_factor: &TableFactor) -> ControlFlow<String> {
        ControlFlow::Break("tables and table functions are not allowed in a rule expression".into())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<String> {
        self.depth += 1;
        if self.depth > MAX_SQL_DEPTH {
            return ControlFlow::Break(format!("the expression nests deeper than {MAX_SQL_DEPTH} levels"));
        }
        match allowed(expr) {
            Ok(()) => ControlFlow::Continue(()),
            Err(reason) => ControlFlow::Break(reason),
        }
    }

    fn post_visit_expr(&mut self, _expr: &Expr) -> ControlFlow<String> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }
}

/// Whether one node is of an allowed kind (its children are visited separately).
fn allowed(expr: &Expr) -> std::result::Result<(), String> {
    let refused = |what: &str| Err(format!("{what} is not allowed in a rule expression"));
    match expr {
        Expr::Identifier(_)
        | Expr::Value(_)
        | Expr::Nested(_)
        | Expr::BinaryOp { .. }
        | Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::IsTrue(_)
        | Expr::IsNotTrue(_)
        | Expr::IsFalse(_)
        | Expr::IsNotFalse(_)
        | Expr::IsDistinctFrom(..)
        | Expr::IsNotDistinctFrom(..)
        | Expr::InList { .. }
        | Expr::Between { .. }
        | Expr::Like { .. }
        | Expr::ILike { .. }
        | Expr::Cast { .. }
        | Expr::Case { .. }
        | Expr::Ceil { .. }
        | Expr::Floor { .. }
        | Expr::Trim { .. }
        | Expr::Substring { .. }
        | Expr::Position { .. }
        | Expr::Extract { .. }
        | Expr::TypedString(_) => Ok(()),
        Expr::UnaryOp { op, .. } => match op {
            UnaryOperator::Not | UnaryOperator::Minus | UnaryOperator::Plus => Ok(()),
            other => refused(&format!("the operator `{other}`")),
        },
        Expr::Function(function) => {
            let name = function.name.to_string().to_ascii_lowercase();
            if !ALLOWED_FUNCTIONS.contains(&name.as_str()) {
                return Err(format!(
                    "the function `{}` is not allowed in a rule expression; allowed: {}",
                    clip(&name),
                    ALLOWED_FUNCTIONS.join(", ")
                ));
            }
            if function.over.is_some() || function.filter.is_some() || !function.within_group.is_empty() {
                return refused("a window or aggregate clause");
            }
            if matches!(function.args, FunctionArguments::Subquery(_))
                || matches!(function.parameters, FunctionArguments::Subquery(_))
            {
                return refused("a subquery");
            }
            Ok(())
        }
        Expr::InSubquery { .. } | Expr::Subquery(_) | Expr::Exists { .. } => refused("a subquery"),
        Expr::CompoundIdentifier(_) => refused("a qualified name (table.column)"),
        Expr::Wildcard(_) | Expr::QualifiedWildcard(..) => refused("`*`"),
        _ => refused("this construct"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_rule_expressions_pass() {
        for text in [
            "risk_level = 'high' AND hazard_hours > 0",
            "CASE WHEN fte >= 0.5 THEN base_pay * 0.25 ELSE 0 END",
            "occupation IN ('2221', '3221') OR unit LIKE 'ICU%'",
            "coalesce(hazard_hours, 0) / greatest(hours_paid, 1) BETWEEN 0 AND 1",
            "NOT (contract_type IS NULL) AND CAST(position AS INTEGER) <= 3",
            "round(days_worked * 1.5, 2) - abs(-1)",
        ] {
            assert_eq!(check_sql_expression(text), Ok(()), "{text}");
        }
    }

    #[test]
    fn anything_that_reads_elsewhere_is_refused() {
        for (text, says) in [
            ("employee_id IN (SELECT x FROM read_csv('/etc/passwd'))", "subquer"),
            ("read_csv('/etc/passwd') IS NULL", "read_csv"),
            ("read_parquet('/tmp/x.parquet') = 1", "read_parquet"),
            ("EXISTS (SELECT 1)", "subquer"),
            ("(SELECT max(pay) FROM payroll) > 1", "subquer"),
            ("pay > 1; DROP TABLE payroll", "one expression"),
            ("t.pay > 1", "qualified"),
            ("sum(pay) OVER () > 1", "not allowed"),
        ] {
            let message = check_sql_expression(text).unwrap_err();
            assert!(message.contains(says), "{text}: {message}");
            assert!(!message.contains("root:"), "{message}");
        }
    }

    #[test]
    fn huge_and_deep_expressions_are_refused_before_parsing() {
        let chain = vec!["pay > 1"; 5_000].join(" OR ");
        assert!(check_sql_expression(&chain).unwrap_err().contains("characters"));
        let terms = vec!["a"; 600].join("+");
        assert!(check_sql_expression(&terms).unwrap_err().contains("terms"));
        let deep = format!("{}1{}", "(".repeat(200), ")".repeat(200));
        assert!(check_sql_expression(&deep).is_err());
    }
}
