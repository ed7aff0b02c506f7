//! voidbox
