// The pipeline's DAG as SVG: stages in layers by their dependencies (a stage sits one layer
// right of its deepest dependency), edges as arrows. Each stage's state is its label, a glyph
// and a shape (circle running, square succeeded, diamond failed, …), so colour is never the only
// cue. Each stage is a focusable button: Enter or Space shows its details.
import type { JSX } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Stage } from '../schemas.js';
import { glyphOf } from './status-badge.js';

const NODE_W = 180;
const NODE_H = 56;
const GAP_X = 70;
const GAP_Y = 24;
const PAD = 12;
/** Where a node's texts start (right of its shape), and the room they have up to its right edge. */
const TEXT_X = 38;
const TEXT_ROOM = NODE_W - TEXT_X - 10;
/** Room kept for the ellipsis of a shortened text. */
const ELLIPSIS_ROOM = 14;

/**
 * A node's text, shortened with an ellipsis when it is wider than `room` (a stage key may be 64
 * characters without a space: it ran across the next column's nodes). Measured once laid out, in
 * the page's own font; the caller keys it by its text, so a new text is measured afresh.
 */
function FittedText({ text, room, ...props }: { text: string; room: number; class: string; x: number; y: number }) {
  const ref = useRef<SVGTextElement>(null);
  const [chars, setChars] = useState<number | undefined>(undefined);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || chars !== undefined || el.getComputedTextLength() <= room) return;
    // The longest start of the text that leaves room for the ellipsis (at least one character).
    let fit = 1;
    for (let n = text.length - 1; n > 1; n--) {
      if (el.getSubStringLength(0, n) + ELLIPSIS_ROOM <= room) {
        fit = n;
        break;
      }
    }
    setChars(fit);
  }, [text, room, chars]);
  return (
    <text ref={ref} {...props}>
      {chars === undefined ? text : `${text.slice(0, chars)}…`}
    </text>
  );
}

/** Each stage's layer: 0 for roots, else one more than its deepest dependency. */
export function layersOf(stages: readonly Pick<Stage, 'key' | 'dependsOn'>[]): Map<string, number> {
  const byKey = new Map(stages.map((s) => [s.key, s]));
  const layer = new Map<string, number>();
  const visit = (key: string, seen: Set<string>): number => {
    const known = layer.get(key);
    if (known !== undefined) return known;
    // A cycle cannot be submitted; guard anyway so a bad answer cannot hang the page.
    if (seen.has(key)) return 0;
    seen.add(key);
    const deps = byKey.get(key)?.dependsOn.filter((d) => byKey.has(d)) ?? [];
    const value = deps.length === 0 ? 0 : 1 + Math.max(...deps.map((d) => visit(d, seen)));
    layer.set(key, value);
    return value;
  };
  for (const s of stages) visit(s.key, new Set());
  return layer;
}

function Shape({ status, x, y }: { status: string; x: number; y: number }) {
  const r = 9;
  switch (status) {
    case 'succeeded':
      return <rect class="shape" x={x - r} y={y - r} width={2 * r} height={2 * r} />;
    case 'failed':
      return <polygon class="shape" points={`${x},${y - r - 2} ${x + r + 2},${y} ${x},${y + r + 2} ${x - r - 2},${y}`} />;
    case 'running':
      return <circle class="shape" cx={x} cy={y} r={r} />;
    case 'waiting':
      return <polygon class="shape" points={`${x - r},${y - r} ${x + r},${y - r} ${x},${y + r}`} />;
    case 'paused':
      // Two bars: held by its paused pipeline.
      return (
        <g class="shape">
          <rect x={x - r} y={y - r} width={6} height={2 * r} />
          <rect x={x + r - 6} y={y - r} width={6} height={2 * r} />
        </g>
      );
    case 'cancelled':
    case 'skipped':
      return <line class="shape shape-line" x1={x - r} y1={y + r} x2={x + r} y2={y - r} />;
    default:
      return <circle class="shape shape-hollow" cx={x} cy={y} r={r} />;
  }
}

export interface DagProps {
  stages: readonly Stage[];
  selected?: string;
  onSelect(key: string): void;
}

export function Dag({ stages, selected, onSelect }: DagProps) {
  const layer = layersOf(stages);
  const columns: string[][] = [];
  for (const s of stages) (columns[layer.get(s.key) ?? 0] ??= []).push(s.key);
  const position = new Map<string, { x: number; y: number }>();
  columns.forEach((keys, col) =>
    keys.forEach((key, row) => position.set(key, { x: PAD + col * (NODE_W + GAP_X), y: PAD + row * (NODE_H + GAP_Y) })),
  );
  const width = PAD * 2 + Math.max(1, columns.length) * (NODE_W + GAP_X) - GAP_X;
  const height = PAD * 2 + Math.max(1, ...columns.map((c) => c.length)) * (NODE_H + GAP_Y) - GAP_Y;
  const keyDown = (key: string) => (event: JSX.TargetedKeyboardEvent<SVGGElement>) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      onSelect(key);
    }
  };
  return (
    <svg
      class="dag"
      role="group"
      aria-label="Pipeline stages and their dependencies"
      viewBox={`0 0 ${width} ${height}`}
      width={width}
      height={height}
    >
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead" />
        </marker>
      </defs>
      {stages.flatMap((s) =>
        s.dependsOn
          .filter((d) => position.has(d))
          .map((d) => {
            const from = position.get(d)!;
            const to = position.get(s.key)!;
            const x1 = from.x + NODE_W;
            const y1 = from.y + NODE_H / 2;
            const x2 = to.x;
            const y2 = to.y + NODE_H / 2;
            const mid = (x1 + x2) / 2;
            return (
              <path
                key={`${d}->${s.key}`}
                class="edge"
                d={`M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`}
                marker-end="url(#arrow)"
              />
            );
          }),
      )}
      {stages.map((s) => {
        const { x, y } = position.get(s.key)!;
        return (
          <g
            key={s.key}
            class={`node node-${s.status}${selected === s.key ? ' node-selected' : ''}`}
            // Lower case: SVG attributes are case-sensitive, and `tabIndex` would not make it focusable.
            tabindex={0}
            role="button"
            aria-pressed={selected === s.key}
            aria-label={`Stage ${s.key} (${s.agent}): ${s.status}${s.reused ? ', reused from an earlier run' : ''}`}
            data-stage={s.key}
            onClick={() => onSelect(s.key)}
            onKeyDown={keyDown(s.key)}
          >
            {/* The whole key on hover; the accessible name (aria-label) has it too. */}
            <title>{s.key}</title>
            <rect class="node-box" x={x} y={y} width={NODE_W} height={NODE_H} rx={8} />
            <Shape status={s.status} x={x + 20} y={y + NODE_H / 2} />
            <FittedText key={s.key} class="node-key" x={x + TEXT_X} y={y + 23} text={s.key} room={TEXT_ROOM} />
            <text class="node-status" x={x + TEXT_X} y={y + 42}>
              {glyphOf(s.status)} {s.status}
              {s.status === 'running' && s.progress > 0 ? ` ${Math.round(s.progress)}%` : ''}
              {s.reused ? ' (reused)' : ''}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
