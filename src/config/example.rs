//! The example configuration written by `gatewatch config init` and shown in the README.

pub const EXAMPLE: &str = r#"# gatewatch configuration.
# Secrets never go in this file: name the environment variable that holds them.

# Refuse every action (purge, reload, restart, channel changes) for this session.
read_only: false

defaults:
  refresh: 5s        # how often each gateway is polled
  timeout: 3s        # per request

# Model names your clients send (checked against what the gateways serve).
client_models: [gpt-4o, gpt-4o-mini]

gateways:
  - name: litellm-prod
    kind: litellm
    url: http://127.0.0.1:4000            # the address clients use
    replicas:                              # optional: every replica behind it
      - http://10.0.0.11:4000
      - http://10.0.0.12:4000
    # discover_command: kubectl get endpoints litellm -o jsonpath='{range .subsets[*].addresses[*]}http://{.ip}:4000{"\n"}{end}'
    credential_env: LITELLM_MASTER_KEY     # the variable holding the master key
    config_file: /etc/litellm/config.yaml  # the proxy's own config, for key-drift detection
    # env_file: /srv/litellm/.env          # the proxy's own environment (or env_command: docker exec litellm env)
    restart_command: docker restart litellm-proxy
    # reload_command: kill -HUP $(cat /run/litellm-gunicorn.pid)   # gunicorn mode only
    # validate_command: litellm --config /etc/litellm/config.yaml --validate_config
    # pass_env: [LITELLM_MASTER_KEY]      # commands get no credential variable unless listed here
    # nginx_config: /etc/nginx/conf.d/litellm.conf
    # prometheus_url: http://prometheus:9090   # a Prometheus scraping the proxy's /metrics/: live traffic of every replica, with history
    # prometheus_job: litellm              # its scrape job, when it scrapes more than one fleet
    action_timeout: 120s
    verify_timeout: 90s

  - name: newapi-prod
    kind: newapi
    url: http://127.0.0.1:3000
    credential_env: NEW_API_ACCESS_TOKEN   # system access token (not an sk- relay token)
    user_id: 1                             # sent as New-Api-User
    refresh: 15s                           # New API allows 180 /api requests / 180 s per client IP, shared by every client there
    # rate_limit: 180                      # the server's GLOBAL_API_RATE_LIMIT, if changed
    # rate_limit_window: 180s              # its GLOBAL_API_RATE_LIMIT_DURATION
    # rate_reserve: 30                     # requests per window gatewatch leaves to the console and other clients
    sync_frequency: 60s                    # the nodes' SYNC_FREQUENCY
    user_group: default
    # memory_cache: true                   # the nodes run MEMORY_CACHE_ENABLED=true or Redis (unset: New API's default, off, is assumed and said)
    # channel_keys_file: /etc/gatewatch/newapi-keys.yaml   # channel id -> env var with the intended key
    restart_command: systemctl restart new-api
"#;
