/*
 * reload — configuration applied while the daemon runs: the open-files limit that maxclients
 * needs (at start and whenever maxclients changes), and the SIGHUP reload of the config file.
 *
 * SIGHUP re-reads the command line (file, then flags over it: the start-up precedence) into a
 * fresh struct. If that fails the running configuration is kept and the error is logged as
 * "file:line: message". Otherwise the settings that can change at run time are copied into the
 * live struct, which every module reads through its pointer, and into the per-client copies
 * (query buffer cap, bulk length limit); every other key that changed is logged as ignored until
 * a restart. The log file is reopened in either case (log rotation).
 */
#ifndef FC_SERVER_RELOAD_H
#define FC_SERVER_RELOAD_H

#include <stddef.h>

#include "conf/conf.h"

struct fc_server;

/* File descriptors kept for listeners, upstream connections, the log and libuv itself. */
#define FC_RESERVED_FDS 32

/* Raises RLIMIT_NOFILE to maxclients + FC_RESERVED_FDS (the soft limit, and the hard one when
 * permitted). When the system refuses, lowers c->maxclients to what fits and logs a warning.
 * Returns 0, or -1 with a message when not even one client fits. */
int fc_reload_fit_maxclients(fc_conf *c, char *err, size_t errlen);

/* The SIGHUP handler's work (see above). Needs fc_server_set_reload; else only reopens the log. */
void fc_reload(struct fc_server *srv);

#endif
