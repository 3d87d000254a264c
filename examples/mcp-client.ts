/**
 * Instrument an MCP client: a real MCP server over stdio, called from inside an agent task.
 *   npm run example:mcp
 */
import { join } from "node:path";
import { Annotation, START, StateGraph } from "@langchain/langgraph";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { formatSteps, Warden } from "agentwarden";
import { wrapGraph } from "agentwarden/langgraph";
import { instrumentMcpClient } from "agentwarden/mcp";

const client = instrumentMcpClient(new Client({ name: "example", version: "1.0.0" }));
await client.connect(
  new StdioClientTransport({
    command: process.execPath,
    args: [join(process.cwd(), "node_modules/@modelcontextprotocol/server-everything/dist/index.js"), "stdio"],
    stderr: "ignore",
  }),
);

const text = (r: unknown) => (r as { content: Array<{ text?: string }> }).content[0]?.text ?? "";
const S = Annotation.Root({ answer: Annotation<string>() });
const graph = new StateGraph(S)
  .addNode("compute", async () => {
    const echo = text(await client.callTool({ name: "echo", arguments: { message: "hello MCP" } }));
    const sum = text(await client.callTool({ name: "get-sum", arguments: { a: 20, b: 22 } }));
    return { answer: `${echo} / ${sum}` };
  })
  .addEdge(START, "compute")
  .compile({ name: "mcp_example" });

const warden = new Warden({ toolCosts: { "get-sum": 0.001 } });
warden.onTaskEnd((run) => console.log(`steps:\n${formatSteps(run.summary())}\ncost $${run.summary().costUsd}`));
console.log((await wrapGraph(graph, { warden }).invoke({})).answer);
await client.close();
