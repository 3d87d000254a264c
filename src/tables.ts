/**
 * Tables keyed by names that come from agents and MCP servers (tool, model, agent, node names,
 * argument keys). On a plain `{}`, `table["__proto__"] = x` replaces the prototype and
 * `table["constructor"]` reads `Object`: such a name would write to `Object.prototype` or vanish.
 * These tables have no prototype, so every name is an own property like any other.
 */
export function nullTable<T>(from?: Readonly<Record<string, T>>): Record<string, T> {
  const table = Object.create(null) as Record<string, T>;
  if (from) for (const [key, value] of Object.entries(from)) table[key] = value;
  return table;
}

/** `table[key]` when it is the table's own property; never a value inherited from a prototype. */
export function own<T>(table: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return table !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
}

/** Longest name kept from an agent, a model provider or an MCP peer (a tool, model or prompt name). */
export const MAX_NAME_LENGTH = 256;

/**
 * `name` cut to `MAX_NAME_LENGTH` characters (the last one `…`). Names from agents and MCP servers
 * end up in span names and attributes, metric labels, the run store and the dashboard: a name a
 * hostile server made a megabyte long would be copied into each of them, per call. Real tool and
 * model names are far shorter (providers accept 64 characters for a tool name).
 */
export function boundedName(name: string): string {
  return name.length <= MAX_NAME_LENGTH ? name : `${name.slice(0, MAX_NAME_LENGTH - 1)}…`;
}
