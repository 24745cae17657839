#!/bin/sh
# Tools `npm run chaos` needs beyond Node: tshark (Debian's package) for the
# capture check. Non-interactive; run as root (or with sudo).
set -eu
if command -v tshark >/dev/null 2>&1; then
	echo "tshark is installed: $(command -v tshark)"
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# Answer the "may non-root users capture" question up front, so nothing prompts.
echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections 2>/dev/null || true
apt-get update
apt-get install -y --no-install-recommends tshark
