//! One New API channel as a [`Deployment`].

use crate::gateway::text::Interner;
use crate::gateway::{Deployment, DeploymentStatus, KeyVisibility, Names};

use super::api::{Channel, OrderedPairs, OtherInfo};

/// Which server family answered: the ids of channel types differ from 26 on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    NewApi,
    OneApi,
}

/// Provider name of a New API channel type (`constant/channel.go`).
pub fn provider_name(type_id: i64) -> Option<&'static str> {
    Some(match type_id {
        1 => "OpenAI",
        2 => "Midjourney",
        3 => "Azure OpenAI",
        4 => "Ollama",
        8 => "Custom",
        14 => "Anthropic",
        15 => "Baidu",
        16 => "Zhipu",
        17 => "Ali (DashScope)",
        18 => "Xunfei",
        20 => "OpenRouter",
        23 => "Tencent",
        24 => "Gemini",
        25 => "Moonshot",
        26 => "Zhipu v4",
        27 => "Perplexity",
        33 => "AWS (Bedrock Claude)",
        34 => "Cohere",
        35 => "MiniMax",
        36 => "Suno",
        39 => "Cloudflare",
        40 => "SiliconFlow",
        41 => "Vertex AI",
        42 => "Mistral",
        43 => "DeepSeek",
        45 => "VolcEngine (Doubao)",
        48 => "xAI",
        49 => "Coze",
        56 => "Replicate",
        57 => "Codex (OAuth)",
        _ => return None,
    })
}

/// Provider name of a One API channel type (agrees with New API up to 25).
pub fn one_api_provider_name(type_id: i64) -> Option<&'static str> {
    Some(match type_id {
        26 => "Baichuan",
        27 => "MiniMax",
        28 => "Mistral",
        29 => "Groq",
        30 => "Ollama",
        33 => "AWS Claude",
        34 => "Coze",
        35 => "Cohere",
        36 => "DeepSeek",
        37 => "Cloudflare",
        40 => "Doubao",
        42 => "Vertex AI",
        44 => "SiliconFlow",
        45 => "xAI",
        n if n <= 25 => return provider_name(n),
        _ => return None,
    })
}

/// A comma-separated list, trimmed, without empty entries, as shared names.
pub fn split_names(text: &str, names: &mut Interner) -> Names {
    names.names(text.split(',').map(str::trim).filter(|s| !s.is_empty()))
}

/// `model_mapping` in the order of its JSON text; empty when blank or invalid.
pub fn parse_mapping(text: Option<&str>) -> Vec<(String, String)> {
    match text.map(str::trim) {
        None | Some("") => Vec::new(),
        Some(t) => serde_json::from_str::<OrderedPairs>(t).map(|p| p.0).unwrap_or_default(),
    }
}

fn other_info(text: Option<&str>) -> OtherInfo {
    match text.map(str::trim) {
        None | Some("") => OtherInfo::default(),
        Some(t) => serde_json::from_str(t).unwrap_or_default(),
    }
}

fn status(code: i64) -> DeploymentStatus {
    match code {
        1 => DeploymentStatus::Serving,
        2 => DeploymentStatus::ManuallyDisabled,
        3 => DeploymentStatus::AutoDisabled,
        _ => DeploymentStatus::Unknown,
    }
}

fn non_empty(s: Option<String>, names: &mut Interner) -> Option<crate::gateway::Text> {
    s.filter(|s| !s.trim().is_empty()).map(|s| names.text(&s))
}

/// (enabled keys, total keys) of a multi-key pool.
fn multi_key(c: &Channel) -> Option<(u32, u32)> {
    let info = c.channel_info.as_ref().filter(|i| i.is_multi_key)?;
    let total = u32::try_from(info.multi_key_size).unwrap_or(0);
    let disabled = info
        .multi_key_status_list
        .iter()
        .flatten()
        .filter(|(idx, st)| **st != 1 && idx.parse::<u32>().is_ok_and(|i| i < total))
        .count();
    Some((total.saturating_sub(u32::try_from(disabled).unwrap_or(u32::MAX)), total))
}

/// Map one channel. `other_info`'s reason and time describe the last
/// *automatic* status change, so they are kept only while the channel is not
/// serving (on an enabled channel they would be a stale "why it was down").
pub fn to_deployment(c: Channel, flavor: Flavor, names: &mut Interner) -> Deployment {
    let pool = multi_key(&c);
    let mut d =
        Deployment::unlisted(compact_str::format_compact!("{}", c.id), compact_str::CompactString::new(&c.name));
    d.models = split_names(&c.models, names);
    let provider = match flavor {
        Flavor::NewApi => provider_name(c.kind),
        Flavor::OneApi => one_api_provider_name(c.kind),
    }
    .map_or_else(|| format!("type {}", c.kind), str::to_owned);
    d.provider = names.text(&provider);
    d.type_id = c.kind.into();
    d.api_base = non_empty(c.base_url, names);
    d.status = status(c.status);
    if d.status != DeploymentStatus::Serving {
        let info = other_info(c.other_info.as_deref());
        d.status_reason = non_empty(info.status_reason, names);
        d.status_since = info.status_time.filter(|t| *t > 0).into();
    }
    d.weight = c.weight.map(|w| u64::try_from(w).unwrap_or(0)).into();
    d.priority = c.priority.into();
    d.groups = split_names(&c.group, names);
    d.model_mapping = parse_mapping(c.model_mapping.as_deref());
    // A balance of 0 that was never fetched is "unknown", not "empty".
    d.balance = (c.balance_updated_time > 0 || c.balance != 0.0).then_some(c.balance).into();
    d.balance_updated = (c.balance_updated_time > 0).then_some(c.balance_updated_time).into();
    d.used_quota = c.used_quota.into();
    d.response_time_ms = u64::try_from(c.response_time).ok().filter(|ms| *ms > 0).into();
    d.test_time = (c.test_time > 0).then_some(c.test_time).into();
    d.tag = non_empty(c.tag, names);
    d.key = KeyVisibility::NotReadable(names.text("not readable with an access token"));
    d.multi_key = pool;
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::newapi::api::{Envelope, ListData};

    fn fixture() -> Vec<Deployment> {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/newapi/channel_list_page1.json"
        ))
        .unwrap();
        let env: Envelope<ListData> = serde_json::from_str(&text).unwrap();
        let ListData::Page(page) = env.data else { panic!("expected a page object") };
        assert_eq!(page.total, Some(14));
        let mut names = Interner::default();
        page.items.unwrap().into_iter().map(|c| to_deployment(c, Flavor::NewApi, &mut names)).collect()
    }

    #[test]
    fn a_page_holds_each_repeated_string_and_list_once() {
        let d = fixture();
        let (a, b) = (by_id(&d, "12"), by_id(&d, "3"));
        assert_eq!(&*a.provider, "OpenAI");
        assert!(std::sync::Arc::ptr_eq(&a.provider, &b.provider));
        let c = by_id(&d, "11");
        assert_eq!(a.groups, ["default", "vip"]);
        assert!(a.groups == c.groups && a.groups.same_copy(&c.groups), "{:?} {:?}", a.groups, c.groups);
        match (&a.key, &b.key) {
            (KeyVisibility::NotReadable(x), KeyVisibility::NotReadable(y)) => assert!(std::sync::Arc::ptr_eq(x, y)),
            other => panic!("{other:?}"),
        }
    }

    fn by_id<'a>(d: &'a [Deployment], id: &str) -> &'a Deployment {
        d.iter().find(|x| x.id == id).unwrap()
    }

    #[test]
    fn fixture_page_maps_every_channel() {
        use DeploymentStatus::{AutoDisabled, ManuallyDisabled, Serving};
        let d = fixture();
        let ids: Vec<&str> = d.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(ids, ["12", "11", "9", "7", "5", "3"]);
        let statuses: Vec<DeploymentStatus> = d.iter().map(|x| x.status).collect();
        assert_eq!(statuses, [Serving, Serving, AutoDisabled, ManuallyDisabled, Serving, Serving]);
        let providers: Vec<&str> = d.iter().map(|x| &*x.provider).collect();
        assert_eq!(providers, ["OpenAI", "Anthropic", "Azure OpenAI", "Gemini", "DeepSeek", "OpenAI"]);
        assert!(d.iter().all(|x| matches!(&x.key, KeyVisibility::NotReadable(_))));
    }

    #[test]
    fn fixture_openai_primary_fields() {
        let d = fixture();
        let c = by_id(&d, "12");
        assert_eq!(c.name, "openai-primary");
        assert_eq!(c.models, ["gpt-4o", "gpt-4o-mini", "gpt-4.1"]);
        assert_eq!(c.groups, ["default", "vip"]);
        assert_eq!(c.weight.get(), Some(0));
        assert_eq!(c.priority.get(), Some(10));
        assert_eq!(c.api_base, None, "empty base_url means the type's default URL");
        assert_eq!(c.balance.get(), Some(87.42));
        assert_eq!(c.balance_updated.get(), Some(1_777_346_400));
        assert_eq!(c.used_quota.get(), Some(412_338_211));
        assert_eq!(c.response_time_ms.get(), Some(812));
        assert_eq!(c.test_time.get(), Some(1_777_350_000));
        assert_eq!(c.type_id.get(), Some(1));
        assert_eq!(c.multi_key, None);
        assert!(c.model_mapping.is_empty());
        assert_eq!(c.status_reason, None);
        // Never fetched: unknown rather than zero.
        assert_eq!(by_id(&d, "11").balance.get(), None);
        assert_eq!(by_id(&d, "11").balance_updated.get(), None);
    }

    #[test]
    fn fixture_auto_disabled_reason_and_mapping() {
        let d = fixture();
        let az = by_id(&d, "9");
        assert_eq!(az.status, DeploymentStatus::AutoDisabled);
        assert!(az.status_reason.as_deref().unwrap().starts_with("status_code=401, Access denied"));
        assert_eq!(az.status_since.get(), Some(1_777_348_811));
        assert_eq!(az.api_base.as_deref(), Some("https://contoso-eastus.openai.azure.com"));
        assert_eq!(az.model_mapping, vec![("gpt-4o".to_owned(), "gpt4o-deploy".to_owned())]);
        assert_eq!(az.response_time_ms.get(), None);
        let gem = by_id(&d, "7");
        assert_eq!(gem.status, DeploymentStatus::ManuallyDisabled);
        assert_eq!(gem.status_reason, None, "empty reason is no reason");
        assert_eq!(gem.status_since.get(), Some(1_776_000_000));
    }

    #[test]
    fn fixture_multi_key_pool_and_tag() {
        let d = fixture();
        let pool = by_id(&d, "3");
        assert_eq!(pool.multi_key, Some((2, 3)));
        assert_eq!(pool.tag.as_deref(), Some("pool-a"));
        assert_eq!(by_id(&d, "5").tag, None);
    }

    #[test]
    fn mapping_keeps_text_order_and_tolerates_junk() {
        let m = parse_mapping(Some(r#"{"zeta":"a","alpha":"b","mid":"c"}"#));
        let keys: Vec<&str> = m.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["zeta", "alpha", "mid"]);
        assert!(parse_mapping(Some("not json")).is_empty());
        assert!(parse_mapping(Some("  ")).is_empty());
        assert!(parse_mapping(None).is_empty());
    }

    #[test]
    fn unknown_type_and_status_and_lists() {
        let c = Channel {
            id: 77,
            kind: 999,
            status: 0,
            models: " a, ,b ,".into(),
            group: String::new(),
            weight: Some(-3),
            other_info: Some("{broken".into()),
            ..Channel::default()
        };
        let d = to_deployment(c, Flavor::NewApi, &mut Interner::default());
        assert_eq!(&*d.provider, "type 999");
        assert_eq!(d.status, DeploymentStatus::Unknown);
        assert_eq!(d.models, ["a", "b"]);
        assert!(d.groups.is_empty());
        assert_eq!(d.weight.get(), Some(0));
        assert_eq!(d.status_reason, None);
    }

    #[test]
    fn one_api_type_ids_diverge_from_26() {
        assert_eq!(one_api_provider_name(36), Some("DeepSeek"));
        assert_eq!(provider_name(36), Some("Suno"));
        assert_eq!(one_api_provider_name(14), Some("Anthropic"));
    }
}
