//! Value parsers for the numeric flags: every number a command line takes is bounded here, so that a value
//! out of range is a usage error that names the flag (clap prints `invalid value '0' for '--epochs
//! <EPOCHS>': must be an integer from 1 to 1000000`, exit 2) before any work starts — never a panic, an
//! overflow or a silently meaningless run (`--epochs 0`, `--batch 0`, `--timeout 1e20`).
//!
//! Numeric flags also take `allow_negative_numbers`, so that `--seed -1` reaches its parser (and gets
//! "seeds are non-negative integers") instead of clap's `use -- -1` hint, which does not apply.

use std::fmt::Display;
use std::str::FromStr;

/// The largest batch size a command takes (also the bound of `--chunk`).
pub const MAX_BATCH: i64 = 1 << 20;
/// The largest count of epochs, steps, samples, architectures, … a command takes.
pub const MAX_COUNT: usize = 10_000_000;
/// The largest libtorch thread count.
pub const MAX_THREADS: i32 = 1024;
/// The longest time limit, in seconds (a day).
pub const MAX_SECONDS: f64 = 86_400.0;

/// An integer in `lo..=hi`.
pub fn int<T>(lo: T, hi: T) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: FromStr + PartialOrd + Display + Copy + Send + Sync + 'static,
{
    move |s: &str| match s.trim().parse::<T>() {
        Ok(v) if v >= lo && v <= hi => Ok(v),
        _ => Err(format!("must be an integer from {lo} to {hi}")),
    }
}

/// A seed: a non-negative integer that fits 64 bits.
pub fn seed(s: &str) -> Result<u64, String> {
    s.trim()
        .parse::<u64>()
        .map_err(|_| format!("seeds are non-negative integers (0 to {})", u64::MAX))
}

/// A finite number greater than 0 (learning rates).
pub fn positive(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err("must be a finite number greater than 0".into()),
    }
}

/// A finite number, 0 or more (weight decay).
pub fn non_negative(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err("must be a finite number, 0 or more".into()),
    }
}

/// A time limit in seconds: more than 0, at most [`MAX_SECONDS`].
pub fn seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= MAX_SECONDS => Ok(v),
        _ => Err(format!(
            "must be a number of seconds greater than 0 and at most {MAX_SECONDS} (a day)"
        )),
    }
}

/// A batch size: 1 to [`MAX_BATCH`].
pub fn batch(s: &str) -> Result<i64, String> {
    int(1, MAX_BATCH)(s)
}

/// A count of at least 1 (epochs, steps, samples, architectures).
pub fn count(s: &str) -> Result<usize, String> {
    int(1, MAX_COUNT)(s)
}

/// A count that may be 0 (warm-up steps).
pub fn count0(s: &str) -> Result<usize, String> {
    int(0, MAX_COUNT)(s)
}

/// A libtorch thread count.
pub fn threads(s: &str) -> Result<i32, String> {
    int(1, MAX_THREADS)(s)
}

/// A number of images (`--val`, `--limit`): 1 or more.
pub fn images(s: &str) -> Result<i64, String> {
    int(1, i64::from(u32::MAX))(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert_eq!(batch("128"), Ok(128));
        for bad in [
            "0",
            "-1",
            "1e30",
            "NaN",
            "inf",
            "9223372036854775808",
            "1.5",
            "",
        ] {
            assert!(batch(bad).is_err(), "{bad}");
            assert!(count(bad).is_err(), "{bad}");
        }
        assert_eq!(seed("18446744073709551615"), Ok(u64::MAX));
        assert!(seed("-1").unwrap_err().contains("non-negative"));
        assert_eq!(positive("1e30"), Ok(1e30));
        for bad in ["0", "-1", "NaN", "inf", "-inf", "x"] {
            assert!(positive(bad).is_err(), "{bad}");
        }
        assert_eq!(non_negative("0"), Ok(0.0));
        assert!(seconds("1e20").is_err() && seconds("0").is_err() && seconds("30").is_ok());
        assert_eq!(count0("0"), Ok(0));
    }
}
