import { decode } from "jpeg-js";
import { describe, expect, it } from "vitest";
import { sleep, useSims } from "./helpers.ts";

const startSim = useSims();

// Past the camera's 100 ms between frames.
const FRAME_GAP_MS = 120;

async function frame(cameraUrl: string): Promise<Buffer> {
  const response = await fetch(`${cameraUrl}/getImage`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("image/jpeg");
  return Buffer.from(await response.arrayBuffer());
}

describe("camera board", () => {
  it("serves a 160x120 JPEG by default", async () => {
    const sim = await startSim();
    const jpeg = await frame(sim.cameraUrl);
    expect([jpeg[0], jpeg[1]]).toEqual([0xff, 0xd8]);
    expect(decode(jpeg)).toMatchObject({ width: 160, height: 120 });
  });

  it("refuses a second frame within 100 ms with 503, counting from the last frame served", async () => {
    const sim = await startSim();
    // The first frame of a process may take long to encode; the second is quick.
    await frame(sim.cameraUrl);
    await sleep(FRAME_GAP_MS);
    await frame(sim.cameraUrl);
    expect((await fetch(`${sim.cameraUrl}/getImage`)).status).toBe(503);
    await sleep(40);
    expect((await fetch(`${sim.cameraUrl}/getImage`)).status).toBe(503);
    // Over 100 ms since the last frame, though not since the last refusal.
    await sleep(70);
    await frame(sim.cameraUrl);
  });

  it("shows a different picture after driving forward and after turning", async () => {
    const sim = await startSim({ motionDurationsMs: { forward: 200, left: 200 } });
    const start = await frame(sim.cameraUrl);
    await fetch(`${sim.motorUrl}/motor/forward`);
    await sleep(250);
    const moved = await frame(sim.cameraUrl);
    await fetch(`${sim.motorUrl}/motor/left`);
    await sleep(250);
    const turned = await frame(sim.cameraUrl);
    expect(moved.equals(start)).toBe(false);
    expect(turned.equals(moved)).toBe(false);
    await sleep(FRAME_GAP_MS);
    // Standing still, the picture stays the same.
    expect((await frame(sim.cameraUrl)).equals(turned)).toBe(true);
  });

  it("changes resolution and rotation", async () => {
    const sim = await startSim();
    const set = async (path: string) => {
      const response = await fetch(`${sim.cameraUrl}${path}`);
      return { status: response.status, body: await response.text() };
    };
    expect(await set("/setResolution?size=VGA")).toEqual({ status: 200, body: "OK" });
    expect(decode(await frame(sim.cameraUrl))).toMatchObject({ width: 640, height: 480 });
    expect(await set("/setResolution?size=QVGA")).toEqual({ status: 200, body: "OK" });
    expect((await set("/rotate?degrees=90")).status).toBe(200);
    await sleep(FRAME_GAP_MS);
    expect(decode(await frame(sim.cameraUrl))).toMatchObject({ width: 240, height: 320 });
    expect((await set("/setResolution?size=HD")).status).toBe(400);
    expect((await set("/setResolution")).status).toBe(400);
    expect((await set("/rotate?degrees=45")).status).toBe(400);
  });

  it("has no /info and answers 404 to unknown paths", async () => {
    const sim = await startSim();
    expect((await fetch(`${sim.cameraUrl}/info`)).status).toBe(404);
    expect((await fetch(`${sim.cameraUrl}/motor/forward`)).status).toBe(404);
    expect(sim.commands()).toEqual([]);
  });
});
