import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { createReactAgent, ToolNode } from "@langchain/langgraph/prebuilt";
import { describe, expect, it } from "vitest";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { ScriptedChatModel } from "../adapters/testing/index.js";
import { Warden } from "../src/index.js";
import { searchTool } from "./support/agents.js";

/**
 * Minimal reproductions of differences found by running LangGraph's own test suites
 * (langgraphjs `libs/langgraph-core/src/tests`, `libs/langgraph-supervisor/src/tests`,
 * `libs/langgraph-swarm/src`) on wrapped graphs.
 */
describe("LangGraph's supervisor tests, wrapped", () => {
  // libs/langgraph-supervisor/src/tests/supervisor.test.ts ("basic supervisor workflow …") and
  // supervisorRemote.test.ts read the handoff tools of the supervisor agent through its node table:
  // `(agent.nodes.tools.bound as ToolNode).tools`.
  it("a wrapped agent's tools node is still its ToolNode, with its tools", () => {
    const warden = new Warden({ tracing: false });
    const model = new ScriptedChatModel({ script: [{ content: "done" }] });
    const bare = createReactAgent({ llm: model, tools: [searchTool()] });
    const graph = wrapGraph(bare, { warden });

    const bareNode = bare.nodes.tools?.bound as ToolNode;
    const wrappedNode = graph.nodes.tools?.bound as ToolNode;
    expect(bareNode).toBeInstanceOf(ToolNode);
    expect(bareNode.tools.map((t) => t.name)).toEqual(["search"]);
    expect(wrappedNode).toBeInstanceOf(ToolNode);
    expect(wrappedNode.tools?.map((t) => t.name)).toEqual(["search"]);
  });

  it("a wrapped graph's nodes keep their runnables' identity (class, lc_id, name)", () => {
    const warden = new Warden({ tracing: false });
    const S = Annotation.Root({ x: Annotation<number> });
    const sub = new StateGraph(S)
      .addNode("s", () => ({ x: 1 }))
      .addEdge(START, "s")
      .compile();
    const bare = new StateGraph(S)
      .addNode("a", () => ({ x: 1 }))
      .addNode("sub", sub)
      .addEdge(START, "a")
      .addEdge("a", "sub")
      .addEdge("sub", END)
      .compile();
    const graph = wrapGraph(bare, { warden });

    const describeNodes = (g: typeof bare) =>
      Object.fromEntries(
        Object.entries(g.nodes).map(([key, node]) => [
          key,
          { class: node.bound?.constructor.name, id: node.bound?.lc_id, name: node.bound?.getName() },
        ]),
      );
    expect(describeNodes(graph)).toEqual(describeNodes(bare));
  });
});
