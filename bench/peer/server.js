'use strict'
// Bench only (bench/hitpath.py; never in CI or `make run`): the original Node backend's
// cached-read hit path, rebuilt as issue 13's table describes it: Fastify 5 with helmet,
// compress, cors and an in-memory rate limit (limit raised so the bench never meets it),
// a prom-client histogram filled in onResponse, a querystring schema, then
// redis.get -> JSON.parse -> reply.send({ success, data }). One Node process, ioredis 5.
//
// Environment: PORT (3999), REDIS_URL (redis://127.0.0.1:6379/0),
// PEER_KEY_PREFIX (the prefix of the leaderboard page keys; bench/hitpath.py stores the
// project's own page payload there).

const Fastify = require('fastify')
const Redis = require('ioredis')
const promClient = require('prom-client')

const port = Number(process.env.PORT || 3999)
const prefix = process.env.PEER_KEY_PREFIX || 'peer:'
const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379/0')

const httpRequestDuration = new promClient.Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP request duration by method, route and status code.',
  labelNames: ['method', 'route', 'status_code'],
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5]
})

async function main () {
  const app = Fastify({ logger: false, trustProxy: true })
  await app.register(require('@fastify/helmet'))
  await app.register(require('@fastify/compress'), { global: true })
  await app.register(require('@fastify/cors'), {
    origin: ['https://guelaguetzaconnect.com'],
    credentials: true
  })
  await app.register(require('@fastify/rate-limit'), {
    max: 1_000_000_000,
    timeWindow: '1 minute'
  })

  app.addHook('onResponse', async (request, reply) => {
    httpRequestDuration
      .labels(request.method, request.routeOptions.url || 'unmatched', String(reply.statusCode))
      .observe(reply.elapsedTime / 1000)
  })

  app.get('/api/gamification/leaderboard', {
    schema: {
      querystring: {
        type: 'object',
        properties: {
          page: { type: 'integer', minimum: 1, default: 1 },
          limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 }
        }
      }
    }
  }, async (request, reply) => {
    const { page, limit } = request.query
    const cached = await redis.get(`${prefix}leaderboard:page:${page}:limit:${limit}`)
    if (cached) {
      return reply.send({ success: true, data: JSON.parse(cached) })
    }
    // The bench only measures hits: a miss means the payload was not stored.
    return reply.code(503).send({ success: false, error: 'peer: page not in Redis' })
  })

  app.get('/metrics', async (request, reply) => {
    reply.type(promClient.register.contentType)
    return promClient.register.metrics()
  })

  await app.listen({ host: '127.0.0.1', port })
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
