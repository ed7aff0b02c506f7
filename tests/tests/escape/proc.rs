//! Attacks on the processes and descriptors of the sandbox.

#![allow(unused_imports)]
