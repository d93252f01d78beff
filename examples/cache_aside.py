"""Cache-aside with fastcached from Python (redis-py), with namespace invalidation.

    @cached(ttl=60, key="users:{user_id}:profile")
    def load_profile(user_id): ...          # reads go to the cache first

    def rename_user(user_id, name):
        db.update(...)
        invalidate("users:{}:*".format(user_id))   # one call drops every cached view of the user

fastcached speaks the Redis protocol, so this is plain redis-py; INVALIDATE is the one
fastcached-specific command (delete every key matching a glob, reply with the count).
Run `python3 examples/cache_aside.py --port 6379` against a running daemon: it runs a short
scenario and exits non-zero if the cache does not behave as described.
"""
import argparse
import functools
import json
import sys

import redis


class Cache:
    def __init__(self, client):
        self.r = client

    def cached(self, ttl, key):
        """Caches the JSON-serialisable result of fn under key.format(**arguments) for ttl s."""

        def decorate(fn):
            @functools.wraps(fn)
            def wrapper(*args, **kwargs):
                names = fn.__code__.co_varnames[: fn.__code__.co_argcount]
                k = key.format(**dict(zip(names, args)), **kwargs)
                hit = self.r.get(k)
                if hit is not None:
                    return json.loads(hit)
                value = fn(*args, **kwargs)
                self.r.set(k, json.dumps(value), ex=ttl)
                return value

            return wrapper

        return decorate

    def invalidate(self, pattern):
        """Deletes every cached key matching the glob; returns how many were removed."""
        return self.r.execute_command("INVALIDATE", pattern)


def scenario(port):
    r = redis.Redis(host="127.0.0.1", port=port)
    r.flushdb()
    cache = Cache(r)
    database = {1: {"name": "ada"}, 2: {"name": "bob"}}
    calls = []

    @cache.cached(ttl=60, key="users:{user_id}:profile")
    def load_profile(user_id):
        calls.append(("profile", user_id))
        return database[user_id]

    @cache.cached(ttl=60, key="users:{user_id}:greeting")
    def greeting(user_id):
        calls.append(("greeting", user_id))
        return "hello " + database[user_id]["name"]

    def rename_user(user_id, name):
        database[user_id]["name"] = name
        return cache.invalidate("users:{}:*".format(user_id))

    assert load_profile(1) == {"name": "ada"}
    assert load_profile(1) == {"name": "ada"}
    assert greeting(1) == "hello ada"
    assert load_profile(2) == {"name": "bob"}
    assert calls == [("profile", 1), ("greeting", 1), ("profile", 2)], calls
    assert 55 <= r.ttl("users:1:profile") <= 60

    removed = rename_user(1, "lovelace")
    assert removed == 2, removed                      # profile and greeting of user 1
    assert r.exists("users:2:profile") == 1           # other users untouched
    assert load_profile(1) == {"name": "lovelace"}    # recomputed after invalidation
    assert greeting(1) == "hello lovelace"
    assert calls[-2:] == [("profile", 1), ("greeting", 1)], calls
    print("cache-aside example: ok (%d loads, %d invalidated)" % (len(calls), removed))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=6379)
    scenario(ap.parse_args().port)
    sys.exit(0)
