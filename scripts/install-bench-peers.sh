#!/bin/sh
# The peers `npm run bench` measures Parley against, from Debian's packages:
# ngircd (a C IRC server) and redis-server (pub/sub). Idempotent and
# non-interactive; run as root (or with sudo).
#
# The bench starts its own ngircd and redis-server, each with its own config
# in a temporary directory on a free 127.0.0.1 port, and stops them by pid.
# It never uses a system-wide instance, so none is started here: the
# packages' services are kept from starting during the install, and a newly
# installed ngircd service is disabled.
set -eu

missing=''
command -v ngircd >/dev/null 2>&1 || [ -x /usr/sbin/ngircd ] || missing="$missing ngircd"
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"

if [ -z "$missing" ]; then
	echo "bench peers installed: $(command -v ngircd || echo /usr/sbin/ngircd), $(command -v redis-server)"
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive
# Debian's way to keep maintainer scripts from starting services (exit 101:
# "action forbidden"). Put back whatever was there before.
policy=/usr/sbin/policy-rc.d
saved=''
if [ -e "$policy" ]; then
	saved=$(mktemp)
	cp -p "$policy" "$saved"
fi
restore() {
	if [ -n "$saved" ]; then
		mv "$saved" "$policy"
	else
		rm -f "$policy"
	fi
}
trap restore EXIT
printf '#!/bin/sh\nexit 101\n' >"$policy"
chmod 755 "$policy"

apt-get update
# shellcheck disable=SC2086 # one word per package
apt-get install -y --no-install-recommends $missing

# Where systemd runs, keep the packaged IRC service from starting at boot: the
# bench runs its own. (A system redis-server is left as Debian set it up; the
# tests of the broker use the one on 6379.)
case "$missing" in *ngircd*)
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		systemctl disable --now ngircd >/dev/null 2>&1 || true
	fi
	;;
esac
echo "bench peers installed: $(command -v ngircd || echo /usr/sbin/ngircd), $(command -v redis-server)"
