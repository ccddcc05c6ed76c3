//! Runnable examples of the seqcast crates live in this package's `[[example]]` targets.
