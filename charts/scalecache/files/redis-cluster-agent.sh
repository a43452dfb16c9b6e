#!/bin/sh
# Redis Cluster agent: runs beside redis-server in every pod of the chart's
# Redis Cluster StatefulSet (templates/redis-cluster.yaml) and makes the
# cluster without manual steps:
#
#   create  pod 0, when every pod answers and none is in a cluster yet (a new
#           release, or all pods replaced at once: it is a cache), runs
#           `redis-cli --cluster create` with REPLICAS replicas per master;
#   join    a pod that is alone (a replaced pod: new IP, empty nodes.conf)
#           asks a pod that is in the cluster to CLUSTER MEET it, then
#           replicates the master with the fewest replicas (so a master
#           whose replica was promoted gets one again);
#   adopt   a slotless master that stays slotless (an interrupted join)
#           replicates the master with the fewest replicas too;
#   spread  a replica whose master has others moves to a master that has
#           none (after a failover Redis may leave one master without);
#   forget  a node marked failed, without slots and without replicas (its
#           failover is over) whose address no pod of the set has any more
#           (its pod was replaced) is forgotten by this pod's server; every
#           pod's agent does the same, so the whole cluster forgets it. A node
#           whose pod still has its address (a restarted container keeps its
#           IP and nodes.conf) is left alone: it comes back by itself.
#
# Environment: STS (StatefulSet name), HEADLESS (its headless Service),
# NAMESPACE (or PEER_HOSTS, the pods' names or addresses in order), SIZE (pods),
# SELF (this pod's server, default 127.0.0.1), REPLICAS (per master), POD_NAME, POD_IP,
# REDISCLI_AUTH (redis-cli reads it), PERIOD (seconds, default 2),
# ALIVE_FILE (touched every round; the liveness probe reads its age).
#
# `redis-cluster-agent.sh --once` runs one round (tests); deploy/compose's
# cluster override uses `redis-cluster-agent.sh --create-only HOST...`.
set -u

PERIOD=${PERIOD:-2}
JOIN_AFTER=${JOIN_AFTER:-5}   # rounds alone before joining an existing cluster
SELF=${SELF:-127.0.0.1}   # this pod's own redis-server
ALIVE_FILE=${ALIVE_FILE:-/tmp/agent-alive}
log() { echo "$(date -u +%H:%M:%S) cluster-agent: $*"; }
rc() { h=$1; shift; timeout 5 redis-cli -h "$h" -p 6379 "$@" 2>/dev/null | tr -d '\r'; }
info_field() { echo "$1" | sed -n "s/^$2://p"; }
# peer I: pod I's stable name (PEER_HOSTS, a space-separated list, replaces
# them where there is no headless Service: compose, tests).
peer() {
  if [ -n "${PEER_HOSTS:-}" ]; then echo "$PEER_HOSTS" | awk -v i="$(($1 + 1))" '{ print $i }'
  else echo "$STS-$1.$HEADLESS.$NAMESPACE.svc"; fi
}
ip_of() {
  case $1 in
    *[!0-9.]*)
      # getent (Debian's libc-bin; Alpine's musl-utils), else busybox nslookup.
      if command -v getent >/dev/null 2>&1; then getent hosts "$1" | awk '{ print $1; exit }'
      else nslookup "$1" 2>/dev/null | awk '/^Address/ && $NF !~ /:/ { a = $NF } END { if (a) print a }'; fi ;;
    *) echo "$1" ;;
  esac
}

# create HOST:PORT...: a new cluster of these nodes.
create() {
  log "creating the cluster: $* ($REPLICAS replica(s) per master)"
  timeout 120 redis-cli --cluster create "$@" --cluster-replicas "$REPLICAS" --cluster-yes </dev/null
}

# replicate_least_served: this node becomes a replica of the master (with
# slots, not failing) that has the fewest healthy replicas.
replicate_least_served() {
  target=$(rc "$SELF" CLUSTER NODES | awk '
    $3 ~ /master/ && $3 !~ /fail/ && NF > 8 { slots[$1] = 1; n[$1] += 0 }
    $3 ~ /slave/ && $3 !~ /fail/ { n[$4]++ }
    END { best = ""; for (m in slots) if (best == "" || n[m] < n[best]) best = m; print best }')
  [ -n "$target" ] || return 1
  log "replicating master $target"
  [ "$(rc "$SELF" CLUSTER REPLICATE "$target")" = OK ]
}

# orphan_to_serve: when this node is a replica, its master has two or more
# healthy replicas, this node has the highest id among them (so one moves,
# not all) and a master has none: that master's id.
orphan_to_serve() {
  rc "$SELF" CLUSTER NODES | awk '
    $3 ~ /myself/ { self = $1; mine = $4; role = $3 }
    $3 ~ /master/ && $3 !~ /fail/ && NF > 8 { slots[$1] = 1; n[$1] += 0 }
    $3 ~ /slave/ && $3 !~ /fail/ { n[$4]++; reps[$4] = reps[$4] " " $1 }
    END {
      if (role !~ /slave/ || n[mine] < 2) exit
      k = split(reps[mine], r, " "); for (i = 1; i <= k; i++) if (r[i] > self) exit
      for (m in slots) if (n[m] == 0) { print m; exit }
    }'
}

# forget_replaced: forget failed nodes whose address no current pod has.
forget_replaced() {
  # Only once the failover is over: the failed node holds no slot and no node
  # replicates it (forgetting a failed master earlier stops its failover).
  rc "$SELF" CLUSTER NODES | awk '
    { master[$4] = 1 }
    $3 ~ /fail/ && $3 !~ /fail\?/ && $3 !~ /myself/ && NF <= 8 { split($2, a, ":"); cand[$1] = a[1] }
    END { for (id in cand) if (!(id in master)) print id, cand[id] }' |
    while read -r id ip; do
      if [ -n "$ip" ] && [ "$(rc "$ip" CLUSTER MYID)" = "$id" ]; then continue; fi  # back, same node
      current=""
      i=0
      while [ "$i" -lt "$SIZE" ]; do
        [ "$(ip_of "$(peer "$i")")" = "$ip" ] && current=yes
        i=$((i + 1))
      done
      if [ -z "$current" ] || [ -z "$ip" ]; then
        log "forgetting failed node $id (${ip:-no address}: no pod has that address now)"
        rc "$SELF" CLUSTER FORGET "$id" >/dev/null
      fi
    done
}

slotless_rounds=0 alone_rounds=0
round() {
  info=$(rc "$SELF" CLUSTER INFO)
  [ -n "$info" ] || return 0   # redis-server not up yet
  known=$(info_field "$info" cluster_known_nodes)
  ordinal=${POD_NAME##*-}
  if [ "$known" = 1 ] && [ "$(info_field "$info" cluster_slots_assigned)" = 0 ]; then
    # Alone: join a cluster if one exists, else (pod 0) create it when all are up and alone.
    # A join waits JOIN_AFTER rounds: `--cluster create` running elsewhere
    # meets this node within a second or two, and must not be raced.
    alone_rounds=$((alone_rounds + 1))
    alone=0 i=0 hosts=""
    while [ "$i" -lt "$SIZE" ]; do
      if [ "$i" != "$ordinal" ] && [ "$alone_rounds" -ge "$JOIN_AFTER" ]; then
        pinfo=$(rc "$(peer "$i")" CLUSTER INFO)
        pknown=$(info_field "$pinfo" cluster_known_nodes)
        if [ -n "$pknown" ] && [ "$pknown" -gt 1 ] && [ "$(info_field "$pinfo" cluster_slots_assigned)" -gt 0 ]; then
          log "alone; $(peer "$i") is in a cluster: asking it to meet $POD_IP"
          rc "$(peer "$i")" CLUSTER MEET "$POD_IP" 6379 >/dev/null
          j=0
          while [ "$j" -lt 30 ]; do   # bounded: 30 x 1 s, then the next round
            sleep 1
            [ "$(info_field "$(rc "$SELF" CLUSTER INFO)" cluster_slots_assigned)" = 16384 ] && break
            j=$((j + 1))
          done
          replicate_least_served || log "join: no master to replicate yet"
          return 0
        fi
      fi
      [ "$i" != "$ordinal" ] && [ "$(info_field "$(rc "$(peer "$i")" CLUSTER INFO)" cluster_known_nodes)" = 1 ] && alone=$((alone + 1))
      i=$((i + 1))
    done
    if [ "$ordinal" = 0 ] && [ "$alone" = $((SIZE - 1)) ]; then
      i=0
      while [ "$i" -lt "$SIZE" ]; do
        ip=$(ip_of "$(peer "$i")")
        [ -n "$ip" ] || { log "create: $(peer "$i") has no address yet"; return 0; }
        hosts="$hosts $ip:6379"
        i=$((i + 1))
      done
      # shellcheck disable=SC2086  # one argument per node
      create $hosts || log "create failed; retrying next round"
    fi
    return 0
  fi
  alone_rounds=0
  me=$(rc "$SELF" CLUSTER NODES | awk '$3 ~ /myself/')
  case $me in
    *master*)
      if [ "$(echo "$me" | awk '{ print NF }')" -le 8 ] && [ "$(info_field "$info" cluster_state)" = ok ]; then
        slotless_rounds=$((slotless_rounds + 1))
        # `--cluster create` meets the nodes before it assigns replicas: give it time.
        [ "$slotless_rounds" -ge 10 ] && { replicate_least_served && slotless_rounds=0; }
      else
        slotless_rounds=0
      fi ;;
    *slave*)
      slotless_rounds=0
      orphan=$(orphan_to_serve)
      if [ -n "$orphan" ]; then
        log "master $orphan has no replica, mine has others: replicating $orphan"
        rc "$SELF" CLUSTER REPLICATE "$orphan" >/dev/null
      fi ;;
    *) slotless_rounds=0 ;;
  esac
  forget_replaced
}

case "${1:-}" in
  --create-only)
    # One-shot (deploy/compose/redis-cluster.yaml): wait until every HOST:PORT
    # answers, do nothing if the first is already in a cluster, else create.
    shift
    addrs="" tries=0
    for hp in "$@"; do
      until [ "$(timeout 5 redis-cli -h "${hp%:*}" -p "${hp##*:}" PING 2>/dev/null)" = PONG ]; do
        tries=$((tries + 1)); [ "$tries" -le 120 ] || { log "$hp never answered"; exit 1; }
        sleep 1
      done
      addrs="$addrs $(ip_of "${hp%:*}"):${hp##*:}"
    done
    first=${1%:*}
    if [ "$(timeout 5 redis-cli -h "$first" -p "${1##*:}" CLUSTER INFO | tr -d '\r' | sed -n 's/^cluster_known_nodes://p')" != 1 ]; then
      log "$1 is in a cluster already: nothing to do"; exit 0
    fi
    # shellcheck disable=SC2086  # one argument per node
    create $addrs
    exit ;;
  --once)
    round
    exit 0 ;;
esac

# PID 1 of its container: without a handler SIGTERM would be ignored and the
# pod would wait out its whole grace period.
trap 'exit 0' TERM INT
log "started: $POD_NAME ($POD_IP), $SIZE pods, $REPLICAS replica(s) per master"
while :; do
  round
  touch "$ALIVE_FILE"
  sleep "$PERIOD"
done
