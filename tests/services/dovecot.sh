#!/usr/bin/env bash
# A private Dovecot IMAP server for the email tests: `start` (idempotent), `stop`, `status`.
#
# Everything lives under $HGW_DOVECOT_ROOT (default /tmp/hgw-dovecot): config, TLS
# certificate (self-signed, made by openssl at the first start), sockets, state and the
# Maildirs. It listens on 127.0.0.1 only, on 10143 (plain) and 10993 (TLS); the system
# Dovecot, if any, is never touched. Test users (password = "<user>-pass"): see USERS.
set -euo pipefail

ROOT=${HGW_DOVECOT_ROOT:-/tmp/hgw-dovecot}
IMAP_PORT=${HGW_DOVECOT_PORT:-10143}
IMAPS_PORT=${HGW_DOVECOT_TLS_PORT:-10993}
HERE=$(cd "$(dirname "$0")" && pwd)
CONF=$ROOT/dovecot.conf
USERS="support bench reconnect tls spare1 spare2"
DOVECOT=${DOVECOT:-/usr/sbin/dovecot}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

configure() {
  mkdir -p "$ROOT/run" "$ROOT/state" "$ROOT/mail"
  if [ "$(id -u)" = 0 ]; then
    # Mail is owned by nobody: Dovecot refuses to access mail as root.
    mail_uid=$(id -u nobody); mail_gid=$(id -g nobody)
    internal_user=dovecot; internal_group=dovecot; login_user=dovenull
    chown "$mail_uid:$mail_gid" "$ROOT/mail"
  else
    mail_uid=$(id -u); mail_gid=$(id -g)
    internal_user=$(id -un); internal_group=$(id -gn); login_user=$(id -un)
  fi
  if [ ! -s "$ROOT/cert.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
      -keyout "$ROOT/key.pem" -out "$ROOT/cert.pem" >/dev/null 2>&1
    chmod 600 "$ROOT/key.pem"
  fi
  : >"$ROOT/users.new"
  for user in $USERS; do
    echo "$user:{PLAIN}$user-pass:$mail_uid:$mail_gid::$ROOT/mail/$user" >>"$ROOT/users.new"
  done
  mv "$ROOT/users.new" "$ROOT/users"
  sed -e "s|@ROOT@|$ROOT|g" -e "s|@MAIL_UID@|$mail_uid|g" -e "s|@MAIL_GID@|$mail_gid|g" \
      -e "s|@INTERNAL_USER@|$internal_user|g" -e "s|@INTERNAL_GROUP@|$internal_group|g" \
      -e "s|@LOGIN_USER@|$login_user|g" \
      -e "s|@IMAP_PORT@|$IMAP_PORT|g" -e "s|@IMAPS_PORT@|$IMAPS_PORT|g" \
      "$HERE/dovecot/dovecot.conf.in" >"$CONF"
}

start() {
  if port_open "$IMAP_PORT"; then
    echo "dovecot: already listening on 127.0.0.1:$IMAP_PORT"
    return 0
  fi
  [ -x "$DOVECOT" ] || { echo "dovecot: $DOVECOT missing (apt-get install dovecot-imapd)" >&2; exit 1; }
  configure
  # Detached from the caller's stdout/stderr: a caller that captures output (pytest's
  # subprocess.run) would otherwise wait for the daemon to close them, forever.
  "$DOVECOT" -c "$CONF" </dev/null >>"$ROOT/dovecot.out" 2>&1
  for _ in $(seq 50); do
    port_open "$IMAP_PORT" && port_open "$IMAPS_PORT" && {
      echo "dovecot: listening on 127.0.0.1:$IMAP_PORT (plain) and :$IMAPS_PORT (TLS), root $ROOT"
      return 0
    }
    sleep 0.1
  done
  echo "dovecot: did not start; see $ROOT/dovecot.log" >&2
  tail -n 20 "$ROOT/dovecot.log" >&2 || true
  exit 1
}

stop() {
  if [ -f "$CONF" ] && [ -f "$ROOT/run/master.pid" ]; then
    "$DOVECOT" -c "$CONF" stop || true
  fi
  for _ in $(seq 50); do
    port_open "$IMAP_PORT" || { echo "dovecot: stopped"; return 0; }
    sleep 0.1
  done
  echo "dovecot: still listening on $IMAP_PORT" >&2
  exit 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) port_open "$IMAP_PORT" && echo "dovecot: up" || { echo "dovecot: down"; exit 1; } ;;
  *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
