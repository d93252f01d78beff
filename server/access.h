/*
 * access — who may connect: Redis's protected mode.
 *
 * With [server] protected_mode = yes and no requirepass, a TCP client whose peer address is not
 * exactly 127.0.0.1 or ::1 gets Redis 7.0's -DENIED text and is closed (as Redis, which compares
 * the peer's address string: 127.0.0.2 is refused too). Unix socket clients are always accepted.
 */
#ifndef FC_SERVER_ACCESS_H
#define FC_SERVER_ACCESS_H

#include <stdbool.h>
#include <sys/socket.h>

#include "conf/conf.h"

/* Redis 7.0.15's text, without the leading '-' and the CRLF. */
extern const char fc_access_denied_msg[];

/* True when a TCP client with this peer address must be refused under conf. */
bool fc_access_denied(const fc_conf *conf, const struct sockaddr *peer);

/* True for exactly 127.0.0.1 and ::1. */
bool fc_access_is_loopback(const struct sockaddr *peer);

#endif
