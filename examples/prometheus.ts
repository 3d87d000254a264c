/**
 * Prometheus export: agentwarden's counters on http://127.0.0.1:9464/metrics.
 *   npm run example:prometheus              # serves until Ctrl-C; point a Prometheus at it
 *   npm run example:prometheus -- --once    # print the scrape and exit
 */
import { tool } from "@langchain/core/tools";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { Warden } from "agentwarden";
import { wrapGraph } from "agentwarden/langgraph";
import { servePrometheus } from "agentwarden/prometheus";
import { ScriptedChatModel } from "agentwarden/testing";
import { z } from "zod";

const prom = await servePrometheus({ port: Number(process.env.PORT ?? 9464) });
const warden = new Warden({ meterProvider: prom.meterProvider, tracing: false });
let calls = 0;
const search = tool(
  async ({ q }: { q: string }) => {
    if (++calls % 3 === 0) throw new Error("503 Service Unavailable");
    return `results for ${q}`;
  },
  { name: "search", description: "Searches.", schema: z.object({ q: z.string() }) },
);
for (let i = 0; i < 6; i++) {
  const llm = new ScriptedChatModel({
    script: (m) =>
      m.some((x) => x.getType() === "tool")
        ? { content: "done" }
        : { toolCalls: [{ name: "search", args: { q: `q${i}` } }] },
  });
  await wrapGraph(createReactAgent({ llm, tools: [search], name: "searcher" }), { warden }).invoke({
    messages: [{ role: "user", content: "go" }],
  });
}
const scrape = await (await fetch(prom.url)).text();
console.log(
  scrape
    .split("\n")
    .filter((l) => l.startsWith("agentwarden_"))
    .join("\n"),
);
if (process.argv.includes("--once")) await prom.close();
else console.log(`\nserving ${prom.url} (Ctrl-C to stop)`);
