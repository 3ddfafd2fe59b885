#!/bin/sh
# Creates the stack's secrets in the volume mounted at $1 (default /run/mfdisco-secrets), once:
#   postgres_password  the database password (readable by the postgres container)
#   pgpass             the same for libpq clients (PGPASSFILE), mode 0600, owned by mfdisco
#   ray_token          the Ray cluster token (RAY_AUTH_TOKEN_PATH), mode 0600, owned by mfdisco
# A value given in the environment (POSTGRES_PASSWORD, RAY_AUTH_TOKEN, e.g. from .env) wins;
# otherwise an existing file is kept, else a random one is made. Nothing secret is in the image
# or the repository. Runs as root (to set ownership) and exits.
set -eu
dir="${1:-/run/mfdisco-secrets}"
owner="${MFDISCO_UID:-1000}"
mkdir -p "$dir"
random() { python -c 'import secrets; print(secrets.token_hex(32))'; }

if [ -n "${POSTGRES_PASSWORD:-}" ]; then password="$POSTGRES_PASSWORD"
elif [ -s "$dir/postgres_password" ]; then password="$(cat "$dir/postgres_password")"
else password="$(random)"; fi
if [ -n "${RAY_AUTH_TOKEN:-}" ]; then token="$RAY_AUTH_TOKEN"
elif [ -s "$dir/ray_token" ]; then token="$(cat "$dir/ray_token")"
else token="$(random)"; fi

umask 077
printf '%s' "$password" > "$dir/postgres_password"
printf '%s:%s:*:%s:%s\n' "${POSTGRES_HOST:-postgres}" "${POSTGRES_PORT:-5432}" "${POSTGRES_USER:-mfdisco}" "$password" > "$dir/pgpass"
printf '%s' "$token" > "$dir/ray_token"
chmod 0444 "$dir/postgres_password"
chown "$owner:$owner" "$dir/pgpass" "$dir/ray_token"
chmod 0600 "$dir/pgpass" "$dir/ray_token"
echo "secrets ready in $dir"
