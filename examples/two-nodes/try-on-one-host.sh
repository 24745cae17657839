#!/usr/bin/env sh
# Two nodes of one cluster on this host, on the loopback MariaDB (root, no
# password, database `test`) and Redis (6379): ports 7667/7668 and 7677/7678,
# metrics on 9464 and 9474. Stop with Ctrl+C (both nodes stop).
# Then: parley 'tcp://127.0.0.1:7668,127.0.0.1:7678/#general'
set -eu
db=${PARLEY_DB_URL:-mysql://root@127.0.0.1:3306/test}
redis=${PARLEY_REDIS_URL:-redis://127.0.0.1:6379}
dir=$(mktemp -d)
trap 'kill 0' INT TERM EXIT
npx parley serve --db "$db" --redis "$redis" --node-name a --allow-register \
	--udp-port 7667 --tcp-port 7668 --metrics-port 9464 --data-dir "$dir/a" &
# B serves A's certificate (made at A's first start), so one pin fits both.
while [ ! -f "$dir/a/tls-key.pem" ]; do sleep 0.2; done
npx parley serve --db "$db" --redis "$redis" --node-name b --allow-register \
	--udp-port 7677 --tcp-port 7678 --metrics-port 9474 --data-dir "$dir/b" \
	--tls-cert "$dir/a/tls-cert.pem" --tls-key "$dir/a/tls-key.pem" &
wait
