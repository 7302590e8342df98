#!/usr/bin/env bash
# Install or upgrade the tweet ingester from an extracted bundle (dist/ingester-bundle.tar.gz).
# Run as root from anywhere:  bash /opt/tweet-ingester/src/install.sh
# Idempotent: re-running with a newer bundle stops the service (it flushes), upgrades the code and the
# dependencies, and starts it again; its state directory (WAL, spool) is never touched.
#
# What it does: python3.11 (dnf) if missing; system user tweet-ingester; venv /opt/tweet-ingester/venv
# with the bundled wheels (offline); code in /opt/tweet-ingester/app; helper /opt/tweet-ingester/bin/ingester;
# unit /etc/systemd/system/tweet-ingester.service; daemon-reload, enable, (re)start.
# Settings: /etc/tweet-ingester/ingester.env (written beforehand, e.g. by the Terraform user-data).
#
# Overrides (tests, unusual hosts): TWEET_INGESTER_PREFIX, TWEET_INGESTER_UNIT_DIR, TWEET_INGESTER_CONF_DIR,
# TWEET_INGESTER_PYTHON, TWEET_INGESTER_MANAGE_SYSTEM=0 (no dnf, useradd, chown or systemctl).
set -euo pipefail
# Everything installed here is read and executed by the service user, so the modes must not depend on the
# caller's umask (cloud-init user data, an operator's 0027 or 0077 shell): 0022 for what this script creates,
# and explicit modes below on everything the service needs, which also repairs an install made under a
# stricter umask (its venv would otherwise be kept as it is, and systemd fails with 203/EXEC).
umask 0022

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PREFIX="${TWEET_INGESTER_PREFIX:-/opt/tweet-ingester}"
UNIT_DIR="${TWEET_INGESTER_UNIT_DIR:-/etc/systemd/system}"
CONF_DIR="${TWEET_INGESTER_CONF_DIR:-/etc/tweet-ingester}"
PYTHON="${TWEET_INGESTER_PYTHON:-python3.11}"
MANAGE_SYSTEM="${TWEET_INGESTER_MANAGE_SYSTEM:-1}"
SERVICE=tweet-ingester
SERVICE_USER=tweet-ingester
# A second service on the same box reads Bluesky when its env file exists (Terraform's ingester_source = "both").
BLUESKY_SERVICE=tweet-ingester-bluesky
BLUESKY_ENV="$CONF_DIR/ingester-bluesky.env"

log() { echo "install.sh: $*"; }
die() { echo "install.sh: ERROR: $*" >&2; exit 1; }

[ -d "$HERE/wheels" ] && [ -d "$HERE/ingester" ] && [ -f "$HERE/requirements.txt" ] \
  || die "run me from an extracted ingester bundle (wheels/, ingester/, requirements.txt next to me)"
if [ "$MANAGE_SYSTEM" = 1 ] && [ "$(id -u)" -ne 0 ]; then die "run as root"; fi

# 1. Python 3.11
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  if [ "$MANAGE_SYSTEM" = 1 ] && command -v dnf >/dev/null 2>&1; then
    log "installing python3.11 with dnf"
    dnf install -y python3.11
  else
    die "$PYTHON not found (install Python 3.11)"
  fi
fi
"$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' \
  || die "$PYTHON is not Python 3.11 (the bundled wheels are built for CPython 3.11)"

# 2. Service user
if [ "$MANAGE_SYSTEM" = 1 ] && ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
  log "creating system user $SERVICE_USER"
  useradd --system --no-create-home --home-dir "/var/lib/$SERVICE" --shell /sbin/nologin "$SERVICE_USER"
fi

# 3. An upgrade stops the running service before touching its code: SIGTERM makes it flush (what Firehose
#    refuses stays in its write-ahead log and disk spool, which no install step touches), and a stopped process
#    cannot lazily import a module from a half-replaced virtualenv. Whatever happens next, the service is
#    started again on exit (the old code if the install failed before the swap), so a failed upgrade never
#    leaves the box without its ingester.
if [ "$MANAGE_SYSTEM" = 1 ] && systemctl is-active --quiet "$SERVICE"; then
  log "stopping $SERVICE (SIGTERM: it flushes; its WAL and spool stay on disk)"
  trap 'systemctl start "$SERVICE" || true' EXIT
  systemctl stop "$SERVICE"
fi
if [ "$MANAGE_SYSTEM" = 1 ] && systemctl is-active --quiet "$BLUESKY_SERVICE"; then
  log "stopping $BLUESKY_SERVICE (SIGTERM: it flushes; its WAL, spool and cursor stay on disk)"
  trap 'systemctl start "$SERVICE" || true; systemctl start "$BLUESKY_SERVICE" || true' EXIT
  systemctl stop "$BLUESKY_SERVICE"
fi

# 4. Virtualenv with the bundled wheels (offline); a venv from another Python is rebuilt
install -d -m 0755 "$PREFIX"
if [ -x "$PREFIX/venv/bin/python" ] && ! "$PREFIX/venv/bin/python" -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null; then
  log "rebuilding $PREFIX/venv (different Python)"
  rm -rf "$PREFIX/venv"
fi
if [ ! -x "$PREFIX/venv/bin/python" ]; then
  log "creating $PREFIX/venv"
  "$PYTHON" -m venv "$PREFIX/venv"
fi
log "installing dependencies from the bundled wheels"
"$PREFIX/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index \
  --find-links "$HERE/wheels" --upgrade -r "$HERE/requirements.txt"
# Readable by all, executable where executable by root (bin/python, console scripts), never group/other-writable.
chmod -R u+rwX,go+rX,go-w "$PREFIX/venv"

# 5. Application code, swapped in whole (no half-upgraded tree)
rm -rf "$PREFIX/app.new" "$PREFIX/app.old"
install -d -m 0755 "$PREFIX/app.new"
cp -R "$HERE/ingester" "$PREFIX/app.new/ingester"
find "$PREFIX/app.new" -type d -exec chmod 0755 {} +
find "$PREFIX/app.new" -type f -exec chmod 0644 {} +
if [ -d "$PREFIX/app" ]; then mv "$PREFIX/app" "$PREFIX/app.old"; fi
mv "$PREFIX/app.new" "$PREFIX/app"
rm -rf "$PREFIX/app.old"
PYTHONPATH="$PREFIX/app" "$PREFIX/venv/bin/python" -m ingester --version >/dev/null \
  || die "the installed ingester does not start"

# 6. Operator helper: the same settings and state directory as the service
install -d -m 0755 "$PREFIX/bin"
cat > "$PREFIX/bin/ingester.tmp" <<WRAPPER
#!/bin/sh
# python -m ingester with the service's settings: sudo $PREFIX/bin/ingester status|check|rules
export PYTHONPATH="$PREFIX/app"
export STATE_DIRECTORY="\${STATE_DIRECTORY:-/var/lib/$SERVICE}"
export INGESTER_ENV_FILE="\${INGESTER_ENV_FILE:-$CONF_DIR/ingester.env}"
exec "$PREFIX/venv/bin/python" -m ingester "\$@"
WRAPPER
chmod 0755 "$PREFIX/bin/ingester.tmp"
mv "$PREFIX/bin/ingester.tmp" "$PREFIX/bin/ingester"

# 7. Settings directory (the env file holds no secret: the token stays in SSM)
install -d -m 0750 "$CONF_DIR"
if [ "$MANAGE_SYSTEM" = 1 ]; then
  chown "root:$SERVICE_USER" "$CONF_DIR"
  for env_file in "$CONF_DIR/ingester.env" "$BLUESKY_ENV"; do
    if [ -f "$env_file" ]; then
      chown "root:$SERVICE_USER" "$env_file"
      chmod 0640 "$env_file"
    fi
  done
fi
install -m 0644 "$HERE/ingester/.env.example" "$CONF_DIR/ingester.env.example"

# 8. systemd unit
install -d -m 0755 "$UNIT_DIR"
install -m 0644 "$HERE/tweet-ingester.service" "$UNIT_DIR/$SERVICE.service"
# The Bluesky service: the same unit with its own env file (which sets its own STATE_DIR); removed when the
# env file is gone (ingester_source changed back), its state directory is kept.
if [ -f "$BLUESKY_ENV" ]; then
  sed -e "s|^EnvironmentFile=.*|EnvironmentFile=$BLUESKY_ENV|" \
      -e "s|^Description=.*|Description=Tweet ingester, Bluesky source (Jetstream to Amazon Data Firehose)|" \
      "$HERE/tweet-ingester.service" > "$UNIT_DIR/$BLUESKY_SERVICE.service.tmp"
  chmod 0644 "$UNIT_DIR/$BLUESKY_SERVICE.service.tmp"
  mv "$UNIT_DIR/$BLUESKY_SERVICE.service.tmp" "$UNIT_DIR/$BLUESKY_SERVICE.service"
elif [ -f "$UNIT_DIR/$BLUESKY_SERVICE.service" ]; then
  if [ "$MANAGE_SYSTEM" = 1 ]; then systemctl disable --now "$BLUESKY_SERVICE" || true; fi
  rm -f "$UNIT_DIR/$BLUESKY_SERVICE.service"
  log "removed $BLUESKY_SERVICE (no $BLUESKY_ENV); its state in /var/lib/$SERVICE/bluesky is kept"
fi
if [ "$MANAGE_SYSTEM" = 1 ]; then
  systemctl daemon-reload
  if [ ! -f "$CONF_DIR/ingester.env" ]; then
    systemctl enable "$SERVICE"
    log "no $CONF_DIR/ingester.env yet: write it (see ingester.env.example), then: systemctl start $SERVICE"
    exit 0
  fi
  systemctl enable "$SERVICE"
  systemctl restart "$SERVICE"   # start (an upgrade stopped it above), or restart onto the new code
  if [ -f "$BLUESKY_ENV" ]; then
    systemctl enable "$BLUESKY_SERVICE"
    systemctl restart "$BLUESKY_SERVICE"
  fi
  trap - EXIT
  log "installed; check: systemctl status $SERVICE; journalctl -u $SERVICE -f; sudo $PREFIX/bin/ingester status"
else
  log "installed to $PREFIX (system management skipped)"
fi
