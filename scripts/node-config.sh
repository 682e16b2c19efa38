#!/usr/bin/env bash
# Write a node's certificates and configuration files into $D (called by scripts/node.sh up,
# which sets every variable below). In: D, NODE_NAME, NODE_IP, POD_CIDR, BRIDGE, SERVICE_CIDR,
# SERVICE_IP, PAUSE_IMAGE, CGROUP_ROOT, RELAY_PORT. Out: $D/pki/*, $D/kubeconfig (the host's,
# through the relay), $D/etc/{node.kubeconfig,containerd.toml,kubelet.yaml,kube-proxy.yaml,
# apiserver.flags}, $D/cni/net.d/10-kcnode.conflist.
set -euo pipefail
: "${D:?}" "${NODE_NAME:?}" "${NODE_IP:?}" "${POD_CIDR:?}" "${BRIDGE:?}" "${SERVICE_CIDR:?}"
: "${SERVICE_IP:?}" "${PAUSE_IMAGE:?}" "${CGROUP_ROOT:?}" "${RELAY_PORT:?}"
PKI="${D}/pki" ETC="${D}/etc"
mkdir -p "${PKI}" "${ETC}" "${D}/cni/net.d"

# ------------------------------------------------------------------------- certificates
# One CA signs the API server's serving cert and one admin client cert (system:masters) that
# every component and the kubelet's API-server client use: one node, one trust domain.
issue() {  # issue NAME SUBJECT EXTENDED_KEY_USAGE [SUBJECT_ALT_NAMES]
  local name="$1" subj="$2" eku="$3" sans="${4:-}"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "${subj}" \
    -keyout "${PKI}/${name}.key" -out "${PKI}/${name}.csr" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=${eku}"
    [[ -z "${sans}" ]] || echo "subjectAltName=${sans}"
  } >"${PKI}/${name}.ext"
  openssl x509 -req -in "${PKI}/${name}.csr" -CA "${PKI}/ca.crt" -CAkey "${PKI}/ca.key" \
    -CAcreateserial -days 2 -extfile "${PKI}/${name}.ext" -out "${PKI}/${name}.crt" 2>/dev/null
}

openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=${NODE_NAME}-ca" -keyout "${PKI}/ca.key" -out "${PKI}/ca.crt" 2>/dev/null
issue apiserver "/CN=kube-apiserver" serverAuth \
  "IP:127.0.0.1,IP:${NODE_IP},IP:${SERVICE_IP},DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
issue admin "/O=system:masters/CN=admin" clientAuth
openssl genrsa -out "${PKI}/sa.key" 2048 2>/dev/null
openssl rsa -in "${PKI}/sa.key" -pubout -out "${PKI}/sa.pub" 2>/dev/null
chmod 600 "${PKI}"/*.key

kubeconfig() {  # kubeconfig SERVER: the admin identity, certificates embedded
  cat <<EOF
apiVersion: v1
kind: Config
clusters:
- name: ${NODE_NAME}
  cluster:
    server: $1
    certificate-authority-data: $(base64 -w0 "${PKI}/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $(base64 -w0 "${PKI}/admin.crt")
    client-key-data: $(base64 -w0 "${PKI}/admin.key")
contexts:
- name: ${NODE_NAME}
  context: {cluster: ${NODE_NAME}, user: admin}
current-context: ${NODE_NAME}
EOF
}
kubeconfig "https://127.0.0.1:${RELAY_PORT}" >"${D}/kubeconfig"
kubeconfig "https://${NODE_IP}:6443" >"${ETC}/node.kubeconfig"
chmod 600 "${D}/kubeconfig" "${ETC}/node.kubeconfig"

# ------------------------------------------------------------------------- kube-apiserver
cat >"${ETC}/apiserver.flags" <<EOF
--etcd-servers=http://127.0.0.1:2379
--bind-address=0.0.0.0
--secure-port=6443
--advertise-address=${NODE_IP}
--cert-dir=${D}/apiserver-certs
--tls-cert-file=${PKI}/apiserver.crt
--tls-private-key-file=${PKI}/apiserver.key
--client-ca-file=${PKI}/ca.crt
--kubelet-client-certificate=${PKI}/admin.crt
--kubelet-client-key=${PKI}/admin.key
--kubelet-preferred-address-types=InternalIP
--authorization-mode=RBAC
--service-cluster-ip-range=${SERVICE_CIDR}
--service-account-issuer=https://kubernetes.default.svc.cluster.local
--service-account-key-file=${PKI}/sa.pub
--service-account-signing-key-file=${PKI}/sa.key
--allow-privileged=true
--enable-priority-and-fairness=false
--profiling=false
--v=1
EOF

# ------------------------------------------------------------------------- containerd
# Its root, state, socket and runc root under $D; oom_score_adj left alone (root here lacks
# CAP_SYS_RESOURCE, so the kubelet's -998 for sandboxes would fail every pod).
cat >"${ETC}/containerd.toml" <<EOF
version = 2
root = "${D}/containerd/root"
state = "${D}/containerd/state"
[grpc]
  address = "${D}/containerd/containerd.sock"
[ttrpc]
  address = "${D}/containerd/containerd.ttrpc.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "${D}/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "${D}/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${D}/cni/net.d"
EOF

# ------------------------------------------------------------------------- CNI
cat >"${D}/cni/net.d/10-${NODE_NAME}.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "${NODE_NAME}",
  "plugins": [{
    "type": "bridge",
    "bridge": "${BRIDGE}",
    "isGateway": true,
    "ipMasq": false,
    "hairpinMode": true,
    "ipam": {
      "type": "host-local",
      "ranges": [[{"subnet": "${POD_CIDR}", "gateway": "${NODE_IP}",
                   "rangeStart": "${POD_CIDR%.*.*}.1.1", "rangeEnd": "${POD_CIDR%.*.*}.127.254"}]],
      "routes": [{"dst": "0.0.0.0/0"}]
    }
  }]
}
EOF

# ------------------------------------------------------------------------- kubelet
cat >"${ETC}/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: ${NODE_IP}
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: ${PKI}/ca.crt}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://${D}/containerd/containerd.sock
cgroupDriver: cgroupfs
cgroupRoot: ${CGROUP_ROOT}
failCgroupV1: false
failSwapOn: false
protectKernelDefaults: true
resolvConf: ""
volumePluginDir: ${D}/kubelet-plugins
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
serializeImagePulls: false
EOF

# ------------------------------------------------------------------------- kube-proxy
# conntrack limits and timeouts 0: kube-proxy then writes no global conntrack sysctl.
cat >"${ETC}/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: ${ETC}/node.kubeconfig}
hostnameOverride: ${NODE_NAME}
mode: iptables
clusterCIDR: ${POD_CIDR}
bindAddress: ${NODE_IP}
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
EOF
