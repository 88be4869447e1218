// Feature flags over unleash-client: served from an Unleash server when UNLEASH_URL is set and
// from a bootstrap file (FLAGS_FILE, the `/api/client/features` format an Unleash server exports)
// until the first successful fetch (a server never reached leaves it serving); with no server, the
// file alone.
// Evaluation is in memory (unleash-client's own strategies, stickiness and variants).
//
// How unleash-client 6.12 behaves, which this relies on: once a fetch succeeded the bootstrap is
// never applied again; a failed refresh (refused connection, 5xx, timeout) keeps the last set;
// a server that was never reached leaves the bootstrap serving; each fetch replaces the set
// whole, so a flag only the file defines is gone once the server answers. A 401/403 stops the
// refreshes for good (the client's rule): the last set serves until the process restarts.
import { InMemStorageProvider, Unleash, type Context } from 'unleash-client';
import type { FeatureInterface } from 'unleash-client/lib/feature.js';
import { maskUrl } from '../../config/masking.js';
import type { FlagContext } from '../../domain/feature-flags.js';
import type { JsonValue } from '../../domain/json.js';
import type { Logger } from '../../domain/logger.js';
import type { FeatureFlags } from '../../services/flags.ports.js';
import type { FlagSnapshotSource, FlagSourceSnapshot } from '../../services/flag-overview.ports.js';
import { bootstrapProvider, readBootstrapFile, type BootstrapOutcome } from './bootstrap-flags.js';
import { flagDefinitionStates } from './flag-definitions.js';
import { createFlagSourceState, isFailedRefreshWarning } from './flag-source-state.js';

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
  /** A file in the server's client-features format: the flags until the server's first successful fetch. */
  bootstrapFile?: string;
  /** Flags given inline (tests, defaults); used when no file is given. */
  bootstrapData?: FeatureInterface[];
  logger: Logger;
}

export interface UnleashFlags extends FeatureFlags, FlagSnapshotSource {
  /**
   * Resolves when the first flag set (bootstrap or server) is loaded, or when it is clear there
   * is none to load (no usable bootstrap, and no server or a first fetch that failed).
   */
  ready(): Promise<void>;
  close(): void;
  /** The client itself (tests, diagnostics). */
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

// The client's messages quote the URL it fetched: never show a credential in it.
const withoutCredentials = (message: string): string => message.replace(/https?:\/\/[^\s"')]+/g, (url) => maskUrl(url));

export function createUnleashFlags(options: UnleashFlagsOptions): UnleashFlags {
  const { logger } = options;
  const server = options.url !== undefined && options.url !== '';
  const state = createFlagSourceState({ server });
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  // Nothing usable in the bootstrap: ready as soon as no server can bring a set either.
  let bootstrapEmpty = false;
  let fetchFailed = false;

  const onBootstrapRead = (outcome: BootstrapOutcome) => {
    state.bootstrapRead(outcome);
    if (outcome.error !== null) {
      logger.warn(`feature flags: FLAGS_FILE ${outcome.file} is not usable (${outcome.error})`, {
        flagsFile: outcome.file,
        consequence: server
          ? 'every flag serves its fallback until the Unleash server first answers'
          : 'every flag serves its fallback: agent flags off, platform switches on',
      });
    } else if (outcome.features.length === 0) {
      logger.info('feature flags: the bootstrap holds no flag', { flagsFile: outcome.file });
    }
    bootstrapEmpty = outcome.features.length === 0;
    if (bootstrapEmpty && (!server || fetchFailed)) markReady();
  };
  const load = options.bootstrapFile
    ? () => readBootstrapFile(options.bootstrapFile!)
    : async (): Promise<BootstrapOutcome> => ({ file: null, features: options.bootstrapData ?? [], error: null });

  const client = new Unleash({
    appName: options.appName,
    environment: options.environment,
    instanceId: options.instanceId,
    url: server ? options.url! : NO_SERVER_URL,
    refreshInterval: server ? options.refreshIntervalMs : 0,
    disableMetrics: true,
    storageProvider: new InMemStorageProvider(),
    customHeaders: options.apiToken ? { Authorization: options.apiToken } : undefined,
    bootstrap: { bootstrapProvider: bootstrapProvider(load, onBootstrapRead) },
    skipInstanceCountWarning: true,
  });

  const failed = (message: string) => {
    const text = withoutCredentials(message);
    fetchFailed = true;
    if (state.failed(text)) {
      logger.warn('feature flags: the Unleash server cannot be read; the last known flags keep serving', {
        error: text,
        serving: state.view().origin,
      });
    } else {
      logger.debug('feature flags: source error', { error: text });
    }
    if (bootstrapEmpty && !state.view().synchronized) markReady();
  };
  client.once('ready', () => markReady());
  // Unreachable server, bad token, invalid definition: recorded and logged; the last known flags keep serving.
  client.on('error', (error: Error) => failed(error.message));
  client.on('warn', (message: unknown) => {
    const text = typeof message === 'string' ? message : String(message);
    if (isFailedRefreshWarning(text)) failed(text);
    else logger.debug('feature flags: warning', { message: withoutCredentials(text) });
  });
  client.on('unchanged', () => {
    const wasStale = state.view().stale;
    state.unchanged();
    if (wasStale) logger.info('feature flags: the Unleash server answers again (unchanged)');
  });
  client.on('changed', (features: FeatureInterface[]) => {
    const wasStale = state.view().stale;
    const wasSynchronized = state.view().synchronized;
    const kind = state.changed(features);
    if (kind === 'bootstrap')
      logger.info('feature flags loaded from the bootstrap', { flags: features.length, flagsFile: options.bootstrapFile });
    else if (kind === 'fetched' && !wasSynchronized)
      logger.info('feature flags synchronized with the Unleash server', { flags: features.length });
    else if (kind === 'fetched' && wasStale) logger.info('feature flags: the Unleash server answers again', { flags: features.length });
    else if (kind === 'fetched') logger.debug('feature flags changed', { flags: features.length });
  });

  const defined = (name: string) => client.getFeatureToggleDefinition(name) !== undefined;

  return {
    client,
    ready: () => ready,
    close: () => client.destroy(),
    // A flag no source defines answers its fallback (and no variant) before any context is built:
    // agent flags are asked several times per stage, and most are never defined. The client would
    // answer the same, after two context copies and a fallback closure per call.
    isEnabled: (name, ctx, fallback) => (defined(name) ? client.isEnabled(name, toContext(ctx), fallback) : fallback),
    variant(name, ctx) {
      if (!defined(name)) return null;
      const v = client.getVariant(name, toContext(ctx));
      return v.enabled ? { name: v.name, payload: payloadOf(v.payload) } : null;
    },
    onChange(listener) {
      client.on('changed', listener);
      return () => client.off('changed', listener);
    },
    snapshot(): FlagSourceSnapshot {
      const view = state.view();
      const origin = view.origin === 'server' ? 'server' : 'bootstrap';
      return {
        mode: server ? 'server' : 'bootstrap',
        url: server ? maskUrl(options.url!) : null,
        appName: options.appName,
        environment: options.environment,
        refreshIntervalMs: server ? options.refreshIntervalMs : null,
        bootstrap: view.bootstrap,
        synchronized: view.synchronized,
        lastFetchAt: view.lastFetchAt,
        lastError: view.lastError,
        stale: view.stale,
        flags: flagDefinitionStates(client.getFeatureToggleDefinitions(), origin),
      };
    },
  };
}

export type { FeatureInterface as FlagDefinition };
