#!/usr/bin/env bash
# make_certs.sh DIR DOMAIN...
#
# Creates development/test TLS material for kedge in DIR:
#   ca.pem, ca.key              a dev CA (EC P-256) that signs the leaf
#   server.pem, server.key      one leaf whose SANs are "*.<DOMAIN>" and
#                               "<DOMAIN>" for every DOMAIN given; server.pem
#                               holds the chain, which is just the leaf
#   wrong-ca.pem, wrong-ca.key  an unrelated CA, for negative tests (a client
#                               trusting it must reject server.pem)
# All keys are EC P-256, mode 0600; certificates are valid for 825 days
# (the CA/Browser Forum limit that Apple clients enforce for leaves).
#
# Idempotent: existing keys are never overwritten. A certificate is reissued
# (with the existing key) only if it is missing, does not match its key, does
# not chain to ca.pem, or its SANs differ from the requested DOMAIN list.
set -euo pipefail

usage() { echo "usage: $0 DIR DOMAIN..." >&2; exit 2; }
[[ $# -ge 2 ]] || usage
dir=$1
shift

domains=()
for domain in "$@"; do
  domain=${domain,,}          # host names compare case-insensitively
  domain=${domain%.}          # tolerate a trailing dot
  if [[ ! $domain =~ ^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$ ]]; then
    echo "$0: \"$domain\" is not a DNS domain (expected e.g. kafka.example.com)" >&2
    exit 2
  fi
  domains+=("$domain")
done

command -v openssl >/dev/null || { echo "$0: the openssl CLI is required" >&2; exit 1; }
mkdir -p "$dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

readonly days=825

# new_key FILE: EC P-256 private key, created 0600 and only if FILE is absent.
new_key() {
  local file=$1
  if [[ -e $file ]]; then
    chmod 600 "$file"
    return
  fi
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/key.tmp")
  mv "$work/key.tmp" "$file"
  chmod 600 "$file"
}

# cert_matches_key CERT KEY: true if CERT exists and certifies KEY's public key.
cert_matches_key() {
  [[ -s $1 ]] || return 1
  [[ "$(openssl x509 -in "$1" -noout -pubkey 2>/dev/null)" == "$(openssl pkey -in "$2" -pubout 2>/dev/null)" ]]
}

# make_ca NAME CN: NAME.key + self-signed NAME.pem.
make_ca() {
  local name=$1 cn=$2
  new_key "$dir/$name.key"
  if cert_matches_key "$dir/$name.pem" "$dir/$name.key"; then
    return
  fi
  cat >"$work/ca.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = $cn
[ca_ext]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
  openssl req -x509 -new -config "$work/ca.cnf" -extensions ca_ext -key "$dir/$name.key" \
    -sha256 -days "$days" -set_serial "0x$(openssl rand -hex 15)" -out "$work/ca.pem.tmp"
  mv "$work/ca.pem.tmp" "$dir/$name.pem"
  echo "created $dir/$name.pem" >&2
}

make_ca ca "kedge development CA"
make_ca wrong-ca "kedge unrelated CA (negative tests)"

# Leaf certificate.
san=""
for domain in "${domains[@]}"; do
  san+="${san:+,}DNS:*.$domain,DNS:$domain"
done
expected_san=${san//,/, }  # how `openssl x509 -ext` prints it

new_key "$dir/server.key"
current_san=""
if [[ -s $dir/server.pem ]]; then
  current_san=$(openssl x509 -in "$dir/server.pem" -noout -ext subjectAltName 2>/dev/null | sed -n '2p' | sed 's/^ *//') || true
fi
if cert_matches_key "$dir/server.pem" "$dir/server.key" &&
   openssl verify -CAfile "$dir/ca.pem" "$dir/server.pem" >/dev/null 2>&1 &&
   [[ $current_san == "$expected_san" ]]; then
  echo "$dir/server.pem is up to date" >&2
  exit 0
fi

cat >"$work/leaf.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = *.${domains[0]}
EOF
cat >"$work/leaf.ext" <<EOF
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
EOF
openssl req -new -config "$work/leaf.cnf" -key "$dir/server.key" -out "$work/server.csr"
openssl x509 -req -in "$work/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
  -set_serial "0x$(openssl rand -hex 15)" -sha256 -days "$days" -extfile "$work/leaf.ext" \
  -out "$work/server.pem.tmp"
mv "$work/server.pem.tmp" "$dir/server.pem"
echo "created $dir/server.pem for $expected_san" >&2
