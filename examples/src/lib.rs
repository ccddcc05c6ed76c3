//! Runnable examples of the seqcast crates live in this package's `[[example]]` targets.

// The repository README's examples are compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct RootReadme;
