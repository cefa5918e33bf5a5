//! KMS through aws-sdk-kms: keys, encryption, signatures, grants, and how SSM's SecureStrings
//! use KMS as the caller. Policy decisions across accounts are covered by the e2e suites.

mod cryptography;
mod keys;
