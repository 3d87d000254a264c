export { SpanQueue, type SpanQueueOptions, type SpanQueueStats } from "./SpanQueue.js";
