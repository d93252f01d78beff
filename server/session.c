/*
 * session — per-connection command state (see session.h).
 */
#include "server/session.h"

#include <stdlib.h>
#include <string.h>

void fc_session_init(fc_session *s, int64_t now_ms)
{
    memset(s, 0, sizeof(*s));
    s->proto = 2;
    s->fd = -1;
    s->created_ms = s->last_ms = now_ms;
}

void fc_session_deinit(fc_session *s)
{
    free(s->name);
    free(s->lib_name);
    free(s->lib_ver);
    s->name = s->lib_name = s->lib_ver = NULL;
}
