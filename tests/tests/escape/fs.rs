//! Attacks on the filesystem: mounts, the root, staged data.

#![allow(unused_imports)]
