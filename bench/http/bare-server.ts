// The bare endpoint `POST /pipelines` is compared with (`npm run bench -- --only http`), run as its
// own process: what a user would write instead of the platform. express.json, a zod schema of the
// same definition shape, one INSERT into `bare_pipelines` in the bench's schema, one Queue.add,
// 201 with the id. No auth, no rate limits, no audit, no idempotency.
// Env: DATABASE_URL (with `?schema=`), REDIS_URL, QUEUE_PREFIX, PORT; prints `listening <port>`.
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import express from 'express';
import { Redis } from 'ioredis';
import pg from 'pg';
import { z } from 'zod';
import { toPgConnection } from '../../src/infra/db/connection-url.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`bare server: ${name} is not set`);
  return value;
};

const stageSchema = z
  .object({
    key: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/),
    agent: z.string().min(1).max(64),
    dependsOn: z.array(z.string()).max(500).default([]),
    input: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
const definitionSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    input: z.record(z.string(), z.unknown()).default({}),
    stages: z.array(stageSchema).min(1).max(500),
  })
  .strict();

const pool = new pg.Pool({ connectionString: toPgConnection(env('DATABASE_URL')).connectionString, max: 10 });
await pool.query(`
  CREATE TABLE IF NOT EXISTS bare_pipelines (
    id         uuid PRIMARY KEY,
    name       text NOT NULL,
    definition jsonb NOT NULL,
    created_at timestamptz(3) NOT NULL DEFAULT now()
  )`);
const redis = new Redis(env('REDIS_URL'), { maxRetriesPerRequest: null, connectionName: 'agentic-sdlc:bench-bare' });
const queue = new Queue('bare-pipelines', { connection: redis, prefix: env('QUEUE_PREFIX') });
await queue.waitUntilReady();

const app = express();
app.use(express.json({ limit: '1mb' }));
app.post('/pipelines', async (req, res) => {
  const parsed = definitionSchema.safeParse(req.body);
  if (!parsed.success) {
    res.status(400).json({ error: { code: 'VALIDATION_FAILED', details: parsed.error.issues.map((i) => ({ field: i.path.join('.') })) } });
    return;
  }
  const id = randomUUID();
  await pool.query('INSERT INTO bare_pipelines (id, name, definition) VALUES ($1, $2, $3::jsonb)', [
    id,
    parsed.data.name,
    JSON.stringify(parsed.data),
  ]);
  await queue.add('pipeline', { id }, { jobId: id });
  res.status(201).json({ id });
});

const server = app.listen(Number(env('PORT')), '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : ''}`);
});

process.once('SIGTERM', () => {
  server.close(() => {
    void Promise.allSettled([queue.close(), pool.end()]).then(() => {
      redis.disconnect();
      process.exit(0);
    });
  });
  server.closeAllConnections();
});
