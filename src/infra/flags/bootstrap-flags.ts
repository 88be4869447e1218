// The bootstrap of the flag source: FLAGS_FILE (or flags given inline) read, checked against
// Unleash's client-features format and handed to unleash-client. Reading it ourselves instead of
// the client's `bootstrap.filePath` gives a clear warning naming FLAGS_FILE (the client only emits
// a generic `warn`), tells the flag snapshot what the file held, and lets the source know which
// flag objects came from the file (the client's `changed` event does not say where a set came from).
import { readFile } from 'node:fs/promises';
import type { BootstrapProvider } from 'unleash-client/lib/repository/bootstrap-provider.js';
import type { ClientFeaturesResponse, FeatureInterface } from 'unleash-client/lib/feature.js';
import { z } from 'zod';

// Loose: Unleash adds fields over versions; only what the client needs to evaluate is checked.
const strategySchema = z.looseObject({
  name: z.string().min(1),
  // The client reads both without checking: absent ones are made empty here.
  parameters: z.record(z.string(), z.unknown()).default({}),
  constraints: z.array(z.unknown()).default([]),
  variants: z.array(z.unknown()).optional(),
});
const featureSchema = z.looseObject({
  name: z.string().min(1),
  enabled: z.boolean(),
  strategies: z.array(strategySchema).optional(),
  variants: z.array(z.looseObject({ name: z.string().min(1), weight: z.number() })).optional(),
});
const clientFeaturesSchema = z.looseObject({
  version: z.number().optional(),
  features: z.array(featureSchema),
  segments: z.array(z.unknown()).optional(),
});

export interface BootstrapOutcome {
  /** FLAGS_FILE, or null for inline flags. */
  file: string | null;
  /** The flags it held (empty when it failed or held none). */
  features: readonly FeatureInterface[];
  /** Why it could not be used; null when it was read (even if empty). */
  error: string | null;
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || '(root)'}: ${issue.message}`;
}

/** Reads and checks a client-features document; never throws, says what was wrong instead. */
export async function readBootstrapFile(file: string): Promise<BootstrapOutcome> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { file, features: [], error: code === 'ENOENT' ? 'no such file' : (error as Error).message };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { file, features: [], error: `not JSON (${(error as Error).message})` };
  }
  const parsed = clientFeaturesSchema.safeParse(json);
  if (!parsed.success) {
    return { file, features: [], error: `not Unleash's client-features format (${firstIssue(parsed.error)})` };
  }
  return { file, features: parsed.data.features as FeatureInterface[], error: null };
}

/**
 * An unleash-client bootstrap provider over `load`, calling `onRead` with the outcome before the
 * client applies it (so the caller knows the objects before the client's `changed` event).
 */
export function bootstrapProvider(load: () => Promise<BootstrapOutcome>, onRead: (outcome: BootstrapOutcome) => void): BootstrapProvider {
  return {
    async readBootstrap(): Promise<ClientFeaturesResponse | undefined> {
      const outcome = await load();
      onRead(outcome);
      return outcome.features.length > 0 ? { version: 2, features: [...outcome.features] } : undefined;
    },
  };
}
