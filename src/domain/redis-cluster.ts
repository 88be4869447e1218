// Redis Cluster rules the config and the connections share: how a seed node is written, and which
// part of a key decides its hash slot (the hash tag). Pure.

/** `host:port` (IPv6 in brackets, `[::1]:7000`); the port defaults to 6379. Throws on anything else. */
export function parseClusterNode(node: string): { host: string; port: number } {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9_.-]+))(?::(\d{1,5}))?$/.exec(node.trim());
  const port = Number(match?.[3] ?? 6379);
  if (!match || port < 1 || port > 65_535) throw new Error(`not a host:port: "${node}"`);
  return { host: match[1] ?? match[2] ?? '', port };
}

/**
 * The hash tag every key starting with `prefix` is hashed by, or undefined when the rest of a key
 * could decide. Redis hashes only the text between the first `{` and the first `}` after it when
 * that text is not empty; otherwise the whole key. So a prefix gives every key one slot when its
 * first `{` is closed inside it, around at least one character (`{sdlc}`, `app{jobs}x`), and not
 * when it has no `{` (`sdlc`), an empty tag (`{}sdlc`: the whole key counts) or an open one (`{sdlc`).
 */
export function redisHashTag(prefix: string): string | undefined {
  const open = prefix.indexOf('{');
  if (open < 0) return undefined;
  const close = prefix.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return undefined;
  return prefix.slice(open + 1, close);
}
