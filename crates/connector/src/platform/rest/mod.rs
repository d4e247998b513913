//! A REST platform, as a profile describes it.

mod client;

pub use client::{key_of, overlay, Answer, Credentials, Page, PageAt, RestError, RestPlatform};
