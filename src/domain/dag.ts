// DAG checks over stage keys: duplicates, self-dependencies, unknown dependencies and cycles
// (naming the stages in each cycle).
import type { ErrorDetail } from './errors.js';

export interface DagNode {
  key: string;
  dependsOn: readonly string[];
}

/** Every structural problem of the graph, each naming its field. Empty when it is a DAG. */
export function findDagProblems(nodes: readonly DagNode[]): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const indexByKey = new Map<string, number>();
  nodes.forEach((node, index) => {
    if (indexByKey.has(node.key)) {
      problems.push({
        field: `stages[${index}].key`,
        code: 'duplicate_key',
        message: `duplicate stage key "${node.key}" (first used by stages[${indexByKey.get(node.key)}])`,
      });
    } else {
      indexByKey.set(node.key, index);
    }
  });

  nodes.forEach((node, index) => {
    const seen = new Set<string>();
    node.dependsOn.forEach((dep, depIndex) => {
      const field = `stages[${index}].dependsOn[${depIndex}]`;
      if (dep === node.key) {
        problems.push({ field, code: 'self_dependency', message: `stage "${node.key}" depends on itself` });
      } else if (!indexByKey.has(dep)) {
        problems.push({ field, code: 'unknown_dependency', message: `stage "${node.key}" depends on unknown stage "${dep}"` });
      } else if (seen.has(dep)) {
        problems.push({ field, code: 'duplicate_dependency', message: `stage "${node.key}" lists "${dep}" twice` });
      }
      seen.add(dep);
    });
  });

  // Cycles only make sense once keys are unique and references resolve.
  if (problems.length === 0) {
    for (const cycle of findCycles(nodes)) {
      const first = indexByKey.get(cycle[0]!)!;
      problems.push({
        field: `stages[${first}].dependsOn`,
        code: 'cycle',
        message: `dependency cycle: ${[...cycle, cycle[0]].join(' -> ')} (each depends on the next)`,
      });
    }
  }
  return problems;
}

/** Each elementary cycle found by an iterative DFS, as the keys along it. */
export function findCycles(nodes: readonly DagNode[]): string[][] {
  const deps = new Map(nodes.map((n) => [n.key, n.dependsOn] as const));
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[][] = [];

  for (const start of nodes) {
    if (state.has(start.key)) continue;
    const path: string[] = [];
    const stack: Array<{ key: string; next: number }> = [{ key: start.key, next: 0 }];
    state.set(start.key, 'visiting');
    path.push(start.key);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const children = deps.get(frame.key) ?? [];
      if (frame.next < children.length) {
        const child = children[frame.next++]!;
        const childState = state.get(child);
        if (childState === 'visiting') {
          cycles.push(path.slice(path.indexOf(child)));
        } else if (childState === undefined) {
          state.set(child, 'visiting');
          path.push(child);
          stack.push({ key: child, next: 0 });
        }
      } else {
        state.set(frame.key, 'done');
        path.pop();
        stack.pop();
      }
    }
  }
  return cycles;
}

/** Reverse edges: for each key, the keys of the stages that depend on it. */
export function dependantsByKey(nodes: readonly DagNode[]): Map<string, string[]> {
  const dependants = new Map<string, string[]>(nodes.map((n) => [n.key, []]));
  for (const node of nodes) for (const dep of node.dependsOn) dependants.get(dep)?.push(node.key);
  return dependants;
}
