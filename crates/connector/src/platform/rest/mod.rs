//! A REST platform, as a profile describes it.

mod client;
mod linked;

pub use client::{key_of, overlay, Answer, Credentials, Page, PageAt, RestError, RestPlatform};
pub use linked::LinkedPlatform;
