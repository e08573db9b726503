/* daemon/notify.h: systemd's service notifications (sd_notify(3)),
 * implemented by hand: no libsystemd.
 *
 * Under Type=notify, systemd passes the path of an AF_UNIX datagram socket
 * in NOTIFY_SOCKET ('@' first: the abstract namespace); the service sends
 * newline-separated KEY=VALUE assignments to it: READY=1 once it serves,
 * RELOADING=1 (with MONOTONIC_USEC) and READY=1 around a reload,
 * STOPPING=1, and STATUS=free text shown by `systemctl status`.  Without
 * NOTIFY_SOCKET nothing is sent.
 */
#ifndef GRESEC_DAEMON_NOTIFY_H
#define GRESEC_DAEMON_NOTIFY_H

/* Send one notification (printf format; the assignments separated by
 * newlines).  0 when sent or when there is nowhere to send it, else
 * -errno (never fatal: callers ignore it). */
int notify_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "RELOADING=1\nMONOTONIC_USEC=<now>" followed by more assignments. */
int notify_reloading(const char *status);

#endif
