//! Parser for the Prometheus text exposition format 0.0.4 into flat samples.
//!
//! The view only reads what it understands: comment lines, blank lines and
//! lines that do not parse are skipped (and counted), never fatal, because a
//! newer server may expose metrics or syntax this build does not know.

/// One line of the exposition: `name{label="value",...} value [timestamp]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    /// In the order they appeared; the exporter does not promise an order.
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    /// The value of label `name`, if the sample carries it.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

/// The samples of one scrape, plus how many non-comment lines were unreadable.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exposition {
    pub samples: Vec<Sample>,
    pub skipped_lines: usize,
}

impl Exposition {
    /// The sum of every sample named `name` (over all its labels); `None`
    /// when the page has none.
    pub fn total(&self, name: &str) -> Option<f64> {
        let mut values = self.samples.iter().filter(|sample| sample.name == name).map(|sample| sample.value).peekable();
        values.peek()?;
        Some(values.sum())
    }
}

/// Parses a whole exposition body. Never fails: unreadable lines are skipped.
pub fn parse(text: &str) -> Exposition {
    let mut exposition = Exposition::default();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_sample(line) {
            Some(sample) => exposition.samples.push(sample),
            None => exposition.skipped_lines += 1,
        }
    }
    exposition
}

/// Parses one sample line; `None` when it is not well-formed.
pub fn parse_sample(line: &str) -> Option<Sample> {
    let name_end = line.find(|c: char| c == '{' || c.is_whitespace()).unwrap_or(line.len());
    let name = &line[..name_end];
    if !is_metric_name(name) {
        return None;
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(after_brace) = rest.strip_prefix('{') {
        rest = parse_labels(after_brace, &mut labels)?;
    }
    // A value, then an optional millisecond timestamp the view has no use for.
    let mut fields = rest.split_whitespace();
    let value = parse_value(fields.next()?)?;
    if let Some(timestamp) = fields.next() {
        timestamp.parse::<i64>().ok()?;
    }
    if fields.next().is_some() {
        return None;
    }
    Some(Sample { name: name.to_owned(), labels, value })
}

/// Reads `key="value",...}` and returns what follows the closing brace.
fn parse_labels<'a>(mut rest: &'a str, labels: &mut Vec<(String, String)>) -> Option<&'a str> {
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix('}') {
            return Some(after);
        }
        let key_end = rest.find(|c: char| c == '=' || c.is_whitespace())?;
        let key = &rest[..key_end];
        if !is_label_name(key) {
            return None;
        }
        rest = rest[key_end..].trim_start().strip_prefix('=')?.trim_start().strip_prefix('"')?;
        let (value, after_value) = parse_quoted(rest)?;
        labels.push((key.to_owned(), value));
        rest = after_value.trim_start();
        // A trailing comma before `}` is allowed by the format.
        if let Some(after_comma) = rest.strip_prefix(',') {
            rest = after_comma;
        } else if !rest.starts_with('}') {
            return None;
        }
    }
}

/// Reads a label value up to its closing quote, undoing `\\`, `\"` and `\n`.
fn parse_quoted(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((index, c)) = chars.next() {
        match c {
            '"' => return Some((value, &text[index + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => value.push('\n'),
                '\\' => value.push('\\'),
                '"' => value.push('"'),
                // Unknown escapes are kept verbatim, as Prometheus does.
                other => {
                    value.push('\\');
                    value.push(other);
                }
            },
            other => value.push(other),
        }
    }
    None
}

/// Values follow Go's ParseFloat: `+Inf`, `-Inf`, `NaN` and exponents.
pub(crate) fn parse_value(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => text.parse::<f64>().ok(),
    }
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_with_labels_and_no_labels_parse() {
        let parsed = parse(
            "# HELP askpro_holds_active Holds.\n# TYPE askpro_holds_active gauge\naskpro_holds_active 3\n\
             askpro_grpc_requests_total{method=\"/a.B/C\",code=\"OK\"} 12\n",
        );
        assert_eq!(parsed.skipped_lines, 0);
        assert_eq!(parsed.samples.len(), 2);
        assert_eq!(parsed.samples[0], Sample { name: "askpro_holds_active".into(), labels: vec![], value: 3.0 });
        assert_eq!(parsed.samples[1].label("method"), Some("/a.B/C"));
        assert_eq!(parsed.samples[1].label("code"), Some("OK"));
        assert_eq!(parsed.samples[1].value, 12.0);
    }

    #[test]
    fn special_values_and_exponents_parse() {
        let value = |line: &str| parse_sample(line).map(|sample| sample.value);
        assert_eq!(value("m{le=\"+Inf\"} +Inf"), Some(f64::INFINITY));
        assert_eq!(value("m -Inf"), Some(f64::NEG_INFINITY));
        assert!(value("m NaN").is_some_and(f64::is_nan));
        assert_eq!(value("m 1e-3"), Some(0.001));
        assert_eq!(value("m 2.5E+2 1700000000000"), Some(250.0));
    }

    #[test]
    fn escaped_label_values_and_odd_spacing_parse() {
        let sample = parse_sample(r#"m{ path="a \"quoted\" \\ back\nslash" , code = "OK", } 1"#);
        let sample = sample.expect("well-formed line");
        assert_eq!(sample.label("path"), Some("a \"quoted\" \\ back\nslash"));
        assert_eq!(sample.label("code"), Some("OK"));
    }

    #[test]
    fn garbage_lines_are_skipped_without_panicking() {
        let garbage = [
            "{method=\"x\"} 1",
            "m{method=\"unterminated} 1",
            "m{method=x} 1",
            "m{1bad=\"x\"} 1",
            "m{a=\"b\"",
            "m",
            "m one",
            "m 1 2 3",
            "m 1 notatime",
            "m{a=\"\\",
            "métrique 1",
            "m{a=\"b\"c=\"d\"} 1",
        ];
        let text = format!("{}\nok_metric 7\n", garbage.join("\n"));
        let parsed = parse(&text);
        assert_eq!(parsed.skipped_lines, garbage.len());
        assert_eq!(parsed.samples.len(), 1);
        assert_eq!(parsed.samples[0].name, "ok_metric");
    }
}
