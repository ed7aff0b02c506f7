//! Building request messages into a bounded buffer.
//!
//! [`Writer`] works on a caller-supplied slice and refuses to write past it. [`Request`] is
//! the owned, heap-backed form the client sends. The fork-safe requests of `fixed.rs` are
//! encoded by const functions instead, and tested to equal this builder's output.

use crate::error::Error;
use crate::header::{Header, align};
use crate::limits::MAX_REQUEST_LEN;
use crate::uapi::{NLA_F_NESTED, NLA_HDRLEN};

/// Appends one netlink message to a fixed buffer.
#[derive(Debug)]
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> Writer<'a> {
    /// Starts a message of type `kind` with `flags` and `seq` at the start of `buf`.
    pub(crate) fn new(buf: &'a mut [u8], kind: u16, flags: u16, seq: u32) -> Result<Self, Error> {
        let mut w = Self { buf, len: 0 };
        w.bytes(
            &Header {
                len: 0,
                kind,
                flags,
                seq,
                port: 0,
            }
            .encode(),
        )?;
        Ok(w)
    }

    /// Appends raw bytes (a fixed header such as `ifinfomsg`) followed by zero padding.
    pub(crate) fn bytes(&mut self, data: &[u8]) -> Result<(), Error> {
        let end = self
            .len
            .checked_add(data.len())
            .ok_or(self.too_large(usize::MAX))?;
        let padded = align(end).ok_or(self.too_large(usize::MAX))?;
        let capacity = self.buf.len();
        let Some(dst) = self.buf.get_mut(self.len..padded) else {
            return Err(Error::RequestTooLarge {
                needed: padded,
                capacity,
            });
        };
        let (body, pad) = dst.split_at_mut(data.len());
        body.copy_from_slice(data);
        pad.fill(0);
        self.len = padded;
        Ok(())
    }

    /// Appends an attribute with `payload`.
    pub(crate) fn attr(&mut self, kind: u16, payload: &[u8]) -> Result<(), Error> {
        let len = NLA_HDRLEN
            .checked_add(payload.len())
            .ok_or(self.too_large(usize::MAX))?;
        let len16 = u16::try_from(len).map_err(|_| self.too_large(len))?;
        let mut head = [0u8; NLA_HDRLEN];
        let (l, k) = head.split_at_mut(2);
        l.copy_from_slice(&len16.to_ne_bytes());
        k.copy_from_slice(&kind.to_ne_bytes());
        self.unpadded(&head)?;
        self.bytes(payload)
    }

    /// Appends a `u32` attribute.
    pub(crate) fn attr_u32(&mut self, kind: u16, value: u32) -> Result<(), Error> {
        self.attr(kind, &value.to_ne_bytes())
    }

    /// Appends a NUL-terminated string attribute.
    pub(crate) fn attr_c_string(&mut self, kind: u16, value: &[u8]) -> Result<(), Error> {
        let len = NLA_HDRLEN
            .checked_add(value.len())
            .and_then(|l| l.checked_add(1));
        let len = len.ok_or(self.too_large(usize::MAX))?;
        let len16 = u16::try_from(len).map_err(|_| self.too_large(len))?;
        let mut head = [0u8; NLA_HDRLEN];
        let (l, k) = head.split_at_mut(2);
        l.copy_from_slice(&len16.to_ne_bytes());
        k.copy_from_slice(&kind.to_ne_bytes());
        self.unpadded(&head)?;
        self.unpadded(value)?;
        self.bytes(&[0])
    }

    /// Opens a nested attribute list (`NLA_F_NESTED` set); returns the token that
    /// [`Writer::end_nested`] takes.
    pub(crate) fn begin_nested(&mut self, kind: u16) -> Result<usize, Error> {
        self.begin_plain(kind | NLA_F_NESTED)
    }

    /// Opens an attribute whose payload is written piecewise (without `NLA_F_NESTED`);
    /// close it with [`Writer::end_nested`].
    pub(crate) fn begin_plain(&mut self, kind: u16) -> Result<usize, Error> {
        let start = self.len;
        let mut head = [0u8; NLA_HDRLEN];
        head.get_mut(2..4)
            .ok_or(self.too_large(usize::MAX))?
            .copy_from_slice(&kind.to_ne_bytes());
        self.bytes(&head)?;
        Ok(start)
    }

    /// Closes the nested attribute opened at `start`, writing its length.
    pub(crate) fn end_nested(&mut self, start: usize) -> Result<(), Error> {
        let len = self
            .len
            .checked_sub(start)
            .ok_or(self.too_large(usize::MAX))?;
        let len16 = u16::try_from(len).map_err(|_| self.too_large(len))?;
        self.patch(start, &len16.to_ne_bytes())
    }

    /// Writes the final `nlmsg_len` and returns the message's length.
    pub(crate) fn finish(mut self) -> Result<usize, Error> {
        let len = u32::try_from(self.len).map_err(|_| self.too_large(self.len))?;
        self.patch(0, &len.to_ne_bytes())?;
        Ok(self.len)
    }

    fn unpadded(&mut self, data: &[u8]) -> Result<(), Error> {
        let end = self
            .len
            .checked_add(data.len())
            .ok_or(self.too_large(usize::MAX))?;
        let capacity = self.buf.len();
        let dst = self
            .buf
            .get_mut(self.len..end)
            .ok_or(Error::RequestTooLarge {
                needed: end,
                capacity,
            })?;
        dst.copy_from_slice(data);
        self.len = end;
        Ok(())
    }

    fn patch(&mut self, at: usize, data: &[u8]) -> Result<(), Error> {
        let end = at
            .checked_add(data.len())
            .ok_or(self.too_large(usize::MAX))?;
        let capacity = self.buf.len();
        let dst = self.buf.get_mut(at..end).ok_or(Error::RequestTooLarge {
            needed: end,
            capacity,
        })?;
        dst.copy_from_slice(data);
        Ok(())
    }

    fn too_large(&self, needed: usize) -> Error {
        Error::RequestTooLarge {
            needed,
            capacity: self.buf.len(),
        }
    }
}

/// A complete request on the heap, ready to be stamped with a sequence number and sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    /// What the request does, for error context.
    pub(crate) op: &'static str,
    bytes: Vec<u8>,
}

impl Request {
    /// Builds a request of type `kind` with `flags`; `fill` appends the body.
    pub(crate) fn build(
        op: &'static str,
        kind: u16,
        flags: u16,
        fill: impl FnOnce(&mut Writer<'_>) -> Result<(), Error>,
    ) -> Result<Self, Error> {
        let mut bytes = vec![0u8; MAX_REQUEST_LEN];
        let mut w = Writer::new(&mut bytes, kind, flags, 0)?;
        fill(&mut w)?;
        let len = w.finish()?;
        bytes.truncate(len);
        Ok(Self { op, bytes })
    }

    /// Sets `nlmsg_seq`.
    pub(crate) fn set_seq(&mut self, seq: u32) {
        if let Some(dst) = self.bytes.get_mut(8..12) {
            dst.copy_from_slice(&seq.to_ne_bytes());
        }
    }

    /// The wire bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// `NLMSG_HDRLEN`, re-exported for the builders' length arithmetic in tests.
#[cfg(test)]
pub(crate) const HEADER_LEN: usize = crate::uapi::NLMSG_HDRLEN;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Frames;

    #[test]
    fn writer_refuses_to_overrun_its_buffer() {
        let mut buf = [0u8; 24];
        let mut w = Writer::new(&mut buf, 16, 1, 0).unwrap();
        w.attr_u32(4, 1).unwrap();
        assert_eq!(
            w.attr_u32(4, 2).unwrap_err(),
            Error::RequestTooLarge {
                needed: 28,
                capacity: 24
            }
        );
    }

    #[test]
    fn written_message_parses_back_as_one_frame() {
        let req = Request::build("test", 18, 1, |w| {
            w.bytes(&[0u8; 16])?;
            let n = w.begin_nested(18)?;
            w.attr_c_string(1, b"veth")?;
            w.end_nested(n)
        })
        .unwrap();
        let frames: Vec<_> = Frames::new(req.bytes()).collect::<Result<_, _>>().unwrap();
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].header.kind, 18);
        assert_eq!(frames[0].payload.len(), req.bytes().len() - HEADER_LEN);
    }
}
