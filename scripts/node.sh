#!/usr/bin/env bash
# A single-node Kubernetes cluster inside a mount + network namespace of its own.
#
#   scripts/node.sh up DIR             build what is missing (cached), start a node in DIR;
#                                      prints DIR/kubeconfig (the host reaches the API server
#                                      through a loopback relay on 127.0.0.1)
#   scripts/node.sh load DIR IMAGE.tar import an OCI image tarball into the node's containerd
#   scripts/node.sh exec DIR CMD...    run CMD in the node's namespaces (curl a ClusterIP)
#   scripts/node.sh down DIR           stop everything and remove what `up` made (DIR too)
#
# Nothing reaches the host: the node's network namespace has no link out (pods, Services and
# the node IP exist only there), /run and /var are tmpfs in its mount namespace (kubelet,
# CNI and containerd write fixed paths there), the three kernel tunables the kubelet insists
# on are bind-mounted files in that namespace, and every process runs in cgroups made under
# the caller's own, removed on `down`. Binaries: scripts/envtest.sh (etcd, kube-apiserver)
# and scripts/node-build.sh (the node parts, containerd, runc, CNI). ../docs: README "Tests".
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NODE_NAME=kcnode
NODE_IP=198.19.0.1            # on the bridge; RFC 2544 test range, only inside the namespace
POD_CIDR=198.19.0.0/17
SERVICE_CIDR=198.19.128.0/24
SERVICE_IP=198.19.128.1       # the `kubernetes` Service
BRIDGE=kcbr0
PAUSE_IMAGE="$(bash "${HERE}/node-build.sh" --pause-image)"

log() { printf '[node] %s\n' "$*" >&2; }
die() { printf '[node] ERROR: %s\n' "$*" >&2; exit 1; }

# ------------------------------------------------------------------------- state helpers
# DIR/state holds KEY=VALUE lines (holder pid, relay port, cgroup base); DIR/pids/NAME one pid.
state_get() { sed -n "s/^$1=//p" "${D}/state" 2>/dev/null | tail -1; }
state_set() { echo "$1=$2" >>"${D}/state"; }
in_node() { nsenter -t "$(state_get holder)" -m -n -- "$@"; }
ctr_node() { in_node ctr --address "${D}/containerd/containerd.sock" -n k8s.io "$@"; }

# Start a daemon: in the daemons cgroup (so `down` finds every child, shims included), in the
# node's namespaces (unless `host` is the first word), logging to DIR/logs/NAME.log.
start() {
  local name="$1"; shift
  local wrap=(nsenter -t "$(state_get holder)" -m -n --)
  if [[ "$1" == host ]]; then wrap=(); shift; fi
  setsid bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$(state_get daemon_cgroup)" \
    "${wrap[@]}" "$@" </dev/null >"${D}/logs/${name}.log" 2>&1 &
  echo $! >"${D}/pids/${name}"
  disown
}

wait_for() {  # wait_for SECONDS WHAT CMD...: retry CMD until it succeeds
  local limit="$1" what="$2" i; shift 2
  for ((i = 0; i < limit * 4; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.25
  done
  die "${what} not ready after ${limit}s (logs: ${D}/logs)"
}

# ------------------------------------------------------------------------- cgroups
# The kubelet's cgroupRoot and the daemons live under the caller's memory cgroup (the one the
# machine tracks), in every v1 hierarchy; created dirs are recorded so `down` removes them.
cgroup_setup() {
  local base h rel
  base="$(sed -n 's/^[0-9]*:memory://p' /proc/self/cgroup)/${NODE_NAME}-$$"
  base="${base#/}"; base="/${base}"
  state_set cgroup_base "${base}"
  for h in /sys/fs/cgroup/*/; do
    h="${h%/}"
    [[ -e "${h}/cgroup.procs" && "${h}" != */unified ]] || continue
    for rel in "${base}" "${base}/daemons" "${base}/pods"; do cgroup_mkdirs "${h}" "${rel}"; done
  done
  state_set daemon_cgroup "/sys/fs/cgroup/memory${base}/daemons"
}

cgroup_mkdirs() {  # cgroup_mkdirs HIERARCHY PATH: mkdir -p, copying cpuset values down
  local h="$1" path="" part
  IFS=/ read -ra parts <<<"${2#/}"
  for part in "${parts[@]}"; do
    local parent="${h}${path}"; path="${path}/${part}"
    [[ -d "${h}${path}" ]] && continue
    mkdir "${h}${path}"
    echo "${h}${path}" >>"${D}/cgroups"
    if [[ -e "${h}${path}/cpuset.cpus" ]]; then
      cat "${parent}/cpuset.cpus" >"${h}${path}/cpuset.cpus"
      cat "${parent}/cpuset.mems" >"${h}${path}/cpuset.mems"
    fi
  done
}

# ------------------------------------------------------------------------- up
up() {
  [[ -e "${D}/state" ]] && die "${D} already holds a node (run down first)"
  trap 'up_failed $?' EXIT
  command -v kubectl >/dev/null || die "kubectl is not on PATH"
  local envtest bin
  envtest="$(bash "${HERE}/envtest.sh" | tail -1)"
  bin="$(bash "${HERE}/node-build.sh" | tail -1)"
  mkdir -p "${D}"/{logs,pids,pki,etc,sysctl,containerd,cni/net.d,kubelet-plugins}
  : >"${D}/state"; : >"${D}/cgroups"
  state_set envtest "${envtest}"; state_set bin "${bin}"
  cgroup_setup
  namespaces
  D="${D}" CGROUP_ROOT="$(state_get cgroup_base)/pods" RELAY_PORT="$(state_get relay_port)" \
    NODE_NAME="${NODE_NAME}" NODE_IP="${NODE_IP}" POD_CIDR="${POD_CIDR}" BRIDGE="${BRIDGE}" \
    SERVICE_CIDR="${SERVICE_CIDR}" SERVICE_IP="${SERVICE_IP}" PAUSE_IMAGE="${PAUSE_IMAGE}" \
    bash "${HERE}/node-config.sh" || die "writing the node's configuration failed"
  start_daemons "${envtest}" "${bin}"
  trap - EXIT
  log "node ${NODE_NAME} Ready; KUBECONFIG=${D}/kubeconfig"
  echo "${D}/kubeconfig"
}

own_netns() { [[ "$(readlink "/proc/$1/ns/net")" != "$(readlink /proc/self/ns/net)" ]]; }

up_failed() {  # the EXIT trap of a failed `up`: show the logs' tails, then leave nothing behind
  [[ "$1" == 0 ]] && return 0
  local f
  for f in "${D}"/logs/*.log; do
    [[ -s "${f}" ]] && { printf '[node] --- %s (last 15 lines)\n' "${f##*/}" >&2; tail -15 "${f}" >&2; }
  done
  log "up failed: tearing down"
  down
}

namespaces() {
  # the holder keeps both namespaces alive; everything else joins it with nsenter
  setsid bash -c 'echo $$ >"$0/cgroup.procs" && exec unshare --mount --net \
    --propagation private sleep infinity' "$(state_get daemon_cgroup)" </dev/null \
    >/dev/null 2>&1 &
  state_set holder $!
  echo $! >"${D}/pids/holder"
  disown
  wait_for 5 "namespace holder" own_netns "$(state_get holder)"
  printf '1\n' >"${D}/sysctl/overcommit_memory"
  printf '10\n' >"${D}/sysctl/panic"
  printf '1\n' >"${D}/sysctl/panic_on_oops"
  in_node bash -euc '
    D=$1 NODE_IP=$2 BRIDGE=$3 SERVICE_CIDR=$4
    for d in /run /var; do mount -t tmpfs -o mode=755 "node-$d" "$d"; done
    mkdir -p /run/lock /var/lib /var/log /var/tmp && chmod 1777 /var/tmp
    ln -s ../run /var/run && ln -s ../run/lock /var/lock
    mount --bind "$D/sysctl/overcommit_memory" /proc/sys/vm/overcommit_memory
    mount --bind "$D/sysctl/panic" /proc/sys/kernel/panic
    mount --bind "$D/sysctl/panic_on_oops" /proc/sys/kernel/panic_on_oops
    ip link set lo up
    ip link add "$BRIDGE" type bridge && ip addr add "$NODE_IP/17" dev "$BRIDGE"
    ip link set "$BRIDGE" up
    ip route add "$SERVICE_CIDR" dev "$BRIDGE" src "$NODE_IP"
  ' _ "${D}" "${NODE_IP}" "${BRIDGE}" "${SERVICE_CIDR}"
  state_set relay_port "$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
}

start_daemons() {
  local envtest="$1" bin="$2" etc="${D}/etc" pki="${D}/pki"
  start relay host socat "TCP-LISTEN:$(state_get relay_port),bind=127.0.0.1,fork,reuseaddr" \
    "EXEC:nsenter -t $(state_get holder) -n socat STDIO TCP\:127.0.0.1\:6443"
  start containerd containerd --config "${etc}/containerd.toml"
  start etcd "${envtest}/etcd" --data-dir "${D}/etcd" --unsafe-no-fsync --log-level warn \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380
  # shellcheck disable=SC2046 # one flag per line
  start kube-apiserver "${envtest}/kube-apiserver" $(cat "${etc}/apiserver.flags")
  wait_for 90 "kube-apiserver" kubectl --kubeconfig "${D}/kubeconfig" get --raw /readyz
  start kube-controller-manager "${bin}/kube-controller-manager" --kubeconfig "${etc}/node.kubeconfig" \
    --leader-elect=false --service-account-private-key-file "${pki}/sa.key" \
    --root-ca-file "${pki}/ca.crt" --flex-volume-plugin-dir "${D}/kubelet-plugins" \
    --bind-address 127.0.0.1 --controllers '*,-nodeipam,-cloud-node-lifecycle'
  start kube-scheduler "${bin}/kube-scheduler" --kubeconfig "${etc}/node.kubeconfig" \
    --leader-elect=false --bind-address 127.0.0.1
  wait_for 30 "containerd" ctr_node version
  import "${bin}/pause-image.tar"
  start kubelet "${bin}/kubelet" --config "${etc}/kubelet.yaml" --kubeconfig "${etc}/node.kubeconfig" \
    --hostname-override "${NODE_NAME}" --node-ip "${NODE_IP}" --v=1
  start kube-proxy "${bin}/kube-proxy" --config "${etc}/kube-proxy.yaml" --v=1
  wait_for 120 "node ${NODE_NAME}" kubectl --kubeconfig "${D}/kubeconfig" wait \
    --for=condition=Ready "node/${NODE_NAME}" --timeout=1s
  wait_for 60 "default ServiceAccount" kubectl --kubeconfig "${D}/kubeconfig" get sa default
}

import() {  # import IMAGE.tar: into containerd's k8s.io namespace, unpacked
  [[ -f "$1" ]] || die "no image tarball $1"
  ctr_node images import --platform linux/amd64 "$1" >&2 || die "ctr images import $1 failed"
}

# ------------------------------------------------------------------------- down
down() {
  # best effort, every step: one that fails must not keep the next from cleaning up
  set +e
  [[ -e "${D}/state" ]] || { rm -rf "${D}"; return 0; }
  local holder; holder="$(state_get holder)"
  stop_pid kubelet; stop_pid kube-proxy
  if [[ -n "${holder}" && -e "/proc/${holder}" && -S "${D}/containerd/containerd.sock" ]]; then
    remove_containers
  fi
  stop_pid containerd
  kill_cgroups
  local name
  for name in kube-scheduler kube-controller-manager kube-apiserver etcd relay holder; do
    stop_pid "${name}"
  done
  kill_cgroups
  remove_cgroups
  rm -rf "${D}"
}

remove_containers() {
  local id
  for id in $(ctr_node tasks list -q 2>/dev/null); do
    ctr_node tasks kill -s SIGKILL "${id}" >/dev/null 2>&1 || true
  done
  sleep 0.5
  for id in $(ctr_node containers list -q 2>/dev/null); do
    ctr_node tasks delete -f "${id}" >/dev/null 2>&1 || true
    ctr_node containers delete "${id}" >/dev/null 2>&1 || true
  done
}

stop_pid() {  # stop_pid NAME: TERM, then KILL after 10s
  local f="${D}/pids/$1" pid i
  [[ -f "${f}" ]] || return 0
  pid="$(cat "${f}")"
  kill -TERM "${pid}" 2>/dev/null || { rm -f "${f}"; return 0; }
  for ((i = 0; i < 40; i++)); do
    kill -0 "${pid}" 2>/dev/null || break
    sleep 0.25
  done
  kill -KILL "${pid}" 2>/dev/null || true
  rm -f "${f}"
}

# Every process left in the node's cgroups (shims, pods, stragglers): KILL until empty.
kill_cgroups() {
  local base h i procs; base="$(state_get cgroup_base)"
  [[ -n "${base}" ]] || return 0
  for ((i = 0; i < 40; i++)); do
    procs="$(find /sys/fs/cgroup/*"${base}" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)"
    [[ -z "${procs}" ]] && return 0
    # shellcheck disable=SC2086 # one pid per word
    kill -KILL ${procs} 2>/dev/null || true
    sleep 0.25
  done
  log "WARNING: processes still in ${base}: ${procs}"
}

remove_cgroups() {  # deepest first (the kubelet's tree, then what cgroup_setup recorded),
  # retried: a cgroup stays busy for a moment after its last process is reaped
  local base h i left; base="$(state_get cgroup_base)"
  [[ -n "${base}" ]] || return 0
  for ((i = 0; i < 20; i++)); do
    for h in /sys/fs/cgroup/*"${base}"; do
      [[ -d "${h}" ]] && { find "${h}" -depth -type d -exec rmdir {} \; 2>/dev/null || true; }
    done
    [[ -f "${D}/cgroups" ]] && tac "${D}/cgroups" | while read -r dir; do
      rmdir "${dir}" 2>/dev/null || true
    done
    left="$(find /sys/fs/cgroup/*"${base}" -maxdepth 0 -type d 2>/dev/null; \
      [[ -f "${D}/cgroups" ]] && while read -r dir; do [[ -d "${dir}" ]] && echo "${dir}"; done <"${D}/cgroups")"
    [[ -z "${left}" ]] && return 0
    sleep 0.25
  done
  log "WARNING: cgroups left behind: ${left}"
}

# ------------------------------------------------------------------------- main
cmd="${1:-}"; D="${2:-}"
[[ -n "${cmd}" && -n "${D}" ]] || die "usage: node.sh up|down|load|exec DIR [...]"
[[ "$(id -u)" == 0 ]] || die "node.sh needs root (namespaces, mounts, cgroups)"
D="$(realpath -m "${D}")"
case "${cmd}" in
  up) up ;;
  down) down ;;
  load) import "$3" ;;
  exec) shift 2; in_node "$@" ;;
  *) die "unknown command ${cmd}" ;;
esac
