//! docs/checks.md must list every check code with its severity, and nothing else.

use apoyo_domain::{CheckCode, Severity};

const CATALOGUE: &str = include_str!("../../../docs/checks.md");

#[test]
fn check_catalogue_matches_the_code() {
    let rows: Vec<(String, String)> = CATALOGUE
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let code = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            Some((code.to_owned(), (*cells.get(2)?).to_owned()))
        })
        .collect();
    for code in CheckCode::ALL {
        let severity = match code.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        assert!(
            rows.iter()
                .any(|(c, s)| c == code.as_str() && s == severity),
            "docs/checks.md lacks `{}` | {severity}",
            code.as_str()
        );
    }
    for (code, _) in &rows {
        assert!(
            CheckCode::ALL.iter().any(|c| c.as_str() == code),
            "docs/checks.md lists `{code}`, which the code does not have"
        );
    }
    assert_eq!(rows.len(), CheckCode::ALL.len());
}
