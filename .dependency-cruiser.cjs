/**
 * The layers of agentwarden, enforced by `npm run check` (README, "Design"). Each layer imports only
 * the ones below it:
 *
 *   adapters/<framework>   translate decisions into framework terms; never each other
 *   warden.ts, options.ts  compose policies and subscribers (cli/, dashboard/ sit on top)
 *   subscribers            hub.ts, subscriber.ts, telemetry/, metrics/, store/, quality/: know step events
 *   policies               policies/, evals/, pricing/: know the ledger, no framework
 *   ledger, state          run/: Run, Step, usage, scope; state/: the StateStore policies keep state in
 *   base                   errors, tables, redaction, content capture, config errors, http checks
 *
 * Type-only imports count: `tsPreCompilationDeps` keeps them in the graph.
 */
const BASE = "^src/(errors|tables|redact|content|configError)\\.ts$|^src/http/";
const LEDGER = "^src/run/";
const STATE = "^src/state/";
const POLICIES = "^src/(policies|evals|pricing)/";
const SUBSCRIBERS = "^src/(hub|subscriber)\\.ts$|^src/(telemetry|metrics|store|quality)/";
const COMPOSITION = "^src/(warden|options|index)\\.ts$|^src/(cli|dashboard)/";
const FRAMEWORKS = "^node_modules/(@langchain|@modelcontextprotocol|langchain)/";

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "An import cycle: break it by moving a type down or inverting through an interface below.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "src-not-to-adapters",
      comment: "The core (src/) never imports an adapter.",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^adapters/" },
    },
    {
      name: "adapters-not-to-each-other",
      comment: "An adapter imports the core, never another adapter.",
      severity: "error",
      from: { path: "^adapters/([^/]+)/" },
      to: { path: "^adapters/", pathNot: "^adapters/$1/" },
    },
    {
      name: "base-imports-nothing-above",
      comment: "The base files import no other layer.",
      severity: "error",
      from: { path: BASE },
      to: { path: "^src/", pathNot: BASE },
    },
    {
      name: "ledger-imports-nothing-above",
      comment: "The ledger (run/) imports only itself and the base; upper layers fill its interfaces.",
      severity: "error",
      from: { path: LEDGER },
      to: { path: "^src/", pathNot: `${LEDGER}|${BASE}` },
    },
    {
      name: "state-imports-nothing-above",
      comment: "The StateStore and its implementations import only the base: a shared store is one file.",
      severity: "error",
      from: { path: STATE },
      to: { path: "^src/", pathNot: `${STATE}|${BASE}` },
    },
    {
      name: "policies-know-the-ledger-only",
      comment: "Policies know the ledger and the base, never subscribers, the Warden or options.",
      severity: "error",
      from: { path: POLICIES },
      to: { path: `${SUBSCRIBERS}|${COMPOSITION}` },
    },
    {
      name: "subscribers-below-the-warden",
      comment: "Subscribers know step events; the Warden composes them, not the other way round.",
      severity: "error",
      from: { path: SUBSCRIBERS },
      to: { path: "^src/(warden|index)\\.ts$|^src/(cli|dashboard)/" },
    },
    {
      name: "core-knows-no-framework",
      comment: "Only adapters import LangChain, LangGraph or the MCP SDK.",
      severity: "error",
      from: { path: "^src/" },
      to: { path: FRAMEWORKS },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    parser: "swc",
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
