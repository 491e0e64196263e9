#!/usr/bin/env bash
# Regenerates the *.expected fixtures of test/netfilter.print.test.ts from the
# real binaries (iptables 1.8.9 nf_tables, ipset 7.17), each input loaded into
# a fresh network namespace that is removed afterwards. Run as root:
#   sudo test/scenarios/netfilter/capture.sh
# Each expected file holds "### <command>" sections; iptables-save's
# "# Generated/Completed" lines are dropped (they carry the date).
set -euo pipefail
cd "$(dirname "$0")"
CMDS=(
  "iptables-save"
  "iptables-save -c"
  "iptables -t filter -S"
  "iptables -t nat -S"
  "iptables -t filter -L -n -v"
  "iptables -t nat -L -n -v"
  "iptables -t filter -L"
  "iptables -t nat -L --line-numbers"
  "iptables -t nat -L -v -x -n --line-numbers"
  "iptables -t nat -L -v"
)
for rules in *.rules; do
  ns="nfcap$$"
  ip netns add "$ns"
  trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
  ip netns exec "$ns" ipset create KUBE-CLUSTER-IP hash:ip,port
  ip netns exec "$ns" nfacct add ct_state_invalid_dropped_pkts
  ip netns exec "$ns" iptables-restore < "$rules"
  out="${rules%.rules}.expected"
  : > "$out"
  for c in "${CMDS[@]}"; do
    echo "### $c" >> "$out"
    # shellcheck disable=SC2086
    ip netns exec "$ns" $c | grep -v '^# \(Generated\|Completed\)' >> "$out"
  done
  ip netns del "$ns"
  trap - EXIT
done

# Error texts: one case per line of errors.cases ("restore|<printf input>" or "cmd|<iptables args>").
ns="nfcap$$"; ip netns add "$ns"; trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
ip netns exec "$ns" iptables -N EXISTING
ip netns exec "$ns" iptables -N USED
ip netns exec "$ns" iptables -A INPUT -j USED
: > errors.expected
while IFS='|' read -r kind arg; do
  [ -z "$kind" ] && continue
  echo "### $kind|$arg" >> errors.expected
  set +e
  if [ "$kind" = restore ]; then
    printf -- "$arg" | ip netns exec "$ns" iptables-restore --noflush 2>&1 >/dev/null; rc=$?
  else
    # shellcheck disable=SC2086
    ip netns exec "$ns" iptables $arg 2>&1 >/dev/null; rc=$?
  fi
  set -e
  echo "### rc=$rc" >> errors.expected
done < errors.cases >> errors.expected 2>&1
