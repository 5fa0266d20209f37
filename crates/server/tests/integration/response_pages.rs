//! 5W: see the module's first test.
