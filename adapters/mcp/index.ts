export { instrumentMcp, instrumentMcpClient } from "./client.js";
export { type McpServerTracingOptions, traceMcpServer } from "./server.js";
