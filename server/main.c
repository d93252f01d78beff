/*
 * main — argv → conf → server run → exit code. The only file that exits.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "conf/conf.h"
#include "server/log.h"
#include "server/server.h"

int main(int argc, char **argv)
{
    static fc_conf conf;
    char err[512];
    fc_conf_action action;
    if (fc_conf_from_args(&conf, argc, argv, &action, err, sizeof(err)) != 0 ||
        fc_conf_validate(&conf, err, sizeof(err)) != 0) {
        fprintf(stderr, "fastcached: %s\n", err);
        return 1;
    }
    switch (action) {
    case FC_CONF_HELP: fc_conf_usage(stdout, argv[0]); return 0;
    case FC_CONF_VERSION: printf("fastcached %s\n", FC_VERSION); return 0;
    case FC_CONF_TEST: fc_conf_print(&conf, stdout); return 0;
    case FC_CONF_RUN: break;
    }
    signal(SIGPIPE, SIG_IGN);
    fc_log_set_level(conf.loglevel);
    static fc_server srv;
    uv_loop_t *loop = uv_default_loop();
    if (fc_server_init(&srv, loop, &conf) != 0) {
        fc_server_deinit(&srv);
        uv_loop_close(loop);
        return 1;
    }
    snprintf(srv.core.executable, sizeof(srv.core.executable), "%s", argv[0]);
    fc_server_run(&srv);
    fc_server_deinit(&srv);
    int r = uv_loop_close(loop);
    if (r != 0)
        fc_log_warning("event loop closed with handles still open: %s", uv_strerror(r));
    fc_log_notice("fastcached is now ready to exit, bye bye...");
    return 0;
}
