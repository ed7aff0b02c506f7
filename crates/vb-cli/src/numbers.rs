//! Numeric option values, parsed the way bubblewrap's C parsing accepts and
//! rejects them (`strtol`/`strtoul`/`strtoull` plus its own checks).

use std::ffi::OsStr;

/// What `strtol(s, &end, 10)` would consume, as a signed value, requiring the
/// whole string to be consumed and at least one digit: leading whitespace and a
/// sign are accepted, as the C function accepts them. `None` when the string is
/// empty, has trailing junk, or overflows.
fn strtol_full(s: &OsStr) -> Option<i128> {
    let s = s.to_str()?;
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, t.get(1..)?),
        Some(b'+') => (false, t.get(1..)?),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude: i128 = digits.parse().ok()?;
    Some(if neg { -magnitude } else { magnitude })
}

/// A file descriptor argument: bubblewrap's `Invalid fd: %s` cases are `None`
/// (empty, trailing junk, negative, or beyond `int`).
pub(crate) fn parse_fd(s: &OsStr) -> Option<i32> {
    strtol_full(s)
        .and_then(|v| i32::try_from(v).ok())
        .filter(|v| *v >= 0)
}

/// A uid or gid argument: non-negative and below `(uid_t)-1`, which the kernel
/// reserves. (bubblewrap truncates values above `u32::MAX` silently; they are
/// refused here.)
pub(crate) fn parse_id(s: &OsStr) -> Option<u32> {
    strtol_full(s)
        .and_then(|v| u32::try_from(v).ok())
        .filter(|v| *v != u32::MAX)
}

/// An octal mode of at most 07777 (`--perms`, `--chmod`).
pub(crate) fn parse_mode(s: &OsStr) -> Option<u32> {
    let s = s.to_str()?;
    if s.is_empty() || !s.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    u32::from_str_radix(s, 8).ok().filter(|m| *m <= 0o7777)
}

/// Why a `--size` value was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SizeError {
    /// Not a positive number (`--size takes a non-zero number of bytes`).
    Invalid,
    /// Above the tmpfs limit (`--size (for tmpfs) is limited to N`).
    TooLarge,
}

/// The largest tmpfs size bubblewrap accepts: `SIZE_MAX / 2`.
pub(crate) const MAX_TMPFS_BYTES: u64 = u64::MAX / 2;

/// A `--size` value: `strtoull(s, &end, 0)` (decimal, `0x` hex or `0` octal),
/// which must start with a digit, be wholly consumed, and be non-zero.
pub(crate) fn parse_size(s: &OsStr) -> Result<u64, SizeError> {
    let s = s.to_str().ok_or(SizeError::Invalid)?;
    if !s.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return Err(SizeError::Invalid);
    }
    let (digits, radix) = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (hex, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    let value = u64::from_str_radix(digits, radix).map_err(|_| SizeError::Invalid)?;
    if value == 0 {
        return Err(SizeError::Invalid);
    }
    if value > MAX_TMPFS_BYTES {
        return Err(SizeError::TooLarge);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(s: &str) -> &OsStr {
        OsStr::new(s)
    }

    #[test]
    fn fds_follow_strtol_and_refuse_negatives() {
        assert_eq!(parse_fd(os("3")), Some(3));
        assert_eq!(parse_fd(os(" +3")), Some(3));
        assert_eq!(parse_fd(os("")), None);
        assert_eq!(parse_fd(os("x")), None);
        assert_eq!(parse_fd(os("3x")), None);
        assert_eq!(parse_fd(os("-1")), None);
        assert_eq!(parse_fd(os("99999999999")), None);
    }

    #[test]
    fn ids_refuse_negative_junk_and_the_reserved_id() {
        assert_eq!(parse_id(os("0")), Some(0));
        assert_eq!(parse_id(os("1000")), Some(1000));
        assert_eq!(parse_id(os("-1")), None);
        assert_eq!(parse_id(os("5x")), None);
        assert_eq!(parse_id(os("abc")), None);
        assert_eq!(parse_id(os("4294967295")), None);
        assert_eq!(parse_id(os("4294967296")), None);
    }

    #[test]
    fn modes_are_octal_up_to_07777() {
        assert_eq!(parse_mode(os("0700")), Some(0o700));
        assert_eq!(parse_mode(os("7777")), Some(0o7777));
        assert_eq!(parse_mode(os("17777")), None);
        assert_eq!(parse_mode(os("8")), None);
        assert_eq!(parse_mode(os("")), None);
    }

    #[test]
    fn sizes_take_c_prefixes_and_refuse_zero() {
        assert_eq!(parse_size(os("10")), Ok(10));
        assert_eq!(parse_size(os("0x10")), Ok(16));
        assert_eq!(parse_size(os("010")), Ok(8));
        assert_eq!(parse_size(os("0")), Err(SizeError::Invalid));
        assert_eq!(parse_size(os("x")), Err(SizeError::Invalid));
        assert_eq!(parse_size(os("-1")), Err(SizeError::Invalid));
        assert_eq!(parse_size(os(" 1")), Err(SizeError::Invalid));
        assert_eq!(parse_size(os("1k")), Err(SizeError::Invalid));
        assert_eq!(
            parse_size(os("18446744073709551615")),
            Err(SizeError::TooLarge)
        );
    }
}
