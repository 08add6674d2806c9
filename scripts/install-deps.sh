#!/bin/sh
# Installs the Debian 12 packages Sluice needs to build, test and run.
# Usage: scripts/install-deps.sh [build|test|conformance|fuzz|bench]   (default: test)
# As root it runs apt-get; otherwise it prints the exact command and stops.
set -eu
what=${1:-test}
pkgs="gcc g++ make cmake pkg-config git openssh-client ca-certificates
libgit2-dev libyaml-dev libcurl4-openssl-dev libjansson-dev libsqlite3-dev libssl-dev"
# systemd: systemd-analyze for the unit tests (t0010); nodejs: npm installs
# Litestream into the build directory for the standby test (t0910);
# prometheus: promtool checks the daemon's metrics file (t0906)
test_pkgs="libcmocka-dev sqlite3 jq curl procps python3 openssl chromium systemd nodejs prometheus"
case $what in
build) ;;
test) pkgs="$pkgs $test_pkgs" ;;
# the test set, plus unshare/mount for the Codex CLI's private /etc/codex
# (tests/conformance/run.sh); npm comes with nodejs below
conformance) pkgs="$pkgs $test_pkgs util-linux mount" ;;
fuzz) pkgs="$pkgs libcmocka-dev clang libclang-rt-14-dev" ;;
bench) pkgs="$pkgs sqlite3 jq time python3 openssl git" ;;
*) echo "install-deps: unknown set '$what' (build, test, conformance, fuzz, bench)" >&2; exit 129 ;;
esac
missing=
for p in $pkgs; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case $st in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
done
# npm is its own Debian package, but a nodejs from elsewhere (NodeSource)
# ships it inside and conflicts with Debian's: only ask for it when absent
case " $pkgs " in *" nodejs "*) command -v npm >/dev/null 2>&1 || missing="$missing npm" ;; esac
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing" >&2
	echo "install-deps: run as root: apt-get install -y$missing" >&2
	exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
