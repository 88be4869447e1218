// The Prisma client, connected through the pg driver adapter (no native query engine).
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../generated/prisma/client.js';
import { toPgConnection } from './connection-url.js';

export type Db = PrismaClient;

export function createPrismaClient(databaseUrl: string, poolSize = 10): Db {
  const { connectionString, schema } = toPgConnection(databaseUrl);
  const adapter = new PrismaPg({ connectionString, max: poolSize }, schema ? { schema } : undefined);
  return new PrismaClient({ adapter });
}
