//! Phone numbers, always held in E.164 ("+4915112345678"). Parsing takes the
//! region to assume for numbers typed without a country code, so that
//! "0151 123", "+49 151 123" and "0049151123" are one number.
use std::fmt;
use std::sync::LazyLock;

use super::validate::RegionCode;

/// Parsed numbers by (region, text as typed). Parsing is a pure function but
/// a costly one (the library's validity check runs its patterns under a
/// global lock; it was half the CPU of a FindCustomerByPhone call), and a
/// voice agent sends the same caller's number many times. Bounded: at most
/// this many entries of at most 40 + 2 characters of key.
static PARSED: LazyLock<moka::sync::Cache<(String, String), Parsed>> = LazyLock::new(|| moka::sync::Cache::new(50_000));

/// The E.164 text, or why the text is no phone number.
type Parsed = Result<String, &'static str>;

/// A valid phone number in E.164 form.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses what a person typed, reading national numbers in `region`.
    pub fn parse(text: &str, region: &RegionCode) -> Result<Self, &'static str> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is required");
        }
        if text.len() > 40 {
            return Err("must be at most 40 characters");
        }
        let key = (region.as_str().to_owned(), text.to_owned());
        PARSED.get_with(key, || parse_uncached(text, region)).map(Self)
    }

    /// Accepts a value that is already E.164 (e.g. read back from storage).
    pub fn from_e164(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For logs: country code and the last two digits, the rest masked
    /// ("+49151*****89"); a phone number is personal data.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// The E.164 form of a trimmed, non-empty text of at most 40 characters.
fn parse_uncached(text: &str, region: &RegionCode) -> Parsed {
    let country = region.as_str().parse::<phonenumber::country::Id>().ok();
    let number = phonenumber::parse(country, text).map_err(|_| "is not a phone number")?;
    if !phonenumber::is_valid(&number) {
        return Err("is not a valid phone number");
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

/// Loads the phone-number metadata now. The library parses its metadata on
/// first use, which is slow (the log test saw the first call that parsed a
/// number take far longer than the rest): without this, the first caller
/// after a start would wait for it.
pub fn warm_up() {
    if let Ok(region) = RegionCode::parse("DE") {
        let _ = PhoneNumber::parse("+49 30 1234567", &region);
    }
}

/// An E.164 text with the middle digits hidden: the country and network
/// prefix and the last two digits stay (`+49151*****89`), enough to tell
/// calls apart in a log without naming the caller.
pub fn mask(e164: &str) -> String {
    let keep_start = e164.len().min(6);
    let keep_end = 2.min(e164.len().saturating_sub(keep_start));
    let hidden = e164.len() - keep_start - keep_end;
    format!("{}{}{}", &e164[..keep_start], "*".repeat(hidden), &e164[e164.len() - keep_end..])
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn de() -> RegionCode {
        RegionCode::parse("DE").unwrap()
    }

    #[test]
    fn national_international_and_idd_forms_are_one_number() {
        let forms = ["0151 23456789", "+49 151 23456789", "0049151 23456789", "+49 (151) 234-567-89"];
        for form in forms {
            assert_eq!(PhoneNumber::parse(form, &de()).unwrap().as_str(), "+4915123456789", "{form}");
        }
    }

    #[test]
    fn garbage_is_rejected() {
        assert!(PhoneNumber::parse("hello", &de()).is_err());
        assert!(PhoneNumber::parse("", &de()).is_err());
        assert!(PhoneNumber::parse("+49 1", &de()).is_err());
    }

    #[test]
    fn a_remembered_parse_still_depends_on_the_region() {
        let at = RegionCode::parse("AT").unwrap();
        for _ in 0..2 {
            assert_eq!(PhoneNumber::parse("030 1234567", &de()).unwrap().as_str(), "+49301234567");
            assert_ne!(
                PhoneNumber::parse("030 1234567", &at).map(|p| p.as_str().to_owned()),
                Ok("+49301234567".into())
            );
            assert!(PhoneNumber::parse("hello", &de()).is_err());
        }
    }

    #[test]
    fn masking_keeps_country_and_last_digits() {
        let number = PhoneNumber::parse("+4915123456789", &de()).unwrap();
        assert_eq!(number.masked(), "+49151******89");
    }
}
