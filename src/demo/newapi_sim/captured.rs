//! The states a real New API server (9f8a4ec05, its own defaults, memory
//! cache off) went through while it was captured
//! (tests/fixtures/newapi/real/README.md): fresh, set up, four channels,
//! then 1,004. The replay test puts the simulator in the state each capture
//! was taken in; the values are the captured ones where they matter.

use super::model::{SimBehaviour, SimChannel};
use super::users::SimUser;
use super::{NewApiState, SimErrorLog};

/// Made-up credentials standing where the captures say `<ACCESS_TOKEN>`.
pub const ROOT_TOKEN: &str = "sim-captured-root-access-token00";
pub const OP_TOKEN: &str = "sim-captured-op-access-token0000";
pub const ROOT_PASSWORD: &str = "gatewatch-root-1";
pub const OP_PASSWORD: &str = "gatewatch-op-1";

/// Unix time the captured server started.
const STARTED: i64 = 1_796_119_705;

/// A fresh database: no user, `setup: false`.
pub fn fresh() -> NewApiState {
    NewApiState { version: "v0.0.0-9f8a4ec05".into(), start_time: STARTED, ..NewApiState::fresh() }
}

/// After `POST /api/setup` and `GET /api/user/token`: root is user 1.
pub fn after_setup() -> NewApiState {
    let mut st = fresh();
    let mut root = SimUser::root(1, "root", ROOT_PASSWORD);
    root.access_token = Some(ROOT_TOKEN.into());
    st.users.push(root);
    st.setup = true;
    st
}

fn channel(id: i64, name: &str, base: &str, weight: u64) -> SimChannel {
    let mut c = SimChannel::new(id, 1, name, "gpt-4o");
    c.created_time = 1_796_119_732;
    c.base_url = Some(base.into());
    c.weight = Some(weight);
    c.sim = SimBehaviour { latency_ms: 2, ..SimBehaviour::default() };
    c
}

/// The four channels of the weight measurement (#1 w10, #2 w0, #3 w10 to be
/// disabled, #4 w10 on an upstream nobody listens on), a common user `op`
/// (id 2), and the five error-log rows of #4's failures.
pub fn four_channels() -> NewApiState {
    let mut st = after_setup();
    st.channels = vec![
        channel(1, "healthy", "http://127.0.0.1:18091", 10),
        channel(2, "zero-weight", "http://127.0.0.1:18091", 0),
        channel(3, "disabled", "http://127.0.0.1:18091", 10),
        channel(4, "dead-upstream", "http://127.0.0.1:18099", 10),
    ];
    st.channels[3].sim = SimBehaviour::dead("http://127.0.0.1:18099");
    let mut op = SimUser::common(2, "op", OP_PASSWORD);
    op.access_token = Some(OP_TOKEN.into());
    st.users.push(op);
    st.error_logs = (0..5)
        .map(|_| SimErrorLog {
            created_at: 1_796_119_758,
            model_name: "gpt-4o".into(),
            content: "status_code=500, upstream error: do request failed".into(),
            status_code: 500,
            channel: 4,
            channel_name: "dead-upstream".into(),
            error_code: "do_request_failed".into(),
        })
        .collect();
    st
}

/// Four channels plus 1,000 added in one batch with
/// `batch_add_set_key_prefix_2_name` (whose names accumulate: channel N is
/// "bulk b0001-fa … bNNNN-fa").
pub fn with_bulk() -> NewApiState {
    let mut st = four_channels();
    let mut name = "bulk".to_owned();
    for i in 1..=1000 {
        name.push_str(&format!(" b{i:04}-fa"));
        let mut c = channel(4 + i, &name, "http://127.0.0.1:18091", 1);
        c.models = "gpt-4o-mini".into();
        c.group = "bulk".into();
        c.created_time = 1_796_119_773;
        st.channels.push(c);
    }
    st
}

/// Channel #1005 on an upstream that answers 401, auto-disabled by one relay
/// call with automatic disabling on (its test alone left it enabled).
pub fn auto_disabled() -> NewApiState {
    let mut st = four_channels();
    st.auto_disable_enabled = true;
    let mut c = channel(1005, "bad-key", "http://127.0.0.1:18092", 10);
    c.models = "gpt-3.5-turbo".into();
    c.test_model = Some("gpt-3.5-turbo".into());
    c.created_time = 1_796_120_339;
    c.status = 3;
    let reason = "status_code=401, Incorrect API key provided: sk-fake***. You can find your API key at https://platform.openai.com/account/api-keys.";
    c.set_status_reason(reason, 1_796_120_346);
    c.sim = SimBehaviour {
        test_ok: false,
        test_error_code: "invalid_api_key".into(),
        test_error: format!(
            "bad response status code 401, message: Incorrect API key provided: sk-fake***. You can find your API key at https://platform.openai.com/account/api-keys., body: {}",
            r#"{"error": {"message": "Incorrect API key provided: sk-fake***. You can find your API key at https://platform.openai.com/account/api-keys.", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}"#
        ),
        latency_ms: 0,
        ..SimBehaviour::default()
    };
    st.channels.push(c);
    st
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_names_accumulate_as_captured() {
        let st = with_bulk();
        assert_eq!(st.channels.len(), 1004);
        let last = st.channel(1004).unwrap();
        assert!(last.name.starts_with("bulk b0001-fa b0002-fa"), "{}", &last.name[..40]);
        assert_eq!(last.name.len(), 9004, "as captured (41_list_1004_p1_idsort.http)");
    }
}
