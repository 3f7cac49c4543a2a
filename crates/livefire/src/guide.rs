//! The guide: a first app, live navigation, forms, pub/sub and presence, async work, sessions
//! and login, deployment on several nodes, and testing. Its examples are compiled and run as
//! doc tests, so they follow the API.
#![doc = include_str!("../GUIDE.md")]
