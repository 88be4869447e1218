// Feature flags over unleash-client: served from an Unleash server when UNLEASH_URL is set and
// from a bootstrap file (FLAGS_FILE, the `/api/client/features` format an Unleash server exports)
// until the first fetch and while the server cannot be reached; with no server, the file alone.
// Evaluation is in memory (unleash-client's own strategies, stickiness and variants).
import { InMemStorageProvider, Unleash, type Context } from 'unleash-client';
import type { FeatureInterface } from 'unleash-client/lib/feature.js';
import type { FlagContext } from '../../domain/feature-flags.js';
import type { JsonValue } from '../../domain/json.js';
import type { Logger } from '../../domain/logger.js';
import type { FeatureFlags } from '../../services/flags.ports.js';

export interface UnleashFlagsOptions {
  /** The Unleash server's client API base, e.g. http://unleash:4242/api; unset: bootstrap only. */
  url?: string;
  /** A client API token of the server (its Authorization header). */
  apiToken?: string;
  appName: string;
  environment: string;
  instanceId: string;
  /** How often the server is polled for changes. */
  refreshIntervalMs: number;
  /** A file in the server's client-features format: the flags until (and whenever) the server can't be read. */
  bootstrapFile?: string;
  /** Flags given inline (tests, defaults); used when no file is given. */
  bootstrapData?: FeatureInterface[];
  logger: Logger;
}

export interface UnleashFlags extends FeatureFlags {
  /** Resolves when the first flag set (bootstrap or server) is loaded. */
  ready(): Promise<void>;
  close(): void;
  /** The client itself, for the flags endpoint's snapshot. */
  readonly client: Unleash;
}

// A placeholder the client requires but never calls: with refreshInterval 0 it does not fetch.
const NO_SERVER_URL = 'http://127.0.0.1:9/api';

const toContext = (ctx: FlagContext): Context => ({
  // Default stickiness uses userId, then sessionId: the pipeline makes every rollout sticky per pipeline.
  sessionId: ctx.pipelineId,
  properties: {
    ...(ctx.pipelineId ? { pipelineId: ctx.pipelineId } : {}),
    ...(ctx.agentType ? { agentType: ctx.agentType } : {}),
    ...(ctx.submitter ? { submitter: ctx.submitter } : {}),
  },
});

function payloadOf(payload: { type: string; value: string } | undefined): JsonValue | null {
  if (!payload) return null;
  if (payload.type !== 'json') return payload.value;
  try {
    return JSON.parse(payload.value) as JsonValue;
  } catch {
    return null;
  }
}

export function createUnleashFlags(options: UnleashFlagsOptions): UnleashFlags {
  const server = options.url !== undefined && options.url !== '';
  const client = new Unleash({
    appName: options.appName,
    environment: options.environment,
    instanceId: options.instanceId,
    url: server ? options.url! : NO_SERVER_URL,
    refreshInterval: server ? options.refreshIntervalMs : 0,
    disableMetrics: true,
    storageProvider: new InMemStorageProvider(),
    customHeaders: options.apiToken ? { Authorization: options.apiToken } : undefined,
    bootstrap: options.bootstrapFile ? { filePath: options.bootstrapFile } : { data: options.bootstrapData ?? [] },
    skipInstanceCountWarning: true,
  });
  // Unreachable server, bad token, unreadable file: logged, the last known flags keep serving.
  client.on('error', (error: Error) => options.logger.warn('feature flags: source error', { error: error.message }));
  client.on('warn', (message: string) => options.logger.debug('feature flags: warning', { message }));
  const ready = new Promise<void>((resolve) => client.once('ready', () => resolve()));
  return {
    client,
    ready: () => ready,
    close: () => client.destroy(),
    isEnabled: (name, ctx, fallback) => client.isEnabled(name, toContext(ctx), fallback),
    variant(name, ctx) {
      const v = client.getVariant(name, toContext(ctx));
      return v.enabled ? { name: v.name, payload: payloadOf(v.payload) } : null;
    },
    onChange(listener) {
      client.on('changed', listener);
      return () => client.off('changed', listener);
    },
  };
}

export type { FeatureInterface as FlagDefinition };
