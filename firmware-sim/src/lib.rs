//! meltline-firmware: the LPBF printer controller.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![deny(unsafe_code)]
