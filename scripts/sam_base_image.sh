#!/usr/bin/env bash
# `make sam-base-image`: for machines that cannot pull, a stand-in for SAM's Lambda base
# image public.ecr.aws/lambda/provided:al2023-<arch>, built from Debian packages, so that
# `sam local invoke/start-api --skip-pull-image` find it. Online, SAM pulls the real one
# once instead, and this is not needed. Also registers QEMU for arm64 containers on an
# x86_64 machine (binfmt_misc, flag F: the interpreter works inside containers).
#
#   scripts/sam_base_image.sh [--arch arm64|x86_64] [--rie native|sam] [--force]
#
# Needs root (debootstrap, binfmt_misc, and dockerd when Docker does not run). Steps, each
# skipped when done (--force redoes them):
#  1. debootstrap --variant=minbase --foreign into target/sam-base/<debarch>-<suite> (the
#     first stage: packages unpacked, no emulation needed; ~30 s), kept for reuse.
#  2. that tree without debootstrap's leftovers, plus /var/task, /var/runtime, /opt and the CA
#     bundle at Amazon Linux 2023's path (the function's SSL_CERT_FILE), built FROM scratch
#     with the legacy builder and --platform linux/<arch>, so the image records its real
#     architecture (`docker import` records the host's, and Docker would then look the right
#     one up in a registry). Tagged as SAM looks for it.
#  3. SAM's derived image ...:al2023-rapid-<arch> (the base plus SAM's Runtime Interface
#     Emulator). --rie native (default): built here with the emulator of this machine's
#     architecture from the installed aws-sam-cli; the function itself still runs as arm64
#     (under QEMU). Without iptables, Docker's proxy accepts SAM's first connection before
#     the emulator listens, and SAM gives it ~0.3 s: the arm64 emulator under QEMU takes
#     0.15-0.2 s to start, more under load, and invokes failed at random; the native one
#     listens in ~20 ms. --rie sam: SAM builds it at the next invoke. A derived image not
#     built from the current base is removed either way (SAM would keep using it).
# Docker: a running daemon is used and left alone; else dockerd is started and stopped
# (scripts/docker.sh).
#
# Settings: DEBIAN_SUITE (default the host's codename, else bookworm), DEBIAN_MIRROR
# (default: the first Debian URI of the host's apt sources, else http://deb.debian.org/debian).
set -euo pipefail
cd "$(dirname "$0")/.."
NAME=sam-base-image
# shellcheck source=docker.sh
source scripts/docker.sh

# arm64 containers on an x86_64 machine: qemu-user-static registered for aarch64 ELF files
# with the F flag (the kernel keeps the interpreter open, so it works inside containers).
qemu_for_arm64() {
  [ "$arch" = arm64 ] && [ "$(uname -m)" = x86_64 ] || return 0
  local entry=/proc/sys/fs/binfmt_misc/qemu-aarch64
  command -v qemu-aarch64-static >/dev/null && command -v update-binfmts >/dev/null ||
    die "no QEMU for arm64 containers: apt-get install qemu-user-static binfmt-support"
  [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  { [ -e "$entry" ] && grep -qx enabled "$entry"; } || update-binfmts --enable qemu-aarch64
  grep -q '^flags:.*F' "$entry" ||
    die "qemu-aarch64 is registered without the F flag ($entry): update-binfmts --disable qemu-aarch64, reinstall qemu-user-static"
  say "arm64 containers run under QEMU ($(awk '$1 == "interpreter" {print $2}' "$entry"), flag F)"
}

args=("$@")
arch=arm64
force=
rie=native
while [ $# -gt 0 ]; do
  case $1 in
    --arch) arch=$2; shift 2 ;;
    --arch=*) arch=${1#--arch=}; shift ;;
    --rie) rie=$2; shift 2 ;;
    --rie=*) rie=${1#--rie=}; shift ;;
    --force) force=1; shift ;;
    *) die "usage: $0 [--arch arm64|x86_64] [--rie native|sam] [--force]" ;;
  esac
done
case $arch in
  arm64 | aarch64) arch=arm64 debarch=arm64 ;;
  x86_64 | amd64) arch=x86_64 debarch=amd64 ;;
  *) die "--arch must be arm64 or x86_64" ;;
esac
case $rie in native | sam) ;; *) die "--rie must be native or sam" ;; esac
image=public.ecr.aws/lambda/provided:al2023-$arch
rapid=public.ecr.aws/lambda/provided:al2023-rapid-$arch
dockerarch=$debarch # what `docker image inspect --format {{.Architecture}}` says

if [ "$(id -u)" != 0 ]; then
  # debootstrap creates device nodes and root-owned files; binfmt_misc needs root too.
  command -v sudo >/dev/null || die "needs root (debootstrap, binfmt_misc): run it as root"
  say "needs root (debootstrap, binfmt_misc): again with sudo"
  # sudo resets the environment (and secure_path replaces PATH): pass on what this reads.
  keep=("PATH=$PATH")
  for name in DEBIAN_SUITE DEBIAN_MIRROR DOCKER_HOST DOCKER_RUN; do
    [ -z "${!name:-}" ] || keep+=("$name=${!name}")
  done
  exec sudo env "${keep[@]}" "$PWD/scripts/sam_base_image.sh" "${args[@]}"
fi
WITH_CI_TOOLS=1 scripts/bootstrap.sh >&2
qemu_for_arm64
docker_up

tmpdirs=()
# Before docker.sh's cleanup, which keeps the exit status.
trap 'status=$?; set +e; rm -rf "${tmpdirs[@]}"; (exit "$status"); _docker_cleanup' EXIT

label() { docker image inspect --format "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null || true; }

# The rapid image must start with the base's layers; otherwise it is stale (built from an
# older base) and SAM, with --skip-pull-image, would keep using it. With --rie sam, one
# built here goes too (SAM then builds its own).
drop_stale_rapid() {
  docker image inspect "$rapid" >/dev/null 2>&1 || return 0
  local base_layers rapid_layers why=
  base_layers=$(docker image inspect --format '{{join .RootFS.Layers " "}}' "$image" 2>/dev/null || true)
  rapid_layers=$(docker image inspect --format '{{join .RootFS.Layers " "}}' "$rapid")
  if [ -z "$base_layers" ] || [ "${rapid_layers#"$base_layers"}" = "$rapid_layers" ]; then
    why="stale: not built from the current $image"
  elif [ "$rie" = sam ] && [ -n "$(label "$rapid" biometric-validations.rie-sha256)" ]; then
    why="built here with the native RIE; --rie sam leaves it to SAM"
  fi
  if [ -n "$why" ]; then
    docker image rm --force "$rapid" >/dev/null  # --force: untags it even if a container still uses it
    say "removed $rapid ($why)"
  fi
}

# SAM's derived image, with the RIE native to this host (see the header).
build_rapid() {
  if [ "$rie" = sam ]; then
    say "$rapid is left to SAM (--rie sam: built at the next invoke, with the $arch RIE)"
    return 0
  fi
  local host_rie py rapid_dir sum rctx
  case $(uname -m) in x86_64) host_rie=x86_64 ;; aarch64) host_rie=arm64 ;; *) die "no SAM RIE for $(uname -m)" ;; esac
  py=.venv/bin/python
  rapid_dir=$("$py" -c 'import os, samcli; print(os.path.join(os.path.dirname(samcli.__file__), "local", "rapid"))' 2>/dev/null) \
    || die "no aws-sam-cli in .venv"
  [ -f "$rapid_dir/aws-lambda-rie-$host_rie" ] || die "no $rapid_dir/aws-lambda-rie-$host_rie"
  sum=$(sha256sum "$rapid_dir/aws-lambda-rie-$host_rie" | cut -c1-64)
  if [ -z "$force" ] && [ "$(label "$rapid" biometric-validations.rie-sha256)" = "$sum" ]; then
    say "$rapid is current (the installed SAM's $host_rie RIE, on this base)"
    return 0
  fi
  rctx=$(mktemp -d)
  tmpdirs+=("$rctx")
  install -m 0755 "$rapid_dir/aws-lambda-rie-$host_rie" "$rctx/aws-lambda-rie"
  cat >"$rctx/Dockerfile" <<DOCKERFILE
# SAM's rapid image for $image, with aws-sam-cli's $host_rie RIE (native on this host).
FROM $image
COPY aws-lambda-rie /var/rapid/aws-lambda-rie
LABEL biometric-validations.rie-sha256="$sum" biometric-validations.rie-arch="$host_rie"
DOCKERFILE
  DOCKER_BUILDKIT=0 docker build --quiet --platform "linux/$debarch" -t "$rapid" "$rctx" >/dev/null 2>"$DOCKER_RUN/rapid-build.err" \
    || { cat "$DOCKER_RUN/rapid-build.err" >&2; die "building $rapid failed"; }
  say "built $rapid: $image + the installed SAM's $host_rie RIE (sha256 ${sum:0:12})"
}

if [ -z "$force" ] && [ "$(docker image inspect --format '{{.Architecture}}' "$image" 2>/dev/null)" = "$dockerarch" ]; then
  say "$image ($dockerarch) already exists: nothing to build (--force rebuilds it)"
  drop_stale_rapid
  build_rapid
  exit 0
fi

command -v debootstrap >/dev/null || die "no debootstrap: apt-get install debootstrap"
suite=${DEBIAN_SUITE:-$( . /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")}
suite=${suite:-bookworm}
mirror=${DEBIAN_MIRROR:-$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
  /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '$1 == "URIs:" || $1 == "deb" {
    for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\/.*\/debian\/?$/) { print $i; exit } }' || true)}
mirror=${mirror:-http://deb.debian.org/debian}
rootfs_root=$PWD/target/sam-base
rootfs=$rootfs_root/$debarch-$suite

start=$SECONDS
if [ -n "$force" ] || [ ! -f "$rootfs/.debootstrap-complete" ]; then
  say "debootstrap --variant=minbase --foreign --arch=$debarch $suite from $mirror into $rootfs"
  mkdir -p "$rootfs_root"
  rm -rf "$rootfs.tmp"
  debootstrap --variant=minbase --foreign --arch="$debarch" "$suite" "$rootfs.tmp" "$mirror" \
    >"$DOCKER_RUN/debootstrap-$debarch.log" 2>&1 \
    || { tail -20 "$DOCKER_RUN/debootstrap-$debarch.log" >&2; die "debootstrap failed (log $DOCKER_RUN/debootstrap-$debarch.log)"; }
  rm -rf "$rootfs"
  mv "$rootfs.tmp" "$rootfs"
  date -u +%FT%TZ >"$rootfs/.debootstrap-complete"
  say "debootstrap done in $((SECONDS - start)) s"
else
  say "reusing the tree $rootfs (debootstrapped $(cat "$rootfs/.debootstrap-complete"))"
fi

ctx=$(mktemp -d)
tmpdirs+=("$ctx")
extra=$ctx/extra
mkdir -p "$extra/var/task" "$extra/var/runtime" "$extra/opt" "$extra/proc" "$extra/dev" \
  "$extra/etc/pki/tls/certs" "$extra/tmp"
chmod 1777 "$extra/tmp"
bundle=
for f in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt; do
  [ -s "$f" ] && { bundle=$f; break; }
done
[ -n "$bundle" ] || die "no CA bundle on this host (install ca-certificates)"
cp "$bundle" "$extra/etc/pki/tls/certs/ca-bundle.crt"
# Debian's tree first (without debootstrap's leftovers and docs), then the additions on top.
tar -C "$rootfs" --numeric-owner \
  --exclude=./debootstrap --exclude=./.debootstrap-complete --exclude='./var/cache/apt/archives/*.deb' \
  --exclude=./dev --exclude=./proc \
  --exclude='./usr/share/doc/*' --exclude='./usr/share/man/*' --exclude='./usr/share/info/*' \
  -cf "$ctx/rootfs.tar" .
tar -C "$extra" --numeric-owner --owner=0 --group=0 -rf "$ctx/rootfs.tar" .

cat >"$ctx/Dockerfile" <<DOCKERFILE
# A stand-in for $image: Debian $suite ($debarch, minbase) with AL2023's Lambda layout.
FROM scratch
ADD rootfs.tar /
# As the real provided:al2023 image sets them.
ENV LANG=en_US.UTF-8 \\
    TZ=:/etc/localtime \\
    PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin \\
    LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib \\
    LAMBDA_TASK_ROOT=/var/task \\
    LAMBDA_RUNTIME_DIR=/var/runtime
WORKDIR /var/task
LABEL org.opencontainers.image.description="offline stand-in for $image (Debian $suite $debarch minbase)" \\
      biometric-validations.suite="$suite" biometric-validations.built="$(date -u +%FT%TZ)"
DOCKERFILE

build_start=$SECONDS
# DOCKER_BUILDKIT=0: the legacy builder records --platform's architecture on a FROM scratch
# image and needs no buildx plugin; nothing is pulled (scratch is not an image).
DOCKER_BUILDKIT=0 docker build --quiet --platform "linux/$debarch" -t "$image" "$ctx" >/dev/null 2>"$DOCKER_RUN/base-build.err" \
  || { cat "$DOCKER_RUN/base-build.err" >&2; die "building $image failed"; }
got=$(docker image inspect --format '{{.Os}}/{{.Architecture}}' "$image")
[ "$got" = "linux/$dockerarch" ] || die "$image records $got, not linux/$dockerarch"
say "built $image ($got, $(docker image inspect --format '{{.Size}}' "$image" | awk '{printf "%d MB", $1/1e6}')) in $((SECONDS - build_start)) s"
drop_stale_rapid
build_rapid
say "done in $((SECONDS - start)) s"
