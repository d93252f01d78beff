// Real client libraries against fastcached: each opens the way it does in production (node-redis 6
// and ioredis 6 with HELLO 3, the older ones with RESP2, ioredis with its INFO ready check), then
// runs the cache API. FASTCACHED_PORT names the daemon under test (tests/clients/run.sh starts it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { createClient as createClient4 } from 'redis4';
import Redis from 'ioredis';
import Redis5 from 'ioredis5';

const port = Number(process.env.FASTCACHED_PORT);
const url = `redis://127.0.0.1:${port}`;

async function cacheApi(set, get, ttl, del, call, prefix) {
  assert.equal(await set(`${prefix}:users:1`, 'ada'), 'OK');
  assert.equal(await get(`${prefix}:users:1`), 'ada');
  assert.equal(await get(`${prefix}:missing`), null);
  const t = await ttl(`${prefix}:users:1`);
  assert.ok(t > 0 && t <= 60, `ttl ${t}`);
  assert.equal(await call(['INVALIDATE', `${prefix}:users:*`]), 1);
  assert.equal(await get(`${prefix}:users:1`), null);
  assert.equal(await del(`${prefix}:users:1`), 0);
}

for (const [name, make] of [['node-redis 6 (RESP3)', () => createClient({ url, RESP: 3 })],
                            ['node-redis 6 (RESP2)', () => createClient({ url })],
                            ['node-redis 4', () => createClient4({ url })]]) {
  test(name, async () => {
    const c = make();
    c.on('error', (e) => { throw e; });
    await c.connect();
    await c.select(2);
    await cacheApi((k, v) => c.set(k, v, { EX: 60 }), (k) => c.get(k), (k) => c.ttl(k),
                   (k) => c.del(k), (a) => c.sendCommand(a), name.replace(/\W/g, ''));
    const info = await c.info('keyspace');
    assert.match(info, /# Keyspace/);
    await (c.quit ? c.quit() : c.close());
  });
}

for (const [name, Ctor] of [['ioredis 6', Redis], ['ioredis 5', Redis5]]) {
  test(name, async () => {
    const c = new Ctor({ port, host: '127.0.0.1', db: 3, lazyConnect: true, maxRetriesPerRequest: 1 });
    await c.connect();
    await cacheApi((k, v) => c.set(k, v, 'EX', 60), (k) => c.get(k), (k) => c.ttl(k),
                   (k) => c.del(k), (a) => c.call(...a), name.replace(/\W/g, ''));
    const pipe = await c.pipeline().set('p', '1').incr('p').get('p').exec();
    assert.deepEqual(pipe.map(([e, v]) => [e, v]), [[null, 'OK'], [null, 2], [null, '2']]);
    assert.equal(await c.quit(), 'OK');
  });
}
