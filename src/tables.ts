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
