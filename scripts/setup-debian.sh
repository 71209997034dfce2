#!/usr/bin/env bash
# The system a fresh Debian 12 or Ubuntu 22.04/24.04 needs for `make run` and `make test`:
# installs the packages, starts PostgreSQL and makes its database `test`, starts Redis.
# Idempotent (run it again at any time); as root or as a user with sudo.
#   scripts/setup-debian.sh            do it
#   scripts/setup-debian.sh --dry-run  print what it would do, change nothing
set -euo pipefail

DRY_RUN=false
[ "${1:-}" = "--dry-run" ] && DRY_RUN=true

# The packages, one a line (README "Set up and run" lists the same; tests/test_setup.py
# holds the two together). python3.11 is added on Ubuntu 22.04, whose python3 is 3.10.
PACKAGES=(
    make
    python3
    python3-venv
    qpdf
    poppler-utils
    fonts-wqy-zenhei
    fonts-arphic-uming
    chromium
    postgresql
    redis-server
    nodejs
    g++
)
# npm installs the XForm engine the form tests run (enketo-transformer, in `make test`);
# g++ builds its native XSLT module.
# NodeSource's nodejs package carries its own npm and conflicts with Debian's: add
# Debian's only where no npm is there.
command -v npm >/dev/null || PACKAGES+=(npm)

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null; then
    SUDO=(sudo)
else
    echo "setup-debian.sh: run as root or install sudo" >&2
    exit 1
fi

run() {
    echo "+ $*"
    $DRY_RUN || "${SUDO[@]}" "$@"
}

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        sudo -u postgres "$@"
    fi
}

# Ubuntu has no `chromium` deb: its `chromium-browser` (a snap) is linked where the
# dashboard tests look for it, /usr/bin/chromium. Ubuntu 22.04's python3 is too old.
. /etc/os-release
if [ "${ID:-}" = "ubuntu" ]; then
    PACKAGES=("${PACKAGES[@]/#chromium/chromium-browser}")
    [ "${VERSION_ID:-}" = "22.04" ] && PACKAGES+=(python3.11 python3.11-venv)
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    run apt-get update
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
else
    echo "system packages: all installed"
fi
if [ ! -e /usr/bin/chromium ] && [ -e /snap/bin/chromium ]; then
    run ln -s /snap/bin/chromium /usr/bin/chromium
fi

if $DRY_RUN; then
    echo "+ start PostgreSQL, trust local connections of user postgres, create database test"
    echo "+ start Redis on 127.0.0.1:6379"
    exit 0
fi

# PostgreSQL: the tests connect as postgres@127.0.0.1:5432 without a password (trust for
# that user from this machine only), to database `test` and throw-away ones they create.
version=$(ls /etc/postgresql | sort -V | tail -1)
hba=/etc/postgresql/$version/main/pg_hba.conf
if ! "${SUDO[@]}" grep -qE '^host\s+all\s+(postgres|all)\s+127\.0\.0\.1/32\s+trust' "$hba"; then
    # First matching line wins: put the rule before the packaged ones.
    run sed -i '0,/^host/s//host    all             postgres        127.0.0.1\/32            trust\n&/' "$hba"
    reload=true
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    run pg_ctlcluster --skip-systemctl-redirect "$version" main start
    reload=false
fi
if [ "${reload:-false}" = true ]; then
    run pg_ctlcluster --skip-systemctl-redirect "$version" main reload
fi
for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 1
done
if [ "$(as_postgres psql -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'")" != 1 ]; then
    echo "+ createdb test"
    as_postgres createdb test
fi
echo "PostgreSQL: postgresql+psycopg://postgres@127.0.0.1:5432/test"

# Redis: report jobs are tested through a real queue at 127.0.0.1:6379.
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
    "${SUDO[@]}" service redis-server start >/dev/null 2>&1 \
        || run redis-server --daemonize yes --bind 127.0.0.1 --port 6379
fi
redis-cli -h 127.0.0.1 ping >/dev/null
echo "Redis: redis://127.0.0.1:6379/0"
