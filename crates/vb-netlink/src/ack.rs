//! `NLMSG_ERROR` (ACK and NACK) and `NLMSG_DONE` payloads (HC-044..HC-049, HC-062).
//!
//! Only the leading 4-byte errno is required: with `NETLINK_CAP_ACK` or extended ACKs the
//! echoed request may be cut or followed by TLVs, and nothing here depends on them.

use rustix::io::Errno;

use crate::error::Error;
use crate::header::read_i32;
use crate::uapi::{EADDRNOTAVAIL, EEXIST, ENODEV, ENOENT, ESRCH};

/// Reads the errno leading an `NLMSG_ERROR` or `NLMSG_DONE` payload.
///
/// Returns `0` for success and the positive errno for a refusal. The kernel sends
/// `-errno`, so a positive value or `i32::MIN` (whose negation overflows) cannot come from
/// it and is rejected as [`Error::InvalidErrno`].
pub(crate) fn read_errno(payload: &[u8], what: &'static str) -> Result<i32, Error> {
    let raw = read_i32(payload, 0).ok_or(Error::ShortPayload {
        what,
        len: payload.len(),
        needed: 4,
    })?;
    if raw > 0 {
        return Err(Error::InvalidErrno { errno: raw });
    }
    raw.checked_neg().ok_or(Error::InvalidErrno { errno: raw })
}

/// Turns a kernel refusal into the crate's error for `op`.
pub(crate) fn refusal(op: &'static str, errno: i32) -> Error {
    match errno {
        EEXIST => Error::Exists { op },
        ENODEV | ENOENT | ESRCH | EADDRNOTAVAIL => Error::NotFound {
            op,
            errno: Errno::from_raw_os_error(errno),
        },
        other => Error::Kernel {
            op,
            errno: Errno::from_raw_os_error(other),
        },
    }
}

/// Parses an `NLMSG_ERROR` payload for `op`: `Ok(())` for an ACK, the mapped error for a
/// NACK.
pub(crate) fn parse_ack(op: &'static str, payload: &[u8]) -> Result<(), Error> {
    match read_errno(payload, "NLMSG_ERROR")? {
        0 => Ok(()),
        errno => Err(refusal(op, errno)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_zero_bytes_are_a_complete_ack() {
        assert_eq!(parse_ack("op", &[0, 0, 0, 0]), Ok(()));
    }

    #[test]
    fn ack_shorter_than_an_errno_is_short_payload() {
        assert_eq!(
            parse_ack("op", &[0, 0, 0]),
            Err(Error::ShortPayload {
                what: "NLMSG_ERROR",
                len: 3,
                needed: 4
            })
        );
    }

    #[test]
    fn eexist_maps_to_exists() {
        assert_eq!(
            parse_ack("add", &(-17i32).to_ne_bytes()),
            Err(Error::Exists { op: "add" })
        );
    }

    #[test]
    fn enodev_maps_to_not_found() {
        let err = parse_ack("del", &(-19i32).to_ne_bytes()).unwrap_err();
        assert!(err.is_not_found());
    }

    #[test]
    fn unknown_errno_maps_to_generic_kernel_error() {
        assert_eq!(
            parse_ack("add", &(-4095i32).to_ne_bytes()),
            Err(Error::Kernel {
                op: "add",
                errno: Errno::from_raw_os_error(4095)
            })
        );
    }

    #[test]
    fn positive_errno_is_invalid() {
        assert_eq!(
            parse_ack("add", &17i32.to_ne_bytes()),
            Err(Error::InvalidErrno { errno: 17 })
        );
    }

    #[test]
    fn min_int_errno_is_invalid() {
        assert_eq!(
            parse_ack("add", &i32::MIN.to_ne_bytes()),
            Err(Error::InvalidErrno { errno: i32::MIN })
        );
    }

    #[test]
    fn echoed_request_after_the_errno_is_ignored() {
        let mut payload = (-1i32).to_ne_bytes().to_vec();
        payload.extend_from_slice(&[0xaa; 16]);
        assert_eq!(
            parse_ack("x", &payload),
            Err(Error::Kernel {
                op: "x",
                errno: Errno::PERM
            })
        );
    }
}
