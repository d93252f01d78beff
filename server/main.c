/*
 * main — argv → conf → log file, open-files limit → server run → exit code. The only file that
 * exits. The pidfile is written once the listeners are up and removed on a clean exit.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "conf/conf.h"
#include "server/log.h"
#include "server/reload.h"
#include "server/server.h"

static void write_pidfile(const char *path)
{
    if (!path[0])
        return;
    FILE *f = fopen(path, "w");
    if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0) {
        fc_log_warning("Failed to write PID file '%s': %s", path, strerror(errno));
        return;
    }
}

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
    int lr = fc_log_open(conf.logfile);
    if (lr < 0) {
        fprintf(stderr, "fastcached: cannot open log file '%s': %s\n", conf.logfile,
                strerror(-lr));
        return 1;
    }
    if (fc_reload_fit_maxclients(&conf, err, sizeof(err)) != 0) {
        fc_log_warning("%s", err);
        fc_log_close();
        return 1;
    }
    static fc_server srv;
    uv_loop_t *loop = uv_default_loop();
    if (fc_server_init(&srv, loop, &conf) != 0) {
        fc_server_deinit(&srv);
        uv_loop_close(loop);
        fc_log_close();
        return 1;
    }
    fc_server_set_reload(&srv, &conf, argc, argv);
    write_pidfile(conf.pidfile);
    snprintf(srv.core.executable, sizeof(srv.core.executable), "%s", argv[0]);
    fc_server_run(&srv);
    fc_server_deinit(&srv);
    if (conf.pidfile[0])
        unlink(conf.pidfile);
    int r = uv_loop_close(loop);
    if (r != 0)
        fc_log_warning("event loop closed with handles still open: %s", uv_strerror(r));
    fc_log_notice("fastcached is now ready to exit, bye bye...");
    fc_log_close();
    return 0;
}
