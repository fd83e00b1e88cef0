# shellcheck shell=bash
# Sourced by scripts/sam_local.sh and scripts/sam_base_image.sh: Docker for `sam local`,
# with traffic that stays on this machine.
#
#   docker_up     use the running Docker daemon if `docker info` answers (and leave it
#                 alone); else start dockerd (root) with no iptables rules, no IP forwarding
#                 and no masquerading, ports published on 127.0.0.1 only; it is stopped, by
#                 pid, when the script exits. Containers sit on its bridge, which reaches
#                 this machine alone.
#   bridge_ip     the bridge's gateway: this machine as containers see it (host.docker.internal).
#   on_exit PID NAME   stop PID (TERM, then KILL) when the script exits.
# The SAM containers a run created are removed on exit too (a killed `sam` leaves them).
# Its files (dockerd's pid and log) are in target/docker.

DOCKER_RUN=${DOCKER_RUN:-$PWD/target/docker}
mkdir -p "$DOCKER_RUN"
say() { echo "$NAME: $*" >&2; }
die() { say "$*"; exit 1; }

_stop_pids=()
_stop_names=()
_dockerd_pid=
_sam_containers_before=
on_exit() { _stop_pids+=("$1"); _stop_names+=("$2"); }

_stop() {
  local pid=$1 name=$2 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || { say "stopped $name (pid $pid)"; return 0; }
    sleep 0.1
  done
  say "$name (pid $pid) still runs after 30 s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

_docker_cleanup() {
  local status=$? i id
  trap - EXIT INT TERM
  for ((i = ${#_stop_pids[@]} - 1; i >= 0; i--)); do
    _stop "${_stop_pids[i]}" "${_stop_names[i]}"
  done
  if [ -n "$_sam_containers_before" ] && docker info >/dev/null 2>&1; then
    for id in $(docker ps -aq --no-trunc --filter label=sam.cli.container.type); do
      case "$_sam_containers_before" in *" $id "*) continue ;; esac
      # Only ours: SAM mounts this checkout's build into the container (another checkout's
      # run, started meanwhile, keeps its own). The path as given, or resolved.
      while IFS= read -r source; do
        case $source in "$PWD"/* | "$(pwd -P)"/*)
          docker rm -f "$id" >/dev/null 2>&1 && say "removed SAM container ${id:0:12}"
          break ;;
        esac
      done < <(docker inspect --format '{{range .Mounts}}{{println .Source}}{{end}}' "$id" 2>/dev/null)
    done
  fi
  [ -z "$_dockerd_pid" ] || _stop "$_dockerd_pid" dockerd
  exit "$status"
}
trap _docker_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

docker_up() {
  command -v docker >/dev/null || die "no docker: install Docker (Debian: apt-get install docker.io)"
  if docker info >/dev/null 2>&1; then
    say "Docker $(docker info --format '{{.ServerVersion}}') runs: using it (left running)"
  else
    command -v dockerd >/dev/null || die "Docker does not run and there is no dockerd: start Docker, or install it (apt-get install docker.io)"
    [ "$(id -u)" = 0 ] || die "Docker does not run: start it (starting dockerd here needs root)"
    # --iptables=false: no NAT and no filter rules; --ip-forward=false: containers cannot
    # route off this machine; published ports (SAM's way to its container) on loopback.
    dockerd --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --ip=127.0.0.1 \
      --pidfile "$DOCKER_RUN/dockerd.pid" >"$DOCKER_RUN/dockerd.log" 2>&1 &
    _dockerd_pid=$!
    local start=$SECONDS
    until docker info >/dev/null 2>&1; do
      kill -0 "$_dockerd_pid" 2>/dev/null || { _dockerd_pid=; tail -20 "$DOCKER_RUN/dockerd.log" >&2; die "dockerd exited"; }
      ((SECONDS - start < 60)) || die "dockerd did not answer in 60 s (log: $DOCKER_RUN/dockerd.log)"
      sleep 0.2
    done
    say "started dockerd (pid $_dockerd_pid; without iptables rules or forwarding); stopped on exit"
  fi
  _sam_containers_before=" $(docker ps -aq --no-trunc --filter label=sam.cli.container.type | tr '\n' ' ') "
}

bridge_ip() {
  docker network inspect bridge --format '{{(index .IPAM.Config 0).Gateway}}' 2>/dev/null | grep . ||
    ip -4 -o addr show docker0 2>/dev/null | awk '{sub(/\/.*/, "", $4); print $4}'
}
