import { describe, expect, it } from "vitest";
import { stopLast } from "../src/drive/stopLast.ts";

// The robot here is a log of what reached it, in order; each request arrives when the test says so,
// which is how the network reorders them (a browser cannot run here without the whole server). `drive`
// sends it moves and stops through stopLast.
function robot() {
  const reached: string[] = [];
  const pending: Array<{ command: string; arrive: () => void }> = [];
  const request = (command: string) =>
    new Promise<void>((resolve) => {
      pending.push({
        command,
        arrive: () => {
          reached.push(command);
          resolve();
        },
      });
    });
  const arrive = (command: string) => {
    const index = pending.findIndex((entry) => entry.command === command);
    pending.splice(index, 1)[0]?.arrive();
  };
  const drive = stopLast(request, () => request("stop"));
  return { reached, arrive, pending, drive };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("stopLast: a stop overtaken by a move still has the last word", () => {
  it("a move answered after the stop is followed by another stop", async () => {
    const board = robot();
    const { drive } = board;
    drive.move("forward");
    drive.stop();
    board.arrive("stop");
    board.arrive("forward");
    await settle();
    board.arrive("stop");
    await settle();
    expect(board.reached).toEqual(["stop", "forward", "stop"]);
  });

  it("a stop with nothing in flight is sent once", async () => {
    const board = robot();
    const { drive } = board;
    drive.move("forward");
    board.arrive("forward");
    await settle();
    drive.stop();
    board.arrive("stop");
    await settle();
    expect(board.reached).toEqual(["forward", "stop"]);
    expect(board.pending).toEqual([]);
  });

  it("a new move after the stop is not cut off by the stop repeated for the old one", async () => {
    const board = robot();
    const { drive } = board;
    drive.move("forward");
    drive.stop();
    drive.move("left");
    board.arrive("stop");
    board.arrive("forward");
    board.arrive("left");
    await settle();
    expect(board.reached).toEqual(["stop", "forward", "left"]);
    expect(board.pending).toEqual([]);
  });

  it("a move that failed counts as answered", async () => {
    const reached: string[] = [];
    const drive = stopLast(
      () => Promise.reject(new Error("network")),
      async () => {
        reached.push("stop");
      },
    );
    drive.move("forward");
    drive.stop();
    await settle();
    expect(reached).toEqual(["stop", "stop"]);
  });
});
