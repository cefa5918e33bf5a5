//! CloudTrail-style audit records: one per API call, successful or not. A call that changed
//! state commits its record in the same commit as its changes; a call that changed nothing
//! queues it for the flusher. Sensitive values are redacted using the model.
//!
//! Records are stored compactly and expanded when read ([`expand_audit_entry`]). An outbox entry
//! of topic `audit` is JSON lines: a header line `{"ingotAudit":2,"callers":[…]}` lists what
//! records share — who called (`userIdentity`, whose account is also `recipientAccountId`), from where
//! (`sourceIPAddress`, `userAgent`), which service and region — once per entry, then one line
//! per record: `{"c":caller index,"t":epoch ms,"n":eventName,"r":requestID,"p":requestParameters,
//! "o":responseElements,"w":true when it changed state,"e":errorCode,"m":errorMessage}` (absent
//! fields are omitted). A record's `eventID` is derived from its request id, which is unique per
//! call, instead of being stored. Most of the audit trail is reads with one caller each, so a full
//! record per call would cost a cheap read more than its own work.

use ingot_core::model::{OperationModel, ServiceModel};
use ingot_core::{Principal, PrincipalKind, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::Write;

pub use ingot_core::AUDIT_TOPIC;

/// How long an audit record of a call that changed nothing may wait before it is written.
const FLUSH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);
/// Pending records that trigger a write before the interval ends. Each write is a commit that
/// also rewrites the outbox's index pages, so under a read load too small a batch writes more
/// index than records.
const FLUSH_AT: usize = 8192;

/// Records one outbox entry of the flusher carries at most.
const RECORDS_PER_ENTRY: usize = 256;

/// How many of the most recent callers a queued record is matched against before its caller is
/// added again (a repeated caller only costs a longer header).
const CALLERS_MATCHED: usize = 8;

/// Audit records of calls that changed nothing. Writing each one in a commit of its own made
/// every read a disk write; collected, they cost one commit per interval, written as outbox
/// entries of up to [`RECORDS_PER_ENTRY`] records. A crash loses at most the last interval of
/// read audit records; records of calls that changed state are never buffered (they commit with
/// the change, one record per entry).
///
/// Records are collected in a few shards, each thread sticking to one, so that threads serving
/// requests at once do not take turns at one lock. Entries keep each shard's records in order.
#[derive(Default)]
pub(crate) struct AuditBuffer {
    shards: [Shard; SHARDS],
    full: tokio::sync::Notify,
}

const SHARDS: usize = 4;

/// A shard on cache lines of its own (two 64-byte lines: adjacent-line prefetching pairs them).
#[derive(Default)]
#[repr(align(128))]
struct Shard(std::sync::Mutex<Pending>);

/// The shard this thread uses, assigned in turn on first use.
fn shard_index() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % SHARDS;
    }
    SHARD.with(|shard| *shard)
}

#[derive(Default)]
struct Pending {
    callers: Vec<Caller>,
    /// Index into `callers`, and the record's line without its caller ([`AuditCall::record_fields`]).
    records: Vec<(usize, Vec<u8>)>,
}

impl Pending {
    fn caller_index(&mut self, call: &AuditCall<'_>) -> usize {
        let recent = self.callers.len().saturating_sub(CALLERS_MATCHED);
        if let Some(i) = (recent..self.callers.len()).rev().find(|&i| call.is_caller(&self.callers[i])) {
            return i;
        }
        self.callers.push(call.caller());
        self.callers.len() - 1
    }
}

impl AuditBuffer {
    pub fn push(&self, call: &AuditCall<'_>) {
        let fields = call.record_fields();
        let len = {
            let mut pending = self.shards[shard_index()].0.lock().unwrap_or_else(|p| p.into_inner());
            let caller = pending.caller_index(call);
            pending.records.push((caller, fields));
            pending.records.len()
        };
        if len >= FLUSH_AT / SHARDS {
            self.full.notify_one();
        }
    }

    /// Writes what is pending in one commit.
    pub async fn flush(&self, store: &dyn ingot_store::Store) {
        let mut outbox = Vec::new();
        let mut count = 0;
        for shard in &self.shards {
            let pending = std::mem::take(&mut *shard.0.lock().unwrap_or_else(|p| p.into_inner()));
            count += pending.records.len();
            outbox.extend(pending.records.chunks(RECORDS_PER_ENTRY).map(|chunk| ingot_store::OutboxEntry {
                topic: AUDIT_TOPIC.to_string(),
                payload: write_entry(&pending.callers, chunk),
            }));
        }
        if outbox.is_empty() {
            return;
        }
        if let Err(e) = store.commit(ingot_store::Batch { outbox, ..Default::default() }).await {
            tracing::warn!(error = %e, count, "audit records were not written");
        }
    }

    /// Flushes every interval, or sooner when many records wait, until `stop` turns true.
    pub async fn run(&self, store: &dyn ingot_store::Store, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            tokio::select! {
                () = tokio::time::sleep(FLUSH_INTERVAL) => {}
                () = self.full.notified() => {}
                _ = stop.changed() => {
                    self.flush(store).await;
                    return;
                }
            }
            self.flush(store).await;
        }
    }
}

/// One entry: the header with the callers `records` use (renumbered from 0), then the records.
fn write_entry(callers: &[Caller], records: &[(usize, Vec<u8>)]) -> Vec<u8> {
    let mut local = vec![usize::MAX; callers.len()];
    let mut used: Vec<&Caller> = Vec::new();
    let mut lines = Vec::with_capacity(records.iter().map(|(_, f)| f.len() + 12).sum());
    for (caller, fields) in records {
        if local[*caller] == usize::MAX {
            local[*caller] = used.len();
            used.push(&callers[*caller]);
        }
        let _ = write!(lines, "\n{{\"c\":{},", local[*caller]);
        lines.extend_from_slice(fields);
    }
    let header = EntryHeader { version: ENTRY_VERSION, callers: used };
    // Strings and options only: serializing cannot fail.
    let mut out = serde_json::to_vec(&header).unwrap_or_default();
    out.extend_from_slice(&lines);
    out
}

const ENTRY_VERSION: u32 = 2;

/// The first line of an entry: written with borrowed callers, read back with owned ones.
#[derive(Serialize, Deserialize)]
struct EntryHeader<C> {
    #[serde(rename = "ingotAudit")]
    version: u32,
    callers: Vec<C>,
}

/// What the records of one caller share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Caller {
    #[serde(rename = "eventSource")]
    event_source: String,
    #[serde(rename = "awsRegion")]
    aws_region: String,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: String,
    #[serde(rename = "userAgent")]
    user_agent: String,
    /// Its `accountId` is also the record's `recipientAccountId`.
    #[serde(rename = "userIdentity")]
    user_identity: UserIdentity,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct UserIdentity {
    #[serde(rename = "type")]
    kind: String,
    #[serde(rename = "principalId", skip_serializing_if = "Option::is_none", default)]
    principal_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    arn: Option<String>,
    #[serde(rename = "accountId", skip_serializing_if = "Option::is_none", default)]
    account_id: Option<String>,
    #[serde(rename = "accessKeyId")]
    access_key_id: Option<String>,
    /// Temporary credentials: who issued the session (the role) and when it began.
    #[serde(rename = "sessionContext", skip_serializing_if = "Option::is_none", default)]
    session_context: Option<serde_json::Value>,
    /// A service acting by itself (`AWSService`): which one.
    #[serde(rename = "invokedBy", skip_serializing_if = "Option::is_none", default)]
    invoked_by: Option<String>,
}

/// CloudTrail's `sessionContext` of temporary credentials.
fn session_context(principal: &Principal) -> Option<serde_json::Value> {
    let session = principal.session.as_deref()?;
    let attributes = serde_json::json!({
        "creationDate": session.issued.to_iso8601(),
        "mfaAuthenticated": "false",
    });
    let Some(role_id) = &session.role_id else {
        return Some(serde_json::json!({ "attributes": attributes }));
    };
    let role_name = session.identity_arn.rsplit('/').next().unwrap_or_default();
    let mut context = serde_json::json!({
        "sessionIssuer": {
            "type": "Role",
            "principalId": role_id,
            "arn": session.identity_arn,
            "accountId": principal.account.as_str(),
            "userName": role_name,
        },
        "attributes": attributes,
    });
    if let Some(source_identity) = &session.source_identity {
        context["sourceIdentity"] = source_identity.clone().into();
    }
    Some(context)
}

/// One record line as stored (see the module documentation).
#[derive(Deserialize)]
struct RecordLine {
    c: usize,
    t: i64,
    n: String,
    r: String,
    #[serde(default)]
    p: Value,
    #[serde(default)]
    o: Value,
    #[serde(default)]
    w: bool,
    e: Option<String>,
    m: Option<String>,
}

/// The CloudTrail records of one `audit` outbox entry, in order. Entries written before the
/// compact format (one full record per line) are read as they are.
pub fn expand_audit_entry(payload: &[u8]) -> Result<Vec<Value>, String> {
    let mut lines = payload.split(|b| *b == b'\n').filter(|l| !l.is_empty());
    let Some(first) = lines.next() else { return Ok(Vec::new()) };
    let header = match serde_json::from_slice::<EntryHeader<Caller>>(first) {
        Ok(h) if h.version == ENTRY_VERSION => h,
        Ok(h) => return Err(format!("audit entry version {} is not known", h.version)),
        Err(_) => {
            return std::iter::once(first)
                .chain(lines)
                .map(|l| serde_json::from_slice(l).map_err(|e| format!("audit record: {e}")))
                .collect();
        }
    };
    lines
        .map(|line| {
            let r: RecordLine = serde_json::from_slice(line).map_err(|e| format!("audit record: {e}"))?;
            let caller = header.callers.get(r.c).ok_or_else(|| format!("audit record names caller {}", r.c))?;
            Ok(full_record(caller, r))
        })
        .collect()
}

/// The record as CloudTrail writes it; field names and order follow CloudTrail's event records.
fn full_record(caller: &Caller, r: RecordLine) -> Value {
    let mut record = serde_json::Map::new();
    let mut put = |k: &str, v: Value| {
        record.insert(k.to_string(), v);
    };
    put("eventVersion", "1.08".into());
    put("userIdentity", serde_json::to_value(&caller.user_identity).unwrap_or_default());
    put("eventTime", Timestamp::from_millis(r.t).to_iso8601().into());
    put("eventSource", caller.event_source.clone().into());
    put("eventName", r.n.into());
    put("awsRegion", caller.aws_region.clone().into());
    put("sourceIPAddress", caller.source_ip_address.clone().into());
    put("userAgent", caller.user_agent.clone().into());
    put("requestParameters", r.p);
    // CloudTrail leaves the response out of read-only events.
    put("responseElements", if r.w { r.o } else { Value::Null });
    put("eventID", event_id(&r.r).into());
    put("requestID", r.r.into());
    put("readOnly", (!r.w).into());
    put("eventType", "AwsApiCall".into());
    put("managementEvent", true.into());
    put("recipientAccountId", caller.user_identity.account_id.clone().into());
    if let Some(code) = r.e {
        put("errorCode", code.into());
    }
    if let Some(message) = r.m {
        put("errorMessage", message.into());
    }
    Value::Object(record)
}

/// A record's `eventID`: a UUID derived from its request id, so that it need not be stored.
fn event_id(request_id: &str) -> String {
    let digest = Sha256::new().chain_update(b"ingot audit event id\0").chain_update(request_id).finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    ingot_core::ids::uuid_v4_string(bytes)
}

pub(crate) struct AuditCall<'a> {
    pub model: &'static ServiceModel,
    /// The record's `eventName`: the operation's name, or what a service's own action amounts to.
    pub event_name: &'a str,
    pub operation: Option<&'static OperationModel>,
    /// `None` when authentication failed.
    pub principal: Option<&'a Principal>,
    pub access_key_id: Option<&'a str>,
    /// The service that made the call for the principal (`userIdentity.invokedBy`).
    pub invoked_by: Option<&'a str>,
    pub region: &'a str,
    pub time: Timestamp,
    pub source_ip: &'a str,
    pub user_agent: &'a str,
    pub request_id: &'a str,
    /// The call's input as JSON, already redacted ([`request_parameters`]); `null` when unknown.
    pub request_parameters: &'a [u8],
    pub output: Option<&'a Value>,
    pub error: Option<(String, Option<String>)>,
    pub read_only: bool,
}

/// The input of `operation` as an audit record shows it: sensitive values hidden, member names
/// in lower camel case.
pub(crate) fn request_parameters(model: &ServiceModel, operation: &OperationModel, input: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    match operation.input {
        Some(shape) => ingot_protocol::write_redacted(model, shape, input, &mut out),
        None => out.extend_from_slice(b"null"),
    }
    out
}

const EVENT_SOURCE_SUFFIX: &str = ".amazonaws.com";

impl AuditCall<'_> {
    /// The outbox entry of this one record (for a call that changed state).
    pub fn to_entry(&self) -> Vec<u8> {
        write_entry(&[self.caller()], &[(0, self.record_fields())])
    }

    /// The record's own fields, from `"t"` to the closing brace (see the module documentation).
    fn record_fields(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(160 + self.request_parameters.len());
        out.extend_from_slice(b"\"t\":");
        // serde_json writes integers without `fmt`'s machinery.
        let _ = serde_json::to_writer(&mut out, &self.time.millis());
        out.extend_from_slice(b",\"n\":");
        write_json_str(&mut out, self.event_name);
        out.extend_from_slice(b",\"r\":");
        write_json_str(&mut out, self.request_id);
        out.extend_from_slice(b",\"p\":");
        out.extend_from_slice(self.request_parameters);
        if !self.read_only {
            if let (Some(shape), Some(output)) = (self.operation.and_then(|op| op.output), self.output) {
                out.extend_from_slice(b",\"o\":");
                ingot_protocol::write_redacted(self.model, shape, output, &mut out);
            }
            out.extend_from_slice(b",\"w\":true");
        }
        if let Some((code, message)) = &self.error {
            out.extend_from_slice(b",\"e\":");
            write_json_str(&mut out, code);
            if let Some(message) = message {
                out.extend_from_slice(b",\"m\":");
                write_json_str(&mut out, message);
            }
        }
        out.push(b'}');
        out
    }

    fn caller(&self) -> Caller {
        let (kind, principal) = self.identity();
        Caller {
            event_source: [self.model.endpoint_prefix, EVENT_SOURCE_SUFFIX].concat(),
            aws_region: self.region.to_string(),
            source_ip_address: self.source_ip.to_string(),
            user_agent: self.user_agent.to_string(),
            user_identity: match principal {
                // A service acting by itself is named by who it is, not by an ARN.
                Some(p) if p.kind == PrincipalKind::Internal => UserIdentity {
                    kind: kind.to_string(),
                    principal_id: None,
                    arn: None,
                    account_id: Some(p.account.to_string()),
                    access_key_id: None,
                    session_context: None,
                    invoked_by: Some(p.arn.clone()),
                },
                _ => UserIdentity {
                    kind: kind.to_string(),
                    principal_id: principal.map(|p| p.user_id.clone()),
                    arn: principal.map(|p| p.arn.clone()),
                    account_id: principal.map(|p| p.account.to_string()),
                    access_key_id: self.access_key_id.map(str::to_string),
                    session_context: principal.and_then(session_context),
                    invoked_by: self.invoked_by.map(str::to_string),
                },
            },
        }
    }

    /// Whether `caller` is [`Self::caller`], compared without building it.
    fn is_caller(&self, caller: &Caller) -> bool {
        let (kind, principal) = self.identity();
        let id = &caller.user_identity;
        caller.event_source.strip_suffix(EVENT_SOURCE_SUFFIX) == Some(self.model.endpoint_prefix)
            && caller.aws_region == self.region
            && caller.source_ip_address == self.source_ip
            && caller.user_agent == self.user_agent
            && id.kind == kind
            && id.account_id.as_deref() == principal.map(|p| p.account.as_str())
            && match principal {
                Some(p) if p.kind == PrincipalKind::Internal => id.invoked_by.as_deref() == Some(p.arn.as_str()),
                _ => {
                    // Temporary credentials are one access key each: the same key is the same session.
                    id.invoked_by.as_deref() == self.invoked_by
                        && id.access_key_id.as_deref() == self.access_key_id
                        && id.arn.as_deref() == principal.map(|p| p.arn.as_str())
                        && id.principal_id.as_deref() == principal.map(|p| p.user_id.as_str())
                }
            }
    }

    fn identity(&self) -> (&'static str, Option<&Principal>) {
        let Some(p) = self.principal else { return ("Unknown", None) };
        let kind = match p.kind {
            PrincipalKind::Root => "Root",
            PrincipalKind::User => "IAMUser",
            PrincipalKind::AssumedRole => "AssumedRole",
            PrincipalKind::Internal => "AWSService",
        };
        (kind, Some(p))
    }
}

fn write_json_str(out: &mut Vec<u8>, s: &str) {
    // Serializing a string into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ingot_core::AccountId;
    use ingot_protocol::testmodels::JSON_MODEL;
    use serde_json::json;

    fn call<'a>(principal: &'a Principal, params: &'a [u8], request_id: &'a str) -> AuditCall<'a> {
        AuditCall {
            model: &JSON_MODEL,
            event_name: JSON_MODEL.operations[0].name,
            operation: Some(&JSON_MODEL.operations[0]),
            principal: Some(principal),
            access_key_id: Some("AKIAEXAMPLE"),
            invoked_by: None,
            region: "eu-west-1",
            time: Timestamp::from_millis(1_700_000_000_123),
            source_ip: "127.0.0.1",
            user_agent: "test-agent/1.0",
            request_id,
            request_parameters: params,
            output: None,
            error: None,
            read_only: true,
        }
    }

    fn expand(pending: &Pending) -> Vec<Value> {
        expand_audit_entry(&write_entry(&pending.callers, &pending.records)).expect("entry expands")
    }

    #[test]
    fn queued_records_of_one_caller_share_one_header_entry_and_expand_to_full_records() {
        let alice = Principal::root(AccountId::parse("111111111111").unwrap());
        let bob = Principal::root(AccountId::parse("222222222222").unwrap());
        let params = request_parameters(&JSON_MODEL, &JSON_MODEL.operations[0], &json!({"Name": "x"}));
        let mut pending = Pending::default();
        for (who, id) in [(&alice, "r-1"), (&bob, "r-2"), (&alice, "r-3")] {
            let c = call(who, &params, id);
            let caller = pending.caller_index(&c);
            pending.records.push((caller, c.record_fields()));
        }
        assert_eq!(pending.callers.len(), 2);
        let records = expand(&pending);
        assert_eq!(records.len(), 3);
        let first = &records[0];
        assert_eq!(first["eventVersion"], "1.08");
        assert_eq!(first["eventSource"], "testjson.amazonaws.com");
        assert_eq!(first["eventName"], "KitchenSink");
        assert_eq!(first["eventTime"], "2023-11-14T22:13:20.123Z");
        assert_eq!(first["awsRegion"], "eu-west-1");
        assert_eq!(first["sourceIPAddress"], "127.0.0.1");
        assert_eq!(first["userAgent"], "test-agent/1.0");
        assert_eq!(first["requestParameters"], json!({"name": "x"}));
        assert_eq!(first["responseElements"], Value::Null);
        assert_eq!(first["readOnly"], true);
        assert_eq!(first["requestID"], "r-1");
        assert_eq!(first["recipientAccountId"], "111111111111");
        assert_eq!(
            first["userIdentity"],
            json!({"type": "Root", "principalId": "111111111111", "arn": "arn:aws:iam::111111111111:root",
                   "accountId": "111111111111", "accessKeyId": "AKIAEXAMPLE"})
        );
        assert!(first.get("errorCode").is_none());
        assert_eq!(records[1]["recipientAccountId"], "222222222222");
        assert_eq!(records[2]["recipientAccountId"], "111111111111");
        assert_eq!(records[2]["requestID"], "r-3");
    }

    #[test]
    fn a_record_that_changed_state_keeps_its_redacted_response_and_its_error() {
        let alice = Principal::root(AccountId::parse("111111111111").unwrap());
        let input = json!({"Name": "x", "Secret": "hunter2"});
        let params = request_parameters(&JSON_MODEL, &JSON_MODEL.operations[0], &input);
        let mut c = call(&alice, &params, "r-1");
        c.read_only = false;
        c.output = Some(&input);
        c.error = Some(("ThingInUse".into(), Some("in \"use\"".into())));
        let entry = c.to_entry();
        assert!(!String::from_utf8_lossy(&entry).contains("hunter2"));
        let records = expand_audit_entry(&entry).unwrap();
        assert_eq!(records.len(), 1);
        let hidden = json!({"name": "x", "secret": ingot_protocol::HIDDEN});
        assert_eq!(records[0]["requestParameters"], hidden);
        assert_eq!(records[0]["responseElements"], hidden);
        assert_eq!(records[0]["readOnly"], false);
        assert_eq!(records[0]["errorCode"], "ThingInUse");
        assert_eq!(records[0]["errorMessage"], "in \"use\"");
    }

    #[test]
    fn a_call_that_failed_authentication_is_recorded_with_an_unknown_identity() {
        let someone = Principal::root(AccountId::parse("111111111111").unwrap());
        let mut c = call(&someone, b"null", "r-1");
        c.principal = None;
        let records = expand_audit_entry(&c.to_entry()).unwrap();
        assert_eq!(records[0]["userIdentity"], json!({"type": "Unknown", "accessKeyId": "AKIAEXAMPLE"}));
        assert_eq!(records[0]["recipientAccountId"], Value::Null);
    }

    #[test]
    fn entries_of_one_full_record_per_line_are_read_as_they_are() {
        let records = expand_audit_entry(b"{\"eventName\":\"A\"}\n{\"eventName\":\"B\"}").unwrap();
        assert_eq!(records, vec![json!({"eventName": "A"}), json!({"eventName": "B"})]);
        assert!(expand_audit_entry(b"{\"ingotAudit\":3,\"callers\":[]}").is_err());
        assert!(expand_audit_entry(b"{\"ingotAudit\":2,\"callers\":[]}\n{\"c\":0,\"t\":1,\"n\":\"A\",\"r\":\"x\"}")
            .is_err());
    }

    #[test]
    fn event_ids_are_uuids_that_differ_per_request_and_repeat_for_the_same_one() {
        let a = event_id("req-1");
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert_eq!(a, event_id("req-1"));
        assert_ne!(a, event_id("req-2"));
    }
}
