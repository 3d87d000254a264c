export { type Correction, DEFAULT_CORRECTION_ATTEMPTS } from "./correct.js";
export { instrumentLangChain } from "./instrument.js";
export { type WrapOptions, wrapGraph } from "./wrap.js";
