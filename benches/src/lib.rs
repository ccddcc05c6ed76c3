//! Criterion benches of the seqcast crates against their peers; see the `[[bench]]` targets.
