//! Splitting a received packet into netlink frames, with every length checked before any
//! payload is touched (HC-037, HC-040, HC-042, HC-050..HC-053).
//!
//! The iterator allocates nothing, so the fork-safe [`crate::AckSocket`] uses it too.

use crate::error::Error;
use crate::header::{Header, align, first_nonzero};
use crate::limits::MAX_FRAMES_PER_PACKET;
use crate::uapi::NLMSG_HDRLEN;

/// One netlink message inside a packet: its header and the bytes after it, up to
/// `nlmsg_len` (alignment padding excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Frame<'a> {
    /// The decoded header.
    pub(crate) header: Header,
    /// The payload: `nlmsg_len - 16` bytes.
    pub(crate) payload: &'a [u8],
}

/// Iterates over the frames of one packet.
///
/// Yields at most [`MAX_FRAMES_PER_PACKET`] frames; the first error ends the iteration.
/// Trailing bytes shorter than a header are accepted only when they are all zero (padding).
#[derive(Debug, Clone)]
pub(crate) struct Frames<'a> {
    buf: &'a [u8],
    offset: usize,
    count: usize,
    done: bool,
}

impl<'a> Frames<'a> {
    /// Starts iterating over `packet`.
    #[must_use]
    pub(crate) fn new(packet: &'a [u8]) -> Self {
        Self {
            buf: packet,
            offset: 0,
            count: 0,
            done: false,
        }
    }

    fn step(&mut self) -> Option<Result<Frame<'a>, Error>> {
        let offset = self.offset;
        let rest = self.buf.get(offset..)?;
        if rest.is_empty() {
            return None;
        }
        if rest.len() < NLMSG_HDRLEN {
            // An all-zero tail shorter than a header is padding: the area ends here.
            first_nonzero(rest, 0, rest.len())?;
            return Some(Err(Error::TruncatedHeader {
                offset,
                available: rest.len(),
            }));
        }
        if self.count >= MAX_FRAMES_PER_PACKET {
            return Some(Err(Error::TooManyFrames {
                cap: MAX_FRAMES_PER_PACKET,
            }));
        }
        let header = Header::decode(rest)?;
        let Ok(len) = usize::try_from(header.len) else {
            return Some(Err(Error::FrameOverrun {
                offset,
                len: header.len,
                available: rest.len(),
            }));
        };
        if len < NLMSG_HDRLEN {
            return Some(Err(Error::FrameTooShort {
                offset,
                len: header.len,
            }));
        }
        let Some(payload) = rest.get(NLMSG_HDRLEN..len) else {
            return Some(Err(Error::FrameOverrun {
                offset,
                len: header.len,
                available: rest.len(),
            }));
        };
        // The last frame of a packet may end unaligned with its padding absent; padding
        // that is present must be zero, or the length field and the data disagree.
        let padded = align(len).unwrap_or(len).min(rest.len());
        if let Some(bad) = first_nonzero(rest, len, padded) {
            return Some(Err(Error::NonZeroPadding {
                offset: offset.saturating_add(bad),
            }));
        }
        self.offset = offset.saturating_add(padded);
        self.count = self.count.saturating_add(1);
        Some(Ok(Frame { header, payload }))
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<Frame<'a>, Error>;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u16, payload: &[u8]) -> Vec<u8> {
        let len = u32::try_from(NLMSG_HDRLEN + payload.len()).unwrap();
        let mut v = Header {
            len,
            kind,
            flags: 0,
            seq: 1,
            port: 0,
        }
        .encode()
        .to_vec();
        v.extend_from_slice(payload);
        while !v.len().is_multiple_of(4) {
            v.push(0);
        }
        v
    }

    #[test]
    fn steps_over_alignment_padding_between_frames() {
        let mut packet = frame(3, &[1, 2, 3, 4, 5]);
        packet.extend(frame(3, &[9]));
        let frames: Vec<_> = Frames::new(&packet).collect::<Result<_, _>>().unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].payload, &[1, 2, 3, 4, 5]);
        assert_eq!(frames[1].payload, &[9]);
    }

    #[test]
    fn accepts_a_last_frame_without_its_padding() {
        let mut packet = frame(3, &[1]);
        packet.truncate(17);
        let frames: Vec<_> = Frames::new(&packet).collect::<Result<_, _>>().unwrap();
        assert_eq!(frames[0].payload, &[1]);
    }

    #[test]
    fn rejects_non_zero_padding_with_its_offset() {
        let mut packet = frame(3, &[1]);
        packet[18] = 0xff;
        let err = Frames::new(&packet).next().unwrap().unwrap_err();
        assert_eq!(err, Error::NonZeroPadding { offset: 18 });
    }

    #[test]
    fn rejects_length_zero_as_frame_too_short() {
        let packet = [0u8; 16];
        let err = Frames::new(&packet).next().unwrap().unwrap_err();
        assert_eq!(err, Error::FrameTooShort { offset: 0, len: 0 });
    }

    #[test]
    fn rejects_length_beyond_buffer_as_overrun() {
        let mut packet = frame(3, &[0; 4]);
        packet[0..4].copy_from_slice(&100u32.to_ne_bytes());
        let err = Frames::new(&packet).next().unwrap().unwrap_err();
        assert_eq!(
            err,
            Error::FrameOverrun {
                offset: 0,
                len: 100,
                available: 20
            }
        );
    }

    #[test]
    fn rejects_a_truncated_header_after_a_good_frame() {
        let mut packet = frame(3, &[0; 4]);
        packet.extend_from_slice(&[8, 0, 0, 0, 3, 0]);
        let mut it = Frames::new(&packet);
        assert!(it.next().unwrap().is_ok());
        assert_eq!(
            it.next().unwrap().unwrap_err(),
            Error::TruncatedHeader {
                offset: 20,
                available: 6
            }
        );
        assert!(it.next().is_none(), "iteration ends after the first error");
    }

    #[test]
    fn accepts_zero_tail_shorter_than_a_header() {
        let mut packet = frame(3, &[0; 4]);
        packet.extend_from_slice(&[0; 8]);
        assert_eq!(Frames::new(&packet).count(), 1);
    }

    #[test]
    fn stops_at_the_frame_cap() {
        let one = frame(1, &[]);
        let packet: Vec<u8> = one.repeat(MAX_FRAMES_PER_PACKET + 5);
        let results: Vec<_> = Frames::new(&packet).collect();
        assert_eq!(results.len(), MAX_FRAMES_PER_PACKET + 1);
        assert_eq!(
            results.last().unwrap().unwrap_err(),
            Error::TooManyFrames {
                cap: MAX_FRAMES_PER_PACKET
            }
        );
    }
}
