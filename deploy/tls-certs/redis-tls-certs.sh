#!/bin/sh
# Certificates for deploy/compose/redis-tls.yaml: a CA and a server
# certificate for redis-server's TLS port, made with openssl by the overlay's
# one-shot `redis-tls-certs` container (deploy/tls-certs/Dockerfile).
#
#   redis-tls-certs.sh [SERVER_DIR [CA_DIR]]    (default /tls/server /tls/ca)
#
# SERVER_DIR gets tls.crt and tls.key (mounted into redis only), CA_DIR gets
# ca.crt (mounted into the replicas and workers, which verify the server
# against it: scalecache's redis.tls.ca_file).
# When all three exist they are used as they are (your own, or the ones made
# by an earlier run); when some exist and others do not, nothing is written
# and it fails (never overwrites a file it did not make). The server
# certificate is for REDIS_TLS_SERVER_NAME (default redis), the name
# scalecache checks (redis.tls.server_name). The CA's key is thrown away after signing: nothing else is ever
# signed by it, and no key that could sign a server sits in a volume.
set -eu

server_dir=${1:-/tls/server}
ca_dir=${2:-/tls/ca}
name=${REDIS_TLS_SERVER_NAME:-redis}
days=${REDIS_TLS_DAYS:-825}

have="" missing=""
for f in "$server_dir/tls.crt" "$server_dir/tls.key" "$ca_dir/ca.crt"; do
  if [ -e "$f" ]; then have="$have $f"; else missing="$missing $f"; fi
done
if [ -z "$missing" ]; then
  echo "redis-tls-certs: using the existing$have"
  exit 0
fi
if [ -n "$have" ]; then
  echo "redis-tls-certs: found$have but not$missing; provide all three or none (then they are made)" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
ssl() { openssl "$@" 2>openssl.log || { cat openssl.log >&2; exit 1; }; }
ssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$days" \
  -subj "/CN=scalecache compose Redis CA" -keyout ca.key -out ca.crt
ssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" -keyout tls.key -out tls.csr
printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n' "$name" >tls.ext
ssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days "$days" -extfile tls.ext -out tls.crt
# Readable by any user: redis-server runs as its image's own user (uid 999 in
# the official image, another in Debian's), and only the redis container
# mounts SERVER_DIR.
chmod 0444 tls.key tls.crt ca.crt

# Each file lands whole (a rename within its directory); ca.crt last, so an
# interrupted run leaves a partial set that the next run reports, not a CA
# for a server key that was never written.
install -d "$server_dir" "$ca_dir"
for f in "$server_dir/tls.key" "$server_dir/tls.crt" "$ca_dir/ca.crt"; do
  cp -p "$(basename "$f")" "$f.new" && mv "$f.new" "$f"
done
echo "redis-tls-certs: made a CA ($ca_dir/ca.crt) and a certificate for $name ($server_dir/tls.crt), valid $days days"
