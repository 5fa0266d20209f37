//! The 5W part of `rumbo demo`: a regional plan, the partner organisations and a year of
//! monthly activity reports, with a few deliberate errors for the reviewer to catch.
