# shellcheck shell=bash
# Certificates and kubeconfigs of the node, made with openssl for each run
# (ECDSA P-256, valid 2 days) in $E2E_STATE/pki. Nothing is reused between runs.

# pki_ca NAME CN
pki_ca() {
  local d="$E2E_STATE/pki"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/$1.key" 2>/dev/null
  openssl req -x509 -new -key "$d/$1.key" -subj "/CN=$2" -days 2 -sha256 -out "$d/$1.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
}

# pki_cert NAME CA KIND(server|client|both) SUBJECT [SANS]
pki_cert() {
  local d="$E2E_STATE/pki" name=$1 ca=$2 kind=$3 subj=$4 sans=${5:-} eku
  case $kind in
    server) eku=serverAuth ;;
    client) eku=clientAuth ;;
    both)   eku=serverAuth,clientAuth ;;
  esac
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/$name.key" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [ -n "$sans" ] && echo "subjectAltName=$sans"
  } >"$d/$name.ext"
  openssl req -new -key "$d/$name.key" -subj "$subj" -out "$d/$name.csr" 2>/dev/null
  openssl x509 -req -in "$d/$name.csr" -CA "$d/$ca.crt" -CAkey "$d/$ca.key" -CAcreateserial \
    -days 2 -sha256 -extfile "$d/$name.ext" -out "$d/$name.crt" 2>/dev/null
  rm -f "$d/$name.csr" "$d/$name.ext"
  [ -s "$d/$name.crt" ] || die "openssl failed for $name"
}

# pki_kubeconfig NAME CERT: NAME.kubeconfig for the client certificate CERT.
pki_kubeconfig() {
  local d="$E2E_STATE/pki"
  cat >"$d/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: e2e
    cluster:
      server: https://127.0.0.1:6443
      certificate-authority: $d/ca.crt
users:
  - name: $1
    user:
      client-certificate: $d/$2.crt
      client-key: $d/$2.key
contexts:
  - name: e2e
    context: {cluster: e2e, user: $1}
current-context: e2e
EOF
}

pki_all() {
  local d="$E2E_STATE/pki"
  mkdir -p "$d" && chmod 700 "$d"
  pki_ca ca scalecache-e2e-ca
  pki_ca front-proxy-ca scalecache-e2e-front-proxy-ca
  pki_cert apiserver ca server "/CN=kube-apiserver" \
    "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:$E2E_NODE_IP,IP:$E2E_KUBE_SVC_IP"
  pki_cert apiserver-kubelet-client ca client "/O=system:masters/CN=kube-apiserver-kubelet-client"
  pki_cert front-proxy-client front-proxy-ca client "/CN=front-proxy-client"
  pki_cert admin ca client "/O=system:masters/CN=scalecache-e2e-admin"
  pki_cert controller-manager ca client "/CN=system:kube-controller-manager"
  pki_cert scheduler ca client "/CN=system:kube-scheduler"
  pki_cert kube-proxy ca client "/CN=system:kube-proxy"
  pki_cert kubelet-client ca client "/O=system:nodes/CN=system:node:$E2E_NODE"
  pki_cert kubelet-serving ca server "/O=system:nodes/CN=system:node:$E2E_NODE" "DNS:$E2E_NODE,IP:$E2E_NODE_IP"
  # Service account tokens: signed by the apiserver, verified by it and the controller-manager.
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/sa.key" 2>/dev/null
  openssl pkey -in "$d/sa.key" -pubout -out "$d/sa.pub" 2>/dev/null
  pki_kubeconfig admin admin
  pki_kubeconfig controller-manager controller-manager
  pki_kubeconfig scheduler scheduler
  pki_kubeconfig kube-proxy kube-proxy
  pki_kubeconfig kubelet kubelet-client
}
