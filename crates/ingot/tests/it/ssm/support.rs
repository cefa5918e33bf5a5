//! Helpers shared by the Parameter Store suites.

use crate::support::TestServer;
use aws_sdk_ssm::types::ParameterType;
use aws_sdk_ssm::Client;
use std::time::Duration;

/// Creates a String parameter and returns its version.
pub async fn put(ssm: &Client, name: &str, value: &str) -> i64 {
    ssm.put_parameter()
        .name(name)
        .value(value)
        .r#type(ParameterType::String)
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutParameter {name}: {e:?}"))
        .version()
}

/// Writes a new version of an existing parameter and returns its number.
pub async fn overwrite(ssm: &Client, name: &str, value: &str) -> i64 {
    ssm.put_parameter()
        .name(name)
        .value(value)
        .overwrite(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutParameter {name} (overwrite): {e:?}"))
        .version()
}

/// The service events written so far (topic `events` of the outbox).
pub async fn events(server: &TestServer) -> Vec<serde_json::Value> {
    let records = server
        .store()
        .outbox_after(ingot_core::EVENTS_TOPIC, ingot_store::OutboxPosition::START, 100_000)
        .await
        .expect("outbox");
    records.iter().map(|r| serde_json::from_slice(&r.payload).expect("event JSON")).collect()
}

/// The `detail` of each event of `detail_type` about `name`.
pub async fn details(server: &TestServer, detail_type: &str, name: &str) -> Vec<serde_json::Value> {
    events(server)
        .await
        .into_iter()
        .filter(|e| e["detail-type"] == detail_type && e["detail"]["name"] == name)
        .map(|e| e["detail"].clone())
        .collect()
}

/// Moves the server's clock forward (the server must run with clock control).
pub async fn advance_clock(server: &TestServer, seconds: i64) {
    let resp = server.raw("POST", &format!("/_ingot/clock?advance={seconds}"), &[], b"", Some("ingot")).await;
    assert_eq!(resp.status, 200, "clock control: {}", resp.body);
}

/// The public Amazon Linux 2023 image of `region`: `aws:ec2:image` values must name an image the
/// account may use, or the write is taken back once the image is checked.
pub fn public_image(region: &str) -> String {
    ingot_core::public_images::image_id(region, "ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")
}

/// Waits until `check` holds (timers run in the background), for at most five seconds.
pub async fn eventually<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
