#!/usr/bin/env bash
# The arm64 check (issue 17): the README's install and demo in an emulated Debian bookworm arm64 root
# (a Raspberry Pi 4's Cortex-A72), then the demo's events compared per frame with this machine's.
#
#   sudo benchmarks/arm64.sh                 # on an x86-64 Debian machine; ROOTFS=/var/tmp/ar-translate-arm64
#   sudo ARCH=amd64 benchmarks/arm64.sh      # the same on a stock bookworm amd64 root (Debian's python3), natively
#   sudo ARCH=amd64 TEST=1 benchmarks/arm64.sh   # the README's other command, `make test`, in that root instead
#   sudo TEST=1 KEEP=1 TESTS="tests/test_cloud.py" benchmarks/arm64.sh   # a rerun of some tests, no reinstall
#   sudo TEST=1 JOBS=2 benchmarks/arm64.sh   # the tests in 2 processes (pytest-xdist, into the root's .venv only):
#                                            # emulated, the whole suite takes about 4 hours on one core, and
#                                            # test_cloud alone (8 paced fault replays, ~8 min each) over an hour:
#                                            # `--dist load` spreads its tests over the processes
#
# Needs root, debootstrap and qemu-user-static (installed here when missing), binfmt_misc, and the
# network for Debian's mirror and PyPI. The first run builds the root (debootstrap: about 10 minutes
# emulated) and installs everything (`make demo` inside it: apt, pip, the tesserocr build); later runs
# reuse it. Two things emulation needs:
# - qemu-user shows arm64 programs the host's x86 /proc/cpuinfo, and LiteRT (XNNPACK) then crashes in
#   allocate_tensors: an ARM cpuinfo (Cortex-A72, four cores) is bind-mounted over it;
# - QEMU_CPU=cortex-a72, not "max": qemu 7.2's SME emulation makes XNNPACK compute garbage.
# MAX_FRAMES (default: all 300) limits the replay. Prints the per-frame comparison; exit 1 when the
# install or the demo fails inside the root.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
arch=${ARCH:-arm64}
rootfs=${ROOTFS:-/var/tmp/ar-translate-$arch}
mirror=${MIRROR:-http://deb.debian.org/debian}
frames=${MAX_FRAMES:-}
work=$(mktemp -d)
trap 'umount -l "$rootfs/proc/cpuinfo" "$rootfs/proc" "$rootfs/dev" "$rootfs/sys" 2>/dev/null || true; rm -rf "$work"' EXIT

if [ "$arch" = amd64 ]; then emulated=no tools=debootstrap; else emulated=yes tools="debootstrap qemu-user-static binfmt-support"; fi
missing=$(for p in $tools; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
if [ "$emulated" = yes ]; then
  [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || { echo "arm64: no qemu-aarch64 binfmt handler" >&2; exit 1; }
fi
export QEMU_CPU=cortex-a72

if [ ! -x "$rootfs/usr/bin/python3" ]; then
  echo "$arch: building a bookworm $arch root in $rootfs (minutes)"
  debootstrap --arch="$arch" --variant=minbase --include=python3,ca-certificates,make,git,sudo \
    bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
fi

# The repository as committed (no build outputs of this machine), at the same path inside the root.
# KEEP=1 lays it over the last run's tree instead, keeping its .venv and .make stamps (no reinstall:
# for a rerun after a code change that leaves pyproject.toml and the Makefile alone).
if [ -z "${KEEP:-}" ]; then rm -rf "$rootfs/opt/ar-translate"; fi
mkdir -p "$rootfs/opt/ar-translate"
git -C "$repo" archive HEAD | tar -x -C "$rootfs/opt/ar-translate"
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
# this machine's own certificate authorities (a proxy in front of PyPI) are trusted inside too
mkdir -p "$rootfs/usr/local/share/ca-certificates"
cp -r /usr/local/share/ca-certificates/. "$rootfs/usr/local/share/ca-certificates/" 2>/dev/null || true
for core in 0 1 2 3; do
  printf 'processor\t: %s\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n\n' "$core"
done >"$work/cpuinfo"
mount -t proc proc "$rootfs/proc"
[ "$emulated" = no ] || mount --bind "$work/cpuinfo" "$rootfs/proc/cpuinfo"
mount --bind /dev "$rootfs/dev"
mount --bind /sys "$rootfs/sys"

if [ -n "${TEST:-}" ]; then
  # as in CI: ../shared beside the clone (the real camera frames some tests read)
  rm -rf "$rootfs/opt/shared" && [ ! -d "$repo/../shared" ] || cp -r "$repo/../shared" "$rootfs/opt/shared"
  echo "$arch: make test inside the root (Debian's python3), the README's command as written${TESTS:+ (only $TESTS)}"
  # AR_TRANSLATE_EMULATED: the tests that cannot run under qemu-user (Chromium's renderer) say so and skip
  chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root QEMU_CPU=cortex-a72 LANG=C.UTF-8 \
    AR_TRANSLATE_EMULATED="$emulated" PYTEST_ADDOPTS="-rf --durations=15 ${JOBS:+-n $JOBS --dist load} ${TESTS:-}" \
    bash -c "update-ca-certificates >/dev/null 2>&1; cd /opt/ar-translate && \
      ${JOBS:+make deps-test && .venv/bin/python3 -m pip install -q pytest-xdist && }make test" \
    >"$rootfs/opt/make-test.log" 2>&1 && status=0 || status=$?
  # the whole log stays in the root; the summary lists every failure by name
  tail -40 "$rootfs/opt/make-test.log"
  echo "$arch: whole log in $rootfs/opt/make-test.log"
  exit "$status"
fi

limit=${frames:+--max-frames $frames}
echo "$arch: make demo inside the root (Debian's python3), the README's command as written"
chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root QEMU_CPU=cortex-a72 LANG=C.UTF-8 \
  bash -c "update-ca-certificates >/dev/null 2>&1; cd /opt/ar-translate && \
    if [ -n '$limit' ]; then make deps && mkdir -p out && .venv/bin/python3 -m edge replay edge/assets/demo_de.mp4 \
      --source de --target en --offline --events out/demo.events.jsonl $limit; else make demo; fi" | tail -5
cp "$rootfs/opt/ar-translate/out/demo.events.jsonl" "$work/arm64.jsonl"

echo "$arch: the same demo on this machine ($(uname -m))"
host_python=$repo/.venv/bin/python3  # the README's install puts the packages there (make demo)
[ -x "$host_python" ] || host_python=python3
(cd "$repo" && "$host_python" -m edge replay edge/assets/demo_de.mp4 --source de --target en --offline \
  --events "$work/host.jsonl" $limit >/dev/null)
python3 - "$work/host.jsonl" "$work/arm64.jsonl" "$arch" <<'EOF'
import json
import sys

def frames(path):
    records = [json.loads(line) for line in open(path, encoding="utf-8")]
    return {r["frame"]: sorted((g["text"], g["translation"]) for g in r["regions"]) for r in records if r.get("type") == "frame"}

host, arm = frames(sys.argv[1]), frames(sys.argv[2])
same = sum(host[i] == arm.get(i) for i in host)
arch = sys.argv[3]
print(f"{arch} root vs this machine: {same} of {len(host)} frames show the same texts and translations")
for i in sorted(host):
    if host[i] != arm.get(i):
        print(f"  frame {i}: here {host[i]}  {arch} {arm.get(i)}")
EOF
