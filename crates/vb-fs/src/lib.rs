//! vb-fs
