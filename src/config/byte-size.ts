// Sizes written the way body-parser reads them (`256kb`, `2mb`): parsed here so a bound can be
// checked in bytes.

const UNITS = { b: 1, kb: 1024, mb: 1024 * 1024 } as const;
const SIZE = /^(\d+)(b|kb|mb)$/i;

/** Bytes of a size such as `256kb` or `2mb` (1024-based, as body-parser counts); undefined when it is no size. */
export function parseByteSize(text: string): number | undefined {
  const match = SIZE.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNITS[match[2]!.toLowerCase() as keyof typeof UNITS];
}

/** `33554432` → `32mb`, `262144` → `256kb`, otherwise bytes (`1000b`). */
export function formatByteSize(bytes: number): string {
  if (bytes > 0 && bytes % UNITS.mb === 0) return `${bytes / UNITS.mb}mb`;
  if (bytes > 0 && bytes % UNITS.kb === 0) return `${bytes / UNITS.kb}kb`;
  return `${bytes}b`;
}
