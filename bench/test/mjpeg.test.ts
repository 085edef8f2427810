import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { MjpegViewer } from "../mjpeg.ts";

const BOUNDARY = "frame";
const jpeg = (size: number) => Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.alloc(size - 2, 7)]);
const part = (body: Buffer) =>
  Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${body.length}\r\n\r\n`),
    body,
    Buffer.from("\r\n"),
  ]);

describe("MjpegViewer", () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  /** A real HTTP server answering with `status` and `type`, writing `chunks` one by one, then ending. */
  async function serve(status: number, type: string, chunks: Buffer[]): Promise<string> {
    server = createServer(async (_req, res) => {
      res.writeHead(status, { "content-type": type });
      for (const chunk of chunks) {
        res.write(chunk);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      res.end();
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }

  it("counts whole frames only, however the parts are split across chunks", async () => {
    const stream = Buffer.concat([part(jpeg(3000)), part(jpeg(10)), part(jpeg(500))]);
    // Cut mid-header, mid-JPEG and just before a part's closing CRLF; the last part never completes.
    const cuts = [20, 1500, 3060, 3100, stream.length - 1];
    const chunks = cuts.map((end, i) => stream.subarray(cuts[i - 1] ?? 0, end));
    const viewer = new MjpegViewer(
      await serve(200, `multipart/x-mixed-replace; boundary=${BOUNDARY}`, chunks),
      {},
    );
    await viewer.firstFrame();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(viewer.arrivals).toHaveLength(2);
    await viewer.close();
  });

  it("refuses an answer that is not a stream, with its status and body", async () => {
    const viewer = new MjpegViewer(
      await serve(403, "application/json", [Buffer.from('{"detail":"No"}')]),
      {},
    );
    await expect(viewer.firstFrame()).rejects.toThrow(/answered 403 application\/json: \{"detail":"No"\}/);
    await expect(viewer.close()).rejects.toThrow(/403/);
  });

  it("refuses a part that is not a JPEG", async () => {
    const viewer = new MjpegViewer(
      await serve(200, `multipart/x-mixed-replace; boundary=${BOUNDARY}`, [part(Buffer.from("not a jpeg"))]),
      {},
    );
    await expect(viewer.firstFrame()).rejects.toThrow("a stream part that is not a JPEG");
  });
});
