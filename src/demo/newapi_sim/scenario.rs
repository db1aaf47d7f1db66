//! The channels the simulator starts with: the staged incident for the demo,
//! and large deterministic sets for scale tests.

use super::model::{SimBehaviour, SimChannel};

/// The upstream's answer to an exhausted OpenAI account (fixtures/channel_test_fail.json).
pub const INSUFFICIENT_QUOTA: &str = "bad response status code 429, message: You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors., body: {\n    \"error\": {\n        \"message\": \"You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.\",\n        \"type\": \"insufficient_quota\",\n        \"param\": null,\n        \"code\": \"insufficient_quota\"\n    }\n}\n";

const REVOKED_KEY: &str = "status_code=401, Incorrect API key provided: sk-proj-********************************************Qx7a. You can find your API key at https://platform.openai.com/account/api-keys.";

fn ok(latency_ms: i64, upstream_balance: f64) -> SimBehaviour {
    SimBehaviour { latency_ms, upstream_balance, ..SimBehaviour::default() }
}

/// The staged incident, with timestamps relative to `now` (unix seconds).
///
/// * `gpt-4o`/`gpt-4o-mini` at priority 10: #1 weight 100, #2 weight 0
///   (starved: it gets no traffic although it works), #6 weight 50 whose
///   upstream account is out of credit (its test fails with
///   `insufficient_quota`, its stale balance still shows $12.50);
/// * #4 auto-disabled by a 401 (a revoked key) while its balance is $23.40;
/// * #5 Claude Opus served to group `vip` only;
/// * #7 maps `deepseek-v3`, which is not in its models list;
/// * #8 disabled by hand;
/// * #9 a three-key pool with one key auto-disabled;
/// * #10 Anthropic: balance queries unsupported (`尚未实现`);
/// * #12 DeepSeek with an empty upstream account: "update all balances"
///   auto-disables it.
pub fn demo(now: i64) -> Vec<SimChannel> {
    let hour = 3600;
    let mut v = Vec::new();

    let mut c = SimChannel::new(1, 1, "openai-main", "gpt-4o,gpt-4o-mini,gpt-4.1");
    c.group = "default,vip".into();
    (c.priority, c.weight) = (Some(10), Some(100));
    (c.balance, c.balance_updated_time, c.used_quota) = (87.42, now - 2 * hour, 412_338_211);
    (c.test_time, c.response_time) = (now - 600, 812);
    c.test_model = Some("gpt-4o-mini".into());
    c.remark = Some("prod key A".into());
    c.sim = ok(812, 87.42);
    v.push(c);

    let mut c = SimChannel::new(2, 1, "openai-backup", "gpt-4o,gpt-4o-mini");
    (c.priority, c.weight) = (Some(10), Some(0));
    (c.balance, c.balance_updated_time, c.used_quota) = (140.0, now - 2 * hour, 0);
    c.remark = Some("added last week, never used".into());
    c.sim = ok(930, 140.0);
    v.push(c);

    let mut c = SimChannel::new(3, 3, "azure-eastus", "gpt-4o,gpt-4o-mini");
    c.base_url = Some("https://contoso-eastus.openai.azure.com".into());
    c.other = "2025-01-01-preview".into();
    c.model_mapping = Some("{\"gpt-4o\":\"gpt4o-deploy\"}".into());
    (c.priority, c.weight) = (Some(5), Some(50));
    c.used_quota = 1_532_110_876;
    (c.test_time, c.response_time) = (now - 900, 1_020);
    c.settings = "{}".into();
    c.sim = ok(1_020, 0.0);
    v.push(c);

    let mut c = SimChannel::new(4, 1, "openai-eu", "gpt-4o,gpt-4o-mini,text-embedding-3-small");
    c.base_url = Some("https://eu.api.openai.com".into());
    (c.priority, c.weight) = (Some(5), Some(20));
    c.status = 3;
    c.set_status_reason(REVOKED_KEY, now - 47 * 60);
    (c.balance, c.balance_updated_time, c.used_quota) = (23.40, now - 5 * hour, 77_001_234);
    (c.test_time, c.response_time) = (now - 47 * 60, 0);
    c.sim = SimBehaviour {
        test_ok: false,
        test_error_code: "invalid_api_key".into(),
        test_error: "bad response status code 401, message: Incorrect API key provided: sk-proj-****Qx7a., body: "
            .into(),
        latency_ms: 240,
        upstream_balance: 23.40,
        balance_error: None,
    };
    v.push(c);

    let mut c = SimChannel::new(5, 14, "claude-vip", "claude-opus-4-1");
    c.group = "vip".into();
    (c.priority, c.weight) = (Some(10), Some(10));
    (c.test_time, c.response_time) = (now - 1_200, 2_310);
    c.sim = ok(2_310, 0.0);
    v.push(c);

    let mut c = SimChannel::new(6, 1, "openai-team-b", "gpt-4o,gpt-4o-mini");
    (c.priority, c.weight) = (Some(10), Some(50));
    (c.balance, c.balance_updated_time, c.used_quota) = (12.50, now - 30 * hour, 300_221_999);
    c.sim = SimBehaviour {
        test_ok: false,
        test_error_code: "insufficient_quota".into(),
        test_error: INSUFFICIENT_QUOTA.into(),
        latency_ms: 310,
        upstream_balance: 0.0,
        balance_error: None,
    };
    v.push(c);

    let mut c = SimChannel::new(7, 43, "deepseek-main", "deepseek-chat,deepseek-reasoner");
    c.model_mapping = Some("{\"deepseek-v3\":\"deepseek-chat\"}".into());
    (c.priority, c.weight) = (Some(0), Some(100));
    (c.balance, c.balance_updated_time) = (23.18, now - 2 * hour);
    (c.test_time, c.response_time) = (now - 800, 640);
    c.auto_ban = Some(0);
    c.sim = ok(640, 23.18);
    v.push(c);

    let mut c = SimChannel::new(8, 24, "gemini-backup", "gemini-2.5-pro,gemini-2.5-flash");
    c.status = 2;
    (c.priority, c.weight) = (Some(5), Some(20));
    (c.test_time, c.response_time) = (now - 5 * 86_400, 2_210);
    c.other_info = format!("{{\"status_reason\":\"\",\"status_time\":{}}}", now - 6 * 86_400);
    c.remark = Some("paused by ops".into());
    c.setting = None;
    c.sim = ok(2_210, 0.0);
    v.push(c);

    let mut c = SimChannel::new(9, 1, "openai-pool", "gpt-4o-mini").multi_key(3, &[(1, 3)], "polling");
    c.weight = Some(10);
    c.tag = Some("pool-a".into());
    c.channel_info.multi_key_polling_index = 2;
    (c.test_time, c.response_time) = (now - 500, 955);
    c.setting = None;
    c.sim = ok(955, 0.0);
    v.push(c);

    let mut c = SimChannel::new(10, 14, "anthropic-direct", "claude-sonnet-4-5,claude-haiku-4-5");
    c.group = "default,vip".into();
    (c.priority, c.weight) = (Some(10), Some(0));
    c.used_quota = 98_122_004;
    (c.test_time, c.response_time) = (now - 300, 1_534);
    c.sim = ok(1_534, 0.0);
    v.push(c);

    let mut c = SimChannel::new(11, 24, "gemini-main", "gemini-2.5-pro,gemini-2.5-flash");
    (c.priority, c.weight) = (Some(10), Some(0));
    (c.test_time, c.response_time) = (now - 700, 1_480);
    c.sim = ok(1_480, 0.0);
    v.push(c);

    let mut c = SimChannel::new(12, 43, "deepseek-backup", "deepseek-chat");
    (c.priority, c.weight) = (Some(0), Some(0));
    (c.balance, c.balance_updated_time) = (0.42, now - 26 * hour);
    c.sim = ok(700, 0.0);
    v.push(c);

    let mut c = SimChannel::new(13, 40, "siliconflow", "Qwen/Qwen3-32B,deepseek-ai/DeepSeek-V3");
    (c.balance, c.balance_updated_time) = (5.0, now - 2 * hour);
    (c.test_time, c.response_time) = (now - 400, 1_100);
    c.sim = ok(1_100, 5.0);
    v.push(c);

    v
}

/// `n` varied channels, the same every time: types, statuses, weights,
/// priorities, groups, multi-key pools, mappings and failing tests spread
/// over the set.
pub fn many(n: usize) -> Vec<SimChannel> {
    const TYPES: [(i64, &str, &str); 7] = [
        (1, "openai", "gpt-4o,gpt-4o-mini"),
        (14, "anthropic", "claude-sonnet-4-5,claude-haiku-4-5"),
        (3, "azure", "gpt-4o"),
        (24, "gemini", "gemini-2.5-pro,gemini-2.5-flash"),
        (43, "deepseek", "deepseek-chat,deepseek-reasoner"),
        (40, "siliconflow", "Qwen/Qwen3-32B"),
        (20, "openrouter", "meta-llama/llama-4-maverick"),
    ];
    (0..n)
        .map(|i| {
            let id = i64::try_from(i + 1).unwrap_or(i64::MAX);
            let (kind, prefix, models) = TYPES[i % TYPES.len()];
            let mut c = SimChannel::new(id, kind, &format!("{prefix}-{id:05}"), models);
            c.priority = Some(i64::try_from(i % 3).unwrap_or(0) * 5);
            c.weight = Some(u64::try_from((i * 7) % 101).unwrap_or(0));
            c.group = if i % 4 == 0 { "default,vip".into() } else { "default".into() };
            c.created_time = 1_760_000_000 + id;
            c.test_time = if i % 5 == 0 { 0 } else { 1_777_000_000 + id };
            c.response_time = if c.test_time == 0 { 0 } else { 300 + (id * 37) % 2_000 };
            c.used_quota = id * 10_007;
            c.sim = ok(
                300 + (id * 37) % 2_000,
                if i % 9 == 0 { 0.0 } else { 10.0 + f64::from(u32::try_from(i % 90).unwrap_or(0)) },
            );
            if i % 17 == 5 {
                c.status = 3;
                c.set_status_reason("status_code=401, invalid api key", 1_777_000_000 + id);
                c.sim.test_ok = false;
                c.sim.test_error_code = "invalid_api_key".into();
                c.sim.test_error = "bad response status code 401".into();
            } else if i % 23 == 7 {
                c.status = 2;
            }
            if i % 50 == 10 {
                c = c.multi_key(4, &[(2, 3)], "random");
            }
            if i % 11 == 3 {
                c.model_mapping =
                    Some(format!("{{\"{}\":\"upstream-{id}\"}}", models.split(',').next().unwrap_or("m")));
            }
            if i % 13 == 0 {
                c.tag = Some(format!("tag-{}", i % 5));
            }
            c
        })
        .collect()
}

/// The staged consume log (requests that succeeded, newest first): the
/// healthy channels carry traffic; openai-main serves two requests of
/// another model beside its failing gpt-4.1 ones.
pub fn consume_logs(now: i64) -> Vec<super::SimErrorLog> {
    let row = |ago: i64, model: &str, channel: i64, name: &str| super::SimErrorLog {
        created_at: now - ago,
        model_name: model.into(),
        content: String::new(),
        status_code: 200,
        channel,
        channel_name: name.into(),
        error_code: String::new(),
    };
    let mut v: Vec<super::SimErrorLog> = (0..12).map(|i| row(10 + i * 20, "gpt-4o", 2, "openai-backup")).collect();
    v.extend((0..2).map(|i| row(45 + i * 60, "gpt-4o-mini", 1, "openai-main")));
    v.sort_by_key(|r| std::cmp::Reverse(r.created_at));
    v
}

/// The staged error log: a model name the upstream does not have (every
/// request for it fails), and the exhausted OpenAI account.
pub fn error_logs(now: i64) -> Vec<super::SimErrorLog> {
    let row =
        |ago: i64, model: &str, content: &str, status: u16, channel: i64, name: &str, code: &str| super::SimErrorLog {
            created_at: now - ago,
            model_name: model.into(),
            content: content.into(),
            status_code: status,
            channel,
            channel_name: name.into(),
            error_code: code.into(),
        };
    let mut v = Vec::new();
    for i in 0..6 {
        v.push(row(
            30 + i * 40,
            "gpt-4.1",
            "status_code=404, The model `gpt-4.1-2025-04-14` does not exist or you do not have access to it.",
            404,
            1,
            "openai-main",
            "model_not_found",
        ));
    }
    for i in 0..3 {
        v.push(row(
            90 + i * 70,
            "gpt-4o",
            "status_code=429, You exceeded your current quota, please check your plan and billing details.",
            429,
            6,
            "openai-team-b",
            "insufficient_quota",
        ));
    }
    v.sort_by_key(|r| std::cmp::Reverse(r.created_at));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_is_deterministic_and_unique() {
        let a = many(500);
        let b = many(500);
        assert_eq!(a, b);
        let mut ids: Vec<i64> = a.iter().map(|c| c.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), 500);
        assert!(a.iter().any(|c| c.status == 2) && a.iter().any(|c| c.status == 3));
        assert!(a.iter().any(|c| c.channel_info.is_multi_key));
    }

    #[test]
    fn demo_stages_the_incidents() {
        let d = demo(1_777_350_000);
        let get = |id: i64| d.iter().find(|c| c.id == id).unwrap();
        // Starved: weight 0 beside weighted channels at the same priority.
        assert_eq!((get(2).priority, get(2).weight), (Some(10), Some(0)));
        assert_eq!((get(1).priority, get(1).weight), (Some(10), Some(100)));
        // Auto-disabled with money on it.
        assert!(get(4).status == 3 && get(4).balance > 0.0 && get(4).other_info.contains("status_code=401"));
        assert!(!get(5).group.split(',').any(|g| g == "default"));
        assert!(!get(7).models_list().any(|m| m == "deepseek-v3"));
        assert_eq!(get(8).status, 2);
        assert!(get(9).channel_info.is_multi_key);
        assert_eq!(get(6).sim.test_error_code, "insufficient_quota");
        assert!(d.len() >= 10 && d.len() <= 15);
    }
}
