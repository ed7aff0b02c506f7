//! Walking the attributes (`struct rtattr`) of a message, with length, bounds, padding
//! and count checks (HC-039, HC-041, HC-042), and strict typed payload readers.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::Error;
use crate::header::{align, first_nonzero, read_u16};
use crate::limits::MAX_ATTRIBUTES_PER_MESSAGE;
use crate::uapi::{AF_INET, AF_INET6, NLA_HDRLEN, NLA_TYPE_MASK};

/// One attribute: its type (flag bits removed) and its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Attr<'a> {
    /// `rta_type` without `NLA_F_NESTED` / `NLA_F_NET_BYTEORDER`.
    pub(crate) kind: u16,
    /// The payload, `rta_len - 4` bytes.
    pub(crate) payload: &'a [u8],
}

/// Iterates over an attribute area; at most [`MAX_ATTRIBUTES_PER_MESSAGE`] attributes,
/// the first error ends the walk.
#[derive(Debug, Clone)]
pub(crate) struct Attrs<'a> {
    buf: &'a [u8],
    offset: usize,
    count: usize,
    done: bool,
}

impl<'a> Attrs<'a> {
    pub(crate) fn new(area: &'a [u8]) -> Self {
        Self {
            buf: area,
            offset: 0,
            count: 0,
            done: false,
        }
    }

    fn step(&mut self) -> Option<Result<Attr<'a>, Error>> {
        let offset = self.offset;
        let rest = self.buf.get(offset..)?;
        if rest.is_empty() {
            return None;
        }
        if rest.len() < NLA_HDRLEN {
            // An all-zero tail shorter than a header is padding: the area ends here.
            first_nonzero(rest, 0, rest.len())?;
            return Some(Err(Error::TruncatedAttribute {
                offset,
                available: rest.len(),
            }));
        }
        if self.count >= MAX_ATTRIBUTES_PER_MESSAGE {
            return Some(Err(Error::TooManyAttributes {
                cap: MAX_ATTRIBUTES_PER_MESSAGE,
            }));
        }
        let raw_len = read_u16(rest, 0)?;
        let raw_kind = read_u16(rest, 2)?;
        let len = usize::from(raw_len);
        if len < NLA_HDRLEN {
            return Some(Err(Error::AttributeTooShort {
                offset,
                len: raw_len,
            }));
        }
        let Some(payload) = rest.get(NLA_HDRLEN..len) else {
            return Some(Err(Error::AttributeOverrun {
                offset,
                len: raw_len,
                available: rest.len(),
            }));
        };
        let padded = align(len).unwrap_or(len).min(rest.len());
        if let Some(bad) = first_nonzero(rest, len, padded) {
            return Some(Err(Error::NonZeroPadding {
                offset: offset.saturating_add(bad),
            }));
        }
        self.offset = offset.saturating_add(padded);
        self.count = self.count.saturating_add(1);
        Some(Ok(Attr {
            kind: raw_kind & NLA_TYPE_MASK,
            payload,
        }))
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<Attr<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.step();
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        item
    }
}

impl<'a> Attr<'a> {
    /// The payload as a `u32`; any other size is an error (HC-068).
    pub(crate) fn u32(&self, what: &'static str) -> Result<u32, Error> {
        let raw: [u8; 4] = self.payload.try_into().map_err(|_| Error::AttributeSize {
            what,
            len: self.payload.len(),
            expected: 4,
        })?;
        Ok(u32::from_ne_bytes(raw))
    }

    /// The payload as a `u8`; any other size is an error.
    pub(crate) fn u8(&self, what: &'static str) -> Result<u8, Error> {
        match self.payload {
            [b] => Ok(*b),
            _ => Err(Error::AttributeSize {
                what,
                len: self.payload.len(),
                expected: 1,
            }),
        }
    }

    /// The payload as an address of `family`: exactly 4 bytes for IPv4, 16 for IPv6
    /// (HC-063, HC-064).
    pub(crate) fn ip(&self, family: u8, what: &'static str) -> Result<IpAddr, Error> {
        match family {
            AF_INET => {
                let raw: [u8; 4] = self.payload.try_into().map_err(|_| Error::AttributeSize {
                    what,
                    len: self.payload.len(),
                    expected: 4,
                })?;
                Ok(IpAddr::V4(Ipv4Addr::from(raw)))
            }
            AF_INET6 => {
                let raw: [u8; 16] = self.payload.try_into().map_err(|_| Error::AttributeSize {
                    what,
                    len: self.payload.len(),
                    expected: 16,
                })?;
                Ok(IpAddr::V6(Ipv6Addr::from(raw)))
            }
            other => Err(Error::UnsupportedFamily {
                family: other,
                context: what,
            }),
        }
    }

    /// The bytes before the NUL terminator, which must be present (HC-054).
    pub(crate) fn c_string(&self) -> Result<&'a [u8], Error> {
        let nul = self
            .payload
            .iter()
            .position(|b| *b == 0)
            .ok_or(Error::IfNameNotTerminated)?;
        self.payload.get(..nul).ok_or(Error::IfNameNotTerminated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uapi::NLA_F_NESTED;

    fn attr(kind: u16, payload: &[u8]) -> Vec<u8> {
        let len = u16::try_from(NLA_HDRLEN + payload.len()).unwrap();
        let mut v = len.to_ne_bytes().to_vec();
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(payload);
        while !v.len().is_multiple_of(4) {
            v.push(0);
        }
        v
    }

    #[test]
    fn walks_attributes_and_strips_flag_bits() {
        let mut area = attr(3 | NLA_F_NESTED, b"lo\0");
        area.extend(attr(4, &65536u32.to_ne_bytes()));
        let attrs: Vec<_> = Attrs::new(&area).collect::<Result<_, _>>().unwrap();
        assert_eq!(attrs[0].kind, 3);
        assert_eq!(attrs[0].c_string().unwrap(), b"lo");
        assert_eq!(attrs[1].u32("mtu").unwrap(), 65536);
    }

    #[test]
    fn rejects_an_attribute_overrunning_its_message() {
        let mut area = attr(1, &[0; 4]);
        area[0..2].copy_from_slice(&40u16.to_ne_bytes());
        let err = Attrs::new(&area).next().unwrap().unwrap_err();
        assert_eq!(
            err,
            Error::AttributeOverrun {
                offset: 0,
                len: 40,
                available: 8
            }
        );
    }

    #[test]
    fn rejects_attribute_length_below_its_header() {
        let area = [2u8, 0, 1, 0];
        let err = Attrs::new(&area).next().unwrap().unwrap_err();
        assert_eq!(err, Error::AttributeTooShort { offset: 0, len: 2 });
    }

    #[test]
    fn rejects_non_zero_attribute_padding() {
        let mut area = attr(1, &[7]);
        area[6] = 1;
        let err = Attrs::new(&area).next().unwrap().unwrap_err();
        assert_eq!(err, Error::NonZeroPadding { offset: 6 });
    }

    #[test]
    fn rejects_truncated_attribute_header() {
        let mut area = attr(1, &[7]);
        area.extend_from_slice(&[5, 0]);
        let results: Vec<_> = Attrs::new(&area).collect();
        assert_eq!(
            results[1],
            Err(Error::TruncatedAttribute {
                offset: 8,
                available: 2
            })
        );
    }

    #[test]
    fn stops_at_the_attribute_cap() {
        let area = attr(1, &[]).repeat(MAX_ATTRIBUTES_PER_MESSAGE + 3);
        let results: Vec<_> = Attrs::new(&area).collect();
        assert_eq!(results.len(), MAX_ATTRIBUTES_PER_MESSAGE + 1);
        assert_eq!(
            results.last().unwrap(),
            &Err(Error::TooManyAttributes {
                cap: MAX_ATTRIBUTES_PER_MESSAGE
            })
        );
    }

    #[test]
    fn u32_reader_is_strict_about_length() {
        let a = Attr {
            kind: 4,
            payload: &[1, 2, 3],
        };
        assert_eq!(
            a.u32("oif"),
            Err(Error::AttributeSize {
                what: "oif",
                len: 3,
                expected: 4
            })
        );
    }

    #[test]
    fn ip_reader_checks_the_family_and_size() {
        let a = Attr {
            kind: 1,
            payload: &[10, 0, 0, 1],
        };
        assert_eq!(
            a.ip(AF_INET, "dst").unwrap(),
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))
        );
        assert_eq!(
            a.ip(AF_INET6, "dst"),
            Err(Error::AttributeSize {
                what: "dst",
                len: 4,
                expected: 16
            })
        );
        assert_eq!(
            a.ip(7, "dst"),
            Err(Error::UnsupportedFamily {
                family: 7,
                context: "dst"
            })
        );
    }

    #[test]
    fn c_string_requires_a_terminator() {
        let a = Attr {
            kind: 3,
            payload: b"eth0",
        };
        assert_eq!(a.c_string(), Err(Error::IfNameNotTerminated));
    }
}
