# Shell functions that start transaxx services on free loopback ports and
# stop them again, for scripts that run a local cluster (tools/demo.sh,
# bench/finetune.sh). Source it; the caller defines `die` and sets `logs`
# (a folder for the services' logs) before calling `start`.

PIDS=()

# Stops every service started by `start`: SIGTERM (a graceful drain), then
# SIGKILL for one that is still there after 30 seconds.
stop_cluster() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}

# start NAME BINARY ARGS...: starts a service logging to $logs/NAME.log and
# sets PORT to its gRPC port once it serves.
start() {
  local name="$1" binary="$2" log="$logs/$1.log" line pid
  shift 2
  # Its own session: Ctrl-C reaches the calling script, which can clean up
  # (cancel a search) before it stops the services, not the services behind
  # its back.
  setsid "$binary" --listen=127.0.0.1:0 --metrics_listen= "$@" >"$log" 2>&1 &
  pid="$!"
  PIDS+=("$pid")
  for _ in $(seq 1 1200); do
    line="$(grep -m1 '"msg":"serving"' "$log" 2>/dev/null || true)"
    if [[ -n "$line" ]]; then
      PORT="$(sed -E 's/.*"grpc_port":"([0-9]+)".*/\1/' <<<"$line")"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || die "$name did not start; see $log"
    sleep 0.1
  done
  die "$name did not start within 2 minutes; see $log"
}
