// Production bounds of a variable: the value measured (sizes in bytes), checked, and described.
import { formatDuration } from '../domain/duration.js';
import { formatByteSize, parseByteSize } from './byte-size.js';
import type { VariableSpec } from './variable.js';

/** The number a bound applies to: the value itself, or the bytes of a size; undefined for anything else. */
export function measure(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  return typeof value === 'string' ? parseByteSize(value) : undefined;
}

function show(spec: Pick<VariableSpec, 'size' | 'duration'>, n: number): string {
  if (spec.duration) return formatDuration(n);
  return spec.size ? formatByteSize(n) : n.toLocaleString('en');
}

/** `at most 32mb`, `at least 1`, `1–1,000`; undefined without bounds. */
export function describeBounds(spec: Pick<VariableSpec, 'size' | 'duration' | 'production'>): string | undefined {
  const bounds = spec.production;
  if (!bounds) return undefined;
  const { min, max } = bounds;
  if (min !== undefined && max !== undefined) return `${show(spec, min)}–${show(spec, max)}`;
  if (max !== undefined) return `at most ${show(spec, max)}`;
  return min !== undefined ? `at least ${show(spec, min)}` : undefined;
}

/** Why `value` breaks the spec's production bounds (the value itself is not quoted), or undefined. */
export function boundsViolation(spec: Pick<VariableSpec, 'size' | 'duration' | 'production'>, value: unknown): string | undefined {
  const bounds = spec.production;
  const n = measure(value);
  if (!bounds || n === undefined) return undefined;
  if ((bounds.min !== undefined && n < bounds.min) || (bounds.max !== undefined && n > bounds.max)) {
    return `is outside the production bounds (${describeBounds(spec)}): ${bounds.why}`;
  }
  return undefined;
}
