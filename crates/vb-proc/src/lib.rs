//! vb-proc
