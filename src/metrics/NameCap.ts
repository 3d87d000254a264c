/** Names beyond `maxKeys` per table (and per metric attribute) are folded into this one. */
export const OTHER_KEY = "_other";

/**
 * Bounds the distinct values of one name attribute (agent, tool or model) on the OpenTelemetry
 * instruments, as the in-process tables are bounded: the first `max` names seen keep their own
 * value, every later one is `_other`. Agent, tool and model names come from agents and MCP
 * servers; without the cap each new name opens new series on every instrument that carries it.
 */
export class NameCap {
  private readonly seen = new Set<string>();

  constructor(private readonly max: number) {}

  name(name: string): string {
    if (this.seen.has(name)) return name;
    if (this.seen.size >= this.max) return OTHER_KEY;
    this.seen.add(name);
    return name;
  }
}
