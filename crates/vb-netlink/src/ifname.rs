//! Interface names, validated once so that every request carries a name the kernel accepts.

use core::fmt;

use crate::error::Error;

/// `IFNAMSIZ`: names are at most 15 bytes plus the NUL terminator.
const IFNAMSIZ: usize = 16;

/// A valid Linux interface name: 1 to 15 bytes, no `/`, `:`, whitespace or NUL, and not
/// `.` or `..` (the kernel's `dev_valid_name` rules).
///
/// Stored inline (no heap), so it is `Copy` and usable in the fork-safe child path.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IfName {
    bytes: [u8; IFNAMSIZ],
    len: u8,
}

impl IfName {
    /// Validates `name`.
    ///
    /// # Errors
    /// [`Error::InvalidIfName`] naming the broken rule.
    pub fn new(name: &str) -> Result<Self, Error> {
        Self::from_bytes(name.as_bytes())
    }

    /// Validates a name given as raw bytes (the kernel does not require UTF-8).
    ///
    /// # Errors
    /// [`Error::InvalidIfName`] naming the broken rule.
    pub fn from_bytes(name: &[u8]) -> Result<Self, Error> {
        if name.is_empty() {
            return Err(Error::InvalidIfName { reason: "empty" });
        }
        if name.len() >= IFNAMSIZ {
            return Err(Error::InvalidIfName {
                reason: "longer than 15 bytes",
            });
        }
        if name == b"." || name == b".." {
            return Err(Error::InvalidIfName {
                reason: "`.` and `..` are reserved",
            });
        }
        if name
            .iter()
            .any(|b| matches!(b, b'/' | b':' | 0 | b' ' | b'\t'..=b'\r'))
        {
            return Err(Error::InvalidIfName {
                reason: "contains `/`, `:`, NUL or whitespace",
            });
        }
        let mut bytes = [0u8; IFNAMSIZ];
        let dst = bytes.get_mut(..name.len()).ok_or(Error::InvalidIfName {
            reason: "longer than 15 bytes",
        })?;
        dst.copy_from_slice(name);
        let len = u8::try_from(name.len()).map_err(|_| Error::InvalidIfName {
            reason: "longer than 15 bytes",
        })?;
        Ok(Self { bytes, len })
    }

    /// The name's bytes, without terminator.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// The name as text, if it is UTF-8 (kernel names nearly always are).
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        core::str::from_utf8(self.as_bytes()).ok()
    }
}

impl fmt::Display for IfName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.as_bytes().utf8_chunks() {
            f.write_str(chunk.valid())?;
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for IfName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IfName(\"{self}\")")
    }
}

impl core::str::FromStr for IfName {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::new(s)
    }
}

impl PartialEq<str> for IfName {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for IfName {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        assert_eq!(IfName::new("veth0").unwrap(), "veth0");
        assert_eq!(IfName::new("abcdefghijklmno").unwrap().as_bytes().len(), 15);
    }

    #[test]
    fn rejects_what_the_kernel_rejects() {
        for bad in [
            "",
            "abcdefghijklmnop",
            ".",
            "..",
            "a/b",
            "a:b",
            "a b",
            "a\nb",
            "a\0b",
        ] {
            assert!(
                matches!(IfName::new(bad), Err(Error::InvalidIfName { .. })),
                "{bad:?} must be rejected"
            );
        }
    }

    #[test]
    fn displays_non_utf8_bytes_escaped() {
        let n = IfName::from_bytes(&[b'e', 0xff]).unwrap();
        assert_eq!(n.to_string(), "e\\xff");
        assert_eq!(n.as_str(), None);
    }
}
