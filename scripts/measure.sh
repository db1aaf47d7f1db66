#!/usr/bin/env bash
# End-to-end measurements of the release binary (numbers for the issue notes;
# nothing here asserts a time):
#   1. binary size
#   2. launch -> first frame with live data (demo, median of N runs)
#   3. idle CPU and RSS with 5,000, 20,000 and 50,000 New API channels, refresh every 2 s,
#      and RSS with 5,000 LiteLLM deployments with and without a full per-minute day
#   4. `gatewatch check --json` vs curl + jq doing the same listing
#      (against a real LiteLLM when GATEWATCH_LITELLM is set, else skipped)
# Needs tmux. Usage: scripts/measure.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}
cargo build --release --quiet
bin=$PWD/target/release/gatewatch
work=$(mktemp -d)
trap 'tmux -S "$work/tmux" kill-server 2>/dev/null || true; kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {m=int((NR+1)/2); print a[m]}'; }

echo "binary: $(stat -c %s "$bin") bytes ($(du -h "$bin" | cut -f1))"

# 2. launch -> first frame with live data.
times=()
for i in $(seq "$runs"); do
  st="$work/s$i"; mkdir -p "$st"
  tmux -S "$work/tmux" new-session -d -s m$i -x 120 -y 40 "env XDG_STATE_HOME=$st GATEWATCH_LOG=info $bin demo --only litellm"
  for _ in $(seq 200); do
    if grep -q "first frame with live data" "$st/gatewatch/demo/gatewatch.log" 2>/dev/null; then break; fi
    sleep 0.05
  done
  ms=$(grep -o 'ms=[0-9.]*' "$st/gatewatch/demo/gatewatch.log" | head -1 | cut -d= -f2)
  times+=("$ms")
  tmux -S "$work/tmux" send-keys -t m$i q
  sleep 0.3
done
printf 'launch to first frame with data (ms, %s runs): %s\n' "$runs" "${times[*]}"
printf 'median: %s ms\n' "$(printf '%s\n' "${times[@]}" | median)"

# 3. idle CPU and RSS with 5,000 and 20,000 New API channels (20,000: the
#    most one poll reads), and 50,000 (the list is not read: the incident-first
#    subsets are).
idle() {
  local n=$1
  "$bin" sim-newapi --channels "$n" > "$work/sim$n.url" &
  for _ in $(seq 100); do [ -s "$work/sim$n.url" ] && break; sleep 0.05; done
  local url; url=$(head -1 "$work/sim$n.url")
  tmux -S "$work/tmux" new-session -d -s "idle$n" -x 200 -y 60 \
    "env XDG_STATE_HOME=$work/idle$n NEW_API_ACCESS_TOKEN=demo-newapi-access-token-0000 NEW_API_USER_ID=1 $bin --gateway newapi=$url --refresh 2s"
  # The first full read (past half the rate limit the pacer spreads the
  # pages: 20,000 channels take minutes), then steady state. Past 20,000 the
  # list is not read whole: the incident-first subsets are.
  if [ "$n" -le 20000 ]; then
    for _ in $(seq 400); do
      tmux -S "$work/tmux" capture-pane -p -t "idle$n" | grep -q "Channels ($n" && break
      sleep 1
    done
  fi
  sleep 20
  local pid; pid=$(pgrep -f "^$bin --gateway newapi=$url" | head -1)   # the binary, not the tmux server whose argv names it
  local clk; clk=$(getconf CLK_TCK)
  local t0 s0 t1 s1
  t0=$(awk '{print $14+$15}' "/proc/$pid/stat"); s0=$(date +%s.%N)
  sleep 60
  t1=$(awk '{print $14+$15}' "/proc/$pid/stat"); s1=$(date +%s.%N)
  local cpu; cpu=$(awk -v a="$t0" -v b="$t1" -v c="$clk" -v x="$s0" -v y="$s1" 'BEGIN {printf "%.2f", (b-a)/c/(y-x)*100}')
  local rss hwm
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  echo "idle with $n channels, refresh 2s: CPU ${cpu}% of one core over 60 s; RSS ${rss} kB (peak ${hwm} kB)"
  tmux -S "$work/tmux" send-keys -t "idle$n" q
}
for n in ${IDLE_CHANNELS:-5000 20000 50000}; do idle "$n"; done

# 3b. The same with 5,000 LiteLLM deployments (`sim-litellm`: /model/info
#     3.2 MB, /metrics/ 4.9 MB, traffic on every deployment), with and
#     without a full day of per-minute history loaded (examples/fill_day),
#     sampled over 10 minutes (the half hour of samples fills as it runs).
idle_litellm() {
  local label=$1 fill=$2
  "$bin" sim-litellm --deployments 5000 > "$work/simll.url" &
  for _ in $(seq 100); do [ -s "$work/simll.url" ] && break; sleep 0.05; done
  local url; url=$(head -1 "$work/simll.url")
  local st="$work/ll-$label"
  mkdir -p "$st/gatewatch"
  if [ "$fill" = yes ]; then "$PWD/target/release/examples/fill_day" "$st/gatewatch" litellm 5000; fi
  tmux -S "$work/tmux" new-session -d -s "ll$label" -x 200 -y 60 \
    "env XDG_STATE_HOME=$st LITELLM_MASTER_KEY=sk-demo-master-0000-not-a-real-key $bin --gateway litellm=$url --refresh 2s"
  sleep 5
  local pid; pid=$(pgrep -f "^$bin --gateway litellm=$url" | head -1)
  local line="5,000 LiteLLM deployments ($label), refresh 2s, RSS kB at 1/5/10 min:"
  for wait in 55 240 300; do
    sleep "$wait"
    line="$line $(awk '/VmRSS/ {print $2}' "/proc/$pid/status")"
  done
  echo "$line (peak $(awk '/VmHWM/ {print $2}' "/proc/$pid/status") kB)"
  tmux -S "$work/tmux" send-keys -t "ll$label" q
  kill %% 2>/dev/null || true
}
if [ -z "${SKIP_LITELLM_IDLE:-}" ]; then
  cargo build --release --quiet --example fill_day
  idle_litellm "no saved day" no
  idle_litellm "a full day loaded" yes
fi

# 4. `gatewatch check --json` against a real LiteLLM Proxy, side by side with
#    the Python `litellm-proxy models info` CLI (one listing) and curl + jq
#    fetching the same seven endpoints the check reads, and the check of three
#    replicas at once. Starts its own three proxies
#    and fake upstream on loopback; needs GATEWATCH_LITELLM (the venv's
#    litellm) and hyperfine.
if [ -n "${GATEWATCH_LITELLM:-}" ] && command -v hyperfine >/dev/null && command -v jq >/dev/null; then
  venv=$(dirname "$GATEWATCH_LITELLM")
  "$venv/python" ci/fakeup.py --port 0 --log "$work/up.jsonl" --reject "$work/reject.txt" --parent-pid $$ > "$work/up.port" 2>"$work/up.err" &
  for _ in $(seq 100); do [ -s "$work/up.port" ] && break; sleep 0.1; done
  upport=$(head -1 "$work/up.port" | awk -F: '{print $NF}')
  cat > "$work/litellm.yaml" <<YAML
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "http://127.0.0.1:$upport/v1", api_key: os.environ/OPENAI_API_KEY}
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "http://127.0.0.1:$upport/v1", api_key: os.environ/OPENAI_API_KEY}
  - model_name: deepseek-chat
    litellm_params: {model: openai/deepseek-chat, api_base: "http://127.0.0.1:$upport/v1", api_key: os.environ/OPENAI_API_KEY}
  - model_name: gpt-4-turbo
    litellm_params: {model: openai/gpt-4-turbo, api_base: "http://127.0.0.1:$upport/v1", api_key: os.environ/OPENAI_API_KEY}
litellm_settings:
  fallbacks: [{gpt-4o-mini: [gpt-4o]}]
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
YAML
  free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
  export LITELLM_MASTER_KEY="sk-measure-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  export OPENAI_API_KEY="sk-fake-upstream-measure" LITELLM_LOCAL_MODEL_COST_MAP=True
  # Three replicas of one gateway, started together (the first is also the
  # single-gateway case).
  ports=(); pids=()
  t0=$(date +%s.%N)
  for i in 1 2 3; do
    p=$(free_port); ports+=("$p")
    "$GATEWATCH_LITELLM" --config "$work/litellm.yaml" --host 127.0.0.1 --port "$p" > "$work/proxy$i.log" 2>&1 &
    pids+=($!)
  done
  for i in 0 1 2; do
    until curl -sf "http://127.0.0.1:${ports[$i]}/health/liveliness" >/dev/null; do
      kill -0 "${pids[$i]}" 2>/dev/null || { tail -20 "$work/proxy$((i+1)).log"; exit 1; }
      sleep 0.1
    done
  done
  port=${ports[0]}
  export LITELLM_PROXY_API_KEY=$LITELLM_MASTER_KEY LITELLM_PROXY_URL=http://127.0.0.1:$port
  echo "3 real LiteLLM $("$venv/python" -c 'import importlib.metadata as m; print(m.version("litellm"))') proxies started together in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b-a}') s"
  u=http://127.0.0.1:$port
  curl_cmd="curl -s -H \"Authorization: Bearer \$LITELLM_MASTER_KEY\" $u/health/liveliness $u/health/readiness/details $u/model/info $u/get/config/callbacks $u/cache/ping $u/v1/models | jq -c . > /dev/null; curl -s -o /dev/null $u/ui/"
  hyperfine -N -i --warmup 2 --runs 20 --export-json "$work/hf.json" \
    "$bin check --json --gateway litellm=$u --litellm-config $work/litellm.yaml" \
    "$bin check --json --gateway litellm=$u,http://127.0.0.1:${ports[1]},http://127.0.0.1:${ports[2]} --litellm-config $work/litellm.yaml" \
    "$venv/litellm-proxy models info --format json" 2>&1 | grep -v '^ *Warning' || true
  hyperfine -i --warmup 2 --runs 20 --export-json "$work/hf2.json" "$curl_cmd" 2>&1 | grep -v '^ *Warning' || true
  jq -r '.results[] | "\(.median*1000|floor) ms median: \(.command)"' "$work/hf.json" "$work/hf2.json" | sed "s#$work#\$WORK#g"
  kill "${pids[@]}" 2>/dev/null || true
else
  echo "check vs litellm-proxy CLI / curl+jq: skipped (set GATEWATCH_LITELLM to the venv's litellm; needs hyperfine and jq)"
fi
