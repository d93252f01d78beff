/*
 * core — databases, counters and the session list (see core.h).
 */
#include "server/core.h"

#include "server/commands.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/nstab.h"

/* One namespace table shared by every database; proxy mode has no store to count in. */
static int init_namespaces(fc_core *core, const fc_conf *conf)
{
    if (conf->driver != FC_DRIVER_MEMORY)
        return 0;
    core->ns = fc_nstab_new((size_t)conf->namespaces_max);
    if (!core->ns || fc_core_set_namespaces(core, conf) != 0) {
        fc_core_deinit(core);
        return -ENOMEM;
    }
    for (int i = 0; i < core->ndb; i++)
        fc_store_set_nstab(core->dbs[i], core->ns);
    return 0;
}

int fc_core_init(fc_core *core, const fc_conf *conf, int64_t now_ms)
{
    memset(core, 0, sizeof(*core));
    core->conf = conf;
    core->ndb = conf->databases;
    core->start_ms = now_ms;
    core->next_client_id = 1;
    core->rng = (uint64_t)now_ms * 0x9E3779B97F4A7C15ull | 1;
    fc_command_index_build(core);
    if (fc_core_set_ttls(core, conf) != 0)
        return -ENOMEM;
    core->dbs = calloc((size_t)core->ndb, sizeof(*core->dbs));
    if (!core->dbs) {
        fc_ttl_table_deinit(&core->ttl_prefixes);
        return -ENOMEM;
    }
    for (int i = 0; i < core->ndb; i++) {
        core->dbs[i] = fc_store_new(fc_core_random(core));
        if (!core->dbs[i]) {
            fc_core_deinit(core);
            return -ENOMEM;
        }
        /* fc_evict_policy follows the order of [cache] maxmemory_policy's names. */
        fc_store_set_policy(core->dbs[i], (fc_evict_policy)conf->maxmemory_policy);
    }
    return init_namespaces(core, conf);
}

void fc_core_deinit(fc_core *core)
{
    for (int i = 0; core->dbs && i < core->ndb; i++)
        fc_store_free(core->dbs[i]);
    free(core->dbs);
    core->dbs = NULL;
    fc_nstab_free(core->ns); /* after the stores that point to it */
    core->ns = NULL;
    fc_ttl_table_deinit(&core->ttl_prefixes);
}

int fc_core_set_ttls(fc_core *core, const fc_conf *conf)
{
    fc_ttl_table t;
    if (fc_ttl_table_from_conf(&t, conf) != 0)
        return -ENOMEM;
    fc_ttl_table_deinit(&core->ttl_prefixes);
    core->ttl_prefixes = t;
    core->default_ttl_ms = conf->ttl * 1000;
    return 0;
}

int fc_core_set_namespaces(fc_core *core, const fc_conf *conf)
{
    if (!core->ns)
        return 0;
    for (int i = 0; i < conf->nttl_prefixes; i++)
        if (fc_nstab_configure(core->ns, conf->ttl_prefixes[i].prefix, conf->ttl_prefixes[i].len))
            return -ENOMEM;
    for (int i = 0; i < conf->nnamespaces; i++)
        if (fc_nstab_configure(core->ns, conf->namespaces[i].prefix, conf->namespaces[i].len))
            return -ENOMEM;
    return 0;
}

void fc_core_default_auth(const fc_core *core, fc_session *s)
{
    if (core->conf->requirepass[0])
        s->flags &= ~FC_SESS_AUTHED;
    else
        s->flags |= FC_SESS_AUTHED;
}

bool fc_core_auth_required(const fc_core *core, const fc_session *s)
{
    return !(s->flags & FC_SESS_AUTHED) && core->conf->requirepass[0] != '\0';
}

void fc_core_attach(fc_core *core, fc_session *s)
{
    fc_core_default_auth(core, s);
    s->id = core->next_client_id++;
    s->prev = NULL;
    s->next = core->sessions;
    if (core->sessions)
        core->sessions->prev = s;
    core->sessions = s;
    core->nclients++;
}

void fc_core_detach(fc_core *core, fc_session *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        core->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
    core->nclients--;
}

uint64_t fc_core_random(fc_core *core)
{
    /* xorshift64*: enough for RANDOMKEY and hash seeds mixed with the clock. */
    uint64_t x = core->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    core->rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}
