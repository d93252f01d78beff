/*
 * access — Redis's protected mode (see access.h).
 */
#include "server/access.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

const char fc_access_denied_msg[] =
    "DENIED Redis is running in protected mode because protected mode is enabled and no "
    "password is set for the default user. In this mode connections are only accepted from the "
    "loopback interface. If you want to connect from external computers to Redis you may adopt "
    "one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG "
    "SET protected-mode no' from the loopback interface by connecting to Redis from the same host "
    "the server is running, however MAKE SURE Redis is not publicly accessible from internet if "
    "you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just "
    "disable the protected mode by editing the Redis configuration file, and setting the "
    "protected mode option to 'no', and then restarting the server. 3) If you started the server "
    "manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an "
    "authentication password for the default user. NOTE: You only need to do one of the above "
    "things in order for the server to start accepting connections from the outside.";

bool fc_access_is_loopback(const struct sockaddr *peer)
{
    if (peer->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)peer;
        return a->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
    }
    if (peer->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)peer;
        return memcmp(&a->sin6_addr, &in6addr_loopback, sizeof(a->sin6_addr)) == 0;
    }
    return false;
}

bool fc_access_denied(const fc_conf *conf, const struct sockaddr *peer)
{
    return conf->protected_mode && conf->requirepass[0] == '\0' && !fc_access_is_loopback(peer);
}
