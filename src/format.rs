//! How cutover writes numbers, money, durations and shares as text: in data
//! files (exact), in tables (rounded to what a reader takes in at a glance),
//! in sentences, on plot axes and on the narrated clock. Every output goes
//! through here, so a figure reads the same wherever it appears.

use crate::engine::SimTime;

/// A number in full, as data files hold it (CSV cells, `trace --csv`): whole
/// numbers without a fraction, others with up to 6 decimals and no trailing
/// zeros, the same on every platform and thread count; empty when not finite.
pub fn exact_number(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// A number people read at a glance: 3 significant digits, thousands
/// separated ("3,142", "96.6", "0.298"); "-" when not finite.
pub fn rounded_number(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    let a = v.abs();
    if a >= 1000.0 {
        let rounded = v.round() as i64;
        let digits = group_thousands(rounded.unsigned_abs());
        if rounded < 0 {
            format!("-{digits}")
        } else {
            digits
        }
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a == 0.0 {
        "0".into()
    } else {
        format!("{v:.3}")
    }
}

/// A mean count (requests a month): whole numbers from 10 up, with thousands
/// separators; one decimal below, where the fraction still says something.
pub fn count(v: f64) -> String {
    if v.abs() >= 1000.0 {
        rounded_number(v)
    } else if v.abs() >= 10.0 {
        format!("{v:.0}")
    } else if v == 0.0 {
        "0".into()
    } else {
        format!("{v:.1}")
    }
}

/// Money in a table column: dollars and cents with thousands separators and
/// no `$` ("1,234,567.89"), so the few cents a strategy adds to a month's
/// infrastructure still show; "-" when not finite.
pub fn dollars_and_cents(usd: f64) -> String {
    if !usd.is_finite() {
        return "-".into();
    }
    let cents = (usd.abs() * 100.0).round() as u64;
    let sign = if usd < 0.0 && cents > 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", group_thousands(cents / 100), cents % 100)
}

/// Money in a sentence: cents below $1,000 (where a strategy's extra capacity
/// often is a few cents), whole dollars with thousands separators above
/// ("$0.02", "$703.96", "$1,831").
pub fn dollars(usd: f64) -> String {
    if usd.abs() >= 1000.0 {
        format!("${}", rounded_number(usd))
    } else {
        format!("${usd:.2}")
    }
}

/// A duration in the unit that reads best: "0.4 s", "8 s", "6 min", "1.5 h".
pub fn duration(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{seconds:.1} s")
    } else if seconds < 90.0 {
        format!("{seconds:.0} s")
    } else if seconds < 5400.0 {
        format!("{:.0} min", seconds / 60.0)
    } else {
        format!("{:.1} h", seconds / 3600.0)
    }
}

/// A share (0..=1) as a percentage people say: "0%", "5%", "33.3%",
/// "under 0.1%", "over 99.9%"; "-" when not finite.
pub fn percent(share: f64) -> String {
    let p = share * 100.0;
    if !p.is_finite() {
        "-".into()
    } else if p <= 0.0 || p >= 100.0 {
        format!("{:.0}%", p.clamp(0.0, 100.0))
    } else if p < 0.1 {
        "under 0.1%".into()
    } else if p > 99.9 {
        "over 99.9%".into()
    } else if (p - p.round()).abs() < 0.05 {
        format!("{:.0}%", p.round())
    } else {
        format!("{p:.1}%")
    }
}

/// Seconds since the deployment started on the narration's clock, h:mm:ss.mmm.
pub fn clock(seconds: f64) -> String {
    SimTime::from_secs_f64(seconds).to_string()
}

/// A compact plot tick label: 0, 0.25, 12.5, 950, 2500, 35k, 2.5M; "?" when
/// not finite.
pub fn tick_label(v: f64) -> String {
    if !v.is_finite() {
        return "?".to_string();
    }
    let a = v.abs();
    if a < 1e-12 {
        return "0".to_string();
    }
    let (x, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let ax = x.abs();
    let s = if ax >= 100.0 {
        format!("{x:.0}")
    } else if ax >= 10.0 {
        format!("{x:.1}")
    } else if ax >= 1.0 {
        format!("{x:.2}")
    } else if ax >= 0.001 {
        format!("{x:.3}")
    } else {
        return format!("{x:.0e}");
    };
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    format!("{s}{suffix}")
}

/// Digits with a comma between thousands: 1234567 -> "1,234,567".
fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_numbers_are_stable_text() {
        assert_eq!(exact_number(3.0), "3");
        assert_eq!(exact_number(0.1 + 0.2), "0.3");
        assert_eq!(exact_number(-0.0000001), "0");
        assert_eq!(exact_number(28.113), "28.113");
        assert_eq!(exact_number(1.0 / 9.0), "0.111111");
        assert_eq!(exact_number(f64::NAN), "");
    }

    #[test]
    fn rounded_numbers_keep_three_significant_digits() {
        assert_eq!(rounded_number(3142.4), "3,142");
        assert_eq!(rounded_number(-1_234_567.0), "-1,234,567");
        assert_eq!(rounded_number(113.4), "113");
        assert_eq!(rounded_number(96.64), "96.6");
        assert_eq!(rounded_number(3.014), "3.01");
        assert_eq!(rounded_number(0.2984), "0.298");
        assert_eq!(rounded_number(0.0), "0");
        assert_eq!(rounded_number(f64::INFINITY), "-");
    }

    #[test]
    fn counts_are_whole_from_ten_up() {
        assert_eq!(count(80.0), "80");
        assert_eq!(count(12_345.6), "12,346");
        assert_eq!(count(2.54), "2.5");
        assert_eq!(count(0.0), "0");
    }

    #[test]
    fn dollars_and_cents_keep_cents_and_group_thousands() {
        assert_eq!(dollars_and_cents(700.977), "700.98");
        assert_eq!(dollars_and_cents(1234567.891), "1,234,567.89");
        assert_eq!(dollars_and_cents(0.004), "0.00");
        assert_eq!(dollars_and_cents(-0.004), "0.00");
        assert_eq!(dollars_and_cents(-12.5), "-12.50");
        assert_eq!(dollars_and_cents(f64::NAN), "-");
    }

    #[test]
    fn dollars_in_a_sentence_drop_cents_from_a_thousand() {
        assert_eq!(dollars(0.02), "$0.02");
        assert_eq!(dollars(703.956), "$703.96");
        assert_eq!(dollars(1831.41), "$1,831");
        assert_eq!(dollars(93_520.4), "$93,520");
    }

    #[test]
    fn durations_read_in_their_unit() {
        assert_eq!(duration(0.34), "0.3 s");
        assert_eq!(duration(8.0), "8 s");
        assert_eq!(duration(47.0), "47 s");
        assert_eq!(duration(360.0), "6 min");
        assert_eq!(duration(7200.0), "2.0 h");
    }

    #[test]
    fn percents_read_well() {
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(0.05), "5%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(1.0 / 3.0), "33.3%");
        assert_eq!(percent(0.0004), "under 0.1%");
        assert_eq!(percent(0.99999), "over 99.9%");
        assert_eq!(percent(f64::NAN), "-");
    }

    #[test]
    fn the_clock_shows_hours_minutes_seconds_and_milliseconds() {
        assert_eq!(clock(0.0), "0:00:00.000");
        assert_eq!(clock(28.113), "0:00:28.113");
        assert_eq!(clock(3667.934), "1:01:07.934");
    }

    #[test]
    fn tick_labels_are_compact() {
        assert_eq!(tick_label(0.0), "0");
        assert_eq!(tick_label(0.25), "0.25");
        assert_eq!(tick_label(12.5), "12.5");
        assert_eq!(tick_label(950.0), "950");
        assert_eq!(tick_label(2500.0), "2500");
        assert_eq!(tick_label(35_000.0), "35k");
        assert_eq!(tick_label(2_500_000.0), "2.5M");
        assert_eq!(tick_label(f64::NAN), "?");
    }
}
