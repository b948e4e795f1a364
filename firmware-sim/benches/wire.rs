//! Placeholder until the criterion bench lands.
fn main() {}
