#!/usr/bin/env bash
# deploy/check.py can fail: on a copy of deploy/ with a flag the binary lacks, a
# secret nobody defines and a probe on the wrong port, it names all three.
set -euo pipefail
root="$1" build="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp -r "$root/deploy" "$tmp/deploy"
mkdir -p "$tmp/gateway" && cp "$root/gateway/policy.txt" "$tmp/gateway/"
/usr/bin/python3 "$tmp/deploy/check.py" "$build" >/dev/null
sed -i 's/--drain_timeout=10s/--drain_timeout=10s --no_such_flag=1/' "$tmp/deploy/systemd/funnel-gateway.service"
sed -i 's/key: marketing-password}/key: marketing-passwd}/' "$tmp/deploy/kubernetes/marketing.yaml"
sed -i '0,/grpc: {port: 50053}/s//grpc: {port: 50099}/' "$tmp/deploy/kubernetes/sales.yaml"
if out="$(/usr/bin/python3 "$tmp/deploy/check.py" "$build")"; then
  echo "check.py passed a broken deploy/"; exit 1
fi
for want in "gateway has no flag --no_such_flag" "secret funnel-db has no key marketing-passwd" \
            "readinessProbe does not probe the gRPC port"; do
  grep -qF "$want" <<<"$out" || { echo "check.py did not say: $want"; echo "$out"; exit 1; }
done
