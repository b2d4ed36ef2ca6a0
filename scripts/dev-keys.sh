#!/bin/sh
# Prints `export` lines with the keys and admin password services mode needs (README "The two
# commands"):  eval "$(sh scripts/dev-keys.sh)"
# IDENTITY_SECRET_KEYS and the INVENTORY_/NOTIFICATION_/ORCHESTRATION_CREDENTIALS_KEYS get a fresh
# random 32-byte AES key each, CLOUDFORET_ADMIN_PASSWORD a random password. They are generated once and
# kept in $CLOUDFORET_DATA_DIR/dev-keys.env (default ./.data, mode 600), and printed from there on
# later runs: data sealed under one set of keys cannot be opened with another, and identity never
# overwrites an existing admin, so a restart must see the same values. A variable already set in the
# environment is left as it is. For development and trials only: production keeps these in a secret
# manager (README "Deployment").
set -eu
dir="${CLOUDFORET_DATA_DIR:-.data}"
file="$dir/dev-keys.env"
random() { head -c "$1" /dev/urandom | base64 | tr -d '\n'; }
if [ ! -f "$file" ]; then
  mkdir -p "$dir"
  umask 077
  password="$(random 18 | tr '+/' '-_')"
  {
    echo "IDENTITY_SECRET_KEYS=main:$(random 32)"
    echo "INVENTORY_CREDENTIALS_KEYS=main:$(random 32)"
    echo "NOTIFICATION_CREDENTIALS_KEYS=main:$(random 32)"
    echo "ORCHESTRATION_CREDENTIALS_KEYS=main:$(random 32)"
    echo "CLOUDFORET_ADMIN_PASSWORD=$password"
  } > "$file.tmp"
  mv "$file.tmp" "$file"
  echo "dev-keys: generated $file; log in as admin with password $password" >&2
fi
while IFS='=' read -r name value; do
  case "$name" in
    IDENTITY_SECRET_KEYS|*_CREDENTIALS_KEYS|CLOUDFORET_ADMIN_PASSWORD) ;;
    *) continue ;;
  esac
  # keep what the caller already set
  eval "isset=\${$name+x}"
  [ -n "$isset" ] && continue
  printf "export %s='%s'\n" "$name" "$value"
done < "$file"
