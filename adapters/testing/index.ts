export {
  type Script,
  ScriptedChatModel,
  type ScriptedChatModelOptions,
  type ScriptedTurn,
} from "./ScriptedChatModel.js";
