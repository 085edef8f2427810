export {
  type BoardAnswer,
  type BoardCall,
  callBoard,
  type KeptConnections,
  keptConnections,
} from "./board-http.ts";
export { type Boards, type Bridge, type BridgeEvent, type BridgeOptions, startBridge } from "./bridge.ts";
export { BoardError, Tumbller } from "./firmware.ts";
