export { instrumentLangChain } from "./instrument.js";
export { WardenNode } from "./node.js";
export { type WrapOptions, wrapGraph } from "./wrap.js";
