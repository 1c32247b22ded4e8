# nspair.sh: sourced by the bench scripts. Two network namespaces joined by
# a veth pair, addressed 10.77.<net>.1 and fd77:<net>::1 (side A, the
# server), 10.77.<net>.2 and fd77:<net>::2 (side B, the client).
#
#   nspair_up NET    creates them; names come from $A $B $VA $VB
#   nspair_down      deletes both namespaces (and with them the veth pair)

nspair_up() {
  local net=$1
  ip netns add "$A"
  ip netns add "$B"
  ip link add "$VA" type veth peer name "$VB"
  ip link set "$VA" netns "$A"
  ip link set "$VB" netns "$B"
  ip -n "$A" addr add "10.77.$net.1/24" dev "$VA"
  ip -n "$B" addr add "10.77.$net.2/24" dev "$VB"
  ip -n "$A" addr add "fd77:$net::1/64" dev "$VA" nodad
  ip -n "$B" addr add "fd77:$net::2/64" dev "$VB" nodad
  for ns in "$A" "$B"; do ip -n "$ns" link set lo up; done
  ip -n "$A" link set "$VA" up
  ip -n "$B" link set "$VB" up
  # The client's own TIME_WAIT must not slow it down
  # (see shared/reference/netstack.md): a wide range, and reuse.
  ip netns exec "$B" sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="10000 65535"
}

nspair_down() {
  ip netns del "$A" 2>/dev/null || true
  ip netns del "$B" 2>/dev/null || true
}
