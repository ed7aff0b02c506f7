//! Resource limits: the values, their parsers, and the v2→v1 unit mappings.
//!
//! Two spellings are accepted for every limit, so one parser serves both the library's
//! reference strings (the values cgroup v2 files take: `"268435456"`, `"50000 100000"`,
//! `"256"`) and the command line's friendlier forms (`256M`, `50000/100000`).
//!
//! Parsing never looks at the host. Rules that depend on it (a CPU quota larger than the
//! machine can ever grant) are checked when the cgroup is created and reported as a
//! [`Warning`](crate::Warning), because the kernel accepts such a limit: it simply never binds.

use std::fmt;

use crate::controller::Controller;
use crate::error::CgroupError;

/// The default CFS period, in microseconds, used when `--cpu-max` gives only a quota.
/// It is the kernel's own default for both `cpu.cfs_period_us` and `cpu.max`.
pub const DEFAULT_CPU_PERIOD_US: u64 = 100_000;
/// The smallest CFS period (and quota) the kernel accepts, in microseconds (1 ms).
pub const MIN_CPU_PERIOD_US: u64 = 1_000;
/// The largest CFS period the kernel accepts, in microseconds (1 s).
pub const MAX_CPU_PERIOD_US: u64 = 1_000_000;
/// The smallest CFS quota the kernel accepts, in microseconds (1 ms).
pub const MIN_CPU_QUOTA_US: u64 = 1_000;
/// The cgroup v2 weight range (`cpu.weight`, `io.weight`): 1 to 10000, default 100.
pub const WEIGHT_RANGE: std::ops::RangeInclusive<u64> = 1..=10_000;

/// Which limit a value belongs to; also the key used in the reference document's
/// `ResourceLimits` (`memory_max`, `cpu_max`, `pids_max`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    /// `memory_max`: the memory ceiling in bytes.
    MemoryMax,
    /// `memory_swap_max`: the swap ceiling in bytes, on top of `memory_max`.
    MemorySwapMax,
    /// `cpu_max`: a CFS bandwidth quota and period in microseconds.
    CpuMax,
    /// `cpu_weight`: the relative CPU share, 1 to 10000.
    CpuWeight,
    /// `pids_max`: the most tasks (processes and threads) the sandbox may hold.
    PidsMax,
    /// `io_weight`: the relative block-I/O share, 1 to 10000.
    IoWeight,
}

impl LimitKind {
    /// Every limit kind.
    pub const ALL: [LimitKind; 6] = [
        LimitKind::MemoryMax,
        LimitKind::MemorySwapMax,
        LimitKind::CpuMax,
        LimitKind::CpuWeight,
        LimitKind::PidsMax,
        LimitKind::IoWeight,
    ];

    /// The reference document's field name for this limit.
    pub fn key(self) -> &'static str {
        match self {
            LimitKind::MemoryMax => "memory_max",
            LimitKind::MemorySwapMax => "memory_swap_max",
            LimitKind::CpuMax => "cpu_max",
            LimitKind::CpuWeight => "cpu_weight",
            LimitKind::PidsMax => "pids_max",
            LimitKind::IoWeight => "io_weight",
        }
    }

    /// The limit named by a reference-document field name, if any.
    pub fn from_key(key: &str) -> Option<LimitKind> {
        LimitKind::ALL.into_iter().find(|kind| kind.key() == key)
    }

    /// The controller that enforces this limit.
    pub fn controller(self) -> Controller {
        match self {
            LimitKind::MemoryMax | LimitKind::MemorySwapMax => Controller::Memory,
            LimitKind::CpuMax | LimitKind::CpuWeight => Controller::Cpu,
            LimitKind::PidsMax => Controller::Pids,
            LimitKind::IoWeight => Controller::Io,
        }
    }

    /// What a valid value looks like, for error messages.
    pub fn expected(self) -> &'static str {
        match self {
            LimitKind::MemoryMax => {
                "a size in bytes, optionally with a K, M, G or T suffix (powers of 1024), or max"
            }
            LimitKind::MemorySwapMax => {
                "a size in bytes (0 allowed), optionally with a K, M, G or T suffix, or max"
            }
            LimitKind::CpuMax => {
                "QUOTA[/PERIOD] or \"QUOTA PERIOD\" in microseconds, quota >= 1000, \
                 period 1000..=1000000 (default 100000); QUOTA may be max"
            }
            LimitKind::CpuWeight | LimitKind::IoWeight => "an integer from 1 to 10000",
            LimitKind::PidsMax => "a positive integer, or max",
        }
    }
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Why a limit string was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidLimit {
    /// The value was empty or only whitespace.
    Empty,
    /// The number part is not a decimal integer.
    NotANumber,
    /// The value is negative.
    Negative,
    /// The value is zero where zero would make the sandbox unusable.
    Zero,
    /// The size suffix is not one of K, M, G, T (optionally followed by B or iB).
    UnknownSuffix(String),
    /// The value does not fit the kernel's signed 64-bit counters.
    TooLarge,
    /// The value lies outside the accepted range.
    OutOfRange {
        /// Smallest accepted value.
        min: u64,
        /// Largest accepted value.
        max: u64,
    },
    /// The CPU quota is below the kernel's 1 ms minimum.
    QuotaTooSmall,
    /// The CPU period lies outside the kernel's 1 ms to 1 s range.
    PeriodOutOfRange,
    /// The CPU limit has more than two parts, or an empty one.
    Malformed,
}

impl fmt::Display for InvalidLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidLimit::Empty => f.write_str("the value is empty"),
            InvalidLimit::NotANumber => f.write_str("not a number"),
            InvalidLimit::Negative => f.write_str("negative values are not allowed"),
            InvalidLimit::Zero => f.write_str("zero would leave the sandbox unable to run"),
            InvalidLimit::UnknownSuffix(suffix) => write!(f, "unknown size suffix {suffix:?}"),
            InvalidLimit::TooLarge => f.write_str("the value is too large"),
            InvalidLimit::OutOfRange { min, max } => {
                write!(f, "out of range ({min} to {max})")
            }
            InvalidLimit::QuotaTooSmall => {
                write!(
                    f,
                    "the quota is below the kernel's minimum of {MIN_CPU_QUOTA_US} us"
                )
            }
            InvalidLimit::PeriodOutOfRange => write!(
                f,
                "the period must lie between {MIN_CPU_PERIOD_US} and {MAX_CPU_PERIOD_US} us"
            ),
            InvalidLimit::Malformed => f.write_str("malformed"),
        }
    }
}

/// A CFS bandwidth limit: the sandbox may run `quota_us` microseconds of CPU time in every
/// `period_us` microseconds of wall time (so `50000/100000` is half of one CPU).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuMax {
    /// CPU time per period, in microseconds (at least [`MIN_CPU_QUOTA_US`]).
    pub quota_us: u64,
    /// The period, in microseconds ([`MIN_CPU_PERIOD_US`] to [`MAX_CPU_PERIOD_US`]).
    pub period_us: u64,
}

impl CpuMax {
    /// The bandwidth as a fraction of one CPU (`quota / period`).
    pub fn cpus(&self) -> f64 {
        // u64 → f64 loses precision only beyond 2^53 µs, far past any accepted value.
        #[allow(clippy::cast_precision_loss)]
        let ratio = self.quota_us as f64 / self.period_us as f64;
        ratio
    }
}

impl fmt::Display for CpuMax {
    /// Formats as the command line writes it: `QUOTA/PERIOD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.quota_us, self.period_us)
    }
}

/// The resource limits of one sandbox. `None` leaves a resource unlimited (inherited from
/// the caller's cgroup).
///
/// Build it field by field, or from strings with [`ResourceLimits::set`]:
///
/// ```
/// use vb_cgroup::{LimitKind, ResourceLimits};
///
/// let mut limits = ResourceLimits::default();
/// limits.set(LimitKind::MemoryMax, "268435456")?;
/// limits.set(LimitKind::CpuMax, "50000 100000")?;
/// limits.set(LimitKind::PidsMax, "256")?;
/// assert_eq!(limits.memory_max, Some(256 << 20));
/// assert_eq!(limits.pids_max, Some(256));
///
/// let err = limits.set(LimitKind::MemoryMax, "banana").unwrap_err();
/// assert!(err.to_string().contains("banana"));
/// # Ok::<(), vb_cgroup::CgroupError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResourceLimits {
    /// Memory ceiling in bytes (`memory.max` / `memory.limit_in_bytes`). Reaching it makes
    /// the kernel reclaim and, failing that, OOM-kill inside the sandbox.
    pub memory_max: Option<u64>,
    /// Swap ceiling in bytes, *in addition to* `memory_max` (cgroup v2's `memory.swap.max`
    /// semantics). `Some(0)` forbids swapping, so `memory_max` is a hard limit even on a host
    /// with swap. On v1 it becomes `memory.memsw.limit_in_bytes = memory_max + swap`, which
    /// needs `memory_max` as well.
    pub memory_swap_max: Option<u64>,
    /// CFS bandwidth limit.
    pub cpu_max: Option<CpuMax>,
    /// Relative CPU weight, 1 to 10000 (v2 `cpu.weight`; default 100). On v1 it is mapped
    /// to `cpu.shares` by [`cpu_weight_to_shares`].
    pub cpu_weight: Option<u16>,
    /// Most tasks (processes and threads) in the sandbox, at least 1.
    pub pids_max: Option<u64>,
    /// Relative block-I/O weight, 1 to 10000 (v2 `io.weight`; default 100). On v1 it is
    /// mapped by [`io_weight_to_bfq`] or [`io_weight_to_blkio`].
    pub io_weight: Option<u16>,
}

impl ResourceLimits {
    /// True when no limit is set.
    pub fn is_empty(&self) -> bool {
        *self == ResourceLimits::default()
    }

    /// The controllers the set limits need, in [`Controller::ALL`] order.
    pub fn controllers(&self) -> Vec<Controller> {
        Controller::ALL
            .into_iter()
            .filter(|&controller| match controller {
                Controller::Memory => self.memory_max.is_some() || self.memory_swap_max.is_some(),
                Controller::Pids => self.pids_max.is_some(),
                Controller::Cpu => self.cpu_max.is_some() || self.cpu_weight.is_some(),
                Controller::Io => self.io_weight.is_some(),
            })
            .collect()
    }

    /// Parses `value` for the limit `kind` and stores it (`max` clears the limit).
    ///
    /// Accepted forms: sizes as bytes or with a `K`/`M`/`G`/`T` suffix (powers of 1024,
    /// optionally followed by `B` or `iB`); CPU as `QUOTA`, `QUOTA/PERIOD` or
    /// `"QUOTA PERIOD"` in microseconds; pids and weights as integers.
    ///
    /// # Errors
    /// [`CgroupError::InvalidLimit`] naming the limit, the input and what is wrong with it.
    pub fn set(&mut self, kind: LimitKind, value: &str) -> Result<&mut Self, CgroupError> {
        match kind {
            LimitKind::MemoryMax => self.memory_max = parse_memory_max(value)?,
            LimitKind::MemorySwapMax => self.memory_swap_max = parse_memory_swap_max(value)?,
            LimitKind::CpuMax => self.cpu_max = parse_cpu_max(value)?,
            LimitKind::CpuWeight => self.cpu_weight = Some(parse_weight(kind, value)?),
            LimitKind::PidsMax => self.pids_max = parse_pids_max(value)?,
            LimitKind::IoWeight => self.io_weight = Some(parse_weight(kind, value)?),
        }
        Ok(self)
    }

    /// Builds limits from the reference document's three strings (each optional), e.g.
    /// `from_reference(Some("268435456"), Some("50000 100000"), Some("256"))`.
    ///
    /// # Errors
    /// The first [`CgroupError::InvalidLimit`] found.
    pub fn from_reference(
        memory_max: Option<&str>,
        cpu_max: Option<&str>,
        pids_max: Option<&str>,
    ) -> Result<ResourceLimits, CgroupError> {
        let mut limits = ResourceLimits::default();
        for (kind, value) in [
            (LimitKind::MemoryMax, memory_max),
            (LimitKind::CpuMax, cpu_max),
            (LimitKind::PidsMax, pids_max),
        ] {
            if let Some(value) = value {
                limits.set(kind, value)?;
            }
        }
        Ok(limits)
    }
}

fn invalid(kind: LimitKind, input: &str, reason: InvalidLimit) -> CgroupError {
    CgroupError::InvalidLimit {
        limit: kind,
        input: input.to_owned(),
        reason,
    }
}

/// Parses a decimal integer that must fit an `i64` (the kernel's counters are signed).
fn parse_integer(text: &str) -> Result<u64, InvalidLimit> {
    if text.is_empty() {
        return Err(InvalidLimit::NotANumber);
    }
    if let Some(rest) = text.strip_prefix('-') {
        return if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
            Err(InvalidLimit::Negative)
        } else {
            Err(InvalidLimit::NotANumber)
        };
    }
    // `u64::from_str` would also take a leading '+'; the kernel would not.
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InvalidLimit::NotANumber);
    }
    let value: u64 = text.parse().map_err(|_| InvalidLimit::TooLarge)?;
    if i64::try_from(value).is_err() {
        return Err(InvalidLimit::TooLarge);
    }
    Ok(value)
}

/// Parses a byte size: `512`, `512K`, `256M`, `1G`, `2T` (binary multiples; `k`, `KB`
/// and `KiB` are the same as `K`). Returns the number of bytes.
///
/// # Errors
/// The [`InvalidLimit`] reason: not a number, negative, unknown suffix or too large.
pub fn parse_byte_size(text: &str) -> Result<u64, InvalidLimit> {
    let text = text.trim();
    if text.is_empty() {
        return Err(InvalidLimit::Empty);
    }
    let split = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && c == '-')))
        .map_or(text.len(), |(i, _)| i);
    let (number, suffix) = text.split_at(split);
    let value = parse_integer(number)?;
    let shift = match suffix.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(InvalidLimit::UnknownSuffix(suffix.to_owned())),
    };
    let bytes = value
        .checked_mul(1u64 << shift)
        .ok_or(InvalidLimit::TooLarge)?;
    if i64::try_from(bytes).is_err() {
        return Err(InvalidLimit::TooLarge);
    }
    Ok(bytes)
}

/// Formats a byte count with the largest suffix that represents it exactly (`268435456` →
/// `256M`); [`parse_byte_size`] reads it back to the same number.
pub fn format_byte_size(bytes: u64) -> String {
    for (shift, suffix) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] {
        if bytes != 0 && bytes.trailing_zeros() >= shift {
            return format!("{}{suffix}", bytes >> shift);
        }
    }
    bytes.to_string()
}

fn is_max(text: &str) -> bool {
    text.trim() == "max"
}

/// Parses `memory_max`: a byte size (not zero), or `max` for no limit.
///
/// # Errors
/// [`CgroupError::InvalidLimit`].
pub fn parse_memory_max(text: &str) -> Result<Option<u64>, CgroupError> {
    let kind = LimitKind::MemoryMax;
    if is_max(text) {
        return Ok(None);
    }
    match parse_byte_size(text) {
        Ok(0) => Err(invalid(kind, text, InvalidLimit::Zero)),
        Ok(bytes) => Ok(Some(bytes)),
        Err(reason) => Err(invalid(kind, text, reason)),
    }
}

/// Parses `memory_swap_max`: a byte size (zero forbids swap), or `max` for no limit.
///
/// # Errors
/// [`CgroupError::InvalidLimit`].
pub fn parse_memory_swap_max(text: &str) -> Result<Option<u64>, CgroupError> {
    if is_max(text) {
        return Ok(None);
    }
    parse_byte_size(text)
        .map(Some)
        .map_err(|reason| invalid(LimitKind::MemorySwapMax, text, reason))
}

/// Parses `pids_max`: a positive integer, or `max` for no limit. Zero is refused: the
/// sandbox's PID 1 could not even fork the command.
///
/// # Errors
/// [`CgroupError::InvalidLimit`].
pub fn parse_pids_max(text: &str) -> Result<Option<u64>, CgroupError> {
    let kind = LimitKind::PidsMax;
    let trimmed = text.trim();
    if trimmed == "max" {
        return Ok(None);
    }
    if trimmed.is_empty() {
        return Err(invalid(kind, text, InvalidLimit::Empty));
    }
    match parse_integer(trimmed) {
        Ok(0) => Err(invalid(kind, text, InvalidLimit::Zero)),
        Ok(n) => Ok(Some(n)),
        Err(reason) => Err(invalid(kind, text, reason)),
    }
}

/// Parses a weight (`cpu_weight` or `io_weight`): an integer from 1 to 10000.
///
/// # Errors
/// [`CgroupError::InvalidLimit`].
pub fn parse_weight(kind: LimitKind, text: &str) -> Result<u16, CgroupError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(invalid(kind, text, InvalidLimit::Empty));
    }
    let value = parse_integer(trimmed).map_err(|reason| invalid(kind, text, reason))?;
    let out_of_range = InvalidLimit::OutOfRange {
        min: *WEIGHT_RANGE.start(),
        max: *WEIGHT_RANGE.end(),
    };
    if !WEIGHT_RANGE.contains(&value) {
        return Err(invalid(kind, text, out_of_range));
    }
    u16::try_from(value).map_err(|_| invalid(kind, text, out_of_range))
}

/// Parses `cpu_max`: `QUOTA`, `QUOTA/PERIOD` or `"QUOTA PERIOD"` (the v2 `cpu.max` form),
/// in microseconds; `max` (optionally with a period) means no bandwidth limit.
///
/// # Errors
/// [`CgroupError::InvalidLimit`]: a quota below 1 ms, a period outside 1 ms..=1 s, a
/// non-number, or more than two parts.
pub fn parse_cpu_max(text: &str) -> Result<Option<CpuMax>, CgroupError> {
    let kind = LimitKind::CpuMax;
    let err = |reason| invalid(kind, text, reason);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(err(InvalidLimit::Empty));
    }
    let parts: Vec<&str> = if trimmed.contains('/') {
        trimmed.split('/').map(str::trim).collect()
    } else {
        trimmed.split_ascii_whitespace().collect()
    };
    let (quota_text, period_text) = match parts.as_slice() {
        [quota] => (*quota, None),
        [quota, period] => (*quota, Some(*period)),
        _ => return Err(err(InvalidLimit::Malformed)),
    };
    if quota_text.is_empty() || period_text == Some("") {
        return Err(err(InvalidLimit::Malformed));
    }
    let period_us = match period_text {
        None => DEFAULT_CPU_PERIOD_US,
        Some(p) => parse_integer(p).map_err(err)?,
    };
    if !(MIN_CPU_PERIOD_US..=MAX_CPU_PERIOD_US).contains(&period_us) {
        return Err(err(InvalidLimit::PeriodOutOfRange));
    }
    if quota_text == "max" {
        return Ok(None);
    }
    let quota_us = parse_integer(quota_text).map_err(err)?;
    if quota_us == 0 {
        return Err(err(InvalidLimit::Zero));
    }
    if quota_us < MIN_CPU_QUOTA_US {
        return Err(err(InvalidLimit::QuotaTooSmall));
    }
    Ok(Some(CpuMax {
        quota_us,
        period_us,
    }))
}

/// Maps a v2 CPU weight (1..=10000, default 100) to v1 `cpu.shares` (2..=262144, default
/// 1024) so that the defaults coincide: `shares = weight × 1024 / 100`, clamped. Ratios
/// between sandboxes are preserved except at the clamped ends (weights below 1 share in
/// 512 of the default, and above 256× the default, which v1 cannot express).
pub fn cpu_weight_to_shares(weight: u16) -> u64 {
    (u64::from(weight) * 1024 / 100).clamp(2, 262_144)
}

/// Maps a v2 I/O weight (1..=10000, default 100) to v1 `blkio.bfq.weight` (1..=1000,
/// default 100): the same unit and default, saturating at 1000.
pub fn io_weight_to_bfq(weight: u16) -> u64 {
    u64::from(weight).clamp(1, 1000)
}

/// Maps a v2 I/O weight to the legacy CFQ `blkio.weight` (10..=1000, default 500): scaled so
/// the defaults coincide (`weight × 5`), clamped.
pub fn io_weight_to_blkio(weight: u16) -> u64 {
    (u64::from(weight) * 5).clamp(10, 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reason(result: Result<impl fmt::Debug, CgroupError>) -> InvalidLimit {
        match result {
            Err(CgroupError::InvalidLimit { reason, .. }) => reason,
            other => panic!("expected InvalidLimit, got {other:?}"),
        }
    }

    #[test]
    fn sizes_accept_bytes_and_binary_suffixes() {
        assert_eq!(parse_byte_size("268435456"), Ok(268_435_456));
        assert_eq!(parse_byte_size("512K"), Ok(512 << 10));
        assert_eq!(parse_byte_size("256M"), Ok(256 << 20));
        assert_eq!(parse_byte_size("1G"), Ok(1 << 30));
        assert_eq!(parse_byte_size("2t"), Ok(2 << 40));
        assert_eq!(parse_byte_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_byte_size("64mb"), Ok(64 << 20));
        assert_eq!(parse_byte_size(" 100B "), Ok(100));
    }

    #[test]
    fn bad_sizes_say_what_is_wrong() {
        assert_eq!(reason(parse_memory_max("banana")), InvalidLimit::NotANumber);
        assert_eq!(reason(parse_memory_max("")), InvalidLimit::Empty);
        assert_eq!(reason(parse_memory_max("-5M")), InvalidLimit::Negative);
        assert_eq!(reason(parse_memory_max("0")), InvalidLimit::Zero);
        assert_eq!(
            reason(parse_memory_max("12Q")),
            InvalidLimit::UnknownSuffix("Q".to_owned())
        );
        assert_eq!(
            reason(parse_memory_max("1.5G")),
            InvalidLimit::UnknownSuffix(".5G".to_owned())
        );
        assert_eq!(reason(parse_memory_max("+5")), InvalidLimit::NotANumber);
        assert_eq!(reason(parse_memory_max("9000000T")), InvalidLimit::TooLarge);
        assert_eq!(
            reason(parse_memory_max("99999999999999999999")),
            InvalidLimit::TooLarge
        );
        let message = parse_memory_max("banana").unwrap_err().to_string();
        assert!(message.contains("memory_max"), "{message}");
        assert!(message.contains("\"banana\""), "{message}");
        assert!(message.contains("not a number"), "{message}");
        assert!(
            message.contains("256M") || message.contains("suffix"),
            "{message}"
        );
    }

    #[test]
    fn max_clears_and_swap_may_be_zero() {
        assert_eq!(parse_memory_max("max").unwrap(), None);
        assert_eq!(parse_memory_swap_max("0").unwrap(), Some(0));
        assert_eq!(parse_memory_swap_max("max").unwrap(), None);
        assert_eq!(parse_pids_max("max").unwrap(), None);
    }

    #[test]
    fn pids_must_be_positive_integers() {
        assert_eq!(parse_pids_max("256").unwrap(), Some(256));
        assert_eq!(reason(parse_pids_max("0")), InvalidLimit::Zero);
        assert_eq!(reason(parse_pids_max("-1")), InvalidLimit::Negative);
        assert_eq!(reason(parse_pids_max("8k")), InvalidLimit::NotANumber);
        assert_eq!(reason(parse_pids_max(" ")), InvalidLimit::Empty);
    }

    #[test]
    fn cpu_accepts_the_reference_and_command_line_forms() {
        let half = Some(CpuMax {
            quota_us: 50_000,
            period_us: 100_000,
        });
        assert_eq!(parse_cpu_max("50000 100000").unwrap(), half);
        assert_eq!(parse_cpu_max("50000/100000").unwrap(), half);
        assert_eq!(parse_cpu_max("50000").unwrap(), half);
        assert_eq!(parse_cpu_max(" 50000  100000 ").unwrap(), half);
        assert_eq!(parse_cpu_max("max").unwrap(), None);
        assert_eq!(parse_cpu_max("max 100000").unwrap(), None);
        assert_eq!(
            parse_cpu_max("250000/1000000").unwrap(),
            Some(CpuMax {
                quota_us: 250_000,
                period_us: 1_000_000
            })
        );
    }

    #[test]
    fn bad_cpu_limits_say_what_is_wrong() {
        assert_eq!(reason(parse_cpu_max("999")), InvalidLimit::QuotaTooSmall);
        assert_eq!(reason(parse_cpu_max("0/100000")), InvalidLimit::Zero);
        assert_eq!(reason(parse_cpu_max("-5/100000")), InvalidLimit::Negative);
        assert_eq!(
            reason(parse_cpu_max("5000/999")),
            InvalidLimit::PeriodOutOfRange
        );
        assert_eq!(
            reason(parse_cpu_max("5000/1000001")),
            InvalidLimit::PeriodOutOfRange
        );
        assert_eq!(
            reason(parse_cpu_max("max/5")),
            InvalidLimit::PeriodOutOfRange
        );
        assert_eq!(reason(parse_cpu_max("1/2/3")), InvalidLimit::Malformed);
        assert_eq!(reason(parse_cpu_max("5000/")), InvalidLimit::Malformed);
        assert_eq!(reason(parse_cpu_max("/100000")), InvalidLimit::Malformed);
        assert_eq!(reason(parse_cpu_max("half")), InvalidLimit::NotANumber);
        assert_eq!(reason(parse_cpu_max("")), InvalidLimit::Empty);
    }

    #[test]
    fn weights_are_one_to_ten_thousand() {
        assert_eq!(parse_weight(LimitKind::CpuWeight, "1").unwrap(), 1);
        assert_eq!(parse_weight(LimitKind::IoWeight, "10000").unwrap(), 10_000);
        let range = InvalidLimit::OutOfRange {
            min: 1,
            max: 10_000,
        };
        assert_eq!(reason(parse_weight(LimitKind::CpuWeight, "0")), range);
        assert_eq!(reason(parse_weight(LimitKind::CpuWeight, "10001")), range);
        assert_eq!(
            reason(parse_weight(LimitKind::CpuWeight, "-2")),
            InvalidLimit::Negative
        );
    }

    #[test]
    fn the_reference_strings_build_limits() {
        let limits =
            ResourceLimits::from_reference(Some("268435456"), Some("50000 100000"), Some("256"))
                .unwrap();
        assert_eq!(limits.memory_max, Some(268_435_456));
        assert_eq!(limits.pids_max, Some(256));
        assert_eq!(limits.cpu_max.unwrap().cpus(), 0.5);
        assert_eq!(
            limits.controllers(),
            vec![Controller::Memory, Controller::Pids, Controller::Cpu]
        );
        assert!(ResourceLimits::default().is_empty());
        assert!(ResourceLimits::default().controllers().is_empty());
        let err = ResourceLimits::from_reference(None, None, Some("0")).unwrap_err();
        assert!(matches!(
            err,
            CgroupError::InvalidLimit {
                limit: LimitKind::PidsMax,
                ..
            }
        ));
    }

    #[test]
    fn keys_name_every_limit() {
        for kind in LimitKind::ALL {
            assert_eq!(LimitKind::from_key(kind.key()), Some(kind));
        }
        assert_eq!(LimitKind::from_key("memory"), None);
    }

    #[test]
    fn weight_mappings_keep_defaults_and_ranges() {
        assert_eq!(cpu_weight_to_shares(100), 1024);
        assert_eq!(cpu_weight_to_shares(1), 10);
        assert_eq!(cpu_weight_to_shares(10_000), 102_400);
        assert_eq!(io_weight_to_bfq(100), 100);
        assert_eq!(io_weight_to_bfq(10_000), 1000);
        assert_eq!(io_weight_to_blkio(100), 500);
        assert_eq!(io_weight_to_blkio(1), 10);
        assert_eq!(io_weight_to_blkio(10_000), 1000);
    }

    proptest! {
        #[test]
        fn size_parser_never_panics(text in ".{0,24}") {
            let _ = parse_byte_size(&text);
            let _ = parse_memory_max(&text);
            let _ = parse_pids_max(&text);
            let _ = parse_weight(LimitKind::CpuWeight, &text);
        }

        #[test]
        fn cpu_parser_never_panics(text in "[0-9a-z /\\-]{0,24}") {
            let _ = parse_cpu_max(&text);
        }

        #[test]
        fn sizes_round_trip_through_their_formatting(bytes in 0u64..=(i64::MAX as u64)) {
            prop_assert_eq!(parse_byte_size(&format_byte_size(bytes)), Ok(bytes));
        }

        #[test]
        fn suffixed_sizes_multiply(n in 0u64..(1 << 20), suffix in 0usize..4) {
            let (letter, shift) = [("K", 10), ("M", 20), ("G", 30), ("T", 40)][suffix];
            let expected = n.checked_mul(1 << shift).filter(|&b| i64::try_from(b).is_ok());
            let parsed = parse_byte_size(&format!("{n}{letter}")).ok();
            prop_assert_eq!(parsed, expected);
        }

        #[test]
        fn cpu_limits_round_trip_through_display(
            quota in MIN_CPU_QUOTA_US..10_000_000u64,
            period in MIN_CPU_PERIOD_US..=MAX_CPU_PERIOD_US,
        ) {
            let limit = CpuMax { quota_us: quota, period_us: period };
            prop_assert_eq!(parse_cpu_max(&limit.to_string()).unwrap(), Some(limit));
            let v2_form = format!("{quota} {period}");
            prop_assert_eq!(parse_cpu_max(&v2_form).unwrap(), Some(limit));
        }

        #[test]
        fn accepted_pids_are_exactly_the_positive_integers(n in any::<i64>()) {
            let parsed = parse_pids_max(&n.to_string());
            if n > 0 {
                prop_assert_eq!(parsed.unwrap(), Some(n.unsigned_abs()));
            } else {
                prop_assert!(parsed.is_err());
            }
        }
    }
}
