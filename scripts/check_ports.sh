#!/usr/bin/env bash
# Refuses ports that something already listens on, before anything is started:
#
#     scripts/check_ports.sh [--as run] PORT=9000 MOTO_PORT=5005
#
# Each argument is the setting's name and its port; --as prefixes each line ("run: "). For every port that accepts a
# connection on 127.0.0.1 it prints one line naming the port, the setting and the process
# that holds it (from `ss`, else `lsof`, else `fuser`), and it exits 1 if there was one.
# Silent and 0 when every port is free.
set -uo pipefail

# Who listens on TCP port $1: "name (pid N)", or why that cannot be said.
holder() {
  local port=$1 line pid name
  if command -v ss >/dev/null 2>&1; then
    # users:(("cargo-lambda",pid=1234,fd=9)) is shown for the user's own processes only.
    line=$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'users:(("[^"]*",pid=[0-9]*' | head -n 1)
    if [ -n "$line" ]; then
      name=${line#users:((\"}
      echo "${name%%\"*} (pid ${line##*pid=})"
      return
    fi
  fi
  if command -v lsof >/dev/null 2>&1; then
    pid=$(lsof -nP -t -iTCP:"$port" -sTCP:LISTEN 2>/dev/null | head -n 1)
    if [ -n "$pid" ]; then
      echo "$(ps -o comm= -p "$pid" 2>/dev/null || echo '?') (pid $pid)"
      return
    fi
  fi
  if command -v fuser >/dev/null 2>&1; then
    pid=$(fuser -n tcp "$port" 2>/dev/null | tr -s ' ' '\n' | grep -m 1 '[0-9]')
    if [ -n "$pid" ]; then
      echo "$(ps -o comm= -p "$pid" 2>/dev/null || echo '?') (pid $pid)"
      return
    fi
  fi
  if command -v ss >/dev/null 2>&1 || command -v lsof >/dev/null 2>&1 || command -v fuser >/dev/null 2>&1; then
    echo "a process of another user (sudo ss -ltnp names it)"
  else
    echo "a process that cannot be named here (install iproute2's ss, or lsof, to see which)"
  fi
}

# Whether something accepts connections on 127.0.0.1:$1: exactly what makes a bind to
# it fail, whichever address (127.0.0.1, 0.0.0.0, ::) the holder listens on.
taken() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

prefix=
if [ "${1:-}" = --as ]; then
  prefix="$2: "
  shift 2
fi
status=0
for arg in "$@"; do
  name=${arg%%=*}
  port=${arg#*=}
  if ! [[ $port =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
    echo "$prefix$name=$port is not a TCP port (1-65535)" >&2
    status=1
  elif taken "$port"; then
    echo "${prefix}port $port ($name) is already in use by $(holder "$port"): stop that, or choose another port with $name=<port>" >&2
    status=1
  fi
done
exit "$status"
