//! Security Token Service, with `aws-sdk-sts`.

mod identity;
