#!/usr/bin/env bash
# End-to-end measurements of the release binary (numbers for the issue notes;
# nothing here asserts a time):
#   1. binary size
#   2. launch -> first frame with live data (demo, median of N runs)
#   3. idle CPU and RSS with 5,000 New API channels, refresh every 2 s
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

# 3. idle CPU and RSS with 5,000 channels.
"$bin" sim-newapi --channels 5000 > "$work/sim.url" &
for _ in $(seq 100); do [ -s "$work/sim.url" ] && break; sleep 0.05; done
url=$(head -1 "$work/sim.url")
tmux -S "$work/tmux" new-session -d -s idle -x 200 -y 60 \
  "env XDG_STATE_HOME=$work/idle NEW_API_ACCESS_TOKEN=demo-newapi-access-token-0000 NEW_API_USER_ID=1 $bin --gateway newapi=$url --refresh 2s"
sleep 20   # first full refresh of 50 pages, then steady state
pid=$(pgrep -f "$bin --gateway newapi=$url" | head -1)
clk=$(getconf CLK_TCK)
t0=$(awk '{print $14+$15}' "/proc/$pid/stat"); s0=$(date +%s.%N)
sleep 60
t1=$(awk '{print $14+$15}' "/proc/$pid/stat"); s1=$(date +%s.%N)
cpu=$(awk -v a="$t0" -v b="$t1" -v c="$clk" -v x="$s0" -v y="$s1" 'BEGIN {printf "%.2f", (b-a)/c/(y-x)*100}')
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
echo "idle with 5000 channels, refresh 2s: CPU ${cpu}% of one core over 60 s; RSS ${rss} kB (peak ${hwm} kB)"
tmux -S "$work/tmux" send-keys -t idle q

# 4. check --json vs curl + jq against a real LiteLLM.
if [ -n "${GATEWATCH_LITELLM:-}" ] && command -v jq >/dev/null && [ -n "${LITELLM_URL:-}" ] && [ -n "${LITELLM_MASTER_KEY:-}" ]; then
  hyperfine --warmup 2 --runs 10 \
    "$bin check --json --gateway litellm=$LITELLM_URL > /dev/null || true" \
    "curl -sf -H \"Authorization: Bearer \$LITELLM_MASTER_KEY\" $LITELLM_URL/model/info | jq '.data[] | {model_name, id: .model_info.id}' > /dev/null"
fi
