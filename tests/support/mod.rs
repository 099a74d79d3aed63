//! What the library's test binaries share.
#![allow(dead_code)]

pub mod spec;
