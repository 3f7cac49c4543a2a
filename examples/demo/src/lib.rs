//! Data layer of the livefire demo application: configuration, the server secret, storage (one
//! [`store::Store`] trait over SQLite, the embedded default, and PostgreSQL), user accounts with
//! password login, and server-side session tokens.
//!
//! The HTTP routes and live views are built on top of these modules by the `demo` binary.

pub mod avatars;
pub mod cli;
pub mod config;
pub mod db;
pub mod deploy;
pub mod secret;
pub mod store;
pub mod users;
pub mod web;
