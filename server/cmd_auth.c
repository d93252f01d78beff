/*
 * cmd_auth — AUTH, the password check HELLO ... AUTH shares, and the constant-time comparison.
 *
 * fastcached has one user, Redis's `default`, whose password is [server] requirepass (empty: no
 * password, the user is "nopass"). The session's FC_SESS_AUTHED flag says whether it may run
 * commands; dispatch answers -NOAUTH for the others (see fc_core_auth_required). As in Redis 7.0:
 * a failed AUTH leaves an authenticated session authenticated, RESET de-authenticates, and the
 * username is compared case-sensitively.
 *
 * In proxy mode this is the daemon's own authentication: AUTH is answered locally and never
 * forwarded (the upstream password is [redis] password, sent by upstream.c on connect).
 */
#include <string.h>

#include "server/cmd_impl.h"

#define ERR_WRONGPASS "WRONGPASS invalid username-password pair or user is disabled."
#define ERR_NOPASS                                                                             \
    "ERR AUTH <password> called without any password configured for the default user. Are "  \
    "you sure your configuration is correct?"

bool fc_secure_equal(const char *given, size_t glen, const char *secret, size_t slen)
{
    /* The loop runs over the given bytes only and never exits early, so its time depends on the
     * length the client chose, not on the secret's content or length. */
    volatile unsigned char diff = (unsigned char)(glen != slen);
    if (slen == 0)
        return glen == 0;
    for (size_t i = 0; i < glen; i++)
        diff |= (unsigned char)(given[i] ^ secret[i % slen]);
    return diff == 0;
}

bool fc_auth_check(fc_cmd_ctx *c, const fc_arg *user, const fc_arg *pass)
{
    static const char def[] = "default";
    const char *secret = c->core->conf->requirepass;
    bool user_ok = user->len == sizeof(def) - 1 && memcmp(user->p, def, user->len) == 0;
    bool pass_ok = secret[0] == '\0' || fc_secure_equal(pass->p, pass->len, secret, strlen(secret));
    if (!user_ok || !pass_ok) {
        fc_reply_err(c, ERR_WRONGPASS);
        return false;
    }
    c->sess->flags |= FC_SESS_AUTHED;
    return true;
}

void cmd_auth(fc_cmd_ctx *c)
{
    static const fc_arg def = {"default", 7};
    if (c->argc > 3) {
        fc_reply_err(c, FC_ERR_SYNTAX);
        return;
    }
    if (c->argc == 2 && c->core->conf->requirepass[0] == '\0') {
        fc_reply_err(c, ERR_NOPASS);
        return;
    }
    const fc_arg *user = c->argc == 2 ? &def : &c->argv[1];
    if (fc_auth_check(c, user, &c->argv[c->argc - 1]))
        fc_resp_ok(c->out);
}
