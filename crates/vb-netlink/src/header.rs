//! `struct nlmsghdr`: decoding with length checks, encoding, and netlink alignment.
//!
//! Netlink uses the host's byte order; every read goes through `get` and
//! `from_ne_bytes`, so a short slice is an error value and never a panic.

use crate::uapi::{ALIGN_TO, NLMSG_HDRLEN};

/// The fixed 16-byte header in front of every netlink message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// `nlmsg_len`: the frame's length, header included, padding excluded.
    pub(crate) len: u32,
    /// `nlmsg_type`.
    pub(crate) kind: u16,
    /// `nlmsg_flags`.
    pub(crate) flags: u16,
    /// `nlmsg_seq`.
    pub(crate) seq: u32,
    /// `nlmsg_pid`: the sender's port id.
    pub(crate) port: u32,
}

impl Header {
    /// Decodes a header from the first 16 bytes of `bytes`; `None` if fewer are present.
    #[must_use]
    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        Some(Self {
            len: read_u32(bytes, 0)?,
            kind: read_u16(bytes, 4)?,
            flags: read_u16(bytes, 6)?,
            seq: read_u32(bytes, 8)?,
            port: read_u32(bytes, 12)?,
        })
    }

    /// Encodes the header into its 16 wire bytes.
    #[must_use]
    pub(crate) fn encode(&self) -> [u8; NLMSG_HDRLEN] {
        let mut out = [0u8; NLMSG_HDRLEN];
        let (len, rest) = out.split_at_mut(4);
        len.copy_from_slice(&self.len.to_ne_bytes());
        let (kind, rest) = rest.split_at_mut(2);
        kind.copy_from_slice(&self.kind.to_ne_bytes());
        let (flags, rest) = rest.split_at_mut(2);
        flags.copy_from_slice(&self.flags.to_ne_bytes());
        let (seq, port) = rest.split_at_mut(4);
        seq.copy_from_slice(&self.seq.to_ne_bytes());
        port.copy_from_slice(&self.port.to_ne_bytes());
        out
    }
}

/// Rounds `len` up to the netlink alignment (4); `None` on overflow.
#[must_use]
pub(crate) const fn align(len: usize) -> Option<usize> {
    match len.checked_add(ALIGN_TO - 1) {
        Some(v) => Some(v & !(ALIGN_TO - 1)),
        None => None,
    }
}

/// Reads a native-endian `u16` at `at`.
pub(crate) fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let end = at.checked_add(2)?;
    let raw: [u8; 2] = bytes.get(at..end)?.try_into().ok()?;
    Some(u16::from_ne_bytes(raw))
}

/// Reads a native-endian `u32` at `at`.
pub(crate) fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let end = at.checked_add(4)?;
    let raw: [u8; 4] = bytes.get(at..end)?.try_into().ok()?;
    Some(u32::from_ne_bytes(raw))
}

/// Reads a native-endian `i32` at `at`.
pub(crate) fn read_i32(bytes: &[u8], at: usize) -> Option<i32> {
    let end = at.checked_add(4)?;
    let raw: [u8; 4] = bytes.get(at..end)?.try_into().ok()?;
    Some(i32::from_ne_bytes(raw))
}

/// Returns the offset of the first non-zero byte in `bytes[from..to]`, if any.
pub(crate) fn first_nonzero(bytes: &[u8], from: usize, to: usize) -> Option<usize> {
    let region = bytes.get(from..to)?;
    region
        .iter()
        .position(|b| *b != 0)
        .map(|i| from.saturating_add(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_through_its_wire_bytes() {
        let h = Header {
            len: 36,
            kind: 2,
            flags: 0x100,
            seq: 7,
            port: 0,
        };
        assert_eq!(Header::decode(&h.encode()), Some(h));
    }

    #[test]
    fn decode_refuses_fifteen_bytes() {
        assert_eq!(Header::decode(&[0u8; 15]), None);
    }

    #[test]
    fn align_rounds_up_to_four_and_reports_overflow() {
        assert_eq!(align(0), Some(0));
        assert_eq!(align(1), Some(4));
        assert_eq!(align(4), Some(4));
        assert_eq!(align(17), Some(20));
        assert_eq!(align(usize::MAX), None);
    }
}
